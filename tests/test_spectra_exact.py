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

import math

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


@pytest.mark.parametrize("dim", [3, 10])
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


# ---------------------------------------------------------------------------------------------- relu family

@pytest.mark.parametrize("act", ["leaky_relu:0.1", "ab_relu:0.5,2"])
def test_relu_family_decay_constants(act):
    # The ab_relu dual is m shat + (1 - m) rho, m = (a - b)^2/(a^2 + b^2) (docs/activations.md; docs/spectra.md
    # sec. 3 derives c_+- from it). Closed forms at L = 1, 2 (derived by hand in docs/spectra.md sec. 3):
    # L = 1: c_+ = c_- = -(sqrt 2/pi) m; L = 2: c_+ = -(sqrt 2/pi) 3m/2, c_- = -(sqrt 2/pi)(m/2) P(r_1),
    # r_1 = m - 1, P(r) = 1 - m + m (pi - acos r)/pi
    a, b = {"leaky_relu:0.1": (sp.Rational(1, 10), 1), "ab_relu:0.5,2": (sp.Rational(1, 2), 2)}[act]
    m = (a - b) ** 2 / (a ** 2 + b ** 2)
    s2 = sp.sqrt(2) / sp.pi
    d1, d2 = decay("ffnet", 1, 3, activation=act), decay("ffnet", 2, 3, activation=act)
    P = 1 - m + m * (sp.pi - sp.acos(m - 1)) / sp.pi
    for got, want in ((d1.exact["c_plus"], -s2 * m), (d1.exact["c_minus"], -s2 * m),
                      (d2.exact["c_plus"], -s2 * 3 * m / 2), (d2.exact["c_minus"], -s2 * m / 2 * P)):
        assert sp.simplify(got - want) == 0, (got, want)
    # against the eigenvalues computed through the general-activation kernel code (a second implementation of the
    # recursion): mu_k / endpoint terms = 1 + O(k^-2) (measured <= 1.6e-3 at k = 60, 61 for L = 1..3, NTK and GP)
    for depth, kernel in ((1, "ntk"), (2, "ntk"), (3, "ntk"), (2, "gp")):
        s = spectrum("ffnet", depth, 3, 61, activation=act, kernel=kernel)
        assert s.decay is not None and s.decay.c_plus == decay("ffnet", depth, 3, activation=act, kernel=kernel).c_plus
        for k in (60, 61):
            if s.decay.singular(k):
                assert abs(s.mu[k] / s.decay.singular(k) - 1) < 5e-3, (depth, kernel, k)
            else:  # L = 1: C_odd = 0, the odd mu_k vanish (odd part of the kernel: linear)
                assert abs(s.mu[k]) <= s.error[k] + 1e-17


def test_relu_family_endpoint_coefficient_against_the_kernel():
    # c_+ of leaky relu, L = 3, from the general kernel code's 40-digit values at t = 1 - u, 1 - 4u (u = 1e-16):
    # k(1 - u) = k(1) + c s + a s^2 + O(s^3), s = sqrt u: c = 2 g(u)/s - g(4u)/(2 s), error O(u^(1/2)) = 1e-8
    import rntk_sym

    act = "leaky_relu:0.1"
    d = decay("ffnet", 3, 3, activation=act)

    def k(r):
        return rntk_sym.kernel("ffnet", r, 3, activation=act, digits=40).value

    u = sp.Rational(1, 10**16)
    one = k(1)
    ctx = one.context
    su = ctx.sqrt(ctx.mpf(1) / 10**16)
    cp = 2 * (k(1 - u) - one) / su - (k(1 - 4 * u) - one) / (2 * su)
    assert abs(cp - d.c_plus) < 1e-6 * abs(d.c_plus)
    m_one = k(-1)
    cm = 2 * (k(-1 + u) - m_one) / su - (k(-1 + 4 * u) - m_one) / (2 * su)
    assert abs(cm - d.c_minus) < 1e-6 * abs(d.c_minus)


@pytest.mark.parametrize("act,name", [("erf", "relu family"), ("abs", "mixing weight"), ("linear", "mixing weight")])
def test_no_decay_constants_outside_the_derivation(act, name):
    with pytest.raises(ValueError, match="^activation:.*" + name):
        decay("ffnet", 2, 3, activation=act)
    with pytest.raises(ValueError, match="^activation:.*bias-free FFNet"):
        decay("resnet", 2, 3, activation="leaky_relu:0.1", gamma=1)


def test_smooth_activation_decays_faster_than_any_power():
    # erf (Williams 1997): the dual is analytic on a neighbourhood of [-1, 1] (docs/activations.md: arcsin of
    # 2 b^2 c / sqrt(P) with |.| < 1), so the kernel has no endpoint singularity and mu_k -> 0 geometrically.
    # The local exponent p_k = log(mu_k / mu_(k+2)) / log((k+2)/k) of a power law tends to a constant (d - 1 + 2 nu
    # <= d + 2 for the relu kernels); here it must grow without bound and the ratio mu_(k+2)/mu_k stay below 1/3.
    # erf is odd and bias-free: the kernel is odd, so only odd k carry the spectrum.
    s = spectrum("ffnet", 2, 3, 39, activation="erf")
    ks = list(range(5, 36, 2))
    assert all(s.mu[k] > 1e3 * s.error[k] for k in ks + [37])  # well above the float64 floor (relative 1e-3)
    p = [math.log(s.mu[k] / s.mu[k + 2]) / math.log((k + 2) / k) for k in ks]
    assert all(a < b for a, b in zip(p, p[1:])), p
    assert p[-1] > 20
    assert all(s.mu[k + 2] / s.mu[k] < 1 / 3 for k in ks if k >= 11)
    assert all(abs(s.mu[k]) <= s.error[k] + 1e-16 for k in range(0, 40, 2))
