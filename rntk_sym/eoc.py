"""Depth limits and sharp rates of the FFNet's normalized kernels at the edge of chaos (docs/asymptotics.md, sec. 9).

Notation of docs/phases.md: ``sigma_w^2`` = ``weight_var`` (here the edge of chaos, ``chi_1 = 1``), ``sigma_b^2`` =
``bias_var``, ``q*`` the length map's fixed point, ``c_L`` = ``GP_L`` the normalized GP kernel, ``NTK_L`` the normalized
NTK, ``rho`` the inputs' correlation, ``L`` the depth.

- **ReLU-like** ``ab_relu:a,b`` (``phi = a z`` for ``z < 0``, ``b z`` above; relu, leaky_relu, abs), edge of chaos
  ``sigma_w^2 = 2/(a^2 + b^2)``, ``sigma_b^2 = 0``: the angle map is the ReLU's with the step
  ``w = (b - a)^2/(a^2 + b^2)`` (``cos theta' = cos theta + w s3(theta)/pi``) and the NTK's factor is
  ``P = 1 - w theta/pi``. Then (sec. 9.1)
  ``NTK_L = 1/4 + (3/8) log L/L + B1/L + (9/16) log L/L^2 + B2/L^2 + O(log^2 L/L^3)``,
  ``B1 = K/4 - 9/8 - (3/8) log(3 pi/w)``, ``B2 = (3/8)(K - (3/2) log(3 pi/w)) - 3 (15 w^2 + 66 pi^2)/(80 w^2)``
  (with ``K = K_w(rho)`` the orbit constant, :func:`rntk_sym.asymptotics.fixed_step_constant`), and
  ``1 - GP_L = (9 pi^2/(2 w^2)) L^-2 - (27 pi^2/(2 w^2)) log L/L^3 - A^2 (K - (3/2) log A)/L^3 + ...``, ``A = 3 pi/w``.
- **Smooth** ``phi`` (erf, gelu, sin, ...) with ``q* > 0``: ``u = 1 - c`` obeys ``u' = u - (kappa/2) u^2 +
  (kappa_3/6) u^3 + ...`` with ``kappa = sigma_w^2 q* E[phi''(sqrt(q*) z)^2]``,
  ``kappa_3 = sigma_w^2 q*^2 E[phi'''(sqrt(q*) z)^2]``; the NTK's factor is ``chi(c) = 1 - kappa u + ...``. Then
  (sec. 9.2) ``1 - GP_L = (2/kappa) L^-1 - (2 C/kappa) log L/L^2 + O(1/L^2)`` (Hayou et al. 2019's ``beta = 2/kappa``),
  ``NTK_L = 1/3 + (C/3) log L/L + O(1/L)``, ``C = 1 - 2 kappa_3/(3 kappa^2)``.
- **q* = 0** (no bias, ``phi(0) = 0``: erf at ``pi/4``, sin at 1; :func:`rntk_sym.eoc_zero.zero_edge`): both kernels
  tend to the frozen correlation ``c_inf(rho)``, ``GP_L - c_inf ~ A/L``, ``NTK_L - c_inf ~ -2 A log L/L + E/L``,
  ``A = c_inf (1 - c_inf^2)/6`` (sec. 9.3, :mod:`rntk_sym.eoc_zero`).
"""
from __future__ import annotations

import math
from fractions import Fraction

import mpmath
import sympy as sp

from . import inputs
from .activations import get_activation

LOG2_10 = math.log2(10)
# (a, b) of the ab_relu family by name (rntk_sym.activations.families)
_SLOPES = {"relu": (0, 1), "abs": (-1, 1), "linear": (1, 1)}
SMOOTH = frozenset({"erf", "gelu", "sin", "cos", "exp"})
_ZERO_Q = ("weight_var: the edge of chaos of {} without bias has q* = 0 (the variances vanish like 1/L): "
           "kappa = 0, see rntk_sym.eoc_zero (docs/asymptotics.md sec. 9.3)")


