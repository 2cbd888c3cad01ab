"""Cost per depth step of the 30-digit recursion: candidates vs a plain mpmath loop of the seed
formulas (tests/seed_formulas.forward_loop), measured in one run, printed as ratios (issue 6, part 1).

Every candidate runs the package's one recursion (rntk_sym.recursions.run) in a different number
context; "digits" is the agreement of its FFNet value at rho = 0.3 with a 60-digit mp reference.

    python benchmarks/bench_speed.py [L] [N]      (default L = 4000 steps, N = 10000 rho for batches)
"""
from __future__ import annotations

import math
import sys
import time
from pathlib import Path

import mpmath
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
import seed_formulas as seed  # noqa: E402

from rntk_sym import inputs  # noqa: E402
from rntk_sym.backends import NUMPY, SCALAR, MPBackend  # noqa: E402
from rntk_sym.backends._plain import PlainScalar  # noqa: E402
from rntk_sym.duals import s3_taylor_coefficients  # noqa: E402
from rntk_sym.kernels import _evaluate, guard_digits  # noqa: E402

DIGITS = 30


class Gmpy2Context(PlainScalar):
    """Candidate: gmpy2 ``mpfr`` numbers directly (no mpmath layer), one ``gmpy2.context`` at ``prec``
    bits (activate with ``with gmpy2.local_context(ctx.gctx):``)."""

    def __init__(self, prec):
        import gmpy2

        self.g = gmpy2
        self.prec = prec
        self.gctx = gmpy2.context(precision=prec)
        with gmpy2.context(self.gctx):
            self.pi = gmpy2.const_pi()
            self.one = gmpy2.mpfr(1)
        self.sqrt, self.atan2 = gmpy2.sqrt, gmpy2.atan2
        self.zero = gmpy2.mpfr(0)


    def number(self, x):
        return self.g.mpfr(x)

    def s3_small(self, a, sin_a, cos_a):
        # sin a - a cos a at log2(3/a^2) extra bits (as the mp backend), rounded once
        if not a:
            return self.zero
        extra = 10 + max(0, -2 * self.g.get_exp(a))
        with self.g.context(self.gctx, precision=self.prec + extra):
            s, c = self.g.sin_cos(a)
            r = s - a * c
        return +r


class QuadContext(PlainScalar):
    """Candidate: IEEE binary128 (113-bit significand, ~34 digits) vectorized in numpy by the
    ``numpy-quaddtype`` package (SLEEF kernels): the "multi-word floats vectorized in numpy" candidate
    with its transcendental functions ready-made. ``s3_small`` by its Taylor series (20 terms of
    rntk_sym.duals.s3_taylor_coefficients, Horner), the state held plainly."""

    where = staticmethod(np.where)

    def __init__(self):
        from numpy_quaddtype import QuadPrecDType, QuadPrecision

        self.dtype = QuadPrecDType()
        self.Q = QuadPrecision
        with mpmath.workdps(45):
            self.pi = QuadPrecision(mpmath.nstr(mpmath.pi, 40))
            self.coeffs = [QuadPrecision(mpmath.nstr(mpmath.mpf(c.p) / c.q, 40)) for c in s3_taylor_coefficients(20)]
        self.one = QuadPrecision(1)
        self.sqrt, self.atan2 = np.sqrt, np.arctan2

    def s3_small(self, a, sin_a, cos_a):
        a2 = a * a
        acc = a2 * 0 + self.coeffs[-1]
        for c in self.coeffs[-2::-1]:
            acc = acc * a2 + c
        return acc * a2 * a

    def zeros_like(self, x):
        return x * 0


def timed(f):
    t = time.perf_counter()
    out = f()
    return time.perf_counter() - t, out


def main(L: int, N: int) -> None:
    with mpmath.workprec(256):  # values are converted to and compared as 256-bit mpf
        table(L, N)


