"""Sharp depth asymptotics of the normalized NTK ``Omegabar_L`` (derivations: docs/asymptotics.md).

Every architecture is one recursion on ``(theta_l, T_l)``, ``T_0 = 0`` (docs/asymptotics.md section 1)::

    cos theta_l = cos theta_{l-1} + w D(theta_{l-1}),   D(theta) = s3(theta)/pi = (sin th - th cos th)/pi
    T_l = P(theta_{l-1}) T_{l-1} + Q(theta_{l-1}),      P = 1 - w theta/pi,
    Q = (c shat + rho shatp)/(1 + c),                   Omegabar_L = T_L / L.

Argument names <-> symbols: ``rho`` = rho = cos theta_0 (input correlation), ``L`` = depth,
``w`` = alpha^2/(1+alpha^2) (1 for the FFNet), ``c`` = 0 (FFNet) or 1 (ResNet), ``gamma`` with
alpha = L^-gamma, ``alpha`` a constant alpha, ``beta`` with alpha = beta/sqrt(L) (gamma = 1/2),
``tau`` = L w the total time of the continuum ODE ``d rho/dt = shat(rho) - rho``.

Regimes (section numbers of docs/asymptotics.md):

- ``"fixed-step"`` (sec. 3-4): FFNet, or ResNet with constant alpha. Limit 1/4; parabolic fixed point
  theta = 0, Fatou coordinate + formal solution of the T-recursion give
  ``Omegabar_L = 1/4 + (3/8) log L / L + B1/L + (9/16) log L / L^2 + B2/L^2 + O(log^2 L / L^3)``.
- ``"small-tau"`` (sec. 5): ResNet, gamma in (1/2, 1]: ``Omegabar_L = sum_{k>=0, 0<=j<=k} a_kj tau^j w^(k-j)``
  with closed forms ``a_kj(rho)``; limit ``Q(rho)`` with c = 1.
- ``"continuum"`` (sec. 6): ResNet gamma = 1/2, alpha = beta/sqrt(L): limit ``S(beta^2)/beta^2`` by quadrature.
- ``"large-tau"`` (sec. 7): ResNet gamma in (0, 1/2): limit 1/4, leading rate ``s0(rho) / tau``, then
  ``(3/8) log(tau) / L`` (sec. 7.3).

Other FFNets at the edge of chaos (sec. 9, :mod:`rntk_sym.eoc`): the ab_relu family is the fixed-step angle
map with ``w = (b - a)^2/(a^2 + b^2)``; smooth activations with ``q* > 0`` tend to 1/3.

Skip-ahead (a value at depth L in O(log L) work, :func:`skip_ahead`): the Fatou coordinate for the fixed
step (sec. 3.5) and, for every setting, the segmented orbit (sec. 6.3).

All mpmath work happens in private ``mpmath.MPContext`` objects; the global ``mpmath.mp`` is never set.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache

import mpmath
import sympy as sp

from . import inputs
from .backends import MPBackend
from .kernels import correct_digits, rounded
from .recursions import Block, run

LOG2_10 = math.log2(10)


def _ctx(digits: int) -> mpmath.MPContext:
    ctx = mpmath.MPContext()
    ctx.prec = int(math.ceil(digits * LOG2_10)) + 8
    return ctx


def _num(ctx, x):
    """``x`` (int, Fraction, decimal string, float, mpf, sympy number) as an mpf of ``ctx``."""
    if isinstance(x, Fraction):
        return ctx.mpf(x.numerator) / x.denominator
    if isinstance(x, sp.Basic):
        if isinstance(x, sp.Rational):
            return ctx.mpf(int(x.p)) / int(x.q)
        return ctx.mpf(str(sp.N(x, int(ctx.prec / LOG2_10) + 5)))
    if hasattr(x, "_mpf_"):
        return ctx.mpf(x)
    return ctx.mpf(x)


def _uv(ctx, rho):
    """``(1 - rho, 1 + rho)`` in ``ctx`` from the exact ``rho``: each rounded once, so no cancellation
    near rho = +-1 (``1 - r`` of a rounded ``r = 1 - 1e-29`` at 50 digits keeps only ~21 of them)."""
    q = inputs.rho_exact(rho)
    return _num(ctx, 1 - q), _num(ctx, 1 + q)


def _theta(ctx, rho):
    """``theta_0 = arccos rho`` without cancellation: ``2 atan2(sqrt(1 - rho), sqrt(1 + rho))``."""
    u, v = _uv(ctx, rho)
    return 2 * ctx.atan2(ctx.sqrt(u), ctx.sqrt(v))


def _edge_digits(rho) -> int:
    """Decimal digits that ``1 - rho^2`` cancels at ``rho``: ~ -log10(1 - |rho|) (0 away from +-1; exact
    from the rational ``rho``: no float underflow)."""
    d = 1 - abs(inputs.rho_exact(rho))
    return 0 if d in (0, 1) or d > Fraction(1, 10) else math.ceil(math.log10(d.denominator) - math.log10(d.numerator))


# --------------------------------------------------------------------------------------------------
# 1. Exact steps: the package's one recursion (rntk_sym.recursions) started from (theta, T)
# --------------------------------------------------------------------------------------------------

# The skip-ahead's exact runs use the compiled double-double recursion (numba) where the requested
# digits allow: the segmented orbit's (exact prefix and segment samples) for at most DD_SKIP_DIGITS
# digits, the float64 route included (measured: the answers agree with the arb runs to 4e-28 at D = 17
# and D = 20, every gamma of the 5-gamma sweep, L = 10^6 and 10^12, docs/benchmarks.md; at D = 22 and
# 25 the segments' extrapolation, rtol 10^-27 and 10^-30, amplifies double-double's rounding past its
# tolerance at gamma = 1/4: its error estimate flags it, and the orbit is then run again in arb); the
# Fatou route's fitted runs for at most DD_FATOU_DIGITS (the fit uses T - G(theta) ~ theta^3, whose
# relative error stays ~1e-17 from T's ~1e-30: measured, identical errors to the arb runs at D = 25).
DD_SKIP_DIGITS = 20
DD_FATOU_DIGITS = 28


def _runner(ctx, dd: bool = False):
    """``steps(w, c, u, v, n, T) -> (u_n, v_n, T_n)``: n layers of :func:`rntk_sym.recursions.run` with
    ``Block(w, c)`` on mpf values of ``ctx``, returned as mpf of ``ctx``. ``dd`` (and numba installed):
    in compiled double-double (:mod:`rntk_sym.backends.ddrun`, ~32 digits whatever ``ctx``'s precision).
    Else with python-flint (a core dependency) the steps run in arb balls at the same precision and
    their midpoints are returned (about 5x faster than mpmath; the radii are not used here); without
    it, in mpmath."""
    from .backends._numba import numba_or_none

    if dd and numba_or_none() is not None:
        from .backends import ddrun

        return lambda w, c, u, v, n, T: tuple(x for x, _ in ddrun.run_mp(ctx, u, v, T, w, c, n))
    try:
        from .backends.ball import BallBackend

        be = BallBackend(ctx.prec)
    except ImportError:
        be = MPBackend(ctx.prec)  # same precision: its numbers are plain mpf of ctx's precision
        return lambda w, c, u, v, n, T: tuple(ctx.mpf(x) for x in run(be, Block(w, c), u, v, n, T=T))

    def steps(w, c, u, v, n, T):
        with be.active():
            out = run(be, Block(be.from_mpf(w), c), be.from_mpf(u), be.from_mpf(v), n, T=be.from_mpf(T))
            return tuple(be.to_mpf(ctx, x) for x in out)
    return steps


def exact(rho, L: int, w, c: int, digits: int = 40, *, ctx=None, theta0=None, l0: int = 0, T0=None, dd=False):
    """Exact ``(theta_L, T_L)`` by ``L - l0`` steps of :func:`rntk_sym.recursions.run` from
    ``theta0`` (default ``arccos rho``) and ``T0`` (default 0). Returns mpf values of ``ctx``.
    ``dd``: the steps in double-double (:func:`_runner`)."""
    if ctx is None:
        ctx = _ctx(digits + 2 * len(str(L)) + 10)
    if theta0 is None:
        u, v = _uv(ctx, rho)
    else:
        th = _num(ctx, theta0)
        u, v = 2 * ctx.sin(th / 2) ** 2, 2 * ctx.cos(th / 2) ** 2
    u, v, T = _runner(ctx, dd)(_num(ctx, w), c, u, v, L - l0, ctx.zero if T0 is None else _num(ctx, T0))
    return 2 * ctx.atan2(ctx.sqrt(u), ctx.sqrt(v)), T


# --------------------------------------------------------------------------------------------------
# 2. Truncated power series (lists of mpf, coefficient k of theta^k), for the fixed-step regime
# --------------------------------------------------------------------------------------------------

def _mul(a, b, n):
    return [sum((a[i] * b[k - i] for i in range(max(0, k - len(b) + 1), min(k, len(a) - 1) + 1)), 0 * a[0])
            for k in range(n)]


def _pow1(ctx, a, r, n):
    """``a^r`` for ``a[0] = 1`` (J.C.P. Miller recurrence)."""
    b = [ctx.one] + [ctx.zero] * (n - 1)
    for k in range(1, n):
        b[k] = sum(((r + 1) * j - k) * a[j] * b[k - j] for j in range(1, min(k, len(a) - 1) + 1)) / k
    return b


def _log1(ctx, a, n):
    """``log a`` for ``a[0] = 1``: ``(log a)' = a'/a``."""
    inv = _pow1(ctx, a, -1, n)
    da = [k * a[k] for k in range(1, min(len(a), n + 1))]
    q = _mul(da, inv, n - 1)
    return [ctx.zero] + [q[k - 1] / k for k in range(1, n)]


def _compose(ctx, F, g, n):
    """``F(g(theta))`` for ``g[0] = 0`` (Horner)."""
    out = [ctx.zero] * n
    for coef in reversed(F[:n]):
        out = _mul(out, g, n)
        out[0] += coef
    return out


@lru_cache(maxsize=64)
def _fixed_step_series(w_key, c: int, n: int, digits: int):
    """Taylor data of the fixed-step problem with ``w = Fraction(w_key)`` (sec. 3).

    Returns ``(ctx, f, A, C, d, g)``: ``f`` the map ``theta -> theta_next`` to ``theta^(n+1)``;
    the Fatou coordinate ``Phi(theta) = A/theta + C log theta + sum_{k=1}^{n-1} d[k] theta^k`` with
    ``Phi(f(theta)) = Phi(theta) + 1``; the formal solution ``G = g[-1]/theta + g[0] + g[1] theta + g[2] theta^2``
    of ``G(f) = P G + Q`` (``g`` a dict; theta^3 is resonant: the homogeneous solution ~ theta^3).
    """
    ctx = _ctx(digits)
    w = _num(ctx, Fraction(w_key))
    pi = ctx.pi
    m = n + 3
    fac = [ctx.factorial(k) for k in range(2 * m + 3)]
    # y = sin^2(th/2) - w s3/(2 pi) = (th^2/4) Y(th)
    y = [ctx.zero] * (m + 2)
    for k in range(1, m // 2 + 2):
        if 2 * k < m + 2:
            y[2 * k] += (-1) ** (k + 1) / (2 * fac[2 * k])
        if 2 * k + 1 < m + 2:
            y[2 * k + 1] -= w * (-1) ** (k + 1) * 2 * k / (fac[2 * k + 1] * 2 * pi)
    Y = [4 * y[k + 2] for k in range(m)]
    z = [ctx.zero] + [v / 2 for v in _pow1(ctx, Y, ctx.mpf(1) / 2, m - 1)]  # sqrt(y)
    asin = [ctx.zero] * m
    for j in range((m - 1) // 2 + 1):
        if 2 * j + 1 < m:
            asin[2 * j + 1] = fac[2 * j] / (4 ** j * fac[j] ** 2 * (2 * j + 1))
    f = [2 * v for v in _compose(ctx, asin, z, m)]
    u = f[1:]  # f = theta u, u[0] = 1
    inv = _pow1(ctx, u, -1, m - 1)
    from .parabolic import fatou  # the Fatou coordinate, order by order (sec. 11.2: one solver for every series)

    A, C, d = fatou(ctx, u, n - 2)
    upow = [None, u, _mul(u, u, m - 1)]
    # formal solution G of G(f) = P G + Q
    Pser = [ctx.one, -w / pi] + [ctx.zero] * (m - 3)
    cosser = [((-1) ** (k // 2)) / fac[k] if k % 2 == 0 else ctx.zero for k in range(m)]
    s3ser = [ctx.zero] * m
    for k in range(1, m // 2 + 1):
        if 2 * k + 1 < m:
            s3ser[2 * k + 1] = (-1) ** (k + 1) * 2 * k / fac[2 * k + 1]
    shat = [cosser[k] + s3ser[k] / pi for k in range(m)]
    shatp = [ctx.one, -1 / pi] + [ctx.zero] * (m - 2)
    Qser = [(c * shat[k] + v) / (1 + c) for k, v in enumerate(_mul(cosser, shatp, m))]
    H = {-1: [inv[j + 1] - Pser[j + 1] for j in range(m - 2)]}
    for k in range(0, 3):
        uk = upow[k] if k >= 1 else [ctx.one] + [ctx.zero] * (m - 2)
        diff = [uk[j] - Pser[j] for j in range(m - 2)]
        H[k] = [ctx.zero] * k + diff
    g = {}
    for j, k in enumerate(range(-1, 3)):
        s = Qser[j] - sum(g[i] * H[i][j] for i in g)
        g[k] = s / H[k][j]
    return ctx, f, A, C, d, g


def _phi(ctx, th, A, C, d):
    return A / th + C * ctx.log(th) + sum(dk * th ** k for k, dk in d.items())


def _G(th, g):
    return sum(gk * th ** k for k, gk in g.items())


def fixed_step_constant(w, c: int, rho, digits: int = 30, *, n: int | None = None, l0: int | None = None):
    """Orbit constant ``K(rho) = lim_l (Phi(theta_l) - l)`` of the fixed-step map (sec. 3.3).

    Exact steps up to ``l0`` (default: theta_l0 ~ 3 pi/(w l0) ~ 10^-2), then the Fatou series truncated
    after ``theta^(n-1)``. Returns ``(K, err)``; ``err`` compares with the prefix ``l0/2`` (plus
    ``10^-(digits + 10)`` for rounding). Default ``n``: enough terms for ``digits`` (the truncation
    falls ~1.9 digits per term at theta ~ 10^-2; measured: n = 14, 30, 50, 95 give err 5e-31, 2e-65,
    7e-104, 9e-179, the last in 3.5 s).
    """
    if n is None:
        n = max(14, math.ceil((digits + 10) / 1.8))
    w = Fraction(w) if not isinstance(w, Fraction) else w
    if l0 is None:
        l0 = int(3 * math.pi / (float(w) * 0.01)) + 1
    # guard digits: l0 rounded steps, amplified by Phi'(theta) ~ A / theta^2 ~ l0^2 / A
    ctx, f, A, C, d, g = _fixed_step_series(w, c, n, digits + 15 + 3 * len(str(l0)))
    th0 = _theta(ctx, rho)
    th_half, _ = exact(None, l0 // 2, w, c, ctx=ctx, theta0=th0)
    th_l0, _ = exact(None, l0, w, c, ctx=ctx, theta0=th_half, l0=l0 // 2)
    K1 = _phi(ctx, th_half, A, C, d) - l0 // 2
    K2 = _phi(ctx, th_l0, A, C, d) - l0
    # + rounding: measured ~100 units in the last of the working digits, far below 10^-(digits + 10)
    return K2, abs(K2 - K1) + ctx.mpf(10) ** -(digits + 10)


def fixed_step_coefficients(w, c: int, K, g0=None):
    """Coefficients of ``Omegabar_L = 1/4 + C/4 log L/L + B1/L + C^2/4 log L/L^2 + B2/L^2 + ...`` (sec. 3.4).

    Closed forms (SymPy, sec. 3.2): ``A = 3 pi/w``, ``C = 3/2``, ``g0 = -1/8 - 1/(w (1+c))``,
    ``g1 - d1/4 = -(15 w^2 + 66 pi^2)/(80 pi w)``; then ``B1 = K/4 + g0 - (C/4) log A`` and
    ``B2 = (C/4)(K - C log A) + (g1 - d1/4) A``. ``K`` is the orbit constant (mpf). ``g0``: another ``g_0`` (the
    ab_relu FFNet at the edge of chaos, whose forcing is ``cos theta (1 - w theta/pi)``: ``g0 = -9/8`` for every
    ``w``, and the same ``g1 - d1/4``; sec. 9.1)."""
    ctx = K.context
    pi = ctx.pi
    w = _num(ctx, Fraction(w))
    A = 3 * pi / w
    C = ctx.mpf(3) / 2
    g0 = -ctx.mpf(1) / 8 - 1 / (w * (1 + c)) if g0 is None else g0
    g1d = -(15 * w ** 2 + 66 * pi ** 2) / (80 * pi * w)
    B1 = K / 4 + g0 - C / 4 * ctx.log(A)
    B2 = C / 4 * (K - C * ctx.log(A)) + g1d * A
    return {"log/L": C / 4, "1/L": B1, "log/L^2": C * C / 4, "1/L^2": B2}


def _fatou_theta(ctx, A, C, d, target):
    """``theta`` with ``Phi(theta) = target`` (Newton from ``A / target``)."""
    th = A / target
    for _ in range(200):
        F = _phi(ctx, th, A, C, d) - target
        dF = -A / th ** 2 + C / th + sum(k * dk * th ** (k - 1) for k, dk in d.items())
        new = th - F / dF
        if abs(new - th) <= abs(th) * ctx.ldexp(1, -ctx.prec + 4):
            return new
        th = new
    return th


# --------------------------------------------------------------------------------------------------
# 3. Small total time tau = L w (ResNet, gamma in (1/2, 1]): exact double series (sec. 5)
# --------------------------------------------------------------------------------------------------

RHO = sp.Symbol("rho", real=True)
_WS, _LS = sp.symbols("w L")


def _closed_forms():
    """``shat, D = shat - rho, p = theta/pi, Q`` (c = 1) as SymPy expressions in ``RHO``."""
    pi = sp.pi
    shat = (sp.sqrt(1 - RHO ** 2) + (pi - sp.acos(RHO)) * RHO) / pi
    shatp = (pi - sp.acos(RHO)) / pi
    return shat, shat - RHO, sp.acos(RHO) / pi, (shat + RHO * shatp) / 2


@lru_cache(maxsize=4)
def small_tau_generic(K: int = 3):
    """``a_kj`` (k <= K) in terms of derivative symbols ``D_i, p_i, Q_i`` at rho_0 (sec. 5.1).

    ``T_L = sum_k w^k P_k(L)`` with ``P_k`` a polynomial of degree k+1, ``P_k(0) = 0``: found exactly by
    iterating the recursion with Taylor-expanded ``D, p, Q`` for ``L = 0..K+2`` and interpolating.
    ``Omegabar_L = sum_{k, j<=k} a_kj w^k L^j``.
    """
    Ds = sp.symbols(f"D0:{K + 1}")
    ps = sp.symbols(f"p0:{K + 1}")
    Qs = sp.symbols(f"Q0:{K + 1}")

    def ev(cs, x):
        return sum(cs[i] * x ** i / sp.factorial(i) for i in range(K + 1))

    def trunc(e):
        e = sp.expand(e)
        return sum(e.coeff(_WS, k) * _WS ** k for k in range(K + 1))

    x, T = sp.Integer(0), sp.Integer(0)
    Tv = [T]
    for _ in range(K + 2):
        T = trunc((1 - _WS * ev(ps, x)) * T + ev(Qs, x))
        x = trunc(x + _WS * ev(Ds, x))
        Tv.append(T)
    a = {}
    for k in range(K + 1):
        poly = sp.expand(sp.interpolate([(l, Tv[l].coeff(_WS, k)) for l in range(K + 3)], _LS))
        q = sp.expand(sp.cancel(poly / _LS))
        for j in range(k + 1):
            a[(k, j)] = sp.factor(q.coeff(_LS, j))
    return a, (Ds, ps, Qs)


@lru_cache(maxsize=4)
def small_tau_closed_forms(K: int = 3):
    """``{(k, j): a_kj(rho)}`` as SymPy expressions in ``RHO`` (sec. 5.2); ``a_00 = Q(rho)``."""
    a, (Ds, ps, Qs) = small_tau_generic(K)
    _, D, p, Q = _closed_forms()
    sub = {}
    for i in range(K + 1):
        sub[Ds[i]] = sp.diff(D, RHO, i)
        sub[ps[i]] = sp.diff(p, RHO, i)
        sub[Qs[i]] = sp.diff(Q, RHO, i)
    return {kj: e.subs(sub) for kj, e in a.items()}


def small_tau_terms(rho, gamma, digits: int = 30, K: int = 3):
    """Terms ``(power, coefficient, exact)`` of ``Omegabar_L - Q(rho)`` in powers of L, for alpha = L^-gamma.

    ``w = L^(-2 gamma)/(1 + L^(-2 gamma)) = sum_m (-1)^(m-1) L^(-2 gamma m)``; powers ``j - 2 gamma m``.
    Complete for powers > ``(K+1)(1 - 2 gamma)`` (the first k = K+1 term); coinciding powers are merged.
    """
    g = sp.Rational(gamma) if not isinstance(gamma, sp.Basic) else gamma
    cut = (K + 1) * (1 - 2 * g)
    forms = small_tau_closed_forms(K)
    ctx = _ctx(digits + 10)
    terms = {}
    # w^k = L^(-2 gamma k) (1 + L^(-2 gamma))^(-k) = sum_n binom(-k, n) L^(-2 gamma (k+n))
    for (k, j), e in forms.items():
        if k == 0:
            continue
        n = 0
        while True:
            power = j - 2 * g * (k + n)
            if power <= cut:
                break
            coef = sp.binomial(-k, n)
            terms.setdefault(power, []).append((coef, e))
            n += 1
    out = []
    for power in sorted(terms, reverse=True):
        expr = sum(cf * e for cf, e in terms[power])
        val = _eval_rho(ctx, expr, rho)
        out.append((power, val, expr))
    return out, cut


def _eval_rho(ctx, expr, rho):
    """The SymPy expression ``expr`` in ``RHO`` at the exact ``rho``, rounded to ``ctx``. Evaluated with
    twice the digits that ``1 - rho^2`` cancels near rho = +-1 on top (``sqrt(1 - rho^2)``, ``acos``
    and their derivatives in the closed forms amplify the rounding of ``rho`` by up to that much)."""
    work = mpmath.MPContext()
    work.prec = ctx.prec + math.ceil(2 * _edge_digits(rho) * LOG2_10)
    f = sp.lambdify(RHO, expr, modules=[{"acos": work.acos, "sqrt": work.sqrt, "pi": work.pi}, "mpmath"])
    with mpmath.workprec(work.prec):  # lambdify's mpmath module evaluates constants in mpmath.mp
        return ctx.mpf(f(_num(work, inputs.rho_exact(rho))))


# --------------------------------------------------------------------------------------------------
# 4. Small step w: the recursion is Euler's method with step w for the continuum ODE (sec. 6)
# --------------------------------------------------------------------------------------------------

SEGMENT_EXACT = 4000  # a segment of at most this many steps is run exactly (extrapolating one costs ~4000)
SEGMENT_N0 = 32  # extrapolation levels: N = 32, 64, 96, ... coarse steps per segment (harmonic sequence)
SEGMENT_LEVELS = 40
CONTINUUM_FIRST = 40  # w = 0 from rho < -1/2: the first segment is [0, 2^-40] (little of the rho = -1 singularity)


def _neville(hs, ys, x):
    """Values at ``x`` of the interpolating polynomials through the first m points, m = 1..len."""
    p = list(ys)
    out = [p[0]]
    for k in range(1, len(hs)):
        for i in range(len(hs) - 1, k - 1, -1):
            p[i] = ((x - hs[i - k]) * p[i] - (x - hs[i]) * p[i - 1]) / (hs[i] - hs[i - k])
        out.append(p[k])
    return out


def _extrapolate(ctx, sample, target, rtol):
    """Extrapolate ``sample(N)`` (a tuple of values after N steps of size ``Delta/N``) polynomially in
    ``x = 1/N`` to ``x = target`` (0: the continuum limit; ``1/n``: n true steps).

    Assumed form (sec. 6.2): each value is ``F_0 + a_1 x + a_2 x^2 + ...``, the global error expansion
    of Euler's method for a smooth ODE. Levels ``N = SEGMENT_N0 (k + 1)`` (the harmonic sequence: the
    error after k levels falls like ``prod_j x_j``); stops when two successive estimates of every value
    agree to ``rtol`` relatively. Returns ``(values, errors, levels)``, ``error = 2 |last two estimates|``.
    """
    xs, cols, ests = [], None, None
    for k in range(SEGMENT_LEVELS):
        N = SEGMENT_N0 * (k + 1)
        ys = sample(N)
        xs.append(ctx.mpf(1) / N)
        cols = [[y] for y in ys] if cols is None else [c + [y] for c, y in zip(cols, ys)]
        ests = [_neville(xs, c, target) for c in cols]
        if k >= 2 and all(abs(e[-1] - e[-2]) <= rtol * abs(e[-1]) for e in ests):
            break
    return [e[-1] for e in ests], [2 * abs(e[-1] - e[-2]) for e in ests], len(xs)


def segmented_orbit(rho, c: int, w, *, L: int | None = None, tau=None, digits: int = 30, progress=None,
                    dd: bool | None = None, start=None):
    """``(u, v, S)`` with ``S = w T`` after ``L`` steps of size ``w`` (or, for ``w = 0``, the continuum
    ODE at time ``tau``), segment by segment in time (sec. 6.3). ``rho`` exact, ``w`` a number.

    The first SEGMENT_EXACT steps are exact; after them the steps are cut at ``n = 2^j SEGMENT_EXACT``,
    so that every segment ``[t, 2t]`` is as long as the time already elapsed. The orbit varies on the
    scale ``t`` there, both in the tail (``theta ~ 3 pi/t``) and while it leaves ``theta = pi`` (where
    ``shat`` has a square-root singularity: ``pi - theta ~ sqrt(2 t)``), so ``N`` coarse Euler steps of size
    ``t/N`` resolve every segment equally well. Each segment is run with ``N`` coarse steps from its
    start and :func:`_extrapolate`-d to its true step count (sec. 6.3). Cost: at most ~4000 steps per
    doubling of the depth, ``O(log L)``. For ``w = 0`` (the continuum) the cuts are ``t = 1/4, 1/2, 1, ...``,
    from ``t = 2^-40`` if ``rho < -1/2``.

    Returns ``(ctx, (u, v, S), rel_err, segments)``: ``rel_err`` sums the segments' relative
    extrapolation errors (the flow does not amplify relative errors: it contracts onto theta = 0) and the
    working precision's (``2^-92`` where the runs are in double-double: ``dd``, default ``digits <=
    DD_SKIP_DIGITS + 2`` with numba; when their ``rel_err`` misses ``10^-digits``, the orbit is run again
    in arb). ``progress(done, segments)`` is called after each segment.

    ``start = (u, v, S, n0)`` (``w > 0``): continue from that state after ``n0`` steps (``rho`` unused); the
    segments are then ``[n0, 2 n0]`` and doubling, the orbit's time scale being at least the time elapsed
    (:mod:`rntk_sym.skip_resnet` enters here after the transient of a relu-like activation).
    """
    from .backends._numba import numba_or_none

    if dd is None:  # the skip-ahead asks for 2 digits more
        dd = digits <= DD_SKIP_DIGITS + 2 and numba_or_none() is not None
    ctx = _ctx(digits + 20)
    steps_of = _runner(ctx, dd)
    w = _num(ctx, w)
    n0 = 0 if start is None else start[3]
    state = (*_uv(ctx, rho), ctx.zero) if start is None else tuple(ctx.mpf(x) for x in start[:3])
    if w:
        ns = [min(L, max(SEGMENT_EXACT, 2 * n0))]
        while 2 * ns[-1] < L:
            ns.append(2 * ns[-1])
        if ns[-1] < L:
            ns.append(L)
        cuts = [n * w for n in ns]
        steps = [b - a for a, b in zip([n0] + ns, ns)]
    else:
        t_end = _num(ctx, tau)
        first = -CONTINUUM_FIRST if 2 * state[1] < 1 else -2
        cuts = [t for t in (ctx.ldexp(1, k) for k in range(first, int(ctx.log(t_end, 2)) + 1)) if t < t_end]
        cuts.append(t_end)
        steps = [None] * len(cuts)
    rtol = ctx.mpf(10) ** (-digits - 3)
    rel, t0 = ctx.zero, n0 * w
    for j, (t1, n) in enumerate(zip(cuts, steps)):
        u, v, S = state
        if n is not None and n <= SEGMENT_EXACT:
            u, v, T = steps_of(w, c, u, v, n, S / w)
            state = (u, v, w * T)
        else:
            dt = t1 - t0

            def sample(N, dt=dt, u=u, v=v, S=S):  # bound now: called by _extrapolate in this iteration
                h = dt / N
                u1, v1, T1 = steps_of(h, c, u, v, N, S / h)
                return u1, v1, h * T1

            state, errs, _ = _extrapolate(ctx, sample, ctx.mpf(1) / n if n else ctx.zero, rtol)
            rel += max([e / max(abs(x), ctx.ldexp(1, -ctx.prec)) for e, x in zip(errs, state) if e], default=ctx.zero)
        t0 = t1
        if progress is not None:
            progress(j + 1, len(cuts))
    rel += ctx.ldexp(1, (-100 if dd else -ctx.prec) + 8)
    if dd and rel > ctx.mpf(10) ** -digits:  # double-double's rounding defeated an extrapolation: arb
        return segmented_orbit(rho, c, w, L=L, tau=tau, digits=digits, progress=progress, dd=False, start=start)
    return ctx, state, rel, len(cuts)


def _beta_sequence(rho, beta2):
    """``F(n) = Omegabar_n`` of the ResNet with ``alpha^2 = beta^2 / n`` (gamma = 1/2)."""
    def seq(ctx, n):
        a2 = _num(ctx, beta2) / n
        _, _, T = _runner(ctx)(a2 / (1 + a2), 1, *_uv(ctx, rho), n, ctx.zero)
        return T / n
    return seq


def continuum_kernel(rho, tau, digits: int = 30):
    """``S(tau) / tau``: the continuum normalized NTK at total time ``tau`` (sec. 6.1), where
    ``d rho/dt = shat(rho) - rho``, ``dS/dt = -(theta/pi) S + (shat + rho shatp)/2``, ``S(0) = 0``.

    This is the depth limit of the ResNet with ``alpha^2 ~ tau / L``. For ``rho >= -0.9``: the
    continuum limit of the exact recursion (:func:`segmented_orbit` with ``w = 0``). Near ``rho = -1``,
    where ``shat`` is not smooth in ``rho`` and that extrapolation converges slowly, the ODE in the angle
    (:func:`continuum_theta_ode`, analytic at ``theta = pi``) is solved for ``t(theta) = tau`` at two
    precisions. Returns ``(value, error, form)``.
    """
    r = inputs.rho_exact(rho)
    if r < Fraction(-9, 10):
        vals = []
        for extra in (10, 20):
            ctx, th0, sol = continuum_theta_ode(r, digits + extra)
            t = _num(ctx, tau)
            th = _angle_at_time(ctx, lambda a, sol=sol, th0=th0: sol(th0 - a)[0], t, th0,
                                ctx.mpf(10) ** -(digits + extra // 2))
            if th is None:  # tau so large that the orbit leaves the angle ODE's range: the segmented route
                break
            vals.append(sol(th0 - th)[1] / t)
        else:
            return vals[1], 2 * abs(vals[1] - vals[0]) + ctx.mpf(10) ** (-digits - 5), \
                "continuum ODE in the angle (mpmath.odefun), t(theta) = tau by Newton's method, two precisions"
    ctx, (_, _, S), rel, m = segmented_orbit(r, 1, 0, tau=tau, digits=digits)
    v = S / _num(ctx, tau)
    return v, rel * abs(v) + ctx.mpf(10) ** (-digits - 5), \
        f"continuum limit of the recursion: {m} time segments, each extrapolated polynomially in 1/N"


# --------------------------------------------------------------------------------------------------
# 5. Public API: regime, limit, expansion, skip-ahead value
# --------------------------------------------------------------------------------------------------

HALF = Fraction(1, 2)
MAX_NUMERIC_DIGITS = 200  # limits and coefficients that are computed (not closed forms): beyond this
# the extrapolations would run for hours; a clear error instead


def _numeric_digits(digits: int, what: str) -> int:
    if digits > MAX_NUMERIC_DIGITS:
        raise ValueError(f"digits: the {what} is computed numerically, to at most {MAX_NUMERIC_DIGITS} digits; "
                         f"got {digits}")
    return digits
Q_EXACT = "(sqrt(1 - rho**2) + 2*rho*(pi - acos(rho)))/(2*pi)"  # (shat + rho shatp)/2 = Omegabar_1


@dataclass(frozen=True)
class Setting:
    """A validated architecture: ``c`` (0 FFNet, 1 ResNet), and exactly one of ``w`` (a fixed
    ``alpha^2/(1+alpha^2)``, Fraction), ``gamma`` (alpha = L^-gamma) or ``beta2`` (alpha^2 = beta^2/L)."""

    arch: str
    c: int
    w: Fraction | None = None
    gamma: Fraction | None = None
    beta2: Fraction | None = None

    @property
    def regime(self) -> str:
        """``fixed-step`` (FFNet, constant alpha, gamma = 0), ``small-tau`` (gamma > 1/2),
        ``continuum`` (gamma = 1/2 or beta), ``large-tau`` (0 < gamma < 1/2)."""
        if self.w is not None:
            return "fixed-step"
        if self.beta2 is not None or self.gamma == HALF:
            return "continuum"
        return "small-tau" if self.gamma > HALF else "large-tau"

    @property
    def kind(self) -> str:
        """The limit in words."""
        return {
            "fixed-step": "degenerate: 1/4 off the diagonal",
            "large-tau": "degenerate: 1/4 off the diagonal",
            "small-tau": "one-hidden-layer kernel Omegabar_1",
            "continuum": "borderline: continuum kernel S(beta^2)/beta^2",
        }[self.regime]

    def beta_squared(self) -> Fraction:
        return self.beta2 if self.beta2 is not None else Fraction(1)

    def w_at(self, ctx, L: int):
        """``w = alpha^2/(1 + alpha^2)`` at depth L, in ``ctx``."""
        if self.w is not None:
            return _num(ctx, self.w)
        a2 = _num(ctx, self.beta2) / L if self.beta2 is not None else ctx.mpf(L) ** (-2 * _num(ctx, self.gamma))
        return a2 / (1 + a2)


def setting(arch: str, gamma=None, alpha=None, beta=None) -> Setting:
    """Validate and classify (arguments as in :func:`rntk_sym.ntk`; ``beta`` means alpha = beta/sqrt(L))."""
    arch = inputs.choice("arch", arch, inputs.ARCHS)
    if beta is not None:
        if arch == "ffnet" or gamma is not None or alpha is not None:
            raise ValueError("beta: give beta (alpha = beta/sqrt(L)) alone, with arch='resnet'")
        b = inputs.exact_number("beta", beta)
        if b <= 0:
            raise ValueError(f"beta: must be > 0, got {beta!r}")
        return Setting(arch, 1, beta2=b * b)
    scale = inputs.scaling(arch, gamma, alpha)
    if scale is None:
        return Setting(arch, 0, w=Fraction(1))
    if scale.alpha is not None:
        a2 = scale.alpha ** 2
        return Setting(arch, 1, w=a2 / (1 + a2))
    if scale.gamma == 0:
        return Setting(arch, 1, w=HALF)
    return Setting(arch, 1, gamma=scale.gamma)


@dataclass(frozen=True)
class Limit:
    value: mpmath.mpf
    error: mpmath.mpf
    regime: str
    kind: str
    form: str
    exact: str | None


def limit(arch: str, rho, *, gamma=None, alpha=None, beta=None, digits: int = 30, activation=None, weight_var=None,
          bias_var=None, kernel: str = "ntk") -> Limit:
    """Depth limit ``lim_{L->oo} Omegabar_L(rho)`` with an error bound and how it was obtained.

    ``digits`` correct significant digits or a ValueError naming ``digits`` with the number reached:
    closed forms reach any ``digits``; the continuum limit (gamma = 1/2) is extrapolated numerically
    (sec. 6.2; at most MAX_NUMERIC_DIGITS asked, about 130 reached at rho = 0.5).

    ``activation``, ``weight_var`` (or ``"eoc"``), ``bias_var``, ``kernel`` ("ntk" or "gp"): another FFNet than
    the seeds' relu, in the ordered or chaotic phase (:func:`rntk_sym.phase.depth_limit`, sec. 8) or at the edge of
    chaos (:func:`rntk_sym.eoc.eoc_limit`, sec. 9); for the ResNet, :func:`rntk_sym.resnet_general.limit` (sec. 10:
    every regime of gamma)."""
    if activation is not None or weight_var is not None or bias_var is not None or kernel != "ntk":
        from . import general
        from .phase import depth_limit

        if general.uses_general(arch, activation, weight_var, bias_var, gamma, alpha) or kernel != "ntk":
            if inputs.choice("arch", arch, inputs.ARCHS) == "resnet":  # sec. 9: the ResNet with any activation
                from . import resnet_general

                return resnet_general.limit(rho, gamma=gamma, alpha=alpha, beta=beta, digits=digits,
                                            activation=activation, weight_var=weight_var, bias_var=bias_var,
                                            kernel=kernel)
            if arch != "ffnet":
                raise ValueError("arch: depth limits for other activations, variances or the GP kernel: ffnet only")
            return depth_limit(rho, activation=activation or "relu", weight_var=weight_var, bias_var=bias_var,
                               kernel=kernel, digits=digits)
    st = setting(arch, gamma, alpha, beta)
    digits = inputs.digits(digits)
    r = inputs.rho_exact(rho, digits + 10)
    ctx = _ctx(digits + 10)
    zero = ctx.mpf(0)
    if r == 1:
        return Limit(ctx.mpf(1), zero, st.regime, st.kind, "diagonal: Omegabar_L(x, x) = 1 for every L", "1")
    if st.regime in ("fixed-step", "large-tau"):
        return Limit(ctx.mpf(1) / 4, zero, st.regime, st.kind, "exact (docs/asymptotics.md sec. 3, 7)", "1/4")
    if st.regime == "small-tau":
        q = _eval_rho(ctx, sp.sympify(Q_EXACT, locals={"rho": RHO}), r)
        return Limit(q, ctx.mpf(10) ** (-digits - 5), st.regime, st.kind,
                     "closed form Omegabar_1 = (shat + rho shatp)/2 (docs/asymptotics.md sec. 5)", Q_EXACT)
    v, e, form = continuum_kernel(r, st.beta_squared(), _numeric_digits(digits, "continuum limit"))
    reached = correct_digits(v, e, digits)
    if reached < digits:
        raise ValueError(f"digits: at most {reached} correct digits can be delivered for the continuum limit "
                         f"at rho = {rho}; got {digits}")
    return Limit(v, e, st.regime, st.kind, form, None)


@dataclass(frozen=True)
class Term:
    """``coefficient * L^-power * (log L)^log_power``; ``exact`` a SymPy string when known."""

    coefficient: mpmath.mpf
    error: mpmath.mpf
    power: Fraction
    log_power: int
    exact: str | None


@dataclass(frozen=True)
class Expansion:
    """``Omegabar_L(rho) = limit + sum(terms) + O(remainder)``, leading terms first."""

    limit: Limit
    terms: list
    remainder: str
    form: str

    STR_DIGITS = 8  # significant digits of a numerical coefficient in str() (fewer where its error says so)

    def __str__(self) -> str:
        """E.g. ``Omegabar_L = 1/4 + (3/8) L^-1 log L + 0.48408911 L^-1 + ... + O(log(L)^2 / L^3)``:
        closed forms where known (short), else the number rounded to the digits its error supports."""
        lim = self.limit
        out = "Omegabar_L = " + (lim.exact if lim.exact and len(lim.exact) <= 12 else
                                 rounded(lim.value, lim.error, self.STR_DIGITS, strip_zeros=True))
        for t in self.terms:
            neg = t.coefficient < 0
            if t.exact and len(t.exact) <= 12:
                c = t.exact[1:] if neg and t.exact.startswith("-") else t.exact
                c = f"({c})" if not c.replace(".", "").isdigit() else c
            else:
                c = rounded(abs(t.coefficient), t.error, self.STR_DIGITS, strip_zeros=True)
            p = f"L^-{t.power}" if t.power.denominator == 1 else f"L^-({t.power})"
            lg = "" if t.log_power == 0 else " log L" if t.log_power == 1 else f" (log L)^{t.log_power}"
            out += f" {'-' if neg else '+'} {c} {p}{lg}"
        return out + f" + O({self.remainder})"


def _poly_coefficients(ctx, hs, ys):
    """Coefficients ``a_0..a_{m-1}`` of the polynomial in ``h`` through the points (Vandermonde)."""
    m = len(hs)
    M = ctx.matrix([[h ** k for k in range(m)] for h in hs])
    return ctx.lu_solve(M, ctx.matrix(ys))


def _continuum_rate(rho, beta2, digits):
    """``Omegabar_L = F_0 + a_1/L + a_2/L^2 + ...`` for alpha^2 = beta^2/L: the ``a_k`` from the exact
    recursion at ``L = n0 2^k`` (two level counts compared for the error)."""
    ctx = _ctx(digits + 25)
    seq = _beta_sequence(rho, beta2)
    n0 = max(32, 2 ** math.ceil(math.log2(8 * float(beta2) + 1)))
    levels = 10
    hs = [ctx.mpf(1) / (n0 * 2 ** k) for k in range(levels)]
    ys = [seq(ctx, n0 * 2 ** k) for k in range(levels)]
    hi = _poly_coefficients(ctx, hs, ys)
    lo = _poly_coefficients(ctx, hs[1:], ys[1:])
    return [(hi[k], 2 * abs(hi[k] - lo[k])) for k in range(3)]


def fixed_step_terms(w, c: int, r, digits: int, ctx) -> list:
    """The fixed step's ``3/8 log L/L + B1/L + 9/16 log L/L^2 + B2/L^2`` (sec. 3-4) as :class:`Term` s."""
    K, Kerr = fixed_step_constant(w, c, r, digits)
    co = fixed_step_coefficients(w, c, K)
    e = Kerr + ctx.mpf(10) ** (-digits - 3)  # B1 = K/4 + ..., B2 = (C/4) K + ...; plus rounding
    return [Term(co["log/L"], ctx.mpf(0), Fraction(1), 1, "3/8"), Term(co["1/L"], e / 4, Fraction(1), 0, None),
            Term(co["log/L^2"], ctx.mpf(0), Fraction(2), 1, "9/16"), Term(co["1/L^2"], e * 3 / 8, Fraction(2), 0, None)]


