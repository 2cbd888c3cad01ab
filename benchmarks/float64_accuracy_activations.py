"""float64 accuracy of the general-activation kernels near rho = +1 and rho = -1 (issue 14; docs/activations.md).

For each activation (with a bias), FFNet and ResNet (gamma = 1/2), L in {1, 4, 30}, norms (1, 1) and (0.5, 2),
NTK and GP: ``rntk_sym.general.kernel`` in float64 (one vectorized call over the rho grid, which reaches
``1 - 1e-12`` and ``-1 + 1e-12``) against the plain recursion at 50 digits (``tests/test_general.py``'s
``plain_recursion``, an independent transcription carrying the covariance itself, exact at that precision).
The grid's rho are binary floats, passed exactly to both. Prints per activation the worst relative error
(absolute where |value| < 1e-3: odd activations without bias vanish at rho = 0) and where it occurs, split
into the rho < 0 and rho >= 0 halves.

    PYTHONPATH=. python benchmarks/float64_accuracy_activations.py
"""
from __future__ import annotations

import mpmath
import numpy as np

from rntk_sym import general as G
from rntk_sym.activations import get_activation
from tests.test_general import plain_recursion

RHOS = [-1.0, -1 + 1e-12, -1 + 1e-10, -1 + 1e-8, -1 + 1e-6, -0.9999, -0.9, -0.3, 0.0, 0.5, 0.9, 0.9999,
        1 - 1e-6, 1 - 1e-8, 1 - 1e-10, 1 - 1e-12, 1.0]
CASES = [("erf", "2", "0.1"), ("erf:1,2,0", "1.5", "0"), ("gelu", "2", "0.1"), ("leaky_relu:0.1", "2", "0.1"),
         ("sin:1,1,0.3", "1", "0.2"), ("abs", "1", "0.05"), ("abs", "2", "0"), ("arccos:2", "0.5", "0.1"),
         ("relu", "2", "0.5"), ("sign", "1", "0"), ("sign", "1", "0.1")]


def main():
    print(f"{'activation':<16}{'w':>4}{'b':>5}  {'worst rho<0':>11}  {'at (arch, L, norms, kernel, rho)':<44}"
          f"{'worst rho>=0':>12}  at")
    for spec, w, b in CASES:
        act = get_activation(spec)
        kernels = ("gp",) if act.singular_derivative else ("ntk", "gp")
        worst = {True: (0.0, None), False: (0.0, None)}
        for arch, kw in (("ffnet", {}), ("resnet", {"gamma": "0.5"})):
            for norms in ((1, 1), (0.5, 2)):
                for L in (1, 4, 30):
                    for kernel in kernels:
                        got = G.kernel(arch, np.array(RHOS), L, kernel=kernel, activation=spec, weight_var=w,
                                       bias_var=b, norms=norms, **kw)
                        with mpmath.workdps(50):
                            a2 = None if arch == "ffnet" else mpmath.mpf(L) ** -1
                            ref = [plain_recursion(arch, act, mpmath.mpf(w), mpmath.mpf(b), mpmath.mpf(norms[0]),
                                                   mpmath.mpf(norms[1]), mpmath.mpf(r), L, a2, kernel) for r in RHOS]
                        for r, g, f in zip(RHOS, got, ref):
                            e = float(abs(g - f) / max(abs(f), mpmath.mpf("1e-3")))
                            side = r < 0
                            if e > worst[side][0]:
                                worst[side] = (e, (arch, L, norms, kernel, r))
        print(f"{spec:<16}{w:>4}{b:>5}  {worst[True][0]:11.1e}  {str(worst[True][1]):<44}{worst[False][0]:12.1e}  "
              f"{worst[False][1]}", flush=True)


if __name__ == "__main__":
    main()
