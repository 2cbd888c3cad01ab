"""Bad input (issue 3, item 8): a ValueError naming the argument in the API; one line on stderr and
exit status 2 on the command line, never a traceback. And the `rntk kernel` JSON contract (docs/getting-started.md)."""
import json
import math

import numpy as np
import pytest

import rntk_sym
from rntk_sym.cli import main

GOOD = ["kernel", "--arch", "resnet", "--rho", "0.3", "--depth", "10"]


def run(capsys, argv):
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("extra,name", [
    (["--rho", "1.5"], "rho"), (["--rho", "-1.0000001"], "rho"), (["--rho", "nan"], "rho"),
    (["--rho", "abc"], "rho"), (["--depth", "0"], "depth"), (["--depth", "-3"], "depth"),
    (["--depth", "2.5"], "depth"), (["--depth", "1e-3"], "depth"), (["--depth", "1.5e0"], "depth"),
    (["--depth", "10**-3"], "depth"), (["--depth", "2*5"], "depth"), (["--depth", "__import__('os')"], "depth"),
    (["--depth", "1" + "0" * 1000], "depth"), (["--depth", "10^101"], "depth"), (["--gamma", "-0.1"], "gamma"),
    (["--alpha", "0"], "alpha"), (["--alpha", "-1"], "alpha"), (["--gamma", "1", "--alpha", "1"], "gamma/alpha"),
    (["--digits", "0"], "digits"), (["--digits", "10001"], "digits"), (["--digits", "many"], "digits"),
    (["--arch", "cnn"], "arch"), (["--kernel", "xyz"], "kernel"), (["--method", "magic"], "method"),
    (["--depth", "10" + "0" * 15, "--gamma", "0.25", "--method", "recursion"], "depth"), (["--bogus"], "bogus"),
    (["--method", "asymptotic", "--gamma", "0.25"], "method"), (["--method", "asymptotic", "--kernel", "gp"], "method"),
])
def test_cli_bad_input_exit_2(capsys, extra, name):
    code, out, err = run(capsys, GOOD + extra)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and name in err and "Traceback" not in err


def test_cli_ffnet_rejects_gamma(capsys):
    code, _, err = run(capsys, ["kernel", "--arch", "ffnet", "--rho", "0.3", "--depth", "3", "--gamma", "1"])
    assert code == 2 and "gamma" in err


def test_cli_missing_argument(capsys):
    code, _, err = run(capsys, ["kernel", "--arch", "ffnet", "--rho", "0.3"])
    assert code == 2 and "depth" in err


def test_cli_json_contract(capsys):
    code, out, err = run(capsys, GOOD + ["--json", "--digits", "25"])
    assert code == 0 and err == ""
    res = json.loads(out)
    assert {"arch", "rho", "depth", "alpha", "value", "error", "digits", "method", "seconds"} <= set(res)
    assert isinstance(res["value"], str) and isinstance(res["error"], str)
    ref = rntk_sym.ntk("resnet", "0.3", 10, digits=40)
    assert abs(float(res["value"]) - float(ref.value)) < 1e-15
    # 25 digits: the double-double recursion where numba is installed, else the balls
    assert float(res["error"]) < 1e-24 and res["method"].startswith("recursion") and res["alpha"] == "0.1"


def test_cli_text_output(capsys):
    code, out, _ = run(capsys, ["kernel", "--arch", "ffnet", "--rho", "-1", "--depth", "3", "--kernel", "gp"])
    assert code == 0 and "value" in out


def test_cli_huge_depth_is_refused_with_estimate(capsys):
    # the certified recursion has no skip-ahead: a depth it cannot finish within the hour is refused
    code, _, err = run(capsys, ["kernel", "--arch", "resnet", "--gamma", "0.25", "--rho", "0.5", "--depth",
                                "10" + "0" * 11, "--digits", "20", "--certified"])
    assert code == 2 and "hours" in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("arch,extra", [("ffnet", []), ("resnet", []), ("resnet", ["--gamma", "0.25"]),
                                        ("resnet", ["--gamma", "0.05", "--kernel", "gp"])])
def test_cli_depth_1e15_by_skip_ahead(capsys, arch, extra):
    # issue 6: L = 10^15 at 25 digits in every regime (docs/asymptotics.md sec. 3.5 and 6.3)
    code, out, _ = run(capsys, ["kernel", "--arch", arch, "--rho", "0.3", "--depth", "1" + "0" * 15, "--digits", "25",
                                "--json"] + extra)
    res = json.loads(out)
    assert code == 0 and res["method"] == "asymptotic" and float(res["error"]) < 1e-25


