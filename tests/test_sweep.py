"""Parameter sweeps and `rntk explore` (issue 8, item 2; rntk_sym/sweep.py).

References: values against the seed formulas transcribed in tests/seed_formulas.py (seed 002; docs/model.md
sections 1-3), at 40 digits; the regimes against docs/model.md section 4 (gamma > 1/2: Omegabar_1(rho) =
(shat + rho shatp) / 2, seed 002 Theorem 7; constant alpha: the constant 1/4, seed 000 / seed 002
section 5; FFNet: 1/4, seed 002 Theorem 6); Dask against the local engine (issue 8: identical results).
"""
import json
import os
import sys

import mpmath
import pytest
import seed_formulas as sf

from rntk_sym import sweep as sw
from rntk_sym.cli import main

RHOS = ["-0.5", "0", "0.5"]


def reference(arch, rho, L, scale):
    """Omegabar_L(rho) from the seed formulas' forward loop, at 40 digits."""
    with mpmath.workdps(40):
        alpha = None
        if scale[0] == "gamma":
            alpha = mpmath.mpf(L) ** (-mpmath.mpf(scale[1]))
        elif scale[0] == "alpha":
            alpha = mpmath.mpf(scale[1])
        return sf.forward_loop(arch, mpmath.mpf(rho), L, alpha)[0]


def test_values_match_seed_formulas_float64_and_digits():
    for digits, tol in ((None, 1e-13), (25, 1e-24)):
        res = sw.sweep("resnet", gammas=["1", "0.25"], alphas=["0.7"], rhos=RHOS, depths=[3, 40],
                       digits=digits, workers=1)
        assert len(res["points"]) == 3 * 3 * 2 and res["computed"] == 18
        for row in res["points"]:
            ref = reference("resnet", row["rho"], row["depth"], (row["scale"], row["scale_value"]))
            with mpmath.workdps(40):
                assert abs(mpmath.mpf(row["value"]) - ref) < tol, row


def test_regimes_and_rates():
    res = sw.sweep("resnet", gammas=["1", "0.5"], alphas=["1"], rhos=RHOS + ["1"],
                   depths=[10, 100, 1000, 10000], workers=1)
    by = {(s["scale"], s["scale_value"], s["rho"]): s for s in res["series"]}
    for rho in RHOS:
        s = by[("gamma", "1", rho)]
        with mpmath.workdps(30):
            r = mpmath.mpf(rho)
            o1 = (sf.shat(r) + r * sf.shatp(r)) / 2
        assert s["regime"] == "one-hidden-layer" and abs(float(s["limit"]) - float(o1)) < 1e-15
        assert s["q"] == 0 and abs(s["p"] - 1) < 0.05  # Theorem 7: O(1/L)
        assert by[("alpha", "1", rho)]["regime"] == "degenerate"
        assert by[("alpha", "1", rho)]["limit"] == "0.25"
        assert by[("gamma", "0.5", rho)]["regime"] == "borderline"
    assert all(by[(sc, v, "1")]["regime"] == "diagonal" for sc, v in (("gamma", "1"), ("alpha", "1")))


def test_ffnet_rate_has_a_log_factor():
    res = sw.sweep("ffnet", rhos=["0.5"], depths=[2**k for k in range(8, 15)], workers=1)
    (s,) = res["series"]
    assert s["regime"] == "degenerate" and s["q"] == 1 and abs(s["p"] - 1) < 0.05


def test_resume_skips_cached_points_and_equals_a_fresh_run(tmp_path):
    kw = dict(gammas=["1", "0.75"], rhos=RHOS, depths=[5, 50, 500])
    fresh = sw.sweep("resnet", cache=str(tmp_path / "full.jsonl"), **kw)
    lines = (tmp_path / "full.jsonl").read_text().splitlines()
    assert len(lines) == 18 and fresh["computed"] == 18
    # an interrupted sweep: 7 points written, then a torn line
    part = tmp_path / "part.jsonl"
    part.write_text("\n".join(lines[:7]) + "\n" + lines[7][:25])
    seen = []
    resumed = sw.sweep("resnet", cache=str(part), progress=seen.append, **kw)
    assert (resumed["cached"], resumed["computed"]) == (7, 11) and seen[0] == 7 and seen[-1] == 18
    assert resumed["points"] == fresh["points"] and resumed["series"] == fresh["series"]
    assert len(sw.read_cache(str(part))) == 18
    # cached points are read, not recomputed: a tampered cached value comes back as written
    row = json.loads(lines[0])
    row["value"] = "0.125"
    part.write_text(json.dumps(row) + "\n")
    again = sw.sweep("resnet", cache=str(part), workers=1, **kw)
    assert sw.key(row) in {sw.key(p) for p in again["points"] if p["value"] == "0.125"}
    # resume=False starts over
    assert sw.sweep("resnet", cache=str(part), resume=False, workers=1, **kw)["points"] == fresh["points"]