def _general_expansion(arch, rho, gamma, alpha, digits, activation, weight_var, bias_var, kernel, beta=None):
    """:func:`expansion` for another network than the seeds' relu: the FFNet at its edge of chaos (sec. 9), else
    ValueError; any ResNet (:func:`rntk_sym.resnet_rates.expansion`, sec. 10.5); None for the seeds' network with
    the NTK (its expansion is below)."""
    from . import general
    from .eoc import eoc_expansion

    kernel = inputs.choice("kernel", kernel, inputs.KERNELS)
    if not general.uses_general(arch, activation, weight_var, bias_var, gamma, alpha) and kernel == "ntk":
        return None
    if arch == "resnet":  # every gamma, alpha or beta (sec. 10.5)
        from .resnet_rates import expansion as resnet_expansion

        return resnet_expansion(rho, gamma=gamma, alpha=alpha, beta=beta, digits=digits, activation=activation,
                                weight_var=weight_var, bias_var=bias_var, kernel=kernel)
    if arch != "ffnet":
        raise ValueError("arch: expansions for other activations, variances or the GP kernel: ffnet or resnet")
    digits = _numeric_digits(inputs.digits(digits), "expansion")
    p = phase(activation or "relu", 2 if weight_var is None else weight_var, bias_var, digits=min(digits, 30))
    if p.phase != "edge of chaos":
        raise ValueError("weight_var: the expansion in L is derived at the edge of chaos (docs/asymptotics.md "
                         f"sec. 9); this network is in the {p.phase} phase (its exponential rates: sec. 8, rntk limit)")
    return eoc_expansion(rho, activation or "relu", p.bias_var, kernel=kernel, digits=digits)


