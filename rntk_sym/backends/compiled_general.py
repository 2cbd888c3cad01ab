"""Compiled float64 Gram pairs for any closed-form activation, FFNet and ResNet, NTK and GP (numba,
optional; issue 17).

Nothing here is a second copy of the recursion: numba compiles the functions of
:mod:`rntk_sym.general_step` that :func:`rntk_sym.general.run` runs on numpy arrays
(:func:`~rntk_sym.general_step.run_layers`, the layers, the affine gap and co-gap, the Price complement
:func:`~rntk_sym.general_step.price_complement`), here on one pair at a time, the pairs shared between the
cores by ``numba.prange``. The context (:class:`GeneralContext`, a numba type per activation) supplies:

- the activation's duals ``gp``, ``dgp``: its SymPy closed forms
  (:mod:`rntk_sym.activations.families`) lambdified with ``modules="math"`` (the same expressions the
  numpy path lambdifies with ``modules="numpy"``), evaluated at the helper symbols of
  :func:`~rntk_sym.general_step.angle_helpers` by :func:`_closed_args` (the scalar twin of
  :meth:`rntk_sym.activations.ClosedActivation.expectations`' float64 branch);
- ``duals``: :func:`_pair_duals`, the duals at the pair and both diagonals and the complement's tiers
  (:func:`~rntk_sym.general_step.pair_complement`, a branch per pair where numpy masks the pairs);
- the ResNet's compensated accumulators of :class:`rntk_sym.backends.floats._Compensated`.

Each activation (with its parameters) is its own compiled specialization: the first call compiles it
(tens of seconds on a loaded 2-core machine; docs/benchmarks.md reports it) and caches it on disk
(``cache=True``; the type's name holds a hash of the closed forms and of :mod:`rntk_sym.general_step`'s
source, so an edit there is not served a stale cache). :func:`supports` says which activations the path
serves (closed forms; not the quadrature duals of user activations); without numba
(:func:`rntk_sym.backends.compiled.available` False) :func:`rntk_sym.general.gram` runs the numpy path.
"""
from __future__ import annotations

import hashlib
import inspect
import math
import types

import numpy as np
import sympy as sp

from .. import general_step
from . import compiled, floats
from .compiled import numba

prange = range if numba is None else numba.prange


def _tier_nodes():
    """All tiers' Gauss-Legendre nodes on [0, 1] in one array ``x``, the weights ``2 x w``, and the
    offsets of tier ``t``: ``x[offsets[t]:offsets[t + 1]]`` (the numpy path's nodes, same function)."""
    from ..general import _gauss_legendre01

    xs, ws, offsets = [], [], [0]
    for _, n in general_step.COMPLEMENT_TIERS:
        x, w = _gauss_legendre01(n)
        xs.append(x)
        ws.append(2 * x * w)
        offsets.append(offsets[-1] + n)
    return np.concatenate(xs), np.concatenate(ws), np.array(offsets, dtype=np.int64)


_NODES, _WEIGHTS, _OFFSETS = _tier_nodes()


class GeneralContext:
    """The compiled context for one activation; ``key`` names its numba type (see the module docstring)."""

    def __init__(self, key: str):
        self.key = key


_DUALS: dict = {}  # key -> compiled (gp, dgp)
_kernel = None  # _pairs, compiled on first use (one dispatcher; one specialization per activation)

if numba is not None:
    from numba import extending as ext
    from numba.core import cgutils

    class GeneralContextType(numba.types.Type):
        """numba type of :class:`GeneralContext` (no data: the activation is in the type)."""

        def __init__(self, key):
            self.act_key = key
            super().__init__(name=f"rntk_sym.GeneralContext[{key}]")

    ext.typeof_impl.register(GeneralContext)(lambda val, c: GeneralContextType(val.key))
    ext.register_model(GeneralContextType)(ext.models.OpaqueModel)
    ext.unbox(GeneralContextType)(
        lambda typ, obj, c: ext.NativeValue(cgutils.get_null_value(c.context.get_value_type(typ))))

    @ext.intrinsic
    def _memo_ptr(typingctx, ctx):
        """The context's pointer (its memo of the diagonals, attached by :func:`_attach`) as float64*."""
        sig = numba.types.CPointer(numba.types.float64)(ctx)
        return sig, lambda context, builder, sig, args: builder.bitcast(
            args[0], context.get_value_type(sig.return_type))

    @ext.intrinsic
    def _attach(typingctx, ctx, addr):
        """The context ``ctx`` carrying the memo at address ``addr``."""
        sig = ctx(ctx, addr)
        return sig, lambda context, builder, sig, args: builder.inttoptr(
            args[1], context.get_value_type(sig.return_type))


