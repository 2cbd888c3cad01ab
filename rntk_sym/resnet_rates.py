"""Depth rates of the ResNet's normalized NTK and GP kernel for any closed-form activation (docs/asymptotics.md
sec. 10.5): ``value_L = limit + sum(terms) + O(remainder)`` as an :class:`rntk_sym.asymptotics.Expansion`.

Residual scale ``alpha = L^-gamma`` (``tau = L^(1 - 2 gamma)``), ``alpha = beta/sqrt(L)`` or a constant ``alpha``;
symbols of :mod:`rntk_sym.resnet_general` (``sigma_w^2`` = ``weight_var``, ``sigma_b^2`` = ``bias_var``).

- gamma > 1/2 (sec. 10.1): derived, ``N_1 + a L^-(2 gamma - 1)`` (GP: ``rho + b L^-(2 gamma - 1)``), ``a``, ``b`` from
  :func:`rntk_sym.resnet_general.one_layer`; remainder ``tau^2 + alpha^2``.
- gamma = 1/2 or beta (sec. 10.2): the form ``F_0(tau) + a_1/L + a_2/L^2 + O(L^-3)`` (Euler's global error of a smooth
  system) is assumed; ``a_1, a_2`` are fitted to the exact recursion (:func:`rntk_sym.general.kernel`).
- gamma < 1/2 and constant alpha (sec. 10.3, 10.4): relu-like activations (relu, GELU), derived leading terms: GP
  ``1 - (9 pi^2/2) / (w L)^2`` with ``w L -> sigma_w^2 tau/2`` (an exact constant); the NTK for relu without bias,
  by its exact map to the seeds' network (``alpha^2 -> alpha^2 sigma_w^2/2``, sec. 7 and 3); the NTK of constant
  alpha's universal ``(3/8) log L / L``. What sec. 10.3 leaves underived (the NTK constant ``s`` of GELU or of relu
  with a bias, every rate of erf, whose NTK decays like ``exp(-k sqrt(tau))``) is refused (ValueError naming it).
"""
from __future__ import annotations

import math
from fractions import Fraction

import mpmath
import sympy as sp

from . import inputs, resnet_general
from .general import resolve

# the continuum fit (sec. 10.5): depths L = n^2 (alpha = beta/n is then exact), n ~ N0 2^(k/2), k < levels; 7 levels
# (L <= 4096) give a_1 to ~22 digits and a_2 to ~18 (erf 1.5/0.1), 9 levels (L <= 16384) ~26 and ~22, in twice the time
N0, LEVELS, MORE_LEVELS, GUARD = 8, 7, 9, 12


def _non_smooth(act) -> bool:
    """A kink (the ``ab_relu`` family) or a jump: the duals' derivatives blow up at ``rho = -1`` (sec. 5.1)."""
    from .fitted_rates import _kinked

    return bool(act.singular_derivative) or _kinked(act)


def _antipodal(m) -> bool:
    """``K12 = -K11`` and ``T12 = -T11`` at every depth for ``rho = -1``: an odd activation (``a erf(b z)``,
    ``a sin(b z)``, linear, ``ab_relu`` with ``a = b``, ``leaky_relu:1``; exact parameters) without bias."""
    name, par = getattr(m.act, "name", None), getattr(m.act, "params", ())
    odd = (name in ("erf", "sin") and par[2] == 0) or name == "linear" or (name == "ab_relu" and par[0] == par[1]) \
        or (name == "leaky_relu" and par[0] == 1)
    return odd and m.bias_var == 0


def _continuum_terms(m, rho: Fraction, beta2: Fraction, limit, kernel: str, digits: int):
    """``[(a_1, err), (a_2, err)]`` in ``value_L = F_0 + a_1/L + a_2/L^2 + ...`` for ``alpha^2 = beta^2/L``, and the
    depths: the exact recursion (arb balls, :func:`rntk_sym.general.kernel`) at ``L = n_k^2``, ``(value_L - F_0) L``
    fitted by a polynomial in ``1/L`` through all levels and through all but the first; error = twice their
    difference plus the errors of the values and of ``F_0`` (times ``L``) through the fit."""
    from .asymptotics import _poly_coefficients
    from .general import kernel as general_kernel

    # beta is an exact rational (rntk_sym.asymptotics.setting), so alpha = beta/n is exact at L = n^2
    beta = Fraction(math.isqrt(beta2.numerator), math.isqrt(beta2.denominator))
    start = max(N0, math.ceil(3 * beta))  # L >= 9 beta^2: the step alpha^2 <= 1/9
    ns = sorted({round(start * 2 ** (k / 2)) for k in range(LEVELS if digits <= 20 else MORE_LEVELS)})
    ctx = mpmath.MPContext()
    ctx.dps = digits + GUARD
    hs, ys, verr = [], [], ctx.zero
    f0, f0err = ctx.mpf(limit.value), ctx.mpf(limit.error)
    for n in ns:
        kv = general_kernel("resnet", rho, n * n, kernel=kernel, alpha=beta / n, digits=digits + GUARD,
                            activation=m.act, weight_var=m.weight_var, bias_var=m.bias_var)
        hs.append(ctx.mpf(1) / (n * n))
        ys.append((ctx.mpf(kv.value) - f0) * n * n)
        verr = max(verr, (ctx.mpf(kv.error) + f0err) * n * n)
    hi, lo = _poly_coefficients(ctx, hs, ys), _poly_coefficients(ctx, hs[1:], ys[1:])
    # the values' errors reach coefficient k at most amplified by the row sum of |inverse Vandermonde| (in 1/L)
    inv = ctx.inverse(ctx.matrix([[h ** j for j in range(len(hs))] for h in hs]))
    amp = [sum(abs(inv[k, i]) for i in range(len(hs))) for k in range(2)]
    return [(hi[k], 2 * abs(hi[k] - lo[k]) + verr * amp[k]) for k in range(2)], [n * n for n in ns]


