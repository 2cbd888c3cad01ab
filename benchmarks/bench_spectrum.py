"""Accuracy and speed of rntk_sym.spectrum's quadrature (issue 16): Gauss-Legendre in the angle theta
(the package's route: the kernel's endpoint singularities (1 -+ t)^(1/2) are analytic in theta) against
the baseline Gauss-Legendre in t = cos theta (= Gauss-Jacobi with the weight (1 - t^2)^0 on S^2), the same
node counts, in one run. Reference: rntk_sym.spectrum(..., digits=30). FFNet NTK L = 3 on S^2, k <= 40.
Also the time of spectrum() at a few sizes. Run: ``python benchmarks/bench_spectrum.py``.
"""
from __future__ import annotations

import time

import numpy as np

import rntk_sym
from rntk_sym.spectra import _float_mu, gegenbauer_iter, spectrum

KMAX = 40


def in_t(n: int) -> np.ndarray:
    """mu_k, k <= KMAX, by n-point Gauss-Legendre in t on S^2 (weight 1, ratio |S^1|/|S^2| = 1/2)."""
    t, w = np.polynomial.legendre.leggauss(n)
    k = np.asarray(rntk_sym.ntk("ffnet", t, 3))
    return np.array([np.sum(w * k * p) / 2 for p in gegenbauer_iter(t, 3, KMAX)])


def main() -> None:
    ref = spectrum("ffnet", 3, 3, KMAX, digits=30)
    exact = np.array([float(m) for m in ref.mu])
    model = ("ffnet", "ntk", 3, None, None, {})
    print("| nodes n | max_k abs error, Gauss-Legendre in t | max_k abs error, in the angle (package) |")
    print("|---|---|---|")
    for n in (50, 100, 200, 400, 800, 1600):
        e_t = np.max(np.abs(in_t(n) - exact))
        e_a = np.max(np.abs(_float_mu(model, 3, KMAX, n)[0] - exact))
        print(f"| {n} | {e_t:.2e} | {e_a:.2e} |")
    print()
    print("| call | seconds |")
    print("|---|---|")
    for arch, L, dim, kmax, kw in (("ffnet", 3, 3, 2000, {}), ("ffnet", 3, 3, 2000, {}), ("ffnet", 2, 1000, 2000, {}),
                                   ("resnet", 1000, 3, 500, {"gamma": "0.5"}), ("ffnet", 3, 3, 15, {"digits": 30}),
                                   ("ffnet", 3, 3, 100, {"digits": 30})):
        t0 = time.perf_counter()
        spectrum(arch, L, dim, kmax, **kw)
        print(f"| spectrum({arch!r}, {L}, dim={dim}, kmax={kmax}{''.join(f', {a}={b!r}' for a, b in kw.items())})"
              f" | {time.perf_counter() - t0:.3f} |")


if __name__ == "__main__":
    main()
