"""Very deep networks: L vs seconds vs correct digits for each method (issue 6; table in docs/benchmarks.md).

- recursion (mp): the exact recursion in mpmath at two precisions (kernels._high_precision);
- certified: the exact recursion in arb balls (``certified=True``; guaranteed radius);
- asymptotic: the skip-ahead (``method="asymptotic"``, rntk_sym.asymptotics), digits = 25.

Correct digits: -log10 |value - reference| / |reference|, the reference being the certified ball
(L <= 1e5; its radius is a proof) and, beyond, the asymptotic value at 40 digits (agreement between
two precisions, not a proof). Ratio: the time a plain mpmath loop of the seed formula would take for
L steps (its per-step time measured first, at L = 4000) over the method's time.

    python benchmarks/bench_deep.py [max_exp_recursion]     (default 5: L up to 1e5; 2 shared cores: minutes)
"""
from __future__ import annotations

import sys
import time
from fractions import Fraction
from pathlib import Path

import mpmath

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
import seed_formulas as seed  # noqa: E402

import rntk_sym  # noqa: E402
from rntk_sym import inputs, kernels  # noqa: E402

RHO, DIGITS = "0.3", 25


def timed(f):
    t = time.perf_counter()
    out = f()
    return time.perf_counter() - t, out


def asymptotic(L, digits):
    try:
        return rntk_sym.ntk("ffnet", RHO, L, digits=digits, method="asymptotic")
    except (AttributeError, ValueError) as exc:  # the skip-ahead is not available in this checkout
        print(f"| 1e{len(str(L)) - 1} | asymptotic | - | - | - | unavailable: {exc} |")
        return None


def digits_of(value, ref):
    err = abs(mpmath.mpf(value) - ref)
    return "all" if err == 0 else f"{float(-mpmath.log10(err / abs(ref))):.1f}"


def main(max_exp: int) -> None:
    with mpmath.workprec(300):  # values are compared as 300-bit mpf
        table(max_exp)


def table(max_exp: int) -> None:
    scale = inputs.scaling("ffnet", None, None)
    L = 4000
    with mpmath.workdps(DIGITS + 5):
        t_plain, _ = timed(lambda: seed.forward_loop("ffnet", mpmath.mpf(RHO), L))
    per_plain = t_plain / L
    print(f"FFNet Omegabar_L(rho = {RHO}), {DIGITS} digits asked; plain mpmath loop {1e6 * per_plain:.1f} us per step")
    print("| L | method | seconds | ratio to plain mpmath | correct digits | reported error | reference |")
    print("|---|---|---|---|---|---|---|")
    for e in range(3, max_exp + 1):
        L = 10 ** e
        t_c, cert = timed(lambda: rntk_sym.ntk("ffnet", RHO, L, digits=DIGITS, certified=True))
        ref = cert.value
        t_m, rec = timed(lambda: kernels._high_precision("ffnet", "ntk", Fraction(RHO), L, scale, DIGITS, None))
        t_a, asy = timed(lambda: asymptotic(L, DIGITS))
        for name, t, kv in (("recursion (mp, 2 precisions)", t_m, rec), ("certified (arb balls)", t_c, cert),
                            ("asymptotic", t_a, asy)):
            if kv is None:
                continue
            note = f"ball radius {mpmath.nstr(cert.error, 2)}"
            dig = (
                f">= {-float(mpmath.log10(cert.error / abs(ref))):.1f} (proved)"
                if kv is cert
                else digits_of(kv.value, ref)
            )
            print(
                f"| 1e{e} | {name} | {t:.3g} | {per_plain * L / t:.3g} | {dig} | {mpmath.nstr(kv.decimal_error(), 2)} "
                f"| {note} |"
            )
    for e in (6, 9, 12, 15):
        L = 10 ** e
        t_a, asy = timed(lambda: asymptotic(L, DIGITS))
        hi = asymptotic(L, 40) if asy is not None else None
        if hi is None:
            continue
        print(f"| 1e{e} | asymptotic | {t_a:.3g} | {per_plain * L / t_a:.3g} | {digits_of(asy.value, hi.value)} | "
              f"{mpmath.nstr(asy.decimal_error(), 2)} | asymptotic at 40 digits |")

    L = 4000
    t_m, _ = timed(lambda: kernels._high_precision("ffnet", "ntk", Fraction(RHO), L, scale, DIGITS, None))
    t_c, _ = timed(lambda: rntk_sym.ntk("ffnet", RHO, L, digits=DIGITS, certified=True))
    print(f"\nper step at L = {L}: plain mpmath loop {1e6 * per_plain:.1f} us; "
          f"recursion (mp, 2 precisions) {1e6 * t_m / L:.1f} us (ratio {per_plain * L / t_m:.2f}); "
          f"certified / default with python-flint {1e6 * t_c / L:.1f} us (ratio {per_plain * L / t_c:.2f})")

if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
