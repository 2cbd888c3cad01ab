"""Figures and `rntk plot` (issue 8, item 1; rntk_sym/plots.py).

The plotted numbers are checked against independent computations: the seed formulas transcribed in
tests/seed_formulas.py (seed 002; docs/model.md sections 1-3) at 40 digits, the float64 path of
rntk_sym.ntk, the expansion of rntk_sym.asymptotics summed here in mpmath, and the FFNet's log factor
(slope 3/8 of L |Omegabar_L - 1/4| in log L, docs/asymptotics.md sec. 3-4) read off the exact points.
Sizes are small (options like max_depth) so the file runs in a few seconds.
"""
import json
import math

import mpmath
import numpy as np
import pytest
import seed_formulas as sf

from rntk_sym import asymptotics, ntk, plots
from rntk_sym.cli import main

MAGIC = {"png": b"\x89PNG", "pdf": b"%PDF", "svg": b"<?xml"}


def omegabar_1(rho):
    """(shat + rho shatp) / 2 from the seed formulas (seed 002, Theorem 7)."""
    with mpmath.workdps(30):
        r = mpmath.mpf(rho)
        return float((sf.shat(r) + r * sf.shatp(r)) / 2)


def reference(arch, rho, L, scale):
    with mpmath.workdps(40):
        alpha = None
        if "gamma" in scale:
            alpha = mpmath.mpf(L) ** (-mpmath.mpf(scale["gamma"]))
        elif "alpha" in scale:
            alpha = mpmath.mpf(scale["alpha"])
        return sf.forward_loop(arch, mpmath.mpf(rho), L, alpha)[0]


@pytest.fixture(scope="module")
def rates_small():
    # FFNet rho = 0.5, ResNet gamma = 1 and 3/4: exact points up to 2000, skip-ahead to 10^6
    # (the fixed-step skip-ahead starts beyond its fitted window, L > 1.28e5)
    return plots.rates_data(max_exact_depth=2000, max_depth=10**6, digits=20, per_decade=3, cases=[0, 3, 4])


def test_rates_exact_points_match_seed_formulas_and_float64(rates_small):
    for c in rates_small["cases"]:
        assert len(c["L_exact"]) >= 8 and c["L_exact"][-1] == 2000
        for L, e in zip(c["L_exact"], c["err_exact"]):
            L = int(L)
            value = c["limit"] + e
            assert abs(value - ntk(c["arch"], float(c["rho"]), L, **c["scale"])) < 1e-13
            if L <= 40:
                assert abs(value - float(reference(c["arch"], c["rho"], L, c["scale"]))) < 1e-15


def test_rates_curve_is_limit_plus_derived_terms(rates_small):
    for c in rates_small["cases"]:
        ex = asymptotics.expansion(c["arch"], c["rho"], digits=20, **c["scale"])
        assert abs(c["limit"] - float(ex.limit.value)) < 1e-15
        for i in (0, 77, 199):
            L = mpmath.mpf(c["L_curve"][i])
            with mpmath.workdps(30):
                s = sum(t.coefficient * L ** (-mpmath.mpf(t.power.numerator) / t.power.denominator)
                        * mpmath.log(L) ** t.log_power for t in ex.terms)
            assert abs(c["err_curve"][i] - float(s)) <= 1e-12 * abs(float(s))
        # the derived curve meets the exact points at the largest exact depth (its remainder is small there)
        L = c["L_exact"][-1]
        curve_at_L = np.interp(np.log(L), np.log(c["L_curve"]), c["err_curve"])
        assert abs(curve_at_L - c["err_exact"][-1]) < 1e-3 * abs(c["err_exact"][-1])


def test_rates_skip_ahead_points_agree_with_expansion(rates_small):
    for c in rates_small["cases"]:
        assert len(c["L_asym"]) >= 2
        derived = plots.expansion_sum([(t[0], t[1], t[2]) for t in c["terms"]], c["L_asym"])
        rel = np.abs(c["err_asym"] - derived) / np.abs(derived)
        # two asymptotic descriptions (skip-ahead vs truncated expansion) agree, better and better with L
        assert np.all(rel < 1e-4) and np.all(np.diff(rel) < 0), rel


