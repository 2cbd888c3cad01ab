"""Learning curves of kernel ridge regression on the sphere from the Mercer spectrum (docs/spectra.md sec. 8).

The spectral theory of kernel regression (Bordelon, Canatar, Pehlevan 2020, arXiv:2002.02561; Canatar,
Bordelon, Pehlevan 2021, arXiv:2006.13198; Simon, Dickens, Karkada, DeWeese, "eigenlearning", arXiv:2110.03922):
for ``n`` samples, ridge ``lam`` (``f = k(x, X) (K + lam I)^-1 y``, as :func:`rntk_sym.regression.kernel_ridge`),
eigenvalues ``eta_i`` of the kernel under the data measure and a target ``f* = sum_i v_i phi_i`` plus noise
of variance ``sigma^2``, the effective ridge ``kappa`` solves

    sum_i eta_i / (eta_i + kappa) + lam / kappa = n,

the learnabilities are ``L_i = eta_i / (eta_i + kappa)``, ``E0 = n / (n - sum_i L_i^2)``, and the expected
test error against the noise-free target is

    E = E0 (sum_i (1 - L_i)^2 v_i^2 + sigma^2) - sigma^2.

On ``S^(d-1)`` the ``eta_i`` are the ``mu_k`` of :func:`rntk_sym.spectrum`, each ``N(d, k)`` times. The sums
over ``k > kmax`` use ``sum_k N(d, k) mu_k = 1``: their first sum is ``(1 - sum_{k<=kmax} N mu_k) / kappa``
up to a relative ``mu_kmax / kappa``, reported as ``tail_error``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from . import inputs
from .spectra import count, gegenbauer_iter, multiplicity, spectrum


@dataclass(frozen=True)
class LearningCurve:
    """Predictions at each ``n``: ``kappa`` (effective ridge), ``E0``, ``learnability`` (of the target's
    degree), ``test_error`` (MSE against the noise-free target, a unit-norm harmonic of degree
    ``target_degree``), ``tail_error`` (bound on the relative error of ``kappa`` from truncating at ``kmax``)."""

    n: np.ndarray
    kappa: np.ndarray
    E0: np.ndarray
    learnability: np.ndarray
    test_error: np.ndarray
    tail_error: np.ndarray
    target_degree: int
    kmax: int


def _kmax_for(dim: int, n_max: int, target_degree: int) -> int:
    """Enough degrees that ``sum_{k<=kmax} N(d, k) >= 50 n_max`` (kappa is then far above mu_kmax)."""
    total, k = 0, 0
    while total < 50 * n_max and k < 3000:
        total += multiplicity(dim, k)
        k += 1
    return max(k, target_degree + 10)


def learning_curve(arch: str, depth: int, dim: int, ns, *, target_degree: int, ridge: float = 0.0,
                   noise: float = 0.0, gamma=None, alpha=None, kernel: str = "ntk", kmax: int | None = None,
                   activation=None, weight_var=None, bias_var=None) -> LearningCurve:
    """Predicted test error of kernel ridge regression with the normalized kernel on ``S^(dim-1)``, for the
    sample counts ``ns``; the target is a unit-norm spherical harmonic of degree ``target_degree``
    (``v_i^2`` summing to 1 over that degree), ``noise`` = sigma (the labels' noise standard deviation),
    ``ridge`` = lam >= 0. The network arguments are those of :func:`rntk_sym.spectrum`."""
    ns = np.atleast_1d(np.asarray(ns, dtype=object))
    if ns.ndim != 1 or ns.size == 0:
        raise ValueError(f"ns: must be a non-empty list of sample counts, got {ns!r}")
    ns = np.array([count("ns", x, 1, 10**9) for x in ns])
    dim = count("dim", dim, 2, 1000)
    target_degree = count("target_degree", target_degree, 0, 10**4)
    for name, x in (("ridge", ridge), ("noise", noise)):
        if not (isinstance(x, (int, float)) and math.isfinite(x) and x >= 0):
            raise ValueError(f"{name}: must be a number >= 0, got {x!r}")
    kmax = _kmax_for(dim, int(ns.max()), target_degree) if kmax is None else count("kmax", kmax, target_degree, 10**5)
    s = spectrum(arch, depth, dim, kmax, gamma=gamma, alpha=alpha, kernel=kernel, activation=activation,
                 weight_var=weight_var, bias_var=bias_var)
    mu = np.clip(s.mu, 0.0, None)  # negative values are rounding noise (positive definite kernels)
    N = np.array([float(multiplicity(dim, k)) for k in range(kmax + 1)])
    tail = max(0.0, 1.0 - float(np.sum(N * mu)))  # sum_{k > kmax} N mu_k
    out = {key: [] for key in ("kappa", "E0", "L", "E", "tail")}
    for n in ns:
        def excess(log_k, n=n):
            kap = math.exp(log_k)
            return float(np.sum(N * mu / (mu + kap))) + tail / kap + ridge / kap - n

        lo, hi = math.log(1e-300), math.log(1e6)
        if excess(lo) < 0:  # n beyond what the kernel's rank can interpolate with ridge 0: kappa -> 0
            lo = hi = -math.inf
        else:
            for _ in range(200):
                mid = (lo + hi) / 2
                lo, hi = (mid, hi) if excess(mid) > 0 else (lo, mid)
        kap = math.exp(hi)
        L = mu / (mu + kap) if kap > 0 else np.ones_like(mu)
        sum_L2 = float(np.sum(N * L * L))
        E0 = n / (n - sum_L2) if n > sum_L2 else math.inf
        Lt = L[target_degree]
        out["kappa"].append(kap)
        out["E0"].append(E0)
        out["L"].append(Lt)
        out["E"].append(E0 * ((1 - Lt) ** 2 + noise ** 2) - noise ** 2)
        out["tail"].append(mu[kmax] / kap if kap > 0 else math.inf)
    a = {k: np.array(v) for k, v in out.items()}
    return LearningCurve(ns, a["kappa"], a["E0"], a["L"], a["E"], a["tail"], target_degree, kmax)


def harmonic_target(X, degree: int, direction) -> np.ndarray:
    """``f*(x) = sqrt(N(d, k)) P_k(<x, b>)``, ``b`` = ``direction`` normalized: a degree-k spherical harmonic
    of unit norm under the uniform measure (``int P_k(<x, b>)^2 d sigma = 1/N(d, k)``)."""
    X = np.asarray(X, dtype=float)
    b = np.asarray(direction, dtype=float)
    b = b / np.linalg.norm(b)
    dim = X.shape[1]
    *_, p = gegenbauer_iter(X @ b, dim, degree)
    return math.sqrt(multiplicity(dim, degree)) * p


def learning_experiment(arch: str, depth: int, dim: int, ns, *, target_degree: int, ridge: float = 0.0,
                        noise: float = 0.0, gamma=None, alpha=None, kernel: str = "ntk", seeds: int = 8,
                        n_test: int = 500, seed: int = 0) -> dict:
    """Kernel ridge regression (:func:`rntk_sym.regression.kernel_ridge`, Gram by :func:`rntk_sym.gram`) on
    ``n`` uniform points of ``S^(dim-1)`` for each ``n`` in ``ns``, the target :func:`harmonic_target` plus
    ``noise`` N(0, 1); test MSE against the noise-free target on ``n_test`` fresh points. Returns
    ``{"n", "mean", "stderr"}`` over ``seeds`` draws (arrays over ``ns``)."""
    from .gram import gram
    from .regression import kernel_ridge, sphere_uniform

    inputs.choice("arch", arch, inputs.ARCHS)
    rng = np.random.default_rng(seed)
    means, errs = [], []
    for n in np.atleast_1d(ns):
        vals = []
        for _ in range(count("seeds", seeds, 2, 10**4)):
            b = sphere_uniform(1, dim, rng)[0]
            X, Xt = sphere_uniform(int(n), dim, rng), sphere_uniform(n_test, dim, rng)
            y = harmonic_target(X, target_degree, b) + noise * rng.standard_normal(int(n))
            K = gram(X, arch=arch, depth=depth, gamma=gamma, alpha=alpha, kernel=kernel)
            Kt = gram(Xt, X, arch=arch, depth=depth, gamma=gamma, alpha=alpha, kernel=kernel)
            _, pred, _ = kernel_ridge(K, y, ridge, Kt)
            vals.append(float(np.mean((pred - harmonic_target(Xt, target_degree, b)) ** 2)))
        means.append(np.mean(vals))
        errs.append(np.std(vals, ddof=1) / math.sqrt(len(vals)))
    return {"n": np.atleast_1d(ns), "mean": np.array(means), "stderr": np.array(errs)}


__all__ = ["LearningCurve", "harmonic_target", "learning_curve", "learning_experiment"]
