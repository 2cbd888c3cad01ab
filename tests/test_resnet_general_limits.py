"""Depth limits of the ResNet with any activation, alpha = L^-gamma (rntk_sym.resnet_general; derivation:
docs/asymptotics.md sec. 10). Each limit is compared with an independent computation: the exact float64 recursion
(rntk_sym.general.kernel) at large L with the derived rate, the seeds' relu code (rntk_sym.asymptotics:
segmented Euler extrapolation and SymPy closed forms), or the relu time rescaling."""
from __future__ import annotations

import json

import mpmath
import pytest

from rntk_sym import asymptotics, general
from rntk_sym import resnet_general as R
from rntk_sym.cli import main

ERF = dict(activation="erf", weight_var="1.5", bias_var="0.1")


def _model(net, gamma="0.5"):
    return general.resolve("resnet", gamma=gamma, **net)


@pytest.mark.parametrize("kernel", ["ntk", "gp"])
def test_continuum_limit_meets_the_recursion(kernel):
    # gamma = 1/2: the recursion is Euler's method with step 1/L (sec. 10.2), value = lim + a1/L + O(1/L^2). The
    # Richardson combination 2 N_2000 - N_1000 removes a1/L; measured 1.2e-8 off (a2/L^2 with a2 ~ 0.02), while
    # N_2000 itself is 4.6e-5 off: 1e-7 separates the two, and the float64 recursion errs by < 1e-13 (activations.md)
    v = R.continuum(_model(ERF), "0.5", 1, 12)
    lim = float(v.ntk if kernel == "ntk" else v.gp)
    n1, n2 = (general.kernel("resnet", 0.5, L, gamma="0.5", kernel=kernel, **ERF) for L in (1000, 2000))
    assert abs(2 * n2 - n1 - lim) < 1e-7
    assert abs(n2 - lim) > 1e-6  # the rate is really 1/L: without the extrapolation the recursion is farther


def test_one_layer_against_depth_one_and_the_rate():
    # gamma > 1/2: the limit is the depth-1 kernel (any alpha: T_1 = alpha^2 f) and NTK_L - N_1 = a tau + O(tau^2)
    # with tau = L^(1 - 2 gamma) (sec. 10.1): at gamma = 3/4, L = 10^4 (tau = 0.01), (NTK_L - N_1)/(a tau) is within
    # O(tau) of 1 (measured 3.6e-4)
    m = _model(ERF, "0.75")
    lim, slope = R.one_layer(m, "0.5", 16)
    assert abs(float(lim.ntk) - general.kernel("resnet", 0.5, 1, alpha="0.3", **ERF)) < 1e-14
    for kernel, value, a in (("ntk", lim.ntk, slope.ntk), ("gp", lim.gp, slope.gp)):
        n = general.kernel("resnet", 0.5, 10 ** 4, gamma="0.75", kernel=kernel, **ERF)
        assert abs((n - float(value)) / 0.01 / float(a) - 1) < 0.01


def test_relu_reproduces_the_seeds_limits():
    # the new code on relu with sigma_w^2 = 2 against the seeds' routes (docs/asymptotics.md sec. 5, 6):
    # gamma = 1/2: the segmented Euler extrapolation (a different method on the angle/NTK-sum form)
    relu = dict(activation="relu", weight_var="2", bias_var="0")
    v = R.continuum(_model(relu), "0.3", 1, 16)
    ref, err, _ = asymptotics.continuum_kernel("0.3", 1, 16)
    assert abs(v.ntk - ref) < 1e-15 and v.ntk_error < 1e-16
    # gamma > 1/2: the one-layer kernel and the tau coefficient a_11 (SymPy closed forms of small_tau_terms)
    lim, slope = R.one_layer(_model(relu, "0.75"), "0.3", 16)
    terms = asymptotics.small_tau_terms("0.3", "0.75", 16, K=1)[0]
    assert abs(lim.ntk - asymptotics.limit("resnet", "0.3", gamma="0.75", digits=16).value) < 1e-15
    assert abs(slope.ntk - terms[0][1]) < 1e-15
    # relu with sigma_w^2 = 1 is the seeds' flow in the time sigma_w^2 t / 2: the gamma = 1/2 limit is the
    # continuum kernel at tau = 1/2
    half, _, _ = asymptotics.continuum_kernel("0.3", "0.5", 15)
    lim1 = asymptotics.limit("resnet", "0.3", gamma="0.5", activation="relu", weight_var="1", digits=15)
    assert abs(lim1.value - half) < 1e-14


