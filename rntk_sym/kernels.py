"""Public functions: the normalized NTK and GP kernel of a pair of unit vectors, ``rho = <x, x'>``.

``Omegabar_L`` (``kernel="ntk"``) and the normalized GP kernel ``K_L / sqrt(K_L(x,x) K_L(x',x'))``
(``kernel="gp"``) of docs/model.md sections 2-3, both equal to 1 on the diagonal.

- ``digits=None``: float64, vectorized over an array ``rho`` (array in, array out; a scalar gives a
  float). Accuracy: docs/benchmarks.md ("float64 accuracy"), checked against mpmath in the tests.
- ``digits=D``: a :class:`KernelValue` with D correct significant digits and an error: for D <= 28
  with numba installed, one compiled double-double run with a first-order error bound
  (benchmarks/bench_dd.py); else with python-flint (a core dependency) one run of the recursion in
  ball arithmetic, whose radius is a guaranteed bound (and several times faster,
  benchmarks/bench_speed.py); without it, two mpmath runs at two precisions with guard digits, whose
  difference is an estimate.
"""
from __future__ import annotations

import contextlib
import dataclasses
import decimal
import math
import numbers
import operator
import re
import sys
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction

import mpmath
import numpy as np

from . import inputs
from .backends import NUMPY, SCALAR, MPBackend
from .recursions import ffnet_block, resnet_block, run

LOG2_10 = math.log2(10)


@contextlib.contextmanager
def long_int_strings(digits: int):
    """Allow int <-> decimal string conversions of ``digits`` (+ margin) digits inside the block.

    Python caps them at 4300 digits by default (``sys.set_int_max_str_digits``); mpmath's pure-Python
    backend converts mantissas through strings, so 10000-digit values need the cap raised. Restored on exit.
    """
    get = getattr(sys, "get_int_max_str_digits", None)
    old = get() if get else 0
    if not get or old == 0 or old >= digits + 100:
        yield
        return
    sys.set_int_max_str_digits(digits + 100)
    try:
        yield
    finally:
        sys.set_int_max_str_digits(old)


def nstr(x, n: int, **kwargs) -> str:
    """``mpmath.nstr(x, n)`` that works for any precision of ``x``: ``x`` is first rounded to n + 5
    digits in a private context (mpmath's pure-Python backend would otherwise turn the whole mantissa
    into a decimal string), inside :func:`long_int_strings`."""
    ctx = mpmath.MPContext()
    ctx.prec = math.ceil((n + 5) * LOG2_10) + 8
    with long_int_strings(n):
        return mpmath.nstr(ctx.mpf(x), n, **kwargs)


def correct_digits(value, error, digits: int) -> int:
    """Significant digits of ``value`` that ``error`` supports, at most ``digits``: the largest n with
    ``error <= 1/2 unit in the n-th significant digit`` (so ``value`` rounded to n digits is within
    one unit of its last digit of the exact value); 0 when not even the first digit is supported.
    An exact zero (``value = error = 0``) has ``digits`` digits."""
    ctx = mpmath.MPContext()
    ctx.prec = max(value.context.prec if hasattr(value, "context") else 53, 64)
    value, error = ctx.mpf(value), ctx.mpf(error)
    if not value:
        return digits if not error else 0
    if not error:
        return digits
    e10 = int(ctx.floor(ctx.log10(abs(value))))  # 10^e10 <= |value| < 10^(e10 + 1), up to log10's rounding
    n = min(digits, int(ctx.floor(e10 + 1 - ctx.log10(2 * error))) + 1)
    while n > 0 and error > ctx.mpf(10) ** (e10 - n + 1) / 2:
        n -= 1
    return max(n, 0)


def rounded(value, error, digits: int, strip_zeros: bool = False) -> str:
    """``value`` as a decimal string rounded to the digits ``error`` supports (at most ``digits``,
    at least 1): never a digit beyond the error (:func:`correct_digits`)."""
    n = max(1, correct_digits(value, error, digits))
    return nstr(value, n, strip_zeros=strip_zeros, min_fixed=-5, max_fixed=n + 1).removesuffix(".")  # "123." -> "123"


