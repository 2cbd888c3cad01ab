"""Compiled float64 context (numba, optional): the ReLU recursion of :mod:`rntk_sym.recursions` at
machine speed, for the pairs of a Gram matrix (issue 17).

Nothing here is a second copy of the recursion. numba compiles the same Python functions the other
float64 contexts run:

- the step :func:`rntk_sym.recursions.relu_increments`, on a context (:class:`Context`, a numba type)
  whose primitives are ``math.sqrt``, :func:`rntk_sym.backends.floats._s3_series` (the same Taylor
  series) and :func:`_atan2`;
- the state accumulators of :class:`rntk_sym.backends.floats._Compensated` (``hi + lo`` double-double,
  so that alpha = 1/L ResNets keep the numpy path's accuracy) and its ``_two_sum``.

:func:`evaluate_uv` returns what :func:`rntk_sym.kernels._evaluate_uv` returns (``T_L / L`` for the
NTK, ``rho_L = (v_L - u_L) / 2`` for the GP kernel, FFNet ``w = 1, c = 0`` or ResNet
``w = alpha^2 / (1 + alpha^2), c = 1``), for arrays of pairs ``(u, v)``. Its loop
(:func:`_advance`) is the driver of :func:`rntk_sym.recursions.run` laid out for a CPU: the pairs are
split into blocks of :data:`BLOCK` that ``numba.prange`` shares between the cores; inside a block the
layers are the outer loop and the pairs the inner one, which LLVM vectorizes (AVX: 4 or 8 pairs per
instruction). For that the step is inlined into the loop, divisions follow numpy's error model (no
ZeroDivisionError branch) and ``atan2`` is :func:`_atan2`, a branch-free Cephes ``atan`` (arithmetic,
tested against mpmath to 2 ulp), since a libm call cannot be vectorized.

numba is an optional dependency (``pip install -e ".[numba]"``), imported with this module (which its
callers import lazily); the functions are compiled on the first call of :func:`evaluate_uv` (10-30 s on
a 2-core machine) and cached on disk (``cache=True``: later processes load them in about a second).
:func:`available` says whether numba imported; without it every caller falls back to the numpy context.
"""
from __future__ import annotations

import math
import threading
import types

import numpy as np

from .. import recursions
from ..recursions import Block, relu_increments
from . import floats
from ._numba import numba_or_none

numba = numba_or_none()  # optional: without it the callers fall back to the numpy context
prange = range if numba is None else numba.prange

_LOCK = threading.Lock()

BLOCK = 32
"""Pairs advanced together through the layers by one thread (4 vectors of 8 with AVX-512). Before the
loop was vectorized, one pair at a time was measured 2.6x slower per step than blocks of 32."""

_compiled = None  # _advance, compiled on first use


def available() -> bool:
    """True when numba imports (the compiled path is used); tests monkeypatch this to hide it."""
    return numba is not None


def _jit(func, parallel=False, inline="always", cache=True, **deps):
    """``numba.njit(func)`` with the module-level names ``deps`` (other Python functions ``func`` calls)
    replaced by their compiled versions: the same code object, compiled as written (also
    :mod:`rntk_sym.backends.compiled_general`'s)."""
    if deps:
        func = types.FunctionType(func.__code__, {**func.__globals__, **deps}, func.__name__,
                                  func.__defaults__, func.__closure__)
    # error_model="numpy": x / 0 is inf or nan as in numpy, not a ZeroDivisionError branch (which would
    # keep LLVM from vectorizing the loop over the pairs)
    # inline="always" (the step and the primitives, inlined in numba's IR), so that LLVM sees the
    # whole step inside the loop over the pairs
    return numba.njit(cache=cache, parallel=parallel, error_model="numpy", inline=inline)(func)


