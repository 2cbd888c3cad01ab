"""Depth limits of the ResNet with any activation, residual scale ``alpha = L^-gamma`` (docs/asymptotics.md sec. 10).

Unit inputs with ``rho = <x, x'>`` (so ``K_l(x, x) = K_l(x', x')``). The recursion of docs/activations.md,
``S_l = sigma_w^2 K_{l-1} + sigma_b^2``, ``K_l = K_{l-1} + alpha^2 E(S_l)``,
``T_l = (1 + alpha^2 sigma_w^2 Ed(S_l)) T_{l-1} + alpha^2 (E(S_l) + Ed(S_l) S_l)``, is one explicit Euler step of
size ``alpha^2`` for the continuum system in the time ``t = l alpha^2`` (total time ``tau = L alpha^2 = L^(1-2 gamma)``)

    dK/dt = E(sigma_w^2 K + sigma_b^2),    dT/dt = sigma_w^2 Ed(S) T + E(S) + Ed(S) S,    K(0) = (1, rho), T(0) = 0,

on the pair ``(K11, K12)`` and ``(T11, T12)``. Normalized kernels: NTK ``T12/T11``, GP ``K12/K11``.
Symbols: ``sigma_w^2`` = ``weight_var``, ``sigma_b^2`` = ``bias_var``, ``E, Ed`` = the activation's duals
(:mod:`rntk_sym.activations`).

- gamma > 1/2 (``tau -> 0``): the one-layer kernel, ``N_1 = f12/f11`` with ``f = E(S_0) + Ed(S_0) S_0``, and GP ``rho``;
  ``N_L = N_1 + a tau + O(tau^2 + alpha^2)`` (:func:`one_layer`).
- gamma = 1/2 (``tau = 1``; ``alpha = beta/sqrt(L)``: ``tau = beta^2``): the system's solution at ``tau``
  (:func:`continuum`, ``mpmath.odefun`` at two precisions).
- 0 < gamma < 1/2 (``tau -> oo``), and constant alpha (``tau = L alpha^2``): decided by the activation's large-scale
  asymptote (:func:`degenerate`).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import mpmath

from . import inputs
from .general import Model, resolve

HALF = Fraction(1, 2)


def _mp(q: Fraction):
    return mpmath.mpf(q.numerator) / q.denominator


def _duals(m: Model, K11, K12):
    """``(S11, S12, E11, Ed11, E12, Ed12)`` at ``S = sigma_w^2 K + sigma_b^2`` (unit inputs: equal diagonals)."""
    sw2, sb2 = _mp(m.weight_var), _mp(m.bias_var)
    S11, S12 = sw2 * K11 + sb2, sw2 * K12 + sb2
    E11, Ed11 = m.act.expectations(S11, S11, S11 * 0, "mp")
    E12, Ed12 = m.act.expectations(S11, S11, S11 - S12, "mp", cogap=S11 + S12)
    return S11, S12, E11, Ed11, E12, Ed12


def _rhs(m: Model):
    """The continuum system's right-hand side on ``y = (K11, K12, T11, T12)``."""
    sw2 = _mp(m.weight_var)

    def F(t, y):
        K11, K12, T11, T12 = y
        S11, S12, E11, Ed11, E12, Ed12 = _duals(m, K11, K12)
        return [E11, E12, sw2 * Ed11 * T11 + E11 + Ed11 * S11, sw2 * Ed12 * T12 + E12 + Ed12 * S12]

    return F


@dataclass(frozen=True)
class Value:
    """The normalized NTK and GP values (``ntk``, ``gp``) with their errors (the difference of two precisions)."""

    ntk: mpmath.mpf
    gp: mpmath.mpf
    ntk_error: mpmath.mpf
    gp_error: mpmath.mpf


def _two_precisions(fn, digits: int, extras=(8, 16)) -> list[Value]:
    """``fn()`` -> pairs ``(ntk, gp)`` at ``digits + extras[0]`` and ``digits + extras[1]`` digits (odefun's
    tolerance and mpmath.diff's step follow the working precision); each error = the two runs' difference, a bound
    for the first run's error, reported for the second's value."""
    runs = []
    for extra in extras:
        with mpmath.workdps(digits + extra):
            runs.append(fn())
    with mpmath.workdps(digits + extras[1]):
        return [Value(+n1, +g1, abs(n1 - n0), abs(g1 - g0)) for (n0, g0), (n1, g1) in zip(*runs)]


