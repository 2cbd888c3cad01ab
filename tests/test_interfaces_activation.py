"""Issue 14, "Interfaces": activation=, weight_var=, bias_var= on the sweeps (`rntk explore`), the kernels and rates
figures (`rntk plot`) and `rntk rate` (fitted prefactors, rntk_sym/fitted_rates.py).

References: values against :func:`rntk_sym.general.kernel` called directly at a second precision (30 digits, arb
balls: an independent evaluation path from the float64 sweep); the fitted prefactors against the closed relations
of docs/asymptotics.md section 8.1 (smooth phi: B = A (1 - chi_1 + kappa/chi_1)/chi_1 with kappa =
sigma_w^2 q* E[phi''(sqrt(q*) z)^2] by quadrature; kinked phi: C = sigma_w^2 (a - b)^2 sqrt(2 A) /
(2 pi chi_1^(3/2) (1 - sqrt chi_1))), with A the GP prefactor fitted separately.
"""
import json
import os

import mpmath
import pytest

from rntk_sym import general, plots
from rntk_sym import sweep as sw
from rntk_sym.cli import main
from rntk_sym.fitted_rates import fitted_rate
from rntk_sym.phase import phase

ERF = {"activation": "erf", "bias_var": "0.1"}


def direct(arch, rho, L, scale, model, digits=30):
    return general.kernel(arch, rho, L, digits=digits, **scale, **model).value


def test_sweep_values_equal_general_kernel_at_a_second_precision():
    for digits, tol in ((None, 1e-13), (20, 1e-18)):  # float64: a few ulp per layer; digits: 20 asked
        res = sw.sweep("resnet", gammas=["1"], alphas=["0.5"], rhos=["-0.5", "0.5"], depths=[3, 30], digits=digits,
                       workers=1, **ERF)
        assert res["grid"]["model"] == {"activation": "erf:1,1,0", "weight_var": "2", "bias_var": "0.1"}
        for row in res["points"]:
            ref = direct("resnet", row["rho"], row["depth"], {row["scale"]: row["scale_value"]}, ERF)
            with mpmath.workdps(40):
                assert abs(mpmath.mpf(row["value"]) - ref) < tol, row
            assert row["activation"] == "erf:1,1,0"


def test_sweep_derived_columns_and_classification():
    res = sw.sweep("ffnet", rhos=["0.5"], depths=[5, 10, 20, 40], workers=1, activation="erf", weight_var="0.5",
                   bias_var="0.05")
    s = res["series"][0]
    # ordered phase (chi_1 = 0.5335 < 1): the derived limit is 1 (docs/asymptotics.md sec. 8.1), reached by L = 40
    assert s["derived_limit"].startswith("1.0") and s["regime"] == "derived limit"
    res = sw.sweep("resnet", gammas=["1"], rhos=["0.5"], depths=[10, 100, 1000], workers=1, **ERF)
    s = res["series"][0]
    # gamma > 1/2: the data approach the branch's NTK at depth 1 (L alpha^2 -> 0), and the derived limit
    # (rntk_sym.resnet_general, docs/asymptotics.md sec. 10.1) is that kernel, printed to 12 digits
    one_layer = float(direct("resnet", "0.5", 1, {"alpha": 1}, ERF))
    assert s["regime"] == "one-hidden-layer"
    assert abs(float(s["limit"]) - one_layer) < 1e-15
    assert s["derived_regime"] == "one-hidden-layer kernel" and abs(float(s["derived_limit"]) - one_layer) < 1e-11


def test_seed_model_spelled_out_is_the_default():
    a = sw.sweep("ffnet", rhos=["0.5"], depths=[3, 4, 5], workers=1)
    b = sw.sweep("ffnet", rhos=["0.5"], depths=[3, 4, 5], workers=1, activation="relu", weight_var="2")
    assert a["points"] == b["points"] and b["grid"]["model"]["activation"] is None


