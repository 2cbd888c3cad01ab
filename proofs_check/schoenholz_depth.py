"""Schoenholz et al.'s depth scales: ``|c_l - c*| ~ exp(-l / xi_c)`` with ``xi_c = -1/log chi_{c*}``.

The decay of ``|c_L - c*|`` along the exact recursion (:func:`rntk_sym.general.kernel`, the normalized GP kernel
``c_L``) between two depths gives a measured ``xi``; :func:`rntk_sym.phase.phase` gives the predicted ``xi_c``
(and ``c*``). They agree to 1e-3 relative (the next term of ``c_l - c*`` is ``O(chi_{c*}^{2l})``: at the depths
used its effect on the two-point slope is below 1e-4)."""
from __future__ import annotations

import math
import time

from rntk_sym import general
from rntk_sym.phase import phase

from .core import make

ID = "schoenholz-depth-scales"
CLAIM = ("the correlation of two inputs approaches its fixed point c* exponentially in depth, with the depth scale "
         "xi_c = -1/log chi_{c*}, chi_{c*} = sigma_w^2 E[phi'(u) phi'(v)] at the fixed point (ordered and chaotic "
         "phases)")
SOURCE = ('Schoenholz, Gilmer, Ganguli, Sohl-Dickstein, "Deep Information Propagation" (ICLR 2017, arXiv:1611.01232); '
          'Poole et al., "Exponential expressivity in deep neural networks through transient chaos" '
          '(arXiv:1606.05340)')
# (activation, sigma_w^2, sigma_b^2): ordered and chaotic erf, a chaotic sin
CASES = (("erf", "0.5", "0.05"), ("erf", "1.5", "0.05"), ("erf", "2.5", "0.2"), ("sin", "2", "0.1"))
RTOL = 1e-3


def _depths(xi: float, quick: bool):
    """Two depths where ``|c_L - c*|`` is between ~1e-3 and ~1e-9 (float64 carries 1 - c without cancellation)."""
    l1 = max(4, math.ceil(7 * abs(xi)))
    return l1, l1 + max(3, math.ceil((6 if quick else 12) * abs(xi)))


def check(quick: bool = True, *, kernel=general.kernel, analysis=phase, progress=None):
    t0 = time.perf_counter()
    rows, failed = [], []
    for k, (act, w, b) in enumerate(CASES if not quick else CASES[:3]):
        p = analysis(act, w, b)
        xi, cs = float(p.xi_c.value), float(p.c_star.value)
        l1, l2 = _depths(xi, quick)
        d1, d2 = (abs(float(kernel("ffnet", "0.5", L, kernel="gp", activation=act, weight_var=w, bias_var=b)) - cs)
                  for L in (l1, l2))
        measured = -(l2 - l1) / math.log(d2 / d1)
        ok = abs(measured / xi - 1) <= RTOL
        rows.append({"activation": act, "sigma_w^2": w, "sigma_b^2": b, "phase": p.phase, "c*": cs,
                     "xi_c predicted": xi, "xi measured": measured, "depths": [l1, l2], "|c_L - c*|": [d1, d2]})
        if not ok:
            failed.append(f"{act} ({w}, {b}): measured xi {measured:.6g}, predicted {xi:.6g}")
        if progress:
            progress(k + 1)
    method = ("rntk_sym.phase.phase gives c* and xi_c; rntk_sym.general.kernel (float64 exact recursion, rho = 0.5, "
              f"unit inputs) gives c_L at two depths L1 < L2; measured xi = -(L2 - L1)/log(|c_L2 - c*|/|c_L1 - c*|); "
              f"tolerance {RTOL} relative")
    return make(ID, CLAIM, SOURCE, method, {"cases": rows, "failed": failed}, not failed, t0)
