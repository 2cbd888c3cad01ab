"""Certified mode (issue 6): the recursion in arb balls (rntk_sym.backends.ball) must enclose the
seed formulas (tests/seed_formulas.py: seed 002's FFNet sum of products / forward loop and the
ResNet backward B recursion, plain mpmath at 90 digits, independent of the package), with a radius
that reaches the digits asked.
"""
import json
import sys

import mpmath
import pytest
import seed_formulas as seed

import rntk_sym
from rntk_sym import cli, kernels

pytest.importorskip("flint")

RHOS = ["-1", "0", "0.999999", "0.999999999999"]  # exact decimals; the last is 1 - 1e-12
SETTINGS = [("ffnet", None), ("resnet", "gamma=1"), ("resnet", "0.7")]
REF_DPS = 90  # the arccos forms lose ~2 log10(1/theta) digits near rho = 1; 60 digits are kept


def _reference(arch, setting, rho, L):
    """Seed-formula value at REF_DPS digits (``rho`` an exact decimal string)."""
    with mpmath.workdps(REF_DPS):
        r = mpmath.mpf(rho)
        if arch == "ffnet":
            # sum of products is O(L^2): the seed's forward loop beyond L = 100
            return +(seed.ffnet_ntk_sum_of_products(r, L) if L <= 100 else seed.forward_loop(arch, r, L)[0])
        a = mpmath.mpf(L) ** -1 if setting == "gamma=1" else mpmath.mpf(setting)
        return +seed.resnet_ntk_backward(r, L, a)


def _certified(arch, setting, rho, L, digits=30):
    kw = {} if arch == "ffnet" else ({"gamma": 1} if setting == "gamma=1" else {"alpha": setting})
    return rntk_sym.ntk(arch, rho, L, digits=digits, certified=True, **kw)


def _contains(kv, x):
    with mpmath.workdps(REF_DPS):
        lo, hi = (mpmath.mpf(s) for s in kv.interval)
        return abs(x - kv.value) <= kv.error + mpmath.mpf(10) ** -60 and lo <= x <= hi


@pytest.mark.parametrize("arch,setting", SETTINGS)
@pytest.mark.parametrize("rho", RHOS)
@pytest.mark.parametrize("L", [1, 7, 100, 2000])
def test_ball_contains_seed_formula(arch, setting, rho, L):
    kv = _certified(arch, setting, rho, L)
    ref = _reference(arch, setting, rho, L)
    assert kv.method == "recursion (certified)" and kv.error_kind.startswith("certified: arb ball radius")
    assert _contains(kv, ref)
    # D = 30 digits reached: the radius is below half a unit in the 30th significant digit
    assert kv.error <= abs(kv.value) * mpmath.mpf(10) ** -30 / 2
    with mpmath.workdps(REF_DPS):
        assert abs(mpmath.mpf(kv.decimal()) - ref) <= kv.decimal_error() + mpmath.mpf(10) ** -60


@pytest.mark.parametrize("arch,setting", SETTINGS)
def test_perturbed_rho_is_not_contained(arch, setting):
    # the check can fail: the ball for rho + 1e-25 (about 1e-26 wide in value) misses the reference at rho
    L, shifted = 100, "0.3000000000000000000000001"
    kv = _certified(arch, setting, shifted, L)
    assert not _contains(kv, _reference(arch, setting, "0.3", L))
    assert _contains(kv, _reference(arch, setting, shifted, L))


@pytest.mark.parametrize("arch,setting", SETTINGS)
@pytest.mark.parametrize("L", [1, 1000])
def test_diagonal_is_exactly_one(arch, setting, L):
    # docs/model.md sections 2-3: Omegabar_L(x, x) = 1. The FFNet's balls stay exact (every increment is an
    # exact 0 at u = 0); the ResNet's contain 1 with a tiny radius (shat = s3(pi)/pi is the arb ball pi/pi).
    kv = _certified(arch, setting, "1", L)
    assert kv.value == 1 and kv.error <= mpmath.mpf(10) ** -40
    assert arch == "resnet" or (kv.error == 0 and kv.interval == ("1", "1"))


def test_gp_kernel_and_more_digits():
    # the normalized GP kernel rho_L (seed_formulas.ffnet_gp) at 50 digits
    kv = rntk_sym.gp("ffnet", "0.5", 300, digits=50, certified=True)
    with mpmath.workdps(REF_DPS):
        ref = seed.ffnet_gp(mpmath.mpf("0.5"), 300)
    assert _contains(kv, ref) and kv.error <= abs(kv.value) * mpmath.mpf(10) ** -50 / 2


