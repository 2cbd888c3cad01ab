"""Validation of user input: every bad value raises ``ValueError`` whose message starts with the
argument's name and says what is allowed. The command line turns these into exit status 2."""
from __future__ import annotations

import math
import numbers
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from fractions import Fraction

import numpy as np

ARCHS = ("ffnet", "resnet")
KERNELS = ("ntk", "gp")
MAX_DIGITS = 10000


def _fail(name: str, allowed: str, got) -> ValueError:
    shown = repr(got)
    if len(shown) > 60:  # a 1000-digit depth is shown by its ends and length
        shown = f"{shown[:25]}...{shown[-25:]} ({len(shown)} characters)"
    return ValueError(f"{name}: must be {allowed}, got {shown}")


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


MAX_DEPTH_EXPONENT = 100  # depths up to 10^100, the skip-ahead's reach: its cost grows like log L (~330
# segments there, seconds to tens of seconds; at 10^1000 up to a quarter of an hour)
_POWER = re.compile(r"^\s*(\d+)\s*(?:\*\*|\^)\s*(\d+)\s*$")  # B**E or B^E, B and E plain integers


def integer(name: str, x) -> int:
    """An exact integer in ``[1, 10^MAX_DEPTH_EXPONENT]``: a Python or numpy integer, or a string in an
    exact notation: ``"1000"``, ``"1e3"`` / ``"1.5e3"`` (a decimal whose value is an integer),
    ``"10**15"`` or ``"10^15"``. Never evaluated as code; floats are refused (1e23 is not 10^23)."""
    allowed = (f"an integer in [1, 10^{MAX_DEPTH_EXPONENT}] (the skip-ahead's reach), written e.g. 1000, 1e3, "
               "10**3 or 10^3")
    if isinstance(x, numbers.Integral) and not isinstance(x, bool):
        v = int(x)
    elif isinstance(x, str):
        v = _integer_text(x)
        if v is None:
            raise _fail(name, allowed, x)
    else:
        raise _fail(name, allowed, x)
    if not 1 <= v <= 10 ** MAX_DEPTH_EXPONENT:
        raise _fail(name, allowed, x)
    return v


def _integer_text(s: str) -> int | None:
    """The integer written in ``s`` (see :func:`integer`), None if it is not one; a huge exponent is
    refused before the integer is formed (``1e100000000`` is not expanded)."""
    m = _POWER.match(s)
    if m:
        base, e = int(m.group(1)), int(m.group(2))
        if base > 1 and e * math.log10(base) > MAX_DEPTH_EXPONENT + 1:
            return None
        return base ** e
    try:
        d = Decimal(s.strip())
    except InvalidOperation:
        return None
    if not d.is_finite() or (d and d.adjusted() > MAX_DEPTH_EXPONENT) or d != d.to_integral_value():
        return None
    return int(d)


def depth(x) -> int:
    """Depth L: an integer in [1, 10^100] (the skip-ahead's reach), or a string in an exact integer
    notation (:func:`integer`)."""
    return integer("depth", x)


def depth_text(L: int) -> str:
    """``L`` for a message: all its digits up to 20, else ``1.00e+100`` (a 100-digit depth stays readable)."""
    return str(L) if L < 10 ** 20 else f"{Decimal(L):.3g}"


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