class Context:
    """The compiled float64 context: a numba type whose attributes are the primitives that
    :func:`rntk_sym.recursions.relu_increments` reads (``pi``, ``sqrt``, ``atan2``, ``where``, ``s3_small``)
    plus the accumulators ``lead`` and ``add`` of :class:`rntk_sym.backends.floats._Compensated` (its
    ``total`` is taken in numpy at the end).
    A type of its own (not a tuple of jitted functions), so that the compiled functions taking it are
    cached on disk (a tuple of dispatchers is a new type in every process)."""


if numba is not None:
    from numba import extending as ext
    from numba.core import cgutils

    class ContextType(numba.types.Type):
        """numba type of :class:`Context` (no data: every attribute is a compile-time constant)."""

        def __init__(self):
            super().__init__(name="rntk_sym.Float64Context")

    context_type = ContextType()
    ext.typeof_impl.register(Context)(lambda val, c: context_type)
    ext.register_model(ContextType)(ext.models.OpaqueModel)
    ext.unbox(ContextType)(lambda typ, obj, c: ext.NativeValue(cgutils.get_null_value(c.context.get_value_type(typ))))


def _overload(name, f, nargs, inline="always"):
    """``ctx.name(*args)`` calls the compiled ``f(*args)``."""
    impl = {1: lambda ctx, a: f(a), 2: lambda ctx, a, b: f(a, b), 3: lambda ctx, a, b, c: f(a, b, c)}[nargs]
    typer = {1: lambda ctx, a: impl, 2: lambda ctx, a, b: impl, 3: lambda ctx, a, b, c: impl}[nargs]
    ext.overload_method(ContextType, name, inline=inline)(typer)


def _constant(name, value):
    """``ctx.name`` is the float ``value``."""
    ext.overload_attribute(ContextType, name, inline="always")(lambda ctx: lambda ctx: value)


def _build():
    comp = floats._Compensated
    for name, value in (("pi", math.pi), ("one", 1.0)):
        _constant(name, value)
    for name, f, nargs in (("sqrt", _sqrt, 1), ("s3_small", floats._s3_series, 3), ("lead", comp.lead, 1)):
        _overload(name, _jit(f), nargs)
    # functions with conditional expressions are left to LLVM's inliner (numba's IR inliner mis-scopes
    # their variables: NumbaIRAssumptionWarning)
    for name, f, nargs in (("atan2", _atan2, 2), ("where", _where, 3)):
        _overload(name, _jit(f, inline="never"), nargs)
    _overload("add", _jit(comp.add, _two_sum=_jit(floats._two_sum)), 2)
    return _jit(_advance, parallel=True, relu_increments=_jit(relu_increments))


def _where(cond, x, y):
    return x if cond else y


def _sqrt(x):
    return math.sqrt(x)


# Cephes atan (S. L. Moshier, Cephes Math Library, atan.c): atan(t) = t + t z P(z) / Q(z), z = t^2,
# for |t| <= 0.66 after the reductions atan(t) = pi/4 + atan((t - 1)/(t + 1)) and pi/2 - atan(1/t).
_ATAN_P = (-8.750608600031904122785e-1, -1.615753718733365076637e1, -7.500855792314704667340e1,
           -1.228866684490136173410e2, -6.485021904942025371773e1)
_ATAN_Q = (2.485846490142306297962e1, 1.650270098316988542046e2, 4.328810604912902668951e2,
           4.853903996359136964868e2, 1.945506571482613964425e2)
_PIO2_LO = 6.123233995736765886130e-17  # pi/2 - fl(pi/2)
_TAN_3PI_8 = 2.41421356237309504880


