"""The one recursion (rntk_sym.recursions) in every backend against independent transcriptions of
the seed formulas (tests/seed_formulas.py: seed 002's FFNet sum of products and ResNet backward
B recursion, unnormalized, docs/model.md sections 2-3), and the float64 path against mpmath.
"""
import math

import mpmath
import numpy as np
import pytest
import seed_formulas as seed
from hypothesis import given, settings
from hypothesis import strategies as st

import rntk_sym
from rntk_sym import kernels
from rntk_sym.backends import MPBackend
from rntk_sym.backends.floats import _s3_series

RHOS = ["-1", "-0.99", "-0.3", "0", "0.3", "0.7", "0.999"]


def _ref(arch, kernel, rho, L, alpha=None, dps=90):
    """Seed formula at `dps` digits (the arccos forms cancel near rho = 1, hence the many digits)."""
    with mpmath.workdps(dps):
        r = mpmath.mpf(rho)
        if arch == "ffnet":
            return +(seed.ffnet_ntk_sum_of_products(r, L) if kernel == "ntk" else seed.ffnet_gp(r, L))
        a = mpmath.mpf(alpha)
        return +(seed.resnet_ntk_backward(r, L, a) if kernel == "ntk" else seed.resnet_gp(r, L, a))


@pytest.mark.parametrize("rho", RHOS)
@pytest.mark.parametrize("L", [1, 2, 3, 7, 20])
@pytest.mark.parametrize("kernel", ["ntk", "gp"])
def test_ffnet_vs_sum_of_products(rho, L, kernel):
    # seed 002 / docs/model.md section 2: Omega_L = sum_l K_{l-1} prod_{i>=l} shatp(K_{i-1}), at 50 digits
    got = rntk_sym.kernel("ffnet", rho, L, kernel=kernel, digits=50)
    ref = _ref("ffnet", kernel, rho, L)
    assert abs(got.value - ref) <= mpmath.mpf(10) ** -49 * max(abs(ref), 1e-2)
    assert abs(got.value - ref) <= got.error + mpmath.mpf(10) ** -60


@pytest.mark.parametrize("rho", RHOS)
@pytest.mark.parametrize("L", [1, 2, 3, 7, 20])
@pytest.mark.parametrize("scale", [("gamma", 1), ("gamma", "0.5"), ("gamma", "0.25"), ("alpha", "0.7"),
                                   ("alpha", "3")])
@pytest.mark.parametrize("kernel", ["ntk", "gp"])
def test_resnet_vs_backward_B_recursion(rho, L, scale, kernel):
    # seed 002 / docs/model.md section 3: alpha^2 sum_l B_{l+1} [Gamma + K Gamma'] / (2 L alpha^2 (1+alpha^2)^(L-1))
    name, val = scale
    got = rntk_sym.kernel("resnet", rho, L, kernel=kernel, digits=50, **{name: val})
    if name == "gamma":
        with mpmath.workdps(90):
            alpha = mpmath.mpf(L) ** (-mpmath.mpf(val))
    else:
        alpha = val
    ref = _ref("resnet", kernel, rho, L, alpha)
    assert abs(got.value - ref) <= mpmath.mpf(10) ** -49 * max(abs(ref), 1e-2)


def test_reference_comparison_can_fail():
    # a 1e-30 perturbation of rho is seen at 50 digits
    got = rntk_sym.ntk("ffnet", "0.3", 7, digits=50)
    assert abs(got.value - _ref("ffnet", "ntk", mpmath.mpf("0.3") + mpmath.mpf(10) ** -30, 7)) > 1e-40


@pytest.mark.parametrize("arch,kw", [("ffnet", {}), ("resnet", {}), ("resnet", {"gamma": "0.5"}),
                                     ("resnet", {"alpha": "2"}), ("resnet", {"gamma": 0})])
@pytest.mark.parametrize("L", [1, 5, 1000])
def test_diagonal_is_exactly_one(arch, kw, L):
    # docs/model.md sections 2-3: Omegabar_L(x, x) = 1 for every L (the divisor is the diagonal value);
    # exact in every backend because every increment vanishes exactly at u = 0.
    for kernel in ("ntk", "gp"):
        assert rntk_sym.kernel(arch, 1.0, L, kernel=kernel, **kw) == 1.0
        assert np.all(rntk_sym.kernel(arch, np.ones(3), L, kernel=kernel, **kw) == 1.0)
        assert rntk_sym.kernel(arch, "1", L, kernel=kernel, digits=40, **kw).value == 1


