"""Mercer eigenvalues on the sphere (rntk_sym.spectrum, docs/spectra.md), each against an independent route:
exact rationals (closed form below), the mpmath quadrature, random-Gram eigenvalues, the kernel's own values
near t = +-1 (for the endpoint coefficients), the sum rule sum_k N(d, k) mu_k = k(1) = 1."""
from __future__ import annotations

import math
from fractions import Fraction

import mpmath
import numpy as np
import pytest
import sympy as sp

import rntk_sym
from rntk_sym.spectra import decay, multiplicity, spectrum


def two_layer_ntk_mu_exact(k: int) -> Fraction:
    """mu_k on S^2 (d = 3, Legendre, density 1/2 dt) of the L = 1 FFNet NTK k(t) = t shatp(t) = t/2 + t asin(t)/pi
    (docs/model.md sec. 2 with L = 1). Moments: for even n, by parts with int_0^1 t^m / sqrt(1 - t^2) dt =
    (pi/2) (m-1)!!/m!! (m even),  int_{-1}^{1} t^(n+1) asin(t) dt = (pi/(n+2)) (1 - (n+1)!!/(n+2)!!); for odd n
    it vanishes (odd integrand). The pi cancels: every mu_k is rational."""
    t = sp.Symbol("t")
    coeffs = sp.Poly(sp.legendre(k, t), t).all_coeffs()[::-1]  # P_k = sum_j p_j t^j, P_k(1) = 1

    def dfact(m):
        return math.prod(range(m, 0, -2)) if m > 0 else 1

    total = Fraction(0)
    for j, p in enumerate(coeffs):
        p = Fraction(int(sp.fraction(p)[0]), int(sp.fraction(p)[1]))
        if p == 0:
            continue
        if (j + 1) % 2 == 0:  # t/2 * t^j
            total += p * Fraction(1, 2) * Fraction(2, j + 2)
        if j % 2 == 0:  # t asin(t)/pi * t^j
            total += p * Fraction(1, j + 2) * (1 - Fraction(dfact(j + 1), dfact(j + 2)))
    return total / 2


def test_two_layer_ntk_exact_rationals_and_odd_zeros():
    # closed form above vs float64 (Gauss-Legendre in the angle) and vs 30-digit mpmath; the errors the
    # function reports must cover the differences
    f = spectrum("ffnet", 1, 3, 12)
    h = spectrum("ffnet", 1, 3, 12, digits=30)
    for k in range(13):
        exact = two_layer_ntk_mu_exact(k)
        assert abs(f.mu[k] - float(exact)) <= f.error[k] + 1e-17, k  # float64 rounding of the exact value
        ctx = h.mu[k].context
        assert abs(h.mu[k] - ctx.mpf(exact.numerator) / exact.denominator) <= h.error[k] + ctx.mpf(10) ** -40, k
        assert h.error[k] < 1e-29
        if k >= 3 and k % 2:  # Bietti & Mairal 2019 (arXiv:1905.12173): odd k >= 3 vanish for the two-layer NTK
            assert exact == 0 and h.decimals()[k] == "0"
    assert two_layer_ntk_mu_exact(2) == Fraction(7, 128)  # spot value, by hand: (1/2) int (3t^2-1)/2 k(t) dt


@pytest.mark.parametrize("depth", [2, 3, 5])
def test_deeper_ffnets_have_odd_eigenvalues(depth):
    s = spectrum("ffnet", depth, 3, 15)
    for k in range(3, 16, 2):
        assert s.mu[k] > 1e6 * s.error[k]


def test_float64_and_mpmath_agree_within_their_errors():
    # two precisions, two node sets (numpy Newton nodes vs mpmath's): the difference is covered by the errors
    for arch, kw, dim, kmax in (("resnet", {"gamma": "0.5"}, 5, 30), ("ffnet", {"kernel": "gp"}, 3, 20)):
        f = spectrum(arch, 4, dim, kmax, **kw)
        h = spectrum(arch, 4, dim, kmax, digits=20, **kw)
        for k in range(kmax + 1):
            assert abs(f.mu[k] - float(h.mu[k])) <= f.error[k] + float(h.error[k]) + 1e-19, (arch, k)
        assert all(e < 1e-14 for e in f.error)


