"""Seed 000: for a constant alpha, and for alpha = L^-1/4, the normalized RNTK degenerates off the
diagonal to a constant kernel -- the constant is 1/4 (the FFNet's limit too)."""
from __future__ import annotations

import math
import time

import numpy as np

from rntk_sym import asymptotics

from .core import SEED_000, geometric_depths, large_tau_constant, log_poly_fits, make, package_kernel, rate_summary

ID = "000-degenerate"
CLAIM = ("constant alpha, and alpha = L^-1/4: Omegabar_L(rho) -> 1/4 for every rho in [-1, 1) (a constant kernel "
         "off the diagonal); rates (3/8) log L / L + B1/L (constant alpha) and s0(rho) L^-1/2 (gamma = 1/4)")
SOURCE = SEED_000 + ", Theorems 1-2 (constant alpha; gamma = 1/4)"
ALPHAS = ("0.5", "1")
RHOS = ("-0.5", "0.5")


def check(quick: bool = True, *, kernel=package_kernel, progress=None):
    t0 = time.perf_counter()
    failed, out = [], {}
    depths = geometric_depths(100, 10**5 if quick else 10**6, 2)         # constant alpha
    deep = geometric_depths(100, 10**5 if quick else 10**6, 2)           # gamma = 1/4: tau = sqrt(L)
    k = 0
    for a in ALPHAS:
        for r in RHOS:
            lim = asymptotics.limit("resnet", r, alpha=a)
            ex = asymptotics.expansion("resnet", r, alpha=a, digits=15)
            c_log = float(ex.terms[0].coefficient)
            terms = [(float(t.coefficient), float(t.power), t.log_power) for t in ex.terms]
            err = [kernel("resnet", r, L, alpha=a) - float(lim.value) for L in depths]
            resid = [e - sum(c * L ** -p * math.log(L) ** q for c, p, q in terms) for L, e in zip(depths, err)]
            late = list(range(len(depths) - 4, len(depths)))
            rel = max(abs(resid[i] / err[i]) for i in late)
            lp = log_poly_fits([depths[i] for i in late], [err[i] for i in late], degrees=(0, 1))
            r0, r1 = (lp[f"L*err = poly_{d}(log L)"]["max_rel_residual"] for d in (0, 1))
            slope = lp["L*err = poly_1(log L)"]["coefficients"][1]
            out[f"alpha={a}, rho={r}"] = {"limit": lim.value, "err(L_max)": err[-1],
                                         "L*err": {str(L): L * e for L, e in zip(depths, err)},
                                         "L*err vs log L (deepest 4)": lp,
                                         "expansion": {f"L^-{p:g} log^{q}": c for c, p, q in terms},
                                         "max |err - expansion|/|err| (deepest 4)": rel}
            if not (r1 < 0.01 and r0 > 5 * r1 and abs(slope - c_log) < 0.15 * c_log and rel < 0.01):
                failed.append(
                    f"alpha={a}, rho={r}: L*err is not a + (3/8) log L (slope {slope:.3g}, residual {r1:.2g}, "
                    f"expansion residual {rel:.2g})"
                )
            k += 1
            if progress:
                progress(k)
    s0 = {}
    for r in RHOS:
        lim = float(asymptotics.limit("resnet", r, gamma="0.25").value)
        err = [kernel("resnet", r, L, gamma="0.25") - lim for L in deep]
        tau = [L ** 0.5 / (1 + L ** -0.5) for L in deep]
        s, s_err = large_tau_constant(r, quick)
        rs = rate_summary(deep[-4:], err[-4:], log_powers=(0,))
        pts = [i for i, t in enumerate(tau) if t >= 10]
        coef = np.polynomial.polynomial.polyfit([1 / tau[i] for i in pts], [tau[i] * err[i] for i in pts], 2)
        dev = abs(coef[0] / s - 1)
        out[f"gamma=0.25, rho={r}"] = {"limit": lim, "err(L_max)": err[-1], "tau(L_max)": tau[-1],
                                       "tau*err": {str(L): t * e for L, t, e in zip(deep, tau, err)},
                                       "tau*err extrapolated in 1/tau": float(coef[0]), "s0 (continuum)": s,
                                       "single-power fit (deepest 4)": rs["best_free"]}
        s0[r] = s
        # a single power fits only roughly (the s1/tau^2 term is ~10% at tau ~ 100): the extrapolation decides
        if dev > 0.05 + 2 * s_err / abs(s):
            failed.append(f"gamma=1/4, rho={r}: fitted {rs['best_free']}, tau*err -> {coef[0]:.4g} vs s0 = {s:.4g}")
        k += 1
        if progress:
            progress(k)
    limits = {r: float(asymptotics.limit("resnet", r, alpha="1").value) for r in ("-1", "0", "0.9")}
    ev = {"per_case": out, "the constant (asymptotics.limit, rho = -1, 0, 0.9)": limits, "failed": failed}
    method = (
        f"float64 recursion at L = {depths[0]}..{depths[-1]} (constant alpha), ..{deep[-1]} (gamma = 1/4); "
        "L*err as a polynomial in log L against the fixed-step expansion (constant alpha); "
        "tau*err extrapolated in 1/tau against the continuum s0(rho) (gamma = 1/4)"
    )
    return make(ID, CLAIM, SOURCE, method, ev, not failed, t0)
