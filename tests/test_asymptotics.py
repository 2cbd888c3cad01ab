"""Asymptotic expansions and skip-ahead (docs/asymptotics.md) against the exact recursion and an
independent ODE solution. Each residual test subtracts the derived terms and checks that what is left
shrinks at the next term's rate (and that it would not if a derived term were wrong)."""
import sys
from fractions import Fraction

import mpmath
import pytest
import seed_formulas as seed

import rntk_sym
from rntk_sym import asymptotics as A


def _exact(arch, rho, L, **kw):
    return rntk_sym.ntk(arch, rho, L, digits=40, method="recursion", **kw).value


def _sum_terms(ex, L):
    ctx = ex.limit.value.context
    L = ctx.mpf(L)
    out = ex.limit.value
    for t in ex.terms:
        out += t.coefficient * L ** (-ctx.mpf(t.power.numerator) / t.power.denominator) * ctx.log(L) ** t.log_power
    return out


@pytest.mark.parametrize("arch,kw", [("ffnet", {}), ("resnet", {"alpha": "0.7"}), ("resnet", {"gamma": 0})])
@pytest.mark.parametrize("rho", ["-1", "0", "0.5", "0.99"])
def test_fixed_step_expansion_residual(arch, kw, rho):
    # docs/asymptotics.md sec. 3-4: Omegabar_L = 1/4 + 3/8 log L/L + B1/L + 9/16 log L/L^2 + B2/L^2
    # + O(log^2 L / L^3): the residual times L^3 / log^2 L stays bounded between L = 500 and 4000.
    ex = A.expansion(arch, rho, digits=25, **kw)
    assert ex.terms[0].exact == "3/8" and ex.terms[2].exact == "9/16"
    scaled = []
    for L in (500, 1000, 2000, 4000):
        res = _exact(arch, rho, L, **kw) - _sum_terms(ex, L)
        scaled.append(abs(res) * L ** 3 / mpmath.log(L) ** 2)
    assert max(scaled[1:]) < 3 * scaled[0] + 1e-6
    # the residual of the expansion without its log L / L term is ~ (3/8) log L / L: far larger
    L = 4000
    wrong = _sum_terms(ex, L) - ex.terms[0].coefficient * mpmath.log(L) / L
    assert abs(_exact(arch, rho, L, **kw) - wrong) > 1e3 * scaled[-1] * mpmath.log(L) ** 2 / L ** 3


@pytest.mark.parametrize("gamma", ["1", "0.75"])
@pytest.mark.parametrize("rho", ["-0.5", "0.5", "0.9"])
def test_small_tau_expansion_residual(gamma, rho):
    # docs/asymptotics.md sec. 5: the double series in tau = L w and w; the residual shrinks like L^cut.
    ex = A.expansion("resnet", rho, gamma=gamma, digits=25)
    cut = float(Fraction(gamma) * -8 + 4)  # (K + 1)(1 - 2 gamma) with K = 3
    res = [abs(_exact("resnet", rho, L, gamma=gamma) - _sum_terms(ex, L)) / mpmath.mpf(L) ** cut
           for L in (200, 800, 3200)]
    assert res[2] < 4 * res[0] + 1e-30 and res[1] < 4 * res[0] + 1e-30


def test_small_tau_leading_coefficient_closed_form():
    # gamma = 1: the 1/L coefficient is a_10 + a_11 (w = 1/L and tau = 1 w ...): compare with
    # L (Omegabar_L - Omegabar_1) from the exact recursion at L = 20000 (next term O(1/L)).
    ex = A.expansion("resnet", "0.3", gamma=1, digits=20)
    c1 = ex.terms[0].coefficient
    L = 20000
    measured = L * (_exact("resnet", "0.3", L) - ex.limit.value)
    assert abs(measured - c1) < 2 * abs(ex.terms[1].coefficient) / L + 1e-12


