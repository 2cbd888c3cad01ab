"""Activation families (rntk_sym.activations): the closed forms of E[phi(u) phi(v)] and E[phi'(u) phi'(v)].

Sources: Price's theorem (d/dc E[f(u) g(v)] = E[f'(u) g'(v)] for a Gaussian pair) for the derivative
identity; the closed forms are derived in docs/activations.md (Cho and Saul 2009 for the arc-cosine
family, Williams 1997 for erf, Tsuchida et al. 2021 for GELU) and checked here against an independent
two-dimensional Gaussian quadrature of the activation itself (polar coordinates, split where u or v
changes sign, so that kinked activations are integrated piecewise-smoothly).
"""
import math

import mpmath
import numpy as np
import pytest
import sympy as sp

from rntk_sym.activations import families as F
from rntk_sym.activations import get_activation, parse_spec

a, b, c = sp.symbols("a b c", real=True)
SYMBOLIC = {"ab_relu": F.ab_relu(a, b), "step": F.step(a, b), "erf": F.erf(a, b, c), "gelu": F.gelu(),
            "sin": F.sin(a, b, c), "exp": F.exp(a, b),
            **{f"arccos{n}": F.arccos(n) for n in range(1, F.MAX_ARCCOS_ORDER + 1)}}


@pytest.mark.parametrize("name", sorted(SYMBOLIC))
def test_price_identity_symbolic(name):
    # d/dc E[phi(u) phi(v)] = E[phi'(u) phi'(v)], proved by sympy.simplify for symbolic parameters (a, b, c)
    # (every member of every family at once: relu, leaky_relu, abs, linear are ab_relu; cos is sin; sign is step).
    cl = SYMBOLIC[name]
    diff = sp.diff(F.substitute_helpers(cl.gp), F.C) - F.substitute_helpers(cl.derivative_dual())
    assert sp.simplify(diff) == 0


def test_price_identity_can_fail():
    cl = F.erf(a, b, c)
    wrong = sp.diff(F.substitute_helpers(cl.gp), F.C) - F.substitute_helpers(cl.dgp) * (1 + a / 1000)
    assert sp.simplify(wrong) != 0


def _gl(n, lo, hi):
    x, w = np.polynomial.legendre.leggauss(n)
    return (hi - lo) / 2 * x + (hi + lo) / 2, (hi - lo) / 2 * w


def polar_quadrature(f, g, q1, q2, cov):
    """E[f(u) g(v)] for (u, v) ~ N(0, [[q1, cov], [cov, q2]]) in float64, independently of the closed forms.

    With (x, z) standard normal in polar coordinates (r, p): u = sqrt(q1) r cos p, v = sqrt(q2) r cos(p - p0),
    cos p0 = rho. The angle range is cut where u or v changes sign (the kinks of relu-like activations), so the
    integrand is smooth on each piece: Gauss-Legendre with 60 angles per piece and 120 radii on [0, 14]
    (the Gaussian tail beyond r = 14 is below 1e-40)."""
    s1, s2 = np.sqrt(q1), np.sqrt(q2)
    rho = np.clip(cov / (s1 * s2), -1.0, 1.0)
    p0 = np.arctan2(np.sqrt((1 - rho) * (1 + rho)), rho)
    cuts = np.sort(np.mod([np.pi / 2, 3 * np.pi / 2, p0 + np.pi / 2, p0 + 3 * np.pi / 2], 2 * np.pi))
    edges = np.concatenate([[0.0], cuts, [2 * np.pi]])
    r, wr = _gl(120, 0.0, 14.0)
    total = 0.0
    for lo, hi in zip(edges[:-1], edges[1:]):
        if hi - lo < 1e-15:
            continue
        p, wp = _gl(60, lo, hi)
        U = s1 * np.outer(np.cos(p), r)  # Gauss-Legendre nodes are interior: the kinks sit on the edges
        V = s2 * np.outer(np.cos(p - p0), r)
        total += np.einsum("i,ij,j->", wp, f(U) * g(V), r * np.exp(-r * r / 2) * wr)
    return total / (2 * np.pi)


SPECS = ["relu", "leaky_relu:0.1", "ab_relu:-0.3,2", "abs", "linear", "erf", "erf:1.5,0.7,0.2", "gelu",
         "sin:1.2,0.8,0.3", "cos:1,1.3,0", "exp:0.5,0.4", "arccos:0", "arccos:1", "arccos:2", "arccos:3",
         "step", "sign"]
