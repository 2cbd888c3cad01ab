"""Validation of user input: every bad value raises ``ValueError`` whose message starts with the
argument's name and says what is allowed. The command line turns these into exit status 2."""
from __future__ import annotations

import math
import numbers
import os
import re
import sys
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


def _irrational_digits(digits: int | None) -> int:
    """Decimal digits at which an irrational SymPy number is evaluated for a computation working at
    ``digits`` significant digits (None: any precision this package works at, up to MAX_DIGITS).

    Twice the working digits, plus a margin: the kernels depend on rho through ``sqrt(1 - rho^2)``,
    so near rho = +-1 an input error e can move the result by ~sqrt(e); with 2 digits + 40 the
    rounded input moves the result by less than 10^-(digits + 20), below every guard digit."""
    return 2 * (MAX_DIGITS if digits is None else digits) + 40


def _sympy_number(name: str, x, digits: int | None) -> Fraction:
    """A real SymPy number: a Rational exactly, any other number (``sqrt(2)/2``, ``pi/4``) by SymPy's
    ``evalf`` at :func:`_irrational_digits` (``strict``: SymPy raises when it cannot reach them)."""
    if x.is_Rational:
        return Fraction(int(x.p), int(x.q))
    if not x.is_number or x.is_real is False or x.is_finite is False:
        raise _fail(name, "a real finite number", x)
    from sympy.core.evalf import PrecisionExhausted

    try:
        f = x.evalf(_irrational_digits(digits), strict=True)
    except PrecisionExhausted:
        raise _fail(name, f"a number SymPy can evaluate to {_irrational_digits(digits)} digits", x) from None
    if not f.is_Float or not f.is_finite:  # e.g. a complex value whose realness SymPy could not decide
        raise _fail(name, "a real finite number", x)
    return _binary_fraction(name, f, x)


def _binary_fraction(name: str, f, x) -> Fraction:
    """The exact value of a binary float ``f`` of any precision with an mpmath ``_mpf_`` tuple (an
    ``mpf`` of any context, a SymPy ``Float``), read from the tuple (``mpmath.mpf(f)`` would round
    to the global precision)."""
    sign, man, exp, _ = f._mpf_
    if not man:
        if exp or sign:  # mpmath encodes inf and nan as a zero mantissa with a special exponent
            raise _fail(name, "a finite number", x)
        return Fraction(0)
    return Fraction((-1) ** sign * int(man)) * Fraction(2) ** int(exp)


def exact_number(name: str, x, digits: int | None = None) -> Fraction:
    """``x`` as an exact rational (the one-line ValueError names ``name`` when it is not a real number).

    Accepted: a decimal string or ``decimal.Decimal`` ("0.7" means exactly 7/10), int, Fraction (and
    any ``numbers.Rational``: SymPy Rational, gmpy2 mpq), float or numpy float (its exact binary
    value), mpmath ``mpf`` or SymPy ``Float`` (exact via mantissa and exponent), a 0-d numpy array of
    these, and any other real SymPy number (``sqrt(2)/2``, ``pi/4``), evaluated by SymPy's ``evalf`` at
    twice ``digits`` (the caller's working precision; None: enough for every precision, see
    :func:`_irrational_digits`) and taken as that binary value. Rejected: bool, complex, NaN, inf,
    strings that are not decimals, symbols and non-real SymPy expressions.
    """
    if isinstance(x, np.ndarray) and x.ndim == 0:
        x = x[()]
    if isinstance(x, (bool, np.bool_)):
        raise _fail(name, "a number", x)
    if isinstance(x, str):
        try:
            x = Decimal(x.strip())
        except InvalidOperation:
            raise _fail(name, "a decimal number", x) from None
    if isinstance(x, Decimal):
        if not x.is_finite():
            raise _fail(name, "a finite number", str(x))
        return Fraction(x)
    if isinstance(x, numbers.Rational):  # int, Fraction, numpy ints, SymPy Integer/Rational, gmpy2
        return Fraction(int(x.numerator), int(x.denominator))
    if hasattr(x, "_mpf_"):  # mpmath mpf, SymPy Float: binary floats of any precision
        return _binary_fraction(name, x, x)
    sp = sys.modules.get("sympy")  # a SymPy object means SymPy is imported already
    if sp is not None and isinstance(x, sp.Basic):
        return _sympy_number(name, x, digits)
    if isinstance(x, (float, np.floating)):
        if not np.isfinite(x):
            raise _fail(name, "a finite number", x)
        return Fraction(*x.as_integer_ratio())  # exact, also for long double
    raise _fail(name, "a real number (int, Fraction, decimal string, float, mpf or SymPy number)", x)


def is_irrational(x) -> bool:
    """Whether :func:`exact_number` evaluates ``x`` approximately (a SymPy number that is neither a
    Rational nor a binary ``Float``, e.g. ``sqrt(2)/2``)."""
    sp = sys.modules.get("sympy")
    return sp is not None and isinstance(x, sp.Basic) and not x.is_Rational and not hasattr(x, "_mpf_")


MAX_DEPTH_EXPONENT = 100  # depths up to 10^100, the skip-ahead's reach: its cost grows like log L (~330
# segments there, seconds to tens of seconds; at 10^1000 up to a quarter of an hour)
_POWER = re.compile(r"^\s*(\d+)\s*(?:\*\*|\^)\s*(\d+)\s*$")  # B**E or B^E, B and E plain integers


def is_eoc(weight_var) -> bool:
    """Whether ``weight_var`` is the word ``"eoc"`` (any case, spaces around): the edge of chaos, resolved by
    :func:`rntk_sym.general.resolve` and :func:`rntk_sym.phase.phase`."""
    return isinstance(weight_var, str) and weight_var.strip().lower() == "eoc"


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


def rho_exact(x, digits: int | None = None) -> Fraction:
    """A single rho in [-1, 1], exactly (``digits``: the working precision, for irrational SymPy
    numbers; see :func:`exact_number`)."""
    r = exact_number("rho", x, digits)
    if not -1 <= r <= 1:
        raise _fail("rho", "in [-1, 1]", x)
    return r


def rho_array(x) -> np.ndarray:
    """rho as a float64 array with every entry in [-1, 1] (NaN, bool and complex entries rejected)."""
    kinds = (bool, np.bool_, complex, np.complexfloating)
    if isinstance(x, np.ndarray):
        if x.dtype.kind in "bc":
            raise _fail("rho", "real numbers in [-1, 1]", f"an array of dtype {x.dtype}")
    elif any(isinstance(e, kinds) for e in np.asarray(x, dtype=object).flat):  # [True, 0.5] casts silently
        raise _fail("rho", "real numbers in [-1, 1] (no bool or complex)", x)
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


def writable_dir(name: str, d: str, what: str) -> None:
    """Create the directory ``d`` (``what`` names it in messages); ValueError naming the argument ``name``
    when it cannot be created or written, checked before any work."""
    try:
        os.makedirs(d, exist_ok=True)
    except OSError as exc:
        why = "a file is in the way" if isinstance(exc, FileExistsError) else exc.strerror or type(exc).__name__
        raise ValueError(f"{name}: cannot create {what} ({why})") from None
    if not os.access(d, os.W_OK | os.X_OK):
        raise ValueError(f"{name}: {what} is not writable")
