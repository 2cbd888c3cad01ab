"""Skip-ahead for the FFNet with any closed-form activation and variances (issue 15 item 4; docs/asymptotics.md
sec. 11): the normalized NTK and GP kernel at any depth L without L layers.

Notation of :mod:`rntk_sym.general` and docs/phases.md: ``sigma_w^2`` = ``weight_var``, ``sigma_b^2`` = ``bias_var``,
``q*`` the length map's fixed point, ``chi_1``, ``c*``, ``chi_{c*}`` (:func:`rntk_sym.phase.phase`), ``lambda_q`` the
length map's slope at ``q*``; after ``l`` layers of :func:`rntk_sym.general.run` the state holds ``k_{l+1}`` (variances
``q``, correlation ``c = 1 - u``), ``Theta_{l+1}`` and ``Omega_{l+1}``; the NTK returned at depth ``L`` is
``Omega_{L+1}(x, x') / sqrt(Omega_{L+1}(x, x) Omega_{L+1}(x', x'))``, the GP kernel ``c_{L+1}``.

- **Ordered and chaotic phases** (``chi_1 != 1``, ``q* > 0``): :func:`_geometric`. The GP kernel ``c_l`` and the
  off-diagonal ``Omega_l(x, x')`` converge geometrically (rates ``chi_{c*}``, ``chi_1`` or ``sqrt(chi_1)``,
  ``lambda_q``); on the diagonal, once ``q_l = q*``, ``Theta_{l+1} = q* + chi_1 Theta_l`` is summed in closed form.
  The recursion runs (mpmath at two precisions, :class:`_Exact`) in stretches of ``k`` layers until the measured
  change ``d_j`` of the converging quantities gives a geometric tail ``2 d_j rho/(1 - rho)`` below the target,
  ``rho`` = the larger of the last two measured ratios ``d_j/d_{j-1}`` and the rate from the phase analysis to the
  power ``k`` (form assumed: the changes keep shrinking at least by ``rho`` per stretch; safety factor 2).
- **Edge of chaos with q* > 0, smooth activation** and the **ab_relu family without bias** (its normalized kernels do
  not depend on ``sigma_w^2``: computed at its edge of chaos, where ``q_l`` is constant): :func:`_parabolic`.
  ``x = u = 1 - c`` (smooth) or the angle ``theta`` (ab_relu) obeys a parabolic map and the cross entry
  ``T_l = Theta_l(x, x')`` the linear recursion ``T_{l+1} = P(x_l) T_l + q* c(x_{l+1})`` with ``P = chi`` the NTK's
  factor ``sigma_w^2 Ed(q*, q*, c q*)``; :mod:`rntk_sym.parabolic` conjugates both to a shift and jumps from the state
  at ``N`` layers to ``L``. Smooth: the Taylor coefficients of ``chi(u)`` at ``u = 0`` by Cauchy integrals of the
  closed-form dual (complex ``c``), and ``g(u) = 1 - C(1 - u) = int_0^u chi`` (Price's theorem); ab_relu: the
  angle map's series of :func:`rntk_sym.asymptotics._fixed_step_series` (step ``w``), ``P = 1 - w theta/pi``.
  The jump is evaluated from successive stretches ``N_j`` once the series' truncation is below the target; the
  error reported is ``|v_j - v_{j-1}|`` (times the geometric tail factor while ``q_l`` still converges), plus the
  difference between two truncation orders, the two precisions' difference carried through the jump, and
  ``4 L |chi_1 - 1| |v|``
  (the weight variance is the edge of chaos to ``digits + 20`` digits, so ``chi_1 = 1`` only to that accuracy).

Not covered (one-line ValueError naming the argument): user (quadrature) activations, the ResNet, ``q* = 0``,
kinked activations other than ab_relu at the edge of chaos, the chaotic phase with ``c* = 0`` (odd activation
without bias: the kernels vanish geometrically).
"""
from __future__ import annotations

import dataclasses
import math
from fractions import Fraction
from functools import lru_cache

import mpmath

from . import general, general_step, parabolic
from .kernels import LOG2_10
from .phase import _fail