def test_dask_local_cluster_equals_local():
    pytest.importorskip("dask.distributed")
    from dask.distributed import LocalCluster

    kw = dict(gammas=["1", "0.25"], alphas=["0.5"], rhos=RHOS, depths=[4, 64, 1024])
    local = sw.sweep("resnet", **kw)
    hp_local = sw.sweep("resnet", gammas=["1"], rhos=["0.3"], depths=[10, 20, 40], digits=20, workers=1)
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None) as cluster:
        remote = sw.sweep("resnet", engine="dask", scheduler=cluster, **kw)
        hp_remote = sw.sweep("resnet", gammas=["1"], rhos=["0.3"], depths=[10, 20, 40], digits=20,
                             scheduler=cluster.scheduler_address)
    assert remote["points"] == local["points"] and remote["series"] == local["series"]
    assert hp_remote["points"] == hp_local["points"]


def hide_dask(monkeypatch):
    for name in ("dask", "dask.distributed", "distributed"):
        monkeypatch.setitem(sys.modules, name, None)  # `import dask...` now raises ImportError


def test_without_dask_local_works_and_dask_fails_clearly(monkeypatch, capsys, tmp_path):
    hide_dask(monkeypatch)
    res = sw.sweep("ffnet", rhos=["0.5"], depths=[2, 4, 8], workers=1)
    assert len(res["points"]) == 3
    with pytest.raises(ImportError, match=r"rntk_sym\[dask\]"):
        sw.sweep("ffnet", rhos=["0.5"], depths=[2, 4, 8], engine="dask")
    code = main(["explore", "--arch", "ffnet", "--rho", "0.5", "--depths", "2,4", "--dask",
                 "--out", str(tmp_path), "--json"])
    out, err = capsys.readouterr()
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1 and "rntk_sym[dask]" in err


@pytest.mark.parametrize("extra,name", [
    (["--rho", "1.5"], "rho"), (["--rho", "x"], "rho"), (["--gamma", "-1"], "gamma"),
    (["--alpha", "0"], "alpha"), (["--depths", "0,10"], "depth"), (["--depths", "ten"], "depth"),
    (["--depths", "1e-3"], "depth"), (["--depths", "1.5"], "depth"), (["--depth-range", "10:5:3"], "depth-range"),
    (["--depth-range", "1:1e101:3"], "depth-range"), (["--dask", "--workers", "1"], "workers"),
    (["--depth-range", "10:100"], "depth-range"), (["--digits", "0"], "digits"),
    (["--workers", "3"], "workers"), (["--arch", "cnn"], "arch"), (["--bogus"], "bogus"),
    (["--rho", ",".join(str(k / 100) for k in range(70)), "--depths", "10000000000000"], "depths"),  # > 64 rho
    (["--rho", ",".join(str(k / 100) for k in range(70)), "--depths", "1e100"], "depths"),  # estimate: inf
])
def test_cli_bad_input_exit_2(capsys, tmp_path, extra, name):
    argv = ["explore", "--rho", "0.5", "--depths", "10,20", "--out", str(tmp_path)]
    code = main(argv + extra)
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and name in err and "Traceback" not in err


def test_cli_ffnet_rejects_gamma(capsys, tmp_path):
    code = main(["explore", "--arch", "ffnet", "--gamma", "1", "--rho", "0.5", "--depths", "4,8",
                 "--out", str(tmp_path)])
    assert code == 2 and "gamma" in capsys.readouterr().err


def test_cli_json_files_and_resume(capsys, tmp_path):
    argv = ["explore", "--gamma", "1,0.5", "--rho=-0.5,0.5", "--depth-range", "10:1000:3", "--out",
            str(tmp_path), "--json", "--workers", "1"]
    assert main(argv) == 0
    out, err = capsys.readouterr()
    res = json.loads(out)
    assert err == "" and res["points"] == 12 and res["computed"] == 12 and res["grid"]["depths"] == [10, 100, 1000]
    assert {os.path.basename(p) for p in res["files"].values()} == {"points.csv", "series.csv", "sweep.json"}
    saved = json.loads((tmp_path / "sweep.json").read_text())
    assert len(saved["points"]) == 12 and saved["series"] == res["series"]
    assert len((tmp_path / "points.csv").read_text().splitlines()) == 13
    assert main(argv + ["--resume"]) == 0
    again = json.loads(capsys.readouterr()[0])
    assert (again["cached"], again["computed"]) == (12, 0) and again["series"] == res["series"]
    assert main(argv[:-3] + ["--resume"]) == 0 and "regime" in capsys.readouterr()[0]  # text output


