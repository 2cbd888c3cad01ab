"""Deep equals shallow: the Mercer eigenvalues of the ReLU NTK decay like k^-d on S^(d-1) at every depth.

Bietti & Bach 2021 prove ``mu_k ~ C k^-d`` for the FFNet NTK of any depth (the endpoint singularities
``(1 -+ t)^(1/2)``). Measured here from the computed eigenvalues: the power fitted to ``log mu_k`` against
``log k`` over ``k in [K/2, K]``, even and odd k apart, and ``mu_k`` against the derived constants
(:func:`rntk_sym.spectra.decay`, docs/spectra.md sec. 2-3) at k = K."""
from __future__ import annotations

import time

import numpy as np

from rntk_sym.spectra import spectrum as package_spectrum

from .core import make

ID = "bb21-deep-equals-shallow"
CLAIM = ("ReLU NTK on S^(d-1): mu_k ~ C_(k mod 2) k^-d at every depth (FFNet) and gamma (ResNet): fitted power d "
         "and mu_k K^d / C_k -> 1 with the constants of docs/spectra.md")
SOURCE = ('Bietti, Bach, "Deep Equals Shallow for ReLU Networks in Kernel Regimes" (ICLR 2021, arXiv:2009.14397), '
          'docs/spectra.md sec. 2-3')
CASES = (("ffnet", 1, {}), ("ffnet", 2, {}), ("ffnet", 4, {}), ("ffnet", 16, {}),
         ("resnet", 16, {"gamma": "1"}), ("resnet", 16, {"gamma": "0.5"}), ("resnet", 16, {"gamma": "0.25"}))
# the fitted power carries the 1 + O(1/k) of Gamma(k - 1/2)/Gamma(k + d - 1/2) against k^-d: measured
# 0.005 (d = 3) to 0.03 (d = 5) at K = 400; the ratio to the leading term is 1 + O(1/k) too (FFNet L = 16: 0.9997)
POWER_TOL = 0.1
RATIO_TOL = 0.03


def check(quick: bool = True, *, spectrum=package_spectrum, progress=None):
    t0 = time.perf_counter()
    K = 400 if quick else 2000
    dims = (3, 5) if quick else (3, 5, 8)
    failed, out = [], {}
    for dim in dims:
        for arch, L, kw in CASES:
            s = spectrum(arch, L, dim, K, **kw)
            row = {}
            for parity in (0, 1):
                ks = np.arange(K // 2, K + 1)
                ks = ks[ks % 2 == parity]
                if s.decay is not None and (s.decay.C_even if parity == 0 else s.decay.C_odd) == 0:
                    row["odd"] = "C_odd = 0 (two-layer NTK): no odd power"
                    continue
                p = -np.polyfit(np.log(ks), np.log(np.abs(s.mu[ks])), 1)[0]
                k = int(ks[-1])
                ratio = s.mu[k] / s.decay.leading(k) if s.decay is not None else float("nan")
                row["even" if parity == 0 else "odd"] = {"fitted power": p, f"mu_{k} / (C k^-d)": ratio}
                if abs(p - dim) > POWER_TOL:
                    failed.append(f"d={dim} {arch} L={L} {kw}: fitted power {p:.4f}, not {dim}")
                if not abs(ratio - 1) <= RATIO_TOL:
                    failed.append(f"d={dim} {arch} L={L} {kw}: mu_k k^d / C = {ratio:.4f}")
            out[f"d={dim} {arch} L={L} {' '.join(f'{a}={b}' for a, b in kw.items())}".strip()] = row
    method = (f"rntk_sym.spectrum float64, k <= {K}: least-squares power of log mu_k vs log k on [K/2, K] per "
              f"parity (tolerance {POWER_TOL}); mu_K / (C_K K^-d) with the derived constants (tolerance {RATIO_TOL})")
    return make(ID, CLAIM, SOURCE, method, {"cases": out, "failed": failed}, not failed, t0)
