"""Skip-ahead for the ResNet with any activation and variances (docs/asymptotics.md sec. 10.6).

The ResNet recursion of :func:`rntk_sym.general.run` (``S_l = sigma_w^2 K_{l-1} + sigma_b^2``,
``K_l = K_{l-1} + alpha^2 E(S_l)``, ``T_l = (1 + alpha^2 sigma_w^2 Ed(S_l)) T_{l-1} + alpha^2 (E + Ed S)(S_l)``;
``sigma_w^2`` = ``m.weight_var``, ``sigma_b^2`` = ``m.bias_var``, ``alpha^2`` = ``L^-2 gamma`` or the constant
``alpha`` squared) is one explicit Euler step of size ``alpha^2`` for an autonomous system (sec. 10.0). As for the
seeds' relu (sec. 6.3, :func:`rntk_sym.asymptotics.segmented_orbit`), the depth is cut into segments; a segment of
``n`` true steps is run from its start with ``N = 32, 64, 96, ...`` coarse steps of size ``n alpha^2 / N``
(:func:`rntk_sym.general.run` itself, in arb balls, with ``a2``/``start``/``raw``) and extrapolated polynomially in
``1/N`` to ``1/N = 1/n`` (:func:`rntk_sym.asymptotics._extrapolate`). Two differences from the relu's orbit:

- the state is not normalized: the variances grow (like ``exp(sigma_w^2 t / 2)`` for relu-like activations,
  ``T11`` like ``exp(k sqrt t)`` for erf). The extrapolated coordinates are the logarithms of the diagonals
  (``K11, K22, T11, T22``, relative to the segment's start) and the ratios ``gap/sqrt(K11 K22)``,
  ``cogap/sqrt(K11 K22)``, ``T12/sqrt(T11 T22)``: the Euler expansion of ``log prod (1 + h r)`` in ``h`` has the
  radius ``1/r``, so a segment lasts at most ``SEGMENT_GROWTH / r`` in time (``r`` the diagonal's log-rate over
  the previous segment), and at most the time elapsed (the scale of the start, as for the relu);
- relu-like activations (relu with any variances, GELU: :func:`rntk_sym.resnet_general.asymptote`): once the
  duals at the current variances equal those of the bias-free relu to ``10^-(D + SWITCH_MARGIN)`` (GELU's differ
  by ``O(S^-1/2)``, the bias by ``O(sigma_b^2/S)``: exponentially small in t), the rest is the relu recursion with
  ``sigma_w^2``, which is exactly the seeds' with ``w = a/(1 + a)``, ``a = alpha^2 sigma_w^2 / 2`` (sec. 10.3):
  ``u = gap/g``, ``v = cogap/g``, ``S = T12/(2 g)`` (``g = sqrt(K11 K22)``), continued by
  :func:`rntk_sym.asymptotics.segmented_orbit` (``start=``) to ``L``, with the diagonals ``T11/K11`` growing by
  exactly ``2 w`` per step.

Error (assumed form, validated against the exact recursion in tests/test_skip_resnet.py and docs/asymptotics.md
sec. 10.6): each segment's extrapolation error (twice the last two Neville estimates: absolute for the log
coordinates, relative for the ratios) is a relative error of the state; it is multiplied by ``1 + G``, ``G`` the log
growth of ``T11`` so far (a relative error ``e`` of ``K`` at time ``t0`` shifts the later growth rate of ``T`` and
so ``log T`` by at most ``e G(t0)``: for erf ``e k sqrt(t0) / 2``), and summed; plus the switch's
``10 delta`` (delta the duals' deviation from relu there, decaying at least like ``S^-1/2``) and the relu orbit's own
error. Reach: at most MAX_SEGMENTS segments (a depth whose projected count is larger is refused, naming ``depth``):
every (activation, gamma) with ``tau = L alpha^2`` up to ~1 (gamma >= 1/2), relu and GELU at any depth, erf up to
``tau ~ 10^6`` (gamma = 0.3 at L = 10^12: tau = 6.3e4, 51 segments); erf with a constant alpha at L = 10^12 is refused.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import mpmath

from . import general, general_step, inputs
from .asymptotics import SEGMENT_EXACT, _extrapolate, segmented_orbit
from .kernels import LOG2_10

SEGMENT_GROWTH = 16  # a segment spans at most this log growth of the diagonal (its Euler expansion has radius 1/r)
MAX_SEGMENTS = 200  # refuse (naming depth) an orbit projected to need more
SWITCH_MARGIN = 3  # relu-like: enter the relu orbit once the duals equal relu's to 10^-(D + this)
GUARD_DIGITS = 25  # working digits beyond D (the Neville weights and the log coordinates lose a few)


@dataclass(frozen=True)
class Skip:
    """The normalized NTK and GP kernel at depth L (mpf) with their error bounds and the form assumed."""

    ntk: mpmath.mpf
    gp: mpmath.mpf
    ntk_error: mpmath.mpf
    gp_error: mpmath.mpf
    one_minus_gp: mpmath.mpf
    one_minus_error: mpmath.mpf
    form: str


class _Balls:
    """Runs of :func:`rntk_sym.general.run` in arb balls on mpf states of ``ctx``, at ``ctx.prec`` bits plus
    the bits of the largest variance (closed forms such as GELU's cancel ``(1 + q)^2 - q^2`` at large q)."""

    def __init__(self, m, ctx, n1: Fraction, n2: Fraction):
        self.m, self.ctx, self.n = m, ctx, (n1, n2)
        self.backends = {}
        # the variance scale from which the balls widened: mpmath from there on (at once for quadrature duals)
        self.mp_from = 0 if m.act.quadrature else None

    def _backend(self, scale):
        from .backends.ball import BallBackend

        extra = 64 * math.ceil(max(0, int(mpmath.log(scale, 2))) / 64) if scale > 1 else 0
        if extra not in self.backends:
            self.backends[extra] = BallBackend(self.ctx.prec + extra)
        be = self.backends[extra]
        return be, be.active()

    def first(self, rho: Fraction, n: int, a2):
        """The state after ``n`` steps from the inputs: ``K = (n1, n2)``, ``gap, cogap = sqrt(n1 n2) (1 -+ rho)``,
        ``T = 0`` (as :func:`rntk_sym.general.run` starts)."""
        n1, n2 = (self.ctx.mpf(x.numerator) / x.denominator for x in self.n)
        r0, r = self.ctx.sqrt(n1 * n2), self.ctx.mpf(rho.numerator) / rho.denominator
        zero = self.ctx.zero
        return self.steps((n1, n2, r0 * (1 - r), r0 * (1 + r), zero, zero, zero), n, a2,
                          max(n1, n2) * (1 + self.ctx.mpf(self.m.weight_var.numerator) / self.m.weight_var.denominator))

    def steps(self, state, n: int, h, scale):
        """The state after ``n`` steps of size ``h`` from ``state``; ``scale`` bounds the variances on the way.
        In balls when their radii stay below ``10^-(digits + 10)`` relative (arb computes the midpoints of wide
        balls to the radius only; the balls of a closed form such as GELU's widen by a factor per step that grows
        with the variance), else again in mpmath at the same precision (rounding that is not compounded)."""
        be, active = self._backend(scale)
        if self.mp_from is None or scale < self.mp_from:
            with active:
                n1, n2 = (general._num("ball", x) for x in self.n)
                out = general.run("ball", self.m, n1, n2, be.arb(0), n, "ntk", v=be.arb(2), a2=be.from_mpf(h),
                                  start=tuple(be.from_mpf(x) for x in state), raw=True)
                tol = be.arb(2) ** (GUARD_DIGITS * 3 - be.prec)
                if all(x.is_finite() and (x.mid() == 0 or x.rad() < tol * abs(x.mid())) for x in out):
                    return tuple(be.to_mpf(self.ctx, x) for x in out)
            self.mp_from = scale
        with mpmath.workprec(be.prec):
            out = general.run("mp", self.m, *(general._num("mp", x) for x in self.n), mpmath.mpf(0), n, "ntk",
                              v=mpmath.mpf(2), a2=mpmath.mpf(h), start=tuple(mpmath.mpf(x) for x in state), raw=True)
        if not all(mpmath.isfinite(x) for x in out):
            raise ValueError(f"activation: the skip-ahead's runs of {self.m.act.spec} overflowed")
        return tuple(self.ctx.mpf(x) for x in out)


def _coords(ctx, state, ref):
    """Extrapolated coordinates of ``state = (K11, K22, gap, cogap, T11, T22, T12)``: logs of the diagonals
    relative to ``ref``'s, ``gap/g``, ``cogap/g`` (g = sqrt(K11 K22)) and ``T12/sqrt(T11 T22)``."""
    k1, k2, gap, cogap, t1, t2, t12 = state
    g = ctx.sqrt(k1 * k2)
    return (ctx.log(k1 / ref[0]), ctx.log(k2 / ref[1]), gap / g, cogap / g, ctx.log(t1 / ref[4]),
            ctx.log(t2 / ref[5]), t12 / ctx.sqrt(t1 * t2))


def _state(ctx, y, ref):
    """Inverse of :func:`_coords`."""
    k1, k2, t1, t2 = ref[0] * ctx.exp(y[0]), ref[1] * ctx.exp(y[1]), ref[4] * ctx.exp(y[4]), ref[5] * ctx.exp(y[5])
    g = ctx.sqrt(k1 * k2)
    return (k1, k2, y[2] * g, y[3] * g, t1, t2, y[6] * ctx.sqrt(t1 * t2))


LOG_COORDS = (0, 1, 4, 5)  # their extrapolation errors are relative errors of the state as they are


def _relu_deviation(m, state, prec: int):
    """``delta``: the largest relative difference between the duals ``(E, Ed)`` of ``m`` at
    ``S = sigma_w^2 K + sigma_b^2`` and those of relu at ``sigma_w^2 K`` (pair entries relative to the diagonals'
    geometric mean), in arb balls (upper bound; the closed forms' cancellation at large S widens the balls)."""
    import flint

    from .activations import get_activation
    from .backends.ball import BallBackend

    relu = get_activation("relu")
    k1, k2, gap, cogap = state[:4]
    be = BallBackend(prec + 2 * max(0, int(mpmath.log(max(k1, k2), 2))) + 64)
    with be.active():
        K = [be.from_mpf(x) for x in (k1, k2)]
        g, cg = be.from_mpf(gap), be.from_mpf(cogap)
        sw2, sb2 = general._num("ball", m.weight_var), general._num("ball", m.bias_var)

        ctx = general._context("ball", m, K[0], K[1])
        S = [sw2 * k + sb2 for k in K]
        gs, cgs = general_step.affine_gap(ctx, sw2, sb2, K, g), general_step.affine_cogap(ctx, sw2, sb2, K, cg)
        S0 = [sw2 * k for k in K]
        act = [m.act.expectations(s, s, 0 * s, "ball") for s in S] + \
            [m.act.expectations(S[0], S[1], gs, "ball", cogap=cgs)]
        ref = [relu.expectations(s, s, 0 * s, "ball") for s in S0] + \
            [relu.expectations(S0[0], S0[1], sw2 * g, "ball", cogap=sw2 * cg)]
        worst = flint.arb(0)
        for j in (0, 1):  # E, Ed
            scale = [abs(ref[0][j]), abs(ref[1][j]), (ref[0][j] * ref[1][j]).sqrt()]
            for a, r, s in zip(act, ref, scale):
                worst = max(worst, abs(a[j] - r[j]) / s, key=lambda x: x.upper())
        return be.to_mpf(mpmath.mp, worst.upper()) if worst.is_finite() else mpmath.inf


def skip(m: general.Model, rho: Fraction, depth: int, digits: int, n1: Fraction = Fraction(1),
         n2: Fraction = Fraction(1), progress=None, exact: int = SEGMENT_EXACT) -> Skip:
    """Normalized NTK and GP kernel of the ResNet ``m`` at depth ``depth`` (L) for inputs of cosine ``rho``
    and squared norms ``n1, n2``, to ``digits`` (D) significant digits, by the segmented orbit (module
    docstring). ValueError naming ``depth`` when the orbit would need more than MAX_SEGMENTS segments.
    ``exact``: the steps run exactly at the start (and the longest segment run exactly; tests lower it).
    ``progress(n)`` after each segment (n the layers reached)."""
    ctx = mpmath.MPContext()
    ctx.prec = math.ceil((digits + GUARD_DIGITS) * LOG2_10) + 8
    with mpmath.workprec(ctx.prec):
        a2 = ctx.mpf(general._alpha2("mp", m.scale, depth))
    tau = depth * a2
    runs = _Balls(m, ctx, n1, n2)
    relu_like = _relu_like(m)
    n = min(depth, exact)
    state = runs.first(rho, n, a2)
    first = state
    rel_k, rel_t, segments, growth, prev, before = ctx.zero, ctx.zero, 1, ctx.zero, None, None
    rtol = ctx.mpf(10) ** (-digits - 4)
    while n < depth:
        if relu_like:
            delta = _relu_deviation(m, state, ctx.prec)
            if delta < ctx.mpf(10) ** -(digits + SWITCH_MARGIN):
                return _relu_tail(m, ctx, state, n, depth, a2, digits, (rel_k + 10 * delta, rel_t + 10 * delta),
                                  segments, progress)
        t = n * a2
        rate = _rate(ctx, prev, state, t)
        if not relu_like:  # relu-like activations enter the relu orbit after a bounded log growth
            _check_budget(ctx, segments, t, tau, rate, before, depth)
        before = (t, rate)
        span = min(t, SEGMENT_GROWTH / rate) if rate > 0 else t
        steps = max(1, min(depth - n, int(span / a2)))
        start = state
        # the variances grow by at most exp(SEGMENT_GROWTH) per segment (rate measured on the previous one)
        scale = max(state[0], state[1]) * ctx.exp(min(rate * steps * a2, 4 * SEGMENT_GROWTH) if rate else 1)
        if steps <= exact:
            state = runs.steps(state, steps, a2, scale)
        else:
            dt = steps * a2

            def sample(N, start=start, dt=dt, scale=scale):
                return _coords(ctx, runs.steps(start, N, dt / N, scale), start)

            y, errs, _ = _extrapolate(ctx, sample, ctx.mpf(1) / steps, rtol / (1 + growth))
            state = _state(ctx, y, start)
            seg = [e if j in LOG_COORDS else e / max(abs(x), ctx.ldexp(1, -ctx.prec))
                   for j, (e, x) in enumerate(zip(errs, y))]
            rel_k += max(seg[:4])  # the K system is closed: its coordinates carry the GP kernel's error
            rel_t += (1 + growth) * max(seg)
        growth = ctx.log(state[4] / first[4]) if first[4] else ctx.zero
        prev = (t, start)
        n += steps
        segments += 1
        if progress is not None:
            progress(n)
    rounding = segments * ctx.ldexp(1, -ctx.prec + 16)  # of the ball runs' midpoints
    rel_k, rel_t = rel_k + rounding, rel_t + rounding
    k1, k2, gap, cogap, t1, t2, t12 = state
    g = ctx.sqrt(k1 * k2)
    ntk, gp = t12 / ctx.sqrt(t1 * t2), (cogap - gap) / (2 * g)
    form = (f"skip-ahead: segmented orbit of the general recursion (tau = L alpha^2 = {mpmath.nstr(tau, 6)}; "
            f"{segments} segments, each extrapolated in 1/N from coarse runs; docs/asymptotics.md sec. 10.6)")
    return Skip(ntk, gp, rel_t * abs(ntk), rel_k * (gap + cogap) / (2 * g), gap / g, rel_k * gap / g, form)


def _relu_like(m: general.Model) -> bool:
    from .resnet_general import asymptote

    return asymptote(m) == "relu"


def _rate(ctx, prev, state, t):
    """The diagonal's log-growth rate (K11, K22, T11, T22) over the previous segment."""
    if prev is None:
        return ctx.zero
    t0, old = prev
    if t <= t0:
        return ctx.zero
    return max(abs(ctx.log(state[j] / old[j])) for j in LOG_COORDS if old[j] and state[j]) / (t - t0)


def _check_budget(ctx, segments: int, t, tau, rate, before, depth: int):
    """ValueError naming ``depth`` when the segments used plus those projected for ``[t, tau]`` exceed
    MAX_SEGMENTS. The projection takes the log-rate as ``rate (t'/t)^-p``, ``p`` in ``[0, 0.9]`` measured from
    ``before = (t', rate')`` of an earlier segment (erf: ``p -> 1/2``; relu-like before their switch: ``p = 0``)."""
    if t < 1 or rate <= 0 or before is None or before[0] <= 0 or before[1] <= 0 or t <= before[0]:
        return
    p = min(max(-ctx.log(rate / before[1]) / ctx.log(t / before[0]), ctx.zero), ctx.mpf(0.9))
    left = rate * t * ((tau / t) ** (1 - p) - 1) / (1 - p) / SEGMENT_GROWTH
    if segments + left > MAX_SEGMENTS:
        raise ValueError(f"depth: the skip-ahead of this ResNet at L = {inputs.depth_text(depth)} would need about "
                         f"{int(segments + left)} segments (tau = L alpha^2 = {mpmath.nstr(tau, 4)}; at most "
                         f"{MAX_SEGMENTS}): use a smaller depth or a larger gamma, or the depth limit (rntk limit)")


def _relu_tail(m, ctx, state, n0: int, depth: int, a2, digits: int, rel, segments: int, progress):
    """The relu orbit from ``state`` after ``n0`` steps to ``depth`` (module docstring)."""
    k1, k2, gap, cogap, t1, t2, t12 = state
    g = ctx.sqrt(k1 * k2)
    a = a2 * ctx.mpf(m.weight_var.numerator) / m.weight_var.denominator / 2
    w = a / (1 + a)
    x11, x22 = t1 / k1 + 2 * w * (depth - n0), t2 / k2 + 2 * w * (depth - n0)
    c2, (u, v, S), rel2, m2 = segmented_orbit(None, 1, w, L=depth, digits=digits + 2,
                                              start=(gap / g, cogap / g, t12 / (2 * g), n0))
    rel_k, rel_t = (r + ctx.mpf(rel2) for r in rel)
    u, v, S = (ctx.mpf(x) for x in (u, v, S))
    ntk, gp = 2 * S / ctx.sqrt(x11 * x22), (v - u) / 2
    tau = depth * a2
    form = (f"skip-ahead: segmented orbit of the general recursion to t = {mpmath.nstr(n0 * a2, 4)} ({segments} "
            f"segments), then the relu orbit with alpha_eff^2 = alpha^2 sigma_w^2 / 2 ({m2} segments) to "
            f"tau = L alpha^2 = {mpmath.nstr(tau, 6)}; docs/asymptotics.md sec. 10.6")
    if progress is not None:
        progress(depth)
    return Skip(ntk, gp, rel_t * abs(ntk), rel_k * (u + v) / 2, u, rel_k * u, form)


SKIP_SECONDS = 10.0  # typical cost of one skip-ahead value (measured 1-4 s for tau <= 1, up to ~40 s for erf at
# tau ~ 6e4 with the machine shared: docs/asymptotics.md sec. 10.6)
FLOAT_SKIP_MAX_POINTS = 16  # float64 requests of at most this many rho may use the skip-ahead (one orbit each)


def prefers(method: str, depth: int, recursion_seconds: float, n_rho: int = 1) -> bool:
    """Whether :func:`rntk_sym.general.kernel` takes the skip-ahead: ``method="asymptotic"``, or ``"auto"`` beyond
    SEGMENT_EXACT layers when the recursion is estimated slower (``recursion_seconds``) for at most
    FLOAT_SKIP_MAX_POINTS values of rho."""
    if method == "asymptotic":
        return True
    return method == "auto" and depth > SEGMENT_EXACT and n_rho <= FLOAT_SKIP_MAX_POINTS and \
        recursion_seconds > n_rho * SKIP_SECONDS


def _scaled(progress, depth: int):
    """:func:`skip`'s ``progress(n)`` -> the callers' ``progress(done)`` out of ``2 depth``, by ``log n`` (the
    segments double in depth, so each costs about the same)."""
    if progress is None:
        return None
    span = math.log(max(depth / SEGMENT_EXACT, 2))
    return lambda n: progress(int(2 * depth * min(max(math.log(max(n, 1) / SEGMENT_EXACT), 0) / span, 1)))


def kernel_value(m: general.Model, kernel: str, rho: Fraction, depth: int, n1, n2, digits: int, *,
                 refuse: bool = True, progress=None):
    """The skip-ahead as a :class:`rntk_sym.KernelValue` (``method="asymptotic (skip-ahead)"``, error = the bound of
    :func:`skip`). When it misses ``digits`` or is refused (too many segments): a ValueError (``refuse``), else None
    (the caller runs the recursion)."""
    from .kernels import KernelValue, correct_digits

    try:
        res = skip(m, rho, depth, digits, n1, n2, _scaled(progress, depth))
    except ValueError:
        if refuse:
            raise
        return None
    ntk = kernel == "ntk"
    value, err = (res.ntk, res.ntk_error) if ntk else (res.gp, res.gp_error)
    ctx = mpmath.MPContext()
    ctx.prec = value.context.prec
    with mpmath.workprec(ctx.prec):
        a = None if m.scale is None else ctx.mpf(mpmath.sqrt(general._alpha2("mp", m.scale, depth)))
    kv = KernelValue(ctx.mpf(value), ctx.mpf(err), digits, "asymptotic (skip-ahead)", res.form, a, None,
                     None if ntk else ctx.mpf(res.one_minus_gp), None if ntk else ctx.mpf(res.one_minus_error))
    reached = correct_digits(kv.value, kv.error, digits)
    if reached >= digits:
        return kv
    if refuse:
        raise ValueError(f"digits: the skip-ahead reached {reached} correct digits at L = {inputs.depth_text(depth)} "
                         f"({m.act.spec}); got {digits}")
    return None


def float64(m: general.Model, kernel: str, r, depth: int, n1, n2, progress=None, refuse: bool = True):
    """The skip-ahead at 17 digits rounded to float64, for each value of the array ``r`` (float or array out);
    where it is refused (too many segments): the ValueError (``refuse``), else None (the caller runs the recursion)."""
    import numpy as np

    out = np.empty(np.shape(r))
    for i, x in enumerate(np.ravel(r)):
        try:
            res = skip(m, inputs.rho_exact(float(x)), depth, 17, n1, n2)
        except ValueError:
            if refuse:
                raise
            return None
        out.flat[i] = float(res.ntk if kernel == "ntk" else res.gp)
        if progress is not None:
            progress(2 * depth * (i + 1) // out.size)
    return float(out) if out.ndim == 0 else out
