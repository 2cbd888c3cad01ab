"""The ResNet skip-ahead for any activation (rntk_sym.skip_resnet; method: docs/asymptotics.md sec. 10.6).

Independent references: the exact recursion (general.kernel, method="recursion", arb balls at 30+ digits) at
depths of a few thousand, where the skip-ahead is made to extrapolate (a short exact prefix); and at large depths
the derived limits and rates of rntk_sym.resnet_general (docs/asymptotics.md sec. 10.1-10.3: the one-layer kernel
and its slope, the continuum system solved by mpmath.odefun, the relu-like degenerate rate of the GP kernel).
"""
import json
from fractions import Fraction

import mpmath
import pytest

from rntk_sym import general, resnet_general, skip_resnet
from rntk_sym.cli import main

HALF = Fraction(1, 2)


def _model(act, bias_var=None, weight_var=None, **scale):
    return general.resolve("resnet", act, weight_var, bias_var, scale.get("gamma"), scale.get("alpha"))


def _check_against_recursion(m, L, exact, digits=15, **net):
    res = skip_resnet.skip(m, HALF, L, digits, exact=exact)
    for kernel, value, error in (("ntk", res.ntk, res.ntk_error), ("gp", res.gp, res.gp_error)):
        ref = general.kernel("resnet", "0.5", L, kernel=kernel, digits=30, method="recursion", **net)
        assert ref.error < 1e-28 * abs(ref.value)  # the reference is exact to far below the skip-ahead's error
        true = abs(value - ref.value)
        # the reported bound covers the true error, and reaches the D digits asked (it is 10^-(D+4) per
        # segment; at most 10^-D relative in total)
        assert true <= error, (kernel, true, error)
        assert error < 10 ** -digits * abs(ref.value), (kernel, error)
    return res


@pytest.mark.parametrize("act, bias_var, gamma", [("erf", None, "0.5"), ("erf", None, "0.3"), ("gelu", "0.2", "1")])
def test_skip_covers_the_recursion(act, bias_var, gamma):
    """Segments extrapolated after 100 exact steps, L = 2000 (tau = 1, 20.9, 5e-4)."""
    _check_against_recursion(_model(act, bias_var, gamma=gamma), 2000, 100, activation=act, bias_var=bias_var,
                             gamma=gamma)


def test_skip_covers_the_recursion_constant_alpha_erf():
    """erf with a bias and a constant alpha = 1/2 (tau = 500): the NTK falls to ~1e-14 and keeps its 15 digits."""
    net = {"activation": "erf", "bias_var": "0.1", "alpha": "0.5"}
    _check_against_recursion(_model("erf", "0.1", alpha="0.5"), 2000, 100, **net)


def test_relu_like_switch_covers_the_recursion():
    """GELU with sigma_w^2 = 4 and alpha = 0.21 (L = 1000, tau = 44, D = 10): its duals reach relu's to 10^-13 at
    t ~ 30 (K ~ 10^26), and the seeds' relu orbit continues; the exact recursion runs through the same variances."""
    net = {"activation": "gelu", "bias_var": "0.2", "weight_var": "4", "alpha": "0.21"}
    res = _check_against_recursion(_model("gelu", "0.2", "4", alpha="0.21"), 1000, 100, 10, **net)
    assert "relu orbit" in res.form  # the switch did happen


def test_one_layer_limit_at_gamma_1():
    """gamma = 1, L = 10^9: NTK_L = N_1 + a tau + O(tau^2 + alpha^2), tau = 1e-9 (sec. 10.1, resnet_general.one_layer:
    closed form at depth 1 and mpmath.diff for a): the O(1e-18) remainder is far below the 1e-16 tolerance."""
    m = _model("erf", "0.1", "1.5", gamma="1")
    lim, slope = resnet_general.one_layer(m, HALF, 20)
    res = skip_resnet.skip(m, HALF, 10 ** 9, 15)
    tau = mpmath.mpf(10) ** -9
    assert abs(res.ntk - (lim.ntk + slope.ntk * tau)) < 1e-16
    assert abs(res.gp - (lim.gp + slope.gp * tau)) < 1e-16


def test_continuum_limit_at_gamma_half():
    """gamma = 1/2: NTK_L = F_0(1) + a_1/L + O(L^-2) (sec. 10.2); Richardson over L = 10^6 and 2 10^6 removes a_1/L,
    leaving O(L^-2) ~ 1e-13 (|a_2| < 0.1, from the 1/L table of sec. 10.2), against resnet_general.continuum
    (mpmath.odefun on the continuum system, 20 digits)."""
    m = _model("erf", "0.1", "1.5", gamma="0.5")
    F0 = resnet_general.continuum(m, HALF, 1, 20)
    a, b = (skip_resnet.skip(m, HALF, L, 15) for L in (10 ** 6, 2 * 10 ** 6))
    assert abs(2 * b.ntk - a.ntk - F0.ntk) < 1e-12
    assert abs(2 * b.gp - a.gp - F0.gp) < 1e-12


