"""The compiled double-double recursion (issue 17; rntk_sym.backends.dd, _dd_step, ddrun).

- its arithmetic against mpmath at 120 digits, over the whole ranges the recursion uses, within the
  per-operation bounds it claims (dd.REL_*);
- the generated step (rntk_sym.codegen's trace of recursions.relu_increments) against the same step in
  mpmath at 300 bits: increments within their bounds, Jacobian against finite differences;
- the running error bound against independent runs (arb balls at 45 digits; the seed formulas of
  tests/seed_formulas.py; the skip-ahead at 40 digits): it covers the true error and is within 2e3 of
  it, the true error taken no smaller than double-double's resolution (measured: 1 to 590 times;
  docs/benchmarks.md);
- routing: kernel(digits <= 28) uses it when numba is installed, today's path when not.
"""
import math
import random
from fractions import Fraction

import mpmath
import pytest
import seed_formulas as seed

import rntk_sym
from rntk_sym import asymptotics, kernels
from rntk_sym.backends import _numba
from rntk_sym.backends.mp import MPBackend
from rntk_sym.recursions import Block, relu_increments

pytest.importorskip("numba")
from rntk_sym.backends import dd, ddrun  # noqa: E402  (compiled: needs numba)
from rntk_sym.backends._dd_step import relu_increments_dd  # noqa: E402

MP = mpmath.MPContext()
MP.prec = 400  # s3(a) for a >= 1e-20 cancels at most 133 bits: 260 left, far beyond 2^-106


def _val(x):
    return MP.mpf(x[0]) + MP.mpf(x[1])


def _rand_dd(rng, lo_exp, hi_exp, positive=False):
    h = rng.uniform(0.5, 1) * 2.0 ** rng.randint(lo_exp, hi_exp)
    h = h if positive or rng.random() < 0.5 else -h
    return h, rng.uniform(-0.5, 0.5) * math.ulp(h)


def _rel(got, exact):
    return abs(_val(got) - exact) / abs(exact)


def test_arithmetic_within_claimed_bounds():
    rng = random.Random(17)
    for _ in range(2000):
        a, b = _rand_dd(rng, -40, 40), _rand_dd(rng, -40, 40)
        near = (-a[0], -a[0] * 2.0 ** -60)  # a + near cancels all of a's hi
        for x, y in ((a, b), (a, near)):
            assert _rel(dd.add(*x, *y), _val(x) + _val(y)) <= dd.REL_ADD
            assert _rel(dd.sub(*x, *y), _val(x) - _val(y)) <= dd.REL_ADD
        assert _rel(dd.mul(*a, *b), _val(a) * _val(b)) <= dd.REL_MUL
        assert _rel(dd.div(*a, *b), _val(a) / _val(b)) <= dd.REL_DIV
        p = (abs(a[0]), a[1] if a[0] > 0 else -a[1])
        assert _rel(dd.sqrt(*p), MP.sqrt(_val(p))) <= dd.REL_SQRT
    assert dd.sqrt(0.0, 0.0) == (0.0, 0.0)


def _first_quadrant_points(rng):
    pts = [(0.0, 1.0), (1.0, 1.0), (1.0, 0.0), (1e-300, 1.0), (1.0, 1e-300), (2.0, 2.0 + 2 ** -50)]
    for k in (1, 2, 255, 256, 257, 511):  # table points atan(k/512) and half-way between them
        for t in (k / 512, (k + 0.5) / 512, k / 512 - 2 ** -60):
            pts += [(t, 1.0), (1.0, t)]
    pts += [(_rand_dd(rng, -40, 3, True), _rand_dd(rng, -40, 3, True)) for _ in range(1000)]
    pts += [(dd.mul(*x, rng.random(), 0.0), x) for x in (_rand_dd(rng, -3, 3, True) for _ in range(1000))]
    return [(y if isinstance(y, tuple) else (y, 0.0), x if isinstance(x, tuple) else (x, 0.0)) for y, x in pts]


def test_atan2_whole_quadrant():
    # atan2(y, x) for y >= 0, x > 0: the recursion calls it with 0 <= y <= x; both halves are tested
    for y, x in _first_quadrant_points(random.Random(3)):
        exact = MP.atan2(_val(y), _val(x))
        got = dd.atan2(*y, *x)
        assert (got == (0.0, 0.0)) if exact == 0 else _rel(got, exact) <= dd.REL_ATAN2, (y, x)