@dataclass(frozen=True, eq=False)
class KernelValue:
    """A kernel value at high precision.

    ``value``: the computed value (mpf, more digits than asked); ``error``: estimated bound on
    ``|value - exact|`` (``error_kind`` says how it was obtained); ``digits``: significant digits asked;
    :attr:`correct_digits`: the digits ``error`` supports (``decimal()`` and ``str()`` print no more).
    ``one_minus``, ``one_minus_error``: ``1 - value`` and its error where the computation carried it
    without cancellation (the GP kernel: ``u = 1 - rho_L``, the recursion's own coordinate); see
    :attr:`complement`.

    Behaves as a number where that is unambiguous: ``float(v)``, ``mpmath.mpf(v)`` (through ``_mpf_``),
    comparisons (``<``, ``==``, ...) with numbers and other KernelValues by ``value`` (exactly),
    arithmetic ``+ - * /`` and ``abs`` with numbers and KernelValues (a KernelValue whose error bounds the
    propagated errors: ``|a| e_b + |b| e_a + e_a e_b`` for products, plus rounding), and format specs
    (``f"{v:.5f}"``, ``f"{v:.3e}"`` format ``value``, to as many digits as the spec asks).
    """

    value: mpmath.mpf
    error: mpmath.mpf
    digits: int
    method: str
    error_kind: str
    alpha: mpmath.mpf | None = field(default=None)
    interval: tuple[str, str] | None = field(default=None)  # certified: [lo, hi], decimals rounded outward
    one_minus: mpmath.mpf | None = field(default=None)
    one_minus_error: mpmath.mpf | None = field(default=None)

    @property
    def correct_digits(self) -> int:
        """Significant digits delivered: those ``error`` supports, at most ``digits``."""
        return correct_digits(self.value, self.error, self.digits)

    def decimal(self) -> str:
        """``value`` rounded to :attr:`correct_digits` significant digits (``digits`` when the error
        reaches them, as :func:`kernel` ensures or refuses)."""
        return rounded(self.value, self.error, self.digits)

    def decimal_error(self) -> mpmath.mpf:
        """Bound on the error of :meth:`decimal`: ``error`` plus half a unit in its last digit (not
        by parsing the decimal back: Python refuses int conversions of more than 4300 digits)."""
        ctx = self.value.context
        if not self.value:
            return self.error
        exponent = ctx.floor(ctx.log10(abs(self.value)))
        return self.error + ctx.mpf(10) ** (exponent - max(1, self.correct_digits) + 1) / 2

    @property
    def complement(self) -> KernelValue:
        """``1 - value`` as a KernelValue: from ``one_minus`` where the computation carried it (no
        cancellation: full relative precision even when ``value`` rounds to 1), else ``1 - value`` at
        the working precision, whose error is ``error`` (absolute)."""
        ctx = self.value.context
        if self.one_minus is not None:
            return KernelValue(self.one_minus, self.one_minus_error, self.digits, self.method,
                               self.error_kind + "; 1 - value carried by the recursion (u = 1 - rho)", self.alpha)
        value = 1 - self.value
        error = self.error + ctx.ldexp(1, 1 - ctx.prec)
        return KernelValue(value, error, self.digits, self.method, self.error_kind + "; 1 - value", self.alpha)

    def __float__(self) -> float:
        return float(self.value)

    @property
    def _mpf_(self):
        """mpmath's conversion protocol: ``mpmath.mpf(v)`` is ``value`` (rounded to mpmath's precision)."""
        return self.value._mpf_

    def __str__(self) -> str:
        return f"{self.decimal()} +/- {nstr(self.decimal_error(), 2)}"

    def __repr__(self) -> str:
        return f"KernelValue('{self}', method={self.method!r})"

    def __format__(self, spec: str) -> str:
        """Format ``value`` as a float would be (``f``, ``e``, ``g``, ``%`` types; fill, align, sign,
        width, grouping), from all its digits: ``f"{v:.40f}"`` shows 40 decimals of ``value``."""
        if not spec:
            return str(self)
        ctx = self.value.context
        d = decimal.Decimal(nstr(self.value, int(ctx.prec / LOG2_10) + 2, strip_zeros=False)) if self.value else \
            decimal.Decimal(0)
        return _format_decimal(d, spec)

    # comparisons: exact, by value
    def _exact(self) -> Fraction:
        return inputs.exact_number("value", self.value)

    def _other_exact(self, other):
        if isinstance(other, KernelValue):
            return other._exact()
        if _is_number(other):
            return inputs.exact_number("other", other, int(self.value.context.prec / LOG2_10) + 10)
        return None

    def _compare(self, other, op):
        o = self._other_exact(other)
        return NotImplemented if o is None else op(self._exact(), o)

    def __eq__(self, other):
        return self._compare(other, operator.eq)

    def __lt__(self, other):
        return self._compare(other, operator.lt)

    def __le__(self, other):
        return self._compare(other, operator.le)

    def __gt__(self, other):
        return self._compare(other, operator.gt)

    def __ge__(self, other):
        return self._compare(other, operator.ge)

    def __hash__(self) -> int:
        return hash(self._exact())  # equal to the hash of an equal float, int or Fraction

    # arithmetic: errors propagated as bounds
    def _operands(self, other):
        """``(ctx, a, e_a, b, e_b, kvs)`` for ``self op other``, or None if ``other`` is not a number."""
        if not isinstance(other, KernelValue) and not _is_number(other):
            return None
        kvs = [self] + ([other] if isinstance(other, KernelValue) else [])
        ctx = mpmath.MPContext()
        ctx.prec = max(k.value.context.prec for k in kvs)
        if isinstance(other, KernelValue):
            b, eb = ctx.mpf(other.value), ctx.mpf(other.error)
        else:
            q = inputs.exact_number("other", other, int(ctx.prec / LOG2_10) + 10)
            b = ctx.mpf(q.numerator) / q.denominator
            eb = abs(b) * ctx.ldexp(1, 1 - ctx.prec)  # its rounding to the working precision
        return ctx, ctx.mpf(self.value), ctx.mpf(self.error), b, eb, kvs

    def _result(self, ctx, value, error, kvs, op: str) -> KernelValue:
        error = error + abs(value) * ctx.ldexp(1, 2 - ctx.prec)  # the operation's own rounding
        alpha = self.alpha if len(kvs) == 1 else None
        return KernelValue(+value, +error, min(k.digits for k in kvs), self.method,
                           f"{self.error_kind}; propagated through {op}", alpha)

    def _add(self, other, sign: int, op: str):
        ops = self._operands(other)
        if ops is None:
            return NotImplemented
        ctx, a, ea, b, eb, kvs = ops
        return self._result(ctx, a + sign * b, ea + eb + (abs(a) + abs(b)) * ctx.ldexp(1, 1 - ctx.prec), kvs, op)

    def __add__(self, other):
        return self._add(other, 1, "+")

    __radd__ = __add__

    def __sub__(self, other):
        return self._add(other, -1, "-")

    def __rsub__(self, other):
        res = self._add(other, -1, "-")
        return res if res is NotImplemented else -res

    def __neg__(self) -> KernelValue:
        return dataclasses.replace(self, value=-self.value, interval=None, one_minus=None, one_minus_error=None)

    def __abs__(self) -> KernelValue:
        return -self if self.value < 0 else self

    def __mul__(self, other):
        ops = self._operands(other)
        if ops is None:
            return NotImplemented
        ctx, a, ea, b, eb, kvs = ops
        return self._result(ctx, a * b, abs(a) * eb + abs(b) * ea + ea * eb, kvs, "*")

    __rmul__ = __mul__

    def _divide(self, num, den, ops):
        ctx, _, _, _, _, kvs = ops
        (n, en), (d, ed) = num, den
        if abs(d) <= ed:
            raise ZeroDivisionError("KernelValue division: the divisor's error interval contains 0")
        # |n/d - (n + dn)/(d + dd)| <= (|n| e_d + |d| e_n) / (|d| (|d| - e_d))
        return self._result(ctx, n / d, (abs(n) * ed + abs(d) * en) / (abs(d) * (abs(d) - ed)), kvs, "/")

    def __truediv__(self, other):
        ops = self._operands(other)
        return NotImplemented if ops is None else self._divide(ops[1:3], ops[3:5], ops)

    def __rtruediv__(self, other):
        ops = self._operands(other)
        return NotImplemented if ops is None else self._divide(ops[3:5], ops[1:3], ops)


