"""Gram matrices of the normalized kernels on data: ``K[i, j] = kernel(x_i, y_j)``, float64.

The pairwise recursion of :mod:`rntk_sym.recursions` runs on the cancellation-free state
``u = 1 - rho``, ``v = 1 + rho`` (docs/model.md section 7). This module feeds it ``u`` and ``v`` computed
from the data without ever forming ``1 - <x, y>`` for nearly parallel rows:

- rows are scaled to the unit sphere in double-double (``x / |x| = hi + lo``, exact to ~1e-32), so
  the angle is that of the given float64 rows, not of their rounded normalizations;
- for ``rho > 1/2``: ``u = |xh - yh|^2 / 2`` with ``xh - yh = (hi_x - hi_y) + (lo_x - lo_y)`` (the
  ``hi`` difference of nearly equal coordinates is exact), ``v = 2 - u``; for ``rho < -1/2`` the same
  with the sum and ``v``; elsewhere ``u = 1 - rho``, ``v = 1 + rho`` from a BLAS product
  (``u, v >= 1/2`` there, so the subtraction loses nothing).

For ``rho = 1 - 1e-10`` the naive ``1 - fl(<x, y>)`` has a relative error ~1e-6 in ``u``; here it is
~1e-16 (tests/test_gram.py measures both against a 60-digit reference).
"""
from __future__ import annotations

import math

import numpy as np

from . import inputs
from .backends.floats import two_prod_dekker
from .kernels import evaluate_uv_float

DEFAULT_CHUNK = 1 << 14
"""Pairs per block: the recursion's ~40 temporaries of this many float64 stay in cache, and the
working memory is a few MB whatever n is (benchmarks/bench_gram.py measures the choice)."""

def _unit_rows(name: str, X) -> tuple[np.ndarray, np.ndarray]:
    """Rows of ``X`` divided by their Euclidean norms, as a double-double ``(hi, lo)``.

    Raises ``ValueError`` naming ``name`` for a non-2-D or non-finite array or a zero row.
    """
    if np.iscomplexobj(X):
        raise ValueError(f"{name}: must be a real 2-D array (n, D), got a complex array")
    try:
        X = np.array(X, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name}: must be a real 2-D array (n, D) of numbers") from None
    if X.ndim != 2 or X.shape[1] == 0:
        raise ValueError(f"{name}: must be a 2-D array (n, D) with D >= 1, got shape {X.shape}")
    if not np.isfinite(X).all():
        raise ValueError(f"{name}: must be finite, got NaN or inf")
    big = np.max(np.abs(X), axis=1) if X.shape[0] else np.zeros(0)
    zero = np.flatnonzero(big == 0)
    if zero.size:
        raise ValueError(f"{name}: row {zero[0]} is zero; the normalized kernel is defined for nonzero rows")
    # exact power-of-two scaling: largest entry in [1/2, 1), so the splitting cannot overflow
    X = np.ldexp(X, -np.frexp(big)[1][:, None])
    s_hi = np.zeros(len(X))
    s_lo = np.zeros(len(X))
    for col in X.T:  # |x|^2 as a double-double: exact squares, two-sum accumulation
        p, e = two_prod_dekker(col, col)
        s = s_hi + p
        bb = s - s_hi
        s_lo += ((s_hi - (s - bb)) + (p - bb)) + e
        s_hi = s
    n_hi = np.sqrt(s_hi)
    p, e = two_prod_dekker(n_hi, n_hi)
    n_lo = ((s_hi - p) - e + s_lo) / (2 * n_hi)
    hi = X / n_hi[:, None]
    p, e = two_prod_dekker(hi, n_hi[:, None])
    lo = ((X - p) - e - hi * n_lo[:, None]) / n_hi[:, None]
    return hi, lo


