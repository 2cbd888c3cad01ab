"""Seed 002, Theorem 7: ResNet with alpha = 1/L, |Omegabar_L - Omegabar_1| = O(1/L) for
|1 - rho| >= delta, Omegabar_1 = (shat + rho shatp)/2 -- checked for fixed rho in (-1, 1); the
endpoint rho = -1 is the subject of :mod:`proofs_check.resnet_thm7_endpoint`."""
from __future__ import annotations

import time

from rntk_sym import asymptotics

from .core import SEED_002, geometric_depths, make, package_kernel, rate_summary

ID = "002-thm7-resnet"
CLAIM = ("ResNet, alpha = 1/L: |Omegabar_L(rho) - Omegabar_1(rho)| = O(1/L) for each fixed rho in (-1, 1), "
         "Omegabar_1 = (shat + rho shatp)/2; the O(1/L) is sharp (L * error -> a_1(rho) != 0)")
SOURCE = SEED_002 + ", Theorem 7"
RHOS = ("-0.99", "-0.9", "-0.5", "0", "0.5", "0.9", "0.99")


def check(quick: bool = True, *, kernel=package_kernel, progress=None):
    t0 = time.perf_counter()
    depths = geometric_depths(100, 10**4 if quick else 10**6, 2)
    failed, per_rho = [], {}
    for i, r in enumerate(RHOS):
        lim = asymptotics.limit("resnet", r, gamma="1", digits=20)
        ex = asymptotics.expansion("resnet", r, gamma="1", digits=20)
        terms = [(float(t.coefficient), float(t.power)) for t in ex.terms]
        a1 = next(c for c, p in terms if p == 1)
        vals = [kernel("resnet", r, L, gamma="1") for L in depths]
        err = [v - float(lim.value) for v in vals]
        late = [k for k, L in enumerate(depths) if L >= 1000]
        rs = rate_summary([depths[k] for k in late], [err[k] for k in late])
        resid = [e - sum(c * L ** -p for c, p in terms) for L, e in zip(depths, err)]
        ratio = depths[-1] * err[-1] / a1
        per_rho[r] = {"Omegabar_1 (closed form)": lim.value, "Omegabar(L_max)": vals[-1], "err(L_max)": err[-1],
                      "L*err": {str(L): L * e for L, e in zip(depths, err)},
                      "a_1 (1/L coefficient, asymptotics.expansion)": a1, "L*err(L_max) / a_1": ratio,
                      "rate (L >= 1000)": rs,
                      "|err - expansion| / |err| at L_max": abs(resid[-1] / err[-1])}
        if not (0.9 <= rs["p_free"] <= 1.1 and rs["q_free"] == 0):
            failed.append(f"rho={r}: fitted {rs['best_free']}, not L^-1")
        if abs(ratio - 1) > 0.05:
            failed.append(f"rho={r}: L*err(L_max)/a_1 = {ratio:.4g}, not -> 1")
        if abs(resid[-1]) > 0.01 * abs(err[-1]):
            failed.append(f"rho={r}: expansion misses err(L_max) by {abs(resid[-1] / err[-1]):.2g} (relative)")
        if progress:
            progress(i + 1)
    a1s = {r: d["a_1 (1/L coefficient, asymptotics.expansion)"] for r, d in per_rho.items()}
    ev = {"per_rho": per_rho, "a_1(rho)": a1s,
          "sharp": "yes: L*err tends to a_1(rho), nonzero at every rho of the grid" if all(a1s.values()) else "no",
          "failed": failed}
    method = (f"float64 recursion at L = {depths[0]}..{depths[-1]}, rho in {', '.join(RHOS)}; fit_rate (q = 0, 1, 2) "
              "on L >= 1000; L*err against the 1/L coefficient of asymptotics.expansion (closed forms a_kj(rho))")
    return make(ID, CLAIM, SOURCE, method, ev, not failed, t0)
