"""Tests of rntk_sym.empirical: finite-width FFNet / ResNet of seed 002 and their empirical NTKs.

The analytic reference is a literal transcription of docs/model.md sections 2 and 3 (sums of products),
kept here on purpose, independent of the package's analytic code.
"""

import math

import numpy as np
import pytest

# ----------------------------------------------------------------------------- reference (docs/model.md)
from seed_formulas import ffnet_sum_of_products_np  # noqa: E402  (docs/model.md 1-2)
from seed_formulas import shat_np as shat
from seed_formulas import shatp_np as shatp

from rntk_sym.empirical import (
    ResNet,
    empirical_gp_kernel,
    empirical_kernels,
    empirical_ntk,
    gp_normalizer,
    make_network,
    ntk_normalizer,
    resolve_alpha,
    train_resnet_gd,
)


def ref_ffnet(rho, L):
    """docs/model.md 2: K_0 = rho, K_l = Gamma(K_{l-1}); Omega_L = sum_l K_{l-1} prod_{i=l}^L Gamma'(K_{i-1})."""
    return ffnet_sum_of_products_np(rho, L)


def ref_resnet(rho, L, a):
    """docs/model.md 3: K_l = K_{l-1} + a^2 Gamma(K_{l-1}) with K_l(x,x) = (1+a^2)^l; B_{L+1} = 1,
    B_{l+1} = B_{l+2}(1 + a^2 Gamma'(K_l)); Omega_L = a^2 sum_l B_{l+1}[Gamma(K_{l-1}) + K_{l-1} Gamma'(K_{l-1})]."""
    K = [np.asarray(rho, dtype=float)]
    d = [1.0]
    for _ in range(L):
        K.append(K[-1] + a * a * d[-1] * shat(K[-1] / d[-1]))
        d.append(d[-1] * (1 + a * a))
    B = {L + 1: 1.0}
    for l in range(L - 1, 0, -1):
        B[l + 1] = B[l + 2] * (1 + a * a * shatp(K[l] / d[l]))
    omega = 0.0
    for l in range(1, L + 1):
        g = d[l - 1] * shat(K[l - 1] / d[l - 1])
        gp = shatp(K[l - 1] / d[l - 1])
        omega = omega + a * a * B[l + 1] * (g + K[l - 1] * gp)
    return K[L], omega


def ref_kernels(arch, rho, L, **kw):
    if arch == "ffnet":
        return ref_ffnet(rho, L)
    return ref_resnet(rho, L, resolve_alpha(arch, L, **kw))


def sphere_points(n, D, seed):
    Z = np.random.default_rng(seed).standard_normal((n, D))
    return Z / np.linalg.norm(Z, axis=1, keepdims=True)


def rho_matrix(X):
    R = np.clip(X @ X.T, -1, 1)
    np.fill_diagonal(R, 1.0)
    return R


# ----------------------------------------------------------------------------- exact gradients

@pytest.mark.parametrize("arch,kw", [("ffnet", {}), ("resnet", {"alpha": 0.7}), ("resnet", {"gamma": 0.5})])
def test_backprop_matches_finite_differences(arch, kw):
    """Hand-written backprop (seed 002 "Network setup") vs central finite differences of f(x)
    on a tiny network (D=4, L=3, m=6); every trained parameter W_l (and V_l) is checked."""
    X = sphere_points(2, 4, seed=0)
    net = make_network(arch, 4, depth=3, width=6, seed=0, **kw)
    theta = net.get_flat()
    for x in X:
        g = net.per_example_gradient(x)
        assert np.max(np.abs(g)) > 0.1  # not a dead network: the check has teeth
        h = 1e-6
        fd = np.empty_like(theta)
        for k in range(theta.size):
            e = np.zeros_like(theta)
            e[k] = h
            net.set_flat(theta + e)
            fp = net(x)[0]
            net.set_flat(theta - e)
            fm = net(x)[0]
            fd[k] = (fp - fm) / (2 * h)
        net.set_flat(theta)
        # central differences of a piecewise quadratic-in-each-coordinate map: error ~ h^2 + eps/h
        np.testing.assert_allclose(g, fd, rtol=0, atol=1e-7 * max(1.0, np.max(np.abs(g))))


