r"""Finite-width networks of seed 002 and their empirical neural tangent kernels.

Pure numpy, no autodiff: the per-layer parameter gradients are written out by hand
(backpropagation), vectorized over a batch of inputs.

Sources
-------
* seed 002 (Huang, Wang, Tao, Zhao, arXiv 2002.06262), "Network setup"; docs/model.md sections 2 and 3.
* seed 003 (Li, Luo, Yip), docs/model.md section 6: gradient-descent training of the ResNet.

Networks (symbol -> argument / attribute)
-----------------------------------------
``L = depth``, ``m = width``, ``D = X.shape[1]``, ``alpha = alpha`` (or ``depth ** -gamma``),
``relu(z) = max(0, z)``; every matrix/vector entry is drawn i.i.d. N(0, 1).

FFNet (``arch="ffnet"``)::

    x_0 = x,   x_l = sqrt(2/m) relu(W_l x_{l-1})  (l = 1..L),   f(x) = v^T x_L
    W_1: m x D, W_2..W_L: m x m, v: m.   Trained: W_1..W_L.  Fixed: v.

ResNet (``arch="resnet"``)::

    x_0 = A x / sqrt(m),
    x_l = x_{l-1} + alpha V_l relu(sqrt(2/m) W_l x_{l-1}) / sqrt(m)   (l = 1..L),
    f(x) = v^T x_L
    A: m x D, W_l, V_l: m x m, v: m.   Trained: W_l, V_l.  Fixed: A, v.

Scaling note (ResNet).  Seed 002 puts the *plain* ReLU ``sigma_0`` inside the block together with
``sqrt(2/m)``; docs/model.md section 3 writes the normalized ReLU ``sigma = sqrt(2) relu`` there.  Only the
seed's version (equivalently ``V_l sigma(W_l x_{l-1} / sqrt(m)) / sqrt(m)``) reproduces the analytic
recursion ``K_l = K_{l-1} + alpha^2 Gamma_sigma(K_{l-1})``: with ``sigma`` *and* ``sqrt(2/m)`` the
residual branch is sqrt(2) too large and one gets ``K_l = K_{l-1} + 2 alpha^2 Gamma_sigma(K_{l-1})``
(and every term of ``Omega_L`` doubled).  This module implements the seed's version; the Monte Carlo
tests confirm ``<x_L, x'_L> -> K_L`` and ``empirical NTK -> Omega_L`` with it.

Kernels returned
----------------
``empirical_ntk`` returns the unnormalized Gram matrix
``sum_l <grad_{theta_l} f(x_i), grad_{theta_l} f(x_j)>`` (theta_l = W_l for FFNet, (W_l, V_l) for
ResNet), which converges to ``Omega_L`` of docs/model.md as ``m -> infinity``;
``ntk_normalizer`` / ``normalize_ntk`` divide by the analytic diagonal
(FFNet: ``L``; ResNet: ``2 L alpha^2 (1 + alpha^2)^(L-1)``) to compare with ``Omegabar_L``.
``empirical_gp_kernel`` returns ``<x_L(x_i), x_L(x_j)>`` which converges to ``K_L``
(FFNet: ``K_L(x,x) = 1``; ResNet: ``K_L(x,x) = (1 + alpha^2)^L``).

Seeding
-------
The parameters of "slot" ``k`` are drawn from ``numpy.random.default_rng(SeedSequence(seed,
spawn_key=(k,)))``: slot 0 = ``A`` (ResNet only), slot ``l`` = ``W_l`` (then ``V_l``), slot
``L + 1`` = ``v``.  A network is therefore a deterministic function of ``(arch, D, depth, width,
seed)``, and a layer's weights can be regenerated instead of stored (``lazy=True``), which keeps the
memory of :func:`empirical_ntk` at ``O(m^2)`` for weights.  Activations are stored
(``O(L n m)``) unless ``store_activations=False``, in which case they are recomputed
(memory ``O(n m + m^2)``, time ``O(L^2)`` layer applications instead of ``O(L)``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

__all__ = [
    "FFNet",
    "ResNet",
    "make_network",
    "resolve_alpha",
    "empirical_ntk",
    "empirical_gp_kernel",
    "empirical_kernels",
    "ntk_normalizer",
    "gp_normalizer",
    "normalize_ntk",
    "normalized_empirical_ntk",
    "train_gd",
    "train_resnet_gd",
    "TrainingResult",
]


# ----------------------------------------------------------------------------- helpers

def _canonical_arch(arch: str) -> str:
    a = str(arch).lower().replace("-", "").replace("_", "")
    if a in ("ffnet", "ff", "fc", "feedforward", "fcn", "mlp"):
        return "ffnet"
    if a in ("resnet", "res", "residual", "rntk"):
        return "resnet"
    raise ValueError(f"unknown arch {arch!r}; use 'ffnet' or 'resnet'")


def resolve_alpha(arch: str, depth: int, gamma: float | None = None,
                  alpha: float | None = None) -> float | None:
    """Residual scale ``alpha`` of docs/model.md section 3/4.

    ResNet: exactly one of ``alpha`` (constant scale) or ``gamma`` (``alpha = depth ** -gamma``)
    must be given.  FFNet: both must be None; returns None.
    """
    arch = _canonical_arch(arch)
    if arch == "ffnet":
        if gamma is not None or alpha is not None:
            raise ValueError("FFNet takes neither gamma nor alpha")
        return None
    if (gamma is None) == (alpha is None):
        raise ValueError("ResNet needs exactly one of gamma= or alpha=")
    if alpha is None:
        alpha = float(depth) ** (-float(gamma))
    alpha = float(alpha)
    if not alpha > 0:
        raise ValueError("alpha must be positive")
    return alpha


def _slot_rng(seed: int, slot: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(int(seed), spawn_key=(int(slot),)))


def _relu(z):
    return np.maximum(z, 0.0)


def _as_batch(X) -> np.ndarray:
    X = np.asarray(X, dtype=np.float64)
    if X.ndim == 1:
        X = X[None, :]
    if X.ndim != 2:
        raise ValueError("X must be an (n, D) array (rows are inputs)")
    return X


# ----------------------------------------------------------------------------- networks

class _Net:
    """Common machinery; see :class:`FFNet` and :class:`ResNet`."""

    arch = ""

    def __init__(self, input_dim: int, depth: int, width: int, seed: int = 0, lazy: bool = False):
        if depth < 1 or width < 1 or input_dim < 1:
            raise ValueError("depth, width and input_dim must be >= 1")
        self.D = int(input_dim)
        self.L = int(depth)
        self.m = int(width)
        self.seed = int(seed)
        self.lazy = bool(lazy)
        self._layers = None if self.lazy else [self._draw_layer(l) for l in range(1, self.L + 1)]
        self.v = _slot_rng(self.seed, self.L + 1).standard_normal(self.m)

    # -- parameters
    def _draw_layer(self, l: int):  # pragma: no cover - abstract
        raise NotImplementedError

    def layer(self, l: int):
        """Trained parameters of layer ``l`` (1-based) as a tuple of arrays."""
        if not 1 <= l <= self.L:
            raise IndexError(l)
        if self._layers is None:
            return self._draw_layer(l)
        return self._layers[l - 1]

    def _require_stored(self):
        if self._layers is None:
            raise RuntimeError("parameters are regenerated on the fly (lazy=True); build with lazy=False")

    def trained_parameters(self) -> list[np.ndarray]:
        """Flat list of the trained arrays, layer by layer (FFNet: W_l; ResNet: W_l, V_l)."""
        self._require_stored()
        return [p for layer in self._layers for p in layer]

    def get_flat(self) -> np.ndarray:
        return np.concatenate([p.ravel() for p in self.trained_parameters()])

    def set_flat(self, theta: np.ndarray) -> None:
        self._require_stored()
        theta = np.asarray(theta, dtype=np.float64)
        k = 0
        new = []
        for layer in self._layers:
            arrs = []
            for p in layer:
                arrs.append(theta[k:k + p.size].reshape(p.shape).copy())
                k += p.size
            new.append(tuple(arrs))
        if k != theta.size:
            raise ValueError("wrong parameter vector length")
        self._layers = new

    # -- forward
    def _input(self, X: np.ndarray) -> np.ndarray:  # x_0
        return X

    def _forward_layer(self, l: int, params, Xp: np.ndarray) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError

    def _backward_layer(self, l, params, Xp, G, want_gram, want_grad):  # pragma: no cover
        raise NotImplementedError

    def hidden(self, X, upto: int | None = None) -> np.ndarray:
        """``x_upto`` for every row of X (default ``upto = L``), shape (n, m)."""
        X = _as_batch(X)
        upto = self.L if upto is None else int(upto)
        H = self._input(X)
        for l in range(1, upto + 1):
            H = self._forward_layer(l, self.layer(l), H)
        return H

    def __call__(self, X) -> np.ndarray:
        """Network output ``f(x) = v^T x_L`` for every row of X, shape (n,)."""
        return self.hidden(X) @ self.v

    # -- backward
    def _backprop(self, X, G_L, *, want_gram: bool, want_grad: bool, store_activations: bool = True):
        """Backpropagate the output cotangents ``G_L`` (n, m) = d(.)/d x_L.

        Returns (per-layer NTK Grams (L, n, n) or None, per-layer parameter grads or None, x_L).
        ``want_grad`` gives the gradient of ``sum_i <G_L[i], x_L(x_i)>`` with respect to the
        trained parameters (so with ``G_L = c[:, None] * v`` it is the gradient of
        ``sum_i c_i f(x_i)``); ``want_gram`` gives the per-layer Gram matrices of the per-example
        parameter gradients when ``G_L`` rows are ``v``.
        """
        X = _as_batch(X)
        X0 = self._input(X)
        if store_activations:
            acts = [X0]
            for l in range(1, self.L + 1):
                acts.append(self._forward_layer(l, self.layer(l), acts[-1]))
            XL = acts[-1]
        else:
            acts = None
            XL = self.hidden(X)
        n = X.shape[0]
        grams = np.zeros((self.L, n, n)) if want_gram else None
        grads = [None] * self.L if want_grad else None
        G = G_L
        for l in range(self.L, 0, -1):
            params = self.layer(l)
            if acts is not None:
                Xp = acts[l - 1]
            else:  # recompute x_{l-1}: memory O(n m + m^2)
                Xp = self.hidden(X, upto=l - 1)
            gram, grad, G = self._backward_layer(l, params, Xp, G, want_gram, want_grad)
            if want_gram:
                grams[l - 1] = gram
            if want_grad:
                grads[l - 1] = grad
        return grams, grads, XL

    def kernels(self, X, *, per_layer: bool = False, store_activations: bool = True):
        """(empirical NTK, empirical GP kernel) on the rows of X; see :func:`empirical_kernels`."""
        X = _as_batch(X)
        n = X.shape[0]
        G_L = np.broadcast_to(self.v, (n, self.m))
        grams, _, XL = self._backprop(X, G_L, want_gram=True, want_grad=False,
                                      store_activations=store_activations)
        ntk = grams if per_layer else grams.sum(axis=0)
        return ntk, XL @ XL.T

    def ntk(self, X, **kw) -> np.ndarray:
        return self.kernels(X, **kw)[0]

    def loss_and_grad(self, X, y):
        """Squared loss ``R_S = (1/(2n)) sum_i (f(x_i) - y_i)^2`` and its parameter gradient.

        Returns (R_S, list of per-layer gradient tuples, residuals f - y).
        """
        X = _as_batch(X)
        y = np.asarray(y, dtype=np.float64).reshape(-1)
        n = X.shape[0]
        XL = self.hidden(X)
        r = XL @ self.v - y
        G_L = (r / n)[:, None] * self.v[None, :]
        _, grads, _ = self._backprop(X, G_L, want_gram=False, want_grad=True)
        return 0.5 * float(r @ r) / n, grads, r

    def per_example_gradient(self, x) -> np.ndarray:
        """Flat gradient of ``f(x)`` for one input (same order as :meth:`get_flat`)."""
        x = _as_batch(x)
        if x.shape[0] != 1:
            raise ValueError("one input at a time")
        G_L = self.v[None, :]
        _, grads, _ = self._backprop(x, G_L, want_gram=False, want_grad=True)
        return np.concatenate([g.ravel() for layer in grads for g in layer])


class FFNet(_Net):
    """Feedforward net of seed 002: ``x_l = sqrt(2/m) relu(W_l x_{l-1})``, ``f = v^T x_L``.

    Arguments: ``input_dim = D``, ``depth = L``, ``width = m``, ``seed`` (see module docstring),
    ``lazy`` (regenerate W_l on each use instead of storing them).
    """

    arch = "ffnet"

    def _draw_layer(self, l):
        d_in = self.D if l == 1 else self.m
        return (_slot_rng(self.seed, l).standard_normal((self.m, d_in)),)

    def _forward_layer(self, l, params, Xp):
        (W,) = params
        return math.sqrt(2.0 / self.m) * _relu(Xp @ W.T)

    def _backward_layer(self, l, params, Xp, G, want_gram, want_grad):
        (W,) = params
        c = math.sqrt(2.0 / self.m)
        pre = Xp @ W.T
        dpre = c * G * (pre > 0)                 # d(.)/d(W_l x_{l-1}), rows = examples
        gram = (dpre @ dpre.T) * (Xp @ Xp.T) if want_gram else None
        grad = (dpre.T @ Xp,) if want_grad else None
        return gram, grad, dpre @ W


class ResNet(_Net):
    """Residual net of seed 002:
    ``x_0 = A x / sqrt(m)``, ``x_l = x_{l-1} + alpha V_l relu(sqrt(2/m) W_l x_{l-1}) / sqrt(m)``,
    ``f = v^T x_L``.

    Arguments: ``input_dim = D``, ``depth = L``, ``width = m``, and exactly one of ``alpha``
    (constant residual scale) or ``gamma`` (``alpha = L ** -gamma``); ``seed``, ``lazy`` as FFNet.
    """

    arch = "resnet"

    def __init__(self, input_dim, depth, width, seed=0, lazy=False, *, alpha=None, gamma=None):
        self.alpha = resolve_alpha("resnet", depth, gamma=gamma, alpha=alpha)
        super().__init__(input_dim, depth, width, seed=seed, lazy=lazy)
        self.A = _slot_rng(self.seed, 0).standard_normal((self.m, self.D))

    def _draw_layer(self, l):
        rng = _slot_rng(self.seed, l)
        W = rng.standard_normal((self.m, self.m))
        V = rng.standard_normal((self.m, self.m))
        return (W, V)

    def _input(self, X):
        return X @ self.A.T / math.sqrt(self.m)

    def _forward_layer(self, l, params, Xp):
        W, V = params
        a = _relu(math.sqrt(2.0 / self.m) * (Xp @ W.T))
        return Xp + (self.alpha / math.sqrt(self.m)) * (a @ V.T)

    def _backward_layer(self, l, params, Xp, G, want_gram, want_grad):
        W, V = params
        c = math.sqrt(2.0 / self.m)
        s = self.alpha / math.sqrt(self.m)
        pre = c * (Xp @ W.T)
        a = _relu(pre)
        dpre = s * (G @ V) * (pre > 0)           # d(.)/d(pre-activation)
        gram = None
        if want_gram:
            gram = (s * s) * (G @ G.T) * (a @ a.T) + (c * c) * (dpre @ dpre.T) * (Xp @ Xp.T)
        grad = None
        if want_grad:
            grad = (c * (dpre.T @ Xp), s * (G.T @ a))   # (dW_l, dV_l)
        return gram, grad, G + c * (dpre @ W)


def make_network(arch: str, input_dim: int, *, depth: int, width: int, gamma=None, alpha=None,
                 seed: int = 0, lazy: bool = False) -> _Net:
    """Build an :class:`FFNet` or :class:`ResNet` (``arch`` = "ffnet" / "resnet")."""
    arch = _canonical_arch(arch)
    if arch == "ffnet":
        resolve_alpha(arch, depth, gamma, alpha)
        return FFNet(input_dim, depth, width, seed=seed, lazy=lazy)
    return ResNet(input_dim, depth, width, seed=seed, lazy=lazy, alpha=alpha, gamma=gamma)


# ----------------------------------------------------------------------------- kernels

def empirical_kernels(X, *, arch: str, depth: int, width: int, gamma=None, alpha=None, seed: int = 0,
                      per_layer: bool = False, store_activations: bool = True, lazy: bool = True):
    """Empirical NTK and GP kernel of one random network, in one forward/backward pass.

    Parameters
    ----------
    X : (n, D) array, rows are the inputs ``x_i`` (on the sphere for comparison with docs/model.md).
    arch : "ffnet" or "resnet".   depth : ``L``.   width : ``m``.
    gamma, alpha : ResNet residual scale, ``alpha = L^-gamma`` or constant ``alpha`` (one of them).
    seed : network seed (module docstring).
    per_layer : if True the NTK is returned as an (L, n, n) stack of the per-layer terms
        ``<grad_{theta_l} f(x_i), grad_{theta_l} f(x_j)>``.
    store_activations : keep ``x_0..x_L`` (memory ``O(L n m)``) or recompute them during the
        backward pass (memory ``O(n m)``, ``O(L^2)`` layer applications).
    lazy : regenerate each layer's weights from its seed when needed (weight memory ``O(m^2)``,
        each matrix drawn twice) instead of storing all of them (``O(L m^2)``, drawn once).
        The kernels are identical either way.

    Returns
    -------
    (ntk, gp) : ``ntk[i, j] = sum_l <grad_{theta_l} f(x_i), grad_{theta_l} f(x_j)>`` (unnormalized,
    -> ``Omega_L``), ``gp[i, j] = <x_L(x_i), x_L(x_j)>`` (-> ``K_L``).
    """
    X = _as_batch(X)
    net = make_network(arch, X.shape[1], depth=depth, width=width, gamma=gamma, alpha=alpha,
                       seed=seed, lazy=lazy)
    return net.kernels(X, per_layer=per_layer, store_activations=store_activations)


def empirical_ntk(X, *, arch: str, depth: int, width: int, gamma=None, alpha=None, seed: int = 0,
                  per_layer: bool = False, store_activations: bool = True,
                  lazy: bool = True) -> np.ndarray:
    """n x n matrix ``sum_l <grad_{theta_l} f(x_i), grad_{theta_l} f(x_j)>`` (unnormalized, -> Omega_L).

    Same arguments as :func:`empirical_kernels`.  Divide by :func:`ntk_normalizer` (or use
    :func:`normalize_ntk`) to compare with the normalized kernel ``Omegabar_L``.
    """
    return empirical_kernels(X, arch=arch, depth=depth, width=width, gamma=gamma, alpha=alpha,
                             seed=seed, per_layer=per_layer, store_activations=store_activations,
                             lazy=lazy)[0]


def empirical_gp_kernel(X, *, arch: str, depth: int, width: int, gamma=None, alpha=None,
                        seed: int = 0) -> np.ndarray:
    """n x n matrix ``<x_L(x_i), x_L(x_j)>`` (-> ``K_L``; unnormalized for the ResNet)."""
    return empirical_kernels(X, arch=arch, depth=depth, width=width, gamma=gamma, alpha=alpha,
                             seed=seed)[1]


def ntk_normalizer(arch: str, depth: int, gamma=None, alpha=None) -> float:
    """Analytic diagonal ``Omega_L(x, x)`` on the sphere.

    FFNet: ``L``.  ResNet: ``2 L alpha^2 (1 + alpha^2)^(L-1)`` (may overflow to inf for large L and
    constant alpha: then work with normalized analytic kernels instead).
    """
    arch = _canonical_arch(arch)
    a = resolve_alpha(arch, depth, gamma, alpha)
    if arch == "ffnet":
        return float(depth)
    return 2.0 * depth * a * a * (1.0 + a * a) ** (depth - 1)


def gp_normalizer(arch: str, depth: int, gamma=None, alpha=None) -> float:
    """Analytic diagonal ``K_L(x, x)``: FFNet 1, ResNet ``(1 + alpha^2)^L``."""
    arch = _canonical_arch(arch)
    a = resolve_alpha(arch, depth, gamma, alpha)
    return 1.0 if arch == "ffnet" else (1.0 + a * a) ** depth


def normalize_ntk(ntk: np.ndarray, arch: str, depth: int, gamma=None, alpha=None) -> np.ndarray:
    """``ntk / Omega_L(x, x)``: comparable with the package's normalized kernel ``Omegabar_L``.

    This divides by the *analytic* diagonal, not by the empirical one, so the empirical diagonal
    of the result fluctuates around 1 at finite width.
    """
    return np.asarray(ntk) / ntk_normalizer(arch, depth, gamma=gamma, alpha=alpha)


def normalized_empirical_ntk(X, *, arch, depth, width, gamma=None, alpha=None, seed=0) -> np.ndarray:
    """``empirical_ntk(...) / ntk_normalizer(...)`` (-> ``Omegabar_L``)."""
    K = empirical_ntk(X, arch=arch, depth=depth, width=width, gamma=gamma, alpha=alpha, seed=seed)
    return normalize_ntk(K, arch, depth, gamma=gamma, alpha=alpha)


# ----------------------------------------------------------------------------- training

@dataclass
class TrainingResult:
    """Result of :func:`train_gd`.

    ``losses[k] = R_S(theta_k)`` for k = 0..steps, ``times[k] = lr * k`` (gradient-flow time t),
    ``ntk0`` = empirical NTK Gram at initialization (unnormalized), ``lr`` = step size used,
    ``net`` = the trained network.
    """

    losses: np.ndarray
    times: np.ndarray
    lr: float
    ntk0: np.ndarray
    net: _Net = field(repr=False)

    def rate_bound(self, lam: float) -> np.ndarray:
        """Seed 003 bound ``R_S(theta_0) exp(-lam t / n)`` at ``self.times``."""
        n = self.ntk0.shape[0]
        return self.losses[0] * np.exp(-lam * self.times / n)


def train_gd(net: _Net, X, y, *, steps: int, lr: float | None = None) -> TrainingResult:
    """Full-batch gradient descent ``theta <- theta - lr grad R_S`` on the squared loss
    ``R_S = (1/(2n)) sum_i (f(x_i) - y_i)^2`` (seed 003 convention), fixed step ``lr``.

    With this loss, gradient flow gives ``d(f - y)/dt = -(1/n) K (f - y)`` with ``K`` the unnormalized
    NTK Gram, and ``t = lr * k``.  Default ``lr = n / lambda_max(K_0)`` (so each step contracts every
    NTK eigen-direction by a factor in [0, 1) in the linearized dynamics).
    """
    net._require_stored()
    X = _as_batch(X)
    y = np.asarray(y, dtype=np.float64).reshape(-1)
    n = X.shape[0]
    ntk0, _ = net.kernels(X)
    if lr is None:
        lr = n / float(np.linalg.eigvalsh(ntk0)[-1])
    losses = np.empty(steps + 1)
    for k in range(steps + 1):
        loss, grads, _ = net.loss_and_grad(X, y)
        losses[k] = loss
        if k == steps:
            break
        net._layers = [tuple(p - lr * g for p, g in zip(layer, glayer))
                       for layer, glayer in zip(net._layers, grads)]
    return TrainingResult(losses=losses, times=lr * np.arange(steps + 1), lr=float(lr), ntk0=ntk0,
                          net=net)


def train_resnet_gd(X, y, *, depth: int, width: int, gamma=None, alpha=None, seed: int = 0,
                    steps: int = 100, lr: float | None = None) -> TrainingResult:
    """Train the seed-002 ResNet (W_l, V_l trained; A, v fixed) by full-batch GD on
    ``R_S = (1/(2n)) sum (f - y)^2``; returns the loss curve (see :class:`TrainingResult`).

    Seed 003 check: ``R_S(theta_t) <= R_S(theta_0) exp(-lambda t / n)`` with ``t = lr * k`` and
    ``lambda`` the least eigenvalue of the limiting (unnormalized) Gram matrix ``Omega_L(x_i, x_j)``;
    :meth:`TrainingResult.rate_bound` evaluates the right-hand side.
    """
    X = _as_batch(X)
    net = ResNet(X.shape[1], depth, width, seed=seed, alpha=alpha, gamma=gamma)
    return train_gd(net, X, y, steps=steps, lr=lr)
