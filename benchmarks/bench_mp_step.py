"""Cost per depth step at 30 digits: the package's mpmath recursion vs a plain mpmath loop of the seed
formulas (tests/seed_formulas.forward_loop), measured in one run, printed as a ratio.

    python benchmarks/bench_mp_step.py [L]     (default L = 20000)
"""
from __future__ import annotations

import math
import sys
import time
from pathlib import Path

import mpmath

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
import seed_formulas as seed  # noqa: E402

from rntk_sym import inputs  # noqa: E402
from rntk_sym.backends import MPBackend  # noqa: E402
from rntk_sym.kernels import _evaluate, guard_digits  # noqa: E402


def best_of(f, repeat=3):
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    return min(times)


def main(L: int) -> None:
    digits = 30
    print(f"per-step cost at {digits} digits, L = {L} (best of 3)")
    for arch, alpha in (("ffnet", None), ("resnet", "0.7")):
        scale = inputs.scaling(arch, None, alpha)

        def plain():
            with mpmath.workdps(digits):
                seed.forward_loop(arch, mpmath.mpf("0.3"), L, alpha and mpmath.mpf(alpha))

        ctx = MPBackend(math.ceil((digits + guard_digits(L)) * math.log2(10)))

        def ours():  # one precision (the API runs two, for the error estimate)
            _evaluate(ctx, arch, "ntk", ctx.number("0.3"), L, scale)

        t_plain, t_ours = best_of(plain), best_of(ours)
        print(f"  {arch:<7} plain mpmath loop {1e6 * t_plain / L:7.2f} us/step   rntk_sym mp backend "
              f"{1e6 * t_ours / L:7.2f} us/step   ratio plain/ours = {t_plain / t_ours:5.2f}")
    print(f"  (mpmath backend: {mpmath.libmp.BACKEND})")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20000)