def test_s3_whole_range():
    rng = random.Random(5)
    half_pi = math.pi / 2
    pts = [half_pi, math.nextafter(half_pi, 0), 1.0, 0.5, 2.0 ** -60, 1e-20]
    pts += [rng.uniform(0, half_pi) for _ in range(2000)] + [10 ** rng.uniform(-20, 0) for _ in range(1000)]
    for a in pts:
        x = (a, rng.uniform(-0.5, 0.5) * math.ulp(a)) if a < half_pi else (a, 0.0)
        v = _val(x)
        assert _rel(dd.s3(*x), MP.sin(v) - v * MP.cos(v)) <= dd.REL_S3, a
    assert dd.s3(0.0, 0.0) == (0.0, 0.0)


def test_generated_step_against_mpmath():
    # increments: |dd - exact| <= their bounds e; Jacobian: central differences of the mpmath step
    mp = MPBackend(300)
    rng = random.Random(11)
    rhos = [rng.uniform(-1, 1) for _ in range(40)] + [1 - 1e-12, -1 + 1e-12, 0.0, 1e-9]
    for rho in rhos:
        u, v = (1 - rho, 0.0), (1 + rho, 0.0)  # doubles: exact dd inputs
        T = (rng.uniform(0, 1e4), 0.0)
        w, c = ((1.0, 0.0), 0) if rng.random() < 0.5 else ((rng.uniform(1e-12, 0.5), 0.0), 1)
        out = relu_increments_dd(*u, *v, *T, *w, float(c))
        X = [_val(u), _val(v), _val(T)]

        blk = Block(mp.mp.mpf(w[0]), c)

        def inc(X, blk=blk):
            return relu_increments(mp, blk, *X)
        exact = inc(X)
        for k in range(3):
            assert abs(_val(out[2 * k: 2 * k + 2]) - exact[k]) <= out[6 + k], (rho, k)
        # one-sided differences on the side of the step's branch (u <= v or not): off the manifold
        # u + v = 2 the two branches are different functions of (u, v), so a difference across u = v
        # would mix them (each is smooth and both agree on the manifold: ddrun's bound uses the one taken)
        sign = [-1, 1, 1] if X[0] <= X[1] else [1, -1, 1]
        for j in range(3):
            if j < 2 and X[j] < 1e-6:
                continue  # d/du at u ~ 0: sqrt(u) is not differentiable there
            h = sign[j] * mp.mp.mpf(2) ** -80 * max(abs(X[j]), 1)
            up = list(X)
            up[j] += h
            fd = [(a - b) / h for a, b in zip(inc(up), exact)]
            for k in range(3):
                J = out[9 + 3 * k + j]
                assert abs(J - fd[k]) <= 1e-9 * (abs(fd[k]) + 1e-3), (rho, k, j)


CASES = [("ffnet", {}, "0.3"), ("ffnet", {}, "-0.9"), ("resnet", {"gamma": 1}, "0.3"),
         ("resnet", {"gamma": "0.5"}, "0.999999"), ("resnet", {"alpha": "0.7"}, "-0.999")]


def _check(kv, ref, ref_err):
    """``kv``'s bound covers its true error (against ``ref`` +/- ``ref_err``) and is within 2e3 of it,
    the true error taken no smaller than double-double's resolution 2^-106 |value| (measured on these
    cases: 1 to 590 times; the arithmetic is deterministic, the margin covers other settings)."""
    err = abs(kv.value - ref)
    assert err <= kv.error + ref_err
    assert kv.error <= 2e3 * max(err, abs(ref) * 2.0 ** -106)


@pytest.mark.parametrize("arch,kw,rho", CASES)
@pytest.mark.parametrize("L", [100, 5000])
def test_bound_covers_the_error_against_balls(arch, kw, rho, L):
    for kernel in ("ntk", "gp"):
        kv = rntk_sym.kernel(arch, rho, L, kernel=kernel, digits=25, **kw)
        assert kv.method == kernels.DD_METHOD and kv.correct_digits >= 25
        ref = kernels._ball_recursion(arch, kernel, Fraction(rho), L, kernels.inputs.scaling(arch, kw.get("gamma"),
                                      kw.get("alpha")), 45, None, "ref")
        _check(kv, ref.value, ref.error)
        _check(kv.complement, ref.one_minus, ref.one_minus_error)


