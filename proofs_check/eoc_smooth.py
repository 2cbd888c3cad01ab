"""Derived claim (docs/asymptotics.md sec. 9.2): at the edge of chaos of a smooth activation with ``q* > 0`` (a bias)
the correlation obeys ``u' = u - (kappa/2) u^2 + (kappa_3/6) u^3 + ...`` (``u = 1 - c``, ``kappa = sigma_w^2 q*
E[phi''^2]``, ``kappa_3 = sigma_w^2 q*^2 E[phi'''^2]`` at ``sqrt(q*) z``), and the NTK's factor is
``chi = 1 - kappa u + ...``, so

    1 - c_L = (2/kappa)/L - (2 C/kappa) log L/L^2 + O(1/L^2)     (Hayou et al.'s beta = 2/kappa)
    NTK_L  = 1/3 + (C/3) log L/L + B/L + ...,   C = 1 - 2 kappa_3/(3 kappa^2)

(the limit 1/3 for every smooth phi; the log coefficient depends on phi through ``C``). Evidence: the exact float64
recursion of :func:`rntk_sym.general.kernel` at two depths ``L1 < L2 = 4 L1``: the slope
``(L2 (NTK_L2 - 1/3) - L1 (NTK_L1 - 1/3))/log 4`` (which removes the unknown ``B``) must be within
``5 log L1/L1`` of ``C/3`` (the next terms are ``O(log L/L)``; measured for erf, sigma_b^2 = 0.05: 5e-3 at
L1 = 1000, 7e-4 at 4000), and ``|L (1 - c_L) - 2/kappa| <= 2 |2 C/kappa| log L/L`` (measured 0.19 of it)."""
from __future__ import annotations

import math
import time

from rntk_sym.eoc import smooth_constants
from rntk_sym.general import kernel as general_kernel

from .core import log_slope, make

ID = "eoc-smooth-limit"
CLAIM = ("at the edge of chaos of a smooth activation with q* > 0 the normalized NTK tends to 1/3, NTK_L - 1/3 ~ "
         "(C/3) log L/L with C = 1 - 2 kappa_3/(3 kappa^2), and 1 - c_L ~ (2/kappa)/L")
SOURCE = ("derived in docs/asymptotics.md sec. 9.2; the GP rate is Hayou, Doucet, Rousseau 2019 (arXiv:1902.06853): "
          "1 - c_l ~ beta/l with beta = 2 E[phi'^2]/(q E[phi''^2]) for smooth activations on the edge of chaos")
CASES = (("erf", "0.05", 0.5), ("sin", "0.1", -0.4))


def exact(act, bias_var, rho, L, kernel):
    return general_kernel("ffnet", rho, L, activation=act, weight_var="eoc", bias_var=bias_var, kernel=kernel)


def check(quick: bool = True, *, evaluate=exact, progress=None):
    t0 = time.perf_counter()
    plan = [(CASES[0], (500, 2000))] if quick else [(c, (1000, 4000, 16000)) for c in CASES]
    rows, failed = [], []
    for (act, b, rho), depths in plan:
        s = smooth_constants(act, b, 16)
        kappa, C = float(s["kappa"][0]), float(s["C"][0])
        ntk = [evaluate(act, b, rho, L, "ntk") for L in depths]
        gp = [evaluate(act, b, rho, L, "gp") for L in depths]
        for i, L in enumerate(depths):
            d = L * (1 - gp[i]) - 2 / kappa
            tol = 2 * abs(2 * C / kappa) * math.log(L) / L
            rows.append({"activation": act, "bias_var": b, "rho": rho, "L": L, "NTK_L": ntk[i], "1 - c_L": 1 - gp[i],
                         "L (1 - c_L) - 2/kappa": d, "tolerance": tol})
            if not abs(d) <= tol:
                failed.append(f"{act} L = {L}: L (1 - c_L) - 2/kappa = {d:.3g} > {tol:.3g}")
            if i:
                L1 = depths[i - 1]
                slope = log_slope(L1, ntk[i - 1], L, ntk[i], 1 / 3)
                tol = 5 * math.log(L1) / L1
                rows.append({"activation": act, "L1": L1, "L2": L, "log-slope": slope, "C/3": C / 3, "tolerance": tol})
                if not abs(slope - C / 3) <= tol:
                    failed.append(f"{act} L = {L1}, {L}: log-slope {slope:.6g} against C/3 = {C / 3:.6g}")
        if progress:
            progress(len(rows))
    method = ("rntk_sym.general.kernel float64 recursion at the edge of chaos (weight_var='eoc'); kappa, C from "
              "rntk_sym.eoc.smooth_constants; the log-slope between depths L and 4L against C/3, L (1 - c_L) against "
              "2/kappa")
    return make(ID, CLAIM, SOURCE, method, {"cases": rows, "failed": failed}, not failed, t0)