def _njit(func, cache=False, parallel=False, **deps):
    """:func:`rntk_sym.backends.compiled._jit` without forced inlining, cached only where asked."""
    return compiled._jit(func, parallel=parallel, inline="never", cache=cache, **deps)


_IMPLS = {1: lambda f: lambda ctx, a: f(a), 2: lambda f: lambda ctx, a, b: f(a, b),
          4: lambda f: lambda ctx, a, b, c, d: f(a, b, c, d),
          5: lambda f: lambda ctx, a, b, c, d, e: f(a, b, c, d, e)}
_TYPERS = {1: lambda t: lambda ctx, a: t(ctx), 2: lambda t: lambda ctx, a, b: t(ctx),
           4: lambda t: lambda ctx, a, b, c, d: t(ctx), 5: lambda t: lambda ctx, a, b, c, d, e: t(ctx)}


def _method(name, nargs, impl_of):
    """``ctx.name(*args)`` (``nargs`` arguments) calls ``impl_of(ctx_type)``, a compiled function of the
    same arguments (chosen per activation for the duals)."""
    ext.overload_method(GeneralContextType, name)(_TYPERS[nargs](lambda ctx: _IMPLS[nargs](impl_of(ctx))))


def _closed_args(ctx, q1, q2, gap, cogap):  # pragma: no cover (compiled; run by numba)
    """``(c, S, theta)``, the closed forms' arguments besides ``q1, q2``, at the covariance given by its
    diagonal, gap and co-gap (as :meth:`rntk_sym.activations.ClosedActivation.expectations`)."""
    r12 = math.sqrt(q1 * q2)
    u = min(max(gap / r12, 0.0), 2.0)
    v = min(max(cogap / r12, 0.0), 2.0)
    S, th = 0.0, 0.0  # erf, GELU, sin, exp use neither helper: skipped, as the numpy path does
    if ctx.angular:
        S, th = angle_helpers(ctx, r12, u, v)  # noqa: F821 (supplied by _njit)
    return (cogap - gap) / 2, S, th


def _closed_duals(ctx, q1, q2, gap, cogap):  # pragma: no cover (compiled; run by numba)
    """``(E, Ed)`` at the covariance given by its diagonal, gap and co-gap."""
    c12, S, th = _closed_args(ctx, q1, q2, gap, cogap)
    return ctx.gp(q1, q2, c12, S, th), ctx.dgp(q1, q2, c12, S, th)


def _closed_derivative(ctx, q1, q2, gap, cogap):  # pragma: no cover (compiled; run by numba)
    """``Ed`` alone (the complement's quadrature nodes: libm calls of an unused ``E`` would not be
    dropped by the compiler)."""
    c12, S, th = _closed_args(ctx, q1, q2, gap, cogap)
    return ctx.dgp(q1, q2, c12, S, th)


def _pair_duals(ctx, q1, q2, gap, cogap):  # pragma: no cover (compiled; run by numba)
    """The context's ``duals`` for one pair: on both diagonals (:func:`_diagonal`; one evaluation for
    equal diagonals), at the pair, and the complements ``(M, N)``."""
    e1 = _diagonal(ctx, q1, 0)
    e2 = e1 if q1 == q2 else _diagonal(ctx, q2, 1)
    e12 = ctx.expect(q1, q2, gap, cogap)
    mn = pair_complement(ctx, q1, q2, gap, cogap, e1[0], e2[0], e12[0],  # noqa: F821 (supplied by _njit)
                         _NODES, _WEIGHTS, _OFFSETS)
    return e1, e2, e12, mn


SLOTS = 4
"""Diagonals remembered per side and layer (:func:`_diagonal`): unit rows' squared norms computed in float64
take a few values an ulp apart, and the pairs of a block alternate between them."""
ENTRY = 1 + 3 * SLOTS  # next slot to overwrite, then (q, E, Ed) per slot


