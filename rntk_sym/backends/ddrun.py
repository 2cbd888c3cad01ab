"""The recursion in double-double with a running error bound, compiled with numba (the ``numba`` extra).

:func:`steps` applies ``n`` layers of :func:`rntk_sym.recursions.relu_increments` (translated by
:mod:`rntk_sym.codegen` into ``_dd_step.relu_increments_dd``) to the state ``X = (u, v, T)``.

State: each coordinate is a double-double ``A`` plus a float64 compensation ``C`` that collects the
rounding error of every state update (Neumaier's compensated summation, on double-doubles): the
increments are small beside the state (O(alpha^2) for the ResNet, O(X / l) for the FFNet), so the
update error is ``O(u^2 |increment|)`` instead of ``O(u^2 |state|)`` per layer (u = 2^-53).

Error bound (first order; docs/deep-and-certified.md, "Double-double"): with ``F(X) = X + inc(X)`` the
exact step, ``J = d inc / dX`` its Jacobian (forward-mode, from the generated step) and ``eps_l`` the
componentwise bound on ``|X_l - (A_l + C_l)|``,

    eps_{l+1} = |I + J| eps_l + e_l + f_l + a_l + r_w (|du|, |dv|, w |T|),

``e_l`` the step's own rounding (running error analysis of the generated code, inputs exact), ``f_l``
the float rounding of the compensation's update ``C' = C + J C + r`` (:func:`steps`), ``a_l`` the
update's rounding, and the last term the rounding of ``w`` (relative ``r_w``; ``w theta / pi <= w``);
plus UNDERFLOW per step for roundings below the normal range. The branch test ``u <= v`` of the step
needs no allowance: each branch's formula is smooth on both sides of ``u = v`` and both equal the exact
increments on ``u + v = 2``, where the exact state lies, so ``J`` of the branch taken propagates the error.
Second-order terms (``|F''| (|C|^2 + eps^2)``, ~1e-60 relative) are dropped.
"""
from __future__ import annotations

import math

import numpy as np

from ._dd_step import relu_increments_dd
from .dd import REL_ADD, add, jit

U = 2.0 ** -53
# absolute allowance per coordinate and step for roundings below float64's normal range (each <= 2^-1074;
# a step makes a few hundred); the per-operation bounds are relative and assume normal numbers
UNDERFLOW = 1e-300
N_STATE = 12  # (hi, lo, compensation, error bound) for u, v, T


@jit
def _accumulate(ah, al, xh, xl):
    """``s = A + x`` in double-double and ``r ~ A + x - s``, its rounding error, as a float; returns
    ``(s_hi, s_lo, r, bound)``, ``bound`` on ``|A + x - s - r|`` (``r`` is computed to ``4 u^2 (|x| + |r|)``
    from the exact-ish ``A - s``, then rounded to a float)."""
    sh, sl = add(ah, al, xh, xl)
    if abs(ah) >= abs(xh):
        rh, rl = add(ah, al, -sh, -sl)
        rh, rl = add(rh, rl, xh, xl)
    else:
        rh, rl = add(xh, xl, -sh, -sl)
        rh, rl = add(rh, rl, ah, al)
    return sh, sl, rh + rl, REL_ADD * (abs(xh) + 2.0 * abs(rh)) + U * abs(rh)