def test_resume_refuses_another_network(tmp_path, capsys):
    cache = str(tmp_path / "c.jsonl")
    sw.sweep("ffnet", rhos=["0.5"], depths=[3, 4, 5], workers=1, cache=cache, **ERF)
    with pytest.raises(ValueError, match="^activation: the cache .* another network"):
        sw.sweep("ffnet", rhos=["0.5"], depths=[3, 4, 5], workers=1, cache=cache)
    out = str(tmp_path / "run")
    argv = ["explore", "--arch", "ffnet", "--rho", "0.5", "--depths", "3,4,5", "--out", out, "--quiet"]
    assert main(argv + ["--activation", "gelu"]) == 0
    capsys.readouterr()
    assert main(argv + ["--activation", "gelu", "--bias-var", "0.1", "--resume"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("rntk: error: activation: the cache") and "gelu" in err[0]
    assert main(argv + ["--activation", "gelu", "--resume", "--json"]) == 0  # same network: resumes
    res = json.loads(capsys.readouterr().out)
    assert res["cached"] == 3 and res["computed"] == 0
    assert res["model"] == {"activation": "gelu", "weight_var": "2", "bias_var": "0"}
    with open(os.path.join(out, "sweep.json")) as f:
        assert json.load(f)["grid"]["model"]["activation"] == "gelu"


@pytest.mark.parametrize("argv, name", [
    (["explore", "--arch", "resnet", "--weight-var", "eoc"], "weight_var"),
    (["explore", "--arch", "ffnet", "--bias-var", "-1"], "bias_var"),
    (["explore", "--arch", "ffnet", "--activation", "nope"], "activation"),
    (["explore", "--arch", "ffnet", "--activation", "erf", "--depths", "1e8,3e8"], "depths"),  # estimated over an hour
    (["plot", "phase", "--activation", "erf"], "activation"),
    (["plot", "spectrum", "--bias-var", "0.1"], "bias-var"),
    (["plot", "kernels", "--weight-var", "0"], "weight_var"),
    # erf's degenerate ResNet rates have no derived constant (docs/asymptotics.md sec. 10.5)
    (["rate", "--arch", "resnet", "--gamma", "0.25", "--activation", "erf"], "gamma"),
    # the relu family has no edge of chaos with a bias (docs/phases.md sec. 1)
    (["rate", "--arch", "ffnet", "--activation", "leaky_relu:0.1", "--bias-var", "0.1", "--weight-var", "eoc"],
     "weight_var"),
    (["rate", "--arch", "ffnet", "--activation", "erf", "--rho", "1"], "rho"),
])
def test_refusals_one_line_exit_2(argv, name, tmp_path, capsys):
    if argv[0] == "explore":
        argv = argv + ["--rho", "0.5", "--out", str(tmp_path / "o")] + ([] if "--depths" in argv else
                                                                        ["--depths", "2,3,4"])
    elif argv[0] == "plot":
        argv = argv + ["--out", str(tmp_path / "f.png")]
    elif "--rho" not in argv:
        argv = argv + ["--rho", "0.5"]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"rntk: error: {name}"), err


def test_fit_exponential_recovers_a_known_geometric_form():
    from rntk_sym.rates import fit_exponential

    Ls = [10, 20, 30, 40, 50]
    with mpmath.workdps(40):  # synthetic e(L) = 2 L^1 (3/5)^L: the exact form, so the fit is exact to rounding
        err = [2 * L * mpmath.mpf(3) / 5 * (mpmath.mpf(3) / 5) ** (L - 1) for L in Ls]
    f = fit_exponential(Ls, err)
    with mpmath.workdps(40):  # the fit works at 30 digits
        assert abs(f.r - mpmath.mpf(3) / 5) < 1e-25 and abs(f.k - 1) < 1e-12 and abs(f.c - 2) < 1e-25
    g = fit_exponential(Ls, err, power=0)  # the wrong prefactor: a worse fit, and r_error says r moved
    assert g.residual > 1e-3 and g.r_error > 1e-4
    with pytest.raises(ValueError, match="^err: must be nonzero"):
        fit_exponential(Ls, [1, 1, 0, 1, 1])


def _quad_kappa(p):
    """kappa = sigma_w^2 q* E[phi''(sqrt(q*) z)^2] for phi = erf: phi''(x) = -(4/sqrt(pi)) x exp(-x^2)."""
    with mpmath.workdps(30):
        q = mpmath.mpf(p.q_star.value)
        def f(z):
            return ((4 / mpmath.sqrt(mpmath.pi) * mpmath.sqrt(q) * z * mpmath.exp(-q * z * z)) ** 2
                     * mpmath.exp(-z * z / 2) / mpmath.sqrt(2 * mpmath.pi))
        w = p.weight_var
        return mpmath.mpf(w.numerator) / w.denominator * q * mpmath.quad(f, [-mpmath.inf, 0, mpmath.inf])


def test_fitted_smooth_rate_against_the_closed_relation(capsys):
    net = {"activation": "erf", "weight_var": "0.5", "bias_var": "0.05"}
    A = -fitted_rate("0.5", kernel="gp", digits=12, **net).terms[0].coefficient
    assert main(["rate", "--arch", "ffnet", "--rho", "0.5", "--digits", "12", "--json",
                 *sum([[f"--{k.replace('_', '-')}", v] for k, v in net.items()], [])]) == 0
    res = json.loads(capsys.readouterr().out)
    assert res["fitted"] is True and res["activation"] == "erf" and res["limit"]["value"].startswith("1")
    assert [t["power"] for t in res["terms"]] == [-1, 0] and set(res["terms"][0]) >= {"coefficient", "error",
                                                                                       "power_exact", "base"}
    p = phase(**net, digits=20)
    chi = p.chi_1.value
    B = A * (1 - chi + _quad_kappa(p) / chi) / chi
    assert abs(mpmath.mpf(res["terms"][0]["coefficient"]) + B) < 1e-10 * B  # both to 12 digits
    assert abs(mpmath.mpf(res["terms"][0]["base"]) - chi) < 1e-11


def test_fitted_kinked_rate_against_the_closed_relation():
    net = {"activation": "leaky_relu:0.1", "weight_var": "1.5", "bias_var": "0.2"}
    A = -fitted_rate("0.5", kernel="gp", digits=12, **net).terms[0].coefficient
    t = fitted_rate("0.5", digits=12, **net).terms[0]
    chi = phase(**net, digits=20).chi_1.value
    C = mpmath.mpf("1.5") * mpmath.mpf("0.9") ** 2 * mpmath.sqrt(2 * A) / (
        2 * mpmath.pi * chi ** 1.5 * (1 - mpmath.sqrt(chi)))
    # the claimed error (plus the 12-digit A inside C) covers the derived C; the prefactor has >= 10 digits
    assert abs(-t.coefficient - C) <= t.error + 1e-11 * C and t.error < 1e-10 * C


def test_plot_kernels_data_and_file(tmp_path):
    out = str(tmp_path / "k.png")
    data = plots.kernels(out, depths=[1, 10], n_rho=21, n_limit=3, **ERF)
    assert os.path.getsize(out) > 0
    assert [c["arch"] for c in data["cases"]] == ["ffnet", "resnet", "resnet", "resnet"]
    for c in data["cases"]:
        for k, L in enumerate(data["depths"]):
            for i in (0, 7, 20):  # rho = -1, -0.3, 1
                ref = direct(c["arch"], repr(float(data["rhos"][i])), L, c["scale"], ERF)
                assert abs(c["values"][k][i] - float(ref)) < 1e-13
    ff = data["cases"][0]["limit"]  # erf, sigma_w^2 = 2, sigma_b^2 = 0.1: chaotic, the NTK's limit 0 off rho = 1
    assert ff[0] == 0 and ff[-1] == 1
    # the ResNet's derived limits (docs/asymptotics.md sec. 10): gamma = 1 the branch's NTK at depth 1
    # (sec. 10.1), gamma = 1/4 erf degenerates to the zero kernel off rho = 1 (sec. 10.3)
    for x, lim in zip(data["limit_rhos"], data["cases"][1]["limit"]):
        assert abs(lim - float(direct("resnet", repr(float(x)), 1, {"alpha": 1}, ERF))) < 1e-12
    assert list(data["cases"][3]["limit"][:-1]) == [0, 0] and data["cases"][3]["limit"][-1] == 1


def test_plot_rates_general_data_and_file(tmp_path, capsys):
    out = str(tmp_path / "r.png")
    net = {"activation": "erf", "weight_var": "0.5", "bias_var": "0.05"}
    assert main(["plot", "rates", "--out", out, "--max-exact-depth", "120", "--digits", "25", "--quiet",
                 "--data", str(tmp_path / "r.json"), *sum([[f"--{k.replace('_', '-')}", v] for k, v in net.items()],
                                                         [])]) == 0
    assert os.path.getsize(out) > 0
    data = plots.rates_data(max_exact_depth=120, digits=25, cases=[0, 2], **net)
    c, res = data["cases"]
    # the constant-alpha ResNet's erf limit is derived (0, docs/asymptotics.md sec. 10.4) but its approach is
    # stretched-exponential: shown without an exponential fit
    assert res["arch"] == "resnet" and res["limit"] == 0 and res["fit"] is None and not data["not_derived"]
    for L, e in zip(c["L_exact"][::3], c["err_exact"][::3]):
        ref = direct("ffnet", "0.5", int(L), {}, net, digits=40) - 1
        assert abs(e - float(ref)) <= 1e-12 * abs(float(ref))
    chi = float(phase(**net).chi_1.value)
    assert abs(c["fit"]["r"] - chi) < 1e-3 * chi  # the fitted base c L^k r^L is chi_1 (k free: not exact)


def test_digits_fall_back_when_the_ball_stays_wide():
    # leaky relu with a bias, L = 256: the arb ball of the NTK grew to 1e19 even after the precision doublings;
    # digits=D must then come from the two-precision mpmath run, checked against the float64 recursion
    net = {"activation": "leaky_relu:0.1", "weight_var": "1.5", "bias_var": "0.2"}
    kv = general.kernel("ffnet", "0.5", 256, digits=30, **net)
    assert kv.correct_digits >= 30
    assert abs(float(kv.value) - general.kernel("ffnet", 0.5, 256, **net)) < 1e-14  # float64: ~256 rounding steps