AUTO_FROM = 20000  # method="auto" tries the skip-ahead beyond this depth (the recursion costs seconds there)
MAX_LAYERS = 400000  # the exact part stops here (a phase too close to the edge of chaos for a geometric tail)
SERIES_ORDER = 40  # Taylor order of the parabolic series (truncation ~ x^40 at x <~ 0.1)
ORDER_CHECK = 8  # the second truncation order is SERIES_ORDER - ORDER_CHECK
CAUCHY_POINTS = 256
GUARD = 12  # working digits beyond the target
EXTRA_BITS = 64  # the second precision of the exact part (_Exact)


def why_not(m: general.Model, kernel: str) -> str | None:
    """None when the skip-ahead covers the model ``m`` (a :class:`rntk_sym.general.Model`) and ``kernel``, else the
    one-line reason (``"argument: text"``)."""
    return _plan(m, kernel)[1]


@lru_cache(maxsize=64)
def _plan(m: general.Model, kernel: str):
    """``(route, reason, phase)``: route "geometric", "smooth", "abrelu", "linear" or None with the reason."""
    from .eoc import SMOOTH, abrelu_slopes, zero_q_star
    from .phase import homogeneous_constant, phase

    act = m.act
    if m.arch != "ffnet":
        return None, "arch: the skip-ahead for other activations covers the FFNet only", None
    if getattr(act, "quadrature", False):
        return None, "activation: the skip-ahead needs a closed-form activation (a user activation's duals are " \
                     "quadratures); use method='recursion'", None
    if act.singular_derivative and kernel == "ntk":
        return None, "activation: no NTK (the derivative has a Dirac part)", None
    if m.bias_var == 0 and abrelu_slopes(act) is not None and homogeneous_constant(act) is not None:
        return ("linear" if abrelu_slopes(act)[0] == abrelu_slopes(act)[1] else "abrelu"), None, None
    if m.bias_var == 0 and getattr(act, "name", None) in general.HOMOGENEOUS:
        return None, f"activation: the skip-ahead does not cover {act.spec} without bias (no parabolic series " \
                     "for its angle map)", None
    try:
        p = phase(act, m.weight_var, m.bias_var, digits=16)
    except ValueError as exc:
        return None, str(exc), None
    if zero_q_star(p):
        return None, f"weight_var: {act.spec} here has q* = 0 (the variances vanish): not covered by the skip-ahead " \
                     "(docs/asymptotics.md sec. 9.3)", p
    if p.phase == "edge of chaos":
        if getattr(act, "name", None) not in SMOOTH:
            return None, f"activation: the skip-ahead at the edge of chaos covers smooth activations " \
                         f"({', '.join(sorted(SMOOTH))}) and the ab_relu family, not {act.spec}", p
        return "smooth", None, p
    if p.phase == "chaotic" and abs(p.c_star.value) <= p.c_star.error + mpmath.mpf(10) ** -12:
        return None, f"bias_var: the chaotic phase of {act.spec} has c* = 0 (odd activation without bias): the " \
                     "kernels vanish geometrically; not covered by the skip-ahead", p
    return "geometric", None, p


class _Exact:
    """The recursion :func:`rntk_sym.general.run` in mpmath at two precisions, ``prec`` and ``prec + EXTRA_BITS``
    bits, continued in stretches; the state's error estimate is the two runs' difference (the form of
    :func:`rntk_sym.general._high_precision`). Not arb balls: carried through many layers they widen exponentially by
    the dependency effect (measured: x1.6 per layer for erf's length map; ab_relu's gap, near 0 in the ordered phase,
    loses everything within 80 layers)."""

    def __init__(self, m, n1, n2, rho: Fraction, prec: int, ctx):
        self.m, self.ctx, self.precs = m, ctx, (prec, prec + EXTRA_BITS)
        self.args = []
        for p in self.precs:
            with mpmath.workprec(p):
                self.args.append(([general._num("mp", x) for x in (n1, n2, 1 - rho)], general._num("mp", 1 + rho)))
        self.states, self.layers = [None, None], 0

    def step(self, k: int):
        for i, p in enumerate(self.precs):
            with mpmath.workprec(p):
                (a, v) = self.args[i]
                try:
                    self.states[i] = general.run("mp", self.m, *a, k, "ntk", v=v, start=self.states[i], raw=True)
                except ZeroDivisionError:
                    raise _fail("activation", f"the kernels of {self.m.act.spec} are undefined along this orbit "
                                  "(a vanishing variance)") from None
        self.layers += k

    def snapshot(self):
        """The states of the higher and of the lower precision, as mpf of ``ctx``: ``q`` (2), ``gap``, ``cogap``,
        ``theta`` (3), ``omega`` (3)."""
        def flat(state):  # general.run's raw state (k_{l+1} and Omega_{l+1}, l >= 1): Theta_{l+1} = k + Omega,
            # summed in ctx (the mpf of the state carry more bits than mpmath's global context)
            q1, q2, gap, cogap, o1, o2, o12 = (self.ctx.mpf(x) for x in state)
            return [q1, q2, gap, cogap, q1 + o1, q2 + o2, general_step.pair(gap, cogap) + o12, o1, o2, o12]

        return flat(self.states[1]), flat(self.states[0])


