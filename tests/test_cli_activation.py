"""``rntk kernel --activation NAME[:PARAMS] --weight-var --bias-var`` (command-line contract of docs/getting-started.md:
exact decimals, one-line errors naming the argument with exit status 2). The values are those of
rntk_sym.kernel (checked in tests/test_general.py), so here the CLI is compared with the API."""
import json

import mpmath
import pytest

import rntk_sym
from rntk_sym.cli import main

BASE = ["kernel", "--arch", "resnet", "--gamma", "0.5", "--rho", "0.3", "--depth", "6", "--digits", "20"]


def run(capsys, argv):
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_activation_json(capsys):
    code, out, _ = run(capsys, BASE + ["--activation", "erf:1,2,0", "--weight-var", "1.5", "--bias-var", "0.1",
                                       "--json"])
    assert code == 0
    res = json.loads(out)
    ref = rntk_sym.ntk("resnet", "0.3", 6, gamma="0.5", digits=20, activation="erf:1,2,0", weight_var="1.5",
                       bias_var="0.1")
    with mpmath.workdps(40):
        assert abs(mpmath.mpf(res["value"]) - ref.value) <= mpmath.mpf(10) ** -19 * abs(ref.value)
    assert (res["activation"], res["weight_var"], res["bias_var"]) == ("erf:1,2,0", "1.5", "0.1")


def test_cli_default_network_is_the_seed_kernel(capsys):
    # relu with weight variance 2 and no bias is the seeds' network: the same value as without the options
    _, a, _ = run(capsys, BASE + ["--json"])
    _, b, _ = run(capsys, BASE + ["--activation", "relu", "--weight-var", "2", "--bias-var", "0", "--json"])
    assert json.loads(a)["value"] == json.loads(b)["value"]


@pytest.mark.parametrize("extra,name", [(["--activation", "erf:x"], "activation"),
                                        (["--activation", "__import__('os')"], "activation"),
                                        (["--activation", "tanh"], "activation"),
                                        (["--weight-var", "0"], "weight_var"), (["--weight-var", "1/2"], "weight_var"),
                                        (["--bias-var", "-0.1"], "bias_var"),
                                        (["--activation", "step"], "activation")])
def test_cli_activation_bad_input(capsys, extra, name):
    code, out, err = run(capsys, BASE + extra)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and name in err, err


def test_cli_activation_certified(capsys):
    # --certified with a closed-form activation: the interval encloses the 40-digit value
    code, out, _ = run(capsys, BASE + ["--activation", "gelu", "--bias-var", "0.1", "--certified", "--json"])
    res = json.loads(out)
    assert code == 0 and res["certified"] and len(res["interval"]) == 2
    ref = rntk_sym.ntk("resnet", "0.3", 6, gamma="0.5", digits=40, activation="gelu", bias_var="0.1")
    with mpmath.workdps(50):
        assert mpmath.mpf(res["interval"][0]) <= ref.value <= mpmath.mpf(res["interval"][1])
