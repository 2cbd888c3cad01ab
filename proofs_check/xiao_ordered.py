"""Xiao, Pennington, Schoenholz: in the ordered phase the NTK tends to the constant ``q* / (1 - chi_1)``.

Unnormalized diagonal: ``Theta_{l+1}(x, x) = k_{l+1}(x, x) + chi(q_l) Theta_l(x, x)`` (docs/activations.md, section
2, with ``chi(q) = sigma_w^2 E[phi'(sqrt q z)^2]``) iterated in float64 with the activation's duals, against
``q* / (1 - chi_1)`` from :func:`rntk_sym.phase.phase`; off the diagonal: the normalized NTK of
:func:`rntk_sym.general.kernel` tends to 1 (every entry has the same limit), with ``1 - NTK_L ~ B L chi_1^L`` for
a smooth phi (docs/asymptotics.md, section 8): ``r_L = (1 - NTK_L) / chi_1^L = A + B L + O(chi_1^L)``, checked at three
equally spaced depths by ``(r_3 - r_2) / (r_2 - r_1) = 1`` within 1% and ``B > 0``."""
from __future__ import annotations

import time

import numpy as np

from rntk_sym import general
from rntk_sym.activations import get_activation
from rntk_sym.phase import phase

from .core import make

ID = "xiao-ordered-ntk-limit"
CLAIM = ("in the ordered phase (chi_1 < 1) the NTK converges exponentially to the constant q*/(1 - chi_1) on and off "
         "the diagonal, so the normalized NTK tends to 1; for a smooth phi 1 - NTK_L ~ B L chi_1^L (derived)")
SOURCE = ('Xiao, Pennington, Schoenholz, "Disentangling Trainability and Generalization in Deep Neural Networks" '
          '(ICML 2020, arXiv:1912.13053), the ordered phase; the L chi_1^L rate: docs/asymptotics.md, '
          'section 8')
CASES = (("erf", "0.5", "0.05"), ("gelu", "1.5", "0.1"), ("sin", "1", "0.2"))
RTOL = 1e-9  # the diagonal at depth 200: the geometric remainder chi_1^200 is below 1e-12 for these chi_1


def diagonal_ntk(act, w: float, b: float, depth: int, norm: float = 1.0) -> float:
    """``Theta_depth(x, x)`` (hidden layers' NTK of h_depth, unnormalized), float64, from the recursion's diagonal."""
    a = get_activation(act)
    q = np.float64(w * norm + b)
    theta = q
    for _ in range(depth - 1):
        e, ed = a.expectations(q, q, 0 * q, "float")
        q, theta = w * e + b, w * e + b + w * ed * theta
    return float(theta)


def check(quick: bool = True, *, kernel=general.kernel, diagonal=diagonal_ntk, analysis=phase, progress=None):
    t0 = time.perf_counter()
    rows, failed = [], []
    for k, (act, w, b) in enumerate(CASES):
        p = analysis(act, w, b)
        qs, chi = float(p.q_star.value), float(p.chi_1.value)
        limit = qs / (1 - chi)
        diag = diagonal(act, float(w), float(b), 200)
        depths = (20, 30, 40) if quick else (30, 45, 60)
        u = [1 - float(kernel("ffnet", "0.5", L, activation=act, weight_var=w, bias_var=b, digits=30)) for L in depths]
        scaled = [x / chi ** L for x, L in zip(u, depths)]
        linearity = (scaled[2] - scaled[1]) / (scaled[1] - scaled[0])
        ok_diag = abs(diag / limit - 1) <= RTOL
        ok_rate = p.phase == "ordered" and abs(linearity - 1) < 0.01 and scaled[2] > scaled[1] > scaled[0]
        rows.append({"activation": act, "sigma_w^2": w, "sigma_b^2": b, "q*/(1 - chi_1)": limit,
                     "Theta_200(x,x)": diag, "1 - NTK_L": u, "r_L = (1 - NTK_L)/chi_1^L": scaled, "depths": depths,
                     "(r_3 - r_2)/(r_2 - r_1)": linearity})
        if not ok_diag:
            failed.append(f"{act} ({w}, {b}): Theta_200(x,x) = {diag:.12g}, q*/(1 - chi_1) = {limit:.12g}")
        if not ok_rate:
            failed.append(f"{act} ({w}, {b}): r_L = (1 - NTK_L)/chi_1^L = {[f'{r:.6g}' for r in scaled]} not A + B L")
        if progress:
            progress(k + 1)
    method = (f"diagonal NTK recursion in float64 to depth 200 vs q*/(1 - chi_1) (rntk_sym.phase, tolerance {RTOL}); "
              "normalized NTK of rntk_sym.general.kernel at 30 digits (rho = 0.5): r_L = (1 - NTK_L)/chi_1^L linear "
              "and increasing in L at three equally spaced depths (second-difference ratio within 1%)")
    return make(ID, CLAIM, SOURCE, method, {"cases": rows, "failed": failed}, not failed, t0)