_SPEC = re.compile(r"(?:(?P<fill>.)?(?P<align>[<>=^]))?(?P<sign>[-+ ]?)(?P<zero>0?)(?P<width>\d*)(?P<group>[,_]?)"
                   r"(?:\.(?P<prec>\d+))?(?P<type>[eEfFgG%]?)")


def _format_decimal(d: decimal.Decimal, spec: str) -> str:
    """``d`` formatted as Python formats a float with ``spec`` (no ``#``, ``z`` or ``n``): Decimal's own
    formatting differs in ``g`` (trailing zeros, exponent switch) and in exponents (``e-1``, not ``e-01``)."""
    m = _SPEC.fullmatch(spec)
    if m is None:
        raise ValueError(f"format: unsupported format spec {spec!r} for a KernelValue")
    if not d:
        return format(0.0, spec)  # exact; Decimal's zero carries an exponent into "e" formats
    t, prec = m["type"] or "g", m["prec"]
    if t in "gG":  # Python's rule: e-style when the exponent is < -4 or >= the precision; zeros stripped
        p = max(1, int(prec or (6 if m["type"] else 17)))
        with decimal.localcontext() as dc:
            dc.prec = p
            r = +d  # rounded to p significant digits
        x, digs = (r.adjusted(), r.normalize().as_tuple()) if r else (0, decimal.Decimal(0).as_tuple())
        t, prec = ("f", max(0, -digs.exponent)) if -4 <= x < p else ("e" if t == "g" else "E", len(digs.digits) - 1)
    group = "," if m["group"] else ""  # Decimal knows "," only; "_" swapped in below
    core = format(d, f"{m['sign']}{group}{'' if prec is None else f'.{prec}'}{t}")
    core = core.replace(",", m["group"]) if m["group"] else core
    core = re.sub(r"([eE][+-])(\d)$", r"\g<1>0\2", core)
    width = int(m["width"] or 0)
    if len(core) >= width:
        return core
    if m["zero"] and not m["align"] or m["align"] == "=":  # pad after the sign
        sign = core[0] if core[0] in "+- " else ""
        return sign + (m["fill"] or ("0" if m["zero"] else " ")) * (width - len(core)) + core[len(sign):]
    return format(core, f"{m['fill'] or ' '}{m['align'] or '>'}{width}")


def _is_number(x) -> bool:
    """A real number an arithmetic operation or comparison with a KernelValue accepts (not bool)."""
    if isinstance(x, (bool, np.bool_, complex, np.complexfloating)):
        return False
    sp = sys.modules.get("sympy")
    return isinstance(x, (numbers.Number, decimal.Decimal)) or hasattr(x, "_mpf_") or \
        (sp is not None and isinstance(x, sp.Basic))


def _alpha2(ctx, scale: inputs.Scaling, depth: int):
    """``alpha^2`` in the context's numbers: ``depth^(-2 gamma)`` or ``alpha^2``."""
    if scale.alpha is not None:
        a = ctx.number(scale.alpha.numerator) / ctx.number(scale.alpha.denominator)
        return a * a
    g = ctx.number(scale.gamma.numerator) / ctx.number(scale.gamma.denominator)
    return ctx.number(depth) ** (-2 * g)


def _evaluate(ctx, arch: str, kernel: str, rho, depth: int, scale, progress=None):
    """Run the recursion in ``ctx`` from ``rho`` (already a ctx number or array) and normalize."""
    return _evaluate_uv(ctx, arch, kernel, 1 - rho, 1 + rho, depth, scale, progress)


def _evaluate_uv(ctx, arch: str, kernel: str, u, v, depth: int, scale, progress=None):
    """As :func:`_evaluate` from the cancellation-free state ``u = 1 - rho``, ``v = 1 + rho``
    (used by :func:`rntk_sym.gram.gram`, which gets ``u`` from ``|x - y|^2 / 2`` without forming rho)."""
    return _pair_uv(ctx, arch, kernel, u, v, depth, scale, progress)[0]


def _pair_uv(ctx, arch: str, kernel: str, u, v, depth: int, scale, progress=None):
    """``(value, 1 - value)`` of :func:`_evaluate_uv`; for the GP kernel ``1 - rho_L = u_L``, the
    recursion's own coordinate, exact to the working precision also where ``rho_L`` rounds to 1;
    for the NTK ``(L - T_L) / L``."""
    blk = ffnet_block(ctx) if arch == "ffnet" else resnet_block(ctx, _alpha2(ctx, scale, depth))
    u, v, T = run(ctx, blk, u, v, depth, progress)
    return (T / depth, (depth - T) / depth) if kernel == "ntk" else ((v - u) / 2, u)


