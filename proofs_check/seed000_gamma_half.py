"""Seed 000's borderline gamma = 1/2 (alpha = 1/sqrt(L)): the depth limit is the continuum kernel
F0(1) = S(1)/1 of the ODE d rho/dt = shat(rho) - rho, dS/dt = -(theta/pi) S + (shat + rho shatp)/2
(the recursion is Euler's method with step w ~ 1/L for it) -- neither the one-hidden-layer kernel
nor the constant 1/4."""
from __future__ import annotations

import time

from rntk_sym import asymptotics

from .core import SEED_000, geometric_depths, make, package_kernel, rate_summary

ID = "000-gamma=1/2"
CLAIM = ("alpha = L^-1/2: Omegabar_L(rho) -> F0(rho), the continuum kernel (asymptotics.limit), which differs "
         "from Omegabar_1(rho) and from 1/4; the exact recursion approaches it at rate 1/L")
SOURCE = SEED_000 + ", borderline gamma = 1/2 (not settled there); docs/asymptotics.md sec. 6"
RHOS = ("-0.5", "0", "0.5")


def check(quick: bool = True, *, kernel=package_kernel, progress=None):
    t0 = time.perf_counter()
    failed, out = [], {}
    depths = geometric_depths(1000, 10**4 if quick else 10**5, 2)
    for i, r in enumerate(RHOS):
        lim = asymptotics.limit("resnet", r, gamma="0.5", digits=15)
        F0, F0_err = float(lim.value), float(lim.error)
        one = float(asymptotics.limit("resnet", r, gamma="1").value)
        quarter = float(asymptotics.limit("resnet", r, alpha="1").value)
        ex = asymptotics.expansion("resnet", r, gamma="0.5", digits=12)
        a1 = float(ex.terms[0].coefficient)
        err = [kernel("resnet", r, L, gamma="0.5") - F0 for L in depths]
        rs = rate_summary(depths, err, log_powers=(0, 1))
        ratio = depths[-1] * err[-1] / a1
        gap = min(abs(F0 - one), abs(F0 - quarter))
        out[f"rho={r}"] = {"F0 (continuum limit)": F0, "F0 error": F0_err, "form": lim.form,
                           "Omegabar_1": one, "1/4 limit": quarter, "min distance to the two": gap,
                           "err": {str(L): e for L, e in zip(depths, err)}, "rate": rs,
                           "a_1 (expansion)": a1, "L*err(L_max)/a_1": ratio}
        if gap < 1e3 * max(F0_err, 1e-15) or gap < 1e-3:
            failed.append(f"rho={r}: F0 not distinguishable from Omegabar_1 or 1/4")
        if abs(rs["p_free"] - 1) > 0.05 or rs["q_free"] != 0 or abs(ratio - 1) > 0.02:
            failed.append(f"rho={r}: fitted {rs['best_free']}, L*err/a_1 = {ratio:.4g}")
        if progress:
            progress(i + 1)
    ev = {"per_rho": out, "failed": failed}
    method = (f"continuum kernel by extrapolating the recursion in 1/n (asymptotics.limit); float64 recursion at "
              f"L = {depths[0]}..{depths[-1]}; fit_rate; L*err against the expansion's 1/L coefficient")
    return make(ID, CLAIM, SOURCE, method, ev, not failed, t0)