def _work_digits(digits: int, depth: int) -> int:
    return digits + GUARD + len(str(depth))


def skip_ahead(m: general.Model, kernel: str, rho: Fraction, depth: int, n1, n2, digits: int, progress=None):
    """``(value, error, form, one_minus, one_minus_error)`` of the normalized kernel at depth ``depth`` (module
    docstring), ``one_minus`` = ``1 - value`` carried without cancellation where the route has it (else None); or
    None when the exact part would need about as many layers as ``depth`` (the recursion is then the better tool).
    ValueError (one line, naming the argument) where the skip-ahead does not apply."""
    route, reason, p = _plan(m, kernel)
    if reason is not None:
        raise ValueError(reason)
    ctx = mpmath.MPContext()
    ctx.prec = math.ceil((_work_digits(digits, depth) + 10) * LOG2_10)
    if route == "linear":  # phi = a z: every layer keeps the correlation and the NTK at rho
        v = ctx.mpf(rho.numerator) / rho.denominator
        return v, ctx.zero, "exact: a linear activation keeps rho at every depth", 1 - v, ctx.zero
    if rho == 1 and (n1 == n2 or route == "abrelu"):  # x = x': both kernels are 1 at every depth
        return ctx.one, ctx.zero, "exact: diagonal", ctx.zero, ctx.zero
    if route == "abrelu":
        from .phase import homogeneous_constant

        k = homogeneous_constant(m.act)  # the normalized kernels do not depend on sigma_w^2: take the edge 1/k
        m = dataclasses.replace(m, weight_var=1 / k)
        n1 = n2 = Fraction(1)
    prec = math.ceil((_work_digits(digits, depth) + 15) * LOG2_10)
    run = _Exact(m, n1, n2, rho, prec, ctx)
    if route == "geometric":
        return _geometric(run, m, kernel, depth, digits, p, progress)
    return _parabolic(run, m, kernel, depth, digits, route, progress)


# ----------------------------------------------------------------------------------------------------------------
# Ordered and chaotic phases: a geometric tail
# ----------------------------------------------------------------------------------------------------------------

def _length_slope(m: general.Model, qs) -> mpmath.mpf:
    """``lambda_q = V'(q*)``, the length map's slope (as :func:`rntk_sym.phase._stable` computes it)."""
    from .phase import _Maps

    with mpmath.workprec(64):
        w, b = (mpmath.mpf(x.numerator) / x.denominator for x in (m.weight_var, m.bias_var))
        return abs(mpmath.diff(_Maps(m.act, w, b).V, mpmath.mpf(qs)))


def _chi(m: general.Model, ctx, q):
    """``chi_1 = sigma_w^2 Ed(q, q, q)`` at the working precision."""
    with mpmath.workprec(ctx.prec):
        w = mpmath.mpf(m.weight_var.numerator) / m.weight_var.denominator
        return ctx.mpf(w * m.act.expectations(mpmath.mpf(q), mpmath.mpf(q), mpmath.mpf(0), "mp")[1])


def _diagonal(ctx, chi1, theta, q, steps):
    """``Theta`` after ``steps`` more layers of ``Theta' = q + chi_1 Theta`` (closed form)."""
    if chi1 == 1:
        return theta + steps * q
    g = ctx.expm1(steps * ctx.log(chi1))
    return theta * (1 + g) + q * g / (chi1 - 1)