@pytest.mark.parametrize("call,name", [
    (lambda: rntk_sym.ntk("ffnet", 1.01, 3), "rho"),
    (lambda: rntk_sym.ntk("ffnet", float("nan"), 3), "rho"),
    (lambda: rntk_sym.ntk("ffnet", np.array([0.1, np.nan]), 3), "rho"),
    (lambda: rntk_sym.ntk("ffnet", np.array([0.1, -2.0]), 3), "rho"),
    (lambda: rntk_sym.ntk("ffnet", "2", 3, digits=20), "rho"),
    (lambda: rntk_sym.ntk("ffnet", 0.1, 0), "depth"),
    (lambda: rntk_sym.ntk("ffnet", 0.1, 2.0), "depth"),
    (lambda: rntk_sym.ntk("ffnet", 0.1, True), "depth"),
    (lambda: rntk_sym.ntk("resnet", 0.1, 3, gamma=-1), "gamma"),
    (lambda: rntk_sym.ntk("resnet", 0.1, 3, gamma=math.inf), "gamma"),
    (lambda: rntk_sym.ntk("resnet", 0.1, 3, alpha=0), "alpha"),
    (lambda: rntk_sym.ntk("resnet", 0.1, 3, alpha=1, gamma=1), "gamma/alpha"),
    (lambda: rntk_sym.ntk("ffnet", 0.1, 3, alpha=1), "gamma/alpha"),
    (lambda: rntk_sym.ntk("ffnet", 0.1, 3, digits=0), "digits"),
    (lambda: rntk_sym.ntk("ffnet", 0.1, 3, digits=10001), "digits"),
    (lambda: rntk_sym.ntk("ffnet", 0.1, 3, digits=2.5), "digits"),
    (lambda: rntk_sym.ntk("lstm", 0.1, 3), "arch"),
    (lambda: rntk_sym.kernel("ffnet", 0.1, 3, kernel="cntk"), "kernel"),
])
def test_api_bad_input(call, name):
    with pytest.raises(ValueError, match=f"^{name}:"):
        call()


def test_cli_limit_json_contract(capsys):
    # JSON contract: limit --json = {"value", "error", "regime"}; gamma = 1 limit is Omegabar_1 (docs/model.md sec. 3)
    code, out, _ = run(capsys, ["limit", "--arch", "resnet", "--rho", "0.5", "--json", "--digits", "20"])
    res = json.loads(out)
    assert code == 0 and {"value", "error", "regime"} <= set(res)
    import mpmath
    import seed_formulas as seed
    with mpmath.workdps(30):
        r = mpmath.mpf("0.5")
        ref = (seed.shat(r) + r * seed.shatp(r)) / 2
        assert abs(mpmath.mpf(res["value"]) - ref) < 1e-19


def test_cli_rate_json_contract(capsys):
    # JSON contract: rate --json = {"limit", "form", "terms": [{"coefficient", "power", "log_power", "exact"}]}
    code, out, _ = run(capsys, ["rate", "--arch", "ffnet", "--rho", "0.5", "--json", "--digits", "12"])
    res = json.loads(out)
    assert code == 0 and {"limit", "form", "terms"} <= set(res)
    lead = res["terms"][0]
    assert {"coefficient", "power", "log_power", "exact"} <= set(lead)
    assert isinstance(lead["coefficient"], str) and lead["power"] == 1 and lead["log_power"] == 1
    assert lead["exact"] == "3/8" and abs(float(lead["coefficient"]) - 0.375) < 1e-12


@pytest.mark.parametrize("argv,name", [
    (["limit", "--arch", "resnet", "--rho", "0.5", "--beta", "1", "--gamma", "1"], "beta"),
    (["limit", "--arch", "ffnet", "--rho", "2"], "rho"),
    (["rate", "--arch", "resnet", "--rho", "0.5", "--alpha", "-1"], "alpha"),
    (["rate", "--arch", "resnet", "--rho", "0.5", "--digits", "0"], "digits"),
    (["limit", "--arch", "ffnet", "--rho", "0.5", "--quiet"], "quiet"),  # no progress bar to silence
])
def test_cli_limit_rate_bad_input(capsys, argv, name):
    code, out, err = run(capsys, argv)
    assert code == 2 and out == "" and name in err and len(err.strip().splitlines()) == 1


def test_cli_max_digits(capsys):
    # digits = 10000 (the allowed maximum) must not trip Python's 4300-digit int conversion limit
    code, out, err = run(capsys, GOOD[:-1] + ["3", "--digits", "10000", "--json"])
    res = json.loads(out)
    assert code == 0 and len(res["value"].lstrip("0.")) >= 9999
    assert res["error"].endswith(("e-10000", "e-10001", "e-10002"))  # below float range: read the exponent


@pytest.mark.parametrize("argv", [["rate", "--arch", "ffnet", "--rho", "0.5", "--digits", "500"],
                                  ["limit", "--arch", "resnet", "--rho", "0.5", "--gamma", "0.5", "--digits", "500"]])
def test_cli_numeric_asymptotics_refuse_absurd_digits(capsys, argv):
    code, out, err = run(capsys, argv)
    assert code == 2 and "digits" in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("nogmpy", ["1", ""])
