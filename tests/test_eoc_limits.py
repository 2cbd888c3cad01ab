"""Edge-of-chaos limits and rates of the FFNet (docs/asymptotics.md sec. 9; rntk_sym/eoc.py).

Each derived constant is compared against an independent computation: the exact covariance recursion of
rntk_sym.general.kernel (the derivation works on the angle map and the Fatou coordinate instead), and for the
smooth constants mpmath quadrature of phi'' and phi''' (Price's theorem) against the numerical
derivatives of the closed-form dual. Sources: the derivation (sec. 9); Hayou, Doucet, Rousseau 2019
(arXiv 1902.06853) for 1 - rho_L ~ 9 pi^2/(2 L^2) (relu) and beta = 2 E[phi'^2]/(q E[phi''^2]) (smooth)."""
import json
import math

import mpmath
import pytest

import rntk_sym.asymptotics as asy
from proofs_check import eoc_abrelu, eoc_smooth
from rntk_sym.activations import get_activation
from rntk_sym.cli import main
from rntk_sym.eoc import abrelu_slopes, abrelu_step, eoc_expansion, eoc_limit, smooth_constants
from rntk_sym.general import kernel


def _value(ex, L):
    return eoc_abrelu.value(ex, L)


def test_step_of_the_family():
    # relu: w = 1 (the seeds' angle map); leaky 0.1: 0.81/1.01; abs: 2
    from fractions import Fraction as F
    assert abrelu_step(F(0), F(1)) == 1 and abrelu_step(F(1, 10), F(1)) == F(81, 101) and abrelu_step(F(-1), F(1)) == 2


def test_relu_reduces_to_the_seeds_expansion():
    # the ab_relu route at (0, 1) must give the fixed-step FFNet's B1, B2 (docs/asymptotics.md sec. 3-4), computed
    # there with g0 = -1/8 - 1/w; here with g0 = -9/8: equal at w = 1
    a = eoc_expansion("0.3", "ab_relu:0,1", digits=20)
    b = asy.expansion("ffnet", "0.3", digits=20)
    for s, t in zip(a.terms, b.terms):
        assert abs(s.coefficient - t.coefficient) < 1e-18


@pytest.mark.parametrize("act,rho", [("leaky_relu:0.1", "0.5"), ("ab_relu:-0.5,1", "-0.3")])
def test_abrelu_expansion_against_the_exact_recursion(act, rho):
    # 25-digit recursion at L = 1000: the residual after the 4 NTK terms is O(log^2 L/L^3) (measured 6 to 18 times
    # log^2 L/L^3 from L = 1000 to 16000; bound 40); after the 3 GP terms O(log^2 L/L^4) (constant ~1000/w^4)
    L = 1000
    n = kernel("ffnet", rho, L, activation=act, weight_var="eoc", digits=25).value
    g = kernel("ffnet", rho, L, activation=act, weight_var="eoc", digits=25, kernel="gp").value
    ntk, gp = eoc_expansion(rho, act, digits=20), eoc_expansion(rho, act, kernel="gp", digits=20)
    w = float(abrelu_step(*abrelu_slopes(get_activation(act))))
    assert abs(float(n) - _value(ntk, L)) < 40 * math.log(L) ** 2 / L ** 3
    assert abs(float(g) - _value(gp, L)) < 5e3 * math.log(L) ** 2 / (w ** 4 * L ** 4)
    # and without the universal log term the NTK is off by (3/8) log L / L: the test can fail
    assert abs(float(n) - _value(ntk, L) + 0.375 * math.log(L) / L) > 100 * 40 * math.log(L) ** 2 / L ** 3


@pytest.mark.slow
def test_close_slopes_slow_approach():
    # |a| close to b (a = 0.8, b = 1): w = 0.04/1.64, the constants scale like A = 3 pi/w ~ 386; still, at
    # L = 20000 (float64), 1 - rho_L against 9 pi^2/(2 w^2 L^2) with the log and 1/L^3 terms: within 1e-3 relative
    L = 20000
    g = kernel("ffnet", 0.3, L, activation="ab_relu:0.8,1", weight_var="eoc", kernel="gp")
    ex = eoc_expansion("0.3", "ab_relu:0.8,1", kernel="gp", digits=16)
    lead = -float(ex.terms[0].coefficient) / L ** 2
    assert abs((1 - g) / (1 - _value(ex, L)) - 1) < 1e-3 and abs((1 - g) / lead - 1) > 1e-2