def _geometric(run: _Exact, m, kernel: str, depth: int, digits: int, p, progress):
    ctx = run.ctx
    kinked = any(m.act._angular)
    chi1, chics = float(p.chi_1.value), float(p.chi_c_star.value)
    lam = float(_length_slope(m, p.q_star.value))
    if kernel == "gp":
        rate = chics
    elif p.phase == "ordered":
        rate = math.sqrt(chi1) if kinked else chi1
    else:
        rate = chics
    rate = max(rate, lam, 1e-300)
    k = max(1, min(4096, math.ceil(math.log(0.25) / math.log(rate)))) if rate < 1 else 4096
    tol = ctx.mpf(10) ** -(digits + 4)
    need = (digits + 8) * math.log(10) / -math.log(rate) + 4 * k if rate < 1 else math.inf
    if need >= min(depth, MAX_LAYERS):
        return None  # as slow as the recursion (or too close to the edge of chaos)
    def observed(state):
        q1, q2, gap, cogap = state[:4]
        return (cogap - gap) / (2 * ctx.sqrt(q1 * q2)) if kernel == "gp" else state[9]

    def value_at(state, y, chi1):
        """The kernel at ``depth`` from the converged ``y`` and the state's diagonals (closed form)."""
        if kernel == "gp":
            return y
        om = [_diagonal(ctx, chi1, th, q, depth - run.layers) - q for th, q in ((state[4], state[0]),
                                                                                (state[5], state[1]))]
        return y / ctx.sqrt(om[0] * om[1])

    hist = []
    while True:
        run.step(k)
        if progress is not None:
            progress(run.layers, need)
        hi, lo = run.snapshot()
        hist.append((observed(hi), hi[0], hi[1], _chi(m, ctx, hi[0]), hi, lo))
        if len(hist) >= 3:
            done = _geometric_tail(ctx, hist, rate ** k, lam ** k, tol)
            if done is not None:
                break
        if run.layers >= min(depth, MAX_LAYERS):
            return None
    tail_y, tail_chi = done
    y, _, _, chi1_mp, hi, lo = hist[-1]
    form = (f"skip-ahead: {p.phase} phase, geometric tail after {run.layers} exact layers (stretches of {k}; "
            "assumed: the changes shrink geometrically at the larger of the measured ratio and the phase's rate, "
            "safety factor 2; rounding: two precisions)")
    value = value_at(hi, y, chi1_mp)
    # the tails of y and of chi_1 (the diagonals' factor), and the two precisions' difference
    err = abs(value) * tail_y / abs(y) if y else tail_y
    err += max(abs(value_at(hi, y, chi1_mp + s * tail_chi) - value) for s in (1, -1))
    err += abs(value_at(lo, observed(lo), _chi(m, ctx, lo[0])) - value)
    return value, err, form, None, None


def _geometric_tail(ctx, hist, rate_k, lam_k, tol):
    """``(tail of y, tail of chi_1)`` when both are below the target (geometric tails from the last three
    checkpoints), else None."""
    def tail(vals, floor):
        d = [abs(vals[i] - vals[i - 1]) for i in (-2, -1)]
        if d[1] == 0:
            return ctx.zero
        if d[0] == 0:
            return None
        rho = max(d[1] / d[0], ctx.mpf(floor))
        return None if rho >= ctx.mpf(0.9) else 2 * d[1] * rho / (1 - rho)  # safety factor 2

    ys = [h[0] for h in hist]
    ty = tail(ys, max(rate_k, lam_k))
    tq = [tail([h[i] for h in hist], lam_k) for i in (1, 2)]
    tc = tail([h[3] for h in hist], lam_k)
    if ty is None or tc is None or None in tq:
        return None
    y, q = abs(ys[-1]), max(hist[-1][1], hist[-1][2])
    if ty > tol * y or max(tq) > tol * q:
        return None
    return ty, tc


# ----------------------------------------------------------------------------------------------------------------
# Edge of chaos: the parabolic conjugacy
# ----------------------------------------------------------------------------------------------------------------

