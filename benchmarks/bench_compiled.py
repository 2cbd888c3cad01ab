"""The compiled (numba) float64 recursion outside Gram matrices (issue 17): ``rntk_sym.ntk`` in float64
(``method="recursion"``) for 1, 16 and 401 values of rho, and the numbers of ``rntk plot kernels``
(:func:`rntk_sym.plots.kernels_data`, float64 kernels of 401 rho at L = 1 .. 10^4), with numba and with
numba hidden (today's path: Python floats up to 16 values, numpy beyond), in one run. The first call
(numba import and compile, or load of the on-disk cache) is timed apart and not counted.

Run: ``python benchmarks/bench_compiled.py``
"""
from __future__ import annotations

import os
import time
from unittest import mock

import numpy as np

import rntk_sym
from rntk_sym import plots
from rntk_sym.backends import compiled


def timed(f):
    t = time.perf_counter()
    out = f()
    return time.perf_counter() - t, out


def both(f, setup=lambda: None):
    """(seconds compiled, seconds with numba hidden, max |difference| relative); ``setup`` runs before each."""
    setup()
    tc, a = timed(f)
    setup()
    with mock.patch.object(compiled, "available", lambda: False):
        tn, b = timed(f)
    a, b = (np.asarray(x, dtype=float) if not isinstance(x, dict) else
            np.concatenate([np.ravel(v) for c in x["cases"] for v in c["values"]]) for x in (a, b))
    return tc, tn, float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-2)))


def main():
    if not compiled.available():
        raise SystemExit("numba is not installed: nothing to compare")
    print(f"{time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores")
    t, _ = timed(lambda: rntk_sym.ntk("ffnet", 0.3, 3, method="recursion"))
    print(f"first call (numba import + compile or cache load): {t:.1f} s, not counted")
    print(f"{'what':<44} {'compiled s':>10} {'today s':>9} {'speed-up':>9} {'max rel diff':>13}")
    for n, L, arch, kw in ((1, 10 ** 5, "ffnet", {}), (16, 10 ** 5, "resnet", {"gamma": "0.5"}),
                           (401, 10 ** 4, "resnet", {"gamma": 1}), (401, 10 ** 5, "ffnet", {})):
        rho = np.linspace(-1, 1, n) if n > 1 else 0.3
        tc, tn, d = both(lambda: rntk_sym.ntk(arch, rho, L, method="recursion", **kw))
        name = f"ntk {arch} {kw or ''} {n} rho, L = {L:g}"
        print(f"{name:<44} {tc:10.3f} {tn:9.3f} {tn / tc:9.1f} {d:13.1e}")
    def cold():  # the depth limits are cached between calls: each run computes them afresh
        plots.limit_value.cache_clear()
        plots._limit_curve.cache_clear()

    tc, tn, d = both(plots.kernels_data, cold)
    print(f"{'rntk plot kernels data (kernels_data())':<44} {tc:10.3f} {tn:9.3f} {tn / tc:9.1f} {d:13.1e}")
    print("today = the same call with numba hidden; speed-up = today / compiled (same run)")


if __name__ == "__main__":
    main()
