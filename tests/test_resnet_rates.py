"""Depth rates of the ResNet with any activation (rntk_sym.resnet_rates, `rntk rate --arch resnet`; derivation:
docs/asymptotics.md sec. 10.1-10.5). Each rate is compared with an independent computation: the exact recursion
(rntk_sym.general.kernel in arb balls) at depths the rate was not computed from, the seeds' relu code
(rntk_sym.asymptotics: SymPy closed forms, its own recursion and extrapolation), or the seeds' kernel through the
exact map alpha^2 -> alpha^2 sigma_w^2/2 of relu without bias (sec. 10.3)."""
from __future__ import annotations

import json
from fractions import Fraction

import mpmath
import pytest

from rntk_sym import asymptotics, general
from rntk_sym import resnet_rates as RR
from rntk_sym.cli import main

ERF = dict(activation="erf", weight_var="1.5", bias_var="0.1")
GELU = dict(activation="gelu", weight_var="1", bias_var="0.2")


@pytest.mark.parametrize("net,kernel", [(ERF, "ntk"), (GELU, "gp")])
def test_small_tau_slope_against_richardson(net, kernel):
    # gamma = 3/4 (sec. 10.1, 10.5): NTK_L = N_1 + a (tau - alpha^2) + c tau^2 + ... (T_1 = alpha^2 f_0 starts the
    # sum), GP_L = rho + b tau + c tau^2 + ..., tau = L^-1/2, alpha^2 = L^-3/2. From the recursion,
    # g(L) = (value_L - limit)/(tau - alpha^2) (GP: /tau) = a + c tau + ...; Richardson with tau halving (L x 4)
    # removes c: 2 g(4L) - g(L) = a + O(tau^2). Measured 2e-6 (erf) and 9e-7 (GELU) off at L = 1024, 4096; we allow
    # 1e-5 (|a| ~ 0.05-0.08; a slope missing the df/dt term, or the alpha^2 shift, is off by more than 1e-5)
    ex = RR.expansion("0.5", gamma="0.75", digits=15, kernel=kernel, **net)
    (t,) = ex.terms
    assert t.power == Fraction(1, 2) and t.log_power == 0
    g = []
    for L in (1024, 4096):
        v = general.kernel("resnet", "0.5", L, gamma="0.75", kernel=kernel, digits=20, **net)
        tau, a2 = mpmath.mpf(L) ** -0.5, mpmath.mpf(L) ** -1.5
        g.append((v.value - ex.limit.value) / (tau - (a2 if kernel == "ntk" else 0)))
    assert abs(2 * g[1] - g[0] - t.coefficient) < 1e-5
    assert abs(g[1] - t.coefficient) > 2e-5  # the tau^2 term is really there: without Richardson it is farther


def test_small_tau_relu_matches_the_seeds_closed_form():
    # relu, sigma_w^2 = 2, no bias: the slope a (mpmath.diff of the continuum system, sec. 10.1) equals the seeds'
    # SymPy closed form a_10 (sec. 5), to the error of the two-precision diff (< 1e-20 at 25 digits)
    mine = RR.expansion("0.3", gamma="0.75", digits=25, activation="relu", weight_var=2).terms[0]
    seed = asymptotics.expansion("resnet", "0.3", gamma="0.75", digits=25).terms[0]
    assert seed.power == mine.power
    assert abs(mine.coefficient - seed.coefficient) < 1e-20


def test_continuum_relu_matches_the_seeds_extrapolation():
    # gamma = 1/2 (sec. 6.2, 10.2): a_1, a_2 fitted to general.kernel's arb recursion at L = n^2 against the seeds'
    # own mpmath recursion extrapolated at L = 32 2^k (_continuum_rate): independent recursions and depth grids;
    # they must agree within the sum of the two error estimates
    mine = RR.expansion("0.5", gamma="0.5", digits=20, activation="relu", weight_var=2).terms
    seed = asymptotics.expansion("resnet", "0.5", gamma="0.5", digits=20).terms
    for a, b in zip(mine, seed, strict=True):
        assert a.power == b.power
        assert abs(a.coefficient - b.coefficient) <= a.error + b.error
        assert a.error < 1e-12  # the check is not vacuous: a_1 to ~20 digits, a_2 to ~14 (7 fit levels)


