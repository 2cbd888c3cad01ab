"""Shared primitives of the scalar arbitrary-precision contexts (mpmath, arb, gmpy2)."""


class PlainScalar:
    """``where`` on a Python bool, and a state held plainly (no compensation: these contexts carry
    guard digits, or a rigorous radius, for the rounding of L additions). Subclasses set ``zero``."""

    zero = None

    @staticmethod
    def where(cond, x, y):
        return x if cond else y

    @staticmethod
    def accumulator(x):
        return x

    lead = total = accumulator

    @staticmethod
    def add(acc, x):
        return acc + x

    def zeros_like(self, x):
        return self.zero
