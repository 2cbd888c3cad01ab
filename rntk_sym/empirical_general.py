"""Finite-width networks with any closed-form activation, weight and bias variance (docs/activations.md,
section 1), with explicit backpropagation: Monte Carlo estimates of the normalized kernels of
:mod:`rntk_sym.general`, written independently of its recursion.

The empirical NTK is the inner product of the gradients with respect to the trained parameters (FFNet:
``W_l, b_l``, l = 1..L; ResNet: ``W_l, b_l, V_l``); the empirical GP kernel is the readout layer's kernel
(FFNet ``sigma_w^2 <phi(h_L), phi(h_L')> / m + sigma_b^2``, ResNet ``<x_L, x_L'> / m``). At width m they
fluctuate by O(m^-1/2) around the infinite-width kernels and are biased by O(1/m) (Jacot et al. 2018).
"""
from __future__ import annotations

import math

import numpy as np
import sympy as sp

from .activations import families as F
from .activations import get_activation
from .activations.quadrature import array_function

_NUMPY = [{"erf": np.vectorize(math.erf)}, "numpy"]  # numpy has no erf


def numpy_activation(spec):
    """``(phi, dphi)`` of a closed-form activation as numpy functions (from its SymPy ``phi``, ``dphi``)."""
    act = get_activation(spec)
    fns = [sp.lambdify(F.Z, e, _NUMPY) for e in (act.closed.phi, act.closed.dphi)]
    return tuple(array_function(f) for f in fns)


def ffnet_kernels(X, L, m, sw2, sb2, phi, dphi, rng):
    """NTK and GP kernel matrices of the rows of ``X`` for one random FFNet of width ``m``:
    ``h_1 = sw W_1 x + sb b_1``, ``h_l = sw W_l phi(h_{l-1}) / sqrt(m) + sb b_l``, readout fixed."""
    sw, sb = math.sqrt(sw2), math.sqrt(sb2)
    a, fan, layers, hs = X.T, 1.0, [], []  # a: one column per input
    for _ in range(L):
        W, b = rng.normal(size=(m, a.shape[0])), rng.normal(size=(m, 1))
        layers.append((a, fan, W))
        h = sw * W @ a / math.sqrt(fan) + sb * b
        hs.append(h)
        a, fan = phi(h), m
    w = rng.normal(size=(m, 1))
    gp = sw2 * a.T @ a / m + sb2
    delta = sw * w / math.sqrt(m) * dphi(hs[-1])  # df/dh_L
    n = X.shape[0]
    ntk = np.zeros((n, n))
    for l in range(L - 1, -1, -1):
        a_in, fan_in, W = layers[l]
        dd = delta.T @ delta
        ntk += (sw2 / fan_in) * dd * (a_in.T @ a_in) + sb2 * dd
        if l:
            delta = (sw * W.T @ delta / math.sqrt(fan_in)) * dphi(hs[l - 1])
    return ntk, gp


def resnet_kernels(X, L, m, sw2, sb2, alpha, phi, dphi, rng):
    """NTK and GP kernel matrices for one random ResNet of width ``m``: ``x_0 = A x`` (fixed),
    ``x_l = x_{l-1} + alpha V_l phi(h_l) / sqrt(m)``, ``h_l = sw W_l x_{l-1} / sqrt(m) + sb b_l``, readout fixed."""
    sw, sb = math.sqrt(sw2), math.sqrt(sb2)
    x = rng.normal(size=(m, X.shape[1])) @ X.T
    cache = []
    for _ in range(L):
        W, b, V = rng.normal(size=(m, m)), rng.normal(size=(m, 1)), rng.normal(size=(m, m))
        h = sw * W @ x / math.sqrt(m) + sb * b
        cache.append((x, W, V, h))
        x = x + alpha * V @ phi(h) / math.sqrt(m)
    gp = x.T @ x / m
    n = X.shape[0]
    g = np.repeat(rng.normal(size=(m, 1)) / math.sqrt(m), n, axis=1)  # df/dx_L
    ntk = np.zeros((n, n))
    for x_in, W, V, h in reversed(cache):
        p = phi(h)
        delta = alpha * (V.T @ g) / math.sqrt(m) * dphi(h)  # df/dh_l
        dd = delta.T @ delta
        ntk += alpha**2 * (g.T @ g) * (p.T @ p) / m + (sw2 / m) * dd * (x_in.T @ x_in) + sb2 * dd
        g = g + sw * W.T @ delta / math.sqrt(m)
    return ntk, gp


def monte_carlo(arch, spec, *, sw2, sb2, rho, norms, depth, width, nets, seed=0, alpha=None):
    """Mean and standard error over ``nets`` networks of the normalized NTK and GP kernel of a pair with
    cosine ``rho`` and squared norms ``norms``: ``{"ntk": (mean, se), "gp": (mean, se)}``."""
    rng = np.random.default_rng(seed)
    X = np.array([[1.0, 0.0], [rho, math.sqrt(1 - rho * rho)]]) * np.sqrt(np.asarray(norms, float))[:, None]
    phi, dphi = numpy_activation(spec)
    vals = []
    for _ in range(nets):
        if arch == "ffnet":
            mats = ffnet_kernels(X, depth, width, sw2, sb2, phi, dphi, rng)
        else:
            mats = resnet_kernels(X, depth, width, sw2, sb2, alpha, phi, dphi, rng)
        vals.append([K[0, 1] / math.sqrt(K[0, 0] * K[1, 1]) for K in mats])
    vals = np.array(vals)
    return {k: (float(vals[:, i].mean()), float(vals[:, i].std(ddof=1) / math.sqrt(nets)))
            for i, k in enumerate(("ntk", "gp"))}
