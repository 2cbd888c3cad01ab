"""Public functions: the normalized NTK and GP kernel of a pair of unit vectors, ``rho = <x, x'>``.

``Omegabar_L`` (``kernel="ntk"``) and the normalized GP kernel ``K_L / sqrt(K_L(x,x) K_L(x',x'))``
(``kernel="gp"``) of MATH.md sections 2-3, both equal to 1 on the diagonal.

- ``digits=None``: float64, vectorized over an array ``rho`` (array in, array out; a scalar gives a
  float). Accuracy: see README ("float64 accuracy"), checked against mpmath in the tests.
- ``digits=D``: a :class:`KernelValue` with D correct significant digits and an error: with
  python-flint (extra ``fast``) one run of the recursion in ball arithmetic, whose radius is a
  guaranteed bound (and several times faster, benchmarks/bench_speed.py); without it, two mpmath
  runs at two precisions with guard digits, whose difference is an estimate.
"""
from __future__ import annotations

import contextlib
import decimal
import math
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


@dataclass(frozen=True)
class KernelValue:
    """A kernel value at high precision.

    ``value``: the computed value (mpf, more digits than asked); ``error``: estimated bound on
    ``|value - exact|`` (``error_kind`` says how it was obtained); ``digits``: significant digits asked.
    """

    value: mpmath.mpf
    error: mpmath.mpf
    digits: int
    method: str
    error_kind: str
    alpha: mpmath.mpf | None = field(default=None)
    interval: tuple[str, str] | None = field(default=None)  # certified: [lo, hi], decimals rounded outward

    def decimal(self) -> str:
        """``value`` rounded to ``digits`` significant digits."""
        return nstr(self.value, self.digits, strip_zeros=False, min_fixed=-5, max_fixed=self.digits + 1)

    def decimal_error(self) -> mpmath.mpf:
        """Bound on the error of :meth:`decimal`: ``error`` plus half a unit in its last digit (not
        by parsing the decimal back: Python refuses int conversions of more than 4300 digits)."""
        ctx = self.value.context
        if not self.value:
            return self.error
        exponent = ctx.floor(ctx.log10(abs(self.value)))
        return self.error + ctx.mpf(10) ** (exponent - self.digits + 1) / 2

    def __float__(self) -> float:
        return float(self.value)

    def __str__(self) -> str:
        return f"{self.decimal()} +/- {nstr(self.decimal_error(), 2)}"


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
    blk = ffnet_block(ctx) if arch == "ffnet" else resnet_block(ctx, _alpha2(ctx, scale, depth))
    u, v, T = run(ctx, blk, u, v, depth, progress)
    return T / depth if kernel == "ntk" else (v - u) / 2


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


def step_seconds(digits: int | None, depth: int, n_rho: int = 1) -> float:
    """Rough cost in seconds of one depth step of the recursion (for run-time estimates, not tests):
    float64, a batch of ``n_rho`` values: the model above; ``digits``: one value, about 25 us at 30
    digits on a 2-core machine, growing with the precision."""
    if digits is None:
        if n_rho <= SCALAR_BATCH:
            return n_rho * SCALAR_STEP
        return NUMPY_STEP_FIXED + NUMPY_STEP_PER_VALUE * n_rho
    return 2e-5 * (1 + (digits + guard_digits(depth)) / 100) ** 1.6


METHODS = ("auto", "recursion", "asymptotic")
WARN_SECONDS = 60.0  # a float64 recursion estimated longer, run without a progress callback, warns first
REFUSE_SECONDS = 86400.0  # a recursion estimated to take longer than a day is refused (ValueError naming depth)
FLOAT_SKIP_MAX_POINTS = 64  # float64 requests of at most this many rho may use the skip-ahead
# Typical cost of one skip-ahead value at 17 digits (the float64 route), L in 1e4 .. 1e12: measured
# 0.1-1.7 s (benchmarks/bench_batch.py); it grows about like digits^2 (0.1-2.3 s at 30, 0.4-18 s at 100).
SKIP_AHEAD_SECONDS = 1.0


def skip_ahead_seconds(digits: int | None) -> float:
    """Rough cost of one skip-ahead value at ``digits`` (None: float64, i.e. 17 digits)."""
    return SKIP_AHEAD_SECONDS * (max(digits or 17, 17) / 17) ** 2