def _atan2(y, x):
    """``atan2(y, x)`` for ``x, y >= 0`` (not both 0; the recursion's square roots), within 2 ulp
    (tests/test_compiled.py against mpmath). Branch-free (the reduction's numerator and denominator are
    selected, then divided once) and without a library call, so that the loop over the pairs vectorizes;
    the reduced argument is formed from ``y`` and ``x`` directly (``(y - x) / (y + x)``, one rounding)."""
    big = y > _TAN_3PI_8 * x
    mid = y > 0.66 * x
    num = -x if big else (y - x if mid else y)
    den = y if big else (y + x if mid else x)
    t = num / den  # one division (vector divisions are the step's bottleneck)
    base = math.pi / 2 if big else (math.pi / 4 if mid else 0.0)
    lo = _PIO2_LO if big else (0.5 * _PIO2_LO if mid else 0.0)
    z = t * t
    p = (((_ATAN_P[0] * z + _ATAN_P[1]) * z + _ATAN_P[2]) * z + _ATAN_P[3]) * z + _ATAN_P[4]
    q = ((((z + _ATAN_Q[0]) * z + _ATAN_Q[1]) * z + _ATAN_Q[2]) * z + _ATAN_Q[3]) * z + _ATAN_Q[4]
    return base + (t * (z * p / q) + t + lo)


def _advance(ctx, w, c, st, layers):  # pragma: no cover (compiled; run by numba)
    """Apply ``layers`` layers of ``Block(w, c)`` to the state ``st`` of ``n`` pairs, in place: ``st`` is
    (6, n), rows ``u`` hi, lo, ``v`` hi, lo, ``T`` hi, lo (``_Compensated`` accumulators)."""
    blk = Block(w, c)
    n = st.shape[1]
    for b in prange((n + BLOCK - 1) // BLOCK):
        k0 = b * BLOCK
        k1 = min(n, k0 + BLOCK)
        uh, ul, vh, vl = st[0, k0:k1].copy(), st[1, k0:k1].copy(), st[2, k0:k1].copy(), st[3, k0:k1].copy()
        Th, Tl = st[4, k0:k1].copy(), st[5, k0:k1].copy()
        for _ in range(layers):
            for k in range(k1 - k0):  # independent pairs: vectorized by LLVM
                du, dv, dT = relu_increments(ctx, blk, ctx.lead((uh[k], ul[k])), ctx.lead((vh[k], vl[k])),
                                             ctx.lead((Th[k], Tl[k])))
                uh[k], ul[k] = ctx.add((uh[k], ul[k]), du)
                vh[k], vl[k] = ctx.add((vh[k], vl[k]), dv)
                Th[k], Tl[k] = ctx.add((Th[k], Tl[k]), dT)
        st[0, k0:k1], st[1, k0:k1], st[2, k0:k1], st[3, k0:k1] = uh, ul, vh, vl
        st[4, k0:k1], st[5, k0:k1] = Th, Tl


def evaluate_uv(arch: str, kernel: str, u, v, depth: int, scale, progress=None, every: int = 1 << 16):
    """:func:`rntk_sym.kernels._evaluate_uv` in float64 for arrays ``u = 1 - rho``, ``v = 1 + rho`` (same
    shape; validated arguments: ``arch``, ``kernel``, ``depth`` >= 1, ``scale`` from
    :func:`rntk_sym.inputs.scaling`), compiled by numba and spread over the cores. ``progress(l)`` is
    called every ``every`` layers when given. Raises ImportError when numba is absent."""
    global _compiled
    from ..kernels import _alpha2

    if numba is None:
        raise ImportError("numba is not installed (pip install -e \".[numba]\")")
    with _LOCK:
        if _compiled is None:
            _compiled = _build()
    S = floats.SCALAR
    blk = recursions.ffnet_block(S) if arch == "ffnet" else recursions.resnet_block(S, float(_alpha2(S, scale, depth)))
    u, v = np.broadcast_arrays(np.asarray(u, dtype=np.float64), np.asarray(v, dtype=np.float64))
    st = np.zeros((6, u.size))
    st[0], st[2] = u.ravel(), v.ravel()
    if progress is None:
        every = depth  # one call: each call starts the cores' threads afresh
    for done in range(0, depth, every):
        with _LOCK:
            _compiled(Context(), float(blk.w), int(blk.c), st, min(every, depth - done))
        if progress is not None:
            progress(min(done + every, depth))
    total = floats._Compensated.total
    if kernel == "ntk":
        out = total((st[4], st[5])) / depth
    else:
        out = (total((st[2], st[3])) - total((st[0], st[1]))) / 2
    return out.reshape(u.shape)
