"""Monte Carlo: finite-width networks with biases against the generalized recursion (rntk_sym.general).

Source: docs/activations.md (the networks and which parameters are trained). The networks are written here
from that description, with explicit backpropagation, independently of the recursion: the empirical NTK is
the inner product of the gradients with respect to the trained parameters, the empirical GP kernel the
readout layer's kernel. As the width m grows both tend to the infinite-width kernels (Jacot et al. 2018);
at width m the normalized values fluctuate by O(m^-1/2) (averaged over independent networks here) and are
biased by O(1/m).
"""
import math

import numpy as np
import pytest

from rntk_sym import general as G

ERF = np.vectorize(math.erf)


def _act(spec):
    if spec == "erf":  # erf(z), derivative 2/sqrt(pi) exp(-z^2)
        return ERF, lambda z: 2 / math.sqrt(math.pi) * np.exp(-z * z)
    if spec == "leaky_relu:0.1":
        return lambda z: np.where(z > 0, z, 0.1 * z), lambda z: np.where(z > 0, 1.0, 0.1)
    raise AssertionError(spec)


def ffnet_kernels(X, L, m, sw2, sb2, phi, dphi, rng):
    """h_1 = sw W_1 x + sb b_1; h_l = sw W_l phi(h_{l-1}) / sqrt(m) + sb b_l; f = readout (fixed) on phi(h_L).
    Trained: W_l, b_l for l = 1..L. Returns the (2, 2) NTK and readout GP kernel of the rows of X."""
    sw, sb = math.sqrt(sw2), math.sqrt(sb2)
    a, fan, acts, hs = X.T, 1.0, [], []  # a: columns are the inputs
    for _ in range(L):
        W, b = rng.normal(size=(m, a.shape[0])), rng.normal(size=(m, 1))
        acts.append((a, fan, W))
        h = sw * W @ a / math.sqrt(fan) + sb * b
        hs.append(h)
        a, fan = phi(h), m
    w = rng.normal(size=(m, 1))
    gp = sw2 * a.T @ a / m + sb2
    delta = sw * w / math.sqrt(m) * dphi(hs[-1])  # df/dh_L
    ntk = np.zeros((2, 2))
    for l in range(L - 1, -1, -1):
        a_in, fan_in, W = acts[l]
        ntk += (sw2 / fan_in) * (delta.T @ delta) * (a_in.T @ a_in) + sb2 * delta.T @ delta
        if l:
            delta = (sw * W.T @ delta / math.sqrt(fan_in)) * dphi(hs[l - 1])
    return ntk, gp


def resnet_kernels(X, L, m, sw2, sb2, alpha, phi, dphi, rng):
    """x_0 = A x (fixed); x_l = x_{l-1} + alpha V_l phi(h_l) / sqrt(m), h_l = sw W_l x_{l-1} / sqrt(m) + sb b_l;
    f = v x_L / sqrt(m) (fixed). Trained: W_l, b_l, V_l. Returns the NTK and the GP kernel <x_L, x_L'> / m."""
    sw, sb = math.sqrt(sw2), math.sqrt(sb2)
    x = rng.normal(size=(m, X.shape[1])) @ X.T
    cache = []
    for _ in range(L):
        W, b, V = rng.normal(size=(m, m)), rng.normal(size=(m, 1)), rng.normal(size=(m, m))
        h = sw * W @ x / math.sqrt(m) + sb * b
        cache.append((x, W, V, h))
        x = x + alpha * V @ phi(h) / math.sqrt(m)
    gp = x.T @ x / m
    g = np.repeat(rng.normal(size=(m, 1)) / math.sqrt(m), 2, axis=1)  # df/dx_L
    ntk = np.zeros((2, 2))
    for x_in, W, V, h in reversed(cache):
        p = phi(h)
        delta = alpha * (V.T @ g) / math.sqrt(m) * dphi(h)  # df/dh_l
        ntk += alpha**2 * (g.T @ g) * (p.T @ p) / m + (sw2 / m) * (delta.T @ delta) * (x_in.T @ x_in) \
            + sb2 * delta.T @ delta
        g = g + sw * W.T @ delta / math.sqrt(m)
    return ntk, gp


def _normalized(K):
    return K[0, 1] / math.sqrt(K[0, 0] * K[1, 1])


@pytest.mark.parametrize("spec,sw2,sb2", [("erf", 2.0, 0.1), ("leaky_relu:0.1", 1.8, 0.1)])
@pytest.mark.parametrize("arch", ["ffnet", "resnet"])
def test_monte_carlo_matches_recursion(spec, sw2, sb2, arch):
    # inputs with different norms (|x|^2 = 1, |x'|^2 = 2.25) and angle rho = 0.4; depth 3, width 768, 12 networks.
    # Tolerance: 4 standard errors of the mean plus 3/m for the finite-width bias.
    rng = np.random.default_rng(20240 + len(spec) + len(arch))
    rho, n2, L, m, nets = 0.4, 2.25, 3, 768, 12
    X = np.array([[1.0, 0.0, 0.0], [rho, math.sqrt(1 - rho**2), 0.0]])
    X[1] *= math.sqrt(n2)
    phi, dphi = _act(spec)
    alpha = 1 / math.sqrt(L)  # gamma = 1/2
    samples = []
    for _ in range(nets):
        if arch == "ffnet":
            ntk, gp = ffnet_kernels(X, L, m, sw2, sb2, phi, dphi, rng)
        else:
            ntk, gp = resnet_kernels(X, L, m, sw2, sb2, alpha, phi, dphi, rng)
        samples.append((_normalized(ntk), _normalized(gp)))
    samples = np.array(samples)
    kw = {} if arch == "ffnet" else {"gamma": "0.5"}
    for col, kernel in enumerate(("ntk", "gp")):
        exact = G.kernel(arch, rho, L, kernel=kernel, activation=spec, weight_var=sw2, bias_var=sb2,
                         norms=(1, n2), **kw)
        mean, se = samples[:, col].mean(), samples[:, col].std(ddof=1) / math.sqrt(nets)
        assert abs(mean - exact) <= 4 * se + 3 / m, (kernel, mean, se, exact)


def test_monte_carlo_can_fail():
    # the same comparison detects a wrong bias variance (0.1 vs 0.3 changes the normalized GP kernel by ~0.03)
    rng = np.random.default_rng(7)
    X = np.array([[1.0, 0.0], [0.4, math.sqrt(1 - 0.16)]])
    phi, dphi = _act("erf")
    vals = [_normalized(ffnet_kernels(X, 3, 768, 2.0, 0.1, phi, dphi, rng)[1]) for _ in range(12)]
    wrong = G.kernel("ffnet", 0.4, 3, kernel="gp", activation="erf", weight_var=2, bias_var="0.3")
    se = np.std(vals, ddof=1) / math.sqrt(12)
    assert abs(np.mean(vals) - wrong) > 4 * se + 3 / 768