def test_random_gram_eigenvalues():
    # Mercer: the eigenvalues of K/n for n uniform points on S^2 tend to mu_k, each N(3, k) times. Groups of
    # the sorted Gram spectrum (sizes 1, 3, 5) against mu_0..mu_2 of FFNet L = 2; the Monte Carlo error of
    # a group mean is ~ |k|_inf / sqrt(n) ~ 0.03 at n = 600 for mu_0, far less for the smaller ones:
    # tolerance 20% of mu_k (a wrong normalization, e.g. a missing |S^(d-2)|/|S^(d-1)|, is off by >= 2x)
    rng = np.random.default_rng(7)
    n = 600
    G = rntk_sym.gram(rng.standard_normal((n, 3)), arch="ffnet", depth=2)
    ev = np.sort(np.linalg.eigvalsh(G / n))[::-1]
    s = spectrum("ffnet", 2, 3, 20)
    order = np.argsort(-s.mu[:5])
    assert list(order[:3]) == [0, 1, 2]
    start = 0
    for k in range(3):
        group = ev[start:start + multiplicity(3, k)]
        assert abs(group.mean() - s.mu[k]) < 0.2 * s.mu[k], (k, group, s.mu[k])
        start += multiplicity(3, k)


def test_sum_rule_with_the_asymptotic_tail():
    # sum_k N(d, k) mu_k = k(1) = 1; the tail k > K from the endpoint terms' exact eigenvalues
    # (Decay.singular, relative error O(k^-2)): GP, nu = 3/2, tail ~ 3.5e-8 at K = 300, error ~ 1e-12
    s = spectrum("ffnet", 3, 3, 300, kernel="gp")
    part = sum(multiplicity(3, k) * s.mu[k] for k in range(301))
    ks = np.arange(301, 60000)
    tail = float(np.sum((2 * ks + 1) * s.decay.singular(ks)))
    assert 1e-8 < tail < 1e-7
    assert abs(part + tail - 1) < 1e-10
    assert abs(part - 1) > 1e-8  # without the tail the rule fails: the check can fail


def _kernel_at(arch, kernel, kw, r):
    return rntk_sym.kernel(arch, r, 3, kernel=kernel, digits=40, **kw).value


@pytest.mark.parametrize("arch,kw,kernel", [("ffnet", {}, "ntk"), ("resnet", {"gamma": "0.5"}, "ntk"),
                                            ("resnet", {"alpha": "0.3"}, "gp"), ("ffnet", {}, "gp")])
def test_endpoint_coefficients_against_the_kernel(arch, kw, kernel):
    # k(1 - u) = analytic + c_plus u^nu, k(-1 + v) = analytic + c_minus v^nu: c from the kernel's 40-digit values
    # at two distances (Richardson against the next power u^(nu + 1/2)), error O(u^1/2) = 1e-8 at u = 1e-16
    d = decay(arch, 3, 3, kernel=kernel, **kw)
    u = Fraction(1, 10**16)
    ctx = _kernel_at(arch, kernel, kw, 0).context
    su = ctx.sqrt(ctx.mpf(u.numerator) / u.denominator)

    def coef(end, value):
        g1 = _kernel_at(arch, kernel, kw, end + (u if end < 0 else -u)) - value
        g4 = _kernel_at(arch, kernel, kw, end + (4 * u if end < 0 else -4 * u)) - value
        if d.nu == Fraction(1, 2):  # g = c s + a s^2: c = 2 g(u)/s - g(4u)/(2 s)
            return 2 * g1 / su - g4 / (2 * su)
        return (g4 / 4 - g1) / (su ** 3)  # g = b s^2 + c s^3 + ...: (g(4u)/4 - g(u)) / s^3 = c + O(s)

    cp = coef(1, _kernel_at(arch, kernel, kw, 1))
    cm = coef(-1, _kernel_at(arch, kernel, kw, -1))
    assert abs(cp - d.c_plus) < 1e-6 * abs(d.c_plus)
    assert abs(cm - d.c_minus) < 1e-6 * abs(d.c_minus)
    assert abs(float(sp.N(d.exact["c_plus"], 25)) - float(d.c_plus)) < 1e-15


@pytest.mark.parametrize("arch,kw,kernel,dim", [("ffnet", {}, "ntk", 3), ("ffnet", {}, "ntk", 4),
                                                ("resnet", {"gamma": 1}, "ntk", 3), ("ffnet", {}, "gp", 3)])
