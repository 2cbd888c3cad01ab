"""Public functions: the normalized NTK and GP kernel of a pair of unit vectors, ``rho = <x, x'>``.

``Omegabar_L`` (``kernel="ntk"``) and the normalized GP kernel ``K_L / sqrt(K_L(x,x) K_L(x',x'))``
(``kernel="gp"``) of MATH.md sections 2-3, both equal to 1 on the diagonal.

- ``digits=None``: float64, vectorized over an array ``rho`` (array in, array out; a scalar gives a
  float). Accuracy: see README ("float64 accuracy"), checked against mpmath in the tests.
- ``digits=D``: a :class:`KernelValue` with D correct significant digits and an error estimate, from
  two runs of the same recursion at two precisions with guard digits.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Callable

import mpmath

from . import inputs
from .backends import NUMPY, SCALAR, MPBackend
from .recursions import ffnet_block, resnet_block, run

LOG2_10 = math.log2(10)


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

    def decimal(self) -> str:
        """``value`` rounded to ``digits`` significant digits."""
        return mpmath.nstr(self.value, self.digits, strip_zeros=False, min_fixed=-5, max_fixed=self.digits + 1)

    def decimal_error(self) -> mpmath.mpf:
        """Bound on the error of :meth:`decimal`: ``error`` plus its rounding."""
        ctx = self.value.context
        return self.error + abs(ctx.mpf(self.decimal()) - self.value)

    def __float__(self) -> float:
        return float(self.value)

    def __str__(self) -> str:
        return f"{self.decimal()} +/- {mpmath.nstr(self.decimal_error(), 2)}"


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


def step_seconds(digits: int | None, depth: int) -> float:
    """Rough cost in seconds of one depth step of the recursion (for run-time estimates, not tests):
    about 5 us in float64 and 25 us at 30 digits on a 2-core machine, growing with the precision."""
    if digits is None:
        return 5e-6
    return 2e-5 * (1 + (digits + guard_digits(depth)) / 100) ** 1.6


METHODS = ("auto", "recursion", "asymptotic")
AUTO_RECURSION_SECONDS = 5.0  # auto uses the exact recursion when it is estimated to take less


def kernel(arch: str, rho, depth: int, *, kernel: str = "ntk", gamma=None, alpha=None,
           digits: int | None = None, method: str = "auto", max_seconds: float | None = None,
           progress: Callable[[int], None] | None = None):
    """Normalized NTK (``kernel="ntk"``) or GP kernel (``kernel="gp"``) of ``arch``.

    Arguments (MATH.md symbols): ``rho`` = <x, x'> in [-1, 1]; ``depth`` = L >= 1; for
    ``arch="resnet"`` either ``gamma`` (alpha = L^-gamma, default gamma = 1) or a constant ``alpha``.
    Numbers may be exact decimal strings ("0.7" is 7/10 at any precision).

    ``digits=None``: float64 by the recursion (array in, array out). ``digits=D``:
    :class:`KernelValue` with D correct significant digits and an error estimate. ``method``:
    ``"recursion"`` (exact, O(L) steps), ``"asymptotic"`` (skip-ahead, :func:`rntk_sym.asymptotics.skip_ahead`;
    NTK only), ``"auto"``: the recursion when it takes under AUTO_RECURSION_SECONDS, else the
    skip-ahead when its error bound reaches D digits, else the recursion. ``max_seconds``: refuse
    (ValueError naming ``depth``) a recursion estimated to take longer. ``progress(steps_done)`` is
    called during long recursions (steps counted over both precisions).
    """
    arch = inputs.choice("arch", arch, inputs.ARCHS)
    kernel = inputs.choice("kernel", kernel, inputs.KERNELS)
    method = inputs.choice("method", method, METHODS)
    depth = inputs.depth(depth)
    scale = inputs.scaling(arch, gamma, alpha)
    digits = inputs.digits(digits)
    if digits is None:
        if method == "asymptotic":
            raise ValueError("method: 'asymptotic' needs digits=D (it is a high-precision method)")
        r = inputs.rho_array(rho)
        if r.ndim == 0:
            return float(_evaluate(SCALAR, arch, kernel, float(r), depth, scale, progress))
        return _evaluate(NUMPY, arch, kernel, r, depth, scale, progress)
    r = inputs.rho_exact(rho)
    seconds = 2 * depth * step_seconds(digits, depth)
    if method == "asymptotic" and kernel != "ntk":
        raise ValueError("method: 'asymptotic' is available for kernel='ntk' only")
    if kernel == "ntk" and (method == "asymptotic" or (method == "auto" and seconds > AUTO_RECURSION_SECONDS)):
        from . import asymptotics

        res = asymptotics.skip_ahead(arch, r, depth, gamma=gamma, alpha=alpha, digits=digits)
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
    return _high_precision(arch, kernel, r, depth, scale, digits, progress)


def _high_precision(arch, kernel_name, rho: Fraction, depth, scale, digits, progress):
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


def ntk(arch: str, rho, depth: int, *, gamma=None, alpha=None, digits: int | None = None,
        method: str = "auto", progress: Callable[[int], None] | None = None):
    """Normalized NTK ``Omegabar_L(rho)``; see :func:`kernel`."""
    return kernel(arch, rho, depth, kernel="ntk", gamma=gamma, alpha=alpha, digits=digits, method=method,
                  progress=progress)


def gp(arch: str, rho, depth: int, *, gamma=None, alpha=None, digits: int | None = None, method: str = "auto",
       progress: Callable[[int], None] | None = None):
    """Normalized GP kernel ``rho_L``; see :func:`kernel`."""
    return kernel(arch, rho, depth, kernel="gp", gamma=gamma, alpha=alpha, digits=digits, method=method,
                  progress=progress)


__all__ = ["KernelValue", "kernel", "ntk", "gp"]
