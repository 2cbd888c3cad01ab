"""float64 accuracy of the vectorized path against a 50-digit mpmath evaluation (issue 3, item 4).

For each regime and depth L, the numpy float64 path (one vectorized call over all rho) is compared
with the same recursion in mpmath at 50 + guard digits. Prints the worst relative error (absolute
where |value| < 1e-2) per (regime, L) and the rho where it occurs.

    python benchmarks/float64_accuracy.py [--ntk-only] [L ...]   (default: 10 1000 100000 1000000)
"""
from __future__ import annotations

import math
import sys
import time

import numpy as np

from rntk_sym import inputs
from rntk_sym.backends import NUMPY, MPBackend
from rntk_sym.kernels import _evaluate, guard_digits

RHOS = [-1.0, -1 + 1e-12, -0.999, -0.9, -0.5, -0.1, 0.0, 0.3, 0.7, 0.9, 0.99, 0.9999, 1 - 1e-8,
        1 - 1e-10, 1 - 1e-12, 1.0]
REGIMES = [("ffnet", None, None), ("resnet", 1, None), ("resnet", "0.5", None), ("resnet", "0.25", None),
           ("resnet", None, "0.7")]


def worst(arch, gamma, alpha, L, kernel):
    scale = inputs.scaling(arch, gamma, alpha)
    f = _evaluate(NUMPY, arch, kernel, np.array(RHOS), L, scale)
    mp = MPBackend(math.ceil((50 + guard_digits(L)) * math.log2(10)))
    out = (0.0, None)
    for r, x in zip(RHOS, f):
        ref = _evaluate(mp, arch, kernel, mp.number(r), L, scale)
        e = float(abs(x - ref) / (abs(ref) if abs(ref) >= 1e-2 else 1))
        out = max(out, (e, r), key=lambda t: t[0])
    return out


def main(depths, kernels=("ntk", "gp")):
    print(f"{'regime':<22}{'kernel':<6}{'L':>9}  {'worst rel err':>14}  at rho")
    for L in depths:
        for arch, gamma, alpha in REGIMES:
            name = (
                arch if arch == "ffnet" else (f"resnet gamma={gamma}" if gamma is not None else f"resnet alpha={alpha}")
            )
            for kernel in kernels:
                t = time.perf_counter()
                e, r = worst(arch, gamma, alpha, L, kernel)
                print(f"{name:<22}{kernel:<6}{L:>9}  {e:14.2e}  {r!r}   ({time.perf_counter() - t:.0f} s)", flush=True)


if __name__ == "__main__":
    args = sys.argv[1:]
    kernels = ("ntk",) if "--ntk-only" in args else ("ntk", "gp")
    main([int(x) for x in args if x != "--ntk-only"] or [10, 1000, 100000, 1000000], kernels)
