"""Skip-ahead of the FFNet with other activations (issue 15 item 4, rntk_sym/skip_general.py) against the exact
recursion: the skip-ahead's value at L = 10^4, 10^5 (and 10^6 with max_exp 6) against general.kernel's recursion in
mpmath at two precisions (general._high_precision, D + 5 digits; the arb balls of general.kernel widen exponentially
through these closed forms, so they are skipped here), with the reported and the true error; then the time of the
L = 10^12 call.

    python benchmarks/bench_skip_general.py [max_exp] [case]   (default 5; 6 takes about 15 min per case; case:
                                                                 e.g. "erf, eoc, 0.05, ntk" runs that one only)
"""
from __future__ import annotations

import sys
import time
from fractions import Fraction

import mpmath

from rntk_sym import general

CASES = [("erf", "eoc", "0.05", "ntk"), ("erf", "eoc", "0.05", "gp"), ("sin", "eoc", "0.1", "ntk"),
         ("erf", "0.5", "0.05", "ntk"), ("erf", "1.5", "0.05", "ntk"), ("erf", "1.5", "0.05", "gp"),
         ("gelu", "1", "0.2", "ntk"), ("leaky_relu:0.1", "eoc", "0", "ntk"), ("gelu", "eoc", "0.2", "ntk")]
RHO, DIGITS = "0.5", 20


def main(max_exp: int, only: str | None = None) -> None:
    print(f"rho = {RHO}, digits = {DIGITS}; reference: the recursion in mpmath at two precisions ({DIGITS + 5} digits)")
    print("| activation, sigma_w^2, sigma_b^2, kernel | L | skip-ahead s | recursion s | reported error | true error "
          "| covered |")
    print("|---|---|---|---|---|---|---|")
    for act, w, b, kernel in CASES:
        name = f"{act}, {w}, {b}, {kernel}"
        if only is not None and name != only:
            continue
        kw = {"activation": act, "weight_var": w, "bias_var": b, "kernel": kernel}
        for e in range(4 if only is None else max_exp, max_exp + 1):
            L = 10 ** e
            if act == "gelu" and w == "eoc" and e > 4:
                continue  # q_l converges slowly there (lambda_q = 0.993): the skip-ahead runs ~6500 exact layers
            t = time.perf_counter()
            a = general.kernel("ffnet", RHO, L, digits=DIGITS, method="asymptotic", **kw)
            ta = time.perf_counter() - t
            t = time.perf_counter()
            m = general.resolve("ffnet", act, w, b, digits=DIGITS + 5)
            c = general._high_precision(m, kernel, Fraction(RHO), L, Fraction(1), Fraction(1), DIGITS + 5)
            tc = time.perf_counter() - t
            true = abs(a.value - c.value)
            print(f"| {name} | 1e{e} | {ta:.2f} | {tc:.1f} | {mpmath.nstr(a.error, 2)} | {mpmath.nstr(true, 2)} "
                  f"(+/- {mpmath.nstr(c.error, 1)}) | {'yes' if true <= a.error + c.error else 'NO'} |", flush=True)
    if only is not None:
        return
    print(f"\nL = 10^12, digits = {DIGITS}:")
    for act, w, b, kernel in CASES:
        t = time.perf_counter()
        v = general.kernel("ffnet", RHO, 10 ** 12, digits=DIGITS, activation=act, weight_var=w, bias_var=b,
                           kernel=kernel)
        print(f"  {act}, {w}, {b}, {kernel}: {v.decimal()} +/- {mpmath.nstr(v.error, 2)}  {v.method}  "
              f"{time.perf_counter() - t:.2f} s", flush=True)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5, sys.argv[2] if len(sys.argv) > 2 else None)
