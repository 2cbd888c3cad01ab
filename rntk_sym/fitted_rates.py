"""Fitted depth rates of the FFNet's normalized kernels in the ordered and chaotic phases (any activation).

The forms are derived in docs/asymptotics.md section 8 (notation of docs/phases.md: ``chi_1``, ``q*``, ``c*``,
``chi_{c*}`` from :func:`rntk_sym.phase.phase`); only their prefactors are fitted here, from the exact recursion
(:func:`rntk_sym.general.kernel` with ``digits``):

- ordered (``chi_1 < 1``), GP kernel:       ``GP_L = 1 - A chi_1^L``
- ordered, NTK, smooth phi:                 ``NTK_L = 1 - (B L + A') chi_1^L``
- ordered, NTK, kinked phi (ab_relu family): ``NTK_L = 1 - C chi_1^(L/2)``
- chaotic (``chi_1 > 1``), NTK:              ``NTK_L = E' chi_1^(-L)``
- chaotic, GP kernel:                        ``GP_L = c* + A'' chi_{c*}^L``

each up to corrections that decay geometrically relative to the leading term. With the base ``b`` of the form
(from the one-point analysis, to ``digits`` + 15 digits), ``a(L) = (value_L - limit) / b^L`` tends to the
prefactor; it is evaluated at ``L = 8, 16, 32, ...`` until two consecutive depths agree to ``digits``
(the smooth case reads ``B = a(L + 1) - a(L)`` and ``A' = a(L) - L B``). The error of each coefficient is an
estimate: the change between the last two depths (geometric convergence: it exceeds the remaining error once the
correction has halved), plus the propagated errors of the values and of ``b``. "Fitted" in every output.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import mpmath

from . import inputs

START_DEPTH = 8
MAX_DEPTH = 2 ** 13
MAX_WORK_DIGITS = 600  # the values' digits grow with L log10(1/b) in the ordered phase: the doubling stops here
GUARD = 15


@dataclass(frozen=True)
class FittedTerm:
    """``coefficient * L^-power * base^L`` (``log_power`` 0); ``error`` estimates the coefficient's error,
    ``base_error`` the base's (from :func:`rntk_sym.phase.phase`)."""

    coefficient: mpmath.mpf
    error: mpmath.mpf
    power: Fraction
    log_power: int
    exact: None
    base: mpmath.mpf
    base_error: mpmath.mpf
    base_name: str


@dataclass(frozen=True)
class FittedRate:
    """``value_L = limit + sum(terms) + remainder``; ``depths``: the L at which the last estimates were read."""

    limit: object
    terms: list
    remainder: str
    form: str
    depths: tuple


def _kinked(act) -> bool:
    """The ab_relu family with a != b: ``Ed`` drops like the angle near c = 1 (docs/asymptotics.md sec. 8.1)."""
    from .phase import homogeneous_constant

    if homogeneous_constant(act) is None:
        return False
    with mpmath.workprec(64):
        e0 = act.expectations(mpmath.mpf(1), mpmath.mpf(1), mpmath.mpf(0), "mp")[1]
        e1 = act.expectations(mpmath.mpf(1), mpmath.mpf(1), mpmath.mpf("0.5"), "mp")[1]
    return e0 != e1


