"""The FFNet's skip-ahead for any closed-form activation (rntk_sym/skip_general.py; derivation in docs/asymptotics.md
sec. 11) against independent computations: the exact recursion (general.kernel method="recursion", 10 more digits)
at depths 1500-2500, and at L = 10^12 the edge-of-chaos expansions of docs/asymptotics.md sec. 9 (derived
separately, rntk_sym/eoc.py). Each comparison asks that the reported error covers the true error and that both are
small (the skip-ahead is asked 20 digits: its estimate must reach 10^-20 relative)."""
import json

import mpmath
import pytest

from rntk_sym import eoc, general
from rntk_sym.cli import main

D = 20


def _check(act, w, b, kernel, L, rho="0.5", norms=None):
    kw = {"activation": act, "weight_var": w, "bias_var": b, "kernel": kernel, "norms": norms}
    skip = general.kernel("ffnet", rho, L, digits=D, method="asymptotic", **kw)
    exact = general.kernel("ffnet", rho, L, digits=D + 10, method="recursion", **kw)
    assert skip.method == "skip-ahead"
    true = abs(skip.value - exact.value)
    # the reported error covers the true one (plus the reference's own error), and reaches D digits
    assert true <= skip.error + exact.error
    assert skip.error <= abs(skip.value) * mpmath.mpf(10) ** -D
    return skip, exact


@pytest.mark.parametrize("act,b,kernel", [("erf", "0.05", "ntk"), ("erf", "0.05", "gp"), ("sin", "0.1", "ntk")])
def test_edge_of_chaos_smooth_against_recursion(act, b, kernel):
    skip, _ = _check(act, "eoc", b, kernel, 1500)
    assert "edge-of-chaos conjugacy" in skip.error_kind


def test_edge_of_chaos_unequal_norms():
    # both diagonals converge to q*; the cross entry starts from another orbit
    _check("erf", "eoc", "0.05", "ntk", 1500, rho="0.3", norms=("0.5", "2"))


@pytest.mark.parametrize("kernel", ["ntk", "gp"])
def test_abrelu_against_recursion(kernel):
    # leaky relu at its edge of chaos (the angle map with step w = 81/101, docs/asymptotics.md sec. 9.1) ...
    skip, exact = _check("leaky_relu:0.1", "eoc", "0", kernel, 1500)
    if kernel == "gp":  # 1 - value carried as 2 sin^2(theta/2), against the recursion's 1 - value (exact.error abs.)
        assert abs(skip.complement.value - (1 - exact.value)) <= skip.complement.error + exact.error
    # ... and at another weight variance, whose normalized kernels are the same (positive homogeneity)
    other = general.kernel("ffnet", "0.5", 1500, digits=D, method="asymptotic", activation="leaky_relu:0.1",
                           weight_var="1.3", kernel=kernel)
    assert abs(other.value - skip.value) <= other.error + skip.error


@pytest.mark.parametrize("act,w,b,kernel", [("erf", "0.5", "0.05", "ntk"), ("erf", "1.5", "0.05", "ntk"),
                                            ("erf", "1.5", "0.05", "gp"), ("gelu", "1", "0.2", "ntk"),
                                            ("leaky_relu:0.1", "1.5", "0.2", "ntk")])
def test_ordered_and_chaotic_against_recursion(act, w, b, kernel):
    skip, _ = _check(act, w, b, kernel, 2500)
    assert "geometric tail" in skip.error_kind


