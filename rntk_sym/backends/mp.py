"""mpmath context at a fixed binary precision, private to one computation.

Each :class:`MPBackend` owns its own ``mpmath.MPContext``: setting its precision never touches the
global ``mpmath.mp`` (no ``mp.dps = ...`` anywhere in the library).
"""
from __future__ import annotations

import mpmath
from mpmath import libmp

from ._plain import PlainScalar


class MPBackend(PlainScalar):
    """Primitives of :mod:`rntk_sym.recursions` in mpmath at ``prec`` bits."""

    def __init__(self, prec: int):
        self.mp = mpmath.MPContext()
        self.mp.prec = prec
        self.prec = prec
        self.pi = +self.mp.pi
        self.one = self.mp.one
        self.zero = self.mp.zero
        self.sqrt = self.mp.sqrt
        self.atan2 = self.mp.atan2
        self.abs = abs
        self._tiny = self.mp.ldexp(1, -prec - 4)


    def number(self, x):
        """An exact decimal string, int or float as an mpf rounded once to this precision."""
        return self.mp.mpf(x)

    def s3_small(self, a, sin_a, cos_a):
        """``s3(a) = sin a - a cos a`` for ``0 <= a <= pi/2``, correctly to this precision.

        ``sin a - a cos a ~ a^3/3`` loses ``log2(3 / a^2)`` bits to cancellation, so it is evaluated
        from a fresh ``cos, sin`` pair at that many extra bits (one libmp call; much cheaper than
        summing the Taylor series term by term in Python), then rounded once.
        """
        if not a:
            return self.mp.zero
        wp = self.prec + 8 + max(0, -2 * (a._mpf_[2] + a._mpf_[3]) + 2)
        c, s = libmp.mpf_cos_sin(a._mpf_, wp)
        r = libmp.mpf_sub(s, libmp.mpf_mul(a._mpf_, c, wp), self.prec, libmp.round_nearest)
        return self.mp.make_mpf(r)