def expansion(rho, *, gamma=None, alpha=None, beta=None, digits: int = 20, activation=None, weight_var=None,
              bias_var=None, kernel: str = "ntk"):
    """The depth expansion of the ResNet's normalized ``kernel`` ("ntk" or "gp") at ``rho`` (unit inputs) with
    ``activation`` (closed form), ``sigma_w^2`` = ``weight_var``, ``sigma_b^2`` = ``bias_var`` and ``alpha =
    L^-gamma``, ``beta/sqrt(L)`` or a constant ``alpha`` (module docstring; docs/asymptotics.md sec. 10.5), as an
    :class:`rntk_sym.asymptotics.Expansion`; the limit is :func:`rntk_sym.resnet_general.limit`'s. Each
    coefficient has an error; fitted ones say so in ``form``. ValueError naming the argument where no rate is
    derived or computable (see the module docstring), for a quadrature activation, and at ``rho = -1`` for a kinked
    activation with gamma >= 1/2 (the rate is not uniform there, sec. 5.1)."""
    from .asymptotics import Expansion, Term, _numeric_digits, setting

    kernel = inputs.choice("kernel", kernel, inputs.KERNELS)
    digits = _numeric_digits(inputs.digits(digits), "expansion")
    st = setting("resnet", gamma, alpha, beta)
    m = resolve("resnet", activation, weight_var, bias_var, None if beta is not None else gamma,
                None if beta is not None else alpha)
    if m.act.quadrature:
        raise ValueError("activation: ResNet rates need a closed-form activation (docs/asymptotics.md sec. 10.5)")
    lim = resnet_general.limit(rho, gamma=gamma, alpha=alpha, beta=beta, digits=digits, activation=activation,
                               weight_var=weight_var, bias_var=bias_var, kernel=kernel)
    r = inputs.rho_exact(rho, digits + 10)
    if r == 1 or (r == -1 and _antipodal(m)):
        return Expansion(lim, [], "0", "exact at every depth (" + ("diagonal" if r == 1 else
                                                                   "antipodal inputs of an odd activation") + ")")
    gp = kernel == "gp"
    ctx = mpmath.MPContext()
    ctx.dps = digits + 10
    if st.regime in ("small-tau", "continuum") and r == -1 and _non_smooth(m.act):
        raise ValueError(f"rho: at rho = -1 the rate of {m.act.spec} is not uniform (the duals' slope is infinite "
                         "there, docs/asymptotics.md sec. 5.1); use -1 < rho < 1")
    if st.regime == "small-tau":  # sec. 10.1: N_L = N_1 + a tau + O(tau^2 + alpha^2)
        g = st.gamma
        _, slope = resnet_general.one_layer(m, r, digits)
        a, e = (slope.gp, slope.gp_error) if gp else (slope.ntk, slope.ntk_error)
        rest = min(4 * g - 2, 2 * g)
        return Expansion(lim, [Term(ctx.mpf(a), ctx.mpf(e) + ctx.mpf(10) ** (-digits - 5), 2 * g - 1, 0, None)],
                         f"L^-({rest})", "derived: " + ("GP_L = rho + (E12 - rho E11) tau" if gp else
                                                        "NTK_L = N_1 + a tau, a = (g12 - N_1 g11)/(2 f11)")
                         + ", tau = L^(1 - 2 gamma) (docs/asymptotics.md sec. 10.1; "
                         + ("closed form" if gp else "df/dt by mpmath.diff") + ", error from two precisions)")
    if st.regime == "continuum":
        terms, depths = _continuum_terms(m, r, st.beta_squared(), lim, kernel, digits)
        return Expansion(lim, [Term(v, e, Fraction(k + 1), 0, None) for k, (v, e) in enumerate(terms)], "L^-3",
                         "fitted: value_L = F_0 + a_1/L + a_2/L^2 + O(L^-3) assumed (Euler's global error, "
                         f"docs/asymptotics.md sec. 10.2, 10.5); a_k from the exact recursion at L = {depths[0]}.."
                         f"{depths[-1]}, error = the change without the shallowest depth")
    return _degenerate(m, st, r, lim, gp, digits, ctx)