def test_rates_ffnet_log_factor_and_resnet_coefficient_from_exact_points(rates_small):
    ffnet, g1, g34 = rates_small["cases"]
    L, e = ffnet["L_exact"], ffnet["err_exact"]
    slope = (L[-1] * e[-1] - L[-3] * e[-3]) / math.log(L[-1] / L[-3])
    assert abs(slope - 3 / 8) < 0.03  # a straight line in log L of slope 3/8 (log L / L rate)
    assert ffnet["formula"].startswith(r"$(3/8)\,\log L/L")
    # gamma = 1: L (Omegabar_L - Omegabar_1) -> c_1; gamma = 3/4: L^(1/2) (...) -> the same c_1
    c1 = g1["terms"][0][0]
    assert g1["power"] == 1 and g34["power"] == plots.Fraction(1, 2)
    assert abs(g1["L_exact"][-1] * g1["err_exact"][-1] - c1) < 1e-3 * abs(c1) + 1e-4
    assert abs(math.sqrt(g34["L_exact"][-1]) * g34["err_exact"][-1] - g34["terms"][0][0]) < 0.01 * abs(c1)
    assert abs(g1["limit"] - omegabar_1("0.5")) < 1e-15


def test_phase_data_against_ntk_seed_limit_and_sharpening():
    d = plots.phase_data(depth=64, n_gamma=12, n_rho=7, slice_depths=(10, 100, 1000), n_slice=21)
    g, r = d["gammas"], d["rhos"]
    assert g.min() > 0 and abs(g.max() - 1.2) < 1e-12 and r[0] == -1 and r[-1] == 1
    for i in (0, 5, 11):
        assert np.allclose(d["values"][i], ntk("resnet", r, 64, gamma=float(g[i])), rtol=0, atol=1e-14)
    for j, rho in enumerate(r):
        lt = d["limits"][g < 0.5, j]
        gt = d["limits"][g > 0.5, j]
        assert np.all(lt == (1.0 if rho == 1 else 0.25))
        assert np.allclose(gt, omegabar_1(repr(float(rho))), atol=1e-12)
    sg, sv, sl = d["slice_gammas"], d["slice_values"], d["slice_limits"]
    half = np.flatnonzero(sg == 0.5)
    assert half.size == 1
    for k, L in enumerate(d["slice_depths"]):
        assert abs(sv[k][half[0]] - ntk("resnet", 0.5, L, gamma=0.5)) < 1e-14
    # the step sharpens: at gamma = 1/4 and 1 the distance to the limit shrinks as L grows
    for gam in (0.25, 1.0):
        i = int(np.argmin(np.abs(sg - gam)))
        dist = np.abs(sv[:, i] - sl[i])
        assert np.all(np.diff(dist) < 0), (gam, dist)
    # the borderline value is the continuum kernel S(1), and the depth-L values approach it like 1/L
    assert abs(sv[-1][half[0]] - sl[half[0]]) < 1e-4


@pytest.fixture(scope="module")
def kernels_small():
    return plots.kernels_data(depths=(1, 4, 4096), n_rho=11, n_limit=7)


def test_kernels_data_against_ntk_and_limits(kernels_small):
    d = kernels_small
    lr = d["limit_rhos"]
    assert lr[0] == -1 and lr[-1] == 1
    by = {c["arch"] + str(c["scale"]): c for c in d["cases"]}
    for c in d["cases"]:
        for k, L in enumerate(d["depths"]):
            assert np.allclose(c["values"][k], ntk(c["arch"], d["rhos"], L, **c["scale"]), rtol=0, atol=0)
        assert c["limit"][-1] == 1.0
    assert np.all(by["ffnet{}"]["limit"][:-1] == 0.25)
    assert np.all(by["resnet{'gamma': '0.25'}"]["limit"][:-1] == 0.25)
    assert np.allclose(by["resnet{'gamma': '1'}"]["limit"], [omegabar_1(repr(float(x))) for x in lr], atol=1e-12)
    # gamma = 1/2: the plotted limit is where the depth-4096 kernel is heading (O(1/L) away)
    half = by["resnet{'gamma': '0.5'}"]
    deep = ntk("resnet", lr, 4096, gamma=0.5)
    assert np.all(np.abs(half["limit"] - deep) < 5e-5)
    assert np.all(np.abs(half["limit"][1:-1] - 0.25) > 1e-3)  # and it is not the degenerate kernel


@pytest.mark.parametrize("fmt", plots.FORMATS)
def test_each_format_is_written_and_reproducible(tmp_path, fmt, kernels_small):
    data = kernels_small
    a, b = tmp_path / f"a.{fmt}", tmp_path / f"b.{fmt}"
    plots.draw_kernels(data, str(a))
    plots.draw_kernels(data, str(b))
    blob = a.read_bytes()
    assert len(blob) > 1000 and blob.startswith(MAGIC[fmt])
    assert blob == b.read_bytes()  # deterministic: no dates or random ids in the file