# float64 vs mpmath, per range of rho (scipy.special style): relative 1e-13, absolute 1e-15 near 0.
EDGE_RHOS = [-1.0, -1 + 1e-12, -0.999999, -0.5, 0.0, 0.5, 0.999999, 1 - 1e-10, 1 - 1e-12]
REGIMES = [("ffnet", {}), ("resnet", {"gamma": 1}), ("resnet", {"gamma": "0.5"}),
           ("resnet", {"gamma": "0.25"}), ("resnet", {"alpha": "0.7"})]


def _check_float(arch, kw, L, kernel):
    # both float64 routes: up to SCALAR_BATCH values one by one in Python floats, more vectorized in numpy
    small = rntk_sym.kernel(arch, np.array(EDGE_RHOS), L, kernel=kernel, **kw)
    large = rntk_sym.kernel(arch, np.array(EDGE_RHOS * 2), L, kernel=kernel, **kw)
    assert len(EDGE_RHOS) <= kernels.SCALAR_BATCH < 2 * len(EDGE_RHOS)
    for r, x in zip(EDGE_RHOS * 3, list(small) + list(large)):
        ref = rntk_sym.kernel(arch, r, L, kernel=kernel, digits=50, **kw).value  # r: the exact double
        err = abs(x - ref)
        assert err <= 1e-13 * abs(ref) or err <= 1e-15, (r, float(x), float(ref))
        assert x == rntk_sym.kernel(arch, r, L, kernel=kernel, **kw) or abs(x - float(ref)) < 1e-15 + 1e-13 * abs(x)


@pytest.mark.parametrize("arch,kw", REGIMES)
@pytest.mark.parametrize("L", [1, 10, 300, 3000])
@pytest.mark.parametrize("kernel", ["ntk", "gp"])
def test_float64_vs_mpmath(arch, kw, L, kernel):
    _check_float(arch, kw, L, kernel)


@pytest.mark.slow
@pytest.mark.parametrize("arch,kw", REGIMES)
@pytest.mark.parametrize("L", [100000])
def test_float64_vs_mpmath_deep(arch, kw, L):
    # benchmarks/float64_accuracy.py runs the same comparison to L = 10^6
    _check_float(arch, kw, L, "ntk")


def test_float_s3_series_vs_mpmath():
    # the generated Taylor series of s3 on [0, pi/2] against mpmath's sin/cos at 40 digits
    xs = np.linspace(0, math.pi / 2, 2001)
    got = _s3_series(xs)
    with mpmath.workdps(40):
        ref = [mpmath.sin(mpmath.mpf(x)) - mpmath.mpf(x) * mpmath.cos(mpmath.mpf(x)) for x in xs]
    rel = [abs(g - r) / r for g, r in zip(got[1:], ref[1:])]
    assert max(rel) < 4e-16


def test_mp_s3_small_vs_direct_high_precision():
    ctx = MPBackend(200)
    for a in ("1e-20", "0.001", "0.2", "0.26", "1.5"):
        x = ctx.number(a)
        got = ctx.s3_small(x, ctx.mp.sin(x), ctx.mp.cos(x))
        with mpmath.workprec(600):
            ref = mpmath.sin(mpmath.mpf(x)) - mpmath.mpf(x) * mpmath.cos(mpmath.mpf(x))
        assert abs(got - ref) <= 2 ** -190 * ref


@pytest.mark.parametrize("digits", [5, 25, 60])
def test_digits_are_correct(digits):
    # D significant digits: compare with the seed forward loop at D + 40 digits (independent formula).
    for arch, kw, alpha in [("ffnet", {}, None), ("resnet", {"alpha": "0.7"}, "0.7")]:
        got = rntk_sym.ntk(arch, "0.25", 200, digits=digits, **kw)
        with mpmath.workdps(digits + 40):
            ref, _ = seed.forward_loop(arch, mpmath.mpf("0.25"), 200, alpha and mpmath.mpf(alpha))
            assert abs(mpmath.mpf(got.decimal()) - ref) <= got.decimal_error()
        assert got.decimal_error() <= 10 ** (1 - digits) * abs(ref)


