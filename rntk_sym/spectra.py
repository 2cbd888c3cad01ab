"""Mercer eigenvalues of the normalized kernels on the sphere, and their decay constants (docs/spectra.md).

A dot-product kernel ``k(t)``, ``t = <x, x'>``, on ``S^(dim-1)`` with the uniform probability measure has
the eigenvalue ``mu_k`` on every degree-k spherical harmonic (Funk-Hecke; multiplicity ``N(dim, k)``)::

    mu_k = (|S^(d-2)| / |S^(d-1)|) int_{-1}^{1} k(t) P_k(t) (1 - t^2)^((d-3)/2) dt
         = (|S^(d-2)| / |S^(d-1)|) int_0^pi k(cos th) P_k(cos th) sin(th)^(d-2) d th,

``P_k`` the Gegenbauer polynomial of index ``(d-2)/2`` with ``P_k(1) = 1``; ``sum_k N(d, k) mu_k = k(1) = 1``.

The kernels of this package are analytic in ``sqrt(1 - t)`` near ``t = 1`` and in ``sqrt(1 + t)`` near
``t = -1`` (docs/spectra.md sec. 2), and ``sqrt(1 - cos th) = sqrt(2) sin(th/2)``, ``sqrt(1 + cos th) =
sqrt(2) cos(th/2)``: in the angle the integrand is analytic on the closed interval ``[0, pi]``. Gauss-Legendre
in ``th`` therefore converges geometrically, where Gauss-Jacobi in ``t`` converges only like a power of the
node count (the endpoint singularities ``(1 -+ t)^nu``). The kernel is evaluated at the nodes from
``u = 1 - t = 2 sin^2(th/2)`` and ``v = 1 + t = 2 cos^2(th/2)`` (no cancellation near ``t = +-1``), and
``P_k`` by the normalized three-term recurrence (stable on [-1, 1]).

The decay ``mu_k ~ C_(k mod 2) k^-(d - 1 + 2 nu)`` follows from the endpoint terms ``c_+ (1 - t)^nu`` and
``c_- (1 + t)^nu`` (:func:`decay`), whose coefficients come in closed form from the recursion.
"""
from __future__ import annotations

import math
import numbers
import re
from dataclasses import dataclass, field
from fractions import Fraction
from functools import cache

import mpmath
import numpy as np

from . import inputs
from .backends import MPBackend
from .kernels import LOG2_10, _alpha2, _pair_uv, evaluate_uv_float, nstr, recursion_seconds, rounded

MAX_DIM = 10**6
MAX_KMAX = 10**5
MAX_SECONDS = 600.0  # a request estimated longer is refused (ValueError naming kmax, or depth in float64)
DECAY_MAX_DEPTH = 10**6
EXACT_DEPTH = 6  # closed-form (SymPy) decay constants up to this depth; deeper ones numerically (mpmath)


def multiplicity(dim: int, k: int) -> int:
    """``N(dim, k)``: the dimension of the degree-k spherical harmonics on ``S^(dim-1)`` (an exact int)."""
    if k == 0:
        return 1
    if dim == 2:
        return 2
    return (2 * k + dim - 2) * math.comb(k + dim - 3, k - 1) // k


def _sphere_ratio_log(dim: int) -> float:
    """``log(|S^(d-2)| / |S^(d-1)|) = log(Gamma(d/2) / (sqrt(pi) Gamma((d-1)/2)))``."""
    return math.lgamma(dim / 2) - math.lgamma((dim - 1) / 2) - 0.5 * math.log(math.pi)


# ---------------------------------------------------------------------------------------------- float64

