"""Seed 002, Theorem 6: the FFNet normalized NTK tends to 1/4 off the diagonal at rate
O(polylog(L)/L), and equals 1 on the diagonal for every L."""
from __future__ import annotations

import math
import time

import sympy as sp

from rntk_sym import asymptotics
from rntk_sym.duals import RHO, dual

from .core import SEED_002, geometric_depths, linear_fit, log_poly_fits, make, package_kernel, rate_summary

ID = "002-thm6-ffnet"
CLAIM = ("FFNet: |Omegabar_L(rho) - 1/4| = O(polylog(L)/L) for |1 - rho| >= delta; "
         "Omegabar_L(x, x) = 1 for every L")
SOURCE = SEED_002 + ", Theorem 6"
RHOS = ("-1", "-0.5", "0", "0.5", "0.9", "0.99")


def diagonal_proof(shat=None, shatp=None) -> dict:
    """On the diagonal K_{l-1}(x,x) = shat(1)^(l-1) and T_l = shatp(1) (T_{l-1} + shat(1)^(l-1)),
    T_0 = 0 (docs/recursions.md sec. 2): solved by sympy.rsolve; the claim is T_L = L."""
    relu = dual("relu")
    shat = relu.shat if shat is None else shat
    shatp = relu.shatp if shatp is None else shatp
    s1, p1 = sp.simplify(shat.subs(RHO, 1)), sp.simplify(shatp.subs(RHO, 1))
    l = sp.Symbol("l", integer=True, nonnegative=True)
    T = sp.Function("T")
    sol = sp.rsolve(T(l) - p1 * (T(l - 1) + s1 ** (l - 1)), T(l), {T(0): 0})
    return {"shat(1)": str(s1), "shatp(1)": str(p1), "T_l (rsolve)": str(sol),
            "proved T_L = L": bool(sol is not None and sp.simplify(sol - l) == 0)}


def check(quick: bool = True, *, kernel=package_kernel, shat=None, shatp=None, progress=None) -> ...:
    t0 = time.perf_counter()
    depths = geometric_depths(100, 10**5 if quick else 10**6, 2)
    failed, per_rho = [], {}
    for i, r in enumerate(RHOS):
        vals = [kernel("ffnet", r, L) for L in depths]
        err = [v - 0.25 for v in vals]
        ex = asymptotics.expansion("ffnet", r, digits=20)
        terms = [(float(t.coefficient), float(t.power), t.log_power) for t in ex.terms]
        resid = [e - sum(c * L ** -p * math.log(L) ** q for c, p, q in terms) for L, e in zip(depths, err)]
        late = [k for k, L in enumerate(depths) if L >= 1000]
        rs = rate_summary(depths, err)
        lp = log_poly_fits([depths[k] for k in late], [err[k] for k in late])
        r0, r1 = (lp[f"L*err = poly_{d}(log L)"]["max_rel_residual"] for d in (0, 1))
        # L |err| against log L at the deepest points: slope = coefficient of log L / L
        a, b, _ = linear_fit([math.log(depths[k]) for k in late[-4:]], [depths[k] * err[k] for k in late[-4:]])
        c_log = terms[0][0]
        rel_resid = max(abs(resid[k]) / abs(err[k]) for k in late)
        d = {"L_max": depths[-1], "Omegabar(L_max)": vals[-1], "err(L_max)": err[-1],
             "L*err": {str(L): L * e for L, e in zip(depths, err)},
             "rate (single term c L^-p (log L)^q)": rs, "rate (L*err as a polynomial in log L, L >= 1000)": lp,
             "slope of L*err vs log L (deepest 4)": b, "intercept": a,
             "expansion": {"form": ex.form, "coefficients": {f"L^-{p:g} log^{q}": c for c, p, q in terms}},
             "max |err - expansion| / |err| for L >= 1000": rel_resid,
             "|err - expansion| at L_max": abs(resid[-1])}
        per_rho[r] = d
        if not (abs(err[-1]) < abs(err[late[0]]) and all(e > 0 for e in err[late[0]:])):
            failed.append(f"rho={r}: err does not decrease to 0")
        if not (r1 < 0.01 and r0 > 5 * r1):
            failed.append(f"rho={r}: L*err is not fitted by a + b log L (residual {r1:.2g}; bounded fit {r0:.2g})")
        if abs(b - c_log) > 0.1 * c_log:
            failed.append(f"rho={r}: slope of L*err vs log L = {b:.4g}, expansion says {c_log:.4g}")
        if rel_resid > 0.05:
            failed.append(f"rho={r}: expansion misses err by {rel_resid:.2g} (relative)")
        if progress:
            progress(i + 1)
    diag_num = {str(L): kernel("ffnet", "1", L) for L in (1, 7, 1000, 12345)}
    proof = diagonal_proof(shat, shatp)
    if not proof["proved T_L = L"]:
        failed.append("diagonal: rsolve does not give T_L = L")
    if any(v != 1.0 for v in diag_num.values()):
        failed.append("diagonal: float64 value != 1")
    ev = {"per_rho": per_rho, "diagonal_symbolic": proof, "diagonal_float64": diag_num,
          "note": ("a single term c L^-p (log L)^q fits poorly (it prefers p > 1 with q = 2 where B1(rho) is "
                   "small): err is a sum (3/8) log L/L + B1/L; L*err as a polynomial in log L decides"),
          "failed": failed}
    method = (f"float64 recursion (rntk_sym.ntk) at L = {depths[0]}..{depths[-1]} for rho in {', '.join(RHOS)}; "
              "fit_rate with/without log factors; L*err vs log L; residual after the derived expansion "
              "(asymptotics.expansion); diagonal by sympy.rsolve")
    return make(ID, CLAIM, SOURCE, method, ev, not failed, t0)