def test_smooth_edge_at_1e12_against_the_derived_expansion():
    # docs/asymptotics.md sec. 9.2: NTK_L = 1/3 + (C/3) log L/L + B/L + O(log L/L^2), so the slope of L (NTK_L - 1/3)
    # in log L between L1 and L2 = 10 L1 is C/3 up to O(log L/L) ~ 1e-10; 1 - c_L = (2/kappa)/L
    # - (2C/kappa) log L/L^2 + O(1/L^2): L (1 - GP_L) - 2/kappa + (2C/kappa) log L/L is O(1/L) ~ 1e-11
    consts = eoc.smooth_constants("erf", "0.05", digits=20)
    kappa, C = consts["kappa"][0], consts["C"][0]
    L1, L2 = 10 ** 12, 10 ** 13
    v1, v2 = (general.kernel("ffnet", "0.5", L, activation="erf", weight_var="eoc", bias_var="0.05", digits=D,
                             method="asymptotic") for L in (L1, L2))
    gp = general.kernel("ffnet", "0.5", L1, activation="erf", weight_var="eoc", bias_var="0.05", digits=D,
                        kernel="gp", method="asymptotic")
    with mpmath.workdps(40):  # (1/3 in float64 would err by 2e-17, i.e. 2e-5 after the factor L)
        third = mpmath.mpf(1) / 3
        slope = (L2 * (v2.value - third) - L1 * (v1.value - third)) / mpmath.log(10)
        assert abs(slope - C / 3) < 1e-9
        rest = L1 * gp.complement.value - 2 / kappa + 2 * C / kappa * mpmath.log(L1) / L1
        assert abs(rest) < 1e-10


def test_abrelu_at_1e12_against_the_derived_expansion():
    # docs/asymptotics.md sec. 9.1: four terms, residual O(log^2 L/L^3) ~ 1e-33 at L = 10^12 (below the skip's error)
    L = 10 ** 12
    v = general.kernel("ffnet", "0.5", L, activation="leaky_relu:0.1", weight_var="eoc", digits=D,
                       method="asymptotic")
    ex = eoc.eoc_expansion("0.5", "leaky_relu:0.1", digits=25)
    with mpmath.workdps(40):
        approx = ex.limit.value + sum(t.coefficient * mpmath.log(L) ** t.log_power / mpmath.mpf(L) ** t.power
                                      for t in ex.terms)
        bound = sum(t.error / mpmath.mpf(L) ** t.power * mpmath.log(L) ** t.log_power for t in ex.terms)
        assert abs(v.value - approx) <= v.error + bound + mpmath.mpf(10) ** -30


def test_float64_through_the_skip_ahead():
    # digits=None beyond AUTO_FROM: each value from the 17-digit skip-ahead, rounded to float64
    f = general.kernel("ffnet", 0.5, 10 ** 9, activation="erf", weight_var="eoc", bias_var="0.05")
    hp = general.kernel("ffnet", "0.5", 10 ** 9, activation="erf", weight_var="eoc", bias_var="0.05", digits=D)
    assert hp.method == "skip-ahead"
    assert f == pytest.approx(float(hp.value), rel=4e-16)


@pytest.mark.parametrize("kwargs,name", [
    ({"activation": "erf", "weight_var": "0.5"}, "weight_var"),  # ordered without bias: q* = 0
    ({"activation": "erf", "weight_var": "2"}, "bias_var"),  # chaotic, odd, no bias: c* = 0
    ({"activation": (mpmath.tanh, lambda z: 1 / mpmath.cosh(z) ** 2), "bias_var": "0.1"}, "activation"),
    ({"activation": "arccos:2", "bias_var": "0"}, "activation"),
    ({"activation": "erf", "weight_var": "0.5", "bias_var": "0.05", "depth": 3}, "method"),
    ({"activation": "erf", "weight_var": "0.5", "bias_var": "0.05", "certified": True}, "certified")])
def test_refusals(kwargs, name):
    depth = kwargs.pop("depth", 10 ** 12)
    with pytest.raises(ValueError, match=f"^{name}"):
        general.kernel("ffnet", "0.5", depth, digits=D, method="asymptotic", **kwargs)


def test_cli_json(capsys):
    code = main(["kernel", "--arch", "ffnet", "--activation", "erf", "--weight-var", "eoc", "--bias-var", "0.05",
                 "--rho", "0.5", "--depth", "10^12", "--digits", "20", "--json"])
    res = json.loads(capsys.readouterr().out)
    assert code == 0 and res["method"] == "skip-ahead" and res["correct_digits"] == 20
    assert res["value"].startswith("0.3333333333")
