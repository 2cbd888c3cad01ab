"""rntk_sym.phase: the one-point analysis of the FFNet (docs/phases.md; Poole et al. 2016, arXiv 1606.05340;
Schoenholz et al. 2017, arXiv 1611.01232) and ``weight_var="eoc"``.

References are independent of the package's duals and root finders: Gauss-Hermite quadrature of phi itself
(numpy's ``hermegauss``, 80 nodes: for erf and sin the integrands are entire, so the rule is exact to rounding)
iterated as plain fixed-point maps in float64 (300 steps pick the basin, Steffensen's iteration finishes), and
closed forms derived in docs/phases.md (the ab_relu family:
``q* = sigma_b^2 / (1 - sigma_w^2 (a^2 + b^2)/2)``, ``chi_1 = sigma_w^2 (a^2 + b^2)/2``; erf without bias:
the edge of chaos at ``sigma_w^2 = pi/4``)."""
import json
import math
from fractions import Fraction

import mpmath
import numpy as np
import pytest

from rntk_sym import general
from rntk_sym.cli import main
from rntk_sym.phase import edge_of_chaos, phase

X, W = np.polynomial.hermite_e.hermegauss(80)
W = W / W.sum()
ACTS = {"erf": (lambda z: np.vectorize(math.erf)(z), lambda z: 2 / math.sqrt(math.pi) * np.exp(-z * z)),
        "sin": (np.sin, np.cos)}


def fixed_point(f, x):
    """Plain iteration (the orbit's basin), then Steffensen's (Aitken's delta^2) iteration to convergence."""
    for _ in range(300):
        x = f(x)
    for _ in range(60):
        x1, x2 = f(x), f(f(x))
        d = x2 - 2 * x1 + x
        if d == 0:
            return x2
        x, old = x - (x1 - x) ** 2 / d, x
        if abs(x - old) <= 1e-16 * abs(x):
            break
    return x


def gh_phase(name, w, b):
    """q*, chi_1, c*, chi_c* by Gauss-Hermite expectations and fixed-point iteration (the chaotic c* from c = 0.999)."""
    phi, dphi = ACTS[name]
    q = fixed_point(lambda q: w * W @ phi(math.sqrt(q) * X) ** 2 + b, w + b)
    chi1 = w * W @ dphi(math.sqrt(q) * X) ** 2
    z1, z2 = np.meshgrid(X, X, indexing="ij")
    w2 = np.outer(W, W)

    def pair(f, c):
        return (w2 * f(math.sqrt(q) * z1) * f(math.sqrt(q) * (c * z1 + math.sqrt(max(0.0, 1 - c * c)) * z2))).sum()

    if chi1 < 1:
        return q, chi1, 1.0, chi1
    c = fixed_point(lambda c: (w * pair(phi, c) + b) / q, 0.999)
    return q, chi1, c, w * pair(dphi, c)


@pytest.mark.parametrize("name,w,b", [("erf", "1.5", "0.05"), ("erf", "0.5", "0.05"), ("sin", "2", "0.1")])
def test_phase_vs_gauss_hermite(name, w, b):
    p = phase(name, w, b)
    q, chi1, c, chic = gh_phase(name, float(w), float(b))
    # Steffensen converges to rounding; the 2-D rule's rounding is ~1e-14 (a fixed point amplifies it by
    # 1/(1 - slope) <= 40 here)
    assert float(p.q_star) == pytest.approx(q, rel=1e-11)
    assert float(p.chi_1) == pytest.approx(chi1, rel=1e-11)
    assert float(p.c_star) == pytest.approx(c, rel=1e-9)
    assert float(p.chi_c_star) == pytest.approx(chic, rel=1e-9)
    assert p.phase == ("chaotic" if chi1 > 1 else "ordered")
    assert float(p.xi_c) == pytest.approx(-1 / math.log(chic), rel=1e-8)
    assert float(p.xi_1) == pytest.approx(-1 / math.log(chi1), rel=1e-9)


