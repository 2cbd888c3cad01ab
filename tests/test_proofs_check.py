"""proofs_check (``rntk verify``): every check passes on the package and fails on a wrong kernel.

Wrong kernels: a perturbed dual (core.naive_kernel with altered shat / shatp, or altered sympy duals)
and a wrong normalization (the kernel or the divisor scaled). Source of each claim: the check's
``source`` (the paper by title and arXiv id, and the theorem)."""
from __future__ import annotations

import io
import json
from contextlib import redirect_stdout

import numpy as np
import pytest

from proofs_check import (
    empirical_ntk,
    ffnet_thm6,
    gram_gd,
    nonlearnability,
    resnet_divisor,
    resnet_thm7,
    resnet_thm7_endpoint,
    seed000_degenerate,
    seed000_gamma_gt_half,
    seed000_gamma_half,
    seed000_gamma_lt_half,
)
from proofs_check.core import naive_kernel, package_kernel, relu_shat, relu_shatp
from rntk_sym.cli import main
from rntk_sym.duals import RHO, dual


def scaled(factor):
    """Wrong normalization: the package's kernel times ``factor``."""
    return lambda arch, rho, L, **kw: factor * package_kernel(arch, rho, L, **kw)


PERTURBED_SHAT = naive_kernel(lambda r: relu_shat(r) + 0.01 * (1 - r * r), relu_shatp)
PERTURBED_SHATP = naive_kernel(relu_shat, lambda r: relu_shatp(r) + 0.01 * (1 - r))


def test_naive_kernel_matches_package():
    for arch in ("ffnet", "resnet"):
        for r in (-0.7, 0.2, 0.9):
            assert naive_kernel(relu_shat, relu_shatp)(arch, r, 50) == pytest.approx(
                package_kernel(arch, r, 50), abs=1e-12
            )


def test_ffnet_diagonal_proof_and_its_failure():
    assert ffnet_thm6.diagonal_proof()["proved T_L = L"]
    relu = dual("relu")
    assert not ffnet_thm6.diagonal_proof(shatp=relu.shatp * sp_rational(101, 100))["proved T_L = L"]


def sp_rational(p, q):
    import sympy as sp

    return sp.Rational(p, q)


def test_ffnet_thm6_fails_on_wrong_normalization():
    c = ffnet_thm6.check(True, kernel=scaled(1.001))
    assert c.status == "fail" and c.evidence["failed"]


def test_resnet_thm7_fails_on_perturbed_dual():
    c = resnet_thm7.check(True, kernel=PERTURBED_SHAT)
    assert c.status == "fail"


def test_resnet_thm7_endpoint_fails_on_perturbed_dual():
    c = resnet_thm7_endpoint.check(True, kernel=PERTURBED_SHATP)
    assert c.status == "fail"
    assert any("rho=-1" in f for f in c.evidence["failed"])


def test_resnet_divisor_passes_and_fails_on_wrong_divisor():
    assert resnet_divisor.check(True).status == "pass"
    L, A = resnet_divisor.L, resnet_divisor.A
    c = resnet_divisor.check(True, divisor=2 * L * A ** 2 * (1 + A ** 2) ** L)
    assert c.status == "fail"
    relu = dual("relu")
    assert resnet_divisor.check(True, shat=relu.shat + (1 - RHO) / 3 + sp_rational(1, 10)).status == "fail"


def test_nonlearnability_passes_and_fails_on_wrong_limit_kernel():
    c = nonlearnability.check(True)
    assert c.status == "pass"
    assert c.evidence["f(x_j)/y_j (J y = 0)"] == "3/(4*lambda + 3)"
    assert nonlearnability.check(True, kernel_values=(1, 0.3)).status == "fail"
    assert nonlearnability.check(True, kernel_values=(0.9, 0.25)).status == "fail"


def test_gamma_gt_half_fails_on_wrong_normalization():
    assert seed000_gamma_gt_half.check(True, kernel=scaled(1.001)).status == "fail"


def test_gram_gd_passes_and_fails_on_wrong_gram():
    assert gram_gd.check(True).status == "pass"
    ten = lambda X, L: 10 * gram_gd.unnormalized_gram(X, L)  # noqa: E731
    c = gram_gd.check(True, gram=ten)
    assert c.status == "fail" and any("GD" in f for f in c.evidence["failed"])
    indefinite = lambda X, L: gram_gd.unnormalized_gram(X, L) - 0.7 * np.eye(len(X))  # noqa: E731
    assert gram_gd.check(True, gram=indefinite).status == "fail"


def test_empirical_ntk_fails_on_wrong_analytic_kernel():
    wrong = lambda X, arch, L, g: 1.3 * empirical_ntk.analytic_gram(X, arch, L, g)  # noqa: E731
    c = empirical_ntk.check(True, analytic=wrong, seeds=4)
    assert c.status == "fail"


def _verify_json(argv):
    buf = io.StringIO()
    with redirect_stdout(buf):
        code = main(["verify", "--quick", "--json", "--quiet", *argv])
    return code, json.loads(buf.getvalue())


def _validate(res):
    assert set(res) >= {"checks", "passed", "failed"}
    assert res["passed"] + res["failed"] == len(res["checks"])
    for c in res["checks"]:
        assert set(c) >= {"id", "source", "claim", "status", "evidence"}
        assert c["status"] in ("pass", "fail") and isinstance(c["evidence"], dict)
        assert c["claim"] and c["source"]
        # issue 18: cited by title and arXiv id; a user's clone has no seeds/ folder
        assert "arXiv:" in c["source"] and "seeds/" not in c["source"] and "MATH.md" not in c["source"]


def test_verify_json_contract_and_exit_status(monkeypatch):
    code, res = _verify_json(["--only", "resnet_divisor", "nonlearnability", "gram_gd"])
    _validate(res)
    assert code == 0 and res["failed"] == 0 and res["passed"] == 3
    monkeypatch.setattr(nonlearnability, "limit_kernel_values", lambda: (1, sp_rational(1, 3)))
    code, res = _verify_json(["--only", "resnet_divisor", "nonlearnability"])
    _validate(res)
    assert code == 1 and res["failed"] == 1


def test_verify_only_takes_ids_and_module_names(capsys):
    # issue 18: the report prints ids (002-resnet-divisor); --only took module names only
    code, res = _verify_json(["--only", "002-resnet-divisor", "nonlearnability"])
    assert code == 0 and [c["id"] for c in res["checks"]] == ["002-resnet-divisor", "002-nonlearnability"]
    assert main(["verify", "--only", "thm6"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "002-thm6-ffnet (ffnet_thm6)" in err and "only" in err


def test_verify_table_output():
    buf = io.StringIO()
    with redirect_stdout(buf):
        code = main(["verify", "--quick", "--quiet", "--only", "resnet_divisor"])
    out = buf.getvalue()
    assert code == 0 and "PASS" in out and "002-resnet-divisor" in out and "1 passed, 0 failed" in out


@pytest.mark.slow
def test_verify_quick_all_pass():
    code, res = _verify_json([])
    _validate(res)
    assert code == 0, [c["evidence"].get("failed") for c in res["checks"] if c["status"] == "fail"]
    assert {c["id"] for c in res["checks"]} >= {"002-thm6-ffnet", "002-thm7-resnet", "003-gram-pd-gd"}


@pytest.mark.slow
@pytest.mark.parametrize("mod", [seed000_degenerate, seed000_gamma_lt_half, seed000_gamma_half])
def test_seed000_checks_fail_on_wrong_normalization(mod):
    assert mod.check(True, kernel=scaled(1.002)).status == "fail"