GRID = [(q1, q2, r) for q1, q2 in ((1.0, 1.0), (0.5, 2.5), (3.0, 0.2))
        for r in (-1.0, -0.999999, -0.6, 0.0, 0.3, 0.9, 0.999999, 1.0)]


def _numpy_fn(expr):
    f = sp.lambdify(F.Z, expr, [{"erf": np.vectorize(math.erf)}, "numpy"])  # numpy has no erf
    return lambda x: np.broadcast_to(np.asarray(f(x), dtype=float), np.shape(x))


@pytest.mark.parametrize("spec", SPECS)
def test_closed_forms_vs_quadrature(spec):
    # Tolerance 1e-11 relative (+1e-13 absolute): the quadrature is smooth on each piece and converges to
    # ~1e-14 (measured); a wrong formula errs by O(1).
    act = get_activation(spec)
    phi, dphi = _numpy_fn(act.closed.phi), _numpy_fn(act.closed.dphi)
    for q1, q2, r in GRID:
        cov = r * np.sqrt(q1 * q2)
        e, ed = act.expectations(np.float64(q1), np.float64(q2), np.sqrt(q1 * q2) * (1 - r))
        ref = polar_quadrature(phi, phi, q1, q2, cov)
        assert abs(e - ref) <= 1e-11 * abs(ref) + 1e-13, (spec, q1, q2, r, e, ref)
        if not act.singular_derivative:
            ref_d = polar_quadrature(dphi, dphi, q1, q2, cov)
            assert abs(ed - ref_d) <= 1e-11 * abs(ref_d) + 1e-13, (spec, q1, q2, r, ed, ref_d)
        elif abs(r) < 1:  # a Dirac derivative: E[phi' phi'] = (b - a)^2 p(0, 0), finite off the diagonal
            jump = float(act.closed.phi.subs(F.Z, 1) - act.closed.phi.subs(F.Z, -1))
            dens = 1 / (2 * np.pi * np.sqrt(q1 * q2 - cov**2))
            assert abs(ed - jump**2 * dens) <= 1e-9 * ed


@pytest.mark.slow
@pytest.mark.parametrize("spec", ["ab_relu:-0.3,2", "arccos:2", "erf:1.5,0.7,0.2", "gelu"])
def test_closed_forms_vs_mpmath_quadrature(spec):
    # The same polar quadrature in mpmath at 25 digits (mpmath.quad on each smooth piece), near the diagonal:
    # agreement to 1e-22 (measured 3e-26; the quadrature's own error estimate is below 1e-24).
    act = get_activation(spec)
    phi = sp.lambdify(F.Z, act.closed.phi, "mpmath")
    dphi = sp.lambdify(F.Z, act.closed.dphi, "mpmath")
    with mpmath.workdps(25):
        q1, q2 = mpmath.mpf("0.5"), mpmath.mpf("2.5")
        cov = mpmath.mpf("0.999999") * mpmath.sqrt(q1 * q2)
        s1, s2 = mpmath.sqrt(q1), mpmath.sqrt(q2)
        rho = cov / (s1 * s2)
        p0 = mpmath.atan2(mpmath.sqrt((1 - rho) * (1 + rho)), rho)
        pi = mpmath.pi
        edges = [mpmath.mpf(0)] + sorted(x % (2 * pi) for x in (pi / 2, 3 * pi / 2, p0 + pi / 2, p0 + 3 * pi / 2))
        edges.append(2 * pi)

        def quad(f):
            def radial(p):
                cu, cv = s1 * mpmath.cos(p), s2 * mpmath.cos(p - p0)
                return mpmath.quad(lambda r: f(r * cu) * f(r * cv) * r * mpmath.exp(-r * r / 2), [0, mpmath.inf])
            return mpmath.quad(radial, edges) / (2 * pi)

        e, ed = act.expectations(q1, q2, mpmath.sqrt(q1 * q2) - cov, "mp")
        assert abs(e - quad(phi)) <= 1e-22 * abs(e)
        assert abs(ed - quad(dphi)) <= 1e-22 * abs(ed)


def test_second_moment_is_the_diagonal_case():
    # E[phi(u)^2] is gp at q1 = q2 = c; e.g. relu: q/2, erf (a=1, b=1): (2/pi) asin(2q/(1+2q)).
    q = np.float64(0.7)
    assert get_activation("relu").expectations(q, q, 0.0)[0] == pytest.approx(0.35, rel=1e-15)
    ref = 2 / np.pi * np.arcsin(1.4 / 2.4)
    assert get_activation("erf").expectations(q, q, 0.0)[0] == pytest.approx(ref, rel=1e-15)