def test_exact_decimal_inputs():
    # "0.1" is exactly 1/10 at every precision, unlike the double 0.1
    a = rntk_sym.ntk("resnet", "0.1", 10, alpha="0.3", digits=40).value
    b = rntk_sym.ntk("resnet", 0.1, 10, alpha="0.3", digits=40).value
    assert abs(a - b) > 1e-30


def test_array_in_array_out():
    r = np.linspace(-1, 1, 12).reshape(3, 4)
    out = rntk_sym.ntk("resnet", r, 50, gamma="0.75")
    assert out.shape == (3, 4) and out.dtype == np.float64
    assert out[1, 2] == rntk_sym.ntk("resnet", r[1, 2], 50, gamma="0.75")


def test_no_global_precision_change():
    before = mpmath.mp.prec
    rntk_sym.ntk("ffnet", "0.5", 10, digits=200)
    assert mpmath.mp.prec == before


# Properties (hypothesis). Sources: Cauchy-Schwarz for normalized PSD kernels (|value| <= 1);
# shat, shatp nondecreasing on [-1, 1] (docs/model.md section 1) so rho_L is nondecreasing in rho;
# shat(rho) >= rho (s3 >= 0, docs/recursions.md) so rho_L is nondecreasing in L.
rho_st = st.floats(-1, 1, allow_nan=False)
arch_st = st.sampled_from(REGIMES)


@settings(max_examples=60, deadline=None)
@given(rho_st, st.integers(1, 200), arch_st)
def test_bounded_by_diagonal(rho, L, regime):
    arch, kw = regime
    for kernel in ("ntk", "gp"):
        assert -1 <= rntk_sym.kernel(arch, rho, L, kernel=kernel, **kw) <= 1


@settings(max_examples=60, deadline=None)
@given(rho_st, rho_st, st.integers(1, 200), arch_st)
def test_gp_monotone_in_rho(r1, r2, L, regime):
    arch, kw = regime
    lo, hi = sorted((r1, r2))
    assert rntk_sym.gp(arch, lo, L, **kw) <= rntk_sym.gp(arch, hi, L, **kw) + 1e-15


@settings(max_examples=60, deadline=None)
@given(st.floats(0, 1), st.floats(0, 1), st.integers(1, 200), arch_st)
def test_ntk_monotone_in_rho_on_nonnegative(r1, r2, L, regime):
    # for rho >= 0 every term of the NTK sums is nonnegative and nondecreasing in rho
    arch, kw = regime
    lo, hi = sorted((r1, r2))
    assert rntk_sym.ntk(arch, lo, L, **kw) <= rntk_sym.ntk(arch, hi, L, **kw) + 1e-14


@settings(max_examples=40, deadline=None)
@given(rho_st, st.integers(1, 100))
def test_gp_nondecreasing_in_depth_ffnet(rho, L):
    assert rntk_sym.gp("ffnet", rho, L) <= rntk_sym.gp("ffnet", rho, L + 1) + 1e-15


@settings(max_examples=30, deadline=None)
@given(rho_st, st.integers(1, 50), arch_st)
def test_scalar_numpy_mp_agree(rho, L, regime):
    arch, kw = regime
    s = rntk_sym.ntk(arch, rho, L, **kw)
    v = rntk_sym.ntk(arch, np.array([rho]), L, **kw)[0]
    m = rntk_sym.ntk(arch, rho, L, digits=20, **kw).value
    assert abs(s - v) <= 1e-15 and abs(s - m) <= 1e-13 * abs(m) + 1e-15


@pytest.mark.parametrize("arch,kw,alpha", [("ffnet", {}, None), ("resnet", {"alpha": "0.7"}, "0.7"),
                                           ("resnet", {"gamma": 1}, "0.02")])
