"""Monte Carlo: finite-width networks with biases against the generalized recursion (rntk_sym.general).

Source: docs/activations.md (the networks and which parameters are trained). The networks
(rntk_sym.empirical_general) are written from that description with explicit backpropagation,
independently of the recursion: as the width m grows the normalized empirical kernels tend to the
infinite-width ones (Jacot et al. 2018), fluctuating by O(m^-1/2) (averaged over independent networks)
with an O(1/m) bias.
"""
import math

import numpy as np
import pytest

from rntk_sym import general as G
from rntk_sym.empirical_general import ffnet_kernels, monte_carlo, numpy_activation


@pytest.mark.parametrize("spec,sw2,sb2", [("erf", 2.0, 0.1), ("leaky_relu:0.1", 1.8, 0.1)])
@pytest.mark.parametrize("arch", ["ffnet", "resnet"])
def test_monte_carlo_matches_recursion(spec, sw2, sb2, arch):
    # unequal norms (|x|^2 = 1, |x'|^2 = 2.25), rho = 0.4, depth 3, width 768, 12 networks; ResNet gamma = 1/2.
    # Tolerance: 4 standard errors of the mean plus 3/m for the finite-width bias.
    L, m = 3, 768
    mc = monte_carlo(arch, spec, sw2=sw2, sb2=sb2, rho=0.4, norms=(1, 2.25), depth=L, width=m, nets=12,
                     seed=20240 + len(spec) + len(arch), alpha=1 / math.sqrt(L))
    kw = {} if arch == "ffnet" else {"gamma": "0.5"}
    for kernel, (mean, se) in mc.items():
        exact = G.kernel(arch, 0.4, L, kernel=kernel, activation=spec, weight_var=sw2, bias_var=sb2,
                         norms=(1, 2.25), **kw)
        assert abs(mean - exact) <= 4 * se + 3 / m, (kernel, mean, se, exact)


def test_monte_carlo_can_fail():
    # the same comparison detects a wrong bias variance (0.1 vs 0.3 changes the normalized GP kernel by ~0.2)
    rng = np.random.default_rng(7)
    X = np.array([[1.0, 0.0], [0.4, math.sqrt(1 - 0.16)]])
    phi, dphi = numpy_activation("erf")
    vals = []
    for _ in range(12):
        gp = ffnet_kernels(X, 3, 768, 2.0, 0.1, phi, dphi, rng)[1]
        vals.append(gp[0, 1] / math.sqrt(gp[0, 0] * gp[1, 1]))
    wrong = G.kernel("ffnet", 0.4, 3, kernel="gp", activation="erf", weight_var=2, bias_var="0.3")
    se = np.std(vals, ddof=1) / math.sqrt(12)
    assert abs(np.mean(vals) - wrong) > 4 * se + 3 / 768