def _diagonal(ctx, q, side):  # pragma: no cover (compiled; run by numba)
    """``(E, Ed)`` at ``(q, q, c = q)``, the diagonal of input ``side`` (0: x, 1: x') at the current layer.

    A diagonal depends only on its input's norm, and a Gram's pairs share few norms: the memo
    attached to ``ctx`` (float64: capacity ``cap`` in layers, the layer counters of both sides, then per
    side and layer :data:`ENTRY` numbers: the next slot to overwrite and ``(q, E, Ed)`` in :data:`SLOTS`
    slots) returns the values of an earlier pair of the block where ``q`` is bitwise the same (the same
    computation: the same numbers), else evaluates and stores them."""
    p = _memo_ptr(ctx)
    head = numba.carray(p, 3)
    cap, i = int(head[0]), int(head[1 + side])
    head[1 + side] = i + 1
    if i >= cap:
        return ctx.expect(q, q, 0.0 * q, 2 * q)
    memo = numba.carray(p, 3 + 2 * cap * ENTRY)
    j = 3 + (side * cap + i) * ENTRY
    for s in range(SLOTS):
        if memo[j + 1 + 3 * s] == q:
            return memo[j + 2 + 3 * s], memo[j + 3 + 3 * s]
    e = ctx.expect(q, q, 0.0 * q, 2 * q)
    s = int(memo[j])
    memo[j] = (s + 1) % SLOTS
    memo[j + 1 + 3 * s], memo[j + 2 + 3 * s], memo[j + 3 + 3 * s] = q, e[0], e[1]
    return e


BLOCK = 64
"""Pairs per block of the parallel loop; each block keeps one memo of the diagonals (:func:`_diagonal`)."""