def test_cli_refuses_to_replace_a_previous_run(capsys, tmp_path):
    # issue 18: a re-run into the same folder without --resume silently replaced a 48-point sweep and its
    # cache with 4 points. Now: one line, exit 2, and every file of the previous run left as it was
    argv = ["explore", "--arch", "ffnet", "--rho", "0.5", "--depths", "2,4,8", "--out", str(tmp_path), "--json"]
    assert main(argv) == 0
    capsys.readouterr()
    before = {f.name: f.read_bytes() for f in tmp_path.iterdir()}
    assert set(before) == {"cache.jsonl", "points.csv", "series.csv", "sweep.json"}
    code = main(argv[:6] + ["2,4"] + argv[7:])
    out, err = capsys.readouterr()
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1
    assert "previous run" in err and "--resume" in err and err.startswith("rntk: error: out:")
    assert {f.name: f.read_bytes() for f in tmp_path.iterdir()} == before
    assert main(argv[:6] + ["2,4,8,16"] + argv[7:] + ["--resume"]) == 0  # continuing it is allowed
    res = json.loads(capsys.readouterr()[0])
    assert (res["cached"], res["computed"]) == (3, 1)
    assert len((tmp_path / "cache.jsonl").read_text().splitlines()) == 4  # appended, nothing lost


@pytest.mark.parametrize("where", ["file", "under_file", "under_proc"])
def test_cli_out_that_cannot_be_a_directory(capsys, tmp_path, where):
    # issue 18: FileExistsError / FileNotFoundError tracebacks; now one line naming --out, exit 2
    blocker = tmp_path / "taken"
    blocker.write_text("not a directory")
    out_dir = {"file": blocker, "under_file": blocker / "sub", "under_proc": "/proc/rntk_no_such/dir"}[where]
    code = main(["explore", "--arch", "ffnet", "--rho", "0.5", "--depths", "2,4", "--out", str(out_dir)])
    out, err = capsys.readouterr()
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1 and err.startswith("rntk: error: out:")
    assert blocker.read_text() == "not a directory"


def test_cli_unreachable_scheduler_one_line(capsys, tmp_path):
    # issue 18: a 30 s wait, then a 40-line OSError traceback. Loopback port 1: nothing listens there; the
    # connection attempt is given CONNECT_SECONDS (dask's timeout argument), then one line naming --scheduler
    pytest.importorskip("dask.distributed")
    code = main(["explore", "--arch", "ffnet", "--rho", "0.5", "--depths", "2,4", "--out", str(tmp_path / "o"),
                 "--scheduler", "tcp://127.0.0.1:1", "--quiet"])
    out, err = capsys.readouterr()
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1
    assert err.startswith("rntk: error: scheduler:") and "127.0.0.1:1" in err


def test_depth_range():
    assert sw.depth_range("10:1e5:5") == [10, 100, 1000, 10000, 100000]
    assert sw.depth_range("1:3:10") == [1, 2, 3]


def test_series_carry_the_derived_limit():
    # explore sets what docs/asymptotics.md derives beside what the data show; where the data settle
    # (gamma = 1, rho = 0.5: one-hidden-layer) the two limits agree
    from rntk_sym import sweep as S
    res = S.sweep("resnet", gammas=["1"], rhos=["0.5"], depths=[10, 100, 1000, 10000], workers=1)
    (s,) = res["series"]
    assert s["regime"] == "one-hidden-layer" and s["derived_rate"] == "L^-(1)"
    assert abs(float(s["limit"]) - float(s["derived_limit"])) < 1e-11


def test_deep_sweep_uses_the_skip_ahead():
    # depths the recursion would need hours for: the estimate counts the skip-ahead that rntk_sym.ntk
    # chooses there (docs/asymptotics.md sec. 6.3), and the values agree with it at 25 digits
    deep = sw.grid("resnet", gammas=["0.25"], rhos=["0", "0.5"], depths=[10 ** 9, 10 ** 12])
    assert sw.estimate_seconds(deep) < 60
    many = sw.grid("resnet", gammas=["0.25"], rhos=[str(k / 100) for k in range(100)], depths=[10 ** 12])
    assert sw.estimate_seconds(many) > sw.MAX_SECONDS  # over 64 float64 rhos: the recursion, refused
    res = sw.sweep("resnet", gammas=["0.25"], rhos=["0", "0.5"], depths=[10 ** 9], workers=1)
    import rntk_sym

    for row in res["points"]:
        ref = rntk_sym.ntk("resnet", row["rho"], 10 ** 9, gamma="0.25", digits=25, method="asymptotic")
        assert abs(float(row["value"]) - float(ref.value)) < 1e-15