def test_decay_constants_match_the_computed_eigenvalues(arch, kw, kernel, dim):
    # mu_k / (the endpoint terms' eigenvalues) = 1 + O(k^-2) (docs/spectra.md sec. 2); at k = 60..61 the
    # next terms are ~ (nu+1)(...)/k^2 ~ 1e-3 (measured 5e-4 at k = 100 for the FFNet NTK)
    s = spectrum(arch, 3, dim, 61, kernel=kernel, **kw)
    for k in (60, 61):
        ratio = s.mu[k] / s.decay.singular(k)
        assert abs(ratio - 1) < 5e-3, (k, ratio)
    assert s.decay.power == dim - 1 + 2 * s.decay.nu


def test_two_layer_decay_closed_form():
    # L = 1: c_plus = c_minus = -sqrt(2)/pi, so C_odd = 0 and C_even = 2 A(3, 1/2) (-sqrt 2/pi) = 1/pi on S^2
    d = decay("ffnet", 1, 3)
    assert sp.simplify(d.exact["C_odd"]) == 0
    assert sp.simplify(d.exact["C_even"] - 1 / sp.pi) == 0


@pytest.mark.parametrize("kwargs,name", [
    ({"dim": 1}, "dim"), ({"dim": "x"}, "dim"), ({"dim": True}, "dim"), ({"kmax": -1}, "kmax"),
    ({"kmax": 2.5}, "kmax"), ({"kmax": 5000, "digits": 50}, "kmax"), ({"depth": 0}, "depth"),
    ({"depth": 10**10}, "depth"),  # estimated hours with or without the compiled path: refused up front
    ({"kernel": "foo"}, "kernel")])
def test_bad_input(kwargs, name):
    args = {"arch": "ffnet", "depth": 2, "dim": 3, "kmax": 5, **kwargs}
    with pytest.raises(ValueError, match=f"^{name}:"):
        spectrum(args.pop("arch"), args.pop("depth"), args.pop("dim"), args.pop("kmax"), **args)


def test_other_activation_gives_eigenvalues_without_constants():
    s = spectrum("ffnet", 2, 3, 6, activation="erf")
    assert s.decay is None and "decay constants" in s.decay_note
    assert abs(sum(multiplicity(3, k) * s.mu[k] for k in range(7)) - 1) < 0.05  # smooth kernel: fast decay


def test_high_dimension_against_a_direct_quadrature_in_t():
    # d = 1000: mu_0, mu_1, mu_2 by mpmath's tanh-sinh in t with the weight (1 - t^2)^((d-3)/2) (split where the
    # weight, of width ~ 1/sqrt(d), lives) and the float64 kernel: a second quadrature on another variable;
    # float64 kernel values (~1e-16 relative) and mu_2 ~ 5e-7: tolerance 1e-9 relative to mu_0
    d = 1000
    s = spectrum("ffnet", 2, d, 1000)
    assert len(s.mu) == 1001 and np.all(np.isfinite(s.mu))
    ctx = mpmath.MPContext()
    ctx.prec = 60
    ratio = ctx.gamma(ctx.mpf(d) / 2) / (ctx.sqrt(ctx.pi) * ctx.gamma(ctx.mpf(d - 1) / 2))
    polys = (lambda t: 1, lambda t: t, lambda t: (d * t * t - 1) / (d - 1))  # P_0, P_1, P_2 with P_k(1) = 1
    for k, P in enumerate(polys):
        def f(t, P=P):
            return ratio * rntk_sym.ntk("ffnet", float(t), 2) * P(t) * (1 - t * t) ** ((d - 3) / ctx.mpf(2))

        ref = ctx.quad(f, [-1, -0.3, -0.1, 0, 0.1, 0.3, 1])
        assert abs(s.mu[k] - float(ref)) < 1e-9 * s.mu[0], (k, s.mu[k], ref)
    assert s.decay.C_even > 0 and 0 < s.decay.leading(600) < 1e-200  # C ~ 1e2562 in mpmath, 600^-1000 in log space