def _newton_legendre(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Gauss-Legendre nodes and weights on [-1, 1] for any ``n`` in O(n^2) (numpy's companion-matrix
    eigenvalues cost O(n^3)): Newton's method on ``P_n`` from Tricomi's initial guesses, symmetric half."""
    m = (n + 1) // 2
    i = np.arange(1, m + 1)
    x = np.cos(np.pi * (i - 0.25) / (n + 0.5)) * (1 - (n - 1) / (8.0 * n ** 3))
    for _ in range(100):
        p0, p1 = np.ones_like(x), x.copy()
        for j in range(2, n + 1):
            p0, p1 = p1, ((2 * j - 1) * x * p1 - (j - 1) * p0) / j
        dp = n * (x * p1 - p0) / (x * x - 1)
        dx = p1 / dp
        x = x - dx
        if np.max(np.abs(dx)) < 1e-16:
            break
    p0, p1 = np.ones_like(x), x.copy()
    for j in range(2, n + 1):
        p0, p1 = p1, ((2 * j - 1) * x * p1 - (j - 1) * p0) / j
    dp = n * (x * p1 - p0) / (x * x - 1)
    w = 2 / ((1 - x * x) * dp * dp)
    if n % 2:  # the middle node 0 is in both halves
        return np.concatenate([x, -x[-2::-1]]), np.concatenate([w, w[-2::-1]])
    return np.concatenate([x, -x[::-1]]), np.concatenate([w, w[::-1]])


@cache
def angle_nodes(n: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` Gauss-Legendre nodes ``th`` in (0, pi) and their weights (``d th``), float64."""
    if n <= 100:
        x, w = np.polynomial.legendre.leggauss(n)
    else:
        x, w = _newton_legendre(n)
    return (x + 1) * (np.pi / 2), w * (np.pi / 2)


def gegenbauer_iter(t, dim: int, kmax: int):
    """``P_0(t), P_1(t), ..., P_kmax(t)`` (Gegenbauer of index ``lam = (d - 2)/2``, ``P_k(1) = 1``) by the
    normalized recurrence ``(k + 2 lam) P_(k+1) = 2 (k + lam) t P_k - k P_(k-1)`` (bounded by 1 on [-1, 1]:
    stable). ``t``: a float64 array (arrays out) or a list of mpf (lists out)."""
    vec = isinstance(t, np.ndarray)
    lam2 = dim - 2  # 2 lam
    p_prev, p = None, (np.ones_like(t) if vec else [x * 0 + 1 for x in t])
    for k in range(kmax + 1):
        yield p
        if k == kmax:
            return
        if k == 0:
            p_prev, p = p, (t.copy() if vec else list(t))
            continue
        a, b, c = 2 * k + lam2, k, k + lam2
        if vec:
            p_prev, p = p, (a * t * p - b * p_prev) / c
        else:
            p_prev, p = p, [(a * ti * pi - b * qi) / c for ti, pi, qi in zip(t, p, p_prev)]


def _gegenbauer_moments(t, g, dim: int, kmax: int):
    """``[sum_i g_i P_k(t_i) for k = 0..kmax]`` and ``[sum_i |g_i P_k(t_i)|]`` (:func:`gegenbauer_iter`),
    on numpy arrays (float64) or lists of mpf."""
    vec = isinstance(t, np.ndarray)
    mom, mag = [], []
    for p in gegenbauer_iter(t, dim, kmax):
        terms = g * p if vec else [gi * pi for gi, pi in zip(g, p)]
        mom.append(np.sum(terms) if vec else sum(terms))
        mag.append(np.sum(np.abs(terms)) if vec else sum(abs(x) for x in terms))
    return mom, mag


def _kernel_float(model, theta: np.ndarray) -> np.ndarray:
    arch, kernel, depth, gamma, alpha, network = model
    if network:
        from .kernels import kernel as kernel_fn

        return np.asarray(kernel_fn(arch, np.cos(theta), depth, kernel=kernel, gamma=gamma, alpha=alpha, **network))
    s, c = np.sin(theta / 2), np.cos(theta / 2)
    scale = inputs.scaling(arch, gamma, alpha)
    return evaluate_uv_float(arch, kernel, 2 * s * s, 2 * c * c, depth, scale)


def float_nodes(dim: int, kmax: int) -> int:
    """Node count of the float64 quadrature: P_k(cos th) oscillates like cos(k th); the weight sin^(d-2)
    has width ~ 1/sqrt(d) about pi/2; the margin covers the kernel's own scale (~1/L near th = 0, resolved
    by the nodes' clustering at the ends)."""
    return int(kmax + 4 * math.sqrt(dim) + 64)


def _float_mu(model, dim: int, kmax: int, n: int):
    theta, w = angle_nodes(n)
    t = np.cos(theta)
    with np.errstate(under="ignore"):
        wt = np.exp(np.log(w) + (dim - 2) * np.log(np.sin(theta)) + _sphere_ratio_log(dim))
    g = wt * _kernel_float(model, theta)
    mom, mag = _gegenbauer_moments(t, g, dim, kmax)
    return np.array(mom), np.array(mag)


# ---------------------------------------------------------------------------------------------- mpmath

@cache
def _mp_angle_nodes(level: int, prec: int):
    """mpmath's Gauss-Legendre nodes of degree ``level`` (3 * 2^(level-1) nodes) mapped to (0, pi), at ``prec``."""
    ctx = mpmath.MPContext()
    ctx.prec = prec
    from mpmath.calculus.quadrature import GaussLegendre

    nodes = GaussLegendre(ctx).calc_nodes(level, prec)
    half = ctx.pi / 2
    return [((x + 1) * half, w * half) for x, w in nodes]


def _mp_level(n: int) -> int:
    """The smallest mpmath Gauss-Legendre degree with at least ``n`` nodes."""
    level = 1
    while 3 * 2 ** (level - 1) < n:
        level += 1
    return level


def _mp_mu(model, dim: int, kmax: int, level: int, prec: int, progress=None):
    """mu_0..mu_kmax (and the sums of |terms|) on mpmath's Gauss-Legendre level ``level`` at ``prec`` bits;
    ``progress()`` after each node's kernel value."""
    arch, kernel, depth, gamma, alpha, network = model
    ctx = mpmath.MPContext()
    ctx.prec = prec
    nodes = _mp_angle_nodes(level, prec)
    ratio = ctx.gamma(ctx.mpf(dim) / 2) / (ctx.sqrt(ctx.pi) * ctx.gamma(ctx.mpf(dim - 1) / 2))
    if network:
        from . import general

        digits = int(prec / LOG2_10) - 5
        vals = []
        for th, _ in nodes:
            vals.append(ctx.mpf(general.kernel(arch, ctx.cos(th), depth, kernel=kernel, gamma=gamma, alpha=alpha,
                                               digits=digits, **network).value))
            progress and progress()
    else:
        be = MPBackend(prec)
        scale = inputs.scaling(arch, gamma, alpha)
        vals = []
        for th, _ in nodes:
            s, c = ctx.sin(th / 2), ctx.cos(th / 2)
            vals.append(_pair_uv(be, arch, kernel, 2 * s * s, 2 * c * c, depth, scale)[0])
            progress and progress()
    t = [ctx.cos(th) for th, _ in nodes]
    g = [w * ctx.sin(th) ** (dim - 2) * ratio * kv for (th, w), kv in zip(nodes, vals)]
    return _gegenbauer_moments(t, g, dim, kmax)


def progress_total(dim: int, kmax: int, digits: int) -> int:
    """Kernel evaluations of ``spectrum(..., digits=D)`` when the first two levels suffice."""
    return 9 * 2 ** (_mp_level(mp_nodes(dim, kmax, digits)) - 1)


def mu_size_log10(dim: int, kmax: int) -> list[float]:
    """A rough lower estimate of ``log10 mu_k``, k = 0..kmax, for the working precision and the
    numerically-zero floor: the larger of the ``t^k`` term ``k! Gamma(d/2) / (2^k Gamma(d/2 + k))``
    (what a Taylor coefficient ~ k^-2 contributes) and the eigenvalue of ``(1 - t)^(3/2)`` (docs/spectra.md sec. 2)."""
    lg, ln10 = math.lgamma, math.log(10)
    out = []
    for k in range(kmax + 1):
        taylor = lg(k + 1) + lg(dim / 2) - k * math.log(2) - lg(dim / 2 + k) - 2 * math.log(k + 1)
        sing = lg(dim / 2) + (dim - 0.5) * math.log(2) + lg(1 + dim / 2) - 0.5 * math.log(math.pi) \
            - math.log(4 / 3 * math.sqrt(math.pi)) + lg(k + 1.5) - lg(k + 1.5 + dim)  # shifted: finite at k = 0, 1
        out.append(max(taylor, sing) / ln10)
    return out


def mp_seconds(depth: int, dim: int, kmax: int, digits: int) -> float:
    """Rough run time of ``spectrum(..., digits=D)`` (two node levels): kernel values at every node
    (~25 us per layer at 30 digits) and the recurrence (~6 mpf operations per node and degree, ~2 us each)."""
    n = 3 * 2 ** (_mp_level(mp_nodes(dim, kmax, digits)) - 1)
    per_op = 2e-6 * (1 + digits / 100) ** 1.6
    return 3 * n * (depth * 25e-6 * (1 + digits / 100) ** 1.6 + 6 * (kmax + 1) * per_op + 2e-4)


def mp_nodes(dim: int, kmax: int, digits: int) -> int:
    """Nodes needed for ``digits`` (an estimate: the float64 rule plus ~1.3 nodes per digit)."""
    return int(kmax + 4 * math.sqrt(dim) + 1.3 * digits + 32)


# ---------------------------------------------------------------------------------------------- results

@dataclass(frozen=True)
class Decay:
    """``mu_k ~ C_k k^-power``, ``C_k = C_even`` (k even) or ``C_odd`` (k odd), ``power = dim - 1 + 2 nu``,
    from the endpoint terms ``c_plus (1 - t)^nu`` and ``c_minus (1 + t)^nu`` (docs/spectra.md sec. 2-3):
    ``C_even/odd = A(dim, nu) (c_plus +- c_minus)``, ``A = Gamma(d/2) 2^(nu+d-2) Gamma(nu + (d-1)/2) /
    (sqrt(pi) Gamma(-nu))``. ``exact``: SymPy expressions of ``c_plus``, ``c_minus``, ``C_even``, ``C_odd``
    (None beyond EXACT_DEPTH); the mpf values carry ``digits`` digits."""

    nu: Fraction
    power: Fraction
    c_plus: mpmath.mpf
    c_minus: mpmath.mpf
    C_even: mpmath.mpf
    C_odd: mpmath.mpf
    dim: int
    exact: dict | None = field(default=None)

    def _scaled(self, k, log_shape) -> np.ndarray:
        """``C_k exp(log_shape(k))`` in float64, with ``log |C|`` from mpmath (A(d, nu) overflows float64
        for large d; the product need not)."""
        ks = np.asarray(k, dtype=float)
        out = np.zeros(ks.shape)
        for C, parity in ((self.C_even, 0), (self.C_odd, 1)):
            sel = ks % 2 == parity
            if C and sel.any():
                out[sel] = math.copysign(1, C) * np.exp(float(mpmath.log(abs(C))) + log_shape(ks[sel]))
        return out if out.ndim else float(out)

    def leading(self, k):
        """``C_k k^-power`` for ``k >= 1`` (an int or an array; float64 values)."""
        return self._scaled(k, lambda ks: -float(self.power) * np.log(ks))

    def singular(self, k):
        """The exact eigenvalues of the two endpoint terms alone, ``(c_plus + (-1)^k c_minus) A(d, nu)
        Gamma(k - nu) / Gamma(k + nu + d - 1)`` (``leading`` times 1 + O(1/k)); for ``k >= 1``."""
        nu, d = float(self.nu), self.dim
        lg = np.vectorize(math.lgamma, otypes=[float])
        return self._scaled(k, lambda ks: lg(ks - nu) - lg(ks + nu + d - 1))


@dataclass(frozen=True)
class Spectrum:
    """``mu[k]`` (k = 0..kmax) and ``error[k]`` (bound on ``|mu[k] - mu_k|`` of the form ``error_kind``);
    float64 arrays, or lists of mpf with ``digits``. ``decay``: the asymptotic constants (None when the
    kernel has no derived endpoint expansion; ``decay_note`` says why). ``nodes``: the two node counts."""

    mu: object
    error: object
    dim: int
    digits: int | None
    error_kind: str
    nodes: tuple
    decay: Decay | None
    decay_note: str | None = field(default=None)

    def decimals(self) -> list[str]:
        """Each ``mu_k`` as a decimal string: float64 ``repr``, or rounded to the digits its error supports;
        ``"0"`` where ``|mu_k| <= error`` (zero within the error, e.g. the odd k >= 3 of the two-layer NTK)."""
        if self.digits is None:
            return ["0" if abs(m) <= e else repr(float(m)) for m, e in zip(self.mu, self.error)]
        return ["0" if abs(m) <= e else rounded(m, e, self.digits) for m, e in zip(self.mu, self.error)]

    def error_strings(self) -> list[str]:
        return [nstr(e, 3) if self.digits else f"{float(e):.3g}" for e in self.error]


def count(name: str, x, lo: int, hi: int, what: str = "") -> int:
    """An integer in [lo, hi] (a Python/numpy integer or a string of digits), else a ValueError naming ``name``."""
    v = None
    if isinstance(x, numbers.Integral) and not isinstance(x, bool):
        v = int(x)
    elif isinstance(x, str) and re.fullmatch(r"\s*[-+]?\d{1,12}\s*", x):
        v = int(x)
    if v is None or not lo <= v <= hi:
        raise ValueError(f"{name}: must be an integer in [{lo}, {hi}]{' ' + what if what else ''}, got {x!r}")
    return v


def _validate(arch, depth, dim, kmax, kernel, digits):
    arch = inputs.choice("arch", arch, inputs.ARCHS)
    kernel = inputs.choice("kernel", kernel, inputs.KERNELS)
    depth = inputs.depth(depth)
    dim = count("dim", dim, 2, MAX_DIM, "(the sphere S^(dim-1) of R^dim)")
    kmax = count("kmax", kmax, 0, MAX_KMAX)
    return arch, kernel, depth, dim, kmax, inputs.digits(digits)


def spectrum(arch: str, depth: int, dim: int, kmax: int, *, gamma=None, alpha=None, kernel: str = "ntk",
             digits: int | None = None, activation=None, weight_var=None, bias_var=None,
             max_seconds: float | None = None, progress=None) -> Spectrum:
    """Mercer eigenvalues ``mu_0 .. mu_kmax`` of the normalized kernel (``Omegabar_L`` or the GP kernel)
    on ``S^(dim-1)`` under the uniform probability measure (``P_k(1) = 1``: ``sum_k N(dim, k) mu_k = 1``).

    Arguments as :func:`rntk_sym.kernel` (``depth`` = L, ``gamma``/``alpha`` for the ResNet, ``kernel``,
    ``activation``/``weight_var``/``bias_var``); ``dim`` = d >= 2 (the sphere ``S^(d-1)`` of R^d);
    ``kmax`` >= 0.

    ``digits=None``: float64 Gauss-Legendre in the angle at ``n`` and ``3n/2`` nodes (``n = kmax + 4 sqrt(d)
    + 64``); ``error = |Q_n - Q_3n/2| + 4 eps sum|terms|`` (the truncation estimated by the difference under
    geometric convergence, plus the rounding of the sum). ``digits=D``: mpmath at ``D`` + guard digits on
    mpmath's Gauss-Legendre levels (3 2^(m-1) nodes) ``m`` and ``m + 1``, ``error = |Q_m - Q_(m+1)|``
    (an estimate under geometric convergence), the level raised until every ``mu_k`` has D digits or is
    far below its expected size (:func:`mu_size_log10`; numerically zero); a request estimated longer than
    ``max_seconds`` (default MAX_SECONDS) is refused (ValueError naming ``kmax``) with the estimate, never
    started. ``progress(done)``: called during the ``digits`` computation, ``done`` kernel evaluations out of
    :func:`progress_total` (more levels, if needed, run past it).
    """
    arch, kernel, depth, dim, kmax, digits = _validate(arch, depth, dim, kmax, kernel, digits)
    inputs.scaling(arch, gamma, alpha)
    network = {k: v for k, v in (("activation", activation), ("weight_var", weight_var),
                                 ("bias_var", bias_var)) if v is not None}
    from . import general

    seed = not general.uses_general(arch, activation, weight_var, bias_var, gamma, alpha)
    model = (arch, kernel, depth, gamma, alpha, network if not seed else {})
    dec, note = None, None
    if depth > DECAY_MAX_DEPTH:
        note = f"decay constants: computed up to L = {DECAY_MAX_DEPTH} (a product over the layers)"
    elif seed:
        dec = decay(arch, depth, dim, gamma=gamma, alpha=alpha, kernel=kernel, digits=max(20, digits or 0))
    else:
        try:
            dec = decay(arch, depth, dim, gamma=gamma, alpha=alpha, kernel=kernel, digits=max(20, digits or 0),
                        **network)
        except ValueError as e:
            note = (f"{str(e).removeprefix('activation: ')} (docs/spectra.md sec. 3); "
                    "the eigenvalues are given without them")
    limit = MAX_SECONDS if max_seconds is None else max_seconds
    if digits is None:
        n1 = float_nodes(dim, kmax)
        n2 = n1 * 3 // 2
        # two runs of the float64 recursion (evaluate_uv_float: compiled when numba imports, as this assumes)
        est = recursion_seconds(None, depth, n1) + recursion_seconds(None, depth, n2) + 2e-8 * (n1 + n2) * kmax
        if est > limit:
            raise ValueError(f"depth: the kernel at {n1 + n2} nodes through L = {inputs.depth_text(depth)} layers "
                             f"would take about {est:.3g} s (limit {limit:.3g} s)")
        m1, _ = _float_mu(model, dim, kmax, n1)
        m2, mag = _float_mu(model, dim, kmax, n2)
        err = np.abs(m2 - m1) + 4 * np.finfo(float).eps * mag
        return Spectrum(m2, err, dim, None, f"|Q_{n1} - Q_{n2}| + 4 eps sum|terms| (Gauss-Legendre in the angle; "
                        "truncation assumed below the difference: geometric convergence)", (n1, n2), dec, note)
    est = mp_seconds(depth, dim, kmax, digits)
    if est > limit:
        raise ValueError(f"kmax: {digits} digits of mu_0..mu_{kmax} on S^{dim - 1} at L = {inputs.depth_text(depth)} "
                         f"would take about {est:.3g} s (limit {limit:.3g} s; about "
                         f"{mp_nodes(dim, kmax, digits)} nodes); lower kmax, digits or depth")
    sizes = mu_size_log10(dim, kmax)
    guard = 10 + int(-min(sizes))
    prec = math.ceil((digits + guard) * LOG2_10)
    level = _mp_level(mp_nodes(dim, kmax, digits))
    ctx = mpmath.MPContext()
    ctx.prec = prec
    done = [0]

    def tick():
        done[0] += 1
        progress(done[0])

    tick = tick if progress is not None else None
    q1, _ = _mp_mu(model, dim, kmax, level, prec, tick)
    for extra in range(3):
        q2, mag = _mp_mu(model, dim, kmax, level + 1, prec, tick)
        err = [abs(a - b) + ctx.ldexp(g, -prec + 8) for a, b, g in zip(q1, q2, mag)]  # + rounding of the sum
        floor = [ctx.mpf(10) ** (z - digits - 3) for z in sizes]  # far below the typical size: "zero"
        if all(e <= abs(m) * ctx.mpf(10) ** (-digits) / 2 or e <= f for m, e, f in zip(q2, err, floor)):
            break
        if extra == 2 or mp_seconds(depth, dim, kmax, digits) * 2 ** (extra + 1) > limit:
            worst = max(e / abs(m) for m, e, f in zip(q2, err, floor) if m and e > f)
            raise ValueError(f"kmax: only about {max(0, int(-ctx.log10(worst)))} of {digits} digits reached "
                             f"at {3 * 2 ** level} nodes within the time limit; lower kmax or digits")
        q1, level = q2, level + 1
    return Spectrum(q2, err, dim, digits, f"|Q_{3 * 2 ** (level - 1)} - Q_{3 * 2 ** level}| + rounding "
                    f"(mpmath Gauss-Legendre in the angle at {prec} bits; an estimate under geometric convergence)",
                    (3 * 2 ** (level - 1), 3 * 2 ** level), dec, note)


# ---------------------------------------------------------------------------------------------- decay

def _model_numbers(num, arch: str, depth: int, gamma, alpha):
    """``(w, c)`` of :mod:`rntk_sym.recursions` in the number system ``num`` (sympy or an mpmath context)."""
    if arch == "ffnet":
        return num.one, 0
    scale = inputs.scaling(arch, gamma, alpha)
    if num.is_sympy:
        import sympy as sp

        a2 = (sp.Rational(scale.alpha.numerator, scale.alpha.denominator) ** 2 if scale.alpha is not None
              else sp.Integer(depth) ** (-2 * sp.Rational(scale.gamma.numerator, scale.gamma.denominator)))
    else:
        a2 = _alpha2(MPBackend(num.ctx.prec), scale, depth)
    return a2 / (1 + a2), 1


class _Sym:
    is_sympy = True

    def __init__(self):
        import sympy as sp

        self.sp, self.one, self.pi, self.sqrt, self.acos = sp, sp.Integer(1), sp.pi, sp.sqrt, sp.acos

    def q(self, p, r=1):
        return self.sp.Rational(p, r)


class _Mp:
    is_sympy = False

    def __init__(self, digits: int):
        self.ctx = mpmath.MPContext()
        self.ctx.prec = math.ceil((digits + 10) * LOG2_10)
        self.one, self.pi, self.sqrt, self.acos = self.ctx.one, +self.ctx.pi, self.ctx.sqrt, self.ctx.acos

    def q(self, p, r=1):
        return self.ctx.mpf(p) / r


def endpoint_coefficients(num, arch: str, depth: int, kernel: str, gamma=None, alpha=None, mix=None):
    """``(nu, c_plus, c_minus)``: the normalized kernel is ``analytic + c_plus (1 - t)^nu + O((1 - t)^(nu+1/2))``
    at ``t = 1`` and ``analytic + c_minus (1 + t)^nu + ...`` at ``t = -1`` (docs/spectra.md sec. 3), in the
    number system ``num``. With ``shat(-1 + v) ~ b v^(3/2)``, ``b = 2 sqrt 2 / (3 pi)``, ``shatp(-1 + v) ~
    sqrt(2 v)/pi``, ``P(r) = 1 - w + w shatp(r)``, ``r_l`` the GP kernel at ``t = -1`` after l layers and
    ``beta`` the weight of ``rho shatp(rho)`` in ``Q`` (``1/(1+c)``):

    - NTK (nu = 1/2): ``c_plus = -(sqrt 2/pi) (w (L-1)/2 + beta)``,
      ``c_minus = -(sqrt 2/pi) beta / L prod_{l=1}^{L-1} P(r_l)``;
    - GP (nu = 3/2): ``c_plus = L w b``, ``c_minus = w b prod_{l=1}^{L-1} P(r_l)``.

    ``mix`` = m (a Fraction): the bias-free FFNet with an ``ab_relu`` activation, whose normalized dual is
    ``m shat + (1 - m) rho`` (:func:`relu_family_mix`): ``w = beta = m``, ``c = 0`` (docs/spectra.md sec. 3).
    """
    w, c = _model_numbers(num, arch, depth, gamma, alpha)
    beta = num.q(1, 1 + c)
    if mix is not None:
        w = beta = num.q(mix.numerator, mix.denominator)
    pi, sqrt = num.pi, num.sqrt

    def shat(r):
        return (sqrt(1 - r * r) + (pi - num.acos(r)) * r) / pi

    def P(r):
        return 1 - w + w * (pi - num.acos(r)) / pi

    prod, r = num.one, -num.one
    for _ in range(1, depth):
        r = (1 - w) * r + w * shat(r)  # r_l, l = 1 .. L-1
        prod = prod * P(r)
    if kernel == "ntk":
        s = sqrt(2) / pi
        return Fraction(1, 2), -s * (w * (depth - 1) / 2 + beta), -s * beta * prod / depth
    b = 2 * sqrt(2) / (3 * pi)
    return Fraction(3, 2), depth * w * b, w * b * prod


def singular_factor(num, dim: int, nu: Fraction):
    """``A(d, nu) = Gamma(d/2) 2^(nu+d-2) Gamma(nu + (d-1)/2) / (sqrt(pi) Gamma(-nu))``: the eigenvalues of
    ``(1 - t)^nu`` are exactly ``A Gamma(k - nu) / Gamma(k + nu + d - 1) ~ A k^-(d - 1 + 2 nu)``
    (docs/spectra.md sec. 2)."""
    if num.is_sympy:
        sp = num.sp
        n = sp.Rational(nu.numerator, nu.denominator)
        return sp.gamma(sp.Rational(dim, 2)) * 2 ** (n + dim - 2) * sp.gamma(n + sp.Rational(dim - 1, 2)) / (
            sp.sqrt(sp.pi) * sp.gamma(-n))
    ctx = num.ctx
    n = ctx.mpf(nu.numerator) / nu.denominator
    return ctx.gamma(ctx.mpf(dim) / 2) * ctx.power(2, n + dim - 2) * ctx.gamma(n + ctx.mpf(dim - 1) / 2) / (
        ctx.sqrt(ctx.pi) * ctx.gamma(-n))


_AB_PAIRS = {"relu": (0, 1), "abs": (-1, 1), "linear": (1, 1)}


def relu_family_mix(arch: str, activation=None, weight_var=None, bias_var=None, gamma=None, alpha=None):
    """The mixing weight ``m = (a - b)^2 / (a^2 + b^2)`` (a Fraction) of a bias-free FFNet with an ``ab_relu``
    activation (``a z`` for z < 0, ``b z`` for z > 0; relu, leaky_relu, abs, linear are members): its
    normalized dual is ``m shat + (1 - m) rho``, ``shat`` the relu's, whatever ``weight_var`` (docs/spectra.md
    sec. 3). None for the seeds' network (m = 1); ValueError naming ``activation`` where no endpoint
    expansion is derived (other activations, biases, the ResNet, and m = 0 (linear: a polynomial kernel) or
    m = 2 (a = -b: an even activation, whose t = -1 maps onto the singular point t = 1))."""
    from . import general

    if not general.uses_general(arch, activation, weight_var, bias_var, gamma, alpha):
        return None
    m = general.resolve(arch, activation, weight_var, bias_var, gamma, alpha)
    name = getattr(m.act, "name", None)
    if name == "leaky_relu":
        a, b = Fraction(str(m.act.params[0])), Fraction(1)
    elif name == "ab_relu":
        a, b = (Fraction(str(p)) for p in m.act.params)
    elif name in _AB_PAIRS:
        a, b = (Fraction(x) for x in _AB_PAIRS[name])
    else:
        raise ValueError("activation: decay constants are derived for the relu family (ab_relu, bias-free FFNet) "
                         "only; a kernel analytic on [-1, 1] (erf, gelu, sin, ...) has mu_k decaying faster than any "
                         "power of k")
    if arch != "ffnet" or m.bias_var != 0:
        raise ValueError("activation: decay constants of the relu family are derived for the bias-free FFNet only "
                         "(the ResNet's and the biased networks' expansions are not)")
    mix = (a - b) ** 2 / (a * a + b * b)
    if not 0 < mix < 2:
        raise ValueError(f"activation: no decay constants: the mixing weight (a - b)^2/(a^2 + b^2) = {mix} has no "
                         "endpoint singularity to derive (0: linear, a polynomial kernel; 2: an even activation, "
                         "t = -1 maps onto t = 1)")
    return mix


def decay(arch: str, depth: int, dim: int, *, gamma=None, alpha=None, kernel: str = "ntk",
          digits: int = 20, activation=None, weight_var=None, bias_var=None) -> Decay:
    """The decay constants of the relu kernels (:class:`Decay`): ``mu_k ~ C_(k mod 2) k^-(d - 1 + 2 nu)``
    with ``nu = 1/2`` (NTK) or ``3/2`` (GP); exact SymPy expressions up to depth EXACT_DEPTH. ``activation``,
    ``weight_var``, ``bias_var`` as :func:`spectrum`: the ``ab_relu`` family in the bias-free FFNet
    (:func:`relu_family_mix`), else ValueError naming ``activation``."""
    arch = inputs.choice("arch", arch, inputs.ARCHS)
    kernel = inputs.choice("kernel", kernel, inputs.KERNELS)
    depth = inputs.depth(depth)
    dim = count("dim", dim, 2, MAX_DIM)
    inputs.scaling(arch, gamma, alpha)
    mix = relu_family_mix(arch, activation, weight_var, bias_var, gamma, alpha)
    mp = _Mp(digits)
    if depth > DECAY_MAX_DEPTH:
        raise ValueError(f"depth: decay constants computed up to L = {DECAY_MAX_DEPTH} (the product runs over the "
                         f"layers), got {inputs.depth_text(depth)}")
    nu, cp, cm = endpoint_coefficients(mp, arch, depth, kernel, gamma, alpha, mix)
    A = singular_factor(mp, dim, nu)
    exact = None
    if depth <= EXACT_DEPTH and dim <= 1000:
        sy = _Sym()
        _, ecp, ecm = endpoint_coefficients(sy, arch, depth, kernel, gamma, alpha, mix)
        eA = singular_factor(sy, dim, nu)
        exact = {"c_plus": ecp, "c_minus": ecm, "C_even": eA * (ecp + ecm), "C_odd": eA * (ecp - ecm)}
    return Decay(nu, dim - 1 + 2 * nu, cp, cm, A * (cp + cm), A * (cp - cm), dim, exact)


__all__ = ["Decay", "Spectrum", "decay", "multiplicity", "spectrum"]


# ---------------------------------------------------------------------------------------------- rntk spectrum

def add_cli(sub) -> None:
    """The ``rntk spectrum`` subparser."""
    p = sub.add_parser("spectrum", help="Mercer eigenvalues mu_0..mu_kmax on the sphere S^(dim-1) and their "
                                        "decay constants (docs/spectra.md)")
    p.add_argument("--arch", required=True, help="ffnet or resnet")
    p.add_argument("--depth", required=True, help="L, an integer >= 1")
    p.add_argument("--dim", required=True, help="d >= 2: the sphere S^(d-1) of R^d")
    p.add_argument("--kmax", required=True, help="largest degree k >= 0")
    g = p.add_argument_group("residual scale (resnet only; default gamma = 1)")
    g.add_argument("--gamma", help="alpha = L^-gamma, gamma >= 0 (exact decimal)")
    g.add_argument("--alpha", help="constant alpha > 0 (exact decimal)")
    p.add_argument("--kernel", default="ntk", help="ntk (default) or gp")
    p.add_argument("--digits", help="significant digits (mpmath, with an error estimate); default float64")
    m = p.add_argument_group("network (docs/activations.md; the decay constants are derived for relu only)")
    m.add_argument("--activation", help="NAME[:PARAMS], e.g. erf or leaky_relu:0.1")
    m.add_argument("--weight-var", help="sigma_w^2 > 0 (exact decimal)")
    m.add_argument("--bias-var", help="sigma_b^2 >= 0 (exact decimal)")
    p.add_argument("--json", action="store_true", help="print one JSON object")


def _decay_json(dec: Decay | None, digits: int) -> dict:
    if dec is None:
        return {"nu": None, "power": None, "C_even": None, "C_odd": None, "c_plus": None, "c_minus": None,
                "exact": None}
    exact = None if dec.exact is None else {k: str(v) for k, v in dec.exact.items()}
    return {"nu": str(dec.nu), "power": str(dec.power), "C_even": nstr(dec.C_even, digits),
            "C_odd": nstr(dec.C_odd, digits), "c_plus": nstr(dec.c_plus, digits), "c_minus": nstr(dec.c_minus, digits),
            "exact": exact}


def run(args) -> dict:
    """``rntk spectrum``: the eigenvalues as decimal strings, their errors, and the decay constants."""
    import time

    from .progress import Progress

    digits = None
    if args.digits is not None:
        digits = count("digits", args.digits, 1, inputs.MAX_DIGITS)
    t0 = time.perf_counter()
    total = progress_total(count("dim", args.dim, 2, MAX_DIM), count("kmax", args.kmax, 0, MAX_KMAX), digits) \
        if digits else 1
    with Progress(total, "spectrum", enabled=bool(digits) and not args.json) as bar:
        s = spectrum(args.arch, args.depth, args.dim, args.kmax, gamma=args.gamma, alpha=args.alpha,
                     kernel=args.kernel, digits=digits, activation=args.activation, weight_var=args.weight_var,
                     bias_var=args.bias_var, progress=bar)
    dec = _decay_json(s.decay, 20)
    return {"arch": args.arch, "depth": int(args.depth), "dim": s.dim, "kmax": len(s.mu) - 1, "kernel": args.kernel,
            "gamma": args.gamma, "alpha": args.alpha, "digits": digits, "mu": s.decimals(),
            "error": s.error_strings(), "error_kind": s.error_kind, "nodes": list(s.nodes),
            "power": dec["power"], "C_even": dec["C_even"], "C_odd": dec["C_odd"], "decay": dec,
            "note": s.decay_note, "seconds": round(time.perf_counter() - t0, 3)}


def show(res: dict) -> None:
    """Text output of ``rntk spectrum``."""
    scale = f", gamma = {res['gamma']}" if res["gamma"] else (f", alpha = {res['alpha']}" if res["alpha"] else "")
    print(f"{res['arch']} {res['kernel']} L = {res['depth']}{scale}: Mercer eigenvalues on S^{res['dim'] - 1} "
          "(uniform measure, P_k(1) = 1, sum_k N(d, k) mu_k = 1)")
    width = max(len(m) for m in res["mu"])
    for k, (m, e) in enumerate(zip(res["mu"], res["error"])):
        print(f"  mu_{k:<4d} {m:<{width}}  +/- {e}")
    if res["power"] is None:
        print(f"  ({res['note']})")
    else:
        d = res["decay"]
        print(f"  decay: mu_k ~ C k^-{res['power']} (nu = {d['nu']}): C_even = {res['C_even']}, C_odd = {res['C_odd']}")
    print(f"  error: {res['error_kind']}")
