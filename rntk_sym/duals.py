"""Dual activations in SymPy: the one symbolic source of the package.

For an activation ``phi`` with ``E[phi(X)^2] = 1`` (X standard normal), its dual activation is
``shat(rho) = E[phi(X) phi(Y)]`` and the dual of its derivative is ``shatp(rho) = E[phi'(X) phi'(Y)]``,
for ``(X, Y)`` standard normal with correlation ``rho`` (seed 002, Definitions 1-2; docs/model.md section 1).
``shatp = d shat / d rho`` holds for every activation; :func:`derivative_identity` proves it for each
closed form below, where ``shatp`` is written down independently of ``shat``.

Symbols: ``RHO`` is rho, ``THETA`` the angle ``arccos(rho)``.

The ReLU recursion is evaluated in the cancellation-free angle coordinate of docs/model.md section 7:

- ``shat(cos theta) - cos theta = s3(theta) / pi`` and ``shat(cos theta) = s3(pi - theta) / pi``,
  with ``s3(x) = sin x - x cos x``;
- ``shatp(cos theta) = (pi - theta) / pi``.

:func:`relu_angle_identities` states these and ``tests/test_duals.py`` proves them; the Taylor
coefficients of ``s3`` that the float backends use are generated from :func:`s3_taylor_coefficients`
by ``python -m rntk_sym.codegen``.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import numpy as np
import sympy as sp

RHO = sp.Symbol("rho", real=True)
THETA = sp.Symbol("theta", positive=True)
Z = sp.Symbol("z", real=True)
_T = sp.Symbol("t", positive=True)


@dataclass(frozen=True)
class Dual:
    """A normalized activation and its two dual functions, as SymPy expressions in ``RHO``.

    ``phi`` is the activation in ``Z`` (None when only the dual is known), ``shat`` its dual
    activation and ``shatp`` the dual of its derivative, written independently of ``shat``
    (``None`` when the derivative is a distribution and only ``d shat / d rho`` makes sense).
    """

    name: str
    phi: sp.Expr | None
    shat: sp.Expr
    shatp: sp.Expr | None

    def dshat(self) -> sp.Expr:
        """``d shat / d rho`` computed by SymPy."""
        return sp.diff(self.shat, RHO)

    def series_at(self, endpoint: int, order: int = 6, which: str = "shat") -> sp.Expr:
        """Series of ``shat`` (or ``shatp``) at ``rho = endpoint`` (+1 or -1).

        The expansion variable is ``sqrt(1 - rho)`` at +1 and ``sqrt(1 + rho)`` at -1; the result is
        a polynomial in that square root (terms of total order < ``order`` in it), written in ``RHO``.
        """
        if endpoint not in (1, -1):
            raise ValueError(f"endpoint must be 1 or -1, got {endpoint!r}")
        expr = self.shat if which == "shat" else self.shatp
        if expr is None:
            raise ValueError(f"{self.name} has no closed-form {which}")
        poly = sp.series(expr.subs(RHO, endpoint * (1 - _T**2)), _T, 0, order).removeO()
        return sp.expand(poly).subs(_T, sp.sqrt(1 - endpoint * RHO))


def _arccos_dual(order: int) -> Dual:
    """Arc-cosine kernel of ``order`` n (Cho and Saul 2009), normalized to ``shat(1) = 1``.

    ``E[max(0,X)^n max(0,Y)^n] = J_n(theta) / (2 pi)`` with
    ``J_0 = pi - theta``, ``J_1 = sin + (pi - theta) cos``,
    ``J_2 = 3 sin cos + (pi - theta)(1 + 2 cos^2)``; ``phi = c max(0, z)^n`` with
    ``c^2 = 2 pi / J_n(0)`` has ``shat = J_n / J_n(0)`` and ``shatp = n^2 J_{n-1} / J_n(0)``.
    """
    th = sp.acos(RHO)
    s = sp.sqrt(1 - RHO**2)
    J = [sp.pi - th, s + (sp.pi - th) * RHO, 3 * s * RHO + (sp.pi - th) * (1 + 2 * RHO**2)]
    J0 = [J[k].subs(RHO, 1) for k in range(3)]
    c = sp.sqrt(2 * sp.pi / J0[order])
    phi = c * sp.Max(0, Z) ** order if order else c * sp.Heaviside(Z)
    shatp = None if order == 0 else sp.simplify(order**2 * J[order - 1] / J0[order])
    return Dual(f"arccos{order}", phi, sp.simplify(J[order] / J0[order]), shatp)


def _erf_dual() -> Dual:
    """``phi = erf(z) / sqrt(c)`` with ``c = (2/pi) asin(2/3)`` (Williams 1997, scale a = 1)."""
    c = sp.asin(sp.Rational(2, 3))
    shat = sp.asin(2 * RHO / 3) / c
    shatp = 2 / (c * sp.sqrt(9 - 4 * RHO**2))
    return Dual("erf", sp.erf(Z) / sp.sqrt(2 * c / sp.pi), shat, shatp)


@cache
def duals() -> dict[str, Dual]:
    """The closed-form duals the package knows, by name. ``relu`` is ``arccos1`` (normalized ReLU)."""
    table = {d.name: d for d in (_arccos_dual(0), _arccos_dual(1), _arccos_dual(2), _erf_dual())}
    table["linear"] = Dual("linear", Z, RHO, sp.Integer(1))
    # docs/model.md section 1 writes the normalized ReLU dual in this form; keep it verbatim.
    table["relu"] = Dual(
        "relu",
        sp.sqrt(2) * sp.Max(0, Z),
        (sp.sqrt(1 - RHO**2) + (sp.pi - sp.acos(RHO)) * RHO) / sp.pi,
        (sp.pi - sp.acos(RHO)) / sp.pi,
    )
    return table


def dual(name: str) -> Dual:
    """Look up a closed-form dual by name (see :func:`duals`)."""
    table = duals()
    if name not in table:
        raise ValueError(f"activation must be one of {sorted(table)}, got {name!r}")
    return table[name]


def derivative_identity(d: Dual) -> sp.Expr:
    """``simplify(d shat / d rho - shatp)``; zero proves ``shatp = d shat / d rho`` for ``d``."""
    if d.shatp is None:
        raise ValueError(f"{d.name} has no closed-form shatp")
    return sp.simplify(d.dshat() - d.shatp)


def s3(x: sp.Expr) -> sp.Expr:
    """``s3(x) = sin x - x cos x`` (= x^2 j_1(x)); cancels like x^3/3 near 0."""
    return sp.sin(x) - x * sp.cos(x)


def relu_angle_identities() -> dict[str, tuple[sp.Expr, sp.Expr]]:
    """Pairs (seed form, angle form) in ``RHO`` with ``theta = acos(rho)``; each pair is equal.

    These are what the numeric ReLU step in :mod:`rntk_sym.recursions` evaluates.
    """
    relu = dual("relu")
    th = sp.acos(RHO)
    return {
        "shat - rho = s3(theta)/pi": (relu.shat - RHO, s3(th) / sp.pi),
        "shat = s3(pi - theta)/pi": (relu.shat, s3(sp.pi - th) / sp.pi),
        "shatp = (pi - theta)/pi": (relu.shatp, (sp.pi - th) / sp.pi),
        "sin theta = sqrt(1-rho) sqrt(1+rho)": (sp.sin(th), sp.sqrt(1 - RHO) * sp.sqrt(1 + RHO)),
        "theta = 2 atan(sqrt(1-rho)/sqrt(1+rho))": (th, 2 * sp.atan(sp.sqrt(1 - RHO) / sp.sqrt(1 + RHO))),
    }


@cache
def s3_taylor_coefficients(n_terms: int) -> tuple[sp.Rational, ...]:
    """Exact coefficients ``c_k`` of ``s3(x) = sum_{k>=1} c_k x^(2k+1)``, k = 1..n_terms, by SymPy series."""
    x = sp.Symbol("x")
    poly = sp.series(s3(x), x, 0, 2 * n_terms + 3).removeO()
    return tuple(sp.Rational(poly.coeff(x, 2 * k + 1)) for k in range(1, n_terms + 1))


def lambdified(d: Dual, module: str = "numpy") -> tuple[Callable, Callable]:
    """``(shat, shatp)`` of ``d`` as functions of rho for ``module`` ("numpy" or "mpmath").

    Plain evaluation of the closed forms: near rho = 1 they cancel (ECOSYSTEM.md); the ReLU kernel
    recursions use the angle forms of :func:`relu_angle_identities` instead.
    """
    shatp = d.shatp if d.shatp is not None else d.dshat()
    return tuple(sp.lambdify(RHO, e, modules=module) for e in (d.shat, shatp))  # type: ignore[return-value]


@dataclass(frozen=True)
class QuadratureDual:
    """Dual of a user-supplied activation by Gauss-Hermite quadrature, in float64.

    ``phi`` and ``dphi`` (its derivative) map numpy arrays to arrays. With ``X, Z`` standard normal and
    ``Y = rho X + sqrt(1 - rho^2) Z``, ``shat(rho) = E[phi(X) phi(Y)] / E[phi(X)^2]`` and
    ``shatp(rho) = E[dphi(X) dphi(Y)] / E[phi(X)^2]`` (normalized like the closed forms, so that
    ``shatp = d shat / d rho`` still holds). ``nodes`` points per dimension; smooth activations
    converge exponentially, kinks like ReLU's algebraically.
    """

    phi: Callable[[np.ndarray], np.ndarray]
    dphi: Callable[[np.ndarray], np.ndarray]
    nodes: int = 120

    def _expect(self, f: Callable, g: Callable, rho: np.ndarray) -> np.ndarray:
        x, w = np.polynomial.hermite.hermgauss(self.nodes)
        x, w = np.sqrt(2.0) * x, w / np.sqrt(np.pi)  # nodes and weights for N(0, 1)
        rho = np.asarray(rho, dtype=float)[..., None, None]
        X, Zq = x[:, None], x[None, :]
        Y = rho * X + np.sqrt(np.maximum(1.0 - rho**2, 0.0)) * Zq
        return np.einsum("i,j,...ij->...", w, w, f(X) * g(Y))

    def norm(self) -> float:
        """``E[phi(X)^2]``, the normalizing constant."""
        return float(self._expect(self.phi, self.phi, np.float64(1.0)))

    def shat(self, rho) -> np.ndarray:
        return self._expect(self.phi, self.phi, rho) / self.norm()

    def shatp(self, rho) -> np.ndarray:
        return self._expect(self.dphi, self.dphi, rho) / self.norm()