@pytest.mark.parametrize("rho", ["-1", "0.3", "0.999999"])
def test_mpmath_two_precision_path_without_flint(monkeypatch, arch, kw, alpha, rho):
    # the path used when python-flint is absent: two mpmath precisions; against the seed formulas
    from rntk_sym import kernels
    monkeypatch.setattr(kernels, "_has_flint", lambda: False)
    got = rntk_sym.ntk(arch, rho, 50, digits=40, method="recursion", **kw)
    assert got.error_kind.startswith("estimate")
    ref = _ref(arch, "ntk", rho, 50, alpha)
    assert abs(got.value - ref) <= got.error + mpmath.mpf(10) ** -45
    assert abs(got.value - ref) <= mpmath.mpf(10) ** -39 * abs(ref)


def test_float64_deep_uses_skip_ahead():
    # float64 at L = 10^12: the skip-ahead (docs/asymptotics.md) rounded, equal to the 20-digit value
    for arch, kw in [("ffnet", {}), ("resnet", {"gamma": "0.75"})]:
        f = rntk_sym.ntk(arch, 0.5, 10 ** 12, **kw)
        d = rntk_sym.ntk(arch, "0.5", 10 ** 12, digits=20, **kw)
        assert abs(f - float(d.value)) <= 2e-16 and d.method == "asymptotic"


def test_absurd_depth_without_skip_ahead_is_refused():
    # the exact recursion asked for at a depth it would need days for: refuse, never hang
    for digits in (None, 20):
        with pytest.raises(ValueError, match="^depth"):
            rntk_sym.ntk("resnet", "0.5", 10 ** 13, gamma="0.25", digits=digits, method="recursion")


# Run-time model and route choice (issue 18, "slow without warning"; the costs: benchmarks/bench_batch.py)

@pytest.mark.parametrize("shape", [(), (1,), (2, 3), (0,), (3, 7)])
def test_float64_routes_keep_shape_and_progress(shape):
    # up to SCALAR_BATCH values the Python-float loop, beyond it numpy: array in, array out either way,
    # equal to the scalar call value by value, and progress fills the documented 2 L budget
    r = np.linspace(-0.9, 0.9, int(np.prod(shape))).reshape(shape)
    seen = []
    L = 300
    out = rntk_sym.ntk("resnet", r, L, gamma="0.75", method="recursion", progress=seen.append)
    assert np.shape(out) == shape and (isinstance(out, float) if shape == () else out.dtype == np.float64)
    for x, v in zip(np.ravel(r)[:3], np.ravel(out)[:3]):
        ref = rntk_sym.ntk("resnet", float(x), L, gamma="0.75", method="recursion")
        assert abs(v - ref) <= 1e-13 * abs(ref)  # numpy's and libm's atan2 may differ by an ulp per step
    if r.size:
        assert seen == sorted(seen) and seen[-1] == 2 * L


def test_auto_takes_the_skip_ahead_where_the_model_says(monkeypatch):
    # method="auto" and the sweep's estimate use the one rule kernels.prefers_skip_ahead: the skip-ahead
    # is tried exactly where it is estimated cheaper than the recursion and applies
    from rntk_sym import asymptotics

    calls = []

    def fake(arch, rho, L, **kw):
        calls.append(L)
        return mpmath.mpf("0.25"), mpmath.mpf(0), "fake"

    monkeypatch.setattr(asymptotics, "skip_ahead", fake)  # the float64 route
    monkeypatch.setattr(asymptotics, "skip_ahead_with_complement",  # the digits=D route
                        lambda *a, **kw: (*fake(*a, **kw), None, None))
    for digits in (None, 30):
        for n in (1, 10, 64, 65):
            for L in (3000, 5000, 2 * 10 ** 5, 10 ** 6, 10 ** 8):
                if digits is not None and (n > 1 or L > 10 ** 6):
                    continue  # one rho per call with digits; deep recursions would run for real
                if digits is None and not kernels.prefers_skip_ahead(None, L, n) and \
                        kernels.recursion_seconds(None, L, n) > 1:
                    continue
                calls.clear()
                rho = np.full(n, 0.5) if digits is None else "0.5"
                rntk_sym.ntk("ffnet", rho, L, digits=digits)
                want = kernels.prefers_skip_ahead(digits, L, n)
                assert bool(calls) == want, (digits, n, L)
                route = n * kernels.skip_ahead_seconds(digits) if want else kernels.recursion_seconds(digits, L, n)
                assert kernels.estimate_seconds(digits, L, n) == route
    assert not kernels.prefers_skip_ahead(None, 10 ** 12, kernels.FLOAT_SKIP_MAX_POINTS + 1)
    assert kernels.prefers_skip_ahead(None, 10 ** 12, kernels.FLOAT_SKIP_MAX_POINTS)
    assert not kernels.prefers_skip_ahead(None, asymptotics.SEGMENT_EXACT, 1)  # no skip-ahead that shallow


