"""Skip-ahead validation (issue 6 item 4): the asymptotic value at L = 2e5 ... 10^7 against the exact
recursion in arb balls (certified), for each regime with a skip-ahead; prints the digits of agreement
and whether the skip-ahead's reported error covers the true one; then the time for L = 10^15.

    python benchmarks/bench_skip_ahead.py [max_exp]      (default 6; 7 takes tens of minutes)
"""
from __future__ import annotations

import sys
import time

import mpmath

import rntk_sym

REGIMES = [("ffnet", {}), ("resnet", {"alpha": "0.7"}), ("resnet", {"alpha": "0.1"}), ("resnet", {"gamma": 0}),
           ("resnet", {"gamma": 1}), ("resnet", {"gamma": "0.75"}), ("resnet", {"gamma": "0.5"}),
           ("resnet", {"gamma": "0.4"}), ("resnet", {"gamma": "0.25"}), ("resnet", {"gamma": "0.1"})]
RHO, DIGITS = "0.3", 25


def main(max_exp: int) -> None:
    print(f"rho = {RHO}, digits = {DIGITS}; reference: exact recursion in arb balls (certified)")
    print("| regime | L | skip-ahead s | recursion s | digits of agreement | reported error | true error | covered |")
    print("|---|---|---|---|---|---|---|---|")
    for arch, kw in REGIMES:
        name = arch + "".join(f" {k}={v}" for k, v in kw.items())
        for L in [2 * 10 ** 5] + [10 ** e for e in range(6, max_exp + 1)]:
            e = f"{L:.0e}".replace("+0", "")
            t = time.perf_counter()
            a = rntk_sym.ntk(arch, RHO, L, digits=DIGITS, method="asymptotic", **kw)
            ta = time.perf_counter() - t
            t = time.perf_counter()
            c = rntk_sym.ntk(arch, RHO, L, digits=DIGITS + 5, method="recursion", certified=True, **kw)
            tc = time.perf_counter() - t
            true = abs(a.value - c.value) + c.error
            agree = -mpmath.log10(true / abs(c.value)) if true else mpmath.inf
            print(f"| {name} | {e} | {ta:.2f} | {tc:.1f} | {mpmath.nstr(agree, 3)} | {mpmath.nstr(a.error, 2)} "
                  f"| {mpmath.nstr(true, 2)} | {'yes' if true <= a.error else 'NO'} |", flush=True)
    print("\nL = 10^15, digits = 25:")
    for arch, kw in REGIMES:
        t = time.perf_counter()
        v = rntk_sym.ntk(arch, RHO, 10 ** 15, digits=DIGITS, **kw)
        print(f"  {arch:<6} {str(kw):<18} {v.decimal()} +/- {mpmath.nstr(v.error, 2)}  {v.method}  "
              f"{time.perf_counter() - t:.2f} s", flush=True)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 6)