def table(L: int, N: int) -> None:
    prec = math.ceil((DIGITS + guard_digits(L)) * math.log2(10))
    rows = []  # (name, seconds, steps (rho * depth), value or None, note)
    with mpmath.workdps(60):
        ref = +seed.forward_loop("ffnet", mpmath.mpf("0.3"), L)[0]
    scale = inputs.scaling("ffnet", None, None)

    def plain():
        with mpmath.workdps(DIGITS):
            return seed.forward_loop("ffnet", mpmath.mpf("0.3"), L)[0]

    t_plain, v = timed(plain)
    rows.append(("plain mpmath loop of the seed formula (baseline)", t_plain, L, v, f"{DIGITS} dps, one run"))

    mp = MPBackend(prec)
    t, v = timed(lambda: _evaluate(mp, "ffnet", "ntk", mp.number("0.3"), L, scale))
    rows.append(("rntk_sym mp backend (one precision)", t, L, v, f"{prec} bits; the API runs two"))

    g = Gmpy2Context(prec)
    import gmpy2

    with gmpy2.context(g.gctx):
        t, v = timed(lambda: _evaluate(g, "ffnet", "ntk", g.number("0.3"), L, scale))
    num, den = (int(x) for x in v.as_integer_ratio())  # gmpy2 mpz -> int (mpmath without gmpy2 refuses mpz)
    rows.append(("gmpy2 mpfr context", t, L, mpmath.mpf(num) / den,
                 f"{prec} bits"))

    try:
        from rntk_sym.backends.ball import BallBackend, to_fraction

        b = BallBackend(prec)
        with b.active():
            t, v = timed(lambda: _evaluate(b, "ffnet", "ntk", b.number("0.3"), L, scale))
            q = to_fraction(v.mid())
            rad = float(to_fraction(v.rad()))
        rows.append(("python-flint arb balls (certified)", t, L, mpmath.mpf(q.numerator) / q.denominator,
                     f"{prec} bits, radius {rad:.1e}"))
    except ImportError:
        rows.append(("python-flint arb balls (certified)", float("nan"), L, None, "python-flint missing"))

    t, v = timed(lambda: _evaluate(SCALAR, "ffnet", "ntk", 0.3, L, scale))
    rows.append(("float64 scalar (Python floor, not 30 digits)", t, L, mpmath.mpf(v), "double-double state"))

    rhos = np.linspace(-1, 1, N)
    rhos[np.argmin(abs(rhos - 0.3))] = 0.3
    Lb = max(L // 10, 1)
    with mpmath.workdps(60):
        ref_b = +seed.forward_loop("ffnet", mpmath.mpf("0.3"), Lb)[0]
    t, vals = timed(lambda: _evaluate(NUMPY, "ffnet", "ntk", rhos, Lb, scale))
    rows.append((f"float64 numpy batch of {N} rho (not 30 digits)", t, Lb * N,
                 mpmath.mpf(vals[np.argmin(abs(rhos - 0.3))]), f"L = {Lb}, per (rho, step)"))

    try:
        q = QuadContext()
        qr = rhos.astype(q.dtype)
        qr[np.argmin(abs(rhos - 0.3))] = q.Q("0.3")
        t, vals = timed(lambda: _evaluate(q, "ffnet", "ntk", qr, Lb, scale))
        v = vals[np.argmin(abs(rhos - 0.3))]
        rows.append((f"binary128 numpy batch of {N} rho (numpy-quaddtype)", t, Lb * N,
                     mpmath.mpf(str(v)) if hasattr(v, "__str__") else None, f"L = {Lb}, per (rho, step)"))
    except ImportError:
        rows.append(("binary128 numpy batch (numpy-quaddtype)", float("nan"), 1, None, "numpy-quaddtype missing"))

    print(f"FFNet NTK, rho = 0.3, L = {L}, {DIGITS} digits asked; mpmath backend {mpmath.libmp.BACKEND}")
    print("| candidate | us per (rho, step) | ratio plain / candidate | digits correct | notes |")
    print("|---|---|---|---|---|")
    per_plain = t_plain / L
    for name, sec, steps, val, note in rows:
        per = sec / steps
        r = ref_b if "batch" in name else ref
        dig = "-" if val is None else f"{float(-mpmath.log10(abs(val - r) / abs(r) + mpmath.mpf(10) ** -60)):.1f}"
        print(f"| {name} | {1e6 * per:.3f} | {per_plain / per:.2f} | {dig} | {note} |")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 4000, int(sys.argv[2]) if len(sys.argv) > 2 else 10000)