def test_precision_is_doubled_until_the_radius_reaches_the_digits(monkeypatch):
    # without guard digits the first precision cannot give 30 digits after 2000 layers
    monkeypatch.setattr(kernels, "ball_guard_digits", lambda depth: 0)
    kv = _certified("ffnet", None, "0.3", 2000)
    assert kv.error_kind == f"certified: arb ball radius ({2 * 100} bits)"  # ceil(30 log2 10) = 100
    assert kv.error <= abs(kv.value) * mpmath.mpf(10) ** -30 / 2
    assert _contains(kv, _reference("ffnet", None, "0.3", 2000))


def test_refusals():
    with pytest.raises(ValueError, match="certified"):
        rntk_sym.ntk("ffnet", "0.3", 10, digits=30, method="asymptotic", certified=True)
    with pytest.raises(ValueError, match="certified: needs digits"):
        rntk_sym.ntk("ffnet", 0.3, 10, certified=True)
    with pytest.raises(ValueError, match="depth"):
        rntk_sym.kernel("ffnet", "0.3", 10 ** 12, digits=30, certified=True, max_seconds=3600)
    # auto runs the recursion
    assert _certified("ffnet", None, "0.3", 10).method == "recursion (certified)"


def test_without_python_flint(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "flint", None)  # import flint now raises ImportError
    with pytest.raises(ImportError, match=r"python-flint \(a core dependency; pip install python-flint\)"):
        rntk_sym.ntk("ffnet", "0.3", 10, digits=30, certified=True)
    assert cli.main(["kernel", "--arch", "ffnet", "--rho", "0.3", "--depth", "10", "--certified"]) == 2
    assert "pip install python-flint" in capsys.readouterr().err
    # the default path needs no flint: two mpmath precisions, an estimate
    kv = rntk_sym.ntk("ffnet", "0.3", 10, digits=30)
    assert kv.method == "recursion" and kv.error_kind.startswith("estimate") and kv.interval is None


def test_cli_json(capsys):
    args = ["kernel", "--arch", "resnet", "--rho", "0.5", "--depth", "50", "--alpha", "0.7", "--certified", "--json"]
    assert cli.main(args) == 0
    res = json.loads(capsys.readouterr().out)
    assert res["certified"] is True and res["method"] == "recursion (certified)"
    with mpmath.workdps(REF_DPS):
        ref = seed.resnet_ntk_backward(mpmath.mpf("0.5"), 50, mpmath.mpf("0.7"))
        lo, hi = (mpmath.mpf(s) for s in res["interval"])
        assert lo <= ref <= hi and hi - lo < mpmath.mpf(10) ** -30
    # without --certified the recursion still runs in balls when python-flint is there (guaranteed error)
    assert cli.main(args[:-2] + ["--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert res["method"] == "recursion" and res["certified"] is True
    assert res["error_kind"].startswith("certified: arb ball radius")


@pytest.mark.parametrize("mid", ["1e-30", "1e-8", "0.01", "0.5", "1.5", "1.5707963"])
@pytest.mark.parametrize("rel_rad", ["1e-20", "0.1"])
def test_s3_small_encloses_s3_on_the_whole_ball(mid, rel_rad):
    # ball s3(a) must contain sin x - x cos x (mpmath, 90 digits) for x anywhere in the ball a,
    # not only at its midpoint; the radius stays ~ a^2 rad(a) (mean-value form), not ~ rad(a)
    from flint import arb

    from rntk_sym.backends.ball import BallBackend

    ctx = BallBackend(120)
    with ctx.active():
        m = arb(mid)
        r = m * arb(rel_rad)
        ball = ctx.s3_small(arb(m, r), None, None)
        with mpmath.workdps(REF_DPS):
            for t in ("-1", "-0.5", "0", "0.5", "1"):
                x = mpmath.mpf(m.mid().str(40, radius=False)) * (1 + mpmath.mpf(t) * mpmath.mpf(rel_rad))
                s3 = mpmath.sin(x) - x * mpmath.cos(x)
                assert ball.contains(arb(mpmath.nstr(s3, 80)).mid())
            width = mpmath.mpf(ball.rad().str(20, radius=False))
            assert width <= 2 * mpmath.mpf(mid) ** 3 * mpmath.mpf(rel_rad) + mpmath.mpf(mid) ** 3 * 2 ** -100


def test_mpf_ball_round_trip():
    # the exchange of the asymptotics' mpmath state with arb (rntk_sym.asymptotics._runner): exact,
    # signs included (mpf.man_exp drops the sign), radius 0
    from rntk_sym.backends.ball import BallBackend

    ctx = mpmath.MPContext()
    ctx.prec = 200
    b = BallBackend(200)
    with b.active():
        for x in (ctx.mpf(-3.25), ctx.zero, ctx.ldexp(1, -1000), 2 - ctx.ldexp(1, -190), -ctx.pi / 7):
            ball = b.from_mpf(x)
            assert ball.rad() == 0 and b.to_mpf(ctx, ball) == x