def fitted_rate(rho, *, activation="relu", weight_var=None, bias_var=None, kernel: str = "ntk", digits: int = 20,
                arch: str = "ffnet") -> FittedRate:
    """The leading depth correction of the FFNet's normalized ``kernel`` ("ntk" or "gp") at ``rho`` (unit inputs)
    with activation ``activation``, ``sigma_w^2`` = ``weight_var``, ``sigma_b^2`` = ``bias_var``, in the ordered or
    chaotic phase: the form of the module docstring with its prefactors fitted to ``digits`` (or fewer: each
    term's error says how many). ValueError naming the argument: another ``arch`` than the FFNet, the edge of
    chaos or ``q* = 0`` (``weight_var``, from :func:`rntk_sym.phase.depth_limit`), a quadrature (user) activation
    (``activation``), ``rho = +-1`` (``rho``)."""
    from .activations import get_activation
    from .general import kernel as general_kernel
    from .phase import depth_limit, phase

    if inputs.choice("arch", arch, inputs.ARCHS) != "ffnet":
        raise ValueError("arch: fitted rates for other activations or variances: ffnet only (ordered and chaotic "
                         "phases, docs/asymptotics.md sec. 8)")
    kernel = inputs.choice("kernel", kernel, inputs.KERNELS)
    digits = inputs.digits(digits)
    act = get_activation(activation)
    if act.quadrature:
        raise ValueError("activation: fitted rates need a closed-form activation (the form depends on phi's "
                         "smoothness, docs/asymptotics.md sec. 8.1)")
    r = inputs.rho_exact(rho)
    if abs(r) == 1:
        raise ValueError(f"rho: the fitted rate is for -1 < rho < 1 (rho = {rho}: "
                         + ("the value is 1 at every depth)" if r == 1 else "use rho > -1)"))
    lim = depth_limit(rho, activation=act, weight_var=weight_var, bias_var=bias_var, kernel=kernel, digits=digits)
    if lim.regime not in ("ordered", "chaotic"):
        raise ValueError(f"weight_var: the fitted rate covers the ordered and chaotic phases; this network is at "
                         f"the {lim.regime} (docs/asymptotics.md sec. 8.3)")
    work = digits + GUARD
    p = phase(act, weight_var, bias_var, digits=work + (60 if lim.regime == "chaotic" and kernel == "gp" else 0))
    w = p.weight_var.value if hasattr(p.weight_var, "error") else p.weight_var
    chi, chi_err = p.chi_1.value, p.chi_1.error
    smooth = False
    if lim.regime == "ordered" and kernel == "gp":
        base, berr, name, form = chi, chi_err, "chi_1", "GP_L = 1 - A chi_1^L"
    elif lim.regime == "ordered" and _kinked(act):
        base, name, form = mpmath.sqrt(chi), "chi_1^(1/2)", "NTK_L = 1 - C chi_1^(L/2) (kinked phi)"
        berr = chi_err / (2 * base)
    elif lim.regime == "ordered":
        smooth = True
        base, berr, name, form = chi, chi_err, "chi_1", "NTK_L = 1 - (B L + A') chi_1^L (smooth phi)"
    elif kernel == "ntk":
        base, berr, name, form = 1 / chi, chi_err / chi ** 2, "1/chi_1", "NTK_L = E' chi_1^(-L)"
    else:
        base, berr, name, form = p.chi_c_star.value, p.chi_c_star.error, "chi_c*", "GP_L = c* + A'' chi_c*^L"
    # digits the values need: (value - limit) ~ b^L is read to ``work`` digits when the limit is not 0
    lost_per_layer = 0 if lim.value == 0 else max(0.0, -math.log10(float(base)))
    ctx = mpmath.MPContext()
    ctx.prec = math.ceil((work + 10) * math.log2(10))
    # the limit subtracted: c* (chaotic GP) to the phase's digits, since its error is divided by chi_c*^L
    sub = depth_limit(rho, activation=act, weight_var=weight_var, bias_var=bias_var, kernel=kernel,
                      digits=p.digits) if lim.regime == "chaotic" and kernel == "gp" else lim

    def estimates(L):
        need = work + math.ceil((L + 1) * lost_per_layer) + len(str(L))
        vals, errs = [], []
        for depth in ((L, L + 1) if smooth else (L,)):
            kv = general_kernel("ffnet", rho, depth, kernel=kernel, digits=need, activation=act, weight_var=w,
                                bias_var=p.bias_var)
            with mpmath.workprec(ctx.prec + math.ceil(need * 3.33)):
                b = mpmath.mpf(base)
                vals.append(ctx.mpf((kv.value - sub.value) / b ** depth))
                errs.append(ctx.mpf((kv.error + sub.error) / b ** depth))
        # propagated error of the base: d(b^-L)/b^-L = L db/b
        berr_rel = ctx.mpf(berr) / ctx.mpf(base)
        if smooth:
            B = vals[1] - vals[0]
            A = vals[0] - L * B
            eB = errs[0] + errs[1] + abs(vals[1]) * (L + 1) * berr_rel
            return [B, A], [eB, errs[0] + L * eB + abs(vals[0]) * L * berr_rel], need
        return vals, [errs[0] + abs(vals[0]) * L * berr_rel], need

    history, L = [], START_DEPTH  # (L, estimates, their propagated errors)
    tol = ctx.mpf(10) ** -(digits + 1)
    while True:
        est, err, need = estimates(L)
        if history and any(not ctx.isfinite(e) or e > abs(a) * ctx.mpf("1e-3") for e, a in zip(err, est)):
            break  # the values lost their accuracy at this depth (e.g. a ball widened): keep the depths before
        history.append((L, est, err))
        if len(history) > 1 and all(abs(a - b) <= tol * abs(a) for a, b in zip(est, history[-2][1])):
            break
        L *= 2
        if L > MAX_DEPTH or work + (L + 1) * lost_per_layer > MAX_WORK_DIGITS:
            break
    depths = [h[0] for h in history]
    _, est, err = history[-1]
    change = [ctx.inf] * len(est) if len(history) < 2 else [abs(a - b) for a, b in zip(est, history[-2][1])]
    powers = [Fraction(-1), Fraction(0)] if smooth else [Fraction(0)]
    terms = [FittedTerm(e, c + x, pw, 0, None, base, berr, name) for e, c, x, pw in zip(est, change, err, powers)]
    remainder = f"{name}^L times a geometrically decaying factor (fitted prefactors)"
    return FittedRate(lim, terms, remainder, f"fitted: {form}; prefactors from the exact recursion at "
                      f"L = {depths[-2] if len(depths) > 1 else depths[-1]} and {depths[-1]} (docs/asymptotics.md "
                      "sec. 8)", tuple(depths[-2:]))


__all__ = ["FittedRate", "FittedTerm", "fitted_rate"]