def _uv(ctx, rho: Fraction):
    """``(u, v) = (1 - rho, 1 + rho)`` in ``ctx`` from the exact rational, each rounded once (relative to
    itself: ``1 - rho`` for rho = 1 - 10^-38 keeps every digit, unlike 1 minus a rounded rho)."""
    return tuple(ctx.number(q.numerator) / ctx.number(q.denominator) for q in (1 - rho, 1 + rho))


def guard_digits(depth: int) -> int:
    """Extra decimal digits carried: rounding errors of L steps grow at most like L * eps."""
    return 12 + len(str(depth))


# Cost of one depth step of the float64 recursion for a batch of n values of rho, cost(n) = a + b n
# (benchmarks/bench_batch.py; 2-core machine, FFNet and ResNet alike within the noise):
#   numpy arrays   a ~ 45 us (about 85 ufunc calls per step, ~0.5 us of call overhead each, whatever n),
#                  b ~ 50 ns per value (the arithmetic; memory-bound beyond ~1e4 values);
#   Python floats  a = 0, b ~ 3 us per value (math-module calls, no array overhead).
# Up to SCALAR_BATCH values the Python-float loop, value by value, is the cheaper (a 1-element array
# used to cost ~15x a scalar: all overhead); beyond it numpy's fixed cost is shared by the batch.
NUMPY_STEP_FIXED = 45e-6
NUMPY_STEP_PER_VALUE = 50e-9
SCALAR_STEP = 3e-6
SCALAR_BATCH = 16
# With numba (rntk_sym/backends/compiled.py: compiled, vectorized over the values, both cores) the
# same model with a ~ 0.06-0.2 us (one step's latency: a few values cost as much as one) and
# b ~ 9-11 ns per value (benchmarks/bench_batch.py, the 2-core machine shared with other jobs, load
# average 3-4; the larger figures are used, as for the others). It replaces both paths above when
# numba imports.
COMPILED_STEP_FIXED = 2e-7
COMPILED_STEP_PER_VALUE = 12e-9


# The double-double recursion (numba; rntk_sym.backends.ddrun) serves digits=D up to DD_MAX_DIGITS: its
# error bound is ~1e-30 - 1e-29 relative (docs/benchmarks.md, "Double-double recursion"); a step costs
# DD_STEP seconds (benchmarks/bench_dd.py), one run (its error is a bound, no second precision).
DD_MAX_DIGITS = 28
DD_STEP = 0.5e-6
# smaller states (rho within 1e-150 of +-1) or weights go to the balls: the step's smallest intermediate,
# s3(theta) ~ theta^3 ~ (2 u)^1.5, keeps its low word (2^-106 of it) in float64's normal range
DD_TINY = 1e-150


def uses_double_double(digits: int | None) -> bool:
    """Whether ``digits=D`` runs the double-double recursion: D <= DD_MAX_DIGITS and numba installed."""
    from .backends._numba import numba_or_none

    return digits is not None and digits <= DD_MAX_DIGITS and numba_or_none() is not None


def step_seconds(digits: int | None, depth: int, n_rho: int = 1) -> float:
    """Rough cost in seconds of one depth step of the recursion (for run-time estimates, not tests):
    float64, a batch of ``n_rho`` values: the model above (compiled when numba imports); ``digits``: one
    value, about 25 us at 30 digits on a 2-core machine, growing with the precision (DD_STEP in
    double-double)."""
    if digits is None:
        from .backends import compiled

        if compiled.available():
            return COMPILED_STEP_FIXED + COMPILED_STEP_PER_VALUE * n_rho
        if n_rho <= SCALAR_BATCH:
            return n_rho * SCALAR_STEP
        return NUMPY_STEP_FIXED + NUMPY_STEP_PER_VALUE * n_rho
    if uses_double_double(digits):
        return DD_STEP
    return _mp_step_seconds(digits, depth)


def _mp_step_seconds(digits: int, depth: int) -> float:
    """One step in mpmath or arb balls at ``digits`` (plus guard digits)."""
    return 2e-5 * (1 + (digits + guard_digits(depth)) / 100) ** 1.6


METHODS = ("auto", "recursion", "asymptotic")
WARN_SECONDS = 60.0  # a float64 recursion estimated longer, run without a progress callback, warns first
REFUSE_SECONDS = 86400.0  # a recursion estimated to take longer than a day is refused (ValueError naming depth)
FLOAT_SKIP_MAX_POINTS = 64  # float64 requests of at most this many rho may use the skip-ahead
# Typical cost of one skip-ahead value at 17 digits (the float64 route), L in 1e4 .. 1e12: measured
# 0.1-1.7 s (benchmarks/bench_batch.py); it grows about like digits^2 (0.1-2.3 s at 30, 0.4-18 s at 100).
SKIP_AHEAD_SECONDS = 1.0
# With numba the skip-ahead's exact runs at up to asymptotics.DD_SKIP_DIGITS digits are compiled
# double-double (4-9x faster than the arb runs above): one value costs SKIP_AHEAD_DD_SECONDS
# (benchmarks/bench_batch.py: 0.02-0.27 s from L = 10^6 to 10^12, against 0.06-1.1 s in arb; 1.1-1.5 s
# for constant alpha = 0.1, whose Fatou fit falls short; the typical figure, as above).
SKIP_AHEAD_DD_SECONDS = 0.25


def skip_ahead_seconds(digits: int | None) -> float:
    """Rough cost of one skip-ahead value at ``digits`` (None: float64, i.e. 17 digits): SKIP_AHEAD_DD_SECONDS
    where its exact runs are double-double (numba, digits <= DD_SKIP_DIGITS), else SKIP_AHEAD_SECONDS
    growing like digits^2."""
    from .asymptotics import DD_SKIP_DIGITS

    d = max(digits or 17, 17)
    if d <= DD_SKIP_DIGITS and uses_double_double(d):
        return SKIP_AHEAD_DD_SECONDS
    return SKIP_AHEAD_SECONDS * (d / 17) ** 2