def _continuum_ode(rho, tau, dps=25):
    """Independent reference: the continuum ODE (docs/asymptotics.md sec. 6) solved by mpmath.odefun
    with the seed's arccos forms: rho' = shat(rho) - rho, S' = -(1 - shatp(rho)) S + (shat + rho shatp)/2."""
    with mpmath.workdps(dps):
        def f(t, y):
            r, S = y
            return [seed.shat(r) - r, -(1 - seed.shatp(r)) * S + (seed.shat(r) + r * seed.shatp(r)) / 2]
        sol = mpmath.odefun(f, 0, [mpmath.mpf(rho), mpmath.mpf(0)])
        return sol(mpmath.mpf(tau))[1] / tau


@pytest.mark.parametrize("rho,beta2", [("0.5", 1), ("-0.5", 1), ("0.3", 4)])
def test_continuum_limit_vs_ode(rho, beta2):
    v, e, _ = A.continuum_kernel(rho, beta2, 20)
    ref = _continuum_ode(rho, beta2)
    assert abs(v - ref) < 1e-18 and e < 1e-18


def test_gamma_half_limit_and_rate():
    # gamma = 1/2: Omegabar_L -> S(1) at rate a1/L; check with the recursion at L = 4000
    lim = A.limit("resnet", "0.5", gamma="0.5", digits=20)
    ex = A.expansion("resnet", "0.5", gamma="0.5", digits=20)
    L = 4000
    v = _exact("resnet", "0.5", L, gamma="0.5")
    a1, a2 = ex.terms[0].coefficient, ex.terms[1].coefficient
    assert abs(L * (v - lim.value) - a1) < 3 * abs(a2) / L
    assert lim.value != A.limit("resnet", "0.5", gamma=1).value  # neither Omegabar_1 ...
    assert abs(lim.value - 0.25) > 0.1  # ... nor the degenerate 1/4


@pytest.mark.parametrize("arch,kw", [("ffnet", {}), ("resnet", {"alpha": "0.7"}), ("resnet", {"alpha": "0.1"}),
                                     ("resnet", {"gamma": 1}), ("resnet", {"gamma": "0.75"}),
                                     ("resnet", {"gamma": "0.5"}), ("resnet", {"gamma": "0.45"}),
                                     ("resnet", {"gamma": "0.25"}), ("resnet", {"gamma": "0.05"})])
def test_skip_ahead_error_covers_true_error(arch, kw):
    # docs/asymptotics.md sec. 3.5 (Fatou route: fixed step beyond its fitted window) and sec. 6.3
    # (segmented orbit: every other case, and small constant alpha whose Fatou fit is too coarse)
    L = 150000 if arch == "ffnet" or "alpha" in kw else 20000
    v, err, method = A.skip_ahead(arch, "0.3", L, digits=25, **kw)
    ref = _exact(arch, "0.3", L, **kw)
    assert abs(v - ref) <= err
    assert err < 1e-25 * abs(ref)  # and the bound reaches the digits asked
    assert method.startswith("asymptotic")
    st = A.setting(arch, **kw)
    if st.regime == "fixed-step":  # the Fatou route alone, where it reaches fewer digits
        v, err, method = A._fixed_step_skip(st, Fraction(3, 10), L, 25)
        assert abs(v - ref) <= err < (1e-10 if kw == {"alpha": "0.1"} else 1e-15)


@pytest.mark.parametrize("rho", ["-1", "-0.9999", "0", "0.999999"])
def test_segmented_orbit_near_the_ends(rho):
    # sec. 6.3: leaving theta = pi (square-root singularity of shat) and near theta = 0, gamma = 1/4
    L = 20000
    v, err, _ = A.skip_ahead("resnet", rho, L, gamma="0.25", digits=25)
    assert abs(v - _exact("resnet", rho, L, gamma="0.25")) <= err < 1e-25


