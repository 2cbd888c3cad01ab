"""Seed 000: for alpha = L^-gamma with gamma > 1/2 the normalized RNTK tends to the one-hidden-layer
kernel Omegabar_1 = (shat + rho shatp)/2 (Theorem 7 of seed 002 is gamma = 1)."""
from __future__ import annotations

import time

from rntk_sym import asymptotics

from .core import SEED_000, geometric_depths, make, package_kernel, rate_summary

ID = "000-gamma>1/2"
CLAIM = ("alpha = L^-gamma, gamma > 1/2: Omegabar_L(rho) -> Omegabar_1(rho) = (shat + rho shatp)/2, "
         "at the rate L^-(2 gamma - 1) given by the small-tau expansion")
SOURCE = SEED_000 + ", Theorem (gamma > 1/2: RNTK -> one-hidden-layer NTK)"
GAMMAS = ("0.6", "0.75", "1")
RHOS = ("-0.5", "0.5")


def check(quick: bool = True, *, kernel=package_kernel, progress=None):
    t0 = time.perf_counter()
    failed, out = [], {}
    depths = geometric_depths(100, 10**4 if quick else 10**5, 2)
    k = 0
    for g in GAMMAS:
        for r in RHOS:
            lim = float(asymptotics.limit("resnet", r, gamma=g).value)
            ex = asymptotics.expansion("resnet", r, gamma=g, digits=15)
            terms = [(float(t.coefficient), float(t.power)) for t in ex.terms]
            lead_c, lead_p = terms[0]
            err = [kernel("resnet", r, L, gamma=g) - lim for L in depths]
            rs = rate_summary(depths[-4:], err[-4:], log_powers=(0, 1))
            series = [sum(c * L ** -p for c, p in terms) for L in depths]
            rel = abs(err[-1] - series[-1]) / abs(err[-1])
            out[f"gamma={g}, rho={r}"] = {
                "Omegabar_1": lim, "err(L_max)": err[-1], "err": {str(L): e for L, e in zip(depths, err)},
                "leading term (expansion)": f"{lead_c:.6g} L^-{lead_p:g}", "fitted (deepest 4)": rs["best_free"],
                "p fitted": rs["p_free"], "|err - expansion|/|err| at L_max": rel, "expansion remainder": ex.remainder}
            if abs(rs["p_free"] - lead_p) > 0.1 or rs["q_free"] != 0:
                failed.append(f"gamma={g}, rho={r}: fitted {rs['best_free']}, expansion leads with L^-{lead_p:g}")
            if rel > 0.02:
                failed.append(f"gamma={g}, rho={r}: expansion misses err(L_max) by {rel:.2g}")
            k += 1
            if progress:
                progress(k)
    ev = {"per_case": out, "failed": failed}
    method = (f"float64 recursion at L = {depths[0]}..{depths[-1]}; limit = closed form; fit_rate on the deepest 4 "
              "depths; error against the small-tau expansion (closed-form coefficients)")
    return make(ID, CLAIM, SOURCE, method, ev, not failed, t0)