def expansion(arch: str, rho, *, gamma=None, alpha=None, beta=None, digits: int = 20, activation=None,
              weight_var=None, bias_var=None, kernel: str = "ntk") -> Expansion:
    """The asymptotic expansion of ``Omegabar_L(rho) - limit`` in L (docs/asymptotics.md).

    ``activation``, ``weight_var``, ``bias_var``, ``kernel`` ("ntk" or "gp"): another FFNet than the seeds' relu,
    at its edge of chaos (:func:`rntk_sym.eoc.eoc_expansion`, sec. 9; ValueError naming ``weight_var`` elsewhere),
    or another ResNet (:func:`rntk_sym.resnet_rates.expansion`, sec. 10.5).

    - fixed-step (FFNet, constant alpha): ``3/8 log L/L + B1/L + 9/16 log L/L^2 + B2/L^2``,
      ``O(log^2 L / L^3)``; B1, B2 through the orbit constant K(rho) (sec. 3-4).
    - small-tau (gamma in (1/2, 1]): powers ``j - 2 gamma m`` with closed-form coefficients (sec. 5).
    - continuum (gamma = 1/2): ``a_1/L + a_2/L^2`` (sec. 6).
    - large-tau (gamma in (0, 1/2)): the leading ``s_0(rho) L^-(1 - 2 gamma)`` (sec. 7, 7.4), numerically;
      for gamma <= 1/4 then ``(3/8)(1 - 2 gamma) log L / L`` (sec. 7.3); for gamma > 1/4 the continuum's
      ``s_1 L^-2(1 - 2 gamma)`` (and ``s_2 L^-3(1 - 2 gamma)`` for gamma > 1/3) come first (sec. 7.4).

    Digits: the limit has ``digits`` correct digits or is refused (:func:`limit`); each coefficient
    has an ``error`` and is worth the digits it supports (``rntk_sym.kernels.correct_digits``), at most
    ``digits``: closed forms and the fixed-step B1, B2 reach any ``digits``; the continuum's a_1, a_2
    (10 extrapolation levels) and the large-tau s_k (fitted at 20 digits at most; s_1, s_2 much fewer)
    reach what their errors say. ``rntk rate`` prints each to those digits, never beyond.
    """
    if activation is not None or weight_var is not None or bias_var is not None or kernel != "ntk":
        res = _general_expansion(arch, rho, gamma, alpha, digits, activation, weight_var, bias_var, kernel, beta)
        if res is not None:
            return res
    st = setting(arch, gamma, alpha, beta)
    digits = _numeric_digits(inputs.digits(digits), "expansion")
    lim = limit(arch, rho, gamma=gamma, alpha=alpha, beta=beta, digits=digits)
    r = inputs.rho_exact(rho, digits + 10)
    if r == 1:
        return Expansion(lim, [], "0", "exact on the diagonal")
    ctx = _ctx(digits + 10)
    if st.regime == "fixed-step":
        return Expansion(lim, fixed_step_terms(st.w, st.c, r, digits, ctx), "log(L)^2 / L^3",
                         "fixed-step orbit: Fatou coordinate + formal solution")
    if st.regime == "small-tau" and r == -1:  # the a_kj blow up at rho = -1; sec. 5.1
        g = st.gamma
        c = -ctx.sqrt(2) / (3 * ctx.pi)
        return Expansion(lim, [Term(c, ctx.mpf(10) ** (-digits - 3), (2 * g - 1) / 2, 0, "-sqrt(2)/(3*pi)")],
                         f"L^-({2 * g - 1})", "rho = -1: Q(-1 + e) ~ -sqrt(2 e)/(2 pi) summed along rho_l = -1 + l w")
    if st.regime == "small-tau":
        out, cut = small_tau_terms(r, sp.Rational(st.gamma.numerator, st.gamma.denominator), digits)
        terms = [Term(v, ctx.mpf(10) ** (-digits - 3), Fraction(-int(sp.Rational(p).p), int(sp.Rational(p).q)),
                      0, str(e)) for p, v, e in out]
        return Expansion(lim, terms, f"L^({cut})", "double series in tau = L w and w, closed forms a_kj(rho)")
    if st.regime == "continuum":
        co = _continuum_rate(r, st.beta_squared(), digits)
        terms = [Term(co[k][0], co[k][1], Fraction(k), 0, None) for k in (1, 2)]
        return Expansion(lim, terms, "L^-3", "Euler global-error expansion in 1/L (exact recursion, extrapolated)")
    g = st.gamma
    p = 1 - 2 * g  # tau ~ L^p
    # sec. 7.4: F_0(tau) = 1/4 + s_0/tau + s_1/tau^2 + s_2/tau^3 + ...
    co = large_tau_coefficients(r, digits=min(digits, 20))
    form = "continuum S(tau) by the segmented orbit at tau = 2^14..2^30, fitted in 1/tau (sec. 7.4)"
    if g <= Fraction(1, 4):  # sec. 7.3: the fixed step's (3/8) log L / L survives as (3/8) log(tau) / L
        c = Fraction(3, 8) * p
        terms = [Term(co[0][0], co[0][1], p, 0, None), Term(_num(ctx, c), ctx.mpf(0), Fraction(1), 1, str(c))]
        return Expansion(lim, terms, "1/L", form + "; (3/8) log(tau)/L from the fixed-step expansion (sec. 7.3)")
    # every s_k/tau^(k+1) with (k+1) p < 1 comes before the (3/8) p log L / L of the w-correction
    terms = [Term(v, e, (k + 1) * p, 0, None) for k, (v, e) in enumerate(co) if k == 0 or (k + 1) * p < 1]
    rest = "log(L)/L" if len(terms) < 3 else "L^-(4 - 8 gamma) log L + log(L)/L"
    return Expansion(lim, terms, rest, form + "; the w-correction (3/8) log(tau)/L comes after")


