"""Activation families with closed-form Gaussian expectations, in SymPy, each written once.

For ``(u, v) ~ N(0, [[q1, c], [c, q2]])`` each family gives

- ``gp    = E[phi(u) phi(v)]``   (the GP map before ``sigma_w^2 (.) + sigma_b^2``),
- ``dgp   = E[phi'(u) phi'(v)]`` (the NTK's derivative kernel), written independently of ``gp``;
  ``d gp / d c = dgp`` (Price's theorem) is proved in tests/test_activations.py,

as SymPy expressions in ``Q1, Q2, C`` (q1, q2, c) and two helper symbols that the numeric evaluators
compute without cancellation: ``S = sqrt(q1 q2 - c^2)`` and ``TH = arccos(c / sqrt(q1 q2))`` (the
angle, taken as ``atan2(S, c)``). :func:`substitute_helpers` replaces them by their definitions.
``E[phi(u)^2]`` is the case ``q1 = q2 = c``. Derivations and sources: docs/activations.md.

``dgp`` is ``None`` only where ``phi'`` has a Dirac part; then ``singular_dgp`` holds the
(finite off the diagonal) expectation ``E[phi'(u) phi'(v)]`` of the delta, which diverges as
``c -> +-sqrt(q1 q2)`` (its NTK is infinite on the diagonal).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import sympy as sp

Q1 = sp.Symbol("q1", positive=True)
Q2 = sp.Symbol("q2", positive=True)
C = sp.Symbol("c12", real=True)
S = sp.Symbol("S", nonnegative=True)  # sqrt(q1 q2 - c^2)
TH = sp.Symbol("theta", nonnegative=True)  # arccos(c / sqrt(q1 q2)) in [0, pi]
Z = sp.Symbol("z", real=True)
MAX_ARCCOS_ORDER = 5


def substitute_helpers(expr: sp.Expr) -> sp.Expr:
    """``expr`` with ``S`` and ``TH`` replaced by their definitions in ``q1, q2, c``."""
    return expr.subs({S: sp.sqrt(Q1 * Q2 - C**2), TH: sp.acos(C / sp.sqrt(Q1 * Q2))})


@dataclass(frozen=True)
class Closed:
    """One activation's closed forms. ``phi``, ``dphi``: the activation and its derivative in ``Z``
    (``dphi`` without its Dirac part when ``singular_dgp`` is set); ``gp``, ``dgp``: as in the
    module docstring; ``singular_dgp``: ``E[phi' phi']`` of a derivative with a Dirac part."""

    phi: sp.Expr
    dphi: sp.Expr
    gp: sp.Expr
    dgp: sp.Expr | None
    singular_dgp: sp.Expr | None = None

    def derivative_dual(self) -> sp.Expr:
        """``E[phi'(u) phi'(v)]`` (the singular one where ``phi'`` has a Dirac part)."""
        return self.dgp if self.dgp is not None else self.singular_dgp


def _relu_pair():
    """``J = E[relu(u) relu(v)] = (S + (pi - theta) c) / (2 pi)`` and ``E[1{u>0} 1{v>0}] = (pi - theta) / (2 pi)``
    (Cho and Saul 2009, order 1 and 0)."""
    return (S + (sp.pi - TH) * C) / (2 * sp.pi), (sp.pi - TH) / (2 * sp.pi)


def ab_relu(a, b) -> Closed:
    """``phi(z) = a z`` for ``z < 0``, ``b z`` for ``z > 0`` (neural-tangents' ``ABRelu(a, b)``).

    ``phi = b relu(z) - a relu(-z)``; with ``E[relu(u) relu(-v)] = J(c) - c/2`` (because
    ``relu(v) - relu(-v) = v``): ``gp = (a - b)^2 J + a b c``, ``dgp = (a - b)^2 J0 + a b``.
    relu = (0, 1), leaky_relu(a) = (a, 1), abs = (-1, 1), linear = (1, 1).
    """
    J, J0 = _relu_pair()
    phi = sp.Piecewise((a * Z, Z < 0), (b * Z, True))
    dphi = sp.Piecewise((a, Z < 0), (b, True))
    return Closed(phi, dphi, (a - b) ** 2 * J + a * b * C, (a - b) ** 2 * J0 + a * b)


def step(a, b) -> Closed:
    """``phi(z) = a`` for ``z < 0``, ``b`` for ``z > 0``; step = (0, 1), sign = (-1, 1).

    ``P(u > 0, v > 0) = P(u < 0, v < 0) = (pi - theta)/(2 pi)``, ``P(u > 0, v < 0) = theta / (2 pi)``:
    ``gp = (a^2 + b^2)(pi - theta)/(2 pi) + a b theta / pi``. ``phi' = (b - a) delta``:
    ``E[phi' phi'] = (b - a)^2 p(0, 0) = (b - a)^2 / (2 pi S)``, infinite on the diagonal.
    """
    phi = sp.Piecewise((a, Z < 0), (b, True))
    gp = (a**2 + b**2) * (sp.pi - TH) / (2 * sp.pi) + a * b * TH / sp.pi
    return Closed(phi, sp.Integer(0), gp, None, (b - a) ** 2 / (2 * sp.pi * S))


def _cho_saul_J(n: int) -> sp.Expr:
    """``J_n(theta) = (-1)^n sin^(2n+1) theta (1/sin theta d/dtheta)^n ((pi - theta)/sin theta)`` (Cho and Saul
    2009, eq. 3) with ``sin theta = S / sqrt(q1 q2)``, ``cos theta = c / sqrt(q1 q2)``: a polynomial in
    ``S, c, theta`` over powers of ``sqrt(q1 q2)``; ``E[relu(u)^n relu(v)^n] = (q1 q2)^(n/2) J_n / (2 pi)``."""
    t, s, k = sp.symbols("t s k")
    f = (sp.pi - t) / sp.sin(t)
    for _ in range(n):
        f = sp.diff(f, t) / sp.sin(t)
    poly = sp.cancel(((-1) ** n * sp.sin(t) ** (2 * n + 1) * f).subs({sp.sin(t): s, sp.cos(t): k}))
    r = sp.sqrt(Q1 * Q2)
    return sp.expand(poly.subs({s: S / r, k: C / r, t: TH}))


def arccos(n) -> Closed:
    """Arc-cosine activation of order n: ``phi = relu(z)^n`` (``n = 0``: the step ``1{z > 0}``).

    ``gp = (q1 q2)^(n/2) J_n / (2 pi)``; for ``n >= 1``, ``phi' = n relu^(n-1)`` and
    ``dgp = n^2 (q1 q2)^((n-1)/2) J_{n-1} / (2 pi)``; ``n = 0`` is :func:`step` ``(0, 1)``.
    """
    n = int(n)
    if n == 0:
        return step(0, 1)
    gp = sp.expand(sp.sqrt(Q1 * Q2) ** n * _cho_saul_J(n) / (2 * sp.pi))
    dgp = sp.expand(n**2 * sp.sqrt(Q1 * Q2) ** (n - 1) * _cho_saul_J(n - 1) / (2 * sp.pi))
    phi = sp.Piecewise((0, Z < 0), (Z**n, True))
    dphi = sp.Piecewise((0, Z < 0), (n * Z ** (n - 1), True))
    return Closed(phi, dphi, gp, dgp)


def erf(a, b, c) -> Closed:
    """``phi(z) = a erf(b z) + c`` (neural-tangents' ``Erf(a, b, c)``; Williams 1997).

    ``E[erf(b u) erf(b v)] = (2/pi) asin(2 b^2 c / sqrt((1 + 2 b^2 q1)(1 + 2 b^2 q2)))`` and ``E[erf] = 0``;
    ``phi' = (2 a b / sqrt(pi)) exp(-b^2 z^2)``, ``E[exp(-b^2 (u^2 + v^2))] = det(I + 2 b^2 Sigma)^(-1/2)``.
    """
    # det(I + 2 b^2 Sigma) = (1 + 2 b^2 q1)(1 + 2 b^2 q2) - 4 b^4 c^2 = 1 + 2 b^2 (q1 + q2) + 4 b^4 S^2, a sum of
    # terms >= 0 (the difference cancels for large variances near c = sqrt(q1 q2)). The asin stays: at
    # c = -sqrt(q1 q2) it is the exact negative of the diagonal's value, which the complement N of
    # rntk_sym.general relies on for unequal norms that differ by rounding (docs/activations.md, "Unequal norms")
    P = (1 + 2 * b**2 * Q1) * (1 + 2 * b**2 * Q2)
    gp = a**2 * 2 / sp.pi * sp.asin(2 * b**2 * C / sp.sqrt(P)) + c**2
    dgp = 4 * a**2 * b**2 / (sp.pi * sp.sqrt(1 + 2 * b**2 * (Q1 + Q2) + 4 * b**4 * S**2))
    return Closed(a * sp.erf(b * Z) + c, 2 * a * b / sp.sqrt(sp.pi) * sp.exp(-(b**2) * Z**2), gp, dgp)


def gelu() -> Closed:
    """``phi(z) = z Phi(z)`` (Phi the standard normal CDF; exact, not the tanh approximation).

    Tsuchida, Pearce, van der Heide, Roosta, Gallagher, "Avoiding kernel fixed points: computing with
    ELU and GELU infinite networks" (AAAI 2021, arXiv 2002.08517): with ``P = (1 + q1)(1 + q2)`` and
    ``d^2 = P - c^2``, ``gp = c/4 + c asin(c/sqrt P)/(2 pi) + (c^2 + q1 q2 d^2)/(2 pi P d)``,
    ``dgp = 1/4 + asin(c/sqrt P)/(2 pi) + c (1/d^2 + (1 - q1 q2)/P + 1)/(2 pi d)``. Written without
    cancellation for large variances near ``c = sqrt(q1 q2)``: ``d^2 = 1 + q1 + q2 + S^2``,
    ``asin(c/sqrt P) = atan(c/d)``, ``(1 - q1 q2)/P + 1 = (2 + q1 + q2)/P``.
    """
    P = (1 + Q1) * (1 + Q2)
    d2 = 1 + Q1 + Q2 + S**2
    d = sp.sqrt(d2)
    ang = sp.atan(C / d)
    gp = C / 4 + C * ang / (2 * sp.pi) + (C**2 + Q1 * Q2 * d2) / (2 * sp.pi * P * d)
    dgp = sp.Rational(1, 4) + ang / (2 * sp.pi) + C * (1 / d2 + (2 + Q1 + Q2) / P) / (2 * sp.pi * d)
    Phi = (1 + sp.erf(Z / sp.sqrt(2))) / 2
    return Closed(Z * Phi, Phi + Z * sp.exp(-(Z**2) / 2) / sp.sqrt(2 * sp.pi), gp, dgp)


def sin(a, b, c) -> Closed:
    """``phi(z) = a sin(b z + c)`` (neural-tangents' ``Sin(a, b, c)``); cos is ``c + pi/2``.

    ``2 sin x sin y = cos(x - y) - cos(x + y)`` and ``E[cos(t w + s)] = cos(s) exp(-t^2 Var w / 2)``:
    ``gp = (a^2/2)(exp(-b^2 (q1 + q2 - 2c)/2) - cos(2c) exp(-b^2 (q1 + q2 + 2c)/2))``;
    ``phi' = a b cos(b z + c)``: ``dgp = (a^2 b^2/2)(exp(-b^2 (q1 + q2 - 2c)/2) + cos(2c) exp(...))``.
    """
    minus = sp.exp(-(b**2) * (Q1 + Q2 - 2 * C) / 2)
    plus = sp.exp(-(b**2) * (Q1 + Q2 + 2 * C) / 2)
    gp = a**2 / 2 * (minus - sp.cos(2 * c) * plus)
    dgp = a**2 * b**2 / 2 * (minus + sp.cos(2 * c) * plus)
    return Closed(a * sp.sin(b * Z + c), a * b * sp.cos(b * Z + c), gp, dgp)


def exp(a, b) -> Closed:
    """``phi(z) = a exp(b z)``: ``E[exp(b (u + v))] = exp(b^2 (q1 + q2 + 2c)/2)``; ``phi' = b phi``."""
    e = sp.exp(b**2 * (Q1 + Q2 + 2 * C) / 2)
    return Closed(a * sp.exp(b * Z), a * b * sp.exp(b * Z), a**2 * e, a**2 * b**2 * e)


@dataclass(frozen=True)
class Family:
    """A named activation: ``build(*params)`` gives its :class:`Closed` forms. ``params`` names the
    parameters, ``defaults`` their values when omitted (``None``: required), ``integer`` says which
    must be integers (with their allowed range)."""

    name: str
    build: Callable[..., Closed]
    params: tuple[str, ...] = ()
    defaults: tuple = ()
    integer: dict | None = None
    doc: str = ""


def _fixed(fn, *args):
    """A parameterless family that is a member of another (``relu = ab_relu(0, 1)``)."""
    return lambda: fn(*args)


@cache
def families() -> dict[str, Family]:
    """The registry of closed-form activation families, by name."""
    one, zero = sp.Integer(1), sp.Integer(0)
    table = [
        Family("relu", _fixed(ab_relu, zero, one), doc="max(0, z)"),
        Family("leaky_relu", lambda a: ab_relu(a, one), ("a",), (sp.Rational(1, 100),), doc="max(z, a z)"),
        Family("ab_relu", ab_relu, ("a", "b"), (None, None), doc="a z (z < 0), b z (z > 0)"),
        Family("abs", _fixed(ab_relu, -one, one), doc="|z|"),
        Family("linear", _fixed(ab_relu, one, one), doc="z"),
        Family("erf", erf, ("a", "b", "c"), (one, one, zero), doc="a erf(b z) + c"),
        Family("gelu", gelu, doc="z Phi(z)"),
        Family("sin", sin, ("a", "b", "c"), (one, one, zero), doc="a sin(b z + c)"),
        Family("cos", lambda a, b, c: sin(a, b, c + sp.pi / 2), ("a", "b", "c"), (one, one, zero),
               doc="a cos(b z + c)"),
        Family("exp", exp, ("a", "b"), (one, one), doc="a exp(b z)"),
        Family("arccos", arccos, ("n",), (None,), {"n": (0, MAX_ARCCOS_ORDER)}, doc="relu(z)^n (n = 0: step)"),
        Family("step", _fixed(step, zero, one), doc="1 (z > 0), 0 (z < 0)"),
        Family("sign", _fixed(step, -one, one), doc="sign(z)"),
    ]
    return {f.name: f for f in table}
