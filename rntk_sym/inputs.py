"""Validation of user input: every bad value raises ``ValueError`` whose message starts with the
argument's name and says what is allowed. The command line turns these into exit status 2."""
from __future__ import annotations

import numbers
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from fractions import Fraction

import numpy as np

ARCHS = ("ffnet", "resnet")
KERNELS = ("ntk", "gp")
MAX_DIGITS = 10000


def _fail(name: str, allowed: str, got) -> ValueError:
    return ValueError(f"{name}: must be {allowed}, got {got!r}")


def exact_number(name: str, x) -> Fraction:
    """``x`` (decimal string, int, float, Fraction, numpy or mpmath scalar) as an exact rational.

    A string such as "0.7" means exactly 7/10; a float means its exact binary value.
    """
    if isinstance(x, bool):
        raise _fail(name, "a number", x)
    if isinstance(x, str):
        try:
            d = Decimal(x.strip())
        except InvalidOperation:
            raise _fail(name, "a decimal number", x) from None
        if not d.is_finite():
            raise _fail(name, "a finite number", x)
        return Fraction(d)
    if isinstance(x, Fraction):
        return x
    if isinstance(x, numbers.Integral):
        return Fraction(int(x))
    try:
        f = float(x) if not hasattr(x, "_mpf_") else x
    except (TypeError, ValueError):
        raise _fail(name, "a number", x) from None
    if hasattr(f, "_mpf_"):  # mpmath mpf: exact via its mantissa and exponent
        import mpmath

        if not mpmath.isfinite(f):
            raise _fail(name, "a finite number", x)
        man, exp = mpmath.mpf(f).man_exp
        return Fraction(man) * (Fraction(2) ** exp)
    if not np.isfinite(f):
        raise _fail(name, "a finite number", x)
    return Fraction(f)


def depth(x) -> int:
    """Depth L: an integer >= 1 (any size)."""
    if isinstance(x, bool) or not isinstance(x, numbers.Integral):
        if isinstance(x, str) and x.strip().isdigit():
            x = int(x)
        else:
            raise _fail("depth", "an integer >= 1", x)
    if int(x) < 1:
        raise _fail("depth", "an integer >= 1", x)
    return int(x)


def digits(x) -> int | None:
    if x is None:
        return None
    if isinstance(x, bool) or not isinstance(x, numbers.Integral) or not 1 <= int(x) <= MAX_DIGITS:
        raise _fail("digits", f"an integer in [1, {MAX_DIGITS}]", x)
    return int(x)


def choice(name: str, x, allowed: tuple[str, ...]) -> str:
    if x not in allowed:
        raise _fail(name, "one of " + ", ".join(allowed), x)
    return x


def rho_exact(x) -> Fraction:
    """A single rho in [-1, 1], exactly."""
    r = exact_number("rho", x)
    if not -1 <= r <= 1:
        raise _fail("rho", "in [-1, 1]", x)
    return r


def rho_array(x) -> np.ndarray:
    """rho as a float64 array with every entry in [-1, 1] (NaN rejected)."""
    try:
        r = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError):
        raise _fail("rho", "a number or an array of numbers in [-1, 1]", x) from None
    if np.isnan(r).any():
        raise ValueError("rho: must be in [-1, 1], got NaN")
    if (np.abs(r) > 1).any():
        bad = r[np.abs(r) > 1].flat[0]
        raise _fail("rho", "in [-1, 1]", float(bad))
    return r


@dataclass(frozen=True)
class Scaling:
    """How alpha is set: ``alpha = depth^-gamma`` or a constant ``alpha``; exact rationals."""

    gamma: Fraction | None
    alpha: Fraction | None

    def describe(self) -> str:
        return f"alpha = L^-{self.gamma}" if self.gamma is not None else f"alpha = {self.alpha}"


def scaling(arch: str, gamma=None, alpha=None) -> Scaling | None:
    """The residual scaling: None for the FFNet; for the ResNet gamma >= 0 or alpha > 0, default gamma = 1."""
    if arch == "ffnet":
        if gamma is not None or alpha is not None:
            raise ValueError("gamma/alpha: the ffnet has no residual scale; give them only with arch='resnet'")
        return None
    if gamma is not None and alpha is not None:
        raise ValueError("gamma/alpha: give at most one of gamma (alpha = L^-gamma) and alpha (constant)")
    if alpha is not None:
        a = exact_number("alpha", alpha)
        if a <= 0:
            raise _fail("alpha", "> 0", alpha)
        return Scaling(None, a)
    g = Fraction(1) if gamma is None else exact_number("gamma", gamma)
    if g < 0:
        raise _fail("gamma", ">= 0", gamma)
    return Scaling(g, None)
