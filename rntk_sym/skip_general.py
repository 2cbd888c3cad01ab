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
  The recursion runs (arb balls) in stretches of ``k`` layers until the measured change ``d_j`` of the converging
  quantities gives a geometric tail ``d_j rho/(1 - rho)`` below the target, ``rho`` = the larger of the last two
  measured ratios ``d_j/d_{j-1}`` and the rate from the phase analysis to the power ``k`` (form assumed: the
  changes keep shrinking at least by ``rho`` per stretch).
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
  difference between two truncation orders, the balls' radii carried through the jump, and ``4 L |chi_1 - 1| |v|``
  (the weight variance is the edge of chaos to ``digits + 20`` digits, so ``chi_1 = 1`` only to that accuracy).

Not covered (one-line ValueError naming the argument): user (quadrature) activations, the ResNet, ``q* = 0``,
kinked activations other than ab_relu at the edge of chaos, the chaotic phase with ``c* = 0`` (odd activation
without bias: the kernels vanish geometrically).
"""
from __future__ import annotations

import dataclasses
import math
from fractions import Fraction

import mpmath

from . import general, parabolic
from .kernels import LOG2_10

AUTO_FROM = 20000  # method="auto" tries the skip-ahead beyond this depth (the recursion costs seconds there)
MAX_LAYERS = 400000  # the exact part stops here (a phase too close to the edge of chaos for a geometric tail)
SERIES_ORDER = 40  # Taylor order of the parabolic series (truncation ~ x^40 at x <~ 0.1)
ORDER_CHECK = 8  # the second truncation order is SERIES_ORDER - ORDER_CHECK
CAUCHY_POINTS = 256
GUARD = 12  # working digits beyond the target
RECENTER = 16  # layers between re-centred balls (_Exact)


def _refuse(name: str, text: str):
    return ValueError(f"{name}: {text}")


def why_not(m: general.Model, kernel: str) -> str | None:
    """None when the skip-ahead covers the model ``m`` (a :class:`rntk_sym.general.Model`) and ``kernel``, else the
    one-line reason (``"argument: text"``)."""
    return _plan(m, kernel)[1]


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
        if getattr(act, "name", None) not in SMOOTH or any(act._angular):
            return None, f"activation: the skip-ahead at the edge of chaos covers smooth activations " \
                         f"({', '.join(sorted(SMOOTH))}) and the ab_relu family, not {act.spec}", p
        return "smooth", None, p
    if p.phase == "chaotic" and abs(p.c_star.value) <= p.c_star.error + mpmath.mpf(10) ** -12:
        return None, f"bias_var: the chaotic phase of {act.spec} has c* = 0 (odd activation without bias): the " \
                     "kernels vanish geometrically; not covered by the skip-ahead", p
    return "geometric", None, p


class _Exact:
    """The recursion :func:`rntk_sym.general.run` in arb balls at ``prec`` bits, continued in stretches.

    Every RECENTER layers each ball is replaced by its midpoint (radius 0) and its radius is added to ``spent``:
    balls carried through many layers of these closed forms widen exponentially by the dependency effect (measured:
    x1.6 per layer for erf's length map, ab_relu's gap diverges within 64 layers), while the rounding they enclose
    stays at the working precision. ``spent`` (the sum of the stretches' radii) is the rounding estimate; its form
    assumes each stretch's rounding is carried to the end with a factor <= 1 (the recursion contracts, or is neutral
    along the orbit at the edge of chaos)."""

    def __init__(self, m, n1, n2, rho: Fraction, prec: int, ctx):
        import flint

        self.flint, self.m, self.prec, self.ctx = flint, m, prec, ctx
        with flint.ctx.workprec(prec):
            self.args = [general._num("ball", x) for x in (n1, n2, 1 - rho)]
            self.v = general._num("ball", 1 + rho)
        self.state, self.layers, self.spent = None, 0, [ctx.zero] * 10

    def step(self, k: int):
        arb = self.flint.arb
        while k > 0:
            j = min(k, RECENTER)
            with self.flint.ctx.workprec(self.prec):
                state = general.run("ball", self.m, *self.args, j, "ntk", normalize="state", v=self.v,
                                    start=self.state)
                diag, gap, cogap, theta, omega = state
                balls = [*diag, gap, cogap, *theta, *omega]
                if not all(x.is_finite() for x in balls):
                    raise _refuse("depth", f"the balls of the recursion lost all accuracy by L = {self.layers + j}")
                self.spent = [s + self.rad(b) for s, b in zip(self.spent, balls)]
                mids = [arb(b.mid()) for b in balls]
                self.state = (mids[:2], mids[2], mids[3], mids[4:7], mids[7:])
            self.layers += j
            k -= j

    def mid(self, ball):
        man, exp = ball.mid().man_exp()
        return self.ctx.mpf((int(man), int(exp)))

    def rad(self, ball):
        man, exp = self.flint.arb(ball.rad()).mid().man_exp()
        return self.ctx.mpf((int(man), int(exp)))

    def snapshot(self):
        """Midpoints and rounding estimates (``spent``): ``q`` (2), ``gap``, ``cogap``, ``theta`` (3), ``omega`` (3)."""
        diag, gap, cogap, theta, omega = self.state
        return [self.mid(b) for b in (*diag, gap, cogap, *theta, *omega)], list(self.spent)


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
    hist = []
    while True:
        run.step(k)
        if progress is not None:
            progress(run.layers)
        mid, rad = run.snapshot()
        q1, q2, gap, cogap, th1, th2, th12, om1, om2, om12 = mid
        r = ctx.sqrt(q1 * q2)
        y = (cogap - gap) / (2 * r) if kernel == "gp" else om12
        hist.append((y, q1, q2, _chi(m, ctx, q1), mid, rad))
        if len(hist) >= 3:
            done = _geometric_tail(ctx, hist, rate ** k, lam ** k, tol)
            if done is not None:
                break
        if run.layers >= min(depth, MAX_LAYERS):
            return None
    tail_y, tail_chi = done
    y, q1, q2, chi1_mp, mid, rad = hist[-1]
    n = run.layers
    form = (f"skip-ahead: {p.phase} phase, geometric tail after {n} exact layers (stretches of {k}; assumed: the "
            "changes shrink geometrically at the larger of the measured ratio and the phase's rate)")
    if kernel == "gp":
        err = tail_y + rad[2] / r + rad[3] / r
        return y, err, form, None, None
    # diagonals: Theta_{L+1} from Theta_{n+1} by L - n layers of Theta' = q* + chi_1 Theta, Omega_{L+1} = Theta - q*
    vals = []
    for c in (chi1_mp, chi1_mp + tail_chi, chi1_mp - tail_chi):
        om = [_diagonal(ctx, c, th, q, depth - n) - q for th, q in ((mid[4], q1), (mid[5], q2))]
        vals.append(y / ctx.sqrt(om[0] * om[1]))
    value = vals[0]
    err = abs(value) * (tail_y + rad[9]) / abs(y) + max(abs(vals[1] - value), abs(vals[2] - value)) + \
        abs(value) * 2 * max(rad[4] / mid[4], rad[5] / mid[5])
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
    """Taylor coefficients ``chi_k`` of ``chi(u) = sigma_w^2 Ed(q*, q*, q* (1 - u))`` at ``u = 0`` (``k < size``) and the
    radius ``r`` that gave them: Cauchy integrals on ``|u| = r`` (CAUCHY_POINTS points, the closed-form dual at
    complex ``c``), ``r`` halved until the radii ``r`` and ``r/2`` agree on the terms ``chi_k (r/4)^k`` to
    ``10^-(digits + 2)`` (so the dual is analytic well beyond ``r/4``)."""
    dgp = m.act._functions["mp"][1]  # (q1, q2, c, S, theta); smooth duals use neither S nor theta
    M = CAUCHY_POINTS

    def coefficients(r):
        with mpmath.workprec(ctx.prec + 4 * size):
            w = mpmath.mpf(m.weight_var.numerator) / m.weight_var.denominator
            q = mpmath.mpf(qs)
            vals = [w * dgp(q, q, q * (1 - r * mpmath.expjpi(mpmath.mpf(2 * j) / M)), 0, 0) for j in range(M)]
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
    raise _refuse("activation", f"the dual of {m.act.spec} is not analytic near c = q*: no skip-ahead series")


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

    def x_of(mid):
        r = ctx.sqrt(mid[0] * mid[1])
        u, v = mid[2] / r, mid[3] / r
        return u if smooth else 2 * ctx.atan2(ctx.sqrt(u), ctx.sqrt(v))

    def corr(x):
        return 1 - x if smooth else ctx.cos(x)

    def one_minus(x):
        return x if smooth else 2 * ctx.sin(x / 2) ** 2

    def jump(cj, mid, x=None, T=None):
        """The value at depth ``depth`` from the state ``mid`` after ``run.layers`` layers."""
        x = x_of(mid) if x is None else x
        T = mid[6] if T is None else T
        steps = depth - run.layers
        xL, TL = parabolic.advance(cj, x, T, steps)
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
            progress(run.layers)
        mid, rad = run.snapshot()
        if x_of(mid) > x_goal:
            continue
        vals.append((jump(cjs[0], mid), mid, rad))
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
            tail = 2 * d * max(1, rho_ / (1 - rho_))  # safety factor 2 over the geometric bound
            if tail <= tol * abs(v1):
                break
    (value, om_value), mid, rad = vals[-1]
    order = abs(jump(cjs[1], mid)[0] - value)
    # the balls' radii carried through the jump (first order: the value at the state moved by its radius)
    x, T = x_of(mid), mid[6]
    dx = max(rad[2], rad[3]) / ctx.sqrt(mid[0] * mid[1]) * (1 if smooth else 2 / ctx.sin(x) + 1)
    spread = max(abs(jump(cjs[0], mid, x + dx, T)[0] - value), abs(jump(cjs[0], mid, x, T + rad[6])[0] - value))
    if kernel == "ntk":
        spread += abs(value) * 2 * max(rad[4] / mid[4], rad[5] / mid[5])
    err = tail + order + spread + 4 * depth * eps * abs(value) + ctx.ldexp(abs(value), 16 - ctx.prec)
    what = "u = 1 - c" if smooth else "the angle theta"
    form = (f"skip-ahead: edge-of-chaos conjugacy in {what} (Fatou coordinate, order {SERIES_ORDER}) from "
            f"{run.layers} exact layers; estimate: change between the last two stretches + order "
            f"{SERIES_ORDER} vs {SERIES_ORDER - ORDER_CHECK} + radii + 4 L |chi_1 - 1|")
    if kernel == "gp":
        om_err = (tail + order + spread) + 4 * depth * eps * om_value
        return value, err, form, om_value, om_err
    return value, err, form, None, None


__all__ = ["skip_ahead", "why_not", "AUTO_FROM"]