@pytest.mark.parametrize("kernel", ["ntk", "gp"])
def test_continuum_erf_predicts_the_recursion(kernel):
    # gamma = 1/2, erf (sec. 10.2): F_0 + a_1/L + a_2/L^2 at L = 3000 (not a fit depth; those are squares) against
    # the exact recursion. The remainder is a_3/L^3 with |a_3| < 0.1 (the fit's next coefficient), i.e. < 4e-12;
    # a_2/L^2 itself is 2.6e-9 (NTK), so 1e-10 tests a_2 and, much more finely, a_1
    ex = RR.expansion("0.5", gamma="0.5", digits=12, kernel=kernel, **ERF)
    for L in (3000,):
        v = general.kernel("resnet", "0.5", L, gamma="0.5", kernel=kernel, digits=20, **ERF)
        pred = ex.limit.value + sum(t.coefficient / mpmath.mpf(L) ** t.power for t in ex.terms)
        assert abs(v.value - pred) < 1e-10


@pytest.mark.parametrize("bias_var", ["0", "0.3"])
def test_constant_alpha_gp_constant(bias_var):
    # constant alpha = 1, relu, sigma_w^2 = 1 (sec. 10.5): 1 - GP_L ~ (9 pi^2/2)/(w L)^2, w = a^2/(1 + a^2),
    # a^2 = alpha^2 sigma_w^2/2 = 1/2, so w = 1/3; with a bias the variances' growth makes it negligible (the same
    # constant). The ratio r(L) = (1 - GP_L)/term tends to 1 with corrections ~ 3 log(L)/(w L) (the orbit's next
    # term, sec. 9.1): at L = 4000, |r - 1| < 4 log(L)/(w L) = 0.025 (measured 0.018 without bias)
    ex = RR.expansion("0.5", alpha="1", weight_var="1", bias_var=bias_var, kernel="gp", digits=15)
    (t,) = ex.terms
    assert t.power == 2 and t.exact == "-81*pi**2/2"
    L = 4000
    v = general.kernel("resnet", "0.5", L, alpha="1", weight_var="1", bias_var=bias_var, kernel="gp", digits=20)
    r = (v.value - 1) * L ** 2 / t.coefficient
    assert abs(r - 1) < 4 * mpmath.log(L) * 3 / L


def test_large_tau_gp_constant():
    # gamma = 1/4, relu, sigma_w^2 = 1, bias 0.3 (sec. 10.3, 10.5): 1 - GP_L ~ 18 pi^2/(sigma_w^4 tau^2),
    # tau = L^(1/2), reached as 1/(1 + tau_0/tau)^2 (the transient's time shift). Fitting r^(-1/2) = A + B/tau at
    # L = 4096, 16384 gives A = 1 + O(1/tau) + O(alpha^2) (measured 1.2e-2 off); 0.05 rejects a constant off by 10%
    ex = RR.expansion("0.5", gamma="0.25", weight_var="1", bias_var="0.3", kernel="gp", digits=15)
    (t,) = ex.terms
    assert t.power == 1 and t.exact == "-18*pi**2"
    pts = []
    for L in (4096, 16384):
        v = general.kernel("resnet", "0.5", L, gamma="0.25", weight_var="1", bias_var="0.3", kernel="gp", digits=20)
        pts.append((1 / mpmath.sqrt(L), ((v.value - 1) * L / t.coefficient) ** -0.5))
    (x0, y0), (x1, y1) = pts
    A = y1 - x1 * (y1 - y0) / (x1 - x0)
    assert abs(A - 1) < 0.05