def continuum(m: Model, rho, tau, digits: int = 25) -> Value:
    """The continuum system (module docstring) solved to time ``tau`` by ``mpmath.odefun`` (Taylor series method,
    tolerance the working precision's epsilon) at two precisions: ``lim Omegabar_L`` at gamma = 1/2
    (``tau = 1``) and ``alpha = beta/sqrt(L)`` (``tau = beta^2``)."""
    r, t = inputs.rho_exact(rho), inputs.exact_number("tau", tau)

    def solve():
        y = mpmath.odefun(_rhs(m), 0, [mpmath.mpf(1), _mp(r), mpmath.mpf(0), mpmath.mpf(0)])(_mp(t))
        return [(y[3] / y[2], y[1] / y[0])]

    return _two_precisions(solve, digits)[0]


def _f(m: Model, K11, K12):
    """``(f11, f12)``, ``f = E(S) + Ed(S) S``: the NTK's forcing, and also ``T``'s first Taylor coefficient."""
    S11, S12, E11, Ed11, E12, Ed12 = _duals(m, K11, K12)
    return E11 + Ed11 * S11, E12 + Ed12 * S12


def one_layer(m: Model, rho, digits: int = 25) -> tuple[Value, Value]:
    """``(limit, slope)``: the one-layer kernel ``N_1 = f12/f11`` (GP: ``rho``) and the first-order coefficients
    ``a`` of ``tau`` in ``N(tau) = N_1 + a tau + O(tau^2)`` (GP: ``b`` in ``rho + b tau``).

    Taylor: ``K(tau) = K_0 + tau E(S_0) + ...``, ``T(tau) = tau f_0 + (tau^2/2) g + ...`` with
    ``g = sigma_w^2 Ed(S_0) f_0 + df/dt``, ``df/dt`` the derivative of ``f`` along ``dK/dt = E(S)`` (mpmath.diff).
    So ``a = (g12 - N_1 g11)/(2 f11)`` and ``b = E12 - rho E11`` (``K11(0) = 1``)."""
    r = inputs.rho_exact(rho)

    def compute():
        sw2 = _mp(m.weight_var)
        K11, K12 = mpmath.mpf(1), _mp(r)
        S11, S12, E11, Ed11, E12, Ed12 = _duals(m, K11, K12)
        f11, f12 = _f(m, K11, K12)
        d11 = mpmath.diff(lambda e: _f(m, K11 + e * E11, K12 + e * E12)[0], 0)
        d12 = mpmath.diff(lambda e: _f(m, K11 + e * E11, K12 + e * E12)[1], 0)
        g11, g12 = sw2 * Ed11 * f11 + d11, sw2 * Ed12 * f12 + d12
        n1 = f12 / f11
        return (n1, _mp(r)), ((g12 - n1 * g11) / (2 * f11), E12 - _mp(r) * E11)

    lim, slope = _two_precisions(compute, digits, (15, 30))
    return lim, slope


# The large-scale asymptote of the activation decides the degenerate limit (sec. 10.3):
# relu-like (phi(s z)/s -> relu(z) as s -> oo): K grows like exp(sigma_w^2 t / 2), the flow becomes the seeds' relu
# flow in the time sigma_w^2 t / 2: NTK -> 1/4, GP -> 1. sign-like (a erf(b z) -> a sign(z)): K11 ~ a^2 t, the
# correlation flows by dc/dlog t = (2/pi) arcsin c - c to c = 0 (GP -> 0 as tau^-(1 - 2/pi)), and the diagonal NTK
# grows like t^(4/pi^2) exp((4/pi) sigma_w |a b| sqrt t) while the pair's grows like t^(2/pi) log t: NTK -> 0.
RELU_LIKE = ("relu", "gelu")


def asymptote(m: Model) -> str | None:
    """``"relu"`` (relu, GELU: any variances), ``"sign"`` (``a erf(b z)``, no offset), or None (not derived)."""
    name = getattr(m.act, "name", None)
    if name in RELU_LIKE:
        return "relu"
    if name == "erf" and m.act.params[2] == 0:
        return "sign"
    return None


@dataclass(frozen=True)
class Degenerate:
    """The gamma < 1/2 limit: exact ``ntk`` and ``gp`` values and their rates in words (``tau = L^(1 - 2 gamma)``)."""

    ntk: Fraction
    gp: Fraction
    ntk_rate: str
    gp_rate: str


def degenerate(m: Model) -> Degenerate:
    """The tau -> oo limit of the continuum flow (docs/asymptotics.md sec. 10.3); ValueError naming ``activation``
    for an asymptote not derived."""
    kind = asymptote(m)
    if kind == "relu":
        return Degenerate(Fraction(1, 4), Fraction(1), "NTK - 1/4 ~ s/tau (s from the whole flow; relu without bias: "
                          "2 s0(rho)/sigma_w^2, sec. 7.1)",
                          "1 - GP ~ (9 pi^2/2) (2/(sigma_w^2 tau))^2")
    if kind == "sign":
        a, b = (abs(float(p)) for p in m.act.params[:2])
        k = 4 * math.sqrt(float(m.weight_var)) * a * b / math.pi
        return Degenerate(Fraction(0), Fraction(0), f"NTK ~ C tau^(2/pi - 4/pi^2) log(tau) exp(-{k:.6g} sqrt(tau)), "
                          "the exponent (4/pi) sigma_w |a b|", "GP ~ C tau^-(1 - 2/pi)")
    raise ValueError(f"activation: the gamma < 1/2 limit of the ResNet is derived for relu, gelu and a erf(b z) "
                     f"(docs/asymptotics.md sec. 10.3), not for {m.act.spec}")