def test_cli_plot_writes_file_and_json(tmp_path, capsys):
    out, data = tmp_path / "phase.svg", tmp_path / "phase.json"
    argv = ["plot", "phase", "--out", str(out), "--depth", "20", "--max-depth", "100", "--n-gamma", "6",
            "--n-rho", "5", "--data", str(data), "--json"]
    assert main(argv) == 0
    cap = capsys.readouterr()
    res = json.loads(cap.out)
    assert cap.err == ""
    assert res["kind"] == "phase" and res["format"] == "svg" and res["bytes"] == out.stat().st_size > 1000
    assert res["options"]["max_depth"] == "100"
    saved = json.loads(data.read_text())
    assert saved["slice_depths"] == [10, 100]
    assert np.allclose(saved["values"], plots.ntk_over_gamma(saved["rhos"], saved["gammas"], 20), rtol=0, atol=0)


@pytest.mark.parametrize("argv, name", [
    (["plot", "histogram", "--out", "x.png"], "kind"),
    (["plot", "rates", "--out", "x.jpg"], "out"),
    (["plot", "kernels", "--out", "x"], "out"),
    (["plot", "rates", "--out", "x.png", "--max-depth", "ten"], "max-depth"),
    (["plot", "rates", "--out", "x.png", "--rho", "1"], "rho"),
    (["plot", "phase", "--out", "x.png", "--n-gamma", "1"], "n-gamma"),
    (["plot", "phase", "--out", "x.png", "--dpi", "5"], "dpi"),
    (["plot", "kernels", "--out", "x.png", "--rho", "0.3"], "rho"),  # options that do not apply (issue 18)
    (["plot", "kernels", "--out", "x.png", "--depth", "10"], "depth"),
    (["plot", "phase", "--out", "x.png", "--digits", "5"], "digits"),
    (["plot", "phase", "--out", "x.png", "--max-exact-depth", "100"], "max-exact-depth"),
    (["plot", "rates", "--out", "x.png", "--n-gamma", "3"], "n-gamma"),
    (["plot", "phase", "--out", "x.png", "--max-depth", "1e8"], "max-depth"),  # 10^8 recursion steps
    (["plot", "kernels", "--out", "x.png", "--max-depth", "1e-3"], "max-depth"),
    (["plot", "kernels", "--out", "taken/x.png"], "out"),  # a file where the directory should be
    (["plot", "kernels", "--out", "x.png", "--data", "taken/x.json"], "data"),
])
def test_cli_bad_input_one_line_exit_2(tmp_path, monkeypatch, capsys, argv, name):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "taken").write_text("a file")
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"rntk: error: {name}:")
    assert not (tmp_path / "x.png").exists()


def test_api_keywords_are_the_cli_options():
    # issue 18: plots.kernels(out, max_depth=...) was a TypeError; the data functions take the options'
    # names (max_depth, n_rho, rho, ...), with the same defaults
    d = plots.kernels_data(max_depth=10, n_rho=5, n_limit=7)
    assert d["depths"] == [1, 10]
    for c in d["cases"]:
        assert np.allclose(c["values"][1], ntk(c["arch"], d["rhos"], 10, **c["scale"]), rtol=0, atol=0)
    p = plots.phase_data(depth="1e1", max_depth="1e2", n_gamma=4, n_rho=3, n_slice=5, rho="0.3")
    assert p["slice_depths"] == [10, 100] and p["depth"] == 10 and p["slice_rho"] == "0.3"
    assert np.allclose(p["slice_values"][1], plots.ntk_over_gamma([0.3], p["slice_gammas"], 100)[:, 0], rtol=0, atol=0)
    with pytest.raises(ValueError, match="^max-depth:"):
        plots.kernels_data(max_depth=100, depths=(1, 4))
    with pytest.raises(ValueError, match="^max-depth:"):
        plots.phase_data(max_depth=100, slice_depths=(10,))
def test_limit_curve_equals_the_per_rho_limits():
    # the figures' depth limits: at gamma = 1/2 from one orbit of the continuum ODE for all rho
    # (asymptotics.continuum_kernels), elsewhere rntk_sym.asymptotics.limit per rho; against
    # limit_value (asymptotics.limit, one solve per rho: the segmented continuum recursion for
    # rho >= -0.9) at 12 digits. 1e-9: the curve's 8 digits asked, with the reference's error far below.
    rhos = [-0.5, 0.0, 0.3, 0.9, 1.0]
    for scale in ((("gamma", "0.5"),), (("gamma", "1"),), (("gamma", "0.25"),)):
        got = plots.limit_curve("resnet", rhos, scale)
        ref = [plots.limit_value("resnet", x, scale, 12) for x in rhos]
        assert np.all(np.abs(got - ref) < 1e-9), scale
