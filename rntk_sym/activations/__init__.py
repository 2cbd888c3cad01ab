"""Activations as parameters of the model: closed-form families by name, and user activations.

- :func:`get_activation` ``("leaky_relu", 0.1)`` or the command-line spelling ``"leaky_relu:0.1"``,
  ``"erf:1,2,0"`` (:func:`parse_spec`: a name and decimal numbers, nothing is evaluated as code);
  the families and their closed forms are in :mod:`rntk_sym.activations.families`.
- :func:`user_activation` for a SymPy expression in one symbol or a Python callable: duals by
  quadrature (:mod:`rntk_sym.activations.quadrature`).

Every activation offers ``expectations(q1, q2, c, kind)``: ``(E[phi(u) phi(v)], E[phi'(u) phi'(v)])``
for ``(u, v) ~ N(0, [[q1, c], [c, q2]])`` in float64 (``kind="float"``, numpy arrays) or in mpmath
at the current (scoped) precision (``kind="mp"``).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import cached_property

import mpmath
import numpy as np
import sympy as sp

from ..backends import NUMPY
from ..general_step import angle_helpers
from . import families as F

_NAME = re.compile(r"[a-z_][a-z0-9_]*")


def _exact(name: str, x) -> sp.Rational:
    """A parameter as an exact SymPy rational: decimal strings are exact ("0.1" is 1/10)."""
    from ..inputs import exact_number

    q = exact_number(name, x)
    return sp.Rational(q.numerator, q.denominator)


@dataclass(frozen=True)
class ClosedActivation:
    """A member of a closed-form family with exact parameter values.

    ``closed``: its :class:`~rntk_sym.activations.families.Closed` forms; ``spec``: the canonical
    command-line spelling (``name:p1,p2``). ``quadrature = False`` (the duals are exact formulas).
    """

    name: str
    params: tuple[sp.Rational, ...]
    closed: F.Closed = field(compare=False, repr=False)
    quadrature = False

    @property
    def spec(self) -> str:
        if not self.params:
            return self.name
        return self.name + ":" + ",".join(str(Decimal(p.p) / Decimal(p.q)) if p.q != 1 else str(p.p)
                                          for p in self.params)

    @property
    def singular_derivative(self) -> bool:
        """True when ``phi'`` has a Dirac part: ``E[phi' phi']`` is infinite on the diagonal (no NTK)."""
        return self.closed.dgp is None

    @cached_property
    def _functions(self):
        """``(gp, dgp)`` as functions of ``(q1, q2, c, S, theta)``: lambdified for numpy ("float") and mpmath
        ("mp"), compiled to arb ball operations ("ball", :mod:`rntk_sym.activations.balls`)."""
        from .balls import ball_function

        args = (F.Q1, F.Q2, F.C, F.S, F.TH)
        exprs = (self.closed.gp, self.closed.derivative_dual())
        out = {kind: tuple(sp.lambdify(args, e, modules=mod, cse=True) for e in exprs)
               for kind, mod in (("float", "numpy"), ("mp", "mpmath"))}
        out["ball"] = tuple(ball_function(e, args) for e in exprs)
        return out

    def expectations(self, q1, q2, gap, kind: str = "float", cogap=None):
        """``(E[phi(u) phi(v)], E[phi'(u) phi'(v)])`` at covariance ``[[q1, c], [c, q2]]``, ``c = sqrt(q1 q2) - gap``.

        The pair is given by its gap ``sqrt(q1 q2) - c`` in ``[0, 2 sqrt(q1 q2)]`` (0 on the diagonal),
        which a recursion can carry without cancellation near ``c = sqrt(q1 q2)``, and optionally by its
        co-gap ``sqrt(q1 q2) + c`` (the same near ``c = -sqrt(q1 q2)``; default ``2 sqrt(q1 q2) - gap``).
        With ``u = gap / sqrt(q1 q2)`` (= 1 - correlation) and ``v = cogap / sqrt(q1 q2)`` (= 1 + correlation)
        the helpers are formed without cancellation: ``c = (cogap - gap) / 2``, ``S = sqrt(q1 q2) sqrt(u v)``,
        ``theta = 2 atan2(sqrt u, sqrt v)``.
        """
        return self._evaluate(q1, q2, gap, kind, (0, 1), cogap)

    def derivative_dual(self, q1, q2, gap, kind: str = "float", cogap=None):
        """``E[phi'(u) phi'(v)]`` alone (the complement integrals of :func:`rntk_sym.general.complement`)."""
        return self._evaluate(q1, q2, gap, kind, (1,), cogap)[0]

    @cached_property
    def _angular(self) -> tuple[bool, ...]:
        """Whether the dual ``k`` (0: E, 1: Ed) uses ``S`` or ``theta`` (erf, GELU, sin, exp use neither:
        their float64 evaluation skips the square roots and the arctangent)."""
        exprs = (self.closed.gp, self.closed.derivative_dual())
        return tuple(bool(e.free_symbols & {F.S, F.TH}) for e in exprs)

    def _evaluate(self, q1, q2, gap, kind, which, cogap=None):
        fns = [self._functions[kind][k] for k in which]
        if kind == "float":
            r12 = np.sqrt(q1 * q2)
            c12 = r12 - gap if cogap is None else (cogap - gap) / 2
            s = th = None
            if any(self._angular[k] for k in which):
                u = np.clip(gap / r12, 0.0, 2.0)
                v = 2 - u if cogap is None else np.clip(cogap / r12, 0.0, 2.0)
                s, th = angle_helpers(NUMPY, r12, u, v)  # the same helper the compiled Gram uses
            with np.errstate(divide="ignore", invalid="ignore"):
                return tuple(f(q1, q2, c12, s, th) for f in fns)
        if kind == "ball":  # arb balls: the parts of u, v below 0 are dropped rigorously (u, v >= 0 exactly)
            r12 = (q1 * q2).sqrt()
            u = (gap / r12).nonnegative_part()
            v = (2 - u if cogap is None else cogap / r12).nonnegative_part()
            su, sv = u.sqrt(), v.sqrt()  # not (u v).sqrt(): a product of balls around 0 may have no sqrt (NaN)
            s = r12 * su * sv
            th = 2 * type(u).atan2(su, sv)
            return tuple(f(q1, q2, r12 - gap if cogap is None else (cogap - gap) / 2, s, th) for f in fns)
        r12 = mpmath.sqrt(q1 * q2)
        u = min(max(gap / r12, 0), 2)
        v = 2 - u if cogap is None else min(max(cogap / r12, 0), 2)
        c12 = r12 - gap if cogap is None else (cogap - gap) / 2
        s, th = r12 * mpmath.sqrt(u * v), 2 * mpmath.atan2(mpmath.sqrt(u), mpmath.sqrt(v))
        # a Dirac derivative's expectation is infinite on the diagonal (mpmath would divide by zero)
        return tuple(mpmath.inf if k == 1 and self.singular_derivative and not s else f(q1, q2, c12, s, th)
                     for k, f in zip(which, fns))