def limit(rho, *, gamma=None, alpha=None, beta=None, digits: int = 30, activation=None, weight_var=None,
          bias_var=None, kernel: str = "ntk"):
    """``lim_{L -> oo}`` of the ResNet's normalized NTK or GP kernel (``kernel``) at ``rho`` (unit inputs) for
    ``alpha = L^-gamma`` or ``beta/sqrt(L)``, as a :class:`rntk_sym.asymptotics.Limit` (docs/asymptotics.md sec. 10).
    A constant residual scale (and ``gamma = 0``) has the gamma < 1/2 limit (sec. 10.4); ValueError naming ``alpha``
    for an activation whose asymptote is not derived."""
    from .asymptotics import Limit, correct_digits, setting

    kernel = inputs.choice("kernel", kernel, inputs.KERNELS)
    digits = inputs.digits(digits)
    st = setting("resnet", gamma, alpha, beta)
    m = resolve("resnet", activation, weight_var, bias_var, None if beta is not None else gamma,
                None if beta is not None else alpha)
    if m.act.singular_derivative and kernel == "ntk":
        raise ValueError(f"activation: the NTK of {m.act.spec} is not defined (Dirac derivative); use kernel='gp'")
    r = inputs.rho_exact(rho, digits + 10)
    ctx = mpmath.MPContext()
    ctx.dps = digits + 30
    if r == 1:
        return Limit(ctx.mpf(1), ctx.mpf(0), "diagonal", "diagonal", "diagonal: the normalized kernel is 1", "1")
    gp = kernel == "gp"
    if st.regime in ("large-tau", "fixed-step"):  # tau = L alpha^2 -> oo; constant alpha: the same limit (sec. 10.4)
        if st.regime == "fixed-step" and asymptote(m) is None:
            raise ValueError("alpha: the depth limit with a constant residual scale (or gamma = 0) is derived for "
                             "relu-like and a erf(b z) activations (docs/asymptotics.md sec. 10.4); use gamma > 0")
        d = degenerate(m)
        v = d.gp if gp else d.ntk
        if r == -1 and asymptote(m) == "sign" and m.bias_var == 0:  # odd phi, no bias: K12 = -K11, T12 = -T11
            return Limit(ctx.mpf(-1), ctx.mpf(0), "large-tau", "antipodal inputs of an odd activation",
                         "exact: the kernels stay -1 (phi odd, no bias)", "-1")
        tau = "L^(1 - 2 gamma) (docs/asymptotics.md sec. 10.3)" if st.regime == "large-tau" else \
            "L alpha^2 (constant alpha, docs/asymptotics.md sec. 10.4)"
        return Limit(ctx.mpf(v.numerator) / v.denominator, ctx.mpf(0), st.regime,
                     f"degenerate ({asymptote(m)}-like activation)", f"exact: {d.gp_rate if gp else d.ntk_rate}, "
                     f"tau = {tau}", str(v))
    if st.regime == "small-tau":
        lim, slope = one_layer(m, r, digits)
        value, err = (lim.gp, lim.gp_error) if gp else (lim.ntk, lim.ntk_error)
        a = slope.gp if gp else slope.ntk
        return Limit(ctx.mpf(value), ctx.mpf(err) + ctx.mpf(10) ** (-digits - 5), "small-tau",
                     "one-hidden-layer kernel" if not gp else "the input correlation rho",
                     f"closed form at depth 1; value - limit ~ {mpmath.nstr(a, 10)} L^-(2 gamma - 1) "
                     "(docs/asymptotics.md sec. 10.1)", str(r) if gp else None)
    v = continuum(m, r, st.beta_squared(), digits)
    value, err = (v.gp, v.gp_error) if gp else (v.ntk, v.ntk_error)
    if correct_digits(value, err, digits) < digits:
        raise ValueError(f"digits: the continuum solve reached {correct_digits(value, err, digits)} digits; "
                         f"got {digits}")
    return Limit(ctx.mpf(value), ctx.mpf(err), "continuum", "borderline: the continuum system at time beta^2",
                 "mpmath.odefun, error = difference of two precisions (docs/asymptotics.md sec. 10.2)", None)
