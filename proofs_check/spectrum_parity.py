"""The two-layer ReLU NTK has no odd eigenvalues beyond k = 1; the deeper FFNets have them.

Bietti & Mairal 2019 (the two-layer NTK ``t kappa_0(t) + kappa_1(t)``; this package's FFNet with L = 1 trains
the first layer only, ``t kappa_0(t)``: its odd part is ``t/2`` too, docs/spectra.md sec. 4); Bietti & Bach 2021
for the deeper ones. Measured: the Mercer eigenvalues of :func:`rntk_sym.spectrum` (float64, with their error
bounds) on S^2 and S^4."""
from __future__ import annotations

import time

from rntk_sym.spectra import spectrum as package_spectrum

from .core import make

ID = "bm19-odd-eigenvalues"
CLAIM = ("FFNet L = 1 (two-layer ReLU NTK): mu_k = 0 for every odd k >= 3 on S^(d-1); FFNets with L >= 2: "
         "mu_k > 0 for every odd k")
SOURCE = ('Bietti, Mairal, "On the Inductive Bias of Neural Tangent Kernels" (NeurIPS 2019, arXiv:1905.12173), '
          'Bietti, Bach, "Deep Equals Shallow for ReLU Networks in Kernel Regimes" (ICLR 2021, '
          'arXiv:2009.14397); docs/spectra.md sec. 4')


def check(quick: bool = True, *, spectrum=package_spectrum, progress=None):
    t0 = time.perf_counter()
    kmax = 41 if quick else 201
    failed, out = [], {}
    for dim in (3, 5):
        for L in (1, 2, 3, 5):
            s = spectrum("ffnet", L, dim, kmax)
            odd = range(3, kmax + 1, 2)
            worst = max(abs(s.mu[k]) / s.error[k] for k in odd)  # L = 1: <= 1 (zero within the error)
            least = min(s.mu[k] / s.error[k] for k in odd)  # L >= 2: >> 1
            even = min(s.mu[k] for k in range(0, kmax + 1, 2))
            out[f"d={dim}, L={L}"] = {"max_odd |mu_k|/error": worst, "min_odd mu_k/error": least,
                                      "min even mu_k": even, "mu_3": s.mu[3], "error_3": s.error[3]}
            if L == 1 and worst > 1:
                failed.append(f"d={dim}, L=1: an odd mu_k exceeds its error ({worst:.3g} x)")
            if L > 1 and least < 1e3:
                failed.append(f"d={dim}, L={L}: an odd mu_k is not resolved from 0 ({least:.3g} x its error)")
            if even <= 0:
                failed.append(f"d={dim}, L={L}: an even mu_k <= 0")
    method = (f"rntk_sym.spectrum (float64 Gauss-Legendre in the angle, error = two node counts + rounding), "
              f"k <= {kmax}: L = 1 odd |mu_k| <= error; L >= 2 odd mu_k >= 1e3 error")
    return make(ID, CLAIM, SOURCE, method, {"cases": out, "failed": failed}, not failed, t0)