@pytest.mark.parametrize("spec,a,bb", [("relu", 0, 1), ("leaky_relu:0.1", 0.1, 1), ("abs", -1, 1)])
def test_ab_relu_family_closed_forms(spec, a, bb):
    k = Fraction(a * a + bb * bb) / 2 if isinstance(a, int) else (Fraction("0.01") + 1) / 2
    w, b = Fraction(1, 2) / k, Fraction(1, 5)  # chi_1 = 1/2: ordered, q* = b / (1 - 1/2)
    p = phase(spec, w, b, digits=30)
    assert p.phase == "ordered"
    with mpmath.workdps(60):
        assert abs(p.q_star.value - 2 * b.numerator / mpmath.mpf(b.denominator)) <= 1e-29
        assert abs(p.chi_1.value - mpmath.mpf(1) / 2) <= 1e-29
    assert p.c_star.value == 1 and p.xi_c.value == p.xi_1.value
    assert edge_of_chaos(spec, 0) == 1 / k  # exact: chi_1 = sigma_w^2 k
    with pytest.raises(ValueError, match="^weight_var: no edge of chaos"):
        edge_of_chaos(spec, "0.1")  # with a bias q* diverges where chi_1 reaches 1


def test_relu_seed_network_is_the_edge_of_chaos():
    p = phase("relu", 2, 0)
    assert p.phase == "edge of chaos" and p.xi_c == math.inf and p.xi_1 == math.inf
    assert p.edge_of_chaos_weight_var == 2


@pytest.mark.slow
def test_erf_without_bias_edge_is_pi_over_4():
    # phi'(0)^2 = 4/pi: below pi/4 the variances vanish (q* = 0, chi_1 = 4 sigma_w^2/pi), above they do not
    eoc = edge_of_chaos("erf", 0, digits=12)
    assert abs(eoc.value - math.pi / 4) <= max(float(eoc.error), 1e-15) and eoc.error < 1e-11
    low = phase("erf", "0.5", 0)
    assert low.q_star.value == 0 and float(low.chi_1) == pytest.approx(2 / math.pi, rel=1e-14)


def test_eoc_weight_var_gives_chi_1_one_independently():
    # the EOC sigma_w^2 of erf at sigma_b^2 = 0.05, then chi_1 by Gauss-Hermite at that sigma_w^2: 1
    w = edge_of_chaos("erf", "0.05")
    _, chi1, _, _ = gh_phase("erf", float(w.value), 0.05)  # slope at q*: ~0.4
    assert chi1 == pytest.approx(1, abs=1e-12)
    p = phase("erf", "eoc", "0.05")
    assert p.phase == "edge of chaos" and p.xi_c == math.inf
    # a weight variance 1e-6 away is a point of a phase
    assert phase("erf", float(w.value) * (1 + 1e-6), "0.05").phase == "chaotic"
    assert phase("erf", float(w.value) * (1 - 1e-6), "0.05").phase == "ordered"


def test_two_precisions_agree():
    lo, hi = phase("erf", "1.5", "0.05"), phase("erf", "1.5", "0.05", digits=30)
    for name in ("q_star", "chi_1", "c_star", "chi_c_star", "xi_c"):
        a, b = getattr(lo, name), getattr(hi, name)
        assert abs(a.value - b.value) <= a.error + b.error + 1e-30, name
        assert hi.__getattribute__(name).correct_digits >= 28


def test_kernel_weight_var_eoc():
    # "eoc" resolves to the edge of chaos; the seeds' relu network is exactly sigma_w^2 = 2
    m = general.resolve("ffnet", "erf", "eoc", "0.05")
    assert abs(float(m.weight_var) - float(edge_of_chaos("erf", "0.05").value)) < 1e-15
    assert general.resolve("ffnet", "relu", "eoc", 0).weight_var == 2
    assert general.kernel("ffnet", 0.5, 20, activation="erf", weight_var="eoc", bias_var="0.05") == \
        general.kernel("ffnet", 0.5, 20, activation="erf", weight_var=m.weight_var, bias_var="0.05")
    with pytest.raises(ValueError, match="^weight_var: no edge of chaos"):
        general.kernel("ffnet", 0.5, 20, activation="relu", weight_var="eoc", bias_var="0.1")
    with pytest.raises(ValueError, match="^weight_var: 'eoc' is the FFNet's"):
        general.kernel("resnet", 0.5, 20, gamma="0.5", activation="erf", weight_var="eoc")


