"""Tests of rntk_sym.regression: kernel ridge regression, gradient flow, seed-000 data,
seed-002 non-learnability.  Kernels are given as callables of rho = <x, x'>; the reference kernels
are literal transcriptions of docs/model.md (independent of the package's analytic code)."""

import math

import numpy as np
import pytest
import sympy as sp
from seed_formulas import ffnet_sum_of_products_np  # noqa: E402  (docs/model.md 1-2)
from seed_formulas import shat_np as shat
from seed_formulas import shatp_np as shatp

from rntk_sym.regression import (
    cross_gram_from_callable,
    early_stopping,
    gradient_flow,
    gradient_flow_coefficients,
    gram_from_callable,
    kernel_ridge,
    kernel_ridge_fit,
    limit_ffnet_kernel,
    mse,
    package_kernel,
    pairwise_callable,
    sklearn_kernel,
    sklearn_kernel_ridge,
    sphere_uniform,
    synthetic_data,
)


def omegabar_1(rho):
    """docs/model.md 3, Theorem 7 limit: Omegabar_1(rho) = (shat(rho) + rho shatp(rho)) / 2."""
    return 0.5 * (shat(rho) + rho * shatp(rho))


def ffnet_ntk_bar(L):
    """docs/model.md 2: Omegabar_L = (1/L) sum_l K_{l-1} prod_{i=l}^L shatp(K_{i-1}), K_0 = rho, K_l = shat(K_{l-1})."""
    def k(rho):
        return ffnet_sum_of_products_np(rho, L)[1] / L
    return k


# ----------------------------------------------------------------------------- Gram helpers

def test_gram_diagonal_symmetry_and_pairwise_callable():
    """docs/model.md 1 (rho = <x, x'> in [-1, 1]): the train Gram is symmetric with exact diagonal
    k(1); the cross Gram has rows = test points; the scikit-learn style callable agrees entrywise
    on 1-D pairs and on 2-D blocks."""
    X = sphere_uniform(7, 4, 0)
    Y = sphere_uniform(3, 4, 1)
    k = omegabar_1
    G = gram_from_callable(k, X)
    assert np.array_equal(G, G.T)
    assert np.all(np.diag(G) == k(np.array(1.0)))
    C = cross_gram_from_callable(k, Y, X)
    assert C.shape == (3, 7)
    np.testing.assert_allclose(C, k(np.clip(Y @ X.T, -1, 1)), rtol=1e-15)
    f = pairwise_callable(k)
    assert isinstance(f(Y[0], X[2]), float)
    assert f(Y[0], X[2]) == pytest.approx(C[0, 2], rel=1e-15)
    np.testing.assert_allclose(f(Y, X), C, rtol=1e-15)


# ----------------------------------------------------------------------------- kernel ridge