def continuum_theta_ode(rho, digits: int):
    """The continuum ODE (sec. 2) with the angle as independent variable (sec. 7.1):
    ``dt/dtheta = -1/v``, ``dS/dtheta = -(Q - (theta/pi) S)/v``, ``1/v = pi sin theta / s3(theta)``,
    from ``theta_0 = arccos rho``, ``t = S = 0``. Returns ``(ctx, theta_0, sol)`` with
    ``sol(theta_0 - theta) = [t, S]`` (``mpmath.odefun``, Taylor method; valid for ``theta >= 2^-14``)."""
    r = inputs.rho_exact(rho)
    if r == 1:
        raise ValueError("rho: the continuum orbit is defined off the diagonal (rho < 1)")
    ctx = _ctx(digits)
    th0 = _theta(ctx, r)

    def rhs(x, y):
        th = th0 - x  # odefun integrates forward in x = theta_0 - theta
        t, S = y
        inv_v, Q = _angle_rates(ctx, th)
        return [inv_v, (Q - (th / ctx.pi) * S) * inv_v]

    return ctx, th0, ctx.odefun(rhs, 0, [ctx.mpf(0), ctx.mpf(0)])


def _angle_rates(ctx, th):
    """``(1/v, Q)`` of the continuum ODE at the angle ``th``: ``1/v = -dt/dtheta = pi sin th / s3(th)``
    and ``Q = (shat + rho shatp)/2`` with ``rho = cos th`` (both analytic on ``(0, pi]``, sec. 7.1)."""
    pi, sn, c = ctx.pi, ctx.sin(th), ctx.cos(th)
    s3 = sn - th * c  # th >= 2^-14: cancellation < 30 bits, within the callers' guard digits
    return pi * sn / s3, (c + s3 / pi + c * (1 - th / pi)) / 2