def _taylor_chi(m: general.Model, ctx, qs, size: int, digits: int):
    """Taylor coefficients ``chi_k`` of ``chi(u) = sigma_w^2 Ed(q*, q*, q* (1 - u))`` at ``u = 0`` (``k < size``) and
    the radius ``r`` that gave them: Cauchy integrals on ``|u| = r`` (CAUCHY_POINTS points, the closed-form dual at
    complex ``c``), ``r`` halved until the radii ``r`` and ``r/2`` agree on the terms ``chi_k (r/4)^k`` to
    ``10^-(digits + 2)`` (so the dual is analytic well beyond ``r/4``)."""
    # (q1, q2, c, S, theta): the smooth families' duals use S = sqrt(q1 q2 - c^2) only squared (erf's and GELU's
    # determinants, written without cancellation) and not theta, so they are analytic in complex c
    dgp = m.act._functions["mp"][1]
    M = CAUCHY_POINTS

    def coefficients(r):
        with mpmath.workprec(ctx.prec + 4 * size):
            w = mpmath.mpf(m.weight_var.numerator) / m.weight_var.denominator
            q = mpmath.mpf(qs)
            cs = [q * (1 - r * mpmath.expjpi(mpmath.mpf(2 * j) / M)) for j in range(M)]
            vals = [w * dgp(q, q, c, mpmath.sqrt(q * q - c * c), 0) for c in cs]
            out = []
            for k in range(size):
                s = mpmath.fsum(v * mpmath.expjpi(-mpmath.mpf(2 * j * k) / M) for j, v in enumerate(vals))
                out.append(ctx.mpf(mpmath.re(s) / M / r ** k))
            return out

    r = ctx.mpf(1) / 2
    for _ in range(16):
        a, b = coefficients(r), coefficients(r / 2)
        gap = max(abs(x - y) * (r / 4) ** k for k, (x, y) in enumerate(zip(a, b)))
        if gap <= ctx.mpf(10) ** -(digits + 2):
            return b, r
        r /= 2
    raise _fail("activation", f"the dual of {m.act.spec} is not analytic near c = q*: no skip-ahead series")