@pytest.mark.parametrize("method", ["auto", "cholesky", "eigh"])
def test_krr_matches_direct_solve(method):
    """Seed 002 (docs/model.md 5) ridge solution beta = (K + lambda I)^{-1} y: every solver agrees with a
    direct dense solve, and fitted values are K beta, predictions K_* beta."""
    X, y, _ = synthetic_data(40, 5, seed=2)
    Xt, _, _ = synthetic_data(10, 5, seed=3)
    k = ffnet_ntk_bar(3)
    K, Ks = gram_from_callable(k, X), cross_gram_from_callable(k, Xt, X)
    for lam in (1e-3, 0.1, 2.0):
        beta_direct = np.linalg.solve(K + lam * np.eye(len(y)), y)
        fitted, pred, beta = kernel_ridge(K, y, lam, Ks, method=method)
        np.testing.assert_allclose(beta, beta_direct, rtol=1e-8, atol=1e-10 * np.abs(beta_direct).max())
        np.testing.assert_allclose(fitted, K @ beta_direct, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(pred, Ks @ beta_direct, rtol=1e-9, atol=1e-12)
    # several right-hand sides at once
    B = kernel_ridge_fit(K, np.stack([y, 2 * y], axis=1), 0.1, method=method)
    np.testing.assert_allclose(B[:, 1], 2 * B[:, 0], rtol=1e-12)


def test_krr_singular_gram_is_stable():
    """Ill-conditioned / singular Gram (duplicated inputs, lambda = 0): 'auto' falls back to the
    eigendecomposition pseudo-inverse and still interpolates consistent labels without blowing up,
    where a plain Cholesky factorization fails.  Also: gram_from_callable() snaps rho = 1 - O(eps)
    to 1, so the
    duplicates give repeated rows to rounding (docs/model.md 7: arccos(1 - eps) ~ 1e-8 would not).

    Not bitwise: a blocked BLAS product rounds <x_i, x_j> of a row and of its copy differently by an
    ulp or so (2e-16, seen on 2-core machines). Omegabar_1 has slope <= 1 + 1/(pi sqrt(1 - rho^2)),
    below 10 at the |rho| < 0.99 of these distinct random points, so the rows agree to 1e-14 while
    the unsnapped kernel's 1e-8 error would fail; the Gram is singular to the same rounding."""
    X, y, _ = synthetic_data(15, 4, seed=5)
    X2 = np.vstack([X, X[:5]])
    y2 = np.concatenate([y, y[:5]])
    rho = X @ X.T
    assert np.abs(rho[~np.eye(15, dtype=bool)]).max() < 0.99
    K = gram_from_callable(omegabar_1, X2)
    np.testing.assert_allclose(K[15:], K[:5], rtol=0, atol=1e-14)
    w = np.linalg.eigvalsh(K)
    assert w.min() < 1e-13 * w.max()
    fitted, beta = kernel_ridge(K, y2, 0.0)
    assert np.all(np.isfinite(beta))
    np.testing.assert_allclose(fitted, y2, atol=1e-8)
    assert np.abs(beta).max() < 1e6


# ----------------------------------------------------------------------------- gradient flow

def test_gradient_flow_solves_the_ode_and_tends_to_krr():
    """Seed 000 / docs/model.md 4 (kernel regression by gradient flow): f_t = (I - exp(-t K/n)) y solves
    df/dt = -(1/n) K (f - y), f_0 = 0 (checked by central differences in t); as t -> infinity it
    equals kernel ridge regression with lambda -> 0 at training AND test points, on a
    well-conditioned kernel (Omegabar_1, Theorem 7 limit)."""
    X, y, _ = synthetic_data(25, 5, seed=7)
    Xt, _, _ = synthetic_data(8, 5, seed=8)
    K, Ks = gram_from_callable(omegabar_1, X), cross_gram_from_callable(omegabar_1, Xt, X)
    n = len(y)
    w = np.linalg.eigvalsh(K)
    assert w[0] > 1e-4 * w[-1]          # well conditioned
    assert np.allclose(gradient_flow(K, y, 0.0), 0.0)
    t, h = 3.0 * n / w[-1], 1e-4 * n / w[-1]
    dfdt = (gradient_flow(K, y, t + h) - gradient_flow(K, y, t - h)) / (2 * h)
    np.testing.assert_allclose(dfdt, -(K @ (gradient_flow(K, y, t) - y)) / n, rtol=1e-6, atol=1e-8)
    # t -> infinity: exp(-t w_min / n) = exp(-200)
    T = 200.0 * n / w[0]
    fit_inf, pred_inf = gradient_flow(K, y, T, Ks)
    _, pred_krr, _ = kernel_ridge(K, y, 1e-12, Ks)
    np.testing.assert_allclose(fit_inf, y, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(pred_inf, pred_krr, rtol=1e-6, atol=1e-8)
    # vector of times = stacked scalar times
    ts = np.array([0.5, 5.0, 50.0])
    C = gradient_flow_coefficients(K, y, ts)
    for i, ti in enumerate(ts):
        np.testing.assert_allclose(C[i], gradient_flow_coefficients(K, y, ti), rtol=1e-13)


def test_gradient_flow_singular_gram_finite():
    """Gradient flow on a singular Gram (duplicated inputs): coefficients stay finite (t/n on the
    null space) and training values are still (I - exp(-tK/n)) y computed spectrally."""
    X, y, _ = synthetic_data(10, 4, seed=9)
    X2 = np.vstack([X, X[:3]])
    y2 = np.concatenate([y, y[:3]])
    K = gram_from_callable(omegabar_1, X2)
    w, U = np.linalg.eigh(K)
    w = np.maximum(w, 0)
    t = 7.0
    expected = U @ ((1 - np.exp(-t * w / len(y2))) * (U.T @ y2))
    np.testing.assert_allclose(gradient_flow(K, y2, t), expected, rtol=1e-10, atol=1e-12)
    assert np.all(np.isfinite(gradient_flow_coefficients(K, y2, 1e6)))


def test_early_stopping_beats_interpolation_on_seed000_data():
    """Seed 000 (kernel regression with early stopping, y = <x, beta> + 0.1 eps): on the
    Omegabar_1 kernel the validation-selected stopping time gives a lower test error than both
    t = 0 (predict 0) and the interpolating limit t -> infinity."""
    X, y, beta = synthetic_data(200, 5, seed=10)
    Xv, yv, _ = synthetic_data(200, 5, beta=beta, seed=11)
    Xt, _, _ = synthetic_data(500, 5, beta=beta, seed=12)
    K = gram_from_callable(omegabar_1, X)
    Kv, Kt = cross_gram_from_callable(omegabar_1, Xv, X), cross_gram_from_callable(omegabar_1, Xt, X)
    times = np.geomspace(1e-1, 1e8, 60)
    t_best, verr = early_stopping(K, y, Kv, yv, times)
    assert times[0] < t_best < times[-1]
    _, p = gradient_flow(K, y, np.array([t_best, times[-1]]), Kt)
    e_best, e_inf = mse(p, (Xt @ beta)[None, :])
    e_zero = mse(np.zeros(len(Xt)), Xt @ beta)
    assert e_best < 0.5 * e_zero
    assert e_best < e_inf


# ----------------------------------------------------------------------------- non-learnability

def test_limit_ffnet_kernel_symbolic_identities():
    """Seed 002 (docs/model.md 5), symbolically in n and lambda: with Omegabar = (3/4) I + (1/4) J
    (J = all-ones, J^2 = n J, J y = 0 when sum y = 0), beta = (I - J/(n + 4 lambda + 3)) y/(lambda + 3/4)
    inverts Omegabar + lambda I, fitted values are 3 y / (4 lambda + 3), and f(x*) = (1/4) 1^T beta = 0.
    Matrices of the form a I + b J are represented by their coefficient pair (a, b)."""
    n, lam = sp.symbols("n lambda", positive=True)

    def mul(p, q):  # (a I + b J)(c I + d J) = ac I + (ad + bc + n b d) J
        (a, b), (c, d) = p, q
        return (a * c, a * d + b * c + n * b * d)

    A = (sp.Rational(3, 4) + lam, sp.Rational(1, 4))                 # Omegabar + lambda I
    Binv = (1 / (lam + sp.Rational(3, 4)), -1 / ((lam + sp.Rational(3, 4)) * (n + 4 * lam + 3)))
    prod = mul(A, Binv)
    assert sp.simplify(prod[0] - 1) == 0 and sp.simplify(prod[1]) == 0
    # beta = Binv y; with J y = 0 only the I-part acts: beta = y / (lambda + 3/4)
    beta_coef = Binv[0]
    # fitted = Omegabar beta = (3/4 I + 1/4 J) beta = (3/4) beta on sum-zero y
    assert sp.simplify(sp.Rational(3, 4) * beta_coef - 3 / (4 * lam + 3)) == 0
    # f(x*) = sum_i beta_i / 4 = (1/4) 1^T Binv y = (1/4)(a + n b) 1^T y: for ANY y this is
    # sum(y) / (n + 4 lambda + 3), hence exactly 0 when sum y = 0
    assert sp.simplify((Binv[0] + n * Binv[1]) / 4 - 1 / (n + 4 * lam + 3)) == 0


@pytest.mark.parametrize("lam", [0.0, 1e-3, 0.5])
def test_limit_ffnet_kernel_cannot_learn_seed000_data(lam):
    """Seed 002 (docs/model.md 5) on seed-000 data: with the depth-limit FFNet kernel (1 on the diagonal,
    1/4 off it) and centered labels (sum y = 0), ridge predictions at new points are exactly 0
    (to round-off), fitted values are 3 y / (4 lambda + 3), beta matches the closed form; gradient
    flow predictions at new points are 0 at every time t."""
    X, y, beta_true = synthetic_data(50, 5, seed=20)
    y = y - y.mean()
    Xt, _, _ = synthetic_data(30, 5, beta=beta_true, seed=21)
    K = gram_from_callable(limit_ffnet_kernel, X)
    Ks = cross_gram_from_callable(limit_ffnet_kernel, Xt, X)
    assert np.all(Ks == 0.25) and np.all(np.diag(K) == 1.0)
    n = len(y)
    fitted, pred, beta = kernel_ridge(K, y, lam, Ks)
    closed = (y - np.full(n, y.sum()) / (n + 4 * lam + 3)) / (lam + 0.75)
    np.testing.assert_allclose(beta, closed, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(fitted, 3 * y / (4 * lam + 3), rtol=1e-12, atol=1e-13)
    assert np.max(np.abs(pred)) < 1e-13 * np.abs(y).max() * n
    _, pgf = gradient_flow(K, y, np.geomspace(1e-2, 1e6, 9), Ks)
    assert np.max(np.abs(pgf)) < 1e-12 * np.abs(y).max() * n
    # while a learnable kernel does predict: test error well below the trivial one
    _, p1, _ = kernel_ridge(gram_from_callable(omegabar_1, X), y, 1e-2,
                            cross_gram_from_callable(omegabar_1, Xt, X))
    assert mse(p1, Xt @ beta_true) < 0.5 * mse(np.zeros(len(Xt)), Xt @ beta_true)


# ----------------------------------------------------------------------------- data

def test_synthetic_data_seed000():
    """Seed 000 synthetic data: x uniform on S^{D-1} (unit rows, E x = 0, E x x^T = I/D within
    Monte Carlo error), y - <x, beta> = 0.1 eps (sample std within 4 standard errors of 0.1),
    beta a unit vector by default, deterministic in the seed."""
    n, D = 20000, 6
    X, y, beta = synthetic_data(n, D, seed=0)
    X2, y2, beta2 = synthetic_data(n, D, seed=0)
    assert np.array_equal(X, X2) and np.array_equal(y, y2) and np.array_equal(beta, beta2)
    assert not np.array_equal(synthetic_data(n, D, seed=1)[0], X)
    np.testing.assert_allclose(np.linalg.norm(X, axis=1), 1.0, rtol=1e-14)
    assert np.linalg.norm(beta) == pytest.approx(1.0, rel=1e-14)
    # E x_k = 0, sd of x_k is 1/sqrt(D); E x_k^2 = 1/D with sd of x_k^2 <= 1/sqrt(D) ... bounded by 1
    assert np.max(np.abs(X.mean(axis=0))) < 5 / math.sqrt(D * n)
    S = X.T @ X / n
    assert np.max(np.abs(S - np.eye(D) / D)) < 5 / math.sqrt(n)
    eps = y - X @ beta
    sd = eps.std(ddof=1)
    assert abs(sd - 0.1) < 4 * 0.1 / math.sqrt(2 * (n - 1))
    b = np.arange(1.0, D + 1)
    _, yb, bb = synthetic_data(10, D, beta=b, noise=0.0, seed=3)
    assert np.array_equal(bb, b)


# ----------------------------------------------------------------------------- optional bridges

def test_sklearn_precomputed_matches_if_installed():
    """scikit-learn KernelRidge(kernel='precomputed', alpha=lambda) solves the same
    (K + lambda I) beta = y as kernel_ridge (seed 002 convention); skipped if sklearn is absent."""
    pytest.importorskip("sklearn")
    X, y, beta = synthetic_data(30, 4, seed=4)
    Xt, _, _ = synthetic_data(5, 4, beta=beta, seed=5)
    _, pred = sklearn_kernel_ridge(omegabar_1, X, y, 0.1, Xt)
    _, mine, _ = kernel_ridge(gram_from_callable(omegabar_1, X), y, 0.1,
                              cross_gram_from_callable(omegabar_1, Xt, X))
    np.testing.assert_allclose(pred, mine, rtol=1e-8)


def test_package_kernel_adapter():
    """package_kernel("ffnet", L) equals the docs/model.md 2 transcription."""
    rho = np.linspace(-1, 1, 21)
    np.testing.assert_allclose(package_kernel("ffnet", 3)(rho), ffnet_ntk_bar(3)(rho), rtol=1e-10)


def test_sklearn_kernel_is_the_package_gram():
    """The scikit-learn callable of a package kernel (issue 7) equals the docs/model.md 2 transcription
    ffnet_ntk_bar on unit rows, as a Gram (2-D) and pair by pair (1-D rows, as KernelRidge calls it)."""
    X = sphere_uniform(6, 4, 0)
    Y = sphere_uniform(3, 4, 1)
    k = sklearn_kernel("ffnet", 3)
    ref = ffnet_ntk_bar(3)(np.clip(X @ Y.T, -1, 1))
    np.testing.assert_allclose(k(X, Y), ref, rtol=1e-12)
    assert k(X[1], Y[2]) == pytest.approx(ref[1, 2], rel=1e-12)
    assert np.all(np.diag(k(X)) == 1.0)


# ----------------------------------------------------------------------------- experiments (issue 7)

def test_seed000_degeneration_trend_small():
    """Seed 000 (docs/model.md 4), small sizes: early-stopped gradient flow on the normalized RNTK.
    Constant alpha and gamma = 1/4 degenerate: test error at L = 64 is more than 2x (alpha = 1) and
    1.5x (gamma = 1/4) the error at L = 1 and grows monotonically; gamma = 1 does not (error at
    L = 64 within 25% of L = 4, the depth limit being the one-layer kernel), and everything stays
    far below the zero predictor's error. (Passes for data seeds 0-3; seed 0 is run.)"""
    from rntk_sym.experiments import depth_degeneration

    err = depth_degeneration([1, 4, 16, 64], n_train=50, n_val=30, n_test=50, seed=0,
                             times=np.geomspace(1e-1, 1e9, 31))
    const, quarter, one = err["alpha = 1 (constant)"], err["gamma = 1/4"], err["gamma = 1"]
    assert np.all(np.diff(const) > 0) and const[-1] > 2 * const[0], const
    assert np.all(np.diff(quarter) > 0) and quarter[-1] > 1.5 * quarter[0], quarter
    assert abs(one[-1] / one[1] - 1) < 0.25, one
    assert one[-1] < 0.5 * const[-1]
    assert np.all(one < 0.1 * err["zero predictor"])


def test_seed002_ffnet_predictions_shrink_with_depth():
    """Seed 002 (docs/model.md 5) on seed-000 data: FFNet-NTK ridge predictions at new points shrink
    monotonically toward 0 as L grows (depth-limit kernel predicts exactly 0), and the test error
    rises toward that of the zero predictor."""
    from rntk_sym.experiments import ffnet_shrinkage

    rms, err = ffnet_shrinkage([1, 4, 16, 64, 256], n_train=60, n_test=60, seed=0)
    assert np.all(np.diff(rms) < 0) and rms[-1] < 0.4 * rms[0], rms
    assert np.all(np.diff(err) > 0), err


def test_least_eigenvalue_ffnet_tends_to_three_quarters():
    """Seed 003 lambda (docs/model.md 6) for the FFNet Gram: the depth-limit Gram (3/4) I + (1/4) J
    (docs/model.md 5) has least eigenvalue 3/4, so lambda_min grows toward 3/4 with L and stays below it
    (eigenvalues of a Gram between the finite-depth one and the limit; checked, not assumed);
    lambda_min decreases as n grows (nested point sets: Cauchy interlacing)."""
    from rntk_sym.experiments import least_eigenvalues

    lam = least_eigenvalues([10, 20, 40], [1, 10, 100, 1000], arch="ffnet", seed=0)
    assert np.all(np.diff(lam, axis=0) > 0) and np.all(lam < 0.75), lam
    assert np.all(np.diff(lam, axis=1) <= 0), lam
    assert lam[-1, 0] > 0.7
