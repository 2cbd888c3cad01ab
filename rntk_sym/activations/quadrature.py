"""User activations: a SymPy expression in one symbol, or Python callables, with duals by quadrature.

``E[f(u) g(v)]`` for ``(u, v) ~ N(0, [[q1, c], [c, q2]])`` is computed in the polar coordinates of a
standard normal pair ``(x, z)``: ``u = sqrt(q1) r cos p``, ``v = sqrt(q2) r cos(p - theta)`` with
``theta = arccos(c / sqrt(q1 q2))`` (from the gap, without cancellation). The angle range is cut where
``u`` or ``v`` changes sign, so activations that are smooth except at 0 (relu-like kinks, steps) are
integrated piecewise-smoothly; within each piece Gauss-Legendre in the angle and in the radius on
``[0, R_MAX]``. Measured against the closed forms (tests/test_quadrature.py, docs/activations.md) on
q in {0.3, 1, 4, 8}, correlations from -1 to 1 - 1e-12: with ANGLE_NODES = 64 and RADIUS_NODES = 128 the
error is below 2e-13 (relative, or relative to sqrt(E[phi(u)^2] E[phi(v)^2]) / 1000 for values near 0)
for relu, leaky relu, abs, relu^2, erf, GELU, sin, exp, and 8.4e-12 for erf(3 z) at q = 8 (a transition
8.5 times narrower than the Gaussian); 48 angles gave 2.8e-9 there. Plain Gauss-Hermite on ``(x, z)``
does not reach 1e-3 with 128 x 128 nodes for relu, erf or GELU: kinks and narrow features.

``digits=D``: the same polar integral by Gauss-Legendre (``mpmath.quad``) on each piece at the working
precision, the radius cut where the Gaussian weight is below 10^-(dps + 10) (about 8 s per off-diagonal
expectation at 30 digits); the caller's two-precision runs give the error estimate.

Checks, each a one-line ValueError naming ``activation``: NaN or infinite values; a second moment
``E[phi(u)^2]`` that the polar rule and a wider one-dimensional rule (``|u| <= 40 sqrt(q)``) do not agree
on to 1e-8 (not square-integrable under the Gaussian, or too heavy-tailed for the rule).
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import mpmath
import numpy as np
import sympy as sp

ANGLE_NODES = 64
RADIUS_NODES = 128
R_MAX = 14.0  # the Gaussian radial weight r exp(-r^2/2) is below 1e-40 beyond
_CHUNK = 8  # pairs per vectorized block (8 x 5 x 64 x 128 values, ~2.6 MB)


def _gl(n: int):
    x, w = np.polynomial.legendre.leggauss(n)
    return (x + 1) / 2, w / 2  # on [0, 1]


def _sectors(theta):
    """Angle cut points (..., 6): 0, the four sign changes of u and v, 2 pi (sorted)."""
    cuts = np.mod(np.stack([np.full_like(theta, np.pi / 2), np.full_like(theta, 1.5 * np.pi),
                            theta + np.pi / 2, theta + 1.5 * np.pi], axis=-1), 2 * np.pi)
    ends = np.broadcast_to([0.0], theta.shape + (1,))
    return np.concatenate([ends, np.sort(cuts, axis=-1), ends + 2 * np.pi], axis=-1)


def polar_expectation(f, g, q1, q2, gap):
    """``E[f(u) g(v)]`` in float64 for arrays ``q1, q2, gap`` (broadcast; ``gap = sqrt(q1 q2) - c``)."""
    q1, q2, gap = np.broadcast_arrays(*(np.asarray(t, dtype=float) for t in (q1, q2, gap)))
    shape = q1.shape
    q1, q2, gap = q1.ravel(), q2.ravel(), gap.ravel()
    ua = np.clip(gap / np.sqrt(q1 * q2), 0.0, 2.0)
    theta = 2 * np.arctan2(np.sqrt(ua), np.sqrt(2 - ua))
    xa, wa = _gl(ANGLE_NODES)
    xr, wr = _gl(RADIUS_NODES)
    r, wr = R_MAX * xr, R_MAX * wr * R_MAX * xr * np.exp(-((R_MAX * xr) ** 2) / 2)  # r exp(-r^2/2) dr
    out = np.empty(q1.size)
    for s in range(0, q1.size, _CHUNK):
        sl = slice(s, s + _CHUNK)
        edges = _sectors(theta[sl])  # (P, 6)
        lo, width = edges[:, :-1], np.diff(edges, axis=-1)  # (P, 5)
        p = lo[..., None] + width[..., None] * xa  # (P, 5, A)
        U = (np.sqrt(q1[sl])[:, None, None] * np.cos(p))[..., None] * r
        V = (np.sqrt(q2[sl])[:, None, None] * np.cos(p - theta[sl][:, None, None]))[..., None] * r
        vals = f(U) * g(V)
        out[sl] = np.einsum("psar,r,a,ps->p", vals, wr, wa, width)
    return (out / (2 * np.pi)).reshape(shape)


@dataclass(frozen=True, eq=False)
class UserActivation:
    """An activation given by the user; duals by quadrature (``quadrature = True``: no certified mode).

    ``phi``, ``dphi``: float64 functions of numpy arrays; ``phi_mp``, ``dphi_mp``: the same for mpmath
    numbers (None when not available: a callable that returns floats); ``dphi`` None: no NTK.
    """

    phi: Callable
    dphi: Callable | None
    phi_mp: Callable | None = field(default=None)
    dphi_mp: Callable | None = field(default=None)
    spec: str = "user"
    quadrature = True
    singular_derivative = False
    name = "user"

    @classmethod
    def make(cls, phi, dphi=None, nodes=None):
        """From a SymPy expression in one symbol (its derivative by ``sympy.diff``) or callables."""
        if nodes is not None:
            raise ValueError("activation: the node counts are fixed (ANGLE_NODES, RADIUS_NODES; docs/activations.md)")
        if isinstance(phi, sp.Expr):
            free = phi.free_symbols
            if len(free) != 1:
                names = sorted(map(str, free))
                raise ValueError(f"activation: a SymPy expression must have exactly one symbol, got {names}")
            (z,) = free
            d = sp.diff(phi, z) if dphi is None else dphi
            numpy_mod = [{"erf": np.vectorize(math.erf), "erfc": np.vectorize(math.erfc)}, "numpy"]
            f, df = (sp.lambdify(z, e, numpy_mod) for e in (phi, d))
            fm, dfm = (sp.lambdify(z, e, "mpmath") for e in (phi, d))
            return cls(array_function(f), array_function(df), fm, dfm, f"user:{phi}")
        if not callable(phi) or (dphi is not None and not callable(dphi)):
            raise ValueError("activation: must be a name, a SymPy expression in one symbol or a Python callable")
        return cls(array_function(phi), None if dphi is None else array_function(dphi), phi, dphi)

    def expectations(self, q1, q2, gap, kind: str = "float", cogap=None):
        """``(E[phi(u) phi(v)], E[phi'(u) phi'(v)])``, as :meth:`ClosedActivation.expectations` (the polar
        rule takes the angle from ``gap``; ``cogap`` is accepted and not used)."""
        if kind == "float":
            e = polar_expectation(self.phi, self.phi, q1, q2, gap)
            ed = np.full_like(e, np.nan) if self.dphi is None else \
                polar_expectation(self.dphi, self.dphi, q1, q2, gap)
            self._check(e, ed, q1, q2, gap)
            return e, ed
        if not self._mp_capable():
            raise ValueError("activation: digits=D needs a SymPy expression or callables that map mpmath numbers to "
                             "mpmath numbers (this one gives float64 only)")
        integral = _mp_second_moment if (not gap and q1 == q2) else _mp_polar  # the diagonal is a 1-D integral
        e = integral(self.phi_mp, q1, q2, gap)
        ed = mpmath.nan if self.dphi_mp is None else integral(self.dphi_mp, q1, q2, gap)
        if not mpmath.isfinite(e) or not (self.dphi_mp is None or mpmath.isfinite(ed)):
            raise ValueError(f"activation: {self.spec} gives NaN or an infinite expectation")
        return e, ed

    def derivative_dual(self, q1, q2, gap, kind: str = "float", cogap=None):
        """``E[phi'(u) phi'(v)]`` alone."""
        if kind == "float" and self.dphi is not None:
            return polar_expectation(self.dphi, self.dphi, q1, q2, gap)
        return self.expectations(q1, q2, gap, kind)[1]

    def _mp_capable(self) -> bool:
        """Whether ``phi_mp`` (and ``dphi_mp``) return mpmath numbers for an mpmath argument."""
        probe = mpmath.mpf(1) / 3
        try:
            return all(f is None or isinstance(f(probe), mpmath.mpf) for f in (self.phi_mp, self.dphi_mp)) and \
                self.phi_mp is not None
        except Exception:  # a user callable may fail in any way on an mpf: then it is float64-only
            return False

    def _check(self, e, ed, q1, q2, gap):
        if not np.isfinite(e).all() or (self.dphi is not None and not np.isfinite(ed).all()):
            raise ValueError(f"activation: {self.spec} returns NaN or infinite values, or is not square-integrable "
                             "under the Gaussian")
        if np.ndim(e) == 0 and gap == 0 and q1 == q2:  # a second moment: cross-check with a wider 1-D rule
            ref = _wide_second_moment(self.phi, float(q1))
            if not abs(float(e) - ref) <= 1e-8 * abs(ref) + 1e-300:
                raise ValueError(f"activation: E[phi(u)^2] of {self.spec} does not converge under "
                                 f"N(0, {float(q1):.3g}) (not square-integrable under the Gaussian, or too "
                                 "heavy-tailed for quadrature)")


def array_function(f):
    """``f`` applied to an array, with a scalar or constant result broadcast to the array's shape."""
    def g(x):
        with np.errstate(all="ignore"):
            return np.broadcast_to(np.asarray(f(x), dtype=float), np.shape(x))
    return g