@pytest.mark.parametrize("arch,kw", [("ffnet", {}), ("resnet", {"gamma": "0.25"}), ("resnet", {"alpha": "0.1"})])
def test_gp_skip_ahead(arch, kw):
    # sec. 6.3: the same segmented orbit gives the normalized GP kernel rho_L = (v_L - u_L)/2
    L = 20000
    kv = rntk_sym.gp(arch, "0.3", L, digits=25, method="asymptotic", **kw)
    ref = rntk_sym.gp(arch, "0.3", L, digits=40, method="recursion", **kw).value
    assert kv.method == "asymptotic" and abs(kv.value - ref) <= kv.error < 1e-25


def test_skip_ahead_without_python_flint(monkeypatch):
    # the steps run in arb balls when python-flint is installed and in mpmath when not: both paths
    # give the same value within their errors, and both cover the exact recursion (sec. 6.3)
    L = 20000
    ref = _exact("resnet", "0.3", L, gamma="0.25")
    with_flint = A.skip_ahead("resnet", "0.3", L, gamma="0.25", digits=25)
    monkeypatch.setitem(sys.modules, "flint", None)  # import flint now raises ImportError
    without = A.skip_ahead("resnet", "0.3", L, gamma="0.25", digits=25)
    for v, err, _ in (with_flint, without):
        assert abs(v - ref) <= err < 1e-25
    fixed = A.skip_ahead("ffnet", "0.3", 150000, digits=20)  # the Fatou route's exact steps, in mpmath
    assert abs(fixed[0] - _exact("ffnet", "0.3", 150000)) <= fixed[1] < 1e-20


def test_skip_ahead_reports_progress():
    # the segmented skip-ahead advances the caller's progress budget (2 L) segment by segment
    seen = []
    L = 10 ** 6
    rntk_sym.ntk("resnet", "0.3", L, gamma="0.25", digits=20, method="asymptotic", progress=seen.append)
    assert len(seen) >= 8 and seen == sorted(seen) and seen[-1] == 2 * L


@pytest.mark.parametrize("arch,kw", [("ffnet", {}), ("resnet", {"gamma": 0})])
def test_two_skip_aheads_agree_at_1e15(arch, kw):
    # two independent descriptions of the same orbit at L = 10^15: the Fatou coordinate with the
    # fitted resonant terms (sec. 3.5) and the segmented extrapolation of the recursion (sec. 6.3)
    L = 10 ** 15
    st = A.setting(arch, **kw)
    fatou, e1, form = A._fixed_step_skip(st, Fraction(3, 10), L, 25)
    seg, e2, form2, _, _ = A._segmented_skip(st, Fraction(3, 10), L, 25)
    assert "Fatou" in form and "segmented" in form2
    assert abs(fatou - seg) <= e1 + e2 < 1e-27
    assert abs(seg - mpmath.mpf(1) / 4) > 1e-14  # the check is not trivial: both see the 1/L terms


def test_kernel_auto_uses_asymptotic_when_deep():
    kv = rntk_sym.ntk("resnet", "0.3", 10 ** 12, gamma=1, digits=25)
    assert kv.method == "asymptotic" and kv.error < 1e-25
    ex = A.expansion("resnet", "0.3", gamma=1, digits=25)
    assert abs(kv.value - _sum_terms(ex, 10 ** 12)) < 1e-30  # two independent descriptions agree
    kv = rntk_sym.ntk("ffnet", "0.3", 10 ** 12, digits=25)
    ex = A.expansion("ffnet", "0.3", digits=25)
    assert abs(kv.value - _sum_terms(ex, 10 ** 12)) < 1e-30