def _series(m, route: str, ctx, qs, n: int, digits: int):
    """``(U, P, Q, x_max)``: the map ``x' = x U(x)``, the NTK factor ``P``, the forcing ``Q(x) = q* c(f(x))``, and the
    largest ``x`` at which the series may be used."""
    from .asymptotics import _compose, _fixed_step_series
    from .eoc import abrelu_slopes, abrelu_step

    size = n + 12
    if route == "smooth":
        chi, r = _taylor_chi(m, ctx, qs, size, digits)
        U = [chi[k] / (k + 1) for k in range(size)]  # g(u) = int_0^u chi (Price), g = u U
        P = list(chi)
        U[0] = P[0] = ctx.one  # chi_1 = 1 at the edge of chaos; its rounding is part of the error (4 L |eps|)
        Q = [qs * (1 if k == 0 else 0) - qs * (U[k - 1] if k >= 1 else 0) for k in range(size)]  # q* (1 - x U(x))
        return U, P, Q, r / 4
    w = abrelu_step(*abrelu_slopes(m.act))
    fctx, f, *_ = _fixed_step_series(w, 0, size + 2, int(ctx.prec / LOG2_10) + 10)
    U = [ctx.mpf(x) for x in f[1:size + 1]]
    P = [ctx.one, -ctx.mpf(w.numerator) / w.denominator / ctx.pi] + [ctx.zero] * (size - 2)
    fac = [ctx.factorial(k) for k in range(size)]
    cos = [ctx.mpf((-1) ** (k // 2)) / fac[k] if k % 2 == 0 else ctx.zero for k in range(size)]
    Q = [qs * c for c in _compose(ctx, cos, [ctx.zero] + U[:size - 1], size)]
    return U, P, Q, ctx.mpf(1) / 4


def _x_target(cj, ctx, x_max, tol):
    """The largest ``x <= x_max`` where :meth:`rntk_sym.parabolic.Conjugacy.last_terms` is below ``tol``."""
    lo, hi = ctx.ldexp(1, -60), x_max
    if cj.last_terms(hi) <= tol:
        return hi
    for _ in range(60):
        mid = ctx.sqrt(lo * hi)
        if cj.last_terms(mid) <= tol:
            lo = mid
        else:
            hi = mid
    return lo


def _parabolic(run: _Exact, m, kernel: str, depth: int, digits: int, route: str, progress):
    from .phase import phase

    ctx = run.ctx
    W = _work_digits(digits, depth)
    if route == "smooth":
        p = phase(m.act, m.weight_var, m.bias_var, digits=W + 5)
        qs, lam = ctx.mpf(p.q_star.value), float(_length_slope(m, p.q_star.value))
    else:
        qs, lam = ctx.mpf(m.weight_var.numerator) / m.weight_var.denominator, 0.0  # q_l = sigma_w^2 exactly
    chi1 = _chi(m, ctx, qs)
    eps = abs(chi1 - 1)
    U, P, Q, x_max = _series(m, route, ctx, qs, SERIES_ORDER, W)
    cjs = [parabolic.solve(ctx, U, P, Q, n) for n in (SERIES_ORDER, SERIES_ORDER - ORDER_CHECK)]
    tol = ctx.mpf(10) ** -(digits + 6)
    x_goal = _x_target(cjs[0], ctx, x_max, tol)
    k = max(32, math.ceil(math.log(0.25) / math.log(lam))) if lam > 0 else 64
    smooth = route == "smooth"
    # layers expected (for progress only): q_l settles at lambda_q, x_l ~ 1/(a l) reaches x_goal
    need = max((digits + 8) * math.log(10) / -math.log(lam) if lam > 0 else 0, float(1 / (cjs[0].a * x_goal))) + 3 * k

    def x_of(mid):
        r = ctx.sqrt(mid[0] * mid[1])
        u, v = mid[2] / r, mid[3] / r
        return u if smooth else 2 * ctx.atan2(ctx.sqrt(u), ctx.sqrt(v))

    def corr(x):
        return 1 - x if smooth else ctx.cos(x)

    def one_minus(x):
        return x if smooth else 2 * ctx.sin(x / 2) ** 2

    def jump(cj, mid):
        """``(value, 1 - value or None)`` at depth ``depth`` from the state ``mid`` after ``run.layers`` layers."""
        steps = depth - run.layers
        xL, TL = parabolic.advance(cj, x_of(mid), mid[6], steps)
        if kernel == "gp":
            return corr(xL), one_minus(xL)
        om12 = TL - qs * corr(xL)
        om = [_diagonal(ctx, chi1, th, qs, steps) - qs for th in (mid[4], mid[5])]
        return om12 / ctx.sqrt(om[0] * om[1]), None

    vals = []
    while True:
        if run.layers + k >= min(depth, MAX_LAYERS):
            return None
        run.step(k)
        if progress is not None:
            progress(run.layers, need)
        hi, lo = run.snapshot()
        if x_of(hi) > x_goal:
            continue
        vals.append((jump(cjs[0], hi), hi, lo))
        if len(vals) < 2:
            continue
        (v1, _), (v0, _) = vals[-1][0], vals[-2][0]
        d = abs(v1 - v0)
        if len(vals) >= 3:
            d_prev = abs(v0 - vals[-3][0][0])
            rho_ = max(d / d_prev if d_prev else ctx.zero, ctx.mpf(lam) ** k)
        else:
            rho_ = ctx.mpf(lam) ** k
        if rho_ < ctx.mpf(0.9):
            tail_factor = 2 * max(1, rho_ / (1 - rho_))  # safety factor 2 over the geometric bound
            if d * tail_factor <= tol * abs(v1):
                break
    (value, om_value), hi, lo = vals[-1]
    (value0, om_value0) = vals[-2][0]
    low = jump(cjs[0], lo)  # the two precisions of the exact part, carried through the jump
    other = jump(cjs[1], hi)  # the second truncation order
    err = tail_factor * abs(value - value0) + abs(other[0] - value) + abs(low[0] - value)
    err += 4 * depth * eps * abs(value) + ctx.ldexp(abs(value), 16 - ctx.prec)
    what = "u = 1 - c" if smooth else "the angle theta"
    form = (f"skip-ahead: edge-of-chaos conjugacy in {what} (Fatou coordinate, order {SERIES_ORDER}) from "
            f"{run.layers} exact layers; estimate: change between the last two stretches (geometric tail, safety 2) + "
            f"order {SERIES_ORDER} vs {SERIES_ORDER - ORDER_CHECK} + two precisions + 4 L |chi_1 - 1|")
    if kernel == "gp":
        om_err = tail_factor * abs(om_value - om_value0) + abs(other[1] - om_value) + abs(low[1] - om_value)
        om_err += 4 * depth * eps * om_value + ctx.ldexp(om_value, 16 - ctx.prec)
        return value, err, form, om_value, om_err
    return value, err, form, None, None


FLOAT_DIGITS = 17  # digits of the skip-ahead behind a float64 answer (digits=None)
FLOAT_MAX_POINTS = 64  # float64 arrays of at most this many rho may use the skip-ahead
FLOAT_SKIP_SECONDS = 3.0  # rough cost of one 17-digit skip-ahead (measured 1-5 s for erf, sin, leaky relu; GELU at
# its edge of chaos ~15 s): float64 "auto" uses it where the recursion, depth * STEP_SECONDS, costs more


def kernel(m: general.Model, kernel_name: str, rho, depth: int, n1, n2, digits: int | None, method: str,
           progress=None):
    """:func:`rntk_sym.general.kernel`'s skip-ahead: a :class:`rntk_sym.KernelValue` (``method="skip-ahead"``,
    ``error`` = :func:`skip_ahead`'s estimate), a float64 value or array (``digits=None``, each value from 17 digits),
    or None where the recursion should answer (``method="auto"``: depth at most AUTO_FROM, a float64 recursion
    estimated cheaper than FLOAT_SKIP_SECONDS per value, a case not covered, or an error missing the digits).
    ``method="asymptotic"``: ValueError (one line, naming the argument) instead of None. ``progress(done)``: ``done``
    out of ``2 depth`` (the command line's budget), the exact layers run over the route's estimate of those it needs.
    """
    from . import inputs

    asked = method == "asymptotic"
    if not asked and depth <= AUTO_FROM:
        return None
    reason = why_not(m, kernel_name)
    if reason is not None:
        if asked:
            raise ValueError(reason)
        return None
    if digits is None:
        import numpy as np

        r = inputs.rho_array(rho)
        if not asked and depth * general.STEP_SECONDS < r.size * FLOAT_SKIP_SECONDS:
            return None  # the vectorized float64 recursion is cheaper than one skip-ahead per value
        if r.size > FLOAT_MAX_POINTS:
            if asked:
                raise ValueError(f"rho: the float64 skip-ahead takes at most {FLOAT_MAX_POINTS} values per call; "
                                 "split rho or use digits=")
            return None
        out = np.empty(r.shape)
        for i, x in enumerate(r.flat):
            kv = _value(m, kernel_name, inputs.rho_exact(float(x)), depth, n1, n2, FLOAT_DIGITS, asked, 15,
                        _scaled(progress, depth, i, r.size))
            if kv is None:
                return None
            out.flat[i] = float(kv.value)
        return float(out) if r.ndim == 0 else out
    return _value(m, kernel_name, inputs.rho_exact(rho, digits + 20), depth, n1, n2, digits, asked, digits,
                  _scaled(progress, depth, 0, 1))


def _scaled(progress, depth: int, i: int, n: int):
    """``progress(layers, estimate)`` of the ``i``-th of ``n`` values as ``progress(done)`` out of ``2 depth``."""
    if progress is None:
        return None
    budget = 2 * depth

    def report(layers, estimate):
        frac = min(layers / max(estimate, 1), 0.99)
        progress(min(budget - 1, int(budget * (i + frac) / n)))
    return report


def _value(m, kernel_name, rho: Fraction, depth, n1, n2, digits, asked: bool, needed: int, progress=None):
    from . import inputs
    from .kernels import KernelValue, correct_digits

    res = skip_ahead(m, kernel_name, rho, depth, n1, n2, digits, progress)
    if res is None:
        if asked:
            raise ValueError(f"method: the skip-ahead would run about as many exact layers as L = "
                             f"{inputs.depth_text(depth)}; use method='recursion'")
        return None
    value, err, form, one_minus, one_minus_err = res
    kv = KernelValue(value, err, digits, "skip-ahead", form, None, None, one_minus, one_minus_err)
    if correct_digits(value, err, needed) < needed:
        if asked:
            raise ValueError(f"digits: at most {kv.correct_digits} correct digits can be delivered at depth L = "
                             f"{inputs.depth_text(depth)} by the skip-ahead; got {digits}")
        return None
    return kv


__all__ = ["skip_ahead", "why_not", "kernel", "AUTO_FROM"]