def test_smooth_constants_against_price_quadrature():
    # kappa = sigma_w^2 q* E[phi''(sqrt q* z)^2], kappa_3 = sigma_w^2 q*^2 E[phi'''^2] for erf (phi' = 2/sqrt(pi)
    # exp(-x^2)), by mpmath.quad at 30 digits; the code differentiates the closed-form dual in the correlation
    s = smooth_constants("erf", "0.05", 20)
    q, w = s["q_star"][0], s["weight_var"][0]
    with mpmath.workdps(30):
        def gauss(f):
            def g(z):
                return f(mpmath.sqrt(q) * z) ** 2 * mpmath.exp(-z * z / 2)
            return mpmath.quad(g, [-mpmath.inf, 0, mpmath.inf]) / mpmath.sqrt(2 * mpmath.pi)
        d1 = lambda x: 2 / mpmath.sqrt(mpmath.pi) * mpmath.exp(-x * x)  # noqa: E731
        kappa = w * q * gauss(lambda x: -2 * x * d1(x))
        kappa3 = w * q ** 2 * gauss(lambda x: (4 * x * x - 2) * d1(x))
        assert abs(w * gauss(d1) - 1) < 1e-25  # the edge of chaos: chi_1 = 1
    assert abs(kappa - s["kappa"][0]) < 1e-25 and abs(kappa3 - s["kappa_3"][0]) < 1e-25
    assert s["kappa"][1] < 1e-18 and s["C"][1] < 1e-18


def test_smooth_rates_against_the_recursion():
    # Hayou's beta = 2/kappa and the log slope C/3 (proofs_check.eoc_smooth, quick: erf, L = 500, 2000)
    c = eoc_smooth.check(quick=True)
    assert c.status == "pass", c.evidence["failed"]


def test_checks_fail_on_wrong_coefficients():
    # synthetic kernels that follow the derived forms with one coefficient off (no recursion: cheap); each check
    # must fail (they pass on the recursion: above and tests/test_proofs_check_phase.py).
    # ab_relu: 3/8 -> 0.4; smooth: C/3 -> C/3 + 0.1 and 2/kappa -> 1.05 (2/kappa)
    ntk = {a: eoc_expansion(r, a, digits=16) for a, r in eoc_abrelu.CASES[:2]}
    gp = {a: eoc_expansion(r, a, kernel="gp", digits=16) for a, r in eoc_abrelu.CASES[:2]}

    def wrong_abrelu(a, r, L, k):
        return _value(ntk[a], L) + 0.025 * math.log(L) / L if k == "ntk" else _value(gp[a], L)
    c = eoc_abrelu.check(quick=True, evaluate=wrong_abrelu)
    assert c.status == "fail" and all("NTK_L" in f for f in c.evidence["failed"])
    s = smooth_constants("erf", "0.05", 16)
    C, beta = float(s["C"][0]), 2 / float(s["kappa"][0])

    def wrong_smooth(a, b, r, L, k):
        return 1 / 3 + (C / 3 + 0.1) * math.log(L) / L if k == "ntk" else 1 - 1.05 * beta / L
    c = eoc_smooth.check(quick=True, evaluate=wrong_smooth)
    assert any("log-slope" in f for f in c.evidence["failed"]) and any("2/kappa" in f for f in c.evidence["failed"])


def test_limits_api():
    assert eoc_limit("0.5", "leaky_relu:0.1").exact == "1/4"
    assert eoc_limit("0.5", "erf", "0.05").exact == "1/3"
    assert asy.limit("ffnet", "0.5", activation="sin", weight_var="eoc", bias_var="0.1").exact == "1/3"
    assert asy.limit("ffnet", "0.5", activation="abs", weight_var="eoc", kernel="gp").exact == "1"
    lin = asy.limit("ffnet", "0.2", activation="linear", weight_var="eoc", digits=30)
    assert lin.exact == "1/5" and abs(lin.value * 5 - 1) < 1e-30
    with pytest.raises(ValueError, match="^weight_var: .*edge of chaos"):
        asy.expansion("ffnet", "0.5", activation="erf", weight_var="1.5", bias_var="0.05")


def test_cli_rate_json(capsys):
    code = main(["rate", "--arch", "ffnet", "--rho", "0.5", "--activation", "leaky_relu:0.1", "--weight-var", "eoc",
                 "--json"])
    res = json.loads(capsys.readouterr().out)
    assert code == 0 and res["limit"]["exact"] == "1/4" and res["terms"][0]["exact"] == "3/8"
    assert res["terms"][0]["log_power"] == 1
    with pytest.raises(ValueError, match="^weight_var: .*q\\* = 0"):  # erf without bias: kappa = 0 (sec. 9.3)
        smooth_constants("erf", 0, 16)


def test_digits_fall_back_when_balls_lose_accuracy():
    # the ab_relu ball recursion's radius grows exponentially near L ~ 500 (measured: 2e66 at L = 500); digits=D must
    # then fall back to the two mpmath runs, not return the ball's midpoint. Against float64 (1e-12: a few roundings
    # per layer over 600 layers)
    v = kernel("ffnet", "0.5", 600, activation="leaky_relu:0.1", weight_var="eoc", digits=20)
    f = kernel("ffnet", 0.5, 600, activation="leaky_relu:0.1", weight_var="eoc")
    assert abs(float(v.value) - f) < 1e-12 and v.error < 1e-20