@pytest.mark.parametrize("arch,kw", [("ffnet", {}), ("resnet", {"alpha": 1.3}), ("resnet", {"gamma": 1.0})])
def test_batched_ntk_equals_gradient_inner_products(arch, kw):
    """The batched per-layer Gram equals sum_l <grad_{theta_l} f(x_i), grad_{theta_l} f(x_j)> built
    from explicit per-example gradients (seed 002 NTK definition); lazy/stored weights and
    stored/recomputed activations give the same kernel; loss gradient = (1/n) sum_i r_i grad f(x_i)."""
    X = sphere_points(5, 3, seed=1)
    L, m = 3, 16
    net = make_network(arch, 3, depth=L, width=m, seed=4, **kw)
    J = np.stack([net.per_example_gradient(x) for x in X])
    K = net.ntk(X)
    np.testing.assert_allclose(K, J @ J.T, rtol=1e-12, atol=1e-12 * np.abs(K).max())
    # per layer: split J by layer
    per = net.ntk(X, per_layer=True)
    sizes = [sum(p.size for p in net.layer(l)) for l in range(1, L + 1)]
    offs = np.cumsum([0] + sizes)
    for l in range(L):
        Jl = J[:, offs[l]:offs[l + 1]]
        np.testing.assert_allclose(per[l], Jl @ Jl.T, rtol=1e-12, atol=1e-12 * np.abs(K).max())
    # functional API = lazy regeneration = recomputed activations
    K_api = empirical_ntk(X, arch=arch, depth=L, width=m, seed=4, **kw)
    K_low = empirical_ntk(X, arch=arch, depth=L, width=m, seed=4, store_activations=False, **kw)
    K_stored = empirical_ntk(X, arch=arch, depth=L, width=m, seed=4, lazy=False, **kw)
    # same arithmetic, but BLAS may round repeated products differently (alignment, threads): not bitwise
    np.testing.assert_allclose(K_api, K, rtol=1e-13, atol=0)
    np.testing.assert_allclose(K_low, K, rtol=1e-13, atol=0)
    np.testing.assert_allclose(K_stored, K, rtol=1e-13, atol=0)
    # GP kernel = <x_L, x'_L>
    XL = net.hidden(X)
    np.testing.assert_allclose(empirical_gp_kernel(X, arch=arch, depth=L, width=m, seed=4, **kw),
                               XL @ XL.T, rtol=1e-14)
    # loss gradient
    y = np.linspace(-1, 1, len(X))
    R, grads, r = net.loss_and_grad(X, y)
    assert R == pytest.approx(0.5 * np.mean((net(X) - y) ** 2), rel=1e-14)
    gflat = np.concatenate([g.ravel() for layer in grads for g in layer])
    np.testing.assert_allclose(gflat, (r / len(X)) @ J, rtol=1e-11, atol=1e-14)


def test_normalizers_are_analytic_diagonals():
    """docs/model.md 2-3: Omega_L(x,x) = L (FFNet), 2 L a^2 (1+a^2)^(L-1) (ResNet); K_L(x,x) = 1 / (1+a^2)^L."""
    for L in (1, 2, 5):
        K, om = ref_ffnet(1.0, L)
        assert ntk_normalizer("ffnet", L) == pytest.approx(float(om), rel=1e-14)
        assert gp_normalizer("ffnet", L) == pytest.approx(float(K), rel=1e-14)
        for kw in ({"gamma": 1.0}, {"gamma": 0.25}, {"alpha": 2.0}):
            K, om = ref_resnet(1.0, L, resolve_alpha("resnet", L, **kw))
            # rel 1e-8, not 1e-14: the reference evaluates arccos(K/d) at K/d = 1 - O(eps), and
            # arccos(1 - eps) ~ sqrt(2 eps) ~ 1e-8 (the cancellation hazard of docs/model.md 7)
            assert ntk_normalizer("resnet", L, **kw) == pytest.approx(float(om), rel=1e-8)
            assert gp_normalizer("resnet", L, **kw) == pytest.approx(float(K), rel=1e-13)
    with pytest.raises(ValueError):
        resolve_alpha("resnet", 3)
    with pytest.raises(ValueError):
        resolve_alpha("resnet", 3, gamma=1.0, alpha=0.5)
    with pytest.raises(ValueError):
        resolve_alpha("ffnet", 3, gamma=1.0)


