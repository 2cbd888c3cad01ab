"""Cost per depth step of the recursion at 25 digits: the compiled double-double recursion (issue 17,
part 2) against a plain mpmath loop of the seed formula (tests/seed_formulas.forward_loop) and today's
paths (arb balls, two mpmath precisions), measured in one run, printed as ratios. Compile time apart.

Then deep answers: the skip-ahead at 17 digits (the float64 route) and 25 digits, L = 10^12, its exact
runs in double-double vs in arb balls (numba hidden).

    python benchmarks/bench_dd.py [L_dd] [L_slow]      (default 10^6 double-double steps, 4000 others)
"""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import mpmath

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
import seed_formulas as seed  # noqa: E402

from rntk_sym import asymptotics, inputs, kernels  # noqa: E402
from rntk_sym.backends import _numba  # noqa: E402

DIGITS = 25
COLD = """
import time
t = time.perf_counter()
from rntk_sym.backends import ddrun
t1 = time.perf_counter()
ddrun.run(ddrun.new_state((0.7, 0.0), (1.3, 0.0), (0.0, 0.0), (0.0, 0.0, 0.0)), 1.0, 0.0, 0, 0.0, 10)
print(t1 - t, time.perf_counter() - t1)
"""


def first_call(cache_dir: str) -> tuple[float, float]:
    """(import, first call) seconds in a fresh process with numba's cache in ``cache_dir``."""
    env = {**os.environ, "NUMBA_CACHE_DIR": cache_dir, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", COLD], env=env, capture_output=True, text=True, check=True)
    return tuple(float(x) for x in out.stdout.split())


def timed(f, *a, **kw):
    t = time.perf_counter()
    out = f(*a, **kw)
    return time.perf_counter() - t, out


def digits_of(value, ref) -> float:
    ctx = mpmath.MPContext()
    ctx.prec = 300
    err = abs(ctx.mpf(value) - ctx.mpf(ref))
    return float(-ctx.log10(err / abs(ctx.mpf(ref)))) if err else float("inf")


def main() -> None:
    L_dd = int(float(sys.argv[1])) if len(sys.argv) > 1 else 10 ** 6
    L_slow = int(float(sys.argv[2])) if len(sys.argv) > 2 else 4000
    rho = Fraction(3, 10)
    with tempfile.TemporaryDirectory() as d:
        cold = first_call(d)  # compiles, writes the cache
        warm = first_call(d)  # loads it
    print(f"compile (first call, cold cache): {cold[1]:.2f} s; from the on-disk cache: {warm[1]:.2f} s; "
          f"import {cold[0]:.2f} s")

    rows = []
    for arch, gamma in (("ffnet", None), ("resnet", 1)):
        scale = inputs.scaling(arch, gamma, None)
        kernels._dd_recursion(arch, "ntk", rho, 10, scale, DIGITS, None)  # warm (compiled or cached)
        t_dd, kv = timed(kernels._dd_recursion, arch, "ntk", rho, L_dd, scale, DIGITS, None)
        ref_dd = kernels._ball_recursion(arch, "ntk", rho, L_slow, scale, 45, None, "ref").value
        kv_slow = kernels._dd_recursion(arch, "ntk", rho, L_slow, scale, DIGITS, None)
        with mpmath.workdps(DIGITS):
            t_seed, (seed_val, _) = timed(seed.forward_loop, arch, mpmath.mpf("0.3"), L_slow,
                                          None if arch == "ffnet" else mpmath.mpf(1) / L_slow)
        t_ball, kb = timed(kernels._ball_recursion, arch, "ntk", rho, L_slow, scale, DIGITS, None, "recursion")
        t_mp, km = timed(kernels._high_precision, arch, "ntk", rho, L_slow, scale, DIGITS, None)
        per = {"double-double (numba)": t_dd / L_dd, "plain mpmath loop of the seed formula": t_seed / L_slow,
               "arb balls (today's default)": t_ball / L_slow, "two mpmath precisions (no python-flint)": t_mp / L_slow}
        dig = {"double-double (numba)": digits_of(kv_slow.value, ref_dd),
               "plain mpmath loop of the seed formula": digits_of(seed_val, ref_dd),
               "arb balls (today's default)": digits_of(kb.value, ref_dd),
               "two mpmath precisions (no python-flint)": digits_of(km.value, ref_dd)}
        base = per["plain mpmath loop of the seed formula"]
        for name, s in per.items():
            rows.append((arch, name, s * 1e6, base / s, dig[name]))
        print(f"{arch}: double-double L = {L_dd}: {t_dd:.2f} s, error bound {mpmath.nstr(kv.error, 3)} "
              f"({kv.correct_digits} digits); bound at L = {L_slow}: {mpmath.nstr(kv_slow.error, 3)}, "
              f"true error {mpmath.nstr(abs(kv_slow.value - ref_dd), 3)}")
    print(f"\nPer depth step, {DIGITS} digits, rho = 0.3 (others at L = {L_slow}; digits vs arb at 45 digits):")
    print(f"| arch | path | us per step | ratio to the plain mpmath loop | correct digits at L = {L_slow} |")
    print("|---|---|---|---|---|")
    for arch, name, us, ratio, dg in rows:
        print(f"| {arch} | {name} | {us:.3g} | {ratio:.3g} | {dg:.1f} |")

    print("\nSkip-ahead at L = 10^12, rho = 0.3: its exact runs in double-double vs arb balls (numba hidden)")
    print("| digits | setting | route | double-double s | arb s | ratio | |difference| | error estimate |")
    print("|---|---|---|---|---|---|---|---|")
    real = _numba.numba_or_none
    for digits in (17, 25):
        for arch, kw in (("ffnet", {}), ("resnet", {"gamma": 1}), ("resnet", {"gamma": "0.5"}),
                         ("resnet", {"gamma": "0.25"})):
            asymptotics.skip_ahead(arch, "0.3", 10 ** 5, digits=digits, **kw)  # warm caches of both paths
            t1, a = timed(asymptotics.skip_ahead, arch, "0.3", 10 ** 12, digits=digits, **kw)
            _numba.numba_or_none = lambda: None
            try:
                t2, b = timed(asymptotics.skip_ahead, arch, "0.3", 10 ** 12, digits=digits, **kw)
            finally:
                _numba.numba_or_none = real
            label = arch + "".join(f" {k}={v}" for k, v in kw.items())
            route = "Fatou" if "Fatou" in a[2] else "segments"
            print(f"| {digits} | {label} | {route} | {t1:.2f} | {t2:.2f} | {t2 / t1:.1f} | "
                  f"{mpmath.nstr(abs(a[0] - b[0]), 2)} | {mpmath.nstr(a[1], 2)} |")


if __name__ == "__main__":
    main()