@pytest.mark.parametrize("args,name", [(("relu", 3, 0), "weight_var"), (("relu", 2, "0.1"), "weight_var"),
                                       (("exp", 1, 0), "weight_var"), (("step", 1, 0), "activation"),
                                       (("erf", 0, 0), "weight_var"), (("erf", 1, -1), "bias_var"),
                                       (("nope", 1, 0), "activation")])
def test_bad_input(args, name):
    with pytest.raises(ValueError, match=f"^{name}: ") as exc:
        phase(*args)
    assert "\n" not in str(exc.value)


def test_cli_phase_json(capsys):
    code = main(["phase", "--arch", "ffnet", "--activation", "erf", "--weight-var", "1.5", "--bias-var", "0.05",
                 "--json", "--digits", "20"])
    res = json.loads(capsys.readouterr().out)
    assert code == 0
    for key in ("q_star", "chi_1", "phase", "c_star", "chi_c_star", "xi_c", "xi_1", "edge_of_chaos_weight_var"):
        assert key in res
    assert res["phase"] == "chaotic"
    ref = phase("erf", "1.5", "0.05", digits=20)
    assert res["q_star"] == ref.q_star.decimal() and len(res["q_star"].replace(".", "").lstrip("0")) == 20


@pytest.mark.parametrize("argv", [["phase", "--activation", "relu", "--weight-var", "3"],
                                  ["phase", "--activation", "erf", "--weight-var", "x"],
                                  ["phase", "--activation", "relu", "--weight-var", "eoc", "--bias-var", "0.1"],
                                  ["phase", "--arch", "resnet"], ["phase", "--digits", "0"]])
def test_cli_phase_bad_input(capsys, argv):
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.startswith("rntk: error: ") and err.count("\n") == 1


def test_cli_show(capsys):
    assert main(["phase", "--activation", "erf", "--weight-var", "eoc", "--bias-var", "0.05"]) == 0
    out = capsys.readouterr().out
    assert "edge of chaos" in out and "inf" in out


def test_depth_limits_ordered_and_chaotic():
    # docs/asymptotics.md section 8: ordered -> 1 (both kernels), chaotic NTK -> 0, chaotic GP -> c*; the GP
    # value is checked against the exact recursion deep in the chaotic phase (|c_L - c*| ~ exp(-L/xi_c))
    from rntk_sym import asymptotics

    assert asymptotics.limit("ffnet", "0.5", activation="erf", weight_var="0.5", bias_var="0.05").exact == "1"
    assert asymptotics.limit("ffnet", "0.5", activation="erf", weight_var="1.5", bias_var="0.05").exact == "0"
    lim = asymptotics.limit("ffnet", "0.5", activation="erf", weight_var="1.5", bias_var="0.05", kernel="gp",
                            digits=16)
    deep = general.kernel("ffnet", 0.5, 1200, kernel="gp", activation="erf", weight_var="1.5", bias_var="0.05")
    assert abs(deep - float(lim.value)) < 1e-14  # exp(-1200/32.3) ~ 7e-17 plus float64 rounding
    assert asymptotics.limit("ffnet", "0.5", kernel="gp").exact == "1"  # the seeds' relu GP (edge of chaos)
    # the edge of chaos with q* > 0 is derived (docs/asymptotics.md sec. 9; tests/test_eoc_limits.py): 1/3 for erf
    assert asymptotics.limit("ffnet", "0.5", activation="erf", weight_var="eoc", bias_var="0.05").exact == "1/3"


