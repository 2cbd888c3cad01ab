"""The SymPy source (rntk_sym.duals): identities proved symbolically, closed forms checked against an
independent Gauss-Hermite quadrature of E[phi(X) phi(Y)].

Sources: docs/model.md section 1 (seed 002, Definitions 1-2); Cho & Saul (2009) for the arc-cosine kernels;
Williams (1997) for erf; the angle forms are derived in docs/recursions.md.
"""
import mpmath
import numpy as np
import pytest
import sympy as sp

from rntk_sym import duals as D

WITH_SHATP = [n for n, d in D.duals().items() if d.shatp is not None]


@pytest.mark.parametrize("name", WITH_SHATP)
def test_shatp_is_derivative_of_shat(name):
    # docs/model.md section 1: shatp = d shat / d rho, proved symbolically for each closed form.
    assert D.derivative_identity(D.dual(name)) == 0


def test_derivative_identity_can_fail():
    wrong = D.Dual("wrong", None, D.dual("relu").shat, D.dual("relu").shatp + D.RHO / 100)
    assert D.derivative_identity(wrong) != 0


@pytest.mark.parametrize("name", sorted(D.duals()))
def test_normalized_at_one(name):
    # Every dual is normalized so that shat(1) = E[phi(X)^2] = 1.
    assert sp.simplify(D.dual(name).shat.subs(D.RHO, 1)) == 1


def test_relu_endpoint_values():
    # docs/model.md section 1: shat(1) = shatp(1) = 1, shat(-1) = shatp(-1) = 0.
    relu = D.dual("relu")
    assert [sp.simplify(e.subs(D.RHO, r)) for r in (1, -1) for e in (relu.shat, relu.shatp)] == [1, 1, 0, 0]


def test_relu_is_arccos1():
    assert sp.simplify(D.dual("relu").shat - D.dual("arccos1").shat) == 0


@pytest.mark.parametrize("label", sorted(D.relu_angle_identities()))
def test_relu_angle_identities(label):
    # docs/recursions.md: the cancellation-free forms evaluated by the recursion equal the seed's forms.
    # Proved with rho = cos(theta), theta in (0, pi), where sqrt(1 - cos^2) = sin.
    lhs, rhs = D.relu_angle_identities()[label]
    th = sp.Symbol("th", positive=True)
    diff = (lhs - rhs).subs(D.RHO, sp.cos(th))
    diff = sp.simplify(diff.subs(sp.acos(sp.cos(th)), th).replace(
        lambda e: e.is_Pow and e.exp == sp.Rational(1, 2) and sp.simplify(e.base - sp.sin(th) ** 2) == 0,
        lambda e: sp.sin(th)))
    if diff != 0:  # fall back to 60-digit evaluation at points of (0, pi): must vanish to 1e-55
        f = sp.lambdify(th, diff, "mpmath")
        with mpmath.workdps(60):
            assert all(abs(f(mpmath.mpf(t))) < mpmath.mpf(10) ** -55 for t in ("0.001", "0.7", "1.5", "2.9", "3.14"))


def test_s3_taylor_coefficients_match_closed_form():
    # s3(x) = sin x - x cos x = sum_k (-1)^(k+1) 2k / (2k+1)! x^(2k+1): a second, independent formula.
    coeffs = D.s3_taylor_coefficients(8)
    assert list(coeffs) == [sp.Rational((-1) ** (k + 1) * 2 * k, sp.factorial(2 * k + 1)) for k in range(1, 9)]


@pytest.mark.parametrize("name", ["relu", "arccos1", "arccos2", "erf"])
@pytest.mark.parametrize("endpoint", [1, -1])
def test_series_at_endpoints(name, endpoint):
    # The SymPy series in sqrt(1 -+ rho) approximates the closed form with error O(t^order), t = sqrt(1 -+ rho).
    d = D.dual(name)
    order = 7
    for which in ("shat", "shatp"):
        series = d.series_at(endpoint, order, which)
        exact = d.shat if which == "shat" else d.shatp
        errs = []
        for t in (mpmath.mpf("1e-2"), mpmath.mpf("1e-3")):
            r = endpoint * (1 - t**2)
            with mpmath.workdps(50):
                errs.append(abs(sp.N((series - exact).subs(D.RHO, sp.Float(r, 50)), 50)))
        # error shrinks at least like t^(order - 1) between t = 1e-2 and 1e-3
        assert errs[1] <= errs[0] * 10.0 ** -(order - 1.5) + 1e-40


def test_series_can_fail():
    wrong = D.Dual("wrong", None, D.dual("relu").shat + (1 - D.RHO) ** 3, None)
    s_right = D.dual("relu").series_at(1, 7)
    assert sp.simplify(wrong.series_at(1, 7) - s_right) != 0


@pytest.mark.parametrize("name", ["relu", "arccos1", "arccos2", "erf", "linear"])
def test_closed_form_vs_quadrature(name):
    # Independent reference: E[phi(X) phi(Y)] / E[phi(X)^2] by 2-D Gauss-Hermite quadrature (float64).
    d = D.dual(name)
    phi = sp.lambdify(D.Z, d.phi, modules=[{"Heaviside": lambda z: np.heaviside(z, 0.5),
                                             "Max": np.maximum}, "numpy", "scipy" if name == "erf" else "numpy"]) \
        if name != "erf" else (lambda z: _erf(z))
    q = D.QuadratureDual(lambda z: np.broadcast_to(phi(z), np.shape(z)) * 1.0, lambda z: 0 * z, nodes=150)
    # Gauss-Hermite: spectral for smooth phi, algebraic for kinks (relu, arccos0)
    tol = {"erf": 1e-10, "linear": 1e-10}.get(name, 5e-3)
    assert abs(q.norm() - 1) < tol  # the closed form's normalization phi matches shat(1) = 1
    shat, _ = D.lambdified(d)
    rho = np.array([-0.9, -0.3, 0.0, 0.5, 0.95])
    assert np.max(np.abs(q.shat(rho) - shat(rho))) < tol


def _erf(z):
    from math import erf
    c = float(sp.sqrt(2 * sp.asin(sp.Rational(2, 3)) / sp.pi))
    return np.vectorize(erf)(z) / c


def test_quadrature_dual_shatp_matches_erf():
    # A smooth user activation (erf) through the quadrature path: shatp = E[phi'(X) phi'(Y)] / E[phi^2]
    # against the closed form 2 / (asin(2/3) sqrt(9 - 4 rho^2)) (Williams 1997).
    c = float(sp.sqrt(2 * sp.asin(sp.Rational(2, 3)) / sp.pi))
    q = D.QuadratureDual(_erf, lambda z: 2 / np.sqrt(np.pi) * np.exp(-z * z) / c, nodes=120)
    shat, shatp = D.lambdified(D.dual("erf"))
    rho = np.array([-0.9, 0.0, 0.6, 0.99])
    assert np.max(np.abs(q.shatp(rho) - shatp(rho))) < 1e-10
    assert np.max(np.abs(q.shat(rho) - shat(rho))) < 1e-10


def test_bad_dual_name():
    with pytest.raises(ValueError, match="activation"):
        D.dual("tanh")