def _pairs(ctx, ffnet, sw2, sb2, a2, n1, n2, u, v, depth, out):  # pragma: no cover (compiled; run by numba)
    """The final state of :func:`rntk_sym.general_step.run_layers` for each pair ``k`` into ``out[:, k]``,
    in blocks of :data:`BLOCK` pairs shared between the cores."""
    n = u.shape[0]
    for b in prange((n + BLOCK - 1) // BLOCK):
        memo = np.full(3 + 2 * depth * ENTRY, np.nan)
        memo[0] = depth
        for e in range(2 * depth):
            memo[3 + e * ENTRY] = 0.0  # next slot
        bctx = _attach(ctx, memo.ctypes.data)
        for k in range(b * BLOCK, min(n, (b + 1) * BLOCK)):
            memo[1], memo[2] = 0.0, 0.0  # both sides' layer counters
            st = run_layers(bctx, ffnet, sw2, sb2, a2, n1[k], n2[k], u[k], v[k], depth)  # noqa: F821
            out[0, k], out[1, k], out[2, k], out[3, k] = st[0], st[1], st[2], st[3]
            out[4, k], out[5, k], out[6, k] = st[4], st[5], st[6]
        memo[0] = 0.0  # the memo stays alive until the block is done


def _build():
    """Register the context's methods and compile the step's functions (lazily, per specialization)."""
    comp = floats._Compensated
    sqrt = numba.njit(error_model="numpy")(lambda x: math.sqrt(x))
    # theta = 2 atan2(sqrt u, sqrt v) with u, v >= 0: the branch-free Cephes atan2 of the relu path (2 ulp,
    # tests/test_compiled.py against mpmath) instead of a libm call, which was measured to dominate the
    # complement's nodes for the angular families (leaky relu: 3-12 nodes per pair near correlation 1)
    atan2 = numba.njit(error_model="numpy")(compiled._atan2)
    accumulator = numba.njit(lambda x: (x, 0.0 * x))
    node_dot = numba.njit(error_model="numpy")(lambda ed, w: ed * w)
    fixed = {"sqrt": (sqrt, 1), "atan2": (atan2, 2), "accumulator": (accumulator, 1), "node_dot": (node_dot, 2),
             "lead": (numba.njit(comp.lead), 1), "total": (numba.njit(comp.total), 1),
             "add": (_njit(comp.add, _two_sum=numba.njit(floats._two_sum)), 2)}
    for name, (f, nargs) in fixed.items():
        _method(name, nargs, lambda ctx_type, f=f: f)
    ext.overload_attribute(GeneralContextType, "angular")(
        lambda ctx: (lambda ctx: True) if _DUALS[ctx.act_key][2] else (lambda ctx: False))
    _method("gp", 5, lambda ctx_type: _DUALS[ctx_type.act_key][0])
    _method("dgp", 5, lambda ctx_type: _DUALS[ctx_type.act_key][1])

    # general_step's functions, each compiled with its module's names bound to the compiled versions
    names = ("square", "pair", "spread", "affine_excess", "affine_gap", "affine_cogap", "ffnet_layer",
             "resnet_increments", "price_complement", "tier", "pair_complement", "angle_helpers", "ffnet_layers",
             "resnet_layers", "run_layers")
    jitted: dict = {}
    shared = {**general_step.__dict__}
    for name in names:
        func = getattr(general_step, name)
        jitted[name] = numba.njit(error_model="numpy")(
            types.FunctionType(func.__code__, shared, name, func.__defaults__, func.__closure__))
    shared.update(jitted)  # the functions look their callees up here when they are compiled
    args = _njit(_closed_args, angle_helpers=jitted["angle_helpers"])
    closed = _njit(_closed_duals, _closed_args=args)
    second = _njit(_closed_derivative, _closed_args=args)
    diagonal = _njit(_diagonal, _memo_ptr=_memo_ptr, ENTRY=ENTRY, SLOTS=SLOTS)
    duals = _njit(_pair_duals, pair_complement=jitted["pair_complement"], _diagonal=diagonal)
    # these take the context itself: ctx.name(*args) is f(ctx, *args)
    for name, f in (("expect", closed), ("derivative_dual", second), ("duals", duals)):
        ext.overload_method(GeneralContextType, name)(_passing_ctx(f))
    return _njit(_pairs, cache=True, parallel=True, run_layers=jitted["run_layers"], _attach=_attach)


def _passing_ctx(f):
    """Typer of ``ctx.name(a, b, c, d)`` = ``f(ctx, a, b, c, d)``."""
    def impl(ctx, a, b, c, d):
        return f(ctx, a, b, c, d)
    return lambda ctx, a, b, c, d: impl


def supports(act) -> bool:
    """Whether the compiled path serves ``act``: numba is present and its duals are closed forms (user
    activations' quadrature duals are not compiled)."""
    from ..activations import ClosedActivation

    return compiled.available() and isinstance(act, ClosedActivation)


def context(act) -> GeneralContext:
    """The compiled context of ``act`` (a :class:`rntk_sym.activations.ClosedActivation`): its duals
    lambdified to ``math`` and compiled; its key hashes the closed forms and the step's source."""
    from ..activations import families as F

    exprs = (act.closed.gp, act.closed.derivative_dual())
    digest = hashlib.sha256(("\n".join(map(sp.srepr, exprs)) + inspect.getsource(general_step)
                             + "".join(inspect.getsource(f) for f in (_pair_duals, _closed_args, _closed_duals,
                                                                      _closed_derivative, _diagonal))).encode())
    key = f"{act.name}-{digest.hexdigest()[:16]}"
    if key not in _DUALS:
        args = (F.Q1, F.Q2, F.C, F.S, F.TH)
        _DUALS[key] = (*(numba.njit(error_model="numpy")(sp.lambdify(args, e, modules="math", cse=True))
                          for e in exprs), any(act._angular))
    return GeneralContext(key)


def run_pairs(m, depth: int, n1, n2, u, v):
    """The final states of :func:`rntk_sym.general_step.run_layers` for the pairs (float64 arrays of one
    length: squared input norms ``n1, n2``, ``u = 1 - rho``, ``v = 1 + rho``) of the model ``m``
    (:class:`rntk_sym.general.Model`, validated; ``depth`` >= 1), compiled and on every core: a tuple of 7
    arrays for :func:`rntk_sym.general.finish`. Raises ImportError when numba is absent."""
    global _kernel
    from ..general import _alpha2, _num

    if numba is None:
        raise ImportError("numba is not installed (pip install -e \".[numba]\")")
    ctx = context(m.act)
    with compiled._LOCK:
        if _kernel is None:
            _kernel = _build()
    ffnet = m.arch == "ffnet"
    a2 = 0.0 if ffnet else float(_alpha2("float", m.scale, depth))
    n1, n2, u, v = (np.ascontiguousarray(np.broadcast_to(np.asarray(x, dtype=np.float64), np.shape(u)).ravel())
                    for x in (n1, n2, u, v))
    out = np.empty((7, u.size))
    with compiled._LOCK, np.errstate(all="ignore"):
        _kernel(ctx, ffnet, float(_num("float", m.weight_var)), float(_num("float", m.bias_var)), a2, n1, n2, u, v,
                int(depth), out)
    return tuple(out)