def recursion_seconds(digits: int | None, depth: int, n_rho: int = 1) -> float:
    """Estimated time of the recursion for ``n_rho`` values of rho (float64: one batch; ``digits``:
    each value at the two mpmath precisions). Depths are at most 10^100 (:func:`rntk_sym.inputs.depth`):
    the product stays a float (a 1001-digit depth was an OverflowError here)."""
    if digits is None:
        return depth * step_seconds(None, depth, n_rho)
    return n_rho * (1 if uses_double_double(digits) else 2) * depth * step_seconds(digits, depth)


def prefers_skip_ahead(digits: int | None, depth: int, n_rho: int = 1) -> bool:
    """Whether ``method="auto"`` tries the skip-ahead: it applies (``depth`` beyond SEGMENT_EXACT; in
    float64 at most FLOAT_SKIP_MAX_POINTS values of rho) and is estimated cheaper than the recursion."""
    from .asymptotics import SEGMENT_EXACT  # the skip-ahead applies beyond it

    if depth <= SEGMENT_EXACT or (digits is None and n_rho > FLOAT_SKIP_MAX_POINTS):
        return False
    return n_rho * skip_ahead_seconds(digits) < recursion_seconds(digits, depth, n_rho)


def estimate_seconds(digits: int | None, depth: int, n_rho: int = 1) -> float:
    """Rough run time of :func:`kernel` with ``method="auto"`` for ``n_rho`` values of rho (one
    float64 call, or ``n_rho`` calls with ``digits``): the recursion, or the skip-ahead where
    ``kernel`` chooses it (:func:`prefers_skip_ahead`)."""
    if prefers_skip_ahead(digits, depth, n_rho):
        return n_rho * skip_ahead_seconds(digits)
    return recursion_seconds(digits, depth, n_rho)