def test_package_analytic_ntk_matches_reference_if_present():
    """When the package's analytic ``rntk_sym.ntk`` exists, it must equal the docs/model.md transcription
    (normalized: Omegabar_L = Omega_L / Omega_L(x,x))."""
    try:
        from rntk_sym import ntk
    except ImportError:
        pytest.skip("rntk_sym.ntk not in the repo yet")
    rho = np.linspace(-1, 1, 41)
    for arch, L, kw in [("ffnet", 3, {}), ("resnet", 4, {"gamma": 1.0}), ("resnet", 3, {"alpha": 1.0})]:
        _, om = ref_kernels(arch, rho, L, **kw)
        np.testing.assert_allclose(ntk(arch, rho, L, **kw), om / ntk_normalizer(arch, L, **kw),
                                   rtol=1e-10, atol=1e-12)


# ----------------------------------------------------------------------------- Monte Carlo

WIDTHS = (64, 256, 1024)
N_SEEDS = 8
MC_CONFIGS = [
    ("ffnet", 3, {}),
    ("resnet", 3, {"gamma": 1.0}),
    ("resnet", 2, {"gamma": 0.5}),
    ("resnet", 2, {"alpha": 1.0}),
]
MC_IDS = ["ffnet-L3", "resnet-L3-gamma1", "resnet-L2-gamma0.5", "resnet-L2-alpha1"]
X_MC = sphere_points(6, 5, seed=11)
# Student t with N_SEEDS - 1 = 7 dof, two-sided level 1% Bonferroni-corrected over the 21 distinct
# entries of a 6 x 6 symmetric matrix: t_7 quantile at 1 - 0.01/42 = 6.13 (computed with mpmath).
T_CRIT = 6.13


def _mc_run(arch, L, kw, widths=WIDTHS, n_seeds=N_SEEDS):
    """errors[kind][w, s] = RMS over entries of (empirical - analytic) / analytic diagonal, and the
    raw normalized differences at the largest width (for the bias t-test)."""
    R = rho_matrix(X_MC)
    KL, om = ref_kernels(arch, R, L, **kw)
    nz, gz = ntk_normalizer(arch, L, **kw), gp_normalizer(arch, L, **kw)
    iu = np.triu_indices(len(X_MC))
    err = {"ntk": np.empty((len(widths), n_seeds)), "gp": np.empty((len(widths), n_seeds))}
    diffs = {"ntk": [], "gp": []}
    for w, m in enumerate(widths):
        for s in range(n_seeds):
            # lazy=False: each weight matrix drawn once (the kernels equal the lazy ones, tested above)
            K, G = empirical_kernels(X_MC, arch=arch, depth=L, width=m, seed=1000 * w + s,
                                     lazy=False, **kw)
            dk = ((K - om) / nz)[iu]
            dg = ((G - KL) / gz)[iu]
            err["ntk"][w, s] = np.sqrt(np.mean(dk ** 2))
            err["gp"][w, s] = np.sqrt(np.mean(dg ** 2))
            if m == widths[-1]:
                diffs["ntk"].append(dk)
                diffs["gp"].append(dg)
    return err, {k: np.array(v) for k, v in diffs.items()}


@pytest.fixture(scope="module")
def mc_results():
    return {cid: _mc_run(*cfg) for cid, cfg in zip(MC_IDS, MC_CONFIGS)}


def width_exponent(err, widths=WIDTHS):
    """Least-squares slope of log(mean error) against log m, and its standard error propagated
    from the seed-to-seed spread (delta method: se(log mean) = std / (sqrt(S) mean))."""
    x = np.log(np.array(widths, dtype=float))
    mean = err.mean(axis=1)
    se_log = err.std(axis=1, ddof=1) / (math.sqrt(err.shape[1]) * mean)
    xc = x - x.mean()
    wts = xc / np.sum(xc ** 2)
    slope = float(np.sum(wts * np.log(mean)))
    se = float(math.sqrt(np.sum((wts * se_log) ** 2)))
    return slope, se


def _check_exponent(err, widths=WIDTHS):
    slope, se = width_exponent(err, widths)
    mean = err.mean(axis=1)
    assert np.all(np.diff(mean) < 0), mean
    assert abs(slope + 0.5) <= 3 * se, (slope, se)


def _check_unbiased(d):
    t = d.mean(axis=0) / (d.std(axis=0, ddof=1) / math.sqrt(d.shape[0]))
    assert np.max(np.abs(t)) < T_CRIT, t


@pytest.mark.parametrize("kind", ["ntk", "gp"])
@pytest.mark.parametrize("cid", MC_IDS)
def test_mc_error_shrinks_like_inverse_sqrt_width(mc_results, cid, kind):
    """Seed 002 Theorems 4/5 (docs/model.md 2-3): the empirical NTK (and the forward GP kernel
    <x_L, x'_L>) converges to Omega_L (K_L) as the width m grows; the RMS error over pairs,
    normalized by the analytic diagonal, should scale as m^{-1/2}.  The fitted exponent over
    m = 64, 256, 1024 must be -1/2 within 3 standard errors estimated from the seed spread, and the
    mean error must decrease from each width to the next."""
    err, _ = mc_results[cid]
    _check_exponent(err[kind])