def test_limits_by_regime():
    r = "0.5"
    assert A.limit("ffnet", r).value == mpmath.mpf(1) / 4
    assert A.limit("resnet", r, alpha="0.7").regime == "fixed-step"
    assert A.limit("resnet", r, gamma="0.25").value == mpmath.mpf(1) / 4
    with mpmath.workdps(30):
        q = (seed.shat(mpmath.mpf(r)) + mpmath.mpf(r) * seed.shatp(mpmath.mpf(r))) / 2
    assert abs(A.limit("resnet", r, gamma="0.75").value - q) < 1e-28
    for kw in ({}, {"arch": "resnet", "gamma": "0.5"}, {"arch": "resnet", "beta": 2}):
        assert A.limit(kw.pop("arch", "ffnet"), 1, **kw).value == 1


@pytest.mark.parametrize("call,name", [
    (lambda: A.limit("ffnet", "0.5", beta=1), "beta"),
    (lambda: A.limit("resnet", "0.5", beta=1, gamma=1), "beta"),
    (lambda: A.limit("resnet", "0.5", beta=0), "beta"),
    (lambda: A.limit("resnet", "1.5"), "rho"),
    (lambda: rntk_sym.ntk("ffnet", 0.5, 10, method="asymptotic"), "method"),
    (lambda: rntk_sym.gp("ffnet", "0.5", 10 ** 6, digits=20, method="asymptotic", certified=True), "certified"),
    (lambda: rntk_sym.ntk("resnet", "0.5", 1000, gamma="0.25", digits=20, method="asymptotic"), "method"),
    (lambda: rntk_sym.ntk("ffnet", 0.5, 10, method="magic"), "method"),
])
def test_bad_input(call, name):
    with pytest.raises(ValueError, match=f"^{name}"):
        call()


@pytest.mark.parametrize("rho", ["-0.9", "0.5"])
def test_theta_ode_vs_recursion_continuum(rho):
    # sec. 7.1's ODE in theta (odefun) against the continuum limit of the exact recursion (sec. 6.2):
    # two independent routes to S(t)/t at the time t where theta = 1/8.
    ctx, th0, sol = A.continuum_theta_ode(rho, 25)
    t, S = sol(th0 - ctx.mpf(1) / 8)
    v, e, _ = A.continuum_kernel(rho, t, 12)
    assert abs(S / t - v) < 1e-10 + 2 * e


def test_large_tau_coefficient():
    s0, e, _ = A.large_tau_coefficient("0.5", 12)
    assert e < 1e-10
    # S(tau)/tau - 1/4 - s0/tau is o(1/tau): at tau = 128 it is < 0.3/tau, while s0/tau is 1.9/tau
    v, _, _ = A.continuum_kernel("0.5", 128, 10)
    assert abs(128 * (v - mpmath.mpf(1) / 4) - s0) < 0.3


def test_rho_minus_one_rate():
    # docs/asymptotics.md sec. 5.1: Omegabar_L(-1) = -(sqrt 2/(3 pi)) sqrt(tau) + O(tau), tau = L w:
    # for alpha = 1/L the rate at rho = -1 is L^(-1/2), not the O(1/L) of seed 002 Thm 7.
    c = -mpmath.sqrt(2) / (3 * mpmath.pi)
    prev = None
    for L in (10 ** 3, 10 ** 4, 10 ** 5):
        scaled = rntk_sym.ntk("resnet", -1.0, L) * L ** 0.5
        assert abs(scaled - c) < 3 / L ** 0.5  # the O(tau) = O(1/L) correction, times sqrt(L)
        if prev is not None:
            assert abs(scaled - c) < abs(prev - c)
        prev = scaled


@pytest.mark.parametrize("gamma", [0.25, 0.4])
def test_large_tau_follows_continuum(gamma):
    # sec. 2 and 7: Omegabar_L = F_0(tau_L) + O(w), tau_L = L w, w = L^-2gamma/(1 + L^-2gamma)
    for L in (300, 3000):
        w = L ** (-2 * gamma) / (1 + L ** (-2 * gamma))
        F, e, _ = A.continuum_kernel("0.5", mpmath.mpf(L) * w, 12)
        assert abs(rntk_sym.ntk("resnet", 0.5, L, gamma=gamma) - F) < 0.1 * w