def test_bound_at_1e5_against_balls():
    L = 10 ** 5
    kv = rntk_sym.ntk("ffnet", "0.3", L, digits=28)
    ref = kernels._ball_recursion("ffnet", "ntk", Fraction(3, 10), L, None, 40, None, "ref")
    assert kv.method == kernels.DD_METHOD
    _check(kv, ref.value, ref.error)


def test_against_the_seed_formulas():
    # the seed's own forms (sum of products; the ResNet's backward B factors), 50 digits: the math, not
    # only the arithmetic, of the generated step
    with mpmath.workdps(50):
        ff = seed.ffnet_ntk_sum_of_products(mpmath.mpf("0.3"), 60)
        rn = seed.resnet_ntk_backward(mpmath.mpf("0.3"), 60, mpmath.mpf("0.7"))
    for kv, ref in ((rntk_sym.ntk("ffnet", "0.3", 60, digits=28), ff),
                    (rntk_sym.ntk("resnet", "0.3", 60, alpha="0.7", digits=28), rn)):
        assert kv.method == kernels.DD_METHOD
        assert abs(kv.value - ref) <= kv.error + mpmath.mpf(10) ** -45


@pytest.mark.slow
def test_25_digits_at_1e6():
    # issue 17: 25 correct digits at L = 10^6 by the recursion; reference: the skip-ahead at 40 digits
    L = 10 ** 6
    for arch, kw in (("resnet", {"gamma": "0.5"}), ("ffnet", {})):
        kv = rntk_sym.ntk(arch, "0.3", L, digits=25, method="recursion", **kw)
        ref, ref_err, _ = asymptotics.skip_ahead(arch, "0.3", L, digits=40, **kw)
        assert kv.method == kernels.DD_METHOD and kv.correct_digits == 25
        _check(kv, ref, ref_err)


def test_without_numba_today_path(monkeypatch):
    # numba absent: digits=D runs in arb balls (python-flint) as before, and the skip-ahead's runs too
    assert kernels.uses_double_double(25) and not kernels.uses_double_double(29)
    with_dd = rntk_sym.ntk("resnet", "0.3", 200, gamma=1, digits=25)
    skip_dd = asymptotics.skip_ahead("resnet", "0.3", 10 ** 12, gamma=1, digits=17)
    monkeypatch.setattr(_numba, "numba_or_none", lambda: None)
    assert not kernels.uses_double_double(25)
    kv = rntk_sym.ntk("resnet", "0.3", 200, gamma=1, digits=25)
    assert kv.method == "recursion" and kv.error_kind.startswith("certified")
    assert abs(kv.value - with_dd.value) <= kv.error + with_dd.error
    skip = asymptotics.skip_ahead("resnet", "0.3", 10 ** 12, gamma=1, digits=17)
    assert abs(skip[0] - skip_dd[0]) <= skip[1] + skip_dd[1] < 1e-17


def test_segmented_orbit_in_double_double_at_20_digits(monkeypatch):
    # the skip-ahead's segmented orbit at 20 digits (rntk plot rates' digits) runs its exact prefix and
    # segment samples in double-double; its error estimate covers the difference from the same orbit in
    # arb balls at the same precision (an independent run: other arithmetic, own estimate)
    runs = []
    real = asymptotics._runner
    monkeypatch.setattr(asymptotics, "_runner", lambda ctx, dd=False: runs.append(dd) or real(ctx, dd))
    args = (Fraction(1, 2), 1, Fraction(1, 10 ** 3))  # rho = 1/2, a ResNet block (c = 1) with w = 10^-3
    ctx, got, rel, _ = asymptotics.segmented_orbit(*args, L=10 ** 6, digits=22)
    assert runs == [True]
    _, ref, ref_rel, _ = asymptotics.segmented_orbit(*args, L=10 ** 6, digits=22, dd=False)
    assert runs == [True, False] and rel <= mpmath.mpf(10) ** -22
    for x, y in zip(got, ref):
        assert abs(x - y) <= (rel + ref_rel) * abs(y)


