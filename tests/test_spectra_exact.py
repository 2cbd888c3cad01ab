"""Exact Mercer eigenvalues of the two-layer relu kernels on S^(d-1) for general d, and the decay constant
A(d, nu) from a second formula (docs/spectra.md sec. 3 and 6).

The independent route ("Fourier route", derivation in docs/spectra.md sec. 3): in the angle, t = cos(th),
the arc-cosine kernels of Cho & Saul 2009 are kappa_0(cos th) = 1 - th/pi and kappa_1(cos th) =
(sin th + (pi - th) cos th)/pi (arccos(cos th) = th on [0, pi]). So the Funk-Hecke integrand
k(cos th) P_k(cos th) sin^(d-2)(th) is (trigonometric polynomial) + th * (trigonometric polynomial); with
z = e^(i th) every term is c z^j or c th z^j, whose integrals over [0, pi] are elementary:
int z^j = pi (j = 0) or ((-1)^j - 1)/(i j); int th z^j = pi^2/2 (j = 0) or pi (-1)^j/(i j) - ((-1)^j - 1)/(i j)^2.
SymPy does the expansion exactly: mu_k is a rational plus a rational times 1/pi (times the sphere ratio).
No quadrature, no recursion: independent of rntk_sym.spectrum's Gauss-Legendre and of its kernel code.
"""
from __future__ import annotations

import mpmath
import pytest
import sympy as sp

from rntk_sym.spectra import _Sym, decay, singular_factor, spectrum

TH, Z = sp.Symbol("theta", real=True), sp.Symbol("z")
COS, SIN = (Z + 1 / Z) / 2, (Z - 1 / Z) / (2 * sp.I)


def _integrate(expr):
    """int_0^pi of expr (a Laurent polynomial in z = e^(i th), possibly times th) d th, exactly."""
    total = sp.Integer(0)
    for term in sp.Add.make_args(sp.expand(expr)):
        if term == 0:
            continue
        c, p = term.as_independent(TH, as_Add=False)
        has_th = p == TH
        assert p in (1, TH), term
        coef, j = c.as_coeff_exponent(Z)
        coef = sp.expand(coef)
        j = int(j)
        s = 1 if j % 2 == 0 else -1
        if not has_th:
            total += coef * (sp.pi if j == 0 else sp.Rational(s - 1) / (sp.I * j))
        else:
            ij = sp.I * j
            total += coef * (sp.pi ** 2 / 2 if j == 0 else sp.pi * s / ij - sp.Rational(s - 1) / ij ** 2)
    total = sp.expand(total)
    assert sp.im(total) == 0
    return sp.re(total)


def exact_mu(kernel_a, kernel_b, dim: int, k: int):
    """mu_k of k(cos th) = kernel_a + th * kernel_b (trig polynomials in z) on S^(dim-1): Funk-Hecke with
    P_k = C_k^lam / C_k^lam(1), lam = (d - 2)/2, and the sphere ratio Gamma(d/2)/(sqrt(pi) Gamma((d-1)/2))."""
    lam = sp.Rational(dim - 2, 2)
    t = sp.Symbol("t")
    Pk = sp.gegenbauer(k, lam, t) / sp.gegenbauer(k, lam, 1)
    weight = sp.expand(Pk.subs(t, COS) * SIN ** (dim - 2))
    ratio = sp.gamma(sp.Rational(dim, 2)) / (sp.sqrt(sp.pi) * sp.gamma(sp.Rational(dim - 1, 2)))
    return sp.simplify(ratio * (_integrate(kernel_a * weight) + _integrate(TH * kernel_b * weight)))


# two-layer FFNet NTK (this package's L = 1, normalized): t kappa_0(t) = cos th (1 - th/pi);
# GP kernel after one layer: kappa_1(t) = (sin th + (pi - th) cos th)/pi
KERNELS = {"ntk": (COS, -COS / sp.pi), "gp": ((SIN + sp.pi * COS) / sp.pi, -COS / sp.pi)}