@pytest.mark.parametrize("gamma", ["0.1", "0.15"])
def test_large_tau_log_term(gamma):
    # docs/asymptotics.md sec. 7.3: for gamma < 1/4, Omegabar_L - 1/4 = s0 L^-(1-2gamma)
    # + (3/8)(1 - 2 gamma) log L / L + O(1/L). Checked on the skip-ahead (sec. 6.3) at L = 10^9..10^15:
    # L * residual settles to a constant with the log term, and drifts by (3/8)(1-2gamma) log 10 per
    # decade without it. (The next terms, L^-2(1-2gamma) log L, fall off slowly as gamma -> 1/4.)
    ex = A.expansion("resnet", "0.5", gamma=gamma, digits=14)
    lead, log_term = ex.terms
    assert log_term.exact == str(Fraction(3, 8) * (1 - 2 * Fraction(gamma)))
    assert (log_term.power, log_term.log_power) == (1, 1)
    leading_only = A.Expansion(ex.limit, [lead], "", "")
    with_log, without = [], []
    for L in (10 ** 9, 10 ** 12, 10 ** 15):
        v, err, _ = A.skip_ahead("resnet", "0.5", L, gamma=gamma, digits=25)
        without.append(L * (v - _sum_terms(leading_only, L)))
        with_log.append(L * (v - _sum_terms(ex, L)))
    drift = log_term.coefficient * mpmath.log(1000)
    assert abs(with_log[2] - with_log[1]) < 0.02 * drift < abs(with_log[1] - with_log[0]) + 0.02 * drift
    assert abs((without[2] - without[1]) - drift) < 0.02 * drift


def test_large_tau_coefficients_two_routes():
    # sec. 7.4: s0 from the continuum S(tau) fitted in 1/tau (segmented orbit, w = 0) against s0 from the
    # angle ODE extrapolated to theta = 0 (sec. 7.1): two independent computations
    (s0, e0), (s1, e1), (s2, e2) = A.large_tau_coefficients("0.5", 12)
    s0_angle, ea, _ = A.large_tau_coefficient("0.5", 14)
    assert abs(s0 - s0_angle) <= e0 + ea < 1e-12
    assert e1 < 1e-9 and e2 < 1e-2


def test_large_tau_higher_terms():
    # sec. 7.4: for gamma = 0.4 (tau ~ L^(1/5)) Omegabar_L = 1/4 + s0 L^-1/5 + s1 L^-2/5 + s2 L^-3/5 + ...
    # with s_k from the continuum; checked on the skip-ahead of the discrete recursion (sec. 6.3): after
    # subtracting k terms, L^((k+1)/5) * residual approaches s_k, and more closely at the deeper L
    ex = A.expansion("resnet", "0.5", gamma="0.4", digits=20)
    assert [t.power for t in ex.terms] == [Fraction(1, 5), Fraction(2, 5), Fraction(3, 5)]
    gaps = []
    for L in (10 ** 12, 10 ** 15):
        v, _, _ = A.skip_ahead("resnet", "0.5", L, gamma="0.4", digits=25)
        res, row = v - ex.limit.value, []
        for k, t in enumerate(ex.terms):
            scale = mpmath.mpf(L) ** (mpmath.mpf(k + 1) / 5)
            row.append(abs(res * scale - t.coefficient) / abs(t.coefficient))
            res -= t.coefficient / scale
        gaps.append(row)
    assert all(b < a for a, b in zip(*gaps)) and max(gaps[1]) < 0.02


def test_degeneration_time_is_halfway():
    t = A.degeneration_time("0.5", digits=4)
    F, _, _ = A.continuum_kernel("0.5", t, 10)
    q = A.limit("resnet", "0.5", gamma=1).value
    assert abs((F - 0.25) / (q - 0.25) - 0.5) < 1e-3