def test_mp_and_float_agree():
    # the mpmath evaluators are the same SymPy expressions; at 30 digits they agree with float64 to 1e-14
    for spec in SPECS:
        act = get_activation(spec)
        with mpmath.workdps(30):
            e, ed = act.expectations(mpmath.mpf("0.5"), mpmath.mpf("2"), mpmath.mpf("0.7"), "mp")
        fe, fed = act.expectations(np.float64(0.5), np.float64(2), np.float64(0.7))
        assert abs(fe - e) <= 1e-14 * abs(e) + 1e-16 and abs(fed - ed) <= 1e-14 * abs(ed) + 1e-16, spec


def test_registry_and_parser():
    assert get_activation("leaky_relu", "0.1") is get_activation("leaky_relu:0.1")
    assert get_activation("leaky_relu:0.1").params == (sp.Rational(1, 10),)  # exact decimal
    assert get_activation("erf:1,2").params == (1, 2, 0)  # trailing default
    assert get_activation("erf:1,2,0").spec == "erf:1,2,0"
    assert parse_spec(" sin:1, 2.5 ,-3e-1") == ("sin", ("1", "2.5", "-3e-1"))
    # relu, abs, linear, leaky_relu are members of ab_relu: identical closed forms
    assert sp.simplify(get_activation("abs").closed.gp - get_activation("ab_relu:-1,1").closed.gp) == 0


@pytest.mark.parametrize("bad", ["nope", "relu:1", "erf:1,2,3,4", "erf:1,x", "erf:__import__('os')", "erf:1;2",
                                 "arccos", "arccos:1.5", "arccos:9", "ab_relu:1", "Relu", "", "erf:nan", "erf:inf",
                                 3])
def test_bad_activation_names(bad):
    with pytest.raises(ValueError, match="^activation"):
        get_activation(bad)


@pytest.mark.parametrize("q", [1e3, 1e10, 1e17, 1e30])
def test_erf_gelu_large_variances(q):
    """The erf and GELU duals in float64 stay accurate at large variances near c = sqrt(q1 q2) (the ResNet's
    variances grow without bound: GELU's like relu's, exponentially). Reference: the published forms (Williams
    1997; Tsuchida et al. 2021, arXiv:2002.08517, as quoted in rntk_sym.activations.families), transcribed here
    with their differences ``P - c^2`` and ``asin``, evaluated at 600 bits where the cancellation is harmless."""
    with mpmath.workprec(600):
        for gap in (mpmath.mpf(0), q * mpmath.mpf("1e-12"), q * mpmath.mpf("0.5")):
            q1, q2 = mpmath.mpf(q), 2 * mpmath.mpf(q)
            c = mpmath.sqrt(q1 * q2) - gap
            P = (1 + q1) * (1 + q2)
            d = mpmath.sqrt(P - c**2)
            ang = mpmath.asin(c / mpmath.sqrt(P))
            gelu = (c / 4 + c * ang / (2 * mpmath.pi) + (c**2 + q1 * q2 * d**2) / (2 * mpmath.pi * P * d),
                    mpmath.mpf(1) / 4 + ang / (2 * mpmath.pi)
                    + c * (1 / d**2 + (1 - q1 * q2) / P + 1) / (2 * mpmath.pi * d))
            Pe = (1 + 2 * q1) * (1 + 2 * q2)
            erf = (2 / mpmath.pi * mpmath.asin(2 * c / mpmath.sqrt(Pe)), 4 / (mpmath.pi * mpmath.sqrt(Pe - 4 * c**2)))
            for name, ref in (("gelu", gelu), ("erf", erf)):
                got = get_activation(name).expectations(np.float64(q1), np.float64(q2), np.float64(gap))
                # a few roundings of the inputs and of the closed form: 1e-14 relative (erf's E keeps its asin,
                # which loses half the digits of 1 - c/sqrt(q1 q2) near 1: 1e-12 at q <= 1e3 only; 8e-12 at 1e10)
                for k, (g, r) in enumerate(zip(got, ref)):
                    if name == "erf" and k == 0:
                        assert q > 1e3 or abs(g - float(r)) <= 1e-12 * abs(float(r)), (name, q, float(gap))
                        continue
                    assert abs(g - float(r)) <= 1e-14 * abs(float(r)), (name, q, float(gap), k)
