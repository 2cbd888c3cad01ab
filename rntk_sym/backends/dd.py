"""Double-double arithmetic (a number is an unevaluated sum ``hi + lo`` of two float64, ~32 digits),
compiled with numba when the ``numba`` extra is installed (plain Python functions otherwise).

Arithmetic, not a second recursion: the recursion is :func:`rntk_sym.recursions.relu_increments`,
translated into calls of these functions by :mod:`rntk_sym.codegen` (``_dd_step.py``).

Building blocks (Dekker 1971; Knuth TAOCP 2, 4.2.2; the algorithms of the QD library, Hida, Li and
Bailey 2001; their error bounds: Joldes, Muller and Popescu, ACM TOMS 44 (2017), "Tight and rigorous
error bounds for basic building blocks of double-word arithmetic"), with ``u = 2^-53``:

- :func:`add` (their AccurateDWPlusDW): relative error <= 3 u^2; :func:`mul` (their DWTimesDW1, the
  exact product from one fma under numba, from Dekker's split in plain Python): <= 7 u^2; :func:`div`
  (the QD library's accurate division, three quotient digits); :func:`sqrt` (one Newton step from the
  float root); :func:`add_sloppy` (QD's sloppy add) inside the series only.
- :func:`atan2` (``y >= 0``, ``x > 0``): table of ``atan(k/512)`` plus the series of ``atan z``,
  ``|z| <= 1/1024`` (5 terms after ``z``, the last 3 in float64); :func:`s3` (``s3(a) = sin a - a cos a``,
  ``0 <= a <= pi/2``): its Taylor series, 10 terms in double-double and the rest in float64.

The bounds this module claims, per operation, relative to the result (``REL_*``) are checked against
mpmath at 50 digits over the whole ranges by tests/test_dd.py.
"""
from __future__ import annotations

import math

import numpy as np

from . import _generated as _g
from ._generated import ATAN_DD_TERMS, ATAN_K, PI_DD, S3_DD_TERMS
from ._numba import numba_or_none
from .floats import two_prod_dekker as _two_prod_dekker

# the tables as arrays: numba reads a global array as a constant (a tuple indexed by a loop variable is
# copied onto the stack at every access)
S3_DD = np.array(_g.S3_DD)
ATAN_SERIES_DD = np.array(_g.ATAN_SERIES_DD)
ATAN_TABLE_DD = np.array(_g.ATAN_TABLE_DD)

_nb = numba_or_none()
# Compiled on first use. Only the entry point (``_dd_entry.run_steps``) is cached on disk: numba keys a
# cache by the source file of the function cached alone, so that file is generated with a hash of every
# source it compiles in (tests/test_codegen.py keeps it current; a change anywhere renews the cache).
jit = _nb.njit(cache=False, error_model="numpy") if _nb is not None else (lambda f: f)
jit_cached = _nb.njit(cache=True, error_model="numpy") if _nb is not None else (lambda f: f)

U2 = 2.0 ** -106  # u^2, u = 2^-53 the float64 unit roundoff
# Per-operation relative error bounds claimed, in units of u^2 = 2^-106. add, mul: the published bounds
# (3 u^2 for AccurateDWPlusDW, 7 u^2 for DWTimesDW1); div, sqrt, atan2, s3: no published bound for these
# variants, so about 3 times the largest error measured over 20000 random and edge points each
# (tests/test_dd.py; measured 2.4, 2.6, 2.7, 6.1 u^2).
REL_ADD = 3 * U2
REL_MUL = 7 * U2
REL_DIV = 8 * U2
REL_SQRT = 8 * U2
REL_ATAN2 = 8 * U2
REL_S3 = 16 * U2


@jit
def two_sum(a, b):
    """``s = fl(a + b)`` and ``e`` with ``a + b = s + e`` exactly (Knuth)."""
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


@jit
def quick_two_sum(a, b):
    """As :func:`two_sum` for ``|a| >= |b|`` (Dekker)."""
    s = a + b
    return s, b - (s - a)


if _nb is not None:
    from llvmlite import ir
    from numba.core import cgutils, types
    from numba.extending import intrinsic

    @intrinsic
    def _fma(typingctx, a, b, c):
        """``a b + c`` rounded once (LLVM's fma: the hardware instruction, or libm's exact fma)."""
        def codegen(context, builder, signature, args):
            d = ir.DoubleType()
            fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(d, [d, d, d]), "llvm.fma.f64")
            return builder.call(fn, args)
        return types.float64(types.float64, types.float64, types.float64), codegen

    @jit
    def two_prod(a, b):
        """``p = fl(a b)`` and ``e`` with ``a b = p + e`` exactly (one fma)."""
        p = a * b
        return p, _fma(a, b, -p)
else:
    two_prod = _two_prod_dekker


@jit
def add(ah, al, bh, bl):
    """``a + b``."""
    s, e = two_sum(ah, bh)
    t, f = two_sum(al, bl)
    e += t
    s, e = quick_two_sum(s, e)
    e += f
    return quick_two_sum(s, e)


@jit
def add_sloppy(ah, al, bh, bl):
    """``a + b`` with error <= ~2 u^2 (|a| + |b|) (the QD library's sloppy add; about half the latency of
    :func:`add`): accurate where ``a + b`` does not cancel, as in the series below."""
    s, e = two_sum(ah, bh)
    e += al + bl
    return quick_two_sum(s, e)