def _angle_at_time(ctx, t_at, target, th_start, rtol, th_min=2.0 ** -14):
    """The angle ``theta < th_start`` at which the continuum orbit's time ``t_at(theta)`` equals
    ``target`` (``t_at(th_start) <= target``), to relative ``rtol``; None if it lies below ``th_min``.

    ``t`` decreases in ``theta`` and is convex (``dt/dtheta = -1/v``, ``1/v`` decreasing): ``theta`` is
    halved until ``t >= target``, then Newton's method climbs to the root without overshooting (its
    last step is below ``rtol``; the error after it, quadratically smaller)."""
    th = th_start / 2
    while th >= th_min and t_at(th) < target:
        th /= 2
    if th < th_min:
        return None
    for _ in range(200):
        step = (t_at(th) - target) / _angle_rates(ctx, th)[0]
        th += step
        if step <= rtol * th:
            break
    return th


MIN_ORBIT_ANGLE = 2.0 ** -12  # continuum_kernels follows the orbit down to this angle; below, one rho at a time


def continuum_kernels(rhos, tau, digits: int = 12) -> list:
    """``S(tau)/tau`` (:func:`continuum_kernel`, sec. 6.1) for many ``rho`` from ONE solution of the
    continuum ODE, to about ``digits`` digits (no error estimate: for figures; the tests compare it
    with :func:`continuum_kernel`).

    The flow ``d rho/dt = shat(rho) - rho`` is autonomous, so every start lies on the orbit that leaves
    ``theta = pi`` (rho = -1) at t = 0, shifted in time. With the angle as independent variable (sec. 7.1)
    one solve of ``dt/dtheta = -1/v``, ``dE/dtheta = -(theta/pi) E / v``, ``dJ/dtheta = -Q E / v`` from
    ``theta = pi`` (``t = J = 0``, ``E = 1``; ``E = exp(int theta/pi dt)``) gives every rho at once: the
    S equation ``dS/dt = -(theta/pi) S + Q``, ``S = 0`` at the start, is linear, ``d(E S)/dt = Q E``, so
    from ``theta_0 = arccos rho`` to the angle ``theta_1`` reached at time ``t(theta_0) + tau``

        S(tau) = (J(theta_1) - J(theta_0)) / E(theta_1).

    ``theta_1`` solves ``t(theta_1) = t(theta_0) + tau`` (:func:`_angle_at_time`). Starts whose
    ``theta_1`` falls below MIN_ORBIT_ANGLE (rho within ~1e-5 of 1 at tau ~ 1) are computed one by one
    by :func:`continuum_kernel`.
    Returns mpf values, in the order of ``rhos``.
    """
    ctx = mpmath.MPContext()
    ctx.dps = digits + 8  # guard: the cancellation of s3 near MIN_ORBIT_ANGLE, of J(theta_1) - J(theta_0)
    pi, tol = ctx.pi, ctx.mpf(10) ** -(digits + 2)
    T = _num(ctx, tau)

    def rhs(x, y):
        th = pi - x  # odefun integrates forward in x = pi - theta
        inv_v, Q = _angle_rates(ctx, th)
        return [inv_v, y[1] * (th / pi) * inv_v, Q * y[1] * inv_v]

    sol = ctx.odefun(rhs, 0, [ctx.zero, ctx.one, ctx.zero], tol=tol)
    out = []
    for rho in rhos:
        r = inputs.rho_exact(rho)
        if r == 1:
            out.append(ctx.one)
            continue
        th0 = ctx.acos(_num(ctx, r))
        t0, _, J0 = sol(pi - th0)
        th = _angle_at_time(ctx, lambda a: sol(pi - a)[0], t0 + T, th0, tol, MIN_ORBIT_ANGLE)
        if th is None:
            out.append(continuum_kernel(r, tau, digits)[0])
            continue
        _, E1, J1 = sol(pi - th)
        out.append((J1 - J0) / E1 / T)
    return out


