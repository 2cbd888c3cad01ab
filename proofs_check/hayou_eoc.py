"""Hayou, Doucet, Rousseau: at the edge of chaos the ReLU correlation converges polynomially,
``1 - c_l ~ 9 pi^2 / (2 l^2)``.

The exact recursion of the seeds' ReLU FFNet (``sigma_w^2 = 2``, the edge of chaos of relu without bias:
:func:`rntk_sym.phase.edge_of_chaos` returns exactly 2) gives ``1 - rho_L`` without cancellation
(``rntk_sym.gp(..., digits=D).complement``; the skip-ahead reaches large L); ``L^2 (1 - rho_L) / (9 pi^2 / 2)``
tends to 1. Its next term is ``O(log L / L)`` (docs/asymptotics.md, section 3), so at depth L the ratio must be
within ``10 (1 + log L) / L`` of 1 (measured: ``L |ratio - 1|`` is 28 to 52 at L = 1000, 68 at 10^5, growing like
``log L``) and approach 1 as L grows."""
from __future__ import annotations

import math
import time

import rntk_sym
from rntk_sym.phase import edge_of_chaos

from .core import make

ID = "hayou-relu-eoc-rate"
CLAIM = "on the ReLU edge of chaos (sigma_w^2 = 2, sigma_b^2 = 0) the correlation obeys 1 - c_l ~ 9 pi^2/(2 l^2)"
SOURCE = ('Hayou, Doucet, Rousseau, "On the Impact of the Activation Function on Deep Neural Networks Training" '
          '(ICML 2019, arXiv:1902.06853): ReLU-like activations on the edge of chaos')
RHOS = ("-0.5", "0", "0.9")


def one_minus_rho(rho, L) -> float:
    return float(rntk_sym.gp("ffnet", rho, L, digits=20).complement.value)


def check(quick: bool = True, *, complement=one_minus_rho, progress=None):
    t0 = time.perf_counter()
    depths = (10 ** 3, 10 ** 5) if quick else (10 ** 3, 10 ** 5, 10 ** 7)
    eoc = edge_of_chaos("relu", 0)
    rows, failed = [], []
    if eoc != 2:
        failed.append(f"edge of chaos of relu without bias: {eoc}, expected 2 (chi_1 = sigma_w^2 / 2)")
    const = 9 * math.pi ** 2 / 2
    for k, rho in enumerate(RHOS):
        ratios = [L * L * complement(rho, L) / const for L in depths]
        rows.append({"rho": rho, "depths": depths, "L^2 (1 - rho_L) / (9 pi^2/2)": ratios})
        if any(abs(r - 1) > 10 * (1 + math.log(L)) / L for r, L in zip(ratios, depths)) or \
                not abs(ratios[-1] - 1) < abs(ratios[0] - 1):
            failed.append(f"rho = {rho}: L^2 (1 - rho_L)/(9 pi^2/2) = {ratios} at L = {depths}")
        if progress:
            progress(k + 1)
    method = ("rntk_sym.gp at 20 digits (exact recursion / skip-ahead), 1 - rho_L from the complement; ratio to "
              "9 pi^2/(2 L^2) within 10 (1 + log L)/L and approaching 1 as L grows")
    return make(ID, CLAIM, SOURCE, method, {"edge of chaos sigma_w^2": str(eoc), "cases": rows, "failed": failed},
                not failed, t0)