def _wide_second_moment(phi, q: float) -> float:
    """``E[phi(u)^2]``, ``u ~ N(0, q)``, by composite Gauss-Legendre on ``|u| <= 40 sqrt(q)`` (800 panels,
    boundaries at 0): a rule reaching much further into the tails than the polar one."""
    x, w = _gl(8)
    edges = np.linspace(-40.0, 40.0, 801)
    t = (edges[:-1, None] + np.diff(edges)[:, None] * x).ravel()
    wt = (np.diff(edges)[:, None] * w).ravel()
    with np.errstate(all="ignore"):
        vals = phi(math.sqrt(q) * t) ** 2 * np.exp(-t * t / 2) / math.sqrt(2 * math.pi)
    return float(np.sum(wt * vals)) if np.isfinite(vals).all() else math.nan


def _mp_second_moment(f, q, _q2=None, _gap=None):
    """``E[f(u)^2]``, ``u ~ N(0, q)``, by ``mpmath.quad`` on both half-lines (a kink at 0 is an endpoint)."""
    s = mpmath.sqrt(q)
    return mpmath.quad(lambda x: f(s * x) ** 2 * mpmath.exp(-x * x / 2), [-mpmath.inf, 0, mpmath.inf]) / \
        mpmath.sqrt(2 * mpmath.pi)