def kernel(arch: str, rho, depth: int, *, kernel: str = "ntk", gamma=None, alpha=None,
           digits: int | None = None, method: str = "auto", max_seconds: float | None = None,
           progress: Callable[[int], None] | None = None, certified: bool = False,
           activation=None, weight_var=None, bias_var=None, norms=None):
    """Normalized NTK (``kernel="ntk"``) or GP kernel (``kernel="gp"``) of ``arch``.

    Arguments (docs/model.md symbols): ``rho`` = <x, x'> in [-1, 1]; ``depth`` = L >= 1; for
    ``arch="resnet"`` either ``gamma`` (alpha = L^-gamma, default gamma = 1) or a constant ``alpha``.
    Numbers may be exact decimal strings ("0.7" is 7/10 at any precision).

    ``digits=None``: float64 (array in, array out) by the recursion; with ``method="auto"``, kernels of
    at most FLOAT_SKIP_MAX_POINTS values of rho come from the skip-ahead at 17 digits instead where it
    is estimated cheaper (:func:`prefers_skip_ahead`). ``digits=D``: :class:`KernelValue` with D
    correct significant digits and an error estimate (for an array ``rho``: a numpy object array of
    KernelValues of the same shape). Every number type of :func:`rntk_sym.inputs.exact_number` is a
    valid ``rho``; an irrational SymPy number (``sqrt(2)/2``) is evaluated at twice the working
    precision, so it is as good as exact. ``method``: ``"recursion"`` (exact, O(L) steps),
    ``"asymptotic"`` (skip-ahead, :func:`rntk_sym.asymptotics.skip_ahead`), ``"auto"``: the recursion
    where it is estimated cheaper than the skip-ahead, else the skip-ahead when its error bound reaches
    D digits, else the recursion. ``max_seconds``: refuse (ValueError naming ``depth``) a recursion
    estimated to take longer (default REFUSE_SECONDS). D digits are delivered or refused: where only
    the skip-ahead applies (the recursion is refused, or ``method="asymptotic"``) and its error misses
    D digits (the segmented orbit reaches about 85-90, docs/asymptotics.md sec. 6.3), a ValueError
    naming ``digits`` says how many it reached. ``progress(done)`` is called during long runs, ``done``
    out of ``2 L`` (recursion steps over both precisions, or over the float64 values; the skip-ahead's
    segments or values scaled to that budget).

    With numba installed (the ``numba`` extra), D <= DD_MAX_DIGITS runs the recursion in compiled
    double-double with a first-order running error bound (``method="recursion (double-double)"``,
    :mod:`rntk_sym.backends.ddrun`; ~0.5 us per step), falling back to the balls where it misses D digits.

    ``certified=True`` (needs ``digits`` and python-flint, a core dependency): the exact recursion
    in ball arithmetic (:mod:`rntk_sym.backends.ball`); ``value`` is the ball's midpoint, ``error``
    its radius (a guaranteed bound), ``interval`` the ball as decimals rounded outward; the precision
    is doubled until the radius reaches D digits (at most 3 times). ``method="asymptotic"`` is refused,
    and so is an irrational SymPy ``rho`` (its value is SymPy's evaluation, not a certified enclosure).
    Where the radius still misses D digits, ``correct_digits`` says how many the ball supports.

    ``activation`` (a name such as ``"erf"`` or ``"leaky_relu:0.1"``, or an activation object),
    ``weight_var`` = sigma_w^2, ``bias_var`` = sigma_b^2, ``norms`` = the input squared norms: any other
    network than relu, 2, 0 is computed by :func:`rntk_sym.general.kernel` (docs/activations.md).
    """
    from . import general

    if general.uses_general(arch, activation, weight_var, bias_var, gamma, alpha):
        return general.kernel(arch, rho, depth, kernel=kernel, gamma=gamma, alpha=alpha, digits=digits,
                              method=method, certified=certified, activation=activation, weight_var=weight_var,
                              bias_var=bias_var, norms=norms, max_seconds=max_seconds, progress=progress)
    if norms is not None:
        general.norms_pair(norms)  # validated; the seeds' kernels are positively homogeneous
    arch = inputs.choice("arch", arch, inputs.ARCHS)
    kernel = inputs.choice("kernel", kernel, inputs.KERNELS)
    method = inputs.choice("method", method, METHODS)
    if max_seconds is None:
        max_seconds = REFUSE_SECONDS
    depth = inputs.depth(depth)
    scale = inputs.scaling(arch, gamma, alpha)
    digits = inputs.digits(digits)
    if digits is None:
        if certified:
            raise ValueError("certified: needs digits=D (ball arithmetic is a high-precision method)")
        if method == "asymptotic":
            raise ValueError("method: 'asymptotic' needs digits=D (it is a high-precision method)")
        r = inputs.rho_array(rho)
        if method == "auto" and prefers_skip_ahead(None, depth, r.size):
            out = _float64_skip_ahead(arch, kernel, r, depth, gamma, alpha, progress)
            if out is not None:
                return out
        seconds = recursion_seconds(None, depth, r.size)
        if max_seconds is not None and seconds > max_seconds:
            raise ValueError(f"depth: the float64 recursion for {r.size} value(s) of rho at L = "
                             f"{inputs.depth_text(depth)} would take about {seconds / 3600:.3g} hours "
                             f"(limit {max_seconds / 3600:.3g} h)" + _float64_hint(method, depth, r.size))
        if progress is None and seconds > WARN_SECONDS:  # never slow without a word
            warnings.warn(f"rntk_sym: the float64 recursion for {r.size} value(s) of rho at L = "
                          f"{inputs.depth_text(depth)} will take about {seconds / 60:.3g} min; pass progress= "
                          "to follow it" + _float64_hint(method, depth, r.size), stacklevel=3)
        return _float64(arch, kernel, r, depth, scale, progress)
    if np.ndim(rho) > 0:  # one KernelValue per entry
        out = np.empty(np.shape(rho), dtype=object)
        for idx, x in np.ndenumerate(np.asarray(rho, dtype=object)):
            out[idx] = kernel_fn(arch, x, depth, kernel=kernel, gamma=gamma, alpha=alpha, digits=digits, method=method,
                                 max_seconds=max_seconds, progress=progress, certified=certified)
        return out
    if certified and inputs.is_irrational(rho):
        raise ValueError(f"rho: certified needs an exactly representable rho (int, Fraction, decimal, float, "
                         f"SymPy Rational), got the irrational {rho}")
    r = inputs.rho_exact(rho, digits + guard_digits(depth))
    if certified:
        return _certified(arch, kernel, r, depth, scale, digits, method, max_seconds, progress)
    seconds = recursion_seconds(digits, depth)
    if method == "asymptotic" or (method == "auto" and prefers_skip_ahead(digits, depth)):
        from . import asymptotics

        seg = None if progress is None else (lambda j, m: progress(2 * depth * j // m))  # same budget as below
        res = asymptotics.skip_ahead_with_complement(arch, r, depth, gamma=gamma, alpha=alpha, digits=digits,
                                                     kernel=kernel, progress=seg)
        if res is None and method == "asymptotic":
            st = asymptotics.setting(arch, gamma, alpha)
            raise ValueError(f"method: no asymptotic description applies at this depth (regime {st.regime}); "
                             "use method='recursion'")
        if res is not None:
            value, err, form, one_minus, one_minus_err = res
            ctx = value.context
            a = None if scale is None else ctx.sqrt(_alpha2(MPBackend(ctx.prec), scale, depth))
            kv = KernelValue(value, err, digits, "asymptotic", form, a, None, one_minus, one_minus_err)
            if _reached(kv):
                return kv
            if method == "asymptotic" or (max_seconds is not None and seconds > max_seconds):
                why = "" if method == "asymptotic" else \
                    f" (the exact recursion would take about {seconds / 3600:.3g} h)"
                raise ValueError(f"digits: at most {kv.correct_digits} correct digits can be delivered at depth "
                                 f"L = {inputs.depth_text(depth)} by the skip-ahead{why}; got {digits}")
    if max_seconds is not None and seconds > max_seconds:
        why = ("the skip-ahead answers this depth: use method 'auto' or 'asymptotic'" if method == "recursion"
               else "no asymptotic description applies here")
        raise ValueError(f"depth: the exact recursion at L = {inputs.depth_text(depth)} would take about "
                         f"{seconds / 3600:.3g} hours (limit {max_seconds / 3600:.3g} h); {why}")
    if uses_double_double(digits):
        kv = _dd_recursion(arch, kernel, r, depth, scale, digits, progress)
        if kv is not None and _reached(kv):
            return kv
    if _has_flint():
        kv = _ball_recursion(arch, kernel, r, depth, scale, digits, progress, "recursion")
        if kv is not None and _reached(kv):
            return kv
    return _high_precision(arch, kernel, r, depth, scale, digits, progress)


def _float64_skip_ahead(arch, kernel_name, r: np.ndarray, depth, gamma, alpha, progress):
    """The skip-ahead at 17 digits, rounded to float64, for each value of ``r``; None when no
    asymptotic description applies. ``progress`` advances value by value over the 2 L budget."""
    from . import asymptotics

    out = np.empty(r.shape)
    for i, x in enumerate(r.flat):
        res = asymptotics.skip_ahead(arch, float(x), depth, gamma=gamma, alpha=alpha, digits=17, kernel=kernel_name)
        if res is None:
            return None
        out.flat[i] = float(res[0])
        if progress is not None:
            progress(2 * depth * (i + 1) // r.size)
    return float(out) if r.ndim == 0 else out


def _float64_hint(method: str, depth: int, n_rho: int) -> str:
    """What a too-long float64 request can do instead (the skip-ahead's limits)."""
    from .asymptotics import SEGMENT_EXACT

    if depth <= SEGMENT_EXACT:
        return ""
    if n_rho > FLOAT_SKIP_MAX_POINTS:
        return (f"; the skip-ahead takes at most {FLOAT_SKIP_MAX_POINTS} values per call: split rho into "
                f"batches of <= {FLOAT_SKIP_MAX_POINTS}, or use digits=")
    return "; method='auto' would use the skip-ahead" if method == "recursion" else ""


def evaluate_uv_float(arch: str, kernel: str, u, v, depth: int, scale, progress=None):
    """float64 kernel of arrays of pairs given by ``u = 1 - rho``, ``v = 1 + rho`` (validated arguments, as
    :func:`_evaluate_uv`): compiled by numba when it is installed (:mod:`rntk_sym.backends.compiled`, both
    cores), else the numpy context; the two agree to a few ulps (tests/test_compiled.py). The cost model
    (:func:`step_seconds`) assumes this choice, so every float64 caller of many pairs goes through here."""
    from .backends import compiled

    if compiled.available():
        return compiled.evaluate_uv(arch, kernel, u, v, depth, scale, progress)
    return _evaluate_uv(NUMPY, arch, kernel, u, v, depth, scale, progress)


def _float64(arch, kernel_name, r: np.ndarray, depth, scale, progress):
    """The float64 recursion for the array ``r`` (scalar out for a 0-d array), whichever way is cheaper
    (:func:`step_seconds`): up to SCALAR_BATCH values one by one in Python floats, more vectorized in
    numpy; compiled by numba (both cores) when it is installed (:mod:`rntk_sym.backends.compiled`).
    ``progress`` over the 2 L budget."""
    from .backends import compiled

    n = r.size
    if compiled.available():
        prog = None if progress is None else (lambda l: progress(2 * l))
        out = evaluate_uv_float(arch, kernel_name, 1 - r, 1 + r, depth, scale, prog)
        return float(out) if r.ndim == 0 else out
    if n > SCALAR_BATCH:
        prog = None if progress is None else (lambda l: progress(2 * l))
        return _evaluate(NUMPY, arch, kernel_name, r, depth, scale, prog)
    out = np.empty(r.shape)
    for i, x in enumerate(r.flat):
        prog = None if progress is None else (lambda l, i=i: progress(2 * (i * depth + l) // n))
        out.flat[i] = _evaluate(SCALAR, arch, kernel_name, float(x), depth, scale, prog)
    return float(out) if r.ndim == 0 else out


def _has_flint() -> bool:
    try:
        import flint  # noqa: F401
    except ImportError:
        return False
    return True


def _reached(kv: KernelValue) -> bool:
    """``kv.error`` supports all ``kv.digits`` significant digits (:func:`correct_digits`)."""
    return kv.correct_digits >= kv.digits


def _high_precision(arch, kernel_name, rho: Fraction, depth, scale, digits, progress):
    """The recursion in mpmath at two precisions; the error is their difference (an estimate)."""
    prec1 = math.ceil((digits + guard_digits(depth)) * LOG2_10)
    prec2 = prec1 + max(32, prec1 // 4)
    values = []
    for i, prec in enumerate((prec1, prec2)):
        ctx = MPBackend(prec)
        shifted = None if progress is None else (lambda l, off=i * depth: progress(off + l))
        # u = 1 - rho, v = 1 + rho from the exact rational: no cancellation near rho = +-1
        values.append(_pair_uv(ctx, arch, kernel_name, *_uv(ctx, rho), depth, scale, shifted))
    alpha = None
    if scale is not None:
        alpha = ctx.sqrt(_alpha2(ctx, scale, depth))
    (v1, c1), (v2, c2) = values
    return KernelValue(v2, abs(v2 - v1), digits, "recursion", f"estimate: |v({prec1} bits) - v({prec2} bits)|",
                       alpha, one_minus=c2, one_minus_error=abs(c2 - c1))


DD_METHOD = "recursion (double-double)"


def _dd_recursion(arch, kernel_name, rho: Fraction, depth, scale, digits, progress):
    """The recursion in double-double, compiled (:mod:`rntk_sym.backends.ddrun`): ``error`` is its
    first-order running error bound (rounding of every operation, propagated with the step's Jacobian).
    None where ``1 -+ rho`` or ``alpha^2`` is below DD_TINY (a double-double's low word would leave
    float64's normal range; the per-operation bounds assume it)."""
    from .backends import ddrun

    mp = MPBackend(256)
    w = mp.one if arch == "ffnet" else (lambda a2: a2 / (1 + a2))(_alpha2(mp, scale, depth))
    c = 0 if arch == "ffnet" else 1
    u, v = _uv(mp, rho)
    if any(0 < x < DD_TINY for x in (u, v, w)):
        return None
    prog = None if progress is None else (lambda l: progress(2 * l))  # one run fills the 2 L budget
    out = ddrun.run_mp(mp.mp, u, v, mp.zero, w, c, depth, prog)
    (u, eu), (v, ev), (T, eT) = out
    ctx = mp.mp
    tiny = ctx.ldexp(1, 8 - ctx.prec)  # the divisions below, at 256 bits
    if kernel_name == "ntk":
        value, error = T / depth, eT / depth + tiny
        one_minus, one_minus_error = (depth - T) / depth, error
    else:
        value, error = (v - u) / 2, (eu + ev) / 2 + tiny
        one_minus, one_minus_error = u, eu + tiny * u
    alpha = None if scale is None else ctx.sqrt(_alpha2(mp, scale, depth))
    return KernelValue(value, error, digits, DD_METHOD, "bound: first-order running error bound of the "
                       "double-double recursion (numba; docs/deep-and-certified.md)", alpha,
                       one_minus=one_minus, one_minus_error=one_minus_error)


def ball_guard_digits(depth: int) -> int:
    """Guard digits of the ball recursion: its radii grow like ~L^4 near the fixed point (measured:
    11 digits at L = 2000, 16 at 2e4, 20 at 1e5), on top of the rounding of :func:`guard_digits`."""
    return guard_digits(depth) + 3 * len(str(depth))


CERTIFIED_DOUBLINGS = 3  # precision doublings tried before returning a ball wider than D digits


def _certified(arch, kernel_name, rho: Fraction, depth, scale, digits, method, max_seconds, progress):
    """The recursion in arb balls: a guaranteed enclosure (see :func:`kernel`, ``certified``)."""
    if method == "asymptotic":
        raise ValueError("certified: method 'asymptotic' has no certified error bound; "
                         "use method='recursion' (or 'auto')")
    seconds = depth * _mp_step_seconds(digits, depth)
    if max_seconds is not None and seconds > max_seconds:
        raise ValueError(f"depth: the certified recursion at L = {inputs.depth_text(depth)} would take about "
                         f"{seconds / 3600:.3g} hours (limit {max_seconds / 3600:.3g} h)")
    kv = _ball_recursion(arch, kernel_name, rho, depth, scale, digits, progress, "recursion (certified)")
    if kv is None:
        raise ValueError(f"certified: the balls lost all accuracy (L = {depth}); "
                         "use method='recursion' for an estimate")
    return kv


def _ball_recursion(arch, kernel_name, rho: Fraction, depth, scale, digits, progress, method):
    """The recursion in arb balls (:mod:`rntk_sym.backends.ball`), the precision doubled until the
    radius reaches ``digits`` (at most CERTIFIED_DOUBLINGS times); None if a ball became infinite.
    ``value`` = the midpoint, ``error`` = the radius (a guaranteed bound), ``interval`` = the ball."""
    from .backends.ball import BallBackend, narrow, precision_doubling, to_fraction

    # the caller's progress budget is 2 * depth steps (the two mp precisions): one ball run fills it
    prog = None if progress is None else (lambda l: progress(2 * l))

    def step(prec):
        ctx = BallBackend(prec)
        with ctx.active():
            # u = 1 - rho, v = 1 + rho from the exact rational: no cancellation near rho = +-1
            ball, cball = _pair_uv(ctx, arch, kernel_name, *_uv(ctx, rho), depth, scale, prog)
            if not ball.is_finite() or not cball.is_finite():
                return None, True
            mid, rad = to_fraction(ball.mid()), to_fraction(ball.rad())
        return (mid, rad, cball), narrow(mid, rad, digits)

    out, prec, _ = precision_doubling(step, math.ceil((digits + ball_guard_digits(depth)) * LOG2_10),
                                      CERTIFIED_DOUBLINGS)
    if out is None:
        return None
    mid, rad, cball = out
    mp = mpmath.MPContext()
    mp.prec = prec + 64  # the midpoint's mantissa has at most ~prec bits: held exactly
    value = mp.mpf(mid.numerator) / mid.denominator
    error = mp.mpf(rad.numerator) / rad.denominator
    cmid, crad = to_fraction(cball.mid()), to_fraction(cball.rad())
    with long_int_strings(digits):
        interval = (_outward(mid - rad, digits + 3, up=False), _outward(mid + rad, digits + 3, up=True))
    alpha = None if scale is None else mp.sqrt(_alpha2(MPBackend(mp.prec), scale, depth))
    return KernelValue(value, error, digits, method, f"certified: arb ball radius ({prec} bits)", alpha, interval,
                       mp.mpf(cmid.numerator) / cmid.denominator, mp.mpf(crad.numerator) / crad.denominator)


def _outward(q: Fraction, sig: int, up: bool) -> str:
    """``q`` as a decimal string of ``sig`` significant digits, rounded up (``up``) or down."""
    with decimal.localcontext() as dc:
        dc.prec = sig
        dc.rounding = decimal.ROUND_CEILING if up else decimal.ROUND_FLOOR
        return str(decimal.Decimal(q.numerator) / decimal.Decimal(q.denominator))


kernel_fn = kernel  # the module function, for code whose argument ``kernel`` shadows it


def ntk(arch: str, rho, depth: int, *, gamma=None, alpha=None, digits: int | None = None,
        method: str = "auto", progress: Callable[[int], None] | None = None, certified: bool = False,
        activation=None, weight_var=None, bias_var=None, norms=None):
    """Normalized NTK ``Omegabar_L(rho)``; see :func:`kernel`."""
    return kernel(arch, rho, depth, kernel="ntk", gamma=gamma, alpha=alpha, digits=digits, method=method,
                  progress=progress, certified=certified, activation=activation,
                  weight_var=weight_var, bias_var=bias_var, norms=norms)


def gp(arch: str, rho, depth: int, *, gamma=None, alpha=None, digits: int | None = None, method: str = "auto",
       progress: Callable[[int], None] | None = None, certified: bool = False,
       activation=None, weight_var=None, bias_var=None, norms=None):
    """Normalized GP kernel ``rho_L``; see :func:`kernel`."""
    return kernel(arch, rho, depth, kernel="gp", gamma=gamma, alpha=alpha, digits=digits, method=method,
                  progress=progress, certified=certified, activation=activation,
                  weight_var=weight_var, bias_var=bias_var, norms=norms)


__all__ = ["KernelValue", "kernel", "ntk", "gp"]