def large_tau_coefficient(rho, digits: int = 12):
    """``s_0(rho) = lim_{tau->oo} (S(tau) - tau/4)`` of the continuum ODE (sec. 7.1), so that
    ``S(tau)/tau = 1/4 + s_0/tau + o(1/tau)``.

    In the angle as independent variable the ODE is analytic on ``(0, pi]`` (sec. 7.1):
    ``dt/dtheta = -1/v``, ``dS/dtheta = -(Q - (theta/pi) S)/v``, ``v = s3(theta)/(pi sin theta)``.
    It is integrated by ``mpmath.odefun`` (Taylor method) from ``theta_0 = arccos rho`` down to
    ``theta_k = 2^-k``, k = 6..14, and ``X = S - t/4`` is extrapolated to ``theta = 0`` in the basis
    ``1, theta, theta^2 log theta, theta^2, theta^3 log theta, theta^3, theta^4 log theta``.
    Returns ``(s0, error, form)``; error: the change when the two smallest-order basis functions are
    dropped (5 instead of 7 points).
    """
    ctx, th0, sol = continuum_theta_ode(rho, digits + 12)
    pts = []
    for k in range(6, 15):
        th = ctx.ldexp(1, -k)
        if th >= th0:
            continue
        t, S = sol(th0 - th)
        pts.append((th, S - t / 4))

    def fit(rows):
        basis = [lambda h: 1, lambda h: h, lambda h: h * h * ctx.log(h), lambda h: h * h,
                 lambda h: h ** 3 * ctx.log(h), lambda h: h ** 3, lambda h: h ** 4 * ctx.log(h)][:len(rows)]
        M = ctx.matrix([[f(h) for f in basis] for h, _ in rows])
        return ctx.lu_solve(M, ctx.matrix([x for _, x in rows]))[0]

    hi, lo = fit(pts[-7:]), fit(pts[-5:])
    return hi, abs(hi - lo), ("continuum ODE in theta (mpmath.odefun) to theta = 2^-14, S - t/4 extrapolated "
                              "to theta = 0 in powers of theta and theta^k log theta")