def _degenerate(m, st, r: Fraction, lim, gp: bool, digits: int, ctx):
    """gamma < 1/2 and constant alpha (sec. 10.3, 10.4, 10.5)."""
    from .asymptotics import Expansion, Term, fixed_step_terms, large_tau_coefficients

    sw2 = m.weight_var
    kind = resnet_general.asymptote(m)
    where = "gamma" if st.regime == "large-tau" else "alpha"
    if kind != "relu":  # limit() has refused every asymptote but these two
        d = resnet_general.degenerate(m)
        raise ValueError(f"{where}: no expansion in powers of L for {m.act.spec}: "
                         f"{d.gp_rate if gp else d.ntk_rate}, C not derived (docs/asymptotics.md sec. 10.3)")
    fixed = st.regime == "fixed-step"
    p = Fraction(1) if fixed else 1 - 2 * st.gamma  # tau ~ L^p
    relu0 = getattr(m.act, "name", None) == "relu" and m.bias_var == 0
    if gp:
        # the relu angle map u' = u - w (2 sqrt 2/(3 pi)) u^(3/2) (u = 1 - c) gives u ~ (9 pi^2/2)/(w L)^2 with
        # w = a^2/(1 + a^2), a^2 = alpha^2 sigma_w^2/2 (sec. 10.5); alpha -> 0: w L -> sigma_w^2 tau/2
        a2 = st.w / (1 - st.w) * sw2 / 2 if fixed else sw2 / 2
        w = a2 / (1 + a2) if fixed else a2
        c = -sp.Rational(9, 2) * sp.pi ** 2 / sp.Rational(w.numerator, w.denominator) ** 2
        rest = "log(L) / L^3" if fixed else f"L^-({3 * p}) log L + L^-({2 * p + 2 * st.gamma})"
        return Expansion(lim, [Term(ctx.mpf(sp.N(c, digits + 10)), ctx.mpf(10) ** (-digits - 5), 2 * p, 0, str(c))],
                         rest, "derived: 1 - GP_L ~ (9 pi^2/2)/(w L)^2, the relu angle map at large scale "
                         f"(w = {w}{'' if fixed else ' tau/L'}; docs/asymptotics.md sec. 10.5)")
    if fixed:
        three8 = Term(ctx.mpf(3) / 8, ctx.zero, Fraction(1), 1, "3/8")
        if not relu0:
            return Expansion(lim, [three8], "1/L", "derived: the fixed step's universal (3/8) log L / L of the "
                             "relu map at large scale (docs/asymptotics.md sec. 3, 10.4); the 1/L constant needs the "
                             "whole flow")
        a2 = st.w / (1 - st.w) * sw2 / 2  # the seeds' network with alpha^2 sigma_w^2/2 (sec. 10.3)
        w = a2 / (1 + a2)
        terms = fixed_step_terms(w, 1, r, digits, ctx)
        return Expansion(lim, terms, "log(L)^2 / L^3", f"exact map to the seeds' fixed step with w = {w} "
                         "(alpha^2 sigma_w^2/2, docs/asymptotics.md sec. 3, 10.3)")
    if not relu0:
        raise ValueError(f"activation: the NTK rate s L^-({p}) of {m.act.spec} has a constant s set by the whole flow, "
                         "not computed (docs/asymptotics.md sec. 10.3); derived: relu without bias, and the GP kernel")
    # relu without bias: the seeds' s_k/tau^(k+1) with tau -> sigma_w^2 tau/2 (sec. 7.4, 10.3)
    co = large_tau_coefficients(r, digits=min(digits, 20))
    scale = [(ctx.mpf(2 * sw2.denominator) / sw2.numerator) ** (k + 1) for k in range(3)]
    terms = [Term(v * s, e * s, (k + 1) * p, 0, None) for k, ((v, e), s) in enumerate(zip(co, scale))
             if k == 0 or (k + 1) * p < 1]
    rest = "log(L)/L" if len(terms) < 3 else "L^-(4 - 8 gamma) log L + log(L)/L"
    return Expansion(lim, terms, rest, "the seeds' continuum S(tau) (sec. 7.4) in the time sigma_w^2 tau/2 "
                     "(relu without bias, docs/asymptotics.md sec. 10.3)")


__all__ = ["expansion"]
