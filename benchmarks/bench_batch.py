"""Cost per depth step of the float64 recursion as a function of the batch size n (issue 18, "slow
without warning"), measured in one run and printed beside the run-time model of
rntk_sym.kernels.step_seconds (cost(n) = a + b n), as ratios; then the cost of one float64
skip-ahead value beside SKIP_AHEAD_SECONDS. No pass/fail: the numbers calibrate the model that
``method="auto"`` and ``rntk explore`` use to choose between the recursion and the skip-ahead.

Columns: ``numpy`` = one vectorized run over the n values; ``floats`` = the Python-float loop, value
by value (n <= 64 only); ``ntk`` = what ``rntk_sym.ntk(..., method="recursion")`` does (the cheaper
of the two: floats up to SCALAR_BATCH values); ``model`` = step_seconds(None, L, n). Each timing is
the best of 3 runs of enough steps to take ~0.3 s (the machine is shared: the minimum is the least
disturbed).

    python benchmarks/bench_batch.py [--quick]
"""
from __future__ import annotations

import contextlib
import sys
import time
from unittest import mock

import numpy as np

import rntk_sym
from rntk_sym import asymptotics, kernels
from rntk_sym.backends import NUMPY, SCALAR, _numba, compiled
from rntk_sym.recursions import ffnet_block, resnet_block, run

SIZES = (1, 2, 4, 8, 16, 32, 64, 100, 1000, 10 ** 4, 10 ** 5)
ARCHS = (("ffnet", {}), ("resnet", {"gamma": "1"}))


def _best(f, target: float = 0.3, repeats: int = 3) -> float:
    """Seconds per step of ``f(steps)``: steps grown until one run takes ``target``; best of ``repeats``."""
    steps = 16
    while True:
        t = time.perf_counter()
        f(steps)
        dt = time.perf_counter() - t
        if dt >= target / 4:
            break
        steps *= 4
    times = [dt]
    for _ in range(repeats - 1):
        t = time.perf_counter()
        f(steps)
        times.append(time.perf_counter() - t)
    return min(times) / steps


def _block(ctx, arch):
    return ffnet_block(ctx) if arch == "ffnet" else resnet_block(ctx, 1e-8)


def per_step(arch: str, n: int, target: float) -> dict:
    r = np.linspace(-0.95, 0.95, n)
    kw = dict(ARCHS)[arch] if arch in dict(ARCHS) else {}
    out = {"numpy": _best(lambda L: run(NUMPY, _block(NUMPY, arch), 1 - r, 1 + r, L), target)}
    if n <= 64:
        def floats(L):
            for x in r:
                run(SCALAR, _block(SCALAR, arch), 1 - x, 1 + x, L)
        out["floats"] = _best(floats, target)
    out["ntk"] = _best(lambda L: rntk_sym.ntk(arch, r, L, method="recursion", **kw), target)
    out["model"] = kernels.step_seconds(None, 10 ** 6, n)
    return out


def main(quick: bool) -> None:
    target = 0.1 if quick else 0.3
    rntk_sym.ntk("ffnet", [0.5, 0.6], 3, method="recursion")  # compile or load numba's cache: not timed
    asymptotics.skip_ahead("ffnet", 0.5, 10 ** 5, digits=17)
    print(f"model: numpy a = {kernels.NUMPY_STEP_FIXED * 1e6:g} us + b = {kernels.NUMPY_STEP_PER_VALUE * 1e9:g} ns "
          f"per value; Python floats {kernels.SCALAR_STEP * 1e6:g} us per value, up to "
          f"SCALAR_BATCH = {kernels.SCALAR_BATCH} values")
    print("| arch | n | numpy us/step | floats us/step | ntk us/step | ntk ns/value | model us/step | ntk / model |")
    print("|---|---|---|---|---|---|---|---|")
    for arch, _ in ARCHS:
        for n in SIZES[:8] if quick else SIZES:
            m = per_step(arch, n, target)
            fl = f"{m['floats'] * 1e6:.2f}" if "floats" in m else "-"
            print(f"| {arch} | {n} | {m['numpy'] * 1e6:.2f} | {fl} | {m['ntk'] * 1e6:.2f} | {m['ntk'] / n * 1e9:.0f} "
                  f"| {m['model'] * 1e6:.2f} | {m['ntk'] / m['model']:.2f} |", flush=True)
    print(f"\nskip-ahead, one value at 17 digits (the float64 route), with numba (exact runs in double-double) "
          f"and numba hidden (arb balls); model: {kernels.skip_ahead_seconds(None):g} s with numba, "
          f"{kernels.SKIP_AHEAD_SECONDS:g} s without")
    print("| setting | L | numba s | / model | hidden s | / model |")
    print("|---|---|---|---|---|---|")
    cases = [("ffnet", {}), ("resnet", {"gamma": "1"}), ("resnet", {"gamma": "0.5"}), ("resnet", {"gamma": "0.25"}),
             ("resnet", {"alpha": "1"}), ("resnet", {"alpha": "0.1"})]
    for arch, kw in cases[:3] if quick else cases:
        for L in (10 ** 6, 10 ** 12):
            cells = []
            for hide in (False, True):
                with hidden_numba(hide):
                    t = time.perf_counter()
                    asymptotics.skip_ahead(arch, 0.5, L, digits=17, **kw)
                    dt = time.perf_counter() - t
                    cells.append(f"{dt:.2f} | {dt / kernels.skip_ahead_seconds(None):.2f}")
            name = arch + "".join(f" {k}={v}" for k, v in kw.items())
            print(f"| {name} | 1e{len(str(L)) - 1} | {' | '.join(cells)} |", flush=True)


@contextlib.contextmanager
def hidden_numba(hide: bool):
    """numba hidden from every compiled path (what users get without the extra) while ``hide``."""
    if not hide:
        yield
        return
    with mock.patch.object(_numba, "numba_or_none", lambda: None), \
            mock.patch.object(compiled, "available", lambda: False):
        yield


if __name__ == "__main__":
    main("--quick" in sys.argv[1:])