@pytest.mark.parametrize("gamma", ["1", "0.75"])
def test_rho_minus_one_expansion(gamma):
    ex = A.expansion("resnet", "-1", gamma=gamma, digits=20)
    (t,) = ex.terms
    L = 20000
    v = rntk_sym.ntk("resnet", -1.0, L, gamma=float(gamma))
    pred = t.coefficient * mpmath.mpf(L) ** (-mpmath.mpf(t.power.numerator) / t.power.denominator)
    assert abs(v - pred) < 0.05 * abs(pred)


def test_continuum_kernel_near_minus_one_two_routes():
    # rho = -1: the angle ODE (analytic at theta = pi) against the segmented continuum limit of the
    # recursion (sec. 6.3), which converges slowly there (square-root singularity of shat at rho = -1)
    v, e, form = A.continuum_kernel("-1", 1, 30)
    assert "angle" in form and e < 1e-30
    ctx, (_, _, S), rel, _ = A.segmented_orbit(Fraction(-1), 1, 0, tau=1, digits=12)
    assert abs(v - S) <= rel * abs(S) < 1e-9


def test_leading_rate_forms_match_expansions():
    # the words of leading_rate agree with the leading term of expansion() in each regime
    for kw, form in [({"arch": "ffnet"}, "L^-1 log L"), ({"arch": "resnet", "gamma": "0.75"}, "L^-(1/2)"),
                     ({"arch": "resnet", "gamma": "0.5"}, "L^-1"), ({"arch": "resnet", "gamma": "0.25"}, "L^-(1/2)")]:
        arch = kw.pop("arch")
        assert A.leading_rate(arch, "0.5", **kw) == form
    t = A.expansion("resnet", "0.5", gamma="0.75", digits=10).terms[0]
    assert (t.power, t.log_power) == (Fraction(1, 2), 0)
    t = A.expansion("ffnet", "0.5", digits=10).terms[0]
    assert (t.power, t.log_power) == (1, 1)
    assert A.leading_rate("resnet", "-1", gamma=1) == "L^-(1/2)"  # sec. 5.1


# Issue 18: depths up to 10^100 (the skip-ahead's reach) and rho within 1e-29 of +-1. ---------------

def test_skip_ahead_at_1e100_small_tau_equals_closed_form_limit():
    # gamma = 1 at L = 10^100: tau = L w = 10^-100, so Omegabar_L = Omegabar_1(rho) + O(tau) (sec. 5);
    # the segmented orbit against the closed form Omegabar_1 = (shat + rho shatp)/2 (seed 002 Theorem 7)
    v, err, form = A.skip_ahead("resnet", "0.3", 10**100, digits=30)
    with mpmath.workdps(60):
        r = mpmath.mpf("0.3")
        ref = (seed.shat(r) + r * seed.shatp(r)) / 2
        assert "segmented" in form and abs(v - ref) <= err + mpmath.mpf(10) ** -45 and err < 1e-31


def test_skip_ahead_at_1e100_fixed_step_equals_expansion():
    # FFNet at L = 10^100 to 110 digits: the Fatou route (sec. 3.5: Newton on Phi(theta_L) = L + K, the
    # numeric series G) against the derived expansion 1/4 + 3/8 log L/L + B1/L + ... (sec. 3.4, closed forms
    # A = 3 pi, C = 3/2, g0), whose remainder O(log^2 L / L^3) is ~1e-296 there. Both use the orbit
    # constant K (each with its own error bound now); compared at the value's rounding, ~1e-128 at 130 digits
    # (1e-98 * 1e-30: the expansion's terms to 30 digits).
    L = 10**100
    v, err, form = A.skip_ahead("ffnet", "0.3", L, digits=110)
    ex = A.expansion("ffnet", "0.3", digits=110)
    with mpmath.workdps(200):  # the sum at 200 digits: the terms are ~1e-98, compared at ~1e-130
        lg = mpmath.log(L)
        ref = mpmath.mpf(1) / 4 + sum(mpmath.mpf(t.coefficient) * mpmath.mpf(L) ** -int(t.power) * lg ** t.log_power
                                      for t in ex.terms)
        assert "Fatou" in form and abs(v - ref) <= err + sum(t.error for t in ex.terms) / L
        assert abs(v - mpmath.mpf(1) / 4) > 1e-99  # the value is resolved beyond its limit 1/4 (8.7e-99)


