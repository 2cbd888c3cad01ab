"""The FFNet and ResNet kernel recursions, written once against a number context.

Both architectures are one recursion on the state ``(u, v, T)`` with ``u = 1 - rho_l``,
``v = 1 + rho_l`` (``rho_l`` the normalized GP kernel after l layers) and ``T_l = l * Omegabar_l``
the depth-l normalized NTK times l (docs/model.md sections 2-3, derivation in docs/recursions.md):

    rho_l = (1 - w) rho_{l-1} + w shat(rho_{l-1})                       (GP map)
    T_l   = P(rho_{l-1}) T_{l-1} + Q(rho_{l-1}),   T_0 = 0                (NTK, forward accumulation)
    P = (1 - w) + w shatp,    Q = (c shat + rho shatp) / (1 + c)

- FFNet: ``w = 1``, ``c = 0``: ``T_l = shatp(K_{l-1}) (T_{l-1} + K_{l-1})``, the seed's sum of products.
- ResNet: ``w = alpha^2 / (1 + alpha^2)``, ``c = 1``: ``T_l`` is the seed's ``Omega_l`` divided by
  ``2 alpha^2 (1 + alpha^2)^(l-1)``, the B-products folded forward.

``Omegabar_L = T_L / L`` and the normalized GP kernel is ``rho_L``. On the diagonal (rho = 1) every
quantity is exactly 1 in every context, so ``T_L = L`` exactly.

The step never subtracts nearly equal numbers (docs/model.md section 7): with ``theta = arccos rho`` and
``s3(x) = sin x - x cos x`` (identities proved in tests/test_duals.py from :mod:`rntk_sym.duals`),

    shat - rho = s3(theta) / pi >= 0,   shat = s3(pi - theta) / pi,   shatp = (pi - theta) / pi,

so ``u' = u - w D`` and ``v' = v + w D`` with ``D = shat - rho`` (``u' >= u / 2``: no cancellation)
and ``T' = T + Q - (w theta / pi) T``;
of the two angles ``theta`` and ``pi - theta`` the smaller, ``a <= pi/2``, comes from one ``atan2`` and
its ``s3`` from a series (``ctx.s3_small``), the larger one's ``s3`` is a sum of positive terms.

A context ``ctx`` supplies: ``pi``, ``sqrt``, ``atan2``, ``where``,
``zeros_like``, ``s3_small(a, sin_a, cos_a)`` = ``s3(a)`` for ``0 <= a <= pi/2``, and the state
accumulators ``accumulator``, ``lead``, ``add``, ``total`` (see :func:`run`).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple


class Block(NamedTuple):
    """One layer: branch weight ``w`` and ``c`` = 1 when the branch's outer matrix is trained
    (ResNet's V_l), 0 when not (FFNet). A named tuple, so that a compiled context (numba) can take it."""

    w: Any
    c: int


def ffnet_block(ctx) -> Block:
    """FFNet layer: ``K_l = Gamma_sigma(K_{l-1})`` (docs/model.md section 2)."""
    return Block(ctx.one, 0)


def resnet_block(ctx, alpha2) -> Block:
    """ResNet layer with ``alpha2 = alpha^2``: ``K_l = K_{l-1} + alpha^2 Gamma_sigma(K_{l-1})``
    (docs/model.md section 3)."""
    return Block(alpha2 / (1 + alpha2), 1)


def relu_increments(ctx, blk: Block, u, v, T):
    """One layer for the normalized ReLU: the increments ``(u' - u, v' - v, T' - T)``.

    Increments rather than new values, so that a context can add them without rounding the state
    (``ctx.add``): with ``alpha = L^-gamma`` each layer moves the state by ``O(alpha^2)`` only.
    ``T' - T = Q - (1 - P) T`` with ``1 - P = w theta / pi``.
    """
    pi = ctx.pi
    su, sv = ctx.sqrt(u), ctx.sqrt(v)
    acute = u <= v  # theta <= pi/2
    # a = theta if acute else pi - theta (so a <= pi/2); chosen by the same test as every branch below,
    # so a context whose comparisons are only sometimes decidable (balls) stays consistent
    a = 2 * ctx.atan2(ctx.where(acute, su, sv), ctx.where(acute, sv, su))
    sin_a = su * sv  # sin(theta) = sin(pi - theta)
    cos_a = ctx.where(acute, v - u, u - v) / 2  # cos a (= |cos theta| when the test is right, exact either way)
    s3_a = ctx.s3_small(a, sin_a, cos_a)
    s3_b = sin_a + (pi - a) * cos_a  # s3(pi - a): both terms >= 0
    d = ctx.where(acute, s3_a, s3_b) / pi  # shat - rho
    shat = ctx.where(acute, s3_b, s3_a) / pi
    a_pi = a / pi
    theta_pi = ctx.where(acute, a_pi, 1 - a_pi)
    shatp = ctx.where(acute, 1 - a_pi, a_pi)  # (pi - theta)/pi
    Q = (blk.c * shat + (v - u) / 2 * shatp) / (1 + blk.c)
    wd = blk.w * d
    return -wd, wd, Q - blk.w * theta_pi * T


def run(ctx, blk: Block, u, v, depth: int, progress: Callable[[int], None] | None = None,
        every: int = 1 << 16, T=None):
    """Apply ``depth`` layers to ``(u, v, T)`` (default ``T = 0``); return ``(u_L, v_L, T_L)``.

    O(1) memory in ``depth``. The context keeps the state in accumulators (``ctx.accumulator``,
    ``ctx.lead``, ``ctx.add``, ``ctx.total``; compensated in float64). ``progress(l)`` is called every
    ``every`` layers when given.
    """
    acc = [ctx.accumulator(u), ctx.accumulator(v), ctx.accumulator(ctx.zeros_like(u) if T is None else T)]
    lead, add = ctx.lead, ctx.add
    for done in range(0, depth, every):
        for _ in range(min(every, depth - done)):
            incs = relu_increments(ctx, blk, lead(acc[0]), lead(acc[1]), lead(acc[2]))
            acc = [add(a, d) for a, d in zip(acc, incs)]
        if progress is not None:
            progress(min(done + every, depth))
    return tuple(ctx.total(a) for a in acc)