def test_cost_model_knows_the_compiled_routes(monkeypatch):
    # the run-time model (kernels.step_seconds, skip_ahead_seconds) with injected costs: with numba, the
    # float64 recursion costs the compiled figures and the skip-ahead at <= DD_SKIP_DIGITS digits the
    # double-double figure; with numba hidden, today's figures; auto switches routes where the injected
    # costs cross (L* = skip-ahead / step), whichever they are (no timing measured here)
    from rntk_sym import asymptotics
    from rntk_sym.backends import _numba, compiled

    for name, value in (("COMPILED_STEP_FIXED", 1e-6), ("COMPILED_STEP_PER_VALUE", 1e-8), ("SCALAR_STEP", 4e-6),
                        ("SKIP_AHEAD_DD_SECONDS", 0.5), ("SKIP_AHEAD_SECONDS", 2.0), ("DD_STEP", 1e-6)):
        monkeypatch.setattr(kernels, name, value)
    for present in (True, False):
        monkeypatch.setattr(compiled, "available", lambda p=present: p)
        monkeypatch.setattr(_numba, "numba_or_none", (lambda: object()) if present else (lambda: None))
        step = 1e-6 + 1e-8 if present else 4e-6
        skip = 0.5 if present else 2.0
        assert kernels.step_seconds(None, 10 ** 6) == step
        assert kernels.skip_ahead_seconds(None) == skip
        dd_digits = asymptotics.DD_SKIP_DIGITS  # double-double up to there with numba; arb's digits^2 without
        assert kernels.skip_ahead_seconds(dd_digits) == (skip if present else 2.0 * (dd_digits / 17) ** 2)
        assert kernels.skip_ahead_seconds(34) == 2.0 * 4  # arb runs above DD_SKIP_DIGITS: digits^2
        cross = skip / step
        for L in (int(cross / 2), int(cross * 2)):
            if L > asymptotics.SEGMENT_EXACT:
                assert kernels.prefers_skip_ahead(None, L) == (L > cross)
                assert kernels.estimate_seconds(None, L) == (skip if L > cross else L * step)
        # 25 digits: the recursion in double-double with numba (DD_STEP, one run), two mpmath runs without
        rec = kernels.recursion_seconds(25, 10 ** 6)
        assert rec == (10 ** 6 * 1e-6 if present else 2 * 10 ** 6 * kernels._mp_step_seconds(25, 10 ** 6))


def test_too_many_float64_values_for_the_skip_ahead_say_so():
    # 65 float64 values at L = 10^12: the recursion would take years; the one-line error names the
    # skip-ahead's limit and the ways around it
    with pytest.raises(ValueError, match=r"^depth: .*at most 64 values.*batches of <= 64, or use digits=") as e:
        rntk_sym.ntk("ffnet", np.linspace(-0.5, 0.5, 65), 10 ** 12)
    assert "\n" not in str(e.value)
    with pytest.raises(ValueError, match=r"method='auto' would use the skip-ahead"):
        rntk_sym.ntk("ffnet", 0.5, 10 ** 12, method="recursion")


def test_long_float64_runs_warn_unless_followed(monkeypatch):
    # a float64 recursion estimated over WARN_SECONDS (lowered here, so that the run itself is short)
    # says so when no progress callback follows it; with one, it is silent
    import warnings

    monkeypatch.setattr(kernels, "WARN_SECONDS", 1e-4)
    r = np.linspace(-0.5, 0.5, 100)
    with pytest.warns(UserWarning, match=r"float64 recursion for 100 value\(s\) .* pass progress="):
        rntk_sym.ntk("ffnet", r, 2000)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rntk_sym.ntk("ffnet", r, 2000, progress=lambda done: None)