@pytest.mark.slow
@pytest.mark.parametrize("gamma,rho", [("0.4", "0.3"), ("0.5", "-0.95")])
def test_skip_ahead_at_1e100_continuum_regimes(gamma, rho):
    # gamma = 0.4: tau = L^0.2 = 10^20 and Omegabar_L = 1/4 + s0/tau + O(tau^-2) (sec. 7.4), s0 from the
    # angle ODE (mpmath.odefun, an independent route); gamma = 1/2: Omegabar_L = F0 + O(1/L) (sec. 6), F0 at
    # rho = -0.95 from the angle ODE too. The skip-ahead is the segmented orbit of the recursion (sec. 6.3).
    v, err, _ = A.skip_ahead("resnet", rho, 10**100, gamma=gamma, digits=25)
    with mpmath.workdps(40):  # 1/4 + s0 / 10^20 to 1e-38
        if gamma == "0.4":
            s0, s0_err, _ = A.large_tau_coefficient(rho, digits=14)
            ref, ref_err = mpmath.mpf(1) / 4 + s0 / 10**20, s0_err / 10**20 + mpmath.mpf(10) ** -38
        else:
            lim = A.limit("resnet", rho, gamma=gamma, digits=25)
            ref, ref_err = lim.value, lim.error
        assert abs(v - ref) <= err + ref_err and err < 1e-25


def test_depth_beyond_the_skip_ahead_is_refused():
    with pytest.raises(ValueError, match=r"^depth: .*10\^100"):
        A.skip_ahead("resnet", "0.3", 10**100 + 1)
    with pytest.raises(ValueError, match=r"^depth: .*10\^100"):
        rntk_sym.ntk("resnet", 0.3, "1" + "0" * 1000)


@pytest.mark.parametrize("rho,digits", [(1 - Fraction(1, 10**29), 30), (1 - Fraction(1, 10**12), 33)])
def test_skip_ahead_rho_near_one_at_1e12(rho, digits):
    # rho = 1 - 1e-29 (issue 18: the Fatou fit was singular, a ZeroDivisionError) and 1 - 1e-12 (its error
    # estimate was 170 times too small, a wrong 33rd digit): theta_0 = sqrt(2 (1 - rho)) hardly moves over
    # the fitted depths, so the Fatou route declines and the segmented orbit answers. Reference: the
    # segmented orbit at 50 digits (a second precision; the route itself is checked against the certified
    # recursion below). Before the exact 1 - rho, the 30-digit run was off by 5e-30 at rho = 1 - 1e-29.
    st = A.setting("ffnet")
    assert A._fixed_step_skip(st, rho, 10**12, digits) is None
    v, err, form = A.skip_ahead("ffnet", rho, 10**12, digits=digits)
    ref, ref_err = A._segmented_skip(st, rho, 10**12, 50)[:2]
    assert "segmented" in form and abs(v - ref) <= err + ref_err and err < 10.0 ** -(digits + 1)


@pytest.mark.parametrize("sign", [1, -1])
def test_skip_ahead_rho_within_1e29_of_the_ends_vs_certified_recursion(sign):
    # rho = +-(1 - 1e-29) at L = 2 10^5 (> 4 FIXED_STEP_CHECK: the Fatou route is tried first): the skip-ahead
    # against the exact recursion in ball arithmetic (a guaranteed enclosure). Before the fix, 1 - rho of
    # the rounded rho kept ~21 digits and the segmented orbit was off by 5e-30 at 30 digits.
    r = sign * (1 - Fraction(1, 10**29))
    v, err, _ = A.skip_ahead("ffnet", r, 2 * 10**5, digits=30)
    ref = rntk_sym.ntk("ffnet", r, 2 * 10**5, digits=30, method="recursion", certified=True)
    assert abs(v - ref.value) <= err + ref.error and err < 1e-31