@pytest.mark.parametrize("kind", ["ntk", "gp"])
@pytest.mark.parametrize("cid", MC_IDS)
def test_mc_no_bias_at_largest_width(mc_results, cid, kind):
    """Seed 002 / docs/model.md 2-3 (and the scaling note in rntk_sym.empirical): averaged over seeds,
    the m = 1024 empirical kernel is unbiased for the analytic Omega_L / K_L -- every entry's
    t-statistic is below the Bonferroni-corrected 1% critical value.  A wrong scale (e.g. the
    sqrt(2) of docs/model.md's literal ResNet block, which doubles alpha^2) gives |t| in the tens."""
    _, diffs = mc_results[cid]
    _check_unbiased(diffs[kind])


@pytest.mark.slow
@pytest.mark.parametrize("arch,L,kw", [("ffnet", 4, {}), ("resnet", 4, {"gamma": 0.5}),
                                        ("resnet", 4, {"alpha": 1.0}), ("resnet", 4, {"gamma": 1.0})])
def test_mc_wider_and_deeper_slow(arch, L, kw):
    """Seed 002 Theorems 4/5, same criteria as the fast Monte Carlo tests at L = 4 and
    m = 256, 1024, 4096 (exponent -1/2 within 3 seed-spread standard errors; no bias at m = 4096)."""
    widths = (256, 1024, 4096)
    err, diffs = _mc_run(arch, L, kw, widths=widths, n_seeds=N_SEEDS)
    for kind in ("ntk", "gp"):
        _check_exponent(err[kind], widths)
        _check_unbiased(diffs[kind])


# ----------------------------------------------------------------------------- training (seed 003)

@pytest.mark.parametrize("kw", [{"gamma": 1.0}, {"alpha": 1.0}])
def test_resnet_gd_loss_obeys_seed003_rate(kw):
    """Seed 003 (docs/model.md 6): full-batch GD on R_S = (1/2n) sum (f - y)^2 satisfies
    R_S(theta_t) <= R_S(theta_0) exp(-lambda t / n), t = lr * step, lambda = least eigenvalue of the
    infinite-width (unnormalized) Gram Omega_L(x_i, x_j).  Also the residual trajectory follows the
    linearized (NTK) dynamics e_{k+1} = (I - lr K_0 / n) e_k with K_0 the empirical NTK at
    initialization, to within a few times m^{-1/2} of ||e_0||."""
    n, D, L, m, steps = 6, 5, 3, 256, 60
    X = sphere_points(n, D, seed=3)
    y = X @ np.ones(D) / math.sqrt(D)
    _, om = ref_kernels("resnet", rho_matrix(X), L, **kw)
    lam = np.linalg.eigvalsh(om)[0]
    assert lam > 0
    res = train_resnet_gd(X, y, depth=L, width=m, seed=0, steps=steps, **kw)
    bound = res.rate_bound(lam)
    assert np.all(res.losses <= bound * (1 + 1e-12))
    assert np.all(np.diff(res.losses) < 0)
    assert res.losses[-1] < 1e-3 * res.losses[0]
    # linearized dynamics
    net0 = ResNet(D, L, m, seed=0, **kw)
    e = net0(X) - y
    e0 = np.linalg.norm(e)
    M = np.eye(n) - res.lr * res.ntk0 / n
    dev = 0.0
    for k in range(steps + 1):
        lin_loss = 0.5 * (e @ e) / n
        dev = max(dev, abs(math.sqrt(2 * n * res.losses[k]) - math.sqrt(2 * n * lin_loss)) / e0)
        e = M @ e
    assert dev < 3 / math.sqrt(m), dev


def test_empty_batch_gives_empty_kernels():
    # issue 18: the empty input batch gives 0 x 0 kernels (as rntk_sym.gram does), not an error
    from rntk_sym.empirical import empirical_kernels
    for arch, kw in (("ffnet", {}), ("resnet", {"gamma": 1})):
        ntk, gp = empirical_kernels(np.zeros((0, 4)), arch=arch, depth=3, width=8, **kw)
        assert ntk.shape == gp.shape == (0, 0)