def parse_spec(text: str) -> tuple[str, tuple[str, ...]]:
    """``"name"`` or ``"name:p1,p2,..."`` -> ``(name, ("p1", "p2", ...))``: a lower-case identifier and
    decimal numbers (checked here; nothing is evaluated). ValueError naming ``activation`` otherwise."""
    if not isinstance(text, str):
        raise ValueError(f"activation: must be a name such as 'relu' or 'erf:1,2,0', got {text!r}")
    name, _, rest = text.strip().partition(":")
    if not _NAME.fullmatch(name):
        raise ValueError(f"activation: must be a name such as 'relu' or 'erf:1,2,0', got {text!r}")
    params = tuple(p.strip() for p in rest.split(",")) if rest.strip() else ()
    for p in params:
        try:
            ok = Decimal(p).is_finite()
        except InvalidOperation:
            ok = False
        if not ok:
            raise ValueError(f"activation: parameter {p!r} of {name!r} is not a decimal number")
    return name, params


def get_activation(name, *params):
    """The closed-form activation ``name`` with ``params`` (numbers or exact decimal strings); a SymPy
    expression in one symbol, a callable (``params``: its derivative) or a pair ``(phi, dphi)`` gives a
    :func:`user_activation`.

    ``name`` may carry its parameters (``"erf:1,2,0"``); an activation object is returned as is.
    Omitted trailing parameters take the family's defaults. ValueError naming ``activation`` for an
    unknown name, a wrong number of parameters or a parameter out of range.
    """
    if isinstance(name, ClosedActivation) or getattr(name, "quadrature", False):
        if params:
            raise ValueError("activation: parameters are given with a name, not with an activation object")
        return name
    if isinstance(name, sp.Expr) or callable(name):
        return user_activation(name, *params)
    if isinstance(name, tuple) and len(name) == 2 and not params:
        return user_activation(*name)
    name, spec_params = parse_spec(name)
    if spec_params and params:
        raise ValueError("activation: give the parameters either in the name ('erf:1,2,0') or as arguments")
    params = spec_params or params
    table = F.families()
    if name not in table:
        raise ValueError(f"activation: unknown {name!r}; known: {', '.join(sorted(table))}")
    fam = table[name]
    if len(params) > len(fam.params):
        raise ValueError(f"activation: {name} takes at most {len(fam.params)} parameter(s) "
                         f"({', '.join(fam.params) or 'none'}), got {len(params)}")
    values = []
    for i, pname in enumerate(fam.params):
        if i < len(params):
            v = _exact(f"activation: {name} parameter {pname}", params[i])
        elif fam.defaults[i] is None:
            raise ValueError(f"activation: {name} needs its parameter {pname} ({fam.doc})")
        else:
            v = fam.defaults[i]
        if fam.integer and pname in fam.integer:
            lo, hi = fam.integer[pname]
            if not (v.is_integer and lo <= v <= hi):
                raise ValueError(f"activation: {name} parameter {pname} must be an integer in [{lo}, {hi}], got {v}")
        values.append(v)
    return _build(name, tuple(values))


_CACHE: dict = {}


def _build(name: str, values: tuple) -> ClosedActivation:
    key = (name, values)
    if key not in _CACHE:
        _CACHE[key] = ClosedActivation(name, values, F.families()[name].build(*values))
    return _CACHE[key]


def is_default_relu(act) -> bool:
    """Whether ``act`` is the plain ReLU (the seeds' activation, with today's fast path)."""
    return isinstance(act, ClosedActivation) and act.name == "relu"


def user_activation(phi, dphi=None, *, nodes: int | None = None):
    """A user activation for the kernels, with duals by quadrature; see
    :class:`rntk_sym.activations.quadrature.UserActivation`."""
    from .quadrature import UserActivation

    return UserActivation.make(phi, dphi, nodes=nodes)


__all__ = ["ClosedActivation", "get_activation", "parse_spec", "user_activation", "is_default_relu"]