LARGE_TAU_POINTS = tuple(2 ** k for k in range(14, 31, 4))  # tau where S(tau) is fitted (sec. 7.4)


def large_tau_coefficients(rho, digits: int = 12):
    """``(s_0, s_1, s_2)`` and their errors in ``S(tau) = tau/4 + s_0 + s_1/tau + s_2/tau^2 + O(log tau/tau^3)``,
    the large-time expansion of the continuum ODE (sec. 7.4), i.e. ``F_0(tau) = 1/4 + s_0/tau + s_1/tau^2 + ...``.

    ``S(tau)`` by the segmented continuum orbit (:func:`segmented_orbit`, ``w = 0``) at the ``tau`` of
    LARGE_TAU_POINTS, fitted in the basis ``1, 1/tau, 1/tau^2, log tau/tau^3, 1/tau^3`` (the first log
    comes with the resonance ``tau^-3`` of the homogeneous solution). Errors: the change when the last
    basis function is dropped (four deepest points), plus the largest orbit error times ``tau_max^k``
    (a crude bound of its effect on ``s_k``). Independent of
    :func:`large_tau_coefficient` (the angle ODE), which the tests compare it with."""
    r = inputs.rho_exact(rho)
    ctx = _ctx(digits + 15)
    pts, err = [], ctx.zero
    for tau in LARGE_TAU_POINTS:
        _, (_, _, S), rel, _ = segmented_orbit(r, 1, 0, tau=tau, digits=digits + 15)
        pts.append((ctx.mpf(tau), ctx.mpf(S) - ctx.mpf(tau) / 4))
        err = max(err, ctx.mpf(rel * S))
    basis = [lambda x: 1, lambda x: 1 / x, lambda x: x ** -2, lambda x: ctx.log(x) / x ** 3, lambda x: x ** -3]

    def fit(rows, nb):
        M = ctx.matrix([[f(x) for f in basis[:nb]] for x, _ in rows])
        return ctx.lu_solve(M, ctx.matrix([y for _, y in rows]))

    hi, lo = fit(pts, 5), fit(pts[1:], 4)
    return [(hi[k], abs(hi[k] - lo[k]) + err * LARGE_TAU_POINTS[-1] ** k) for k in range(3)]


# Skip-ahead (issue 6): a value at depth L without L steps. -------------------------------------------

FIXED_STEP_FIT = (1000, 2000, 4000, 8000, 16000)  # depths where T - G(theta) is measured (sec. 3.5)
FIXED_STEP_CHECK = 32000  # and where the fitted correction is checked
FIXED_STEP_SPAN = 4  # theta must shrink at least this much over those depths (K <~ 9000, 1 - rho >~ 1e-6)
_HOM_TERMS = ((3, 0), (3, 1), (4, 0), (4, 1), (4, 2))  # theta^k log^j theta: resonant theta^3, next order