def _uv(rho, Xh, Xl, Yh, Yl, rows, cols):
    """``u = 1 - rho``, ``v = 1 + rho`` for the pairs ``(rows[k], cols[k])``; ``rho`` their BLAS
    estimate (used where ``|rho| <= 1/2``)."""
    u, v = 1 - rho, 1 + rho
    step = max(1, (1 << 20) // Xh.shape[1])  # gathered rows per batch: ~8 MB
    for sign, small, other in ((-1.0, u, v), (1.0, v, u)):
        near = np.flatnonzero(-sign * rho > 0.5)
        for s in range(0, near.size, step):
            k = near[s:s + step]
            i, j = rows[k], cols[k]
            d = (Xh[i] + sign * Yh[j]) + (Xl[i] + sign * Yl[j])  # x - y (sign -1) or x + y
            small[k] = np.einsum("kd,kd->k", d, d) / 2
            other[k] = 2 - small[k]
    return u, v


def _tiles(n: int, m: int, chunk: int, sym: bool):
    """Row/column ranges ``(i0, i1, j0, j1)`` of tiles of about ``chunk`` entries covering the
    matrix (for ``sym``, only tiles meeting the strict upper triangle)."""
    c = min(m, max(1, math.isqrt(chunk)))
    b = max(1, chunk // c)
    for i0 in range(0, n, b):
        i1 = min(n, i0 + b)
        for j0 in range(0, m, c):
            j1 = min(m, j0 + c)
            if not sym or j1 - 1 > i0:
                yield i0, i1, j0, j1


def gram(X, Y=None, *, arch: str, depth: int, gamma=None, alpha=None, kernel: str = "ntk",
         chunk: int = DEFAULT_CHUNK, out: np.ndarray | None = None, activation=None, weight_var=None,
         bias_var=None) -> np.ndarray:
    """Gram matrix ``K[i, j]`` of the normalized NTK ``Omegabar_L`` (``kernel="ntk"``) or normalized
    GP kernel (``kernel="gp"``) between the rows of ``X`` (n, D) and of ``Y`` (m, D), float64.

    Arguments (docs/model.md symbols): ``arch`` "ffnet" or "resnet"; ``depth`` = L; for the ResNet
    ``gamma`` (alpha = L^-gamma, default 1) or a constant ``alpha``, as in :func:`rntk_sym.kernel`.
    ``Y=None`` means ``Y = X``: the result is symmetric, only ``i < j`` is computed and the
    diagonal is exactly 1.

    Inputs that are not unit vectors: the normalized kernels depend only on the angle between
    ``x`` and ``y`` (docs/model.md section 1, ``rho = <x, y> / (|x| |y|)``), so every row is scaled to the
    unit sphere. The scaling is carried in double-double, so the kernel is that of the exact angle
    between the given float64 rows, also for nearly parallel rows (relative accuracy ~1e-15 in
    ``1 - rho`` for ``rho = 1 - 1e-10``). A zero row has no angle: ``ValueError`` naming ``X`` or
    ``Y``; so do NaN, inf, complex, non-2-D input and mismatched ``D``.

    Memory: besides ``out`` (n x m float64, allocated unless given; e.g. an ``np.memmap`` for
    n = 20000), O(``chunk``) floats: the pairs are run through the recursion ``chunk`` at a time.
    Time: O(n m L) (half that when ``Y`` is None); with numba installed (``pip install "rntk_sym[numba]"``)
    the recursion is compiled and runs on every core (:func:`relu_evaluator`; the first call in a new
    environment compiles it, a few seconds, then it is cached on disk).

    ``activation``, ``weight_var``, ``bias_var``: another network than the seeds' relu is computed by
    :func:`rntk_sym.general.gram`, whose input kernel is ``<x, y>`` (the rows' norms enter the kernel);
    with numba and a closed-form activation it runs compiled on every core as well
    (:mod:`rntk_sym.backends.compiled_general`; each activation compiles on its first use, then is cached).
    """
    from . import general

    if general.uses_general(arch, activation, weight_var, bias_var, gamma, alpha):
        if out is not None:
            raise ValueError("out: not supported with an activation other than the seeds' relu")
        return general.gram(X, Y, arch=arch, depth=depth, gamma=gamma, alpha=alpha, kernel=kernel,
                            activation=activation, weight_var=weight_var, bias_var=bias_var, chunk=chunk)
    arch = inputs.choice("arch", arch, inputs.ARCHS)
    kernel = inputs.choice("kernel", kernel, inputs.KERNELS)
    depth = inputs.depth(depth)
    scale = inputs.scaling(arch, gamma, alpha)
    rows = unit_row_pair(X, Y)
    n, m = len(rows[0]), len(rows[2])
    if out is None:
        out = np.empty((n, m))
    elif out.shape != (n, m) or out.dtype != np.float64:
        raise ValueError(f"out: must be a float64 array of shape {(n, m)}, got {out.dtype} {out.shape}")
    return fill_pairs(rows, relu_evaluator(arch, kernel, depth, scale), chunk, out)


def relu_evaluator(arch: str, kernel: str, depth: int, scale):
    """``evaluate(u, v, i, j)`` for :func:`fill_pairs`: the seeds' relu kernel of the pairs (validated
    arguments), compiled by numba when it is installed (:mod:`rntk_sym.backends.compiled`, both cores),
    else the numpy context; the two agree to a few ulps (tests/test_compiled.py)."""
    return lambda u, v, i, j: evaluate_uv_float(arch, kernel, u, v, depth, scale)


def unit_row_pair(X, Y):
    """``(Xh, Xl, Yh, Yl)``: the rows of ``X`` and ``Y`` (``Y=None``: ``X`` itself, the same arrays)
    scaled to the unit sphere in double-double (:func:`_unit_rows`), with matching columns; a
    ValueError naming ``X`` or ``Y`` otherwise."""
    Xh, Xl = _unit_rows("X", X)
    Yh, Yl = (Xh, Xl) if Y is None else _unit_rows("Y", Y)
    if Yh.shape[1] != Xh.shape[1]:
        raise ValueError(f"Y: must have D = {Xh.shape[1]} columns like X, got {Yh.shape[1]}")
    return Xh, Xl, Yh, Yl


def fill_pairs(rows, evaluate, chunk: int, out: np.ndarray) -> np.ndarray:
    """Fill ``out[i, j]`` with ``evaluate(u, v, i, j)`` (arrays of pairs: ``u = 1 - rho``, ``v = 1 + rho``
    from :func:`_uv`, the row and column indices) over tiles of about ``chunk`` pairs; the rows from
    :func:`unit_row_pair`. The same rows on both sides (``Y=None``) give a symmetric matrix: only
    ``i < j`` is evaluated and the diagonal is exactly 1. An empty side gives the empty matrix."""
    if isinstance(chunk, bool) or not isinstance(chunk, (int, np.integer)) or chunk < 1:
        raise ValueError(f"chunk: must be an integer >= 1, got {chunk!r}")
    Xh, Xl, Yh, Yl = rows
    sym = Yh is Xh
    n, m = len(Xh), len(Yh)
    if n == 0 or m == 0:
        return out
    if sym:
        out[np.arange(n), np.arange(n)] = 1.0
    for i0, i1, j0, j1 in _tiles(n, m, int(chunk), sym):
        rho = Xh[i0:i1] @ Yh[j0:j1].T
        r, c = np.nonzero(np.ones_like(rho, dtype=bool) if not sym else
                          np.arange(j0, j1)[None, :] > np.arange(i0, i1)[:, None])
        u, v = _uv(np.clip(rho[r, c], -1.0, 1.0), Xh, Xl, Yh, Yl, r + i0, c + j0)
        vals = evaluate(u, v, r + i0, c + j0)
        out[r + i0, c + j0] = vals
        if sym:
            out[c + j0, r + i0] = vals
    return out


__all__ = ["gram"]