@jit
def sub(ah, al, bh, bl):
    """``a - b``."""
    return add(ah, al, -bh, -bl)


@jit
def mul(ah, al, bh, bl):
    """``a b``."""
    p, e = two_prod(ah, bh)
    e += ah * bl + al * bh
    return quick_two_sum(p, e)


@jit
def mul_d(ah, al, b):
    """``a b`` for a float64 ``b``."""
    p, e = two_prod(ah, b)
    e += al * b
    return quick_two_sum(p, e)


@jit
def div(ah, al, bh, bl):
    """``a / b`` (``b != 0``)."""
    q1 = ah / bh
    ph, pl = mul_d(bh, bl, q1)
    rh, rl = sub(ah, al, ph, pl)
    q2 = rh / bh
    ph, pl = mul_d(bh, bl, q2)
    rh, rl = sub(rh, rl, ph, pl)
    q3 = rh / bh
    q1, q2 = quick_two_sum(q1, q2)
    return add(q1, q2, q3, 0.0)


@jit
def sqrt(ah, al):
    """``sqrt(a)`` for ``a >= 0`` (Karp's trick: one Newton step on the float root)."""
    if ah <= 0.0:
        return 0.0, 0.0
    x = math.sqrt(ah)
    sh, sl = two_prod(x, x)
    rh, rl = sub(ah, al, sh, sl)
    return quick_two_sum(x, rh / (2.0 * x))


@jit
def _atan_ratio(yh, yl, xh, xl):
    """``atan(y / x)`` for ``0 <= y <= x``: ``atan(k/K) + atan z`` with ``k/K`` the nearest table point to
    ``y/x`` and ``z = (y - x k/K) / (x + y k/K)``, ``|z| <= 1/(2K)`` (one division)."""
    k = int(yh / xh * ATAN_K + 0.5)
    c = k / ATAN_K  # exact
    ph, pl = mul_d(xh, xl, c)
    nh, nl = sub(yh, yl, ph, pl)
    ph, pl = mul_d(yh, yl, c)
    dh, dl = add(xh, xl, ph, pl)
    zh, zl = div(nh, nl, dh, dl)
    z2h, z2l = mul(zh, zl, zh, zl)
    n = len(ATAN_SERIES_DD) // 2
    t = ATAN_SERIES_DD[2 * n - 2]
    for j in range(n - 2, ATAN_DD_TERMS - 1, -1):
        t = t * z2h + ATAN_SERIES_DD[2 * j]
    ph, pl = mul_d(z2h, z2l, t)
    for j in range(ATAN_DD_TERMS - 1, -1, -1):
        ph, pl = add_sloppy(ph, pl, ATAN_SERIES_DD[2 * j], ATAN_SERIES_DD[2 * j + 1])
        if j > 0:
            ph, pl = mul(ph, pl, z2h, z2l)
    ph, pl = mul(ph, pl, z2h, z2l)  # z^2 (-1/3 + z^2/5 - ...)
    ph, pl = mul(ph, pl, zh, zl)
    ph, pl = add(ph, pl, zh, zl)
    return add(ph, pl, ATAN_TABLE_DD[2 * k], ATAN_TABLE_DD[2 * k + 1])


@jit
def atan2(yh, yl, xh, xl):
    """``atan2(y, x)`` for ``y >= 0``, ``x > 0`` (the first quadrant; ``[0, pi/2]``)."""
    if yh <= xh:
        return _atan_ratio(yh, yl, xh, xl)
    ah, al = _atan_ratio(xh, xl, yh, yl)
    return sub(0.5 * PI_DD[0], 0.5 * PI_DD[1], ah, al)


@jit
def s3(ah, al):
    """``s3(a) = sin a - a cos a`` for ``0 <= a <= pi/2``: ``a^3 P(a^2)``, ``P(x) = sum_j c_(j+1) x^j`` with
    ``c_k`` from SymPy (:func:`rntk_sym.duals.s3_taylor_coefficients`). Terms ``j >= S3_DD_TERMS`` (each
    below 1e-17 of ``P``) in float64; the others in double-double, as two Horner chains in ``y = x^2``
    (even and odd ``j``: ``P = E(y) + x O(y)``) that the processor runs side by side."""
    xh, xl = mul(ah, al, ah, al)
    yh, yl = mul(xh, xl, xh, xl)
    n = len(S3_DD) // 2
    t = S3_DD[2 * n - 2]
    for k in range(n - 2, S3_DD_TERMS - 1, -1):
        t = t * xh + S3_DD[2 * k]
    # t x^S3_DD_TERMS = t y^(S3_DD_TERMS / 2) starts the even chain
    eh, el = t, 0.0
    oh, ol = S3_DD[2 * S3_DD_TERMS - 2], S3_DD[2 * S3_DD_TERMS - 1]
    for i in range(S3_DD_TERMS // 2 - 1, -1, -1):
        eh, el = mul(eh, el, yh, yl)
        eh, el = add_sloppy(eh, el, S3_DD[4 * i], S3_DD[4 * i + 1])
        if i < S3_DD_TERMS // 2 - 1:
            oh, ol = mul(oh, ol, yh, yl)
            oh, ol = add_sloppy(oh, ol, S3_DD[4 * i + 2], S3_DD[4 * i + 3])
    oh, ol = mul(oh, ol, xh, xl)
    ph, pl = add_sloppy(eh, el, oh, ol)
    ph, pl = mul(ph, pl, xh, xl)
    return mul(ph, pl, ah, al)