@pytest.mark.parametrize("kernel", ["ntk", "gp"])
@pytest.mark.parametrize("dim", [3, 5, 10])
def test_two_layer_relu_kernels_exact_eigenvalues(kernel, dim):
    # exact values (rationals and 1/pi) vs the float64 route and the 30-digit route of rntk_sym.spectrum;
    # the reported error columns must cover the differences (+ the float64 rounding of the exact value)
    kmax = 7
    f = spectrum("ffnet", 1, dim, kmax, kernel=kernel)
    h = spectrum("ffnet", 1, dim, kmax, kernel=kernel, digits=30)
    ctx = h.mu[0].context
    for k in range(kmax + 1):
        ex = exact_mu(*KERNELS[kernel], dim, k)
        assert ex.free_symbols == set() and ex.is_real
        val = sp.N(ex, 45)
        assert abs(f.mu[k] - float(val)) <= f.error[k] + 2e-17 * max(1.0, abs(float(val))), (k, ex)
        assert abs(h.mu[k] - ctx.mpf(str(val))) <= h.error[k] + ctx.mpf(10) ** -40, (k, ex)
        if k >= 3 and k % 2:  # odd part t/2 (NTK) or t/2 (kappa_1): Bietti & Mairal 2019 (arXiv:1905.12173)
            assert ex == 0
    # a spot value by hand (d = 3, k = 0): (1/2) int_0^pi cos th (1 - th/pi) sin th d th = 1/8
    if kernel == "ntk" and dim == 3:
        assert exact_mu(*KERNELS["ntk"], 3, 0) == sp.Rational(1, 8)


def test_the_fourier_route_on_k_equal_t():
    # k(t) = t: mu_1 = E[t^2] = 1/d under the uniform measure (t = x_1), mu_0 = mu_2 = 0 (orthogonality);
    # a check of the route itself (sphere ratio, Gegenbauer normalization, the integrals of z^j)
    for dim in (3, 5, 10):
        assert exact_mu(COS, sp.Integer(0), dim, 1) == sp.Rational(1, dim)
        assert exact_mu(COS, sp.Integer(0), dim, 0) == 0 and exact_mu(COS, sp.Integer(0), dim, 2) == 0


@pytest.mark.parametrize("dim", [3, 5, 10])
def test_decay_constant_A_against_the_exact_decay_of_sqrt_one_minus_t2(dim):
    """The constant A(d, nu) of mu_k ~ (c_plus +- c_minus) A(d, nu) k^-(d-1+2nu) (docs/spectra.md sec. 2),
    checked against a second function with known endpoint terms: sqrt(1 - t^2) = sin th has c_plus = c_minus =
    sqrt 2 at nu = 1/2 (sqrt(1 - t) sqrt(1 + t), sqrt(1 + t) = sqrt 2 (1 - u/4 + ...)), so its even mu_k must be
    2 sqrt 2 A Gamma(k - 1/2)/Gamma(k + d - 1/2) (1 + O(1/k)) and its odd mu_k vanish. Its mu_k are computed
    here by mpmath Gauss-Legendre in the angle (an entire integrand: geometric convergence), not by spectrum().
    The alternative constant 2 A (one endpoint's share of the symmetric function's decay read as the whole:
    the factor-2 hypothesis of docs/spectra.md sec. 6) must fail the same check by a factor 2."""
    nu = sp.Rational(1, 2)
    A = singular_factor(_Sym(), dim, nu)
    k = 200
    with mpmath.workdps(20):
        ratio = mpmath.gamma(mpmath.mpf(dim) / 2) / (mpmath.sqrt(mpmath.pi) * mpmath.gamma(mpmath.mpf(dim - 1) / 2))

        def mu(kk):
            lam = mpmath.mpf(dim - 2) / 2

            def f(th):
                t = mpmath.cos(th)
                return mpmath.sin(th) ** (dim - 1) * mpmath.gegenbauer(kk, lam, t) / mpmath.gegenbauer(kk, lam, 1)

            return ratio * mpmath.quad(f, [0, mpmath.pi / 2, mpmath.pi], method="gauss-legendre")

        Ak = mpmath.mpf(sp.N(A, 20)) * mpmath.gamma(k - 0.5) / mpmath.gamma(k + dim - 0.5)
        even, odd = mu(k), mu(k + 1)
        r = even / (2 * mpmath.sqrt(2) * Ak)
        # next endpoint term (1 -+ t)^(3/2): relative O(1/k^2) ~ 2.5e-5 (measured 2e-5 .. 2e-4 for d = 3..10)
        assert abs(r - 1) < 1e-3, r
        assert abs(even / (2 * mpmath.sqrt(2) * 2 * Ak) - 0.5) < 1e-3  # the 2A reading is off by exactly 2
        assert abs(odd) < 1e-18


def test_decay_constants_are_the_two_layer_exact_asymptotics():
    # The NTK's decay (c_plus, c_minus from the recursion, A from Rodrigues; docs/spectra.md sec. 2-3) against
    # the exact eigenvalues of the Fourier route on S^4: mu_k / singular(k) = 1 + O(1/k^2), so the deviation
    # must be small at k = 60 (measured 1.8e-3) and shrink about 4x from k = 30 (measured 7.0e-3)
    dec = decay("ffnet", 1, 5)
    dev = {k: abs(float(exact_mu(*KERNELS["ntk"], 5, k)) / dec.singular(k) - 1) for k in (30, 60)}
    assert dev[60] < 3e-3, dev
    assert 3 < dev[30] / dev[60] < 5, dev