def test_relu_without_bias_is_the_seeds_network():
    # the map behind the relu rates (sec. 10.3): relu with sigma_w^2 and alpha is exactly the seeds' network with
    # alpha^2 sigma_w^2/2: sigma_w^2 = 1/2, alpha = 1/2 against the seeds' alpha = 1/4, both at 30 digits
    for kernel in ("ntk", "gp"):
        a = general.kernel("resnet", "0.5", 40, alpha="0.5", weight_var="0.5", kernel=kernel, digits=30)
        b = general.kernel("resnet", "0.5", 40, alpha="0.25", kernel=kernel, digits=30)
        assert abs(a.value - b.value) < 1e-28


def test_fixed_step_relu_without_bias_expansion():
    # constant alpha (sec. 3, 10.3): relu, sigma_w^2 = 1, alpha = 1 is the seeds' fixed step with w = 1/3; the
    # expansion 1/4 + 3/8 log L/L + B1/L + 9/16 log L/L^2 + B2/L^2 leaves O(log(L)^2/L^3) of the exact recursion.
    # Its ratio between L = 1000 and 2000 is 1/8 (log 2000/log 1000)^2 = 0.137 for log^2/L^3, 0.131 for log/L^3
    # (measured 0.130); a B1 off would give 0.5, B2 off by 1% (2e-6 at L = 1000, twice the remainder) about 0.2
    ex = RR.expansion("0.5", alpha="1", weight_var="1", digits=15)
    assert [t.exact for t in ex.terms] == ["3/8", None, "9/16", None]
    res = []
    for L in (1000, 2000):
        v = general.kernel("resnet", "0.5", L, alpha="1", weight_var="1", digits=20)
        res.append(v.value - ex.limit.value - sum(t.coefficient * mpmath.log(L) ** t.log_power
                                                  / mpmath.mpf(L) ** t.power for t in ex.terms))
    assert 0.11 < res[1] / res[0] < 0.15


@pytest.mark.parametrize("kw,name", [
    (dict(gamma="0.25", activation="erf"), "gamma"),  # stretched exponential (sec. 10.3)
    (dict(alpha="1", activation="erf", kernel="gp"), "alpha"),  # C tau^-(1 - 2/pi), C not derived
    (dict(gamma="0.25", **GELU), "activation"),  # s of GELU's flow not computed
    (dict(gamma="0.75", activation="relu", rho="-1"), "rho"),  # non-uniform at rho = -1 (sec. 5.1)
    (dict(gamma="0.75", activation="leaky_relu:0.1", rho="-1", kernel="gp"), "rho"),
])
def test_refusals_name_the_argument(kw, name):
    rho = kw.pop("rho", "0.5")
    with pytest.raises(ValueError, match=f"^{name}:"):
        RR.expansion(rho, digits=10, **kw)


def test_odd_activation_antipodal_is_exact():
    # phi odd, no bias, rho = -1: K12 = -K11 and T12 = -T11 at every depth: no correction terms
    ex = RR.expansion("-1", gamma="0.75", activation="erf", digits=10)
    assert ex.terms == [] and ex.limit.value == -1


def test_cli_rate_resnet_json(capsys):
    # the example: `rntk rate --arch resnet --activation erf --gamma 0.5 --rho 0.5` has the JSON of the
    # seeds' relu ResNet (same keys, same term keys) plus the network options
    assert main(["rate", "--arch", "resnet", "--gamma", "0.75", "--rho", "0.5", "--json", "--digits", "10"]) == 0
    seed = json.loads(capsys.readouterr().out)
    assert main(["rate", "--arch", "resnet", "--activation", "erf", "--gamma", "0.75", "--rho", "0.5", "--json",
                 "--digits", "10", "--kernel", "gp"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert set(seed) <= set(res) and set(res) - set(seed) == {"activation", "kernel"}
    assert set(seed["terms"][0]) == set(res["terms"][0])
    assert res["terms"][0]["power_exact"] == "1/2"
    assert main(["rate", "--arch", "resnet", "--activation", "erf", "--gamma", "0.25", "--rho", "0.5"]) == 2
    assert "gamma:" in capsys.readouterr().err