def test_cli_limit_general(capsys):
    assert main(["limit", "--arch", "ffnet", "--rho", "0.5", "--activation", "erf", "--weight-var", "1.5",
                 "--bias-var", "0.05", "--kernel", "gp", "--digits", "12", "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert res["regime_id"] == "chaotic" and res["kernel"] == "gp"
    assert res["value"] == phase("erf", "1.5", "0.05", digits=12).c_star.decimal()
    # the ResNet (default gamma = 1) with erf: the one-layer kernel (docs/asymptotics.md sec. 10.1), the depth-1 value
    assert main(["limit", "--arch", "resnet", "--rho", "0.5", "--activation", "erf", "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert res["regime_id"] == "small-tau"
    assert abs(float(res["value"]) - general.kernel("resnet", 0.5, 1, alpha="0.5", activation="erf")) < 1e-14


def test_plot_eoc_relu(tmp_path, capsys):
    # relu: ordered below sigma_w^2 = 2 (chi_1 = sigma_w^2/2), no finite q* above, the edge only at (0, 2)
    from rntk_sym.eoc_plot import eoc_data

    d = eoc_data(activation="relu", n_grid=6, max_weight_var="3")
    for b, row in zip(d["bias_vars"], d["phase"]):
        assert row == ["ordered" if w < 2 else "edge of chaos" if w == 2 and b == 0 else "none"
                       for w in d["weight_vars"]]
    assert d["curve_weight_vars"][0] == 2 and all(math.isnan(x) for x in d["curve_weight_vars"][1:])
    out = tmp_path / "eoc.png"
    assert main(["plot", "eoc", "--activation", "relu", "--n-grid", "6", "--out", str(out), "--quiet"]) == 0
    assert out.read_bytes()[:4] == b"\x89PNG"
    assert main(["plot", "eoc", "--activation", "step", "--out", str(out)]) == 2


def test_resnet_has_no_finite_q_star():
    """docs/phases.md sec. 1 ("The ResNet with a constant residual scale"): the ResNet's length map increases
    strictly, so ``phase`` refuses naming ``arch``; the growth laws stated there, against the recursion
    (general.run's unnormalized diagonal) and against Gauss-Hermite quadrature of erf itself."""
    with pytest.raises(ValueError, match="^arch: .*no finite q\\*"):
        phase("erf", 1, 0, arch="resnet")
    one, half = np.float64(1), np.float64(0.5)
    # relu, sigma_w^2 = 2, alpha = 1/2: K_l = (1 + alpha^2 sigma_w^2 / 2)^l K_0 exactly (rounding only: 1e-15)
    m = general.resolve("resnet", "relu", 2, 0, alpha=Fraction(1, 2))
    for L in (10, 40):
        k11 = general.run("float", m, one, one, half, L, "gp", normalize=False)[1]
        assert k11 == pytest.approx(1.25 ** L, rel=1e-14)
    # erf, sigma_w^2 = 1, alpha = 1/2: every block adds alpha^2 V(K) with V(s) = E[erf(sqrt(s) z)^2]
    # = (2/pi) arcsin(2s/(1 + 2s)) (Williams 1997, written here independently of rntk_sym.activations), so the
    # orbit increases strictly and K_L / (alpha^2 L) -> V_oo = 1
    m = general.resolve("resnet", "erf", 1, 0, alpha=Fraction(1, 2))
    assert 2 / math.pi * math.asin(2 / 3) == pytest.approx(float(W @ np.vectorize(math.erf)(X) ** 2), rel=1e-14)
    k, ks = 1.0, []
    for _ in range(200):
        k = k + 0.25 * 2 / math.pi * math.asin(2 * k / (1 + 2 * k))
        ks.append(k)
    assert np.all(np.diff(ks) > 0)
    assert general.run("float", m, one, one, half, 200, "gp", normalize=False)[1] == pytest.approx(ks[-1], rel=1e-12)
    ratio = [general.run("float", m, one, one, half, L, "gp", normalize=False)[1] / (0.25 * L) for L in (1000, 8000)]
    assert ratio[0] < ratio[1] < 1  # V(s) = 1 - O(s^-1/2) < 1: the ratio rises to 1 from below
    assert ratio[1] > 0.95