def abrelu_slopes(act) -> tuple[Fraction, Fraction] | None:
    """``(a, b)`` of an activation of the ab_relu family (``phi = a z`` below 0, ``b z`` above), else None."""
    name = getattr(act, "name", None)
    if name in _SLOPES:
        return tuple(Fraction(x) for x in _SLOPES[name])
    params = tuple(Fraction(int(p.p), int(p.q)) for p in getattr(act, "params", ()))
    if name == "leaky_relu":
        return params[0], Fraction(1)
    if name == "ab_relu":
        return params
    return None


def abrelu_step(a: Fraction, b: Fraction) -> Fraction:
    """``w = (b - a)^2/(a^2 + b^2)`` in (0, 2]: the step of the angle map at the edge of chaos (sec. 9.1).

    ``phi = c1 z + c2 |z|`` (``c1 = (a + b)/2``, ``c2 = (b - a)/2``); the normalized GP map is
    ``(1 - lambda) c + lambda A(c)`` with ``A`` the dual of ``|z|`` and ``lambda = c2^2/(c1^2 + c2^2) = w/2``."""
    return (b - a) ** 2 / (a * a + b * b)


def _ctx(digits: int) -> mpmath.MPContext:
    ctx = mpmath.MPContext()
    ctx.prec = int(math.ceil(digits * LOG2_10)) + 8
    return ctx


def _frac(ctx, q: Fraction):
    return ctx.mpf(q.numerator) / q.denominator


def zero_q_star(p) -> bool:
    """Whether the :class:`rntk_sym.phase.Phase` ``p`` has ``q* = 0`` (:func:`rntk_sym.phase.phase` reports it exactly;
    at the edge of chaos :func:`rntk_sym.eoc_zero.zero_edge` decides it)."""
    return p.q_star.value == 0


def smooth_constants(activation, bias_var=0, digits: int = 20) -> dict:
    """``q*``, ``sigma_w^2``, ``kappa``, ``kappa_3`` and ``C = 1 - 2 kappa_3/(3 kappa^2)`` at the edge of chaos of
    a smooth ``activation`` with ``q* > 0`` (sec. 9.2), each ``(value, error)`` (mpf).

    ``chi(u) = sigma_w^2 Ed(q*, q*, q* (1 - u))`` = ``1 - kappa u + (kappa_3/2) u^2 + ...`` (Price's theorem); its
    one-sided derivatives at ``u = 0`` by :func:`mpmath.diff` at two precisions (``D + 30`` and ``D + 50`` digits,
    ``q*`` and ``sigma_w^2`` from :func:`rntk_sym.phase.phase` to ``D + 15`` digits). Error: the two precisions'
    difference plus the effect of ``q*``'s and ``sigma_w^2``'s errors (10^-(D+12) relative, a bound of their
    reported errors). ValueError naming ``weight_var`` where ``q* = 0``."""
    from .phase import _Maps, phase

    act = get_activation(activation) if isinstance(activation, str) else activation
    p = phase(act, "eoc", bias_var, digits=digits + 15)
    if zero_q_star(p):
        raise ValueError(_ZERO_Q.format(act.spec))
    sw2 = p.weight_var.value if hasattr(p.weight_var, "value") else p.weight_var
    runs = []
    for extra in (30, 50):
        with mpmath.workdps(digits + extra):
            w = mpmath.mpf(sw2) if not isinstance(sw2, Fraction) else mpmath.mpf(sw2.numerator) / sw2.denominator
            m = _Maps(act, w, mpmath.mpf(Fraction(bias_var).numerator) / Fraction(bias_var).denominator)
            qs = mpmath.mpf(p.q_star.value)

            def chi(u, m=m, qs=qs):
                return m.chi(qs, qs * u)
            kappa = -mpmath.diff(chi, 0, 1, direction=1)
            kappa3 = mpmath.diff(chi, 0, 2, direction=1)
            runs.append((kappa, kappa3, 1 - 2 * kappa3 / (3 * kappa ** 2)))
    ctx = _ctx(digits + 10)
    rel = ctx.mpf(10) ** -(digits + 12)
    out = {"q_star": (ctx.mpf(p.q_star.value), ctx.mpf(p.q_star.error)),
           "weight_var": (ctx.mpf(sw2) if not isinstance(sw2, Fraction) else _frac(ctx, sw2),
                          ctx.mpf(getattr(p.weight_var, "error", 0)))}
    for i, name in enumerate(("kappa", "kappa_3", "C")):
        v1, v2 = ctx.mpf(runs[0][i]), ctx.mpf(runs[1][i])
        out[name] = (v2, abs(v2 - v1) + 10 * rel * (1 + abs(v2)))
    return out