def test_degenerate_limits_and_refusals():
    lim = asymptotics.limit("resnet", "0.5", gamma="0.25", digits=10, **ERF)
    assert lim.value == 0 and lim.regime == "large-tau"
    gp = asymptotics.limit("resnet", "0.5", gamma="0.25", kernel="gp", digits=10, activation="gelu")
    assert gp.value == 1
    assert asymptotics.limit("resnet", "0.5", gamma="0.1", activation="gelu", bias_var="0.2").value == mpmath.mpf(1) / 4
    # odd activation without bias: K12 = -K11 and T12 = -T11 at rho = -1 for every L (recursion: exactly -1)
    assert asymptotics.limit("resnet", "-1", gamma="0.25", activation="erf", weight_var="1.5").value == -1
    assert general.kernel("resnet", -1.0, 50, gamma="0.25", activation="erf", weight_var="1.5") == -1.0
    with pytest.raises(ValueError, match="^activation:"):
        asymptotics.limit("resnet", "0.5", gamma="0.25", activation="leaky_relu:0.1")
    # constant alpha: the same degenerate limits in tau = L alpha^2 (sec. 10.4); not derived for leaky relu
    assert asymptotics.limit("resnet", "0.5", alpha="0.5", **ERF).value == 0
    assert asymptotics.limit("resnet", "0.5", gamma="0", activation="gelu").value == mpmath.mpf(1) / 4
    with pytest.raises(ValueError, match="^alpha:"):
        asymptotics.limit("resnet", "0.5", alpha="0.5", activation="leaky_relu:0.1")


@pytest.mark.parametrize("scale,tau_of_L", [({"gamma": "0.25"}, lambda L: L ** 0.5), ({"alpha": "1"}, float)])
def test_erf_degenerate_rate_on_the_recursion(scale, tau_of_L):
    # sec. 10.3: log NTK_L = -(4/pi) sigma_w sqrt(tau) + (2/pi - 4/pi^2) log tau + log log tau + c + O(tau^-1/2),
    # tau = L^(1/2) at gamma = 1/4, tau = L alpha^2 for constant alpha (sec. 10.4). Three depths fix k, c and the
    # tau^-1/2 term; k must be (4/pi) sigma_w to 2% (measured 0.3% at gamma = 1/4, L = 10^3..10^4; 0.4% at alpha = 1,
    # L = 1000..4000); a wrong power of tau (e.g. the relu's 1/tau) fails by far
    import math

    import numpy as np

    taus, ys = [], []
    for L in (1000, 3000, 10000) if "gamma" in scale else (1000, 2000, 4000):
        t = tau_of_L(L)
        n = general.kernel("resnet", 0.5, L, **scale, **ERF)
        taus.append(t)
        ys.append(math.log(n) - (2 / math.pi - 4 / math.pi ** 2) * math.log(t) - math.log(math.log(t)))
    k = np.linalg.solve(np.array([[-t ** 0.5, 1, t ** -0.5] for t in taus]), ys)[0]
    assert abs(k / (4 * math.sqrt(1.5) / math.pi) - 1) < 0.02


def test_cli_limit_resnet_erf(capsys):
    code = main(["limit", "--arch", "resnet", "--rho", "0.5", "--gamma", "0.5", "--activation", "erf",
                 "--weight-var", "1.5", "--bias-var", "0.1", "--digits", "12", "--json"])
    res = json.loads(capsys.readouterr().out)
    assert code == 0 and {"value", "error", "regime", "regime_id", "form", "exact"} <= set(res)
    assert res["regime_id"] == "continuum" and res["activation"] == "erf"
    # the same value as the recursion's Richardson extrapolation (test above): 1e-7
    n1, n2 = (general.kernel("resnet", 0.5, L, gamma="0.5", **ERF) for L in (1000, 2000))
    assert abs(float(res["value"]) - (2 * n2 - n1)) < 1e-7


def test_relu_gp_continuum_against_the_normalized_ode():
    # relu, sigma_w^2 = 2, alpha = beta/sqrt(L): the GP limit is rho(beta^2) of the seeds' normalized ODE
    # d rho/dt = shat(rho) - rho (docs/asymptotics.md sec. 2, written here with the seeds' arccos form), an
    # independent formulation of the unnormalized pair system of sec. 10.0 (K11 = e^t there)
    import seed_formulas as seed

    lim = asymptotics.limit("resnet", "0.3", beta="1.5", kernel="gp", digits=14)
    assert lim.regime == "continuum"
    with mpmath.workdps(30):
        ref = mpmath.odefun(lambda t, r: seed.shat(r) - r, 0, mpmath.mpf("0.3"))(mpmath.mpf("2.25"))
        assert abs(lim.value - ref) < 1e-14
