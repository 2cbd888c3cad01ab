r"""Kernel regression with dot-product kernels on the sphere: ridge, gradient flow, data.

Sources
-------
* seed 002, "Degeneracy of the NTK of FFNet" / docs/model.md section 5: ridge solution
  ``beta = (K + lambda I)^{-1} y``, ``f(x) = sum_i beta_i k(x_i, x)``.
* seed 000 (arXiv 2403.04545) / docs/model.md section 4: kernel regression with early stopping
  (gradient flow) on the RNTK; synthetic data ``y = <x, beta> + 0.1 eps``, x uniform on S^{D-1}.
* seed 003 / docs/model.md section 6: loss ``R_S = (1/(2n)) sum (f - y)^2`` whose gradient flow in
  function space is ``df/dt = -(1/n) K (f - y)``.

Kernels
-------
Every function takes the kernel either as a precomputed Gram matrix or as a callable
``kernel(rho_array) -> array`` of the inner product ``rho = <x, x'>`` (elementwise, any shape),
e.g. the package's normalized kernel ``lambda r: rntk_sym.ntk("resnet", r, L, gamma=1.0)``
(see :func:`package_kernel`).  Inputs are the rows of ``X`` (n, D), assumed on the unit sphere.
For the package's own kernels, :func:`rntk_sym.gram` builds the Gram matrices from the rows
directly (accurate for nearly parallel rows); :func:`gram_from_callable` serves any other kernel.

Symbols -> arguments: ``K`` = ``K`` (n x n train Gram), ``K_*`` = ``K_test`` (n_test x n train
cross Gram, rows = test points), ``y`` = ``y``, ``lambda`` = ``lam``, ``t`` = ``t``, ``n`` = len(y).

No scikit-learn dependency: :func:`sklearn_kernel_ridge` imports it lazily.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "gram_from_callable",
    "cross_gram_from_callable",
    "sklearn_kernel",
    "package_kernel",
    "limit_ffnet_kernel",
    "kernel_ridge_fit",
    "kernel_ridge_predict",
    "kernel_ridge",
    "gradient_flow",
    "gradient_flow_coefficients",
    "early_stopping",
    "pairwise_callable",
    "sklearn_kernel_ridge",
    "sphere_uniform",
    "synthetic_data",
    "mse",
]


# ----------------------------------------------------------------------------- Gram matrices

def _rows(X) -> np.ndarray:
    X = np.asarray(X, dtype=np.float64)
    if X.ndim == 1:
        X = X[None, :]
    return X


def gram_from_callable(kernel, X, Y=None, *, snap: float = 16 * np.finfo(np.float64).eps) -> np.ndarray:
    """Gram matrix ``k(<x_i, y_j>)`` of any dot-product kernel ``kernel(rho_array) -> array``.

    For the package's kernels use :func:`rntk_sym.gram` instead: it takes the rows themselves and
    keeps full relative accuracy for nearly parallel rows (``1 - <x, y>`` here loses it).

    ``rho`` is clipped to [-1, 1], and values within ``snap`` of +-1 are set to exactly +-1: the
    dual activations have a square-root singularity there (``arccos(1 - d) ~ sqrt(2 d)``, docs/model.md 7),
    so the round-off of ``<x, x> = 1 +- few eps`` for unit vectors would otherwise become an
    ``O(sqrt(eps)) ~ 1e-8`` error in the kernel (e.g. a duplicated input would give a Gram that is
    not exactly singular but has eigenvalues ~1e-9).  With ``Y=None`` (train Gram) the diagonal is
    set to exactly 1 and the result is symmetrized.
    """
    X = _rows(X)
    sym = Y is None
    Y = X if sym else _rows(Y)
    rho = np.clip(X @ Y.T, -1.0, 1.0)
    rho[rho >= 1.0 - snap] = 1.0
    rho[rho <= -1.0 + snap] = -1.0
    if sym:
        rho = 0.5 * (rho + rho.T)
        np.fill_diagonal(rho, 1.0)
    K = np.asarray(kernel(rho), dtype=np.float64).reshape(rho.shape)
    if sym:
        K = 0.5 * (K + K.T)
    return K


def cross_gram_from_callable(kernel, X_test, X_train, **kw) -> np.ndarray:
    """``K_*[a, i] = k(<x*_a, x_i>)`` (rows = test points); ``kw`` as :func:`gram_from_callable`."""
    return gram_from_callable(kernel, X_test, X_train, **kw)


def package_kernel(arch: str, depth: int, *, gamma=None, alpha=None):
    """Callable ``rho -> rntk_sym.ntk(arch, rho, depth, gamma=gamma, alpha=alpha)`` (normalized
    analytic NTK ``Omegabar_L``), imported lazily so this module works before that function exists."""
    def kernel(rho):
        from rntk_sym import ntk  # lazy: provided by the analytic part of the package
        kw = {}
        if gamma is not None:
            kw["gamma"] = gamma
        if alpha is not None:
            kw["alpha"] = alpha
        return ntk(arch, np.asarray(rho, dtype=np.float64), depth, **kw)
    return kernel


def limit_ffnet_kernel(rho, *, tol: float = 0.0):
    """Depth limit of the normalized FFNet NTK (seed 002, Theorem 6 / docs/model.md section 5):
    ``1`` where ``rho = 1`` (x = x'), ``1/4`` elsewhere.  ``tol``: treat ``rho >= 1 - tol`` as equal."""
    rho = np.asarray(rho, dtype=np.float64)
    return np.where(rho >= 1.0 - tol, 1.0, 0.25)


# ----------------------------------------------------------------------------- ridge regression

def _sym_eigh(K):
    K = np.asarray(K, dtype=np.float64)
    w, U = np.linalg.eigh(0.5 * (K + K.T))
    return w, U


def kernel_ridge_fit(K, y, lam: float = 0.0, *, method: str = "auto", rcond: float | None = None):
    """Coefficients ``beta = (K + lam I)^{-1} y`` (seed 002 convention: no factor n on ``lam``).

    ``method``: "cholesky" (needs ``K + lam I`` positive definite), "eigh" (eigendecomposition;
    eigenvalues of ``K + lam I`` below ``rcond * max|eig|`` are treated as zero, i.e. a
    pseudo-inverse, which is the stable choice for ill-conditioned / singular Gram matrices),
    or "auto" (Cholesky, falling back to eigh when it fails or the matrix is numerically
    singular).  ``y`` may be (n,) or (n, k).
    """
    K = np.asarray(K, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    n = K.shape[0] if K.ndim else 0
    if n == 0 or K.shape != (n, n) or y.ndim == 0 or y.shape[0] != n:  # no training points: nothing to fit
        raise ValueError(f"K: must be an n x n matrix with n >= 1 and y must have n rows, got {K.shape}, {y.shape}")
    A = 0.5 * (K + K.T) + lam * np.eye(n)
    if rcond is None:
        rcond = n * np.finfo(np.float64).eps
    if method in ("auto", "cholesky"):
        try:
            C = np.linalg.cholesky(A)
            d = np.diag(C)
            if method == "cholesky" or (d.min() > 0 and (d.min() / d.max()) ** 2 > rcond):
                z = np.linalg.solve(C, y)          # triangular system (numpy has no trsm)
                return np.linalg.solve(C.T, z)
        except np.linalg.LinAlgError:
            if method == "cholesky":
                raise
    elif method != "eigh":
        raise ValueError("method must be 'auto', 'cholesky' or 'eigh'")
    w, U = _sym_eigh(A)
    cut = rcond * np.max(np.abs(w))
    inv = np.where(np.abs(w) > cut, 1.0 / np.where(w == 0, 1.0, w), 0.0)
    z = U.T @ y
    z = inv[:, None] * z if z.ndim == 2 else inv * z
    return U @ z


def kernel_ridge_predict(K_test, beta) -> np.ndarray:
    """``f(x*_a) = sum_i beta_i k(x_i, x*_a) = (K_* beta)_a``."""
    return np.asarray(K_test, dtype=np.float64) @ beta


def kernel_ridge(K, y, lam: float = 0.0, K_test=None, **kw):
    """Kernel ridge regression on a precomputed Gram.

    Returns ``(fitted, beta)`` if ``K_test`` is None, else ``(fitted, predictions, beta)`` with
    ``fitted = K beta``, ``predictions = K_test beta``, ``beta = (K + lam I)^{-1} y``.
    """
    beta = kernel_ridge_fit(K, y, lam, **kw)
    fitted = np.asarray(K) @ beta
    if K_test is None:
        return fitted, beta
    return fitted, kernel_ridge_predict(K_test, beta), beta


# ----------------------------------------------------------------------------- gradient flow

def _phi(w, t, n):
    """``(1 - exp(-t w / n)) / w`` without cancellation; ``t / n`` at ``w = 0``."""
    w = np.asarray(w, dtype=np.float64)
    t = np.asarray(t, dtype=np.float64)[..., None]
    x = t * w / n
    safe = np.where(w == 0, 1.0, w)
    out = -np.expm1(-x) / safe
    return np.where(w == 0, t / n + 0 * w, out)


def gradient_flow_coefficients(K, y, t, *, clip: bool = True):
    """Coefficients ``c(t)`` with ``f_t(x) = sum_i c_i(t) k(x_i, x)`` for gradient flow
    ``df/dt = -(1/n) K (f - y)`` from ``f_0 = 0`` (loss ``(1/(2n)) sum (f - y)^2``):
    ``c(t) = K^{-1} (I - exp(-t K / n)) y = U diag((1 - exp(-t w / n)) / w) U^T y``.

    ``t`` scalar or 1-D array (then the result has shape (len(t), n)); ``clip`` sets the
    (round-off) negative eigenvalues of ``K`` to 0.  Well defined for singular ``K``
    (``t / n`` on the null space), and ``c(t) -> K^+ y`` as ``t -> inf`` (= ridge with
    ``lam -> 0`` on the range of ``K``).
    """
    w, U = _sym_eigh(K)
    if clip:
        w = np.maximum(w, 0.0)
    n = len(w)
    z = U.T @ np.asarray(y, dtype=np.float64)
    scalar = np.ndim(t) == 0
    ph = _phi(w, np.atleast_1d(t), n)           # (T, n)
    c = (ph * z) @ U.T
    return c[0] if scalar else c


def gradient_flow(K, y, t, K_test=None, *, clip: bool = True):
    """Gradient flow with early stopping at time(s) ``t`` on a Gram matrix.

    Training-point values ``f_t = (I - exp(-t K / n)) y`` and, if ``K_test`` is given, test
    predictions ``f_t(x*) = K_* K^{-1} (I - exp(-t K / n)) y``.  Returns ``fitted`` or
    ``(fitted, predictions)``; with 1-D ``t`` the arrays get a leading time axis.
    """
    c = gradient_flow_coefficients(K, y, t, clip=clip)
    K = np.asarray(K, dtype=np.float64)
    fitted = c @ K          # K symmetric: (K c)^T = c^T K
    if K_test is None:
        return fitted
    return fitted, c @ np.asarray(K_test, dtype=np.float64).T


def mse(pred, target) -> np.ndarray:
    """Mean squared error over the last axis."""
    d = np.asarray(pred) - np.asarray(target)
    return np.mean(d * d, axis=-1)


def early_stopping(K, y, K_val, y_val, times):
    """Pick the gradient-flow time minimizing the validation MSE.

    Returns ``(t_best, val_errors)``, ``val_errors[k]`` = MSE of ``f_{times[k]}`` on the
    validation targets ``y_val`` (rows of ``K_val`` = validation points).
    """
    times = np.atleast_1d(np.asarray(times, dtype=np.float64))
    _, pred = gradient_flow(K, y, times, K_val)
    err = mse(pred, np.asarray(y_val)[None, :])
    return float(times[int(np.argmin(err))]), err


# ----------------------------------------------------------------------------- scikit-learn bridge

def pairwise_callable(kernel):
    """Callable ``k(X, Y)`` for scikit-learn.

    Given 2-D arrays it returns the Gram ``kernel(clip(X Y^T))`` (so it also works as a plain
    Gram function); given two 1-D rows (what ``KernelRidge(kernel=callable)`` passes, one pair at
    a time, which is slow) it returns a float.  Prefer ``kernel="precomputed"`` with
    :func:`gram_from_callable` / :func:`cross_gram_from_callable`, as :func:`sklearn_kernel_ridge` does.
    """
    def k(X, Y=None):
        X = np.asarray(X, dtype=np.float64)
        if Y is None:
            Y = X
        Y = np.asarray(Y, dtype=np.float64)
        if X.ndim == 1 and Y.ndim == 1:
            return float(np.asarray(kernel(np.clip(np.dot(X, Y), -1.0, 1.0))))
        return gram_from_callable(kernel, X, Y)
    return k


def sklearn_kernel(arch: str, depth: int, *, gamma=None, alpha=None, kernel: str = "ntk"):
    """Callable ``k(X, Y=None)`` for scikit-learn (e.g. ``KernelRidge(kernel=sklearn_kernel(...))``)
    giving the package's normalized kernel through :func:`rntk_sym.gram` (rows normalized, accurate
    for nearly parallel rows). 1-D rows (what ``KernelRidge`` passes for a callable, one pair at a
    time) give a float; 2-D arrays the Gram matrix."""
    from rntk_sym.gram import gram

    kw = dict(arch=arch, depth=depth, gamma=gamma, alpha=alpha, kernel=kernel)

    def k(X, Y=None):
        X = np.asarray(X, dtype=np.float64)
        if X.ndim == 1:
            Y = X if Y is None else np.asarray(Y, dtype=np.float64)
            return float(gram(X[None, :], Y[None, :], **kw)[0, 0])
        return gram(X, Y, **kw)
    return k


def sklearn_kernel_ridge(kernel, X, y, lam: float, X_test=None):
    """Fit ``sklearn.kernel_ridge.KernelRidge(alpha=lam, kernel="precomputed")`` on
    ``gram_from_callable(kernel, X)``.

    Imports scikit-learn lazily (not a dependency).  Returns the fitted model, or
    ``(model, predictions)`` when ``X_test`` is given.  ``alpha=lam`` is the same
    ``(K + lam I)^{-1} y`` convention as :func:`kernel_ridge_fit`.
    """
    from sklearn.kernel_ridge import KernelRidge  # lazy, optional
    model = KernelRidge(alpha=lam, kernel="precomputed").fit(gram_from_callable(kernel, X), y)
    if X_test is None:
        return model
    return model, model.predict(cross_gram_from_callable(kernel, X_test, X))


# ----------------------------------------------------------------------------- synthetic data

def sphere_uniform(n: int, D: int, rng) -> np.ndarray:
    """``n`` points uniform on ``S^{D-1}`` (normalized Gaussians), shape (n, D)."""
    rng = np.random.default_rng(rng)
    Z = rng.standard_normal((n, D))
    return Z / np.linalg.norm(Z, axis=1, keepdims=True)


def synthetic_data(n: int, D: int, *, beta=None, noise: float = 0.1, seed=0):
    """Seed 000 synthetic data: ``x`` uniform on ``S^{D-1}``, ``y = <x, beta> + noise * eps``,
    ``eps ~ N(0, 1)`` i.i.d.

    ``beta`` defaults to a random unit vector drawn from the same generator (seed 000 does not fix
    it).  Returns ``(X, y, beta)``; the noise-free target is ``X @ beta``.  Deterministic in
    ``seed`` (int or ``numpy.random.Generator``).
    """
    rng = np.random.default_rng(seed)
    if beta is None:
        beta = sphere_uniform(1, D, rng)[0]
    beta = np.asarray(beta, dtype=np.float64).reshape(D)
    X = sphere_uniform(n, D, rng)
    y = X @ beta + noise * rng.standard_normal(n)
    return X, y, beta