@pytest.mark.slow
def test_segmented_orbit_falls_back_to_arb_when_double_double_falls_short(monkeypatch):
    # at 24 digits (a 22-digit skip-ahead) the extrapolation amplifies double-double's rounding past its
    # tolerance at gamma = 1/4 (measured: error 5e-14, flagged by its estimate): forced into double-double,
    # the orbit notices and is run again in arb, which meets the digits (against the arb run itself at
    # 10 more digits)
    monkeypatch.setattr(asymptotics, "DD_SKIP_DIGITS", 22)
    L = 10 ** 6
    w = Fraction(1, 1) / (10 ** 6) ** Fraction(1, 2)  # alpha^2 = L^(-1/2) (gamma = 1/4): w = a2 / (1 + a2)
    w = w / (1 + w)
    runs = []
    real = asymptotics._runner
    monkeypatch.setattr(asymptotics, "_runner", lambda ctx, dd=False: runs.append(dd) or real(ctx, dd))
    _, got, rel, _ = asymptotics.segmented_orbit(Fraction(1, 2), 1, w, L=L, digits=24)
    _, ref, ref_rel, _ = asymptotics.segmented_orbit(Fraction(1, 2), 1, w, L=L, digits=34, dd=False)
    assert rel <= mpmath.mpf(10) ** -24 and runs[0] and not runs[-1]
    for x, y in zip(got, ref):
        assert abs(x - y) <= (rel + ref_rel) * abs(y)


def test_tiny_states_go_to_the_balls():
    # 1 - rho = 1e-200: a double-double's low word in the step would be subnormal, so the balls answer;
    # at 1e-100 the double-double recursion does, within its bound of the balls' value
    kv = rntk_sym.gp("ffnet", "0." + "9" * 200, 10, digits=25)
    assert kv.method == "recursion" and kv.complement.value < 1e-190
    for n in (100, 149):
        rho = "0." + "9" * n
        kv = rntk_sym.ntk("resnet", rho, 1000, digits=25)
        scale = kernels.inputs.scaling("resnet", None, None)
        ref = kernels._ball_recursion("resnet", "ntk", Fraction(rho), 1000, scale, 45, None, "ref")
        assert kv.method == kernels.DD_METHOD
        _check(kv, ref.value, ref.error)
        _check(kv.complement, ref.one_minus, ref.one_minus_error)


def test_progress_fills_the_budget():
    seen = []
    rntk_sym.ntk("ffnet", "0.3", 1000, digits=20, progress=seen.append)
    assert seen and seen == sorted(seen) and seen[-1] == 2000


def test_state_array_round_trip():
    # the runner's inputs: double-doubles of mpf values with the bound on their rounding
    ctx = mpmath.MPContext()
    ctx.prec = 300
    x = ctx.mpf(1) / 3
    hi, lo, e = ddrun.to_dd(ctx, x)
    assert abs(x - ctx.mpf(hi) - ctx.mpf(lo)) <= e <= 2.0 ** -105 / 3


def test_numba_not_installed_in_a_fresh_process():
    # numba absent from the start (import blocked): the package imports, digits=D runs as before
    import subprocess
    import sys
    from pathlib import Path

    code = ("import sys; sys.modules['numba'] = None\n"
            "import rntk_sym\n"
            "from rntk_sym.backends import _numba, dd\n"
            "assert _numba.numba_or_none() is None and dd.two_prod is dd._two_prod_dekker\n"
            "kv = rntk_sym.ntk('resnet', '0.3', 50, gamma=1, digits=25)\n"
            "print(kv.method, kv.value)\n")
    root = Path(__file__).resolve().parents[1]
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={"PYTHONPATH": str(root), "PATH": ""}).stdout.split()
    assert out[0] == "recursion"
    kv = rntk_sym.ntk("resnet", "0.3", 50, gamma=1, digits=25)
    assert abs(MP.mpf(out[1]) - kv.value) <= kv.error + MP.mpf(10) ** -25  # MP: 400 bits


def test_dekker_product_is_exact():
    # the plain-Python two_prod (numba absent) is exact: a b = p + e, checked in rationals
    rng = random.Random(7)
    for _ in range(2000):
        a, b = (rng.uniform(-1, 1) * 2.0 ** rng.randint(-300, 300) for _ in range(2))
        p, e = dd._two_prod_dekker(a, b)
        assert Fraction(a) * Fraction(b) == Fraction(p) + Fraction(e)