def _fixed_step_skip(st: Setting, r: Fraction, L: int, digits: int):
    """``Omegabar_L = (G(theta_L) + E(theta_L)) / L``, ``Phi(theta_L) = L + K`` (sec. 3.5).

    ``E = T - G`` solves the homogeneous equation up to the truncation of ``G``; its leading terms
    ``theta^3 (kappa_3 + mu_3 log theta) + theta^4 (kappa_4 + mu_4 log theta)`` are fitted to the exact
    recursion on two windows of depths (FIXED_STEP_FIT and the same shifted to FIXED_STEP_CHECK); the
    value uses the deeper window. Reported error: 3 times the two windows' disagreement at theta_L
    (the fit's extrapolation error, measured where it is used), plus the orbit constant's error.
    None when the orbit starts so near theta = 0 that the fit is ill-conditioned: theta_l ~ A / (K + l)
    must shrink by a factor FIXED_STEP_SPAN over the fitted depths, i.e. K (~ A / theta_0, large for rho
    near 1) must be small beside them. Otherwise the basis functions barely differ there, both windows
    extrapolate alike and their disagreement underestimates the error (measured: 170 times at
    rho = 1 - 1e-12, L = 10^12; the fit is singular at rho = 1 - 1e-29).
    """
    K, Kerr = fixed_step_constant(st.w, st.c, r, digits + 5)
    if K + FIXED_STEP_CHECK < FIXED_STEP_SPAN * (K + FIXED_STEP_FIT[0]):
        return None
    ctx, f, A, C, d, g = _fixed_step_series(st.w, st.c, 14, digits + 20)
    dd = digits <= DD_FATOU_DIGITS
    K = ctx.mpf(K)
    pts, th, T, l = [], None, None, 0
    for li in FIXED_STEP_FIT + (FIXED_STEP_CHECK,):  # one exact run, checkpointed
        th, T = exact(r, li, st.w, st.c, ctx=ctx, theta0=th, l0=l, T0=T, dd=dd)
        l = li
        pts.append((th, T - _G(th, g)))

    def basis(t):
        return [t ** k * ctx.log(t) ** j for k, j in _HOM_TERMS]

    def correction(rows):
        co = ctx.lu_solve(ctx.matrix([basis(t) for t, _ in rows]), ctx.matrix([e for _, e in rows]))
        return lambda t: sum(c_ * b for c_, b in zip(co, basis(t)))

    th_L = _fatou_theta(ctx, A, C, d, K + L)
    deep, shallow = correction(pts[1:]), correction(pts[:-1])  # two windows of the exact orbit
    value = (_G(th_L, g) + deep(th_L)) / L
    # the windows' disagreement at theta_L itself measures the extrapolation error of the fit; rounding is
    # relative to G(theta_L) ~ L/4, i.e. to the value (measured: 1e-133 at 130 digits, L = 10^100)
    err = 3 * abs(deep(th_L) - shallow(th_L)) / L + ctx.ldexp(abs(value), (-100 if dd else -ctx.prec) + 8) + \
        Kerr / (4 * L)
    form = (f"asymptotic: fixed-step orbit (Fatou coordinate, K = {mpmath.nstr(K, 12)}) + resonant "
            f"theta^3, theta^4 terms fitted to the recursion at L = {FIXED_STEP_FIT + (FIXED_STEP_CHECK,)}")
    return value, err, form


def _segmented_skip(st: Setting, r: Fraction, L: int, digits: int, kernel: str = "ntk", progress=None):
    """``Omegabar_L = S_L / (L w)`` (NTK) or ``rho_L = (v_L - u_L)/2`` (GP) from :func:`segmented_orbit`
    (sec. 6.3), any setting and depth."""
    w = st.w_at(_ctx(digits + 40), L)
    ctx, (u, v, S), rel, m = segmented_orbit(r, st.c, w, L=L, digits=digits + 2, progress=progress)
    tau = L * _num(ctx, w)
    val, err = (S / tau, rel * abs(S / tau)) if kernel == "ntk" else ((v - u) / 2, rel * (u + v) / 2)
    # 1 - value: for the GP kernel the orbit's own u = 1 - rho_L (relative error rel), for the NTK 1 - S/tau
    one_minus, one_minus_err = (1 - val, err) if kernel == "ntk" else (u, rel * u)
    return val, err, (f"asymptotic: segmented orbit (tau = L w = {mpmath.nstr(tau, 6)}; {SEGMENT_EXACT} exact steps, "
                      f"then {m - 1} segments doubling in depth, each extrapolated in 1/N from coarse runs of "
                      "the recursion)"), one_minus, one_minus_err


def skip_ahead(arch: str, rho, L: int, *, gamma=None, alpha=None, beta=None, digits: int = 30, kernel: str = "ntk",
               progress=None):
    """``(value, error, method)`` of ``Omegabar_L(rho)`` (``kernel="ntk"``) or of the normalized GP
    kernel ``rho_L`` (``kernel="gp"``) by an asymptotic description, or ``None`` at depths up to
    SEGMENT_EXACT, where the exact recursion is as cheap.

    Fixed-step NTK (FFNet, constant alpha) beyond 4 FIXED_STEP_CHECK layers: the Fatou-coordinate route
    (:func:`_fixed_step_skip`, sec. 3.5) when its error reaches ``digits`` (it does not for small
    alpha, whose orbit is still far from theta = 0 at the fitted depths) and the orbit does not start
    too near theta = 0 for its fit (rho within ~1e-6 of 1; FIXED_STEP_SPAN); every other case: the
    segmented orbit (:func:`segmented_orbit`, sec. 6.3), which applies to every setting;
    ``progress(done, segments)`` is called after each of its segments.

    Reach: the returned ``error`` says how many digits were reached, which may be fewer than
    ``digits``: the segmented orbit stops after SEGMENT_LEVELS extrapolation levels per segment, about
    85-90 digits (sec. 6.3); :func:`rntk_sym.kernel` refuses more than reached, in one line.
    """
    res = skip_ahead_with_complement(arch, rho, L, gamma=gamma, alpha=alpha, beta=beta, digits=digits, kernel=kernel,
                                     progress=progress)
    return None if res is None else res[:3]


def skip_ahead_with_complement(arch: str, rho, L: int, *, gamma=None, alpha=None, beta=None, digits: int = 30,
                               kernel: str = "ntk", progress=None):
    """:func:`skip_ahead` followed by ``(1 - value, its error)``: for the GP kernel by the segmented
    orbit's ``u = 1 - rho_L`` (no cancellation where ``rho_L`` rounds to 1), else ``(None, None)``
    (``1 - value`` has then the value's absolute error)."""
    st = setting(arch, gamma, alpha, beta)
    kernel = inputs.choice("kernel", kernel, inputs.KERNELS)
    r = inputs.rho_exact(rho, digits + 20)
    L = inputs.depth(L)
    ctx = _ctx(digits + 10)
    if r == 1:
        return ctx.mpf(1), ctx.mpf(0), "exact: diagonal", ctx.mpf(0), ctx.mpf(0)
    if kernel == "ntk" and st.regime == "fixed-step" and L > 4 * FIXED_STEP_CHECK:
        res = _fixed_step_skip(st, r, L, digits)  # the faster route, when its error reaches the digits
        if res is not None and res[1] <= abs(res[0]) * ctx.mpf(10) ** -digits / 2:
            return (*res, None, None)
    if L <= SEGMENT_EXACT:
        return None
    return _segmented_skip(st, r, L, digits, kernel, progress)


def leading_rate(arch: str, rho, *, gamma=None, alpha=None, beta=None) -> str:
    """The derived form of the leading term of ``Omegabar_L - limit`` (docs/asymptotics.md), in words."""
    st = setting(arch, gamma, alpha, beta)
    r = inputs.rho_exact(rho)
    if r == 1:
        return "0 (diagonal)"
    if st.regime == "fixed-step":
        return "L^-1 log L"
    if st.regime == "continuum":
        return "L^-1"
    g = st.gamma
    if st.regime == "small-tau":
        return f"L^-({(2 * g - 1) / 2})" if r == -1 else f"L^-({2 * g - 1})"
    return f"L^-({1 - 2 * g})"


def degeneration_time(rho, fraction=HALF, digits: int = 8):
    """``tau_*``: the total time ``tau = L w`` at which the continuum kernel has moved ``fraction`` of
    the way from the one-hidden-layer value ``Omegabar_1(rho)`` to the degenerate 1/4 (sec. 7.2).

    With ``alpha = L^-gamma`` (``tau ~ L^(1 - 2 gamma)``) the degeneration shows from depth
    ``L_* = tau_*^(1 / (1 - 2 gamma))`` on; see :func:`degeneration_depth`.
    """
    ctx = _ctx(digits + 5)
    r = inputs.rho_exact(rho)
    q = _eval_rho(ctx, sp.sympify(Q_EXACT, locals={"rho": RHO}), r)
    target = q + _num(ctx, Fraction(fraction)) * (ctx.mpf(1) / 4 - q)

    def f(log_tau):
        v, _, _ = continuum_kernel(r, ctx.exp(log_tau), digits + 2)
        return v - target

    lo, hi = ctx.mpf(-4), ctx.mpf(1)
    while f(hi) * f(lo) > 0 and hi < 12:  # F0 moves monotonically from Q toward 1/4
        lo, hi = hi, hi + 2
    for _ in range(60):  # bisection in log tau: robust, ~1 s per evaluation
        mid = (lo + hi) / 2
        if f(lo) * f(mid) <= 0:
            hi = mid
        else:
            lo = mid
        if hi - lo < ctx.mpf(10) ** (-digits):
            break
    return ctx.exp((lo + hi) / 2)


def degeneration_depth(rho, gamma, fraction=HALF, digits: int = 6):
    """``L_* = tau_*^(1/(1 - 2 gamma))`` for ``gamma`` in (0, 1/2): the depth from which the
    normalized NTK is closer to the degenerate 1/4 than ``fraction`` of the way (sec. 7.2)."""
    g = inputs.exact_number("gamma", gamma)
    if not 0 < g < HALF:
        raise ValueError(f"gamma: must be in (0, 1/2), got {gamma!r}")
    t = degeneration_time(rho, fraction, digits)
    return t ** (1 / (1 - 2 * _num(t.context, g)))


# Signal propagation (issue 15): the one-point analysis of the FFNet, rntk_sym.phase (docs/phases.md)
from .phase import edge_of_chaos, phase  # noqa: E402, F401
