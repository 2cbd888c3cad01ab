"""Seed 002, Theorem 7 at the endpoint rho = -1 (allowed by its hypothesis |1 - rho| >= delta):
there the error is ~ C L^-1/2, not O(1/L), so the O(1/L) bound is not uniform on [-1, 1 - delta].

Derivation of C (checked symbolically here): near rho = -1, Q(rho) = (shat + rho shatp)/2 =
q0 sqrt(1 + rho) + O(1 + rho) and the GP step is rho_l - rho_{l-1} = w D(rho_{l-1}), D(-1) = d0 > 0,
so 1 + rho_l ~ l w d0 while l w << 1, and with w ~ 1/L^2 (alpha = 1/L), T_L = sum_l Q(rho_{l-1})
~ q0 sqrt(d0 w) (2/3) L^(3/2): Omegabar_L ~ C / sqrt(L), C = (2/3) q0 sqrt(d0)."""
from __future__ import annotations

import time

import numpy as np
import sympy as sp

import rntk_sym
from rntk_sym import asymptotics
from rntk_sym.duals import RHO, dual

from .core import SEED_002, geometric_depths, make, package_kernel, rate_summary

ID = "002-thm7-resnet-rho=-1"
CLAIM = ("Correction to Theorem 7: at rho = -1 (which satisfies |1 - rho| >= delta) the error is ~ C L^-1/2, "
         "not O(1/L); the 1/L coefficient a_1(rho) blows up like (1 + rho)^-1/2 and sup_rho L*|error| grows "
         "like L^1/2, so the O(1/L) bound holds for each rho > -1 but not uniformly on [-1, 1 - delta]")
SOURCE = SEED_002 + ", Theorem 7"
NEAR = ("-1", "-0.999999", "-0.9999", "-0.99", "-0.9", "-0.5", "0", "0.5", "0.9")


def endpoint_constant(shat=None, shatp=None) -> dict:
    """``C = (2/3) q0 sqrt(d0)`` from the series of Q and D at rho = -1 (sympy)."""
    relu = dual("relu")
    shat = relu.shat if shat is None else shat
    shatp = relu.shatp if shatp is None else shatp
    t = sp.Symbol("t", positive=True)
    Q = ((shat + RHO * shatp) / 2).subs(RHO, -1 + t ** 2)
    ser = sp.series(Q, t, 0, 2).removeO()
    q_0, q0 = sp.simplify(ser.coeff(t, 0)), sp.simplify(ser.coeff(t, 1))
    d0 = sp.simplify((shat - RHO).subs(RHO, -1))
    C = sp.nsimplify(sp.Rational(2, 3) * q0 * sp.sqrt(d0))
    return {"Q(-1)": str(q_0), "q0 (Q ~ q0 sqrt(1+rho))": str(q0), "D(-1)": str(d0), "C": str(C), "C_float": float(C)}


def check(quick: bool = True, *, kernel=package_kernel, progress=None):
    t0 = time.perf_counter()
    failed = []
    depths = geometric_depths(100, 10**4 if quick else 10**6, 2)
    const = endpoint_constant()
    lim = float(asymptotics.limit("resnet", "-1", gamma="1").value)
    vals = [kernel("resnet", "-1", L, gamma="1") for L in depths]
    err = [v - lim for v in vals]
    rs = rate_summary(depths, err)
    ratio = np.sqrt(depths[-1]) * err[-1] / const["C_float"]
    if not (0.45 <= rs["p_free"] <= 0.55 and rs["q_free"] == 0):
        failed.append(f"rho=-1: fitted {rs['best_free']}, not L^-1/2")
    if abs(ratio - 1) > 0.02:
        failed.append(f"rho=-1: sqrt(L)*err / C = {ratio:.4g}, not ~1")
    if progress:
        progress(1)
    # precision cross-check: the float64 value is not a rounding artifact
    Lc = 10**4
    hp = rntk_sym.ntk("resnet", "-1", Lc, gamma="1", digits=20)
    f64 = kernel("resnet", "-1", Lc, gamma="1")
    # the package's own expansion at rho = -1 (a separate derivation) must agree with C; the 1/L
    # coefficient of the expansion for rho > -1 blows up as rho -> -1
    try:
        ex = asymptotics.expansion("resnet", "-1", gamma="1")
        at_minus_one = {"form": ex.form, "terms": [f"{float(t.coefficient):.10g} L^-{t.power} ({t.exact})"
                                                   for t in ex.terms]}
        lead = ex.terms[0]
        if lead.power != sp.Rational(1, 2) or abs(float(lead.coefficient) - const["C_float"]) > 1e-12:
            failed.append(f"asymptotics.expansion at rho = -1 leads with {at_minus_one['terms'][0]}, "
                          f"the sympy derivation here gives C = {const['C']}")
    except (ZeroDivisionError, ValueError) as exc:
        at_minus_one = f"expansion fails: {type(exc).__name__} (closed forms a_kj contain 1/sqrt(1 - rho^2))"
    ks = (2, 4, 6, 8)
    a1 = []
    for k in ks:
        ex = asymptotics.expansion("resnet", "-0." + "9" * k,
                                   gamma="1", digits=15)
        a1.append(float(next(t.coefficient for t in ex.terms if t.power == 1)))
    eps = [10.0 ** -k for k in ks]
    s = -np.polyfit(np.log(eps), np.log(np.abs(a1)), 1)[0]
    if not 0.4 <= s <= 0.6:
        failed.append(f"a_1(rho) ~ (1+rho)^-{s:.3g}, not ^-1/2")
    if progress:
        progress(2)
    # sup over rho (a grid reaching -1) of L*|err|
    sup_depths = [L for L in depths[::2] if L <= 10**5]
    sup = []
    for L in sup_depths:
        sup.append(max(L * abs(kernel("resnet", r, L, gamma="1")
                               - float(asymptotics.limit("resnet", r, gamma="1").value)) for r in NEAR))
    rsup = rate_summary(sup_depths, sup, log_powers=(0,))
    if not -0.6 <= rsup["p_free"] <= -0.4:
        failed.append(f"sup_rho L*|err| grows like L^{-rsup['p_free']:.3g}, not L^1/2")
    if progress:
        progress(3)
    ev = {"rho=-1": {"Omegabar_1(-1)": lim, "err": {str(L): e for L, e in zip(depths, err)},
                     "sqrt(L)*err": {str(L): np.sqrt(L) * e for L, e in zip(depths, err)},
                     "rate": rs, "derived constant": const, "sqrt(L_max)*err / C": ratio,
                     f"float64 vs 20 digits at L = {Lc}": {"float64": f64, "digits=20": str(hp)}},
          "expansion at rho=-1": at_minus_one,
          "a_1(rho) near -1": {f"1+rho=1e-{k}": v for k, v in zip(ks, a1)}, "a_1 blow-up exponent s": s,
          f"sup over rho in {{{', '.join(NEAR)}}} of L*|err|": {str(L): v for L, v in zip(sup_depths, sup)},
          "sup growth": rsup, "failed": failed}
    method = (f"float64 recursion at rho = -1, L = {depths[0]}..{depths[-1]}, fit_rate; C from the sympy series of "
              "Q and D at rho = -1; 20-digit cross-check; a_1(rho) from asymptotics.expansion at rho = -1 + 10^-k; "
              "sup over a rho grid reaching -1")
    return make(ID, CLAIM, SOURCE, method, ev, not failed, t0)