def test_cli_max_digits_with_and_without_gmpy2(nogmpy):
    # mpmath's two backends (gmpy2, a core dependency, or pure Python: MPMATH_NOGMPY=1) format
    # decimals differently; the pure-Python one goes through Python ints, capped at 4300 digits
    import os
    import subprocess
    import sys
    if not nogmpy:
        pytest.importorskip("gmpy2")
    env = (
        dict(os.environ, MPMATH_NOGMPY=nogmpy)
        if nogmpy
        else {k: v for k, v in os.environ.items() if k != "MPMATH_NOGMPY"}
    )
    code = ("import json, mpmath, sys; from rntk_sym.cli import main; "
            "sys.argv = ['rntk']; print(mpmath.libmp.BACKEND, file=sys.stderr); "
            "sys.exit(main(['limit', '--arch', 'resnet', '--rho', '0.3', '--digits', '10000', '--json']))")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert p.returncode == 0, p.stderr
    assert ("python" in p.stderr) == bool(nogmpy)
    assert len(json.loads(p.stdout)["value"]) >= 10000


@pytest.mark.parametrize("text,value", [("1000", 1000), ("1e3", 1000), ("1.5e3", 1500), ("10**15", 10**15),
                                        ("10^15", 10**15), (" 2 ^ 10 ", 1024), ("1E2", 100),
                                        ("1" + "0" * 100, 10**100)])
def test_depth_notations(text, value):
    # issue 18: one parser (rntk_sym.inputs.depth) for every depth: exact integer notations, never eval
    from rntk_sym import inputs, plots, sweep
    assert inputs.depth(text) == value
    assert sweep.depth_range(f"1:{text}:2") == [1, value]
    assert plots.powers_of_ten(1, text)[-1] == 10 ** (len(str(value)) - 1)
    if value <= 1000:
        assert rntk_sym.ntk("ffnet", 0.3, text) == rntk_sym.ntk("ffnet", 0.3, value)


def test_depth_beyond_skip_ahead_one_line(capsys):
    # issue 18: "--depth 1" followed by 1000 zeros was an OverflowError traceback; the skip-ahead reaches 10^100
    code, out, err = run(capsys, ["kernel", "--arch", "resnet", "--rho", "0.3", "--depth", "1" + "0" * 1000])
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1 and "10^100" in err
    assert len(err) < 300  # the 1001-digit value is shown by its ends


def test_depth_1e100_ffnet(capsys):
    # L = 10^100 by the Fatou route (docs/asymptotics.md sec. 3.5): Omegabar_L = 1/4 + (3/8) log L / L + ...
    # = 1/4 + 8.7e-99 (tests/test_asymptotics.py checks the 110-digit value against the expansion)
    code, out, _ = run(capsys, ["kernel", "--arch", "ffnet", "--rho", "0.3", "--depth", "10^100", "--json"])
    res = json.loads(out)
    assert code == 0 and res["depth"] == 10**100 and res["method"] == "asymptotic"
    assert res["value"] == "0." + "25" + "0" * 28 and float(res["error"]) < 1e-30


def test_recursion_refusal_points_to_the_skip_ahead(capsys):
    # issue 18: at L = 10^9 "--method recursion" said "no asymptotic description applies here", though
    # "--method auto" answers that depth
    code, _, err = run(capsys, ["kernel", "--arch", "ffnet", "--rho", "0.5", "--depth", "1e9", "--method", "recursion"])
    assert code == 2 and "hours" in err and "'auto'" in err and "no asymptotic" not in err
    code, out, _ = run(capsys, ["kernel", "--arch", "ffnet", "--rho", "0.5", "--depth", "1e9", "--json"])
    assert code == 0 and json.loads(out)["method"] == "asymptotic"


def test_version(capsys):
    code, out, _ = run(capsys, ["--version"])
    assert code == 0 and out.strip() == f"rntk {rntk_sym.__version__}"


@pytest.mark.parametrize("argv", [["limit", "--arch", "resnet", "--rho", "0.3", "--json"],
                                  ["limit", "--arch", "resnet", "--rho", "0.3", "--digits", "3000"],
                                  ["kernel", "--arch", "ffnet", "--rho", "0.3", "--depth", "1e3"],
                                  ["verify", "--only", "002-nonlearnability", "--quick", "--json"],
                                  ["--version"], ["--help"]])
def test_closed_pipe_is_quiet(argv):
    # issue 18: "rntk verify --quick --json | head -c 100" ended in a BrokenPipeError traceback. The read
    # end of the pipe is closed before the command starts, so its first write fails (deterministic); the
    # command stops quietly: nothing on stderr, status 141 = 128 + SIGPIPE (0 for argparse's --help and
    # --version, which swallow the error themselves)
    import os
    import subprocess
    import sys
    root = os.path.dirname(os.path.dirname(os.path.abspath(rntk_sym.__file__)))  # this checkout's package
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([root, os.environ.get("PYTHONPATH", "")]))
    r, w = os.pipe()
    os.close(r)
    try:
        p = subprocess.run([sys.executable, "-m", "rntk_sym.cli", *argv], stdout=w, stderr=subprocess.PIPE,
                           timeout=300, env=env)
    finally:
        os.close(w)
    assert p.stderr == b"" and p.returncode in ((0, 141) if argv[0].startswith("--") else (141,))