def _kind(act) -> str:
    """"abrelu" or "smooth"; ValueError naming ``activation`` for the others (not derived)."""
    if abrelu_slopes(act) is not None:
        return "abrelu"
    if getattr(act, "name", None) in SMOOTH:
        return "smooth"
    raise ValueError(f"activation: the edge-of-chaos limit is derived for the ab_relu family and the smooth "
                     f"{', '.join(sorted(SMOOTH))}; got {getattr(act, 'spec', act)}")


def eoc_limit(rho, activation, bias_var=0, *, kernel: str = "ntk", digits: int = 30):
    """``lim_L`` of the normalized NTK (``kernel="ntk"``) or GP kernel at the edge of chaos (sec. 9), as a
    :class:`rntk_sym.asymptotics.Limit`: GP 1; NTK 1/4 (ab_relu, ``a != b``), 1/3 (smooth, ``q* > 0``); ``rho``
    itself for the linear ``a = b``; at ``q* = 0`` (no bias, ``phi(0) = 0``) both the frozen correlation
    ``c_inf(rho)`` (:mod:`rntk_sym.eoc_zero`, sec. 9.3). ValueError naming ``activation`` where not derived."""
    from .asymptotics import Limit

    act = get_activation(activation) if isinstance(activation, str) else activation
    kernel = inputs.choice("kernel", kernel, inputs.KERNELS)
    r = inputs.rho_exact(rho)
    ctx = _ctx(digits + 10)
    kind = _kind(act)
    if r == 1:
        return Limit(ctx.one, ctx.zero, "diagonal", "diagonal", "diagonal: the normalized kernel is 1", "1")
    if kind == "abrelu":
        a, b = abrelu_slopes(act)
        if Fraction(bias_var) != 0:
            raise ValueError("bias_var: the ab_relu family has an edge of chaos only without bias (docs/phases.md)")
        w = abrelu_step(a, b)
        if w == 0:
            return Limit(_frac(ctx, r), ctx.zero, "edge of chaos", "edge of chaos (linear: the kernels stay rho)",
                         "exact: phi linear, every layer maps the correlation to itself", str(r))
        wtxt = f"w = (b - a)^2/(a^2 + b^2) = {w}"
        if kernel == "gp":
            return Limit(ctx.one, ctx.zero, "edge of chaos", f"edge of chaos ({act.spec})",
                         f"exact: 1 - rho_L ~ 9 pi^2/(2 w^2 L^2), {wtxt} (docs/asymptotics.md sec. 9.1)", "1")
        return Limit(ctx.one / 4, ctx.zero, "edge of chaos", f"edge of chaos ({act.spec})",
                     f"exact: NTK_L - 1/4 ~ (3/8) log L / L, {wtxt} (docs/asymptotics.md sec. 9.1)", "1/4")
    from . import eoc_zero

    if eoc_zero.zero_edge(act, bias_var):  # q* = 0: both kernels tend to the frozen correlation (sec. 9.3)
        return eoc_zero.limit(r, act, kernel=kernel, digits=digits)
    if kernel == "gp":
        return Limit(ctx.one, ctx.zero, "edge of chaos", f"edge of chaos ({act.spec})",
                     "exact: 1 - c_L ~ (2/kappa)/L, kappa = sigma_w^2 q* E[phi''^2] (docs/asymptotics.md sec. 9.2)",
                     "1")
    return Limit(ctx.one / 3, ctx.zero, "edge of chaos", f"edge of chaos ({act.spec})",
                 "exact: NTK_L - 1/3 ~ (C/3) log L / L (docs/asymptotics.md sec. 9.2)", "1/3")


def _exact(expr) -> str:
    return str(sp.nsimplify(expr)) if not isinstance(expr, str) else expr