def recursion_seconds(digits: int | None, depth: int, n_rho: int = 1) -> float:
    """Estimated time of the recursion for ``n_rho`` values of rho (float64: one batch; ``digits``:
    each value at the two mpmath precisions)."""
    if digits is None:
        return depth * step_seconds(None, depth, n_rho)
    return n_rho * 2 * depth * step_seconds(digits, depth)


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
           progress: Callable[[int], None] | None = None, certified: bool = False):
    """Normalized NTK (``kernel="ntk"``) or GP kernel (``kernel="gp"``) of ``arch``.

    Arguments (MATH.md symbols): ``rho`` = <x, x'> in [-1, 1]; ``depth`` = L >= 1; for
    ``arch="resnet"`` either ``gamma`` (alpha = L^-gamma, default gamma = 1) or a constant ``alpha``.
    Numbers may be exact decimal strings ("0.7" is 7/10 at any precision).

    ``digits=None``: float64 (array in, array out) by the recursion; with ``method="auto"``, kernels of
    at most FLOAT_SKIP_MAX_POINTS values of rho come from the skip-ahead at 17 digits instead where it
    is estimated cheaper (:func:`prefers_skip_ahead`). ``digits=D``: :class:`KernelValue` with D
    correct significant digits and an error estimate. ``method``: ``"recursion"`` (exact, O(L)
    steps), ``"asymptotic"`` (skip-ahead, :func:`rntk_sym.asymptotics.skip_ahead`), ``"auto"``: the
    recursion where it is estimated cheaper than the skip-ahead, else the skip-ahead when its error
    bound reaches D digits, else the recursion. ``max_seconds``: refuse (ValueError naming ``depth``)
    a recursion estimated to take longer (default REFUSE_SECONDS). ``progress(done)`` is called
    during long runs, ``done`` out of ``2 L`` (recursion steps over both precisions, or over the
    float64 values; the skip-ahead's segments or values scaled to that budget).

    ``certified=True`` (needs ``digits`` and python-flint, the extra ``fast``): the exact recursion
    in ball arithmetic (:mod:`rntk_sym.backends.ball`); ``value`` is the ball's midpoint, ``error``
    its radius (a guaranteed bound), ``interval`` the ball as decimals rounded outward; the precision
    is doubled until the radius reaches D digits (at most 3 times). ``method="asymptotic"`` is refused.
    """
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
            raise ValueError(f"depth: the float64 recursion for {r.size} value(s) of rho at L = {depth} would take "
                             f"about {seconds / 3600:.3g} hours (limit {max_seconds / 3600:.3g} h)"
                             + _float64_hint(method, depth, r.size))
        if progress is None and seconds > WARN_SECONDS:  # never slow without a word
            warnings.warn(f"rntk_sym: the float64 recursion for {r.size} value(s) of rho at L = {depth} will take "
                          f"about {seconds / 60:.3g} min; pass progress= to follow it"
                          + _float64_hint(method, depth, r.size), stacklevel=3)
        return _float64(arch, kernel, r, depth, scale, progress)
    r = inputs.rho_exact(rho)
    if certified:
        return _certified(arch, kernel, r, depth, scale, digits, method, max_seconds, progress)
    seconds = recursion_seconds(digits, depth)
    if method == "asymptotic" or (method == "auto" and prefers_skip_ahead(digits, depth)):
        from . import asymptotics

        seg = None if progress is None else (lambda j, m: progress(2 * depth * j // m))  # same budget as below
        res = asymptotics.skip_ahead(arch, r, depth, gamma=gamma, alpha=alpha, digits=digits, kernel=kernel,
                                     progress=seg)
        if res is None and method == "asymptotic":
            st = asymptotics.setting(arch, gamma, alpha)
            raise ValueError(f"method: no asymptotic description applies at this depth (regime {st.regime}); "
                             "use method='recursion'")
        if res is not None:
            value, err, form = res
            if method == "asymptotic" or err <= abs(value) * 10 ** (-digits) / 2 or \
                    (max_seconds is not None and seconds > max_seconds):
                ctx = value.context
                a = None if scale is None else ctx.sqrt(_alpha2(MPBackend(ctx.prec), scale, depth))
                return KernelValue(value, err, digits, "asymptotic", form, a)
    if max_seconds is not None and seconds > max_seconds:
        raise ValueError(f"depth: the exact recursion at L = {depth} would take about {seconds / 3600:.3g} hours "
                         f"(limit {max_seconds / 3600:.3g} h) and no asymptotic description applies here")
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


def _float64(arch, kernel_name, r: np.ndarray, depth, scale, progress):
    """The float64 recursion for the array ``r`` (scalar out for a 0-d array), whichever way is cheaper
    (:func:`step_seconds`): up to SCALAR_BATCH values one by one in Python floats, more vectorized in
    numpy. ``progress`` over the 2 L budget."""
    n = r.size
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
    """``kv.error`` is within half a unit of the ``kv.digits``-th significant digit."""
    return kv.error <= abs(kv.value) * kv.value.context.mpf(10) ** -kv.digits / 2


def _high_precision(arch, kernel_name, rho: Fraction, depth, scale, digits, progress):
    """The recursion in mpmath at two precisions; the error is their difference (an estimate)."""
    prec1 = math.ceil((digits + guard_digits(depth)) * LOG2_10)
    prec2 = prec1 + max(32, prec1 // 4)
    values = []
    for i, prec in enumerate((prec1, prec2)):
        ctx = MPBackend(prec)
        r = ctx.number(rho.numerator) / ctx.number(rho.denominator)
        shifted = None if progress is None else (lambda l, off=i * depth: progress(off + l))
        values.append(_evaluate(ctx, arch, kernel_name, r, depth, scale, shifted))
    alpha = None
    if scale is not None:
        alpha = ctx.sqrt(_alpha2(ctx, scale, depth))
    err = abs(values[1] - values[0])
    return KernelValue(values[1], err, digits, "recursion",
                       f"estimate: |v({prec1} bits) - v({prec2} bits)|", alpha)


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
    seconds = depth * step_seconds(digits, depth)
    if max_seconds is not None and seconds > max_seconds:
        raise ValueError(f"depth: the certified recursion at L = {depth} would take about {seconds / 3600:.3g} "
                         f"hours (limit {max_seconds / 3600:.3g} h)")
    kv = _ball_recursion(arch, kernel_name, rho, depth, scale, digits, progress, "recursion (certified)")
    if kv is None:
        raise ValueError(f"certified: the balls lost all accuracy (L = {depth}); "
                         "use method='recursion' for an estimate")
    return kv


def _ball_recursion(arch, kernel_name, rho: Fraction, depth, scale, digits, progress, method):
    """The recursion in arb balls (:mod:`rntk_sym.backends.ball`), the precision doubled until the
    radius reaches ``digits`` (at most CERTIFIED_DOUBLINGS times); None if a ball became infinite.
    ``value`` = the midpoint, ``error`` = the radius (a guaranteed bound), ``interval`` = the ball."""
    from .backends.ball import BallBackend, to_fraction

    # the caller's progress budget is 2 * depth steps (the two mp precisions): one ball run fills it
    prog = None if progress is None else (lambda l: progress(2 * l))
    prec = math.ceil((digits + ball_guard_digits(depth)) * LOG2_10)
    for attempt in range(CERTIFIED_DOUBLINGS + 1):
        if attempt:
            prec *= 2
        ctx = BallBackend(prec)
        with ctx.active():
            ball = _evaluate(ctx, arch, kernel_name, ctx.number(rho), depth, scale, prog)
            if not ball.is_finite():
                return None
            mid, rad = to_fraction(ball.mid()), to_fraction(ball.rad())
        if rad <= abs(mid) * Fraction(1, 2 * 10 ** digits):
            break
    mp = mpmath.MPContext()
    mp.prec = prec + 64  # the midpoint's mantissa has at most ~prec bits: held exactly
    value = mp.mpf(mid.numerator) / mid.denominator
    error = mp.mpf(rad.numerator) / rad.denominator
    with long_int_strings(digits):
        interval = (_outward(mid - rad, digits + 3, up=False), _outward(mid + rad, digits + 3, up=True))
    alpha = None if scale is None else mp.sqrt(_alpha2(MPBackend(mp.prec), scale, depth))
    return KernelValue(value, error, digits, method, f"certified: arb ball radius ({prec} bits)", alpha, interval)


def _outward(q: Fraction, sig: int, up: bool) -> str:
    """``q`` as a decimal string of ``sig`` significant digits, rounded up (``up``) or down."""
    with decimal.localcontext() as dc:
        dc.prec = sig
        dc.rounding = decimal.ROUND_CEILING if up else decimal.ROUND_FLOOR
        return str(decimal.Decimal(q.numerator) / decimal.Decimal(q.denominator))


def ntk(arch: str, rho, depth: int, *, gamma=None, alpha=None, digits: int | None = None,
        method: str = "auto", progress: Callable[[int], None] | None = None, certified: bool = False):
    """Normalized NTK ``Omegabar_L(rho)``; see :func:`kernel`."""
    return kernel(arch, rho, depth, kernel="ntk", gamma=gamma, alpha=alpha, digits=digits, method=method,
                  progress=progress, certified=certified)


def gp(arch: str, rho, depth: int, *, gamma=None, alpha=None, digits: int | None = None, method: str = "auto",
       progress: Callable[[int], None] | None = None, certified: bool = False):
    """Normalized GP kernel ``rho_L``; see :func:`kernel`."""
    return kernel(arch, rho, depth, kernel="gp", gamma=gamma, alpha=alpha, digits=digits, method=method,
                  progress=progress, certified=certified)


__all__ = ["KernelValue", "kernel", "ntk", "gp"]
