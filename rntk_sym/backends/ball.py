"""Ball-arithmetic context (python-flint ``arb``): certified enclosures of the recursion.

Every number is a ball ``[mid +/- rad]`` that contains the exact value of the quantity, so the
state after ``L`` layers of :func:`rntk_sym.recursions.run` encloses the exact ``(u_L, v_L, T_L)``.
The recursion's cancellation-free form keeps the balls narrow: each layer multiplies the radii by
``1 + O(w theta)`` (polynomial growth in L near the fixed point), except where a function of a ball
is evaluated naively across a cancellation. The one such place, ``s3(a) = sin a - a cos a ~ a^3/3``,
is evaluated in mean-value form (:meth:`BallBackend.s3_small`).

python-flint keeps its working precision in the global ``flint.ctx``; :meth:`BallBackend.active`
sets it for the duration of a computation and restores it (the only way arb's operators see it).
python-flint is a core dependency, imported when a context is made (absent: a clear ImportError).
"""
from __future__ import annotations

import contextlib
import math
from fractions import Fraction

from ._plain import PlainScalar


class FlintMissing(ImportError, ValueError):
    """python-flint is not installed (an ImportError; also a ValueError, so the command line reports
    it as a bad ``--certified`` in one line)."""


def _flint():
    try:
        import flint
    except ImportError as exc:
        raise FlintMissing("certified: needs python-flint (a core dependency; pip install python-flint)") from exc
    return flint


class BallBackend(PlainScalar):
    """Primitives of :mod:`rntk_sym.recursions` in arb balls at ``prec`` bits (use inside ``active()``)."""

    def __init__(self, prec: int):
        flint = _flint()
        self.flint = flint
        self.arb = flint.arb
        self.atan2 = flint.arb.atan2
        self.prec = prec
        with self.active():
            self.pi = self.arb.pi()
            self.one = self.arb(1)
            self.zero = self.arb(0)

    @contextlib.contextmanager
    def active(self):
        """Set flint's working precision to ``prec`` bits for the block, then restore it."""
        with self.flint.ctx.workprec(self.prec):
            yield self

    @staticmethod
    def sqrt(x):
        # Only u = 1 - rho and v = 1 + rho are square-rooted; both are >= 0 exactly, so the part of
        # a ball below 0 (a wide ball at rho = -1 or 1) can be dropped rigorously instead of giving nan.
        return x.nonnegative_part().sqrt()



    def number(self, x):
        """A ball around an int, Fraction or exact decimal string (exact when representable)."""
        if isinstance(x, Fraction):
            return self.arb(x.numerator) / self.arb(x.denominator)
        return self.arb(x)

    def from_mpf(self, x):
        """The exact ball of an mpmath ``mpf`` (radius 0 when its precision fits this context's)."""
        sign, man, exp, _ = x._mpf_  # (mpf.man_exp drops the sign)
        man, exp = (-int(man) if sign else int(man)), int(exp)
        return self.arb(self.flint.fmpq(man * 2 ** exp) if exp >= 0 else self.flint.fmpq(man, 2 ** -exp))

    @staticmethod
    def to_mpf(ctx, ball):
        """The midpoint of ``ball`` as an mpf of the mpmath context ``ctx`` (rounded to its precision)."""
        man, exp = ball.mid().man_exp()
        return ctx.mpf((int(man), int(exp)))

    def s3_small(self, a, sin_a, cos_a):
        """Ball enclosing ``s3(x) = sin x - x cos x`` for every ``x`` in the ball ``a`` (``0 <= x <= pi/2``
        up to the ball's radius).

        Mean-value form: ``s3`` at the exact midpoint ``m``, evaluated at ``log2(3/m^2)`` extra bits
        (the bits ``sin m - m cos m ~ m^3/3`` cancels), plus ``rad(a) * max |s3'|`` with
        ``s3'(x) = x sin x <= x^2``. Evaluating ``sin a - a cos a`` on the ball itself would give a
        radius ~ ``2 rad(a)`` instead of ``a^2 rad(a)``, and the recursion's radii would explode.
        """
        m = a.mid()
        mf = float(m)
        if m.is_zero():
            s = m
        else:
            if mf == 0:  # |m| below the float range: m = man 2^e, |m| >= 2^e
                extra = 8 - 2 * int(m.man_exp()[1])
            else:
                extra = 10 + max(0, int(-2 * math.log2(abs(mf))))
            fctx = self.flint.ctx
            fctx.prec = self.prec + extra
            try:
                sm, cm = m.sin_cos()
                s = sm - m * cm
            finally:
                fctx.prec = self.prec
        # (a - m) is the ball [0 +/- rad(a)]; times a^2 >= x^2 >= |s3'(x)| = |x sin x| on the ball
        return s + (a - m) * (a * a)


def precision_doubling(step, prec: int, doublings: int):
    """Run ``step(p)`` at ``p = prec, 2 prec, ..., prec 2^doublings`` bits until it returns ``(result, True)``
    (e.g. a ball narrow enough); returns ``(result, p, True)`` then, else the last ``(result, p, False)``.
    ``step`` stops the loop early by returning ``done = True`` with a result of its choice, or by raising.
    The one precision-doubling loop of the ball recursions (:mod:`rntk_sym.kernels`, :mod:`rntk_sym.general`,
    :mod:`rntk_sym.conventions`); ``doublings = 0`` with a ``step`` never done: ``(step(prec)[0], prec, False)``."""
    result, p = None, prec
    for attempt in range(doublings + 1):
        p = prec << attempt
        result, done = step(p)
        if done:
            return result, p, True
    return result, p, False


def narrow(mid: Fraction, rad: Fraction, digits: int) -> bool:
    """The ball ``mid +/- rad`` has ``digits`` correct significant digits: ``rad <= |mid| / (2 10^digits)``."""
    return rad <= abs(mid) * Fraction(1, 2 * 10 ** digits)


def to_fraction(x) -> Fraction:
    """The exact value of an exact arb (a midpoint, a radius, a bound) as a Fraction."""
    man, exp = x.man_exp()
    man, exp = int(man), int(exp)
    return Fraction(man * 2 ** exp) if exp >= 0 else Fraction(man, 2 ** -exp)
