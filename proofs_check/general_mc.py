"""The generalized recursion (any activation, weight and bias variance, input norms; docs/activations.md)
against finite-width networks: the Monte Carlo mean of the normalized empirical NTK and GP kernel agrees
with the infinite-width value within 4 standard errors plus 3/m (the O(1/m) finite-width bias)."""
from __future__ import annotations

import math
import time

from rntk_sym import general
from rntk_sym.empirical_general import monte_carlo

from .core import make

ID = "general-activation-monte-carlo"
CLAIM = ("the kernels of rntk_sym.general (erf and leaky relu with biases, unequal input norms, FFNet and ResNet "
         "gamma = 1/2) are the infinite-width limits of the finite-width networks of docs/activations.md")
SOURCE = ('docs/activations.md, sections 1-2; the NTK recursion of Jacot, Gabriel, Hongler, "Neural Tangent '
          'Kernel: Convergence and Generalization in Neural Networks" (NeurIPS 2018, arXiv:1806.07572), the GP '
          'map of Lee et al., "Deep Neural Networks as Gaussian Processes" (ICLR 2018, arXiv:1711.00165)')
CASES = (("erf", 2.0, 0.1), ("leaky_relu:0.1", 1.8, 0.1))


def check(quick: bool = True, *, kernel=general.kernel, progress=None):
    t0 = time.perf_counter()
    width, nets, L, rho, norms = (256, 48, 3, 0.4, (1, 2.25)) if quick else (1024, 48, 4, 0.4, (1, 2.25))
    failed, rows = [], []
    for k, (spec, sw2, sb2) in enumerate(CASES):
        for arch in ("ffnet", "resnet"):
            mc = monte_carlo(arch, spec, sw2=sw2, sb2=sb2, rho=rho, norms=norms, depth=L, width=width, nets=nets,
                             seed=100 + k, alpha=1 / math.sqrt(L))
            kw = {} if arch == "ffnet" else {"gamma": "0.5"}
            for name, (mean, se) in mc.items():
                exact = float(kernel(arch, rho, L, kernel=name, activation=spec, weight_var=sw2, bias_var=sb2,
                                     norms=norms, **kw))
                ok = abs(mean - exact) <= 4 * se + 3 / width
                rows.append({"activation": spec, "arch": arch, "kernel": name, "exact": exact,
                             "monte_carlo": mean, "standard_error": se})
                if not ok:
                    failed.append(f"{spec} {arch} {name}: Monte Carlo {mean:.4f} +/- {se:.4f}, recursion {exact:.4f}")
        if progress:
            progress(k + 1)
    method = (f"rntk_sym.empirical_general: {nets} networks of width {width}, depth {L}, explicit backprop, "
              f"pair rho = {rho}, squared norms {norms}; sigma_b^2 = 0.1; tolerance 4 SE + 3/m")
    return make(ID, CLAIM, SOURCE, method, {"cases": rows, "failed": failed}, not failed, t0)