@pytest.mark.parametrize("rho", [-1 + Fraction(1, 10**29), 1 - Fraction(1, 10**6)])
def test_two_skip_aheads_agree_near_the_ends_at_1e12(rho):
    # both routes (Fatou sec. 3.5, segmented orbit sec. 6.3) apply; they share only the recursion's step.
    # 1 - 1e-6 is about the nearest to 1 where the Fatou route still answers (FIXED_STEP_SPAN)
    st = A.setting("ffnet")
    fatou, e1, _ = A._fixed_step_skip(st, rho, 10**12, 30)
    seg, e2 = A._segmented_skip(st, rho, 10**12, 30)[:2]
    assert abs(fatou - seg) <= e1 + e2 and max(e1, e2) < 1e-31


def test_limit_rho_within_1e29_of_one():
    # the closed form Omegabar_1 = (shat + rho shatp)/2 cancels in sqrt(1 - rho^2) near rho = 1: at 30 digits
    # it was wrong by 4e-30 (error claimed 1e-35). Reference: the seed's formulas at 90 digits.
    rho = "0.99999999999999999999999999999"
    lim = A.limit("resnet", rho, digits=30)
    with mpmath.workdps(90):
        r = mpmath.mpf(rho)
        ref = (seed.shat(r) + r * seed.shatp(r)) / 2
        assert abs(lim.value - ref) <= lim.error + mpmath.mpf(10) ** -40
def test_continuum_kernels_one_orbit_vs_one_solve_per_rho():
    # continuum_kernels shifts ONE orbit of the autonomous continuum ODE (sec. 6.1) to every start and
    # writes S through the linear S equation's integrating factor; against continuum_kernel, one solve
    # per rho: the segmented continuum limit of the recursion (rho >= -0.9, sec. 6.2, independent of
    # the angle ODE) and the angle ODE started at theta_0 (rho < -0.9; ~5 s each, so rho = -1, tau = 1 only).
    # 12 digits asked: 1e-10 leaves two digits for the reference's own error (reported, included).
    for tau, rhos in ((1, ["-1", "-0.5", "0", "0.5", "0.999", "1"]), ("0.3", ["-0.5", "0.5", "0.9"]),
                      (4, ["-0.5", "0", "0.9"])):
        got = A.continuum_kernels(rhos, tau, 12)
        for r, g in zip(rhos, got):
            ref, err, _ = A.continuum_kernel(r, tau, 12) if r != "1" else (1, 0, "diagonal")
            assert abs(g - ref) <= 1e-10 + err, (r, tau)
    # a start whose orbit runs below MIN_ORBIT_ANGLE is computed on its own, by the same reference
    (g,) = A.continuum_kernels(["0.999999999"], 1, 10)
    assert abs(g - A.continuum_kernel("0.999999999", 1, 10)[0]) < 1e-10


def test_continuum_kernel_near_minus_one_at_long_times():
    # rho < -0.9 at tau = 9 (rntk limit --rho -1 --beta 3 used to hang in the secant search for
    # t(theta) = tau): the angle ODE against the segmented continuum limit of the recursion (sec. 6.3)
    v, e, form = A.continuum_kernel("-0.95", 9, 8)
    assert "angle" in form
    ctx, (_, _, S), rel, _ = A.segmented_orbit(Fraction(-19, 20), 1, 0, tau=9, digits=10)
    assert abs(v - S / 9) <= 1e-8 + e + rel * abs(S / 9)