@pytest.mark.slow
def test_relu_like_degenerate_rate():
    """GELU 2/0.2 at gamma = 0.3, L = 10^12 (tau = 6.3e4): 1 - GP ~ (9 pi^2/2) (2/(sigma_w^2 (tau + tau_0)))^2 and
    NTK - 1/4 ~ s/tau (sec. 10.3). tau_0 ~ 20 shifts the first by 2 tau_0/tau < 1e-3: tolerance 1%."""
    m = _model("gelu", "0.2", gamma="0.3")
    res = skip_resnet.skip(m, HALF, 10 ** 12, 15)
    tau = mpmath.mpf(10) ** (12 * 0.4)
    predicted = 9 * mpmath.pi ** 2 / 2 / tau ** 2
    assert abs(res.one_minus_gp / predicted - 1) < 0.01
    assert 0 < res.ntk - mpmath.mpf(1) / 4 < 10 / tau


def test_kernel_hook_and_float64():
    """general.kernel: method="asymptotic" gives a KernelValue from the skip-ahead; float64 beyond the recursion's
    reach comes from it too (rounded to float64: agrees with the 15-digit value to 1e-15)."""
    net = {"activation": "gelu", "bias_var": "0.2", "gamma": "1"}
    kv = general.kernel("resnet", "0.5", 10 ** 9, digits=15, method="asymptotic", **net)
    assert kv.method == "asymptotic (skip-ahead)" and kv.correct_digits == 15
    x = general.kernel("resnet", 0.5, 10 ** 9, **net)
    assert isinstance(x, float) and abs(x - float(kv.value)) < 1e-15


def test_cli_json_at_1e12(capsys):
    """`rntk kernel --json` at L = 10^12 (gamma = 1): 15 digits from the skip-ahead."""
    assert main(["kernel", "--arch", "resnet", "--gamma", "1", "--activation", "erf", "--rho", "0.5", "--depth",
                 str(10 ** 12), "--digits", "15", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["method"] == "asymptotic (skip-ahead)" and out["correct_digits"] == 15
    m = _model("erf", gamma="1")
    lim, slope = resnet_general.one_layer(m, HALF, 20)
    assert abs(mpmath.mpf(out["value"]) - lim.ntk - slope.ntk * mpmath.mpf(10) ** -12) < 1e-14


def test_refusals():
    """Too many segments (erf with constant alpha: T11 grows like exp(k sqrt(tau)), tau = 10^12): ValueError naming
    depth; the FFNet's skip-ahead (rntk_sym.skip_general) refuses erf without bias in its chaotic phase (c* = 0)."""
    with pytest.raises(ValueError, match="^depth: the skip-ahead"):
        general.kernel("resnet", "0.5", 10 ** 12, activation="erf", alpha="1", digits=15, method="asymptotic")
    with pytest.raises(ValueError, match="^bias_var: the chaotic phase"):
        general.kernel("ffnet", "0.5", 10 ** 12, activation="erf", digits=15, method="asymptotic")


@pytest.mark.parametrize("act, bias_var, rho, norms, gamma", [("erf", None, "-1", (1, 1), "0.3"),
                                                               ("gelu", "0.2", "0.5", ("1", "4"), "0.5"),
                                                               ("gelu", "0.2", "0.9999", (1, 1), "0.5")])
def test_skip_at_the_ends_and_unequal_norms(act, bias_var, rho, norms, gamma):
    """Antipodal inputs of odd erf (the kernels stay -1 exactly, sec. 10.3), unequal input norms (1 and 4), and
    rho near 1, against the exact recursion at L = 1000 (12 digits asked, 100 exact steps)."""
    m = _model(act, bias_var, gamma=gamma)
    n1, n2 = general.norms_pair(norms)
    res = skip_resnet.skip(m, Fraction(rho), 1000, 12, n1, n2, exact=100)
    for kernel, value, error in (("ntk", res.ntk, res.ntk_error), ("gp", res.gp, res.gp_error)):
        ref = general.kernel("resnet", rho, 1000, kernel=kernel, digits=30, method="recursion", activation=act,
                             bias_var=bias_var, gamma=gamma, norms=norms)
        assert abs(value - ref.value) <= error < 1e-12 * abs(ref.value), (kernel, value, ref.value, error)
