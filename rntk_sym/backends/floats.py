"""float64 contexts: numpy (vectorized over arrays of any shape) and Python scalars (``math``,
several times faster per step than numpy on a single value)."""
from __future__ import annotations

import math

import numpy as np

from ._generated import S3_COEFFS


def _s3_series(a, sin_a=None, cos_a=None):
    """``s3(a) = sin a - a cos a`` for ``0 <= a <= pi/2`` by its Taylor series (Horner in a^2),
    relative error below 1e-16 on the whole range; ``sin_a``, ``cos_a`` are not needed."""
    a2 = a * a
    acc = S3_COEFFS[-1]
    for c in S3_COEFFS[-2::-1]:
        acc = acc * a2 + c
    return acc * a2 * a


_SPLIT = 134217729.0  # 2^27 + 1 (Dekker's splitter for float64)


def two_prod_dekker(a, b):
    """``p = fl(a b)`` and the exact error ``e``: ``a b = p + e`` (Dekker's split; no fma in numpy), for
    floats or numpy arrays."""
    p = a * b
    c = _SPLIT * a
    ah = c - (c - a)
    al = a - ah
    c = _SPLIT * b
    bh = c - (c - b)
    bl = b - bh
    return p, ((ah * bh - p) + ah * bl + al * bh) + al * bl


def _two_sum(a, b):
    """``s = fl(a + b)`` and the exact rounding error ``e``: ``a + b = s + e`` (Knuth)."""
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


class _Compensated:
    """float64 state accumulators: the state is the unevaluated sum ``hi + lo`` (double-double,
    ``|lo| <= ulp(hi)/2``), so adding many small increments never rounds it; the recursion reads
    ``hi``. Without this, alpha = 1/L loses ~1e-12 relative by L = 1e5 (README, float64 accuracy)."""

    @staticmethod
    def accumulator(x):
        return (x, 0 * x)

    @staticmethod
    def lead(acc):
        return acc[0]

    @staticmethod
    def add(acc, x):
        s, e = _two_sum(acc[0], x)
        e = e + acc[1]
        hi = s + e
        return hi, e - (hi - s)

    @staticmethod
    def total(acc):
        return acc[0] + acc[1]


class _NumpyContext(_Compensated):
    pi = np.pi
    one = 1.0
    sqrt = staticmethod(np.sqrt)
    atan2 = staticmethod(np.arctan2)
    abs = staticmethod(np.abs)
    where = staticmethod(np.where)
    s3_small = staticmethod(_s3_series)

    @staticmethod
    def zeros_like(x):
        return np.zeros_like(x)

    @staticmethod
    def number(x):
        return np.float64(x)


class _ScalarContext(_Compensated):
    pi = math.pi
    one = 1.0
    sqrt = staticmethod(math.sqrt)
    atan2 = staticmethod(math.atan2)
    abs = staticmethod(abs)
    s3_small = staticmethod(_s3_series)

    @staticmethod
    def where(cond, x, y):
        return x if cond else y

    @staticmethod
    def zeros_like(x):
        return 0.0

    @staticmethod
    def number(x):
        return float(x)


NUMPY = _NumpyContext()
SCALAR = _ScalarContext()