@jit
def steps(state, wh, wl, c, rel_w, n):
    """``n`` layers from ``state`` (float64 array of N_STATE: per coordinate u, v, T its hi, lo,
    compensation and error bound), ``w = wh + wl`` (relative rounding ``rel_w``), ``c`` (0.0 or 1.0).
    Updates ``state`` in place.

    The compensation ``C`` is carried as a first-order correction of the state: the step is evaluated at
    ``A`` (``A + C`` rounds to it), so ``C`` moves with the linearized flow, ``C' = C + J C + r`` (``r``
    the update's rounding); the value is ``A + C``."""
    uh, ul, uc, Eu = state[0], state[1], state[2], state[3]
    vh, vl, vc, Ev = state[4], state[5], state[6], state[7]
    Th, Tl, Tc, ET = state[8], state[9], state[10], state[11]
    for _ in range(n):
        (duh, dul, dvh, dvl, dTh, dTl, eu, ev, eT,
         j00, j01, j02, j10, j11, j12, j20, j21, j22) = relu_increments_dd(uh, ul, vh, vl, Th, Tl, wh, wl, c)
        # linearized flow of the compensation, and the float rounding of that product (u |J| |C|)
        ju = j00 * uc + j01 * vc + j02 * Tc
        jv = j10 * uc + j11 * vc + j12 * Tc
        jT = j20 * uc + j21 * vc + j22 * Tc
        auc, avc, aTc = abs(uc), abs(vc), abs(Tc)
        fu = 2.0 * U * (abs(j00) * auc + abs(j01) * avc + abs(j02) * aTc)
        fv = 2.0 * U * (abs(j10) * auc + abs(j11) * avc + abs(j12) * aTc)
        fT = 2.0 * U * (abs(j20) * auc + abs(j21) * avc + abs(j22) * aTc)
        Eu, Ev, ET = (abs(1.0 + j00) * Eu + abs(j01) * Ev + abs(j02) * ET + eu + fu + rel_w * abs(duh),
                      abs(j10) * Eu + abs(1.0 + j11) * Ev + abs(j12) * ET + ev + fv + rel_w * abs(dvh),
                      abs(j20) * Eu + abs(j21) * Ev + abs(1.0 + j22) * ET + eT + fT + rel_w * abs(wh) * abs(Th))
        uh, ul, r, a = _accumulate(uh, ul, duh, dul)
        uc = uc + ju + r
        Eu += a + U * abs(uc) + UNDERFLOW
        vh, vl, r, a = _accumulate(vh, vl, dvh, dvl)
        vc = vc + jv + r
        Ev += a + U * abs(vc) + UNDERFLOW
        Th, Tl, r, a = _accumulate(Th, Tl, dTh, dTl)
        Tc = Tc + jT + r
        ET += a + U * abs(Tc) + UNDERFLOW
    state[0], state[1], state[2], state[3] = uh, ul, uc, Eu
    state[4], state[5], state[6], state[7] = vh, vl, vc, Ev
    state[8], state[9], state[10], state[11] = Th, Tl, Tc, ET


def new_state(u: tuple[float, float], v: tuple[float, float], T: tuple[float, float],
              errors: tuple[float, float, float]) -> np.ndarray:
    """A state array from double-doubles ``(hi, lo)`` of u, v, T and bounds on their errors."""
    s = np.zeros(N_STATE)
    for k, (x, e) in enumerate(zip((u, v, T), errors)):
        s[4 * k], s[4 * k + 1], s[4 * k + 3] = x[0], x[1], e
    return s


def run(state: np.ndarray, wh: float, wl: float, c: int, rel_w: float, depth: int, progress=None,
        every: int = 1 << 18) -> np.ndarray:
    """``depth`` layers in chunks of ``every`` (``progress(l)`` after each); returns ``state``."""
    from ._dd_entry import run_steps  # :func:`steps` compiled, cached on disk
    done = 0
    while done < depth:
        n = min(every, depth - done)
        run_steps(state, wh, wl, float(c), rel_w, n)
        done += n
        if progress is not None:
            progress(done)
    if not all(math.isfinite(x) for x in state):
        raise FloatingPointError("double-double recursion: a non-finite value")
    return state


def to_dd(ctx, x) -> tuple[float, float, float]:
    """The mpf ``x`` as a double-double ``(hi, lo)`` and a bound on ``|x - hi - lo|`` (exact, in ``ctx``)."""
    hi = float(x)
    lo = float(x - hi)
    return hi, lo, float(abs(x - hi - lo)) * (1 + 2 * U)


def run_mp(ctx, u, v, T, w, c: int, depth: int, progress=None):
    """``depth`` layers from the mpf values ``(u, v, T)`` with ``Block(w, c)`` (``w`` an mpf); returns
    ``((u_L, e_u), (v_L, e_v), (T_L, e_T))``: each value ``A + C`` as an exact mpf of ``ctx`` (whose
    precision must hold three floats: 160 bits or more) and its error bound (an mpf), which includes
    the rounding of the inputs to double-doubles."""
    (uh, ul, eu), (vh, vl, ev), (Th, Tl, eT) = (to_dd(ctx, x) for x in (u, v, T))
    wh, wl, ew = to_dd(ctx, w)
    rel_w = ew / float(abs(w)) if w else 0.0
    state = run(new_state((uh, ul), (vh, vl), (Th, Tl), (eu, ev, eT)), wh, wl, c, rel_w, depth, progress)
    return tuple((ctx.mpf(state[4 * k]) + ctx.mpf(state[4 * k + 1]) + ctx.mpf(state[4 * k + 2]),
                  ctx.mpf(state[4 * k + 3]) * (1 + 4 * U)) for k in range(3))