def test_spectrum_checks_pass_and_fail_on_a_wrong_spectrum():
    # bm19-odd-eigenvalues and bb21-deep-equals-shallow (proofs_check/spectrum_*.py): pass on the package;
    # fail when the L = 2 spectrum is passed off as L = 1 (odd eigenvalues appear) and when the GP kernel's
    # spectrum (decay k^-(d+2)) is passed off as the NTK's
    from proofs_check import spectrum_decay, spectrum_parity

    assert spectrum_parity.check(True).passed
    assert spectrum_decay.check(True).passed

    def deeper(arch, L, dim, kmax, **kw):
        return spectrum(arch, L + 1, dim, kmax, **kw)

    def gp(arch, L, dim, kmax, **kw):
        return spectrum(arch, L, dim, kmax, kernel="gp", **kw)

    assert not spectrum_parity.check(True, spectrum=deeper).passed
    c = spectrum_decay.check(True, spectrum=gp)
    assert not c.passed and any("fitted power" in f for f in c.evidence["failed"])


def _cli(capsys, argv):
    from rntk_sym.cli import main

    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_spectrum_json(capsys):
    import json

    code, out, _ = _cli(capsys, ["spectrum", "--arch", "ffnet", "--depth", "1", "--dim", "3", "--kmax", "6",
                                 "--digits", "25", "--json"])
    res = json.loads(out)
    assert code == 0 and res["dim"] == 3 and len(res["mu"]) == len(res["error"]) == 7
    for k in range(7):  # the decimal strings against the exact rationals (closed form above)
        exact = two_layer_ntk_mu_exact(k)
        assert abs(Fraction(res["mu"][k]) - exact) <= Fraction(res["error"][k]) + Fraction(1, 10**25)
    assert res["power"] == "3" and res["C_odd"].startswith("0") and abs(float(res["C_even"]) - 1 / math.pi) < 1e-15
    code, out, _ = _cli(capsys, ["spectrum", "--arch", "resnet", "--gamma", "0.5", "--depth", "4", "--dim", "3",
                                 "--kmax", "4", "--kernel", "gp"])
    assert code == 0 and "mu_4" in out and "k^-5" in out


@pytest.mark.parametrize("extra,name", [
    (["--dim", "1"], "dim"), (["--kmax", "-1"], "kmax"), (["--kmax", "5000", "--digits", "50"], "kmax"),
    (["--dim", "2.5"], "dim"), (["--digits", "0"], "digits"), (["--gamma", "1"], "gamma"),
    (["--kernel", "xx"], "kernel")])
def test_cli_spectrum_bad_input(capsys, extra, name):
    code, out, err = _cli(capsys, ["spectrum", "--arch", "ffnet", "--depth", "2", "--dim", "3", "--kmax", "5", *extra])
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1 and name in err


def test_cli_spectrum_without_constants(capsys):
    import json

    code, out, _ = _cli(capsys, ["spectrum", "--arch", "ffnet", "--depth", "2", "--dim", "3", "--kmax", "3",
                                 "--activation", "erf", "--json"])
    res = json.loads(out)
    assert code == 0 and res["power"] is None and res["C_even"] is None and "decay constants" in res["note"]


def test_plot_spectrum_data_ends_on_the_constants(tmp_path, capsys):
    # what `rntk plot spectrum` draws: k^d mu_k against the derived constants; at k = kmax = 200 the ratio is
    # 1 - 3/(2k) + ... (the Gamma ratio) for the cases whose asymptotic regime has begun (FFNet L <= 8; the
    # L = 64 FFNet and the gamma = 1 ResNet need k >> L resp. k >> L^(gamma - 1/2): 10% allowed)
    from rntk_sym.spectra_plot import spectrum_data

    d = spectrum_data(dim=3, kmax=200)
    for c in d["cases"]:
        tol = 0.02 if c["arch"] == "ffnet" and c["depth"] <= 8 else 0.1
        assert abs(c["scaled"][-1] / c["C_even"] - 1) < tol, c["label"]  # k = 200 (even; index i is k = i + 1)
        if c["C_odd"]:
            assert abs(c["scaled"][-2] / c["C_odd"] - 1) < tol, c["label"]  # k = 199
        else:
            assert c["zero"][2::2].all()  # two-layer FFNet: odd k >= 3 zero within the error
    out = tmp_path / "s.png"
    code, _, _ = _cli(capsys, ["plot", "spectrum", "--out", str(out), "--kmax", "40", "--quiet"])
    assert code == 0 and out.stat().st_size > 1000
    code, _, err = _cli(capsys, ["plot", "spectrum", "--out", str(out), "--dim", "1"])
    assert code == 2 and "dim" in err