def eoc_expansion(rho, activation, bias_var=0, *, kernel: str = "ntk", digits: int = 20):
    """:class:`rntk_sym.asymptotics.Expansion` of the normalized kernel minus its limit at the edge of chaos (sec. 9).

    ab_relu NTK: ``(3/8) log L/L + B1/L + (9/16) log L/L^2 + B2/L^2``, ``O(log^2 L/L^3)``; GP:
    ``-(A^2/2) L^-2 + (3/2) A^2 log L/L^3 + A^2 (K - (3/2) log A)/L^3``, ``A = 3 pi/w``, ``O(log^2 L/L^4)``.
    Smooth: NTK ``(C/3) log L/L``, ``O(1/L)``; GP ``-(2/kappa)/L + (2 C/kappa) log L/L^2``, ``O(1/L^2)``."""
    from .asymptotics import Expansion, Term, fixed_step_coefficients, fixed_step_constant

    act = get_activation(activation) if isinstance(activation, str) else activation
    kernel = inputs.choice("kernel", kernel, inputs.KERNELS)
    lim = eoc_limit(rho, act, bias_var, kernel=kernel, digits=digits)
    r = inputs.rho_exact(rho, digits + 10)
    if r == 1:
        return Expansion(lim, [], "0", "exact on the diagonal")
    ctx = _ctx(digits + 10)
    if _kind(act) == "abrelu":
        w = abrelu_step(*abrelu_slopes(act))
        if w == 0:
            return Expansion(lim, [], "0", "exact: linear network")
        K, Kerr = fixed_step_constant(w, 0, r, digits)
        K = ctx.mpf(K)
        wsym = sp.Rational(w.numerator, w.denominator)
        form = f"ab_relu edge of chaos = the fixed-step angle map with w = {w} (docs/asymptotics.md sec. 9.1)"
        if kernel == "ntk":
            co = fixed_step_coefficients(w, 0, K, g0=-ctx.mpf(9) / 8)
            e = Kerr + ctx.mpf(10) ** (-digits - 3)
            terms = [Term(co["log/L"], ctx.zero, Fraction(1), 1, "3/8"), Term(co["1/L"], e / 4, Fraction(1), 0, None),
                     Term(co["log/L^2"], ctx.zero, Fraction(2), 1, "9/16"),
                     Term(co["1/L^2"], e * 3 / 8, Fraction(2), 0, None)]
            return Expansion(lim, terms, "log(L)^2 / L^3", form)
        A = 3 * ctx.pi / _frac(ctx, w)
        Asym = 3 * sp.pi / wsym
        c3 = A ** 2 * (K - ctx.mpf(3) / 2 * ctx.log(A))  # rho_L - 1 = -A^2/(2 L^2) + A^2 (C log(L/A) + K)/L^3
        terms = [Term(-A ** 2 / 2, ctx.zero, Fraction(2), 0, _exact(-Asym ** 2 / 2)),
                 Term(ctx.mpf(3) / 2 * A ** 2, ctx.zero, Fraction(3), 1, _exact(sp.Rational(3, 2) * Asym ** 2)),
                 Term(c3, A ** 2 * (Kerr + ctx.mpf(10) ** (-digits - 3)), Fraction(3), 0, None)]
        return Expansion(lim, terms, "log(L)^2 / L^4", form)
    from . import eoc_zero

    if eoc_zero.zero_edge(act, bias_var):
        return eoc_zero.expansion(r, act, kernel=kernel, digits=digits)
    s = smooth_constants(act, bias_var, digits)
    kap, kerr = s["kappa"]
    C, Cerr = s["C"]
    form = (f"smooth edge of chaos: kappa = {mpmath.nstr(kap, 12)}, C = 1 - 2 kappa_3/(3 kappa^2) = "
            f"{mpmath.nstr(C, 12)} (docs/asymptotics.md sec. 9.2; the 1/L constant needs the orbit constant)")
    if kernel == "ntk":
        return Expansion(lim, [Term(C / 3, Cerr / 3, Fraction(1), 1, None)], "1/L", form)
    b = 2 / kap
    berr = 2 * kerr / kap ** 2
    terms = [Term(-b, berr, Fraction(1), 0, None), Term(b * C, berr * abs(C) + b * Cerr, Fraction(2), 1, None)]
    return Expansion(lim, terms, "1/L^2", form)


__all__ = ["abrelu_slopes", "abrelu_step", "smooth_constants", "zero_q_star", "eoc_limit", "eoc_expansion"]