def _mp_polar(f, q1, q2, gap):
    """``E[f(u) f(v)]`` by ``mpmath.quad`` on each smooth piece of the polar integral (current precision)."""
    s1, s2 = mpmath.sqrt(q1), mpmath.sqrt(q2)
    u = min(max(gap / (s1 * s2), 0), 2)
    theta = 2 * mpmath.atan2(mpmath.sqrt(u), mpmath.sqrt(2 - u))
    pi = mpmath.pi
    cuts = sorted(x % (2 * pi) for x in (pi / 2, 3 * pi / 2, theta + pi / 2, theta + 3 * pi / 2))
    edges = [mpmath.mpf(0), *cuts, 2 * pi]

    # the radial weight r exp(-r^2/2) is below 10^-(dps + 10) beyond r_max; Gauss-Legendre on the finite pieces
    # converges geometrically for integrands analytic on them (tanh-sinh on [0, inf) took ~100 s at 30 digits)
    r_max = mpmath.sqrt(2 * (mpmath.mp.dps + 10) * mpmath.log(10)) + 2

    def radial(p):
        cu, cv = s1 * mpmath.cos(p), s2 * mpmath.cos(p - theta)
        return mpmath.quad(lambda r: f(r * cu) * f(r * cv) * r * mpmath.exp(-r * r / 2), [0, r_max],
                           method="gauss-legendre")

    return mpmath.quad(radial, edges, method="gauss-legendre") / (2 * pi)
