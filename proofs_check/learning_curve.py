"""The spectral theory of kernel regression predicts the NTK's learning curves on the sphere.

Predicted test error (rntk_sym.learning_curve: the Mercer eigenvalues of rntk_sym.spectrum in the
eigenlearning equations) against kernel ridge regression on random points (rntk_sym.learning.learning_experiment,
rntk_sym.regression), for a degree-2 harmonic target on S^2: a deep FFNet, whose flattened spectrum learns it
badly, and a ResNet with gamma = 1, which keeps the shallow kernel's error (docs/spectra.md sec. 8)."""
from __future__ import annotations

import time

from rntk_sym.learning import learning_curve as package_curve
from rntk_sym.learning import learning_experiment

from .core import make

ID = "bcp20-learning-curve"
CLAIM = ("kernel ridge regression with the normalized NTK on S^2: the spectral theory's test error matches "
         "experiments within 3 standard errors + 25%, and orders the networks as the experiments do")
SOURCE = ('Bordelon, Canatar, Pehlevan, "Spectrum Dependent Learning Curves in Kernel Regression and Wide Neural '
          'Networks" (ICML 2020, arXiv:2002.02561); Simon, Dickens, Karkada, DeWeese, "The Eigenlearning Framework" '
          '(arXiv:2110.03922); docs/spectra.md sec. 8')
CASES = (("ffnet", 16, {}), ("resnet", 16, {"gamma": "1"}))
NS = (50, 200)
RIDGE = 0.1
# the theory is an average-case approximation: at d = 3, n = 200 the FFNet L = 16 error is 0.0204 +/- 0.0014
# over 24 draws against the predicted 0.01675 (22% above); the ResNet's within 6% (docs/spectra.md sec. 8)
REL_TOL = 0.25


def check(quick: bool = True, *, learning_curve=package_curve, progress=None):
    t0 = time.perf_counter()
    seeds = 6 if quick else 24
    failed, out, at_200 = [], {}, {}
    for arch, L, kw in CASES:
        th = learning_curve(arch, L, 3, list(NS), target_degree=2, ridge=RIDGE, **kw)
        ex = learning_experiment(arch, L, 3, list(NS), target_degree=2, ridge=RIDGE, seeds=seeds, n_test=300, **kw)
        name = f"{arch} L={L}" + "".join(f" {a}={b}" for a, b in kw.items())
        rows = {}
        for n, t, m, se in zip(NS, th.test_error, ex["mean"], ex["stderr"]):
            rows[f"n={n}"] = {"predicted": t, "measured": m, "stderr": se}
            if not abs(t - m) <= 3 * se + REL_TOL * t:
                failed.append(f"{name}, n={n}: predicted {t:.4g}, measured {m:.4g} +/- {se:.2g}")
        out[name] = rows
        at_200[name] = (th.test_error[-1], ex["mean"][-1])
    (p1, m1), (p2, m2) = at_200.values()
    if (p1 > p2) != (m1 > m2):
        failed.append("the prediction orders the two networks differently from the experiment")
    method = (f"degree-2 unit harmonic target, ridge {RIDGE}, n = {NS}, {seeds} draws of n points and 300 test "
              "points each; tolerance 3 SE + 25% of the prediction")
    return make(ID, CLAIM, SOURCE, method, {"cases": out, "failed": failed}, not failed, t0)
