"""Derived claim (docs/asymptotics.md sec. 9.1): on the edge of chaos of the ReLU-like family ``ab_relu:a,b``
(``sigma_w^2 = 2/(a^2 + b^2)``, no bias) the angle map is the ReLU's with the step ``w = (b - a)^2/(a^2 + b^2)``, so

    NTK_L = 1/4 + (3/8) log L/L + B1/L + (9/16) log L/L^2 + B2/L^2 + O(log^2 L/L^3)   (3/8 and 9/16 universal)
    1 - rho_L = (9 pi^2/(2 w^2)) L^-2 - (27 pi^2/(2 w^2)) log L/L^3 + c3/L^3 + O(log^2 L/L^4)

(``B1, B2, c3`` through the orbit constant ``K_w(rho)``; :func:`rntk_sym.eoc.eoc_expansion`). Evidence: the
exact recursion of :func:`rntk_sym.general.kernel` (the covariance recursion of the network, not the angle map)
minus the derived expansion must be within the next order, whose constants grow like ``A = 3 pi/w``:
``|NTK_L - expansion| <= 40 log^2 L/(w^3 L^3)`` and ``|rho_L - expansion| <= 5000 log^2 L/(w^4 L^4)`` (measured on
the three CASES, float64, L = 1000..16000: ``w^3 L^3/log^2 L`` times the NTK residual 4 to 12, ``w^4 L^4/log^2 L``
times the GP residual 120 to 1000). A wrong universal coefficient (3/8 -> 0.4) moves the NTK by
``0.025 log L/L``, 170 times the tolerance at L = 2000 (leaky 0.1); a wrong sign of the GP's ``c3/L^3`` fails too."""
from __future__ import annotations

import math
import time

from rntk_sym.eoc import eoc_expansion
from rntk_sym.general import kernel as general_kernel

from .core import make

ID = "eoc-abrelu-universal"
CLAIM = ("on the ab_relu edge of chaos NTK_L = 1/4 + (3/8) log L/L + B1/L + ... for every a != b (3/8 universal) and "
         "1 - rho_L ~ 9 pi^2 (a^2 + b^2)^2/(2 (b - a)^4 L^2)")
SOURCE = ("derived in docs/asymptotics.md sec. 9.1 (extends Hayou, Doucet, Rousseau 2019, arXiv:1902.06853, ReLU: "
          "9 pi^2/2; Huang et al. 2020, arXiv:2002.06262, ReLU NTK -> 1/4)")
CASES = (("leaky_relu:0.1", "0.5"), ("ab_relu:-0.5,1", "-0.3"), ("ab_relu:0.6,1", "0.9"))


def exact(act, rho, L, kernel):
    """The normalized kernel by the float64 recursion (the quick check) of rntk_sym.general."""
    return general_kernel("ffnet", float(rho), L, activation=act, weight_var="eoc", kernel=kernel)


def value(ex, L):
    v = ex.limit.value
    for t in ex.terms:
        v += t.coefficient * (math.log(L) ** t.log_power) / L ** float(t.power)
    return float(v)


def check(quick: bool = True, *, evaluate=exact, progress=None):
    t0 = time.perf_counter()
    plan = [(CASES[0], (1000, 2000)), (CASES[1], (1000,))] if quick else [(c, (1000, 4000, 16000)) for c in CASES]
    rows, failed = [], []
    for (act, rho), depths in plan:
        ntk_ex = eoc_expansion(rho, act, kernel="ntk", digits=16)
        gp_ex = eoc_expansion(rho, act, kernel="gp", digits=16)
        w2 = (gp_ex.terms[0].coefficient * -2 / (9 * math.pi ** 2)) ** -1  # -(9 pi^2/(2 w^2)) -> w^2
        for L in depths:
            n, g = evaluate(act, rho, L, "ntk"), evaluate(act, rho, L, "gp")
            rn, rg = n - value(ntk_ex, L), (g - 1) - (value(gp_ex, L) - 1)
            tol_n = 40 * math.log(L) ** 2 / (float(w2) ** 1.5 * L ** 3)
            tol_g = 5e3 * math.log(L) ** 2 / (float(w2) ** 2 * L ** 4)
            rows.append({"activation": act, "rho": rho, "L": L, "NTK_L": n, "NTK residual": rn,
                         "NTK tolerance": tol_n, "1 - rho_L": 1 - g, "GP residual": rg, "GP tolerance": tol_g,
                         "L (NTK_L - 1/4 - B1/L)/log L": L * (n - 0.25 - float(ntk_ex.terms[1].coefficient) / L)
                         / math.log(L)})
            if not abs(rn) <= tol_n:
                failed.append(f"{act} rho = {rho} L = {L}: NTK_L - expansion = {rn:.3g} > {tol_n:.3g}")
            if not abs(rg) <= tol_g:
                failed.append(f"{act} rho = {rho} L = {L}: rho_L - expansion = {rg:.3g} > {tol_g:.3g}")
        if progress:
            progress(len(rows))
    method = ("rntk_sym.general.kernel (" + ("float64" if evaluate is exact else "given evaluator") + ") at L = "
              f"{[d for _, d in plan]} minus the derived expansions (orbit constant K_w by the Fatou route); "
              "residuals within the next order")
    return make(ID, CLAIM, SOURCE, method, {"cases": rows, "failed": failed}, not failed, t0)