def test_learning_curve_large_ridge_closed_form():
    # eigenlearning (Simon et al. 2021, arXiv:2110.03922) with lam >> n: kappa = (lam + sum_i eta_i L_i)/n and
    # sum_i eta_i L_i <= sum_k N mu_k = 1, so kappa = lam/n + O(1/n): L_k = mu_k/(mu_k + kappa), test error
    # (1 - L_k)^2 E0 with E0 = 1 + O(n / kappa^2 ...); at lam = 1e6, n = 10 the first order is exact to ~1e-6
    from rntk_sym.learning import learning_curve

    lam, n = 1e6, 10
    c = learning_curve("ffnet", 2, 3, [n], target_degree=1, ridge=lam)
    s = spectrum("ffnet", 2, 3, 20)
    kappa = (lam + 1) / n  # to first order: sum eta L ~ sum N mu = 1 when kappa >> mu
    assert abs(c.kappa[0] / kappa - 1) < 1e-6
    L1 = s.mu[1] / (s.mu[1] + kappa)
    assert abs(c.learnability[0] - L1) < 1e-9
    assert abs(c.test_error[0] - (1 - L1) ** 2) < 1e-6


def test_harmonic_target_is_a_unit_norm_harmonic():
    # int f*^2 d sigma = 1 (Monte Carlo, 2e5 points: SE ~ 0.003 for degree 2 on S^2) and f* is orthogonal to
    # the other degrees (mean 0 for degree >= 1)
    from rntk_sym.learning import harmonic_target
    from rntk_sym.regression import sphere_uniform

    X = sphere_uniform(200000, 3, 1)
    f = harmonic_target(X, 2, [0.0, 0.6, 0.8])
    assert abs(np.mean(f * f) - 1) < 0.02 and abs(np.mean(f)) < 0.02


@pytest.mark.slow
def test_learning_curve_matches_kernel_ridge_experiments():
    # the spectral theory (Bordelon, Canatar, Pehlevan 2020, arXiv:2002.02561; Simon et al. 2021,
    # arXiv:2110.03922) against rntk_sym.regression on random points: within 3 standard errors of the 6-draw
    # mean plus 25% (the theory is an average-case approximation: up to ~20% off at d = 3, n = 200 over 24 draws,
    # docs/spectra.md sec. 8)
    from rntk_sym.learning import learning_curve, learning_experiment

    for arch, L, kw, dim, deg, ridge in (("ffnet", 16, {}, 3, 2, 0.1), ("resnet", 16, {"gamma": "0.25"}, 3, 2, 0.1),
                                         ("ffnet", 2, {}, 10, 2, 1e-3)):
        ns = [50, 200]
        th = learning_curve(arch, L, dim, ns, target_degree=deg, ridge=ridge, **kw)
        ex = learning_experiment(arch, L, dim, ns, target_degree=deg, ridge=ridge, seeds=6, n_test=300, **kw)
        for t, m, se in zip(th.test_error, ex["mean"], ex["stderr"]):
            assert abs(t - m) <= 3 * se + 0.25 * t, (arch, L, kw, t, m, se)


@pytest.mark.slow
def test_learning_curve_check_passes_and_fails_on_a_wrong_theory():
    # proofs_check bcp20-learning-curve: passes on the package, fails when the theory's ridge is off by 10x
    from proofs_check import learning_curve as check_module
    from rntk_sym.learning import learning_curve

    assert check_module.check(True).passed

    def wrong(*args, ridge, **kw):
        return learning_curve(*args, ridge=10 * ridge, **kw)

    assert not check_module.check(True, learning_curve=wrong).passed


def test_cli_plot_learning_curves_bad_input(capsys, tmp_path):
    code, out, err = _cli(capsys, ["plot", "learning-curves", "--out", str(tmp_path / "x.png"), "--seeds", "1"])
    assert code == 2 and out == "" and "seeds" in err and len(err.strip().splitlines()) == 1
    code, out, err = _cli(capsys, ["plot", "learning-curves", "--out", str(tmp_path / "x.png"), "--kmax", "10"])
    assert code == 2 and "kmax" in err


def test_digits_route_reports_progress():
    from rntk_sym.spectra import progress_total

    calls = []
    spectrum("ffnet", 2, 3, 6, digits=15, progress=calls.append)
    assert calls == list(range(1, len(calls) + 1)) and len(calls) >= progress_total(3, 6, 15)
