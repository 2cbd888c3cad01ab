"""Conventions and interoperability (issue 9): rntk_sym.conventions, the scikit-learn adapter, and
`rntk kernel --convention`.

Every reference below is an independent transcription of the *other* convention's own recursion
(written here from its source, never from rntk_sym), evaluated at 50 digits; the maps under test are
derived in docs/conventions.md. The package's values come from its own recursion (rntk_sym.ntk / gp).
"""
import importlib
import json
import sys

import mpmath
import numpy as np
import pytest

import rntk_sym
from rntk_sym import conventions as cv
from rntk_sym.cli import main

RHOS = ["-0.9", "-0.3", "0", "0.5", "0.99"]
DEPTHS = [1, 2, 3, 7, 20]
DPS = 50


# --- independent transcriptions (mpmath at 50 digits; x, y are vectors, any norms) -------------------

def relu_expectations(q1, q2, c):
    """Plain ReLU, (u, v) centred Gaussian with variances q1, q2 and covariance c:
    E[relu(u) relu(v)] and E[relu'(u) relu'(v)] (Cho & Saul arc-cosine kernels of order 1 and 0)."""
    s = mpmath.sqrt(q1 * q2)
    t = mpmath.acos(max(-1, min(1, c / s)))
    return s * (mpmath.sin(t) + (mpmath.pi - t) * mpmath.cos(t)) / (2 * mpmath.pi), (mpmath.pi - t) / (2 * mpmath.pi)


def nt_stax(x, y, L, w_std2=2):
    """neural-tangents stax.serial([Dense(W_std), Relu()] * L, Dense(W_std)), parameterization 'ntk',
    b_std None: input covariance <x, y> / D, ntk starts at 0; Dense: cov -> W_std^2 cov,
    ntk -> cov_new + W_std^2 ntk; Relu: cov -> E[relu relu], ntk -> ntk E[relu' relu'].
    Returns (nngp, ntk)."""
    D = len(x)
    dot = lambda a, b: mpmath.fsum(ai * bi for ai, bi in zip(a, b)) / D  # noqa: E731
    qx, qy, c, ntk = dot(x, x), dot(y, y), dot(x, y), mpmath.mpf(0)
    for _ in range(L):
        qx, qy, c = w_std2 * qx, w_std2 * qy, w_std2 * c
        ntk = c + w_std2 * ntk
        ex, _ = relu_expectations(qx, qx, qx)
        ey, _ = relu_expectations(qy, qy, qy)
        c, dd = relu_expectations(qx, qy, c)
        ntk, qx, qy = ntk * dd, ex, ey
    c = w_std2 * c
    return c, c + w_std2 * ntk


def bietti_bach(u, layers):
    """Bietti & Bach (ICLR 2021), kappa_NTK of a ReLU network with `layers` layers on the sphere:
    kappa_0(u) = (pi - arccos u)/pi, kappa_1(u) = (u (pi - arccos u) + sqrt(1 - u^2))/pi,
    Sigma_1 = N_1 = u; Sigma_l = kappa_1(Sigma_{l-1}), N_l = Sigma_l + N_{l-1} kappa_0(Sigma_{l-1})."""
    k0 = lambda t: (mpmath.pi - mpmath.acos(t)) / mpmath.pi  # noqa: E731
    k1 = lambda t: (t * (mpmath.pi - mpmath.acos(t)) + mpmath.sqrt(1 - t * t)) / mpmath.pi  # noqa: E731
    sigma = n = u
    for _ in range(2, layers + 1):
        sigma, n = k1(sigma), k1(sigma) + n * k0(sigma)
    return sigma, n


def arora_paper(u, L):
    """Arora et al. 2019 (arXiv 1904.11955, Section 3): c_sigma = 2,
    Sigma^(0) = u, Sigma^(h) = c_sigma E[relu relu], Sigmadot^(h) = c_sigma E[relu' relu'],
    Theta^(L) = sum_{h=1}^{L+1} Sigma^(h-1) prod_{h'=h}^{L+1} Sigmadot^(h'), Sigmadot^(L+1) = 1."""
    sig, dots = [u], []
    for _ in range(L):
        e, d = relu_expectations(1, 1, sig[-1])  # unit sphere: Sigma^(h)(x, x) = 1
        sig.append(2 * e)
        dots.append(2 * d)
    dots.append(mpmath.mpf(1))
    theta = mpmath.fsum(sig[h - 1] * mpmath.fprod(dots[h - 1:]) for h in range(1, L + 2))
    return sig[L], theta


def arora_uci_code(x, y, d_max, fix_dep=0):
    """LeoYu/neural-tangent-kernel-UCI NTK.py kernel_value(X, d_max, fix_dep), on the pair (x, y);
    returns (S, K[d_max-1]) with S the code's layer-(d_max - 1) GP matrix at that point:
    S = X X^T, H = 0; for dep < d_max: H += S (if dep >= fix_dep), K[dep] = H,
    S = (Sn (pi - acos Sn) + sqrt(1 - Sn^2)) P / (2 pi), H *= (pi - acos Sn) / (2 pi); return K[d_max-1]."""
    S = {k: mpmath.fsum(a * b for a, b in zip(*v)) for k, v in {"xx": (x, x), "yy": (y, y), "xy": (x, y)}.items()}
    H = {k: mpmath.mpf(0) for k in S}
    K = None
    for dep in range(d_max):
        if fix_dep <= dep:
            H = {k: H[k] + S[k] for k in S}
        K, G = H["xy"], S["xy"]
        P = {"xx": S["xx"], "yy": S["yy"], "xy": mpmath.sqrt(S["xx"] * S["yy"])}
        Sn = {k: max(-1, min(1, S[k] / P[k])) for k in S}
        H = {k: H[k] * (mpmath.pi - mpmath.acos(Sn[k])) / (2 * mpmath.pi) for k in S}
        S = {k: (Sn[k] * (mpmath.pi - mpmath.acos(Sn[k])) + mpmath.sqrt(1 - Sn[k] ** 2)) * P[k] / (2 * mpmath.pi)
             for k in S}
    return G, K


def scikit_ntk(x, y, depth, bias=0):
    """scikit-ntk 1.2.x skntk/kernel.py NeuralTangentKernel(depth, bias), c = 2, on the pair (x, y):
    Sigma = X Z^T, K = Sigma + bias^2; per layer: lam = Sigma / sqrt(diag diag),
    Sigma = c/(2 pi) (lam (pi - acos lam) + sqrt(1 - lam^2)) sqrt(diag diag), Sigmadot = c/(2 pi) (pi - acos lam),
    K = K Sigmadot + Sigma + bias^2; result K / ((depth + 1)(bias^2 + 1))."""
    Sxx, Syy = mpmath.fsum(a * a for a in x), mpmath.fsum(b * b for b in y)
    S = mpmath.fsum(a * b for a, b in zip(x, y))
    K = S + bias ** 2
    for _ in range(depth):
        den = mpmath.sqrt(Sxx * Syy)
        lam = max(-1, min(1, S / den))
        S = (lam * (mpmath.pi - mpmath.acos(lam)) + mpmath.sqrt(1 - lam ** 2)) * den / mpmath.pi
        K = K * (mpmath.pi - mpmath.acos(lam)) / mpmath.pi + S + bias ** 2
    return K / ((depth + 1) * (bias ** 2 + 1))


def seed_resnet_unnormalized(u, L, alpha):
    """Seed 002 / docs/model.md section 3, unnormalized: K_0 = u, K_l = K_{l-1} + alpha^2 Gamma_sigma(K_{l-1}),
    B_{L+1} = 1, B_{l+1} = B_{l+2} (1 + alpha^2 Gamma'(K_l)),
    Omega_L = alpha^2 sum_l B_{l+1} [Gamma_sigma(K_{l-1}) + K_{l-1} Gamma'(K_{l-1})]. Returns (K_L, Omega_L)."""
    a2 = alpha ** 2
    K, diag = [u], [mpmath.mpf(1)]
    gam, gamp = [], []
    for _ in range(L):
        e, d = relu_expectations(diag[-1], diag[-1], K[-1])
        gam.append(2 * e)
        gamp.append(2 * d)
        K.append(K[-1] + a2 * gam[-1])
        diag.append(diag[-1] * (1 + a2))
    B = [None] * (L + 2)
    B[L + 1] = mpmath.mpf(1)
    for l in range(L - 1, 0, -1):
        B[l + 1] = B[l + 2] * (1 + a2 * gamp[l])
    omega = a2 * mpmath.fsum(B[l + 1] * (gam[l - 1] + K[l - 1] * gamp[l - 1]) for l in range(1, L + 1))
    return K[L], omega


def unit_pair(rho):
    """Two unit vectors in R^3 with <x, y> = rho (exact decimal rho)."""
    r = mpmath.mpf(rho)
    return [mpmath.mpf(1), 0, 0], [r, mpmath.sqrt(1 - r * r), 0]


def ours(rho, L, **kw):
    """The package's (Omegabar_L, rho_L) at 50 digits (mpf)."""
    return (rntk_sym.ntk("ffnet" if not kw else "resnet", rho, L, digits=DPS, **kw).value,
            rntk_sym.gp("ffnet" if not kw else "resnet", rho, L, digits=DPS, **kw).value)


TOL_40 = mpmath.mpf(10) ** -40


def close(a, b, tol=TOL_40):
    return abs(a - b) <= tol * max(1, abs(b))


# --- the maps of docs/conventions.md, at 50 digits ----------------------------------------------------

@pytest.mark.parametrize("L", DEPTHS)
@pytest.mark.parametrize("rho", RHOS + ["1"])
def test_maps_against_independent_recursions(rho, L):
    """docs/conventions.md table: each convention = a Omegabar_L + b rho_L (GP c rho_L), checked against
    the convention's own recursion (neural-tangents stax rules, Bietti & Bach kappa_NTK with L + 1 layers,
    Arora et al. Theta^(L) with c_sigma = 2, their UCI code with d_max = L + 1, scikit-ntk)."""
    ntk, gp = ours(rho, L)
    with mpmath.workdps(DPS + 10):
        x, y = unit_pair(rho)
        xs, ys = [mpmath.sqrt(3) * t for t in x], [mpmath.sqrt(3) * t for t in y]  # <x, y> / D = rho
        refs = {
            "neural_tangents": nt_stax(xs, ys, L),
            "bietti_bach": bietti_bach(mpmath.mpf(rho), L + 1),
            "arora": arora_paper(mpmath.mpf(rho), L),
            "arora_code": arora_uci_code(x, y, L + 1),
            "scikit_ntk": (None, scikit_ntk(x, y, L)),
            "seed": (gp, L * ntk),  # docs/model.md section 2: Omega_L = L Omegabar_L, K_L = rho_L (FFNet)
        }
        for name, (ref_gp, ref_ntk) in refs.items():
            got_ntk, got_gp = cv.convert(ntk, gp, L, to=name, arch="ffnet")
            assert close(got_ntk, ref_ntk), (name, got_ntk, ref_ntk)
            if ref_gp is not None:
                assert close(got_gp, ref_gp), (name, got_gp, ref_gp)
            # scikit-ntk has no GP kernel: the map from it takes rho_L itself (docstring of convert)
            back = cv.convert(ref_ntk, ref_gp if ref_gp is not None else gp, L, frm=name, arch="ffnet")
            assert close(back[0], ntk)  # the inverse map recovers Omegabar_L


def test_diagonals():
    """docs/conventions.md 'diagonal' column: neural-tangents 2(L+1) (GP 2), Bietti-Bach / Arora L + 1,
    Arora code (L+1)/2^L, scikit-ntk 1 -- from the independent recursions at rho = 1."""
    for L in (1, 4, 9):
        with mpmath.workdps(DPS):
            one = [mpmath.sqrt(3), 0, 0]
            assert close(nt_stax(one, one, L)[1], 2 * (L + 1)) and close(nt_stax(one, one, L)[0], 2)
            assert close(bietti_bach(mpmath.mpf(1), L + 1)[1], L + 1)
            assert close(arora_uci_code([1, 0], [1, 0], L + 1)[1], mpmath.mpf(L + 1) / 2 ** L)
            assert close(scikit_ntk([1, 0], [1, 0], L), 1)
        a, b, c = cv.coefficients("neural_tangents", L, arch="ffnet")
        assert (a + b, c) == (2 * (L + 1), 2)


@pytest.mark.parametrize("alpha,L", [("0.7", 1), ("0.7", 6), ("0.05", 12)])
@pytest.mark.parametrize("rho", ["-0.5", "0.3", "0.9"])
def test_seed_resnet_unnormalized(rho, alpha, L):
    """docs/model.md section 3: Omega_L = 2 L alpha^2 (1+alpha^2)^(L-1) Omegabar_L, K_L = (1+alpha^2)^L rho_L,
    against the seed's sum over B-products written out here."""
    ntk, gp = ours(rho, L, alpha=alpha)
    with mpmath.workdps(DPS + 10):
        ref_gp, ref_ntk = seed_resnet_unnormalized(mpmath.mpf(rho), L, mpmath.mpf(alpha))
    got_ntk, got_gp = cv.convert(ntk, gp, L, to="seed", arch="resnet", alpha=alpha)
    assert close(got_ntk, ref_ntk) and close(got_gp, ref_gp)


def test_homogeneity_off_sphere():
    """docs/conventions.md 'inputs off the sphere': k(x, y) = |x||y| k(rho) (|x||y|/D for neural-tangents),
    checked with the independent recursions on vectors of norms 0.3 and 2.5."""
    L, rho = 4, "0.25"
    ntk, gp = ours(rho, L)
    with mpmath.workdps(DPS + 10):
        x, y = unit_pair(rho)
        x, y = [mpmath.mpf("0.3") * t for t in x], [mpmath.mpf("2.5") * t for t in y]
        for name, ref in [("arora_code", arora_uci_code(x, y, L + 1)[1]), ("scikit_ntk", scikit_ntk(x, y, L)),
                          ("neural_tangents", nt_stax(x, y, L)[1])]:
            s = cv.input_scale(name, 0.3, 2.5, input_dim=3)
            assert close(cv.convert(ntk, gp, L, to=name, arch="ffnet")[0] * mpmath.mpf(float(s)), ref, 1e-14)


def test_float64_and_kernelvalue_paths():
    """The same maps in float64 (arrays, Gram matrices) and for KernelValue (error propagated): compared
    with the 50-digit Bietti-Bach recursion (docs/conventions.md)."""
    L = 30
    rho = np.array([[-0.8, 0.1], [0.6, 0.999]])
    got = cv.convert(rntk_sym.ntk("ffnet", rho, L), rntk_sym.gp("ffnet", rho, L), L, to="bietti_bach", arch="ffnet")[0]
    with mpmath.workdps(DPS):
        ref = np.array([[float(bietti_bach(mpmath.mpf(float(r)), L + 1)[1]) for r in row] for row in rho])
    assert got.shape == rho.shape and np.allclose(got, ref, rtol=1e-13, atol=0)
    kv = cv.kernel_in("bietti_bach", "ffnet", "0.6", L, digits=25)
    with mpmath.workdps(DPS):
        exact = bietti_bach(mpmath.mpf("0.6"), L + 1)[1]
        assert abs(kv.value - exact) <= kv.error + mpmath.mpf(10) ** -45
        assert abs(mpmath.mpf(kv.decimal()) - exact) <= kv.decimal_error()
        assert kv.decimal_error() < mpmath.mpf(10) ** -23
    kg = cv.kernel_in("arora_code", "ffnet", "0.6", L, kernel="gp", digits=25)
    with mpmath.workdps(DPS):
        assert abs(kg.value - bietti_bach(mpmath.mpf("0.6"), L + 1)[0] / mpmath.mpf(2) ** L) <= kg.error + 1e-60


def test_round_trips_every_convention():
    """Every map composed with its inverse is the identity (float64 and mpf), ResNet constant alpha too."""
    for arch, kw in [("ffnet", {}), ("resnet", {"alpha": "0.7"}), ("resnet", {"gamma": "0.5"})]:
        L = 9
        n, g = rntk_sym.ntk(arch, np.linspace(-1, 1, 7), L, **kw), rntk_sym.gp(arch, np.linspace(-1, 1, 7), L, **kw)
        for name in cv.CONVENTIONS:
            if arch not in cv.CONVENTION_TABLE[name].archs:
                with pytest.raises(ValueError, match="convention"):
                    cv.convert(n, g, L, to=name, arch=arch, **kw)
                continue
            a, b = cv.convert(n, g, L, to=name, arch=arch, **kw)
            back = cv.convert(a, g if b is None else b, L, frm=name, arch=arch, **kw)
            assert np.allclose(back[0], n, rtol=1e-14, atol=1e-15)


def test_bad_names():
    with pytest.raises(ValueError, match="convention: must be one of rntk"):
        cv.convert(0.5, 0.5, 3, to="jax", arch="ffnet")
    with pytest.raises(ValueError, match="gp: the map"):
        cv.convert(0.5, None, 3, to="arora", arch="ffnet")
    with pytest.raises(ValueError, match="kernel: the scikit_ntk convention defines no GP"):
        cv.kernel_in("scikit_ntk", "ffnet", 0.5, 3, kernel="gp")


def test_arch_is_required():
    """Issue 18: a ResNet value converted without arch used the FFNet's map (seed convention: the ResNet
    divisor 2 L alpha^2 (1 + alpha^2)^(L-1) differs from the FFNet's L), silently. Now arch is required."""
    for call in (lambda: cv.convert(0.5, 0.5, 3, to="seed"), lambda: cv.coefficients("seed", 3)):
        with pytest.raises(ValueError, match="^arch: required"):
            call()
    ffnet = cv.convert(0.5, 0.5, 3, to="seed", arch="ffnet")[0]
    resnet = cv.convert(0.5, 0.5, 3, to="seed", arch="resnet", alpha="0.5")[0]
    assert ffnet == 1.5 and abs(resnet - 0.5 * 2 * 3 * 0.25 * 1.25 ** 2) < 1e-15  # the two divisors, by hand


def test_monte_carlo_all_layers_trained():
    """Finite width (rntk_sym.empirical, seed-002 FFNet, W_1..W_L trained): adding the readout v to the
    trained parameters adds <x_L, x'_L> to the NTK Gram, and the sum tends to the Arora / Bietti-Bach
    all-layers-trained kernel L Omegabar_L + rho_L (docs/conventions.md, derivation).
    Mean of 24 networks of width 512 (measured: max error 0.26 with 16 networks)."""
    empirical = pytest.importorskip("rntk_sym.empirical")
    L, rng, nets = 3, np.random.default_rng(1), 24
    X = rng.standard_normal((4, 5))
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    total = sum(sum(empirical.empirical_kernels(X, arch="ffnet", depth=L, width=512, seed=s)) for s in range(nets))
    rho = np.clip(X @ X.T, -1, 1)
    np.fill_diagonal(rho, 1)
    want = cv.convert(rntk_sym.ntk("ffnet", rho, L), rntk_sym.gp("ffnet", rho, L), L, to="arora", arch="ffnet")[0]
    # dropping (or doubling) the rho_L term would move the diagonal by 1
    assert np.max(np.abs(total / nets - want)) < 0.45


# --- neural-tangents (optional, pinned extra `nt`) -----------------------------------------------------

def test_neural_tangents_kernel_fn():
    """neural-tangents' own analytic kernel_fn (stax, NTK parameterization, W_std = sqrt(2), no bias) on
    raw inputs off the sphere equals the converted package kernel times |x||y|/D (docs/conventions.md)."""
    nt = pytest.importorskip("neural_tangents")
    sk = pytest.importorskip("rntk_sym.sklearn_kernel")
    import jax

    jax.config.update("jax_enable_x64", True)
    stax = nt.stax
    X = np.random.default_rng(0).standard_normal((5, 4)) * np.array([[0.5], [1], [2], [3], [0.7]])
    for L in (1, 3, 12):
        layers = [m for _ in range(L) for m in (stax.Dense(8, W_std=np.sqrt(2)), stax.Relu())]
        kernel_fn = stax.serial(*layers, stax.Dense(1, W_std=np.sqrt(2)))[2]
        k = kernel_fn(X, X, ("nngp", "ntk"))
        for kind, ref in (("ntk", k.ntk), ("gp", k.nngp)):
            ours_ = sk.RNTKKernel(depth=L, kernel=kind, convention="neural_tangents")(X)
            np.testing.assert_allclose(ours_, np.asarray(ref), rtol=1e-10, atol=1e-12)


def test_scikit_ntk_package():
    """scikit-ntk's NeuralTangentKernel(depth=L, bias=0) itself, when installed (not a dependency)."""
    skntk = pytest.importorskip("skntk")
    sk = pytest.importorskip("rntk_sym.sklearn_kernel")
    X = np.random.default_rng(2).standard_normal((6, 3))
    for L in (1, 4):
        ref = skntk.NeuralTangentKernel(depth=L, bias=0)(X)
        np.testing.assert_allclose(sk.RNTKKernel(depth=L, convention="scikit_ntk")(X), ref, rtol=1e-10)


# --- scikit-learn adapter -------------------------------------------------------------------------------

def _data(n, D=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, D))
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    return X, X @ np.array([1.0, -2.0, 0.5]) + 0.3 * X[:, 0] * X[:, 1]


@pytest.mark.parametrize("arch,kw", [("ffnet", {}), ("resnet", {"gamma": 1}), ("resnet", {"alpha": 0.5})])
def test_sklearn_regression(arch, kw):
    """GaussianProcessRegressor and KernelRidge with the adapter: their predictions equal the closed form
    K_* (K + lambda I)^-1 y with K built from rntk_sym.ntk on the Gram matrix (homogeneous extension),
    and the fit generalizes on a smooth target (test R^2 > 0.9)."""
    pytest.importorskip("sklearn")
    from sklearn.gaussian_process import GaussianProcessRegressor
    from sklearn.kernel_ridge import KernelRidge

    from rntk_sym.sklearn_kernel import RNTKKernel

    X, y = _data(60)
    Xt, yt = _data(40, seed=1)
    Xt = Xt * 1.7  # off the sphere: k = |x||y| Omegabar(rho)
    lam, L = 1e-3, 4
    k = RNTKKernel(arch=arch, depth=L, **kw)
    gpr = GaussianProcessRegressor(kernel=k, alpha=lam, optimizer=None).fit(X, y)
    kr = KernelRidge(alpha=lam, kernel=k).fit(X, y)

    def gram(A, B):
        na, nb = np.linalg.norm(A, axis=1), np.linalg.norm(B, axis=1)
        rho = np.clip((A / na[:, None]) @ (B / nb[:, None]).T, -1, 1)
        if A is B:
            np.fill_diagonal(rho, 1)
        return np.outer(na, nb) * rntk_sym.ntk(arch, rho, L, **kw)

    want = gram(Xt, X) @ np.linalg.solve(gram(X, X) + lam * np.eye(len(X)), y)
    np.testing.assert_allclose(gpr.predict(Xt), want, rtol=1e-8, atol=1e-8)
    np.testing.assert_allclose(kr.predict(Xt), want, rtol=1e-8, atol=1e-8)
    np.testing.assert_allclose(k.diag(Xt), np.diag(k(Xt)), rtol=1e-14)
    np.testing.assert_allclose(k.diag(Xt), 1.7 ** 2, rtol=1e-14)
    r2 = 1 - np.sum((kr.predict(Xt) - 1.7 * yt) ** 2) / np.sum((1.7 * yt - np.mean(1.7 * yt)) ** 2)
    # the target is not homogeneous of degree 1 in |x| only through the quadratic term; R^2 still high
    assert r2 > 0.9, r2


def test_sklearn_options():
    pytest.importorskip("sklearn")
    from sklearn.base import clone

    from rntk_sym.sklearn_kernel import RNTKKernel

    X, _ = _data(5)
    k = RNTKKernel(depth=3, kernel="gp", inputs="normalize")
    np.testing.assert_allclose(k(3 * X), rntk_sym.gp("ffnet", np.clip(X @ X.T, -1, 1), 3), rtol=1e-12)
    assert clone(k).get_params() == k.get_params()
    K, dK = k(X, eval_gradient=True)
    assert dK.shape == (5, 5, 0)
    with pytest.raises(ValueError, match="inputs"):
        RNTKKernel(inputs="normalize")(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="kernel: the scikit_ntk"):
        RNTKKernel(kernel="gp", convention="scikit_ntk")(X)


def test_sklearn_absent(monkeypatch):
    """Without scikit-learn the adapter's import fails with a message naming the extra."""
    for name in [m for m in sys.modules if m == "sklearn" or m.startswith("sklearn.")] + ["sklearn"]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.delitem(sys.modules, "rntk_sym.sklearn_kernel", raising=False)
    with pytest.raises(ImportError, match=r"pip install 'rntk_sym\[sklearn\]'"):
        importlib.import_module("rntk_sym.sklearn_kernel")
    rntk_sym.ntk("ffnet", 0.5, 3)  # the rest of the package does not need it


# --- command line ----------------------------------------------------------------------------------------

def test_cli_convention(capsys):
    """`rntk kernel --convention NAME --json`: value = kernel_in (itself checked above), key 'convention'."""
    assert main(["kernel", "--arch", "ffnet", "--rho", "0.5", "--depth", "7", "--digits", "25",
                 "--convention", "neural_tangents", "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert res["convention"] == "neural_tangents"
    with mpmath.workdps(DPS):
        x, y = unit_pair("0.5")
        ref = nt_stax([mpmath.sqrt(3) * t for t in x], [mpmath.sqrt(3) * t for t in y], 7)[1]
        assert abs(mpmath.mpf(res["value"]) - ref) <= mpmath.mpf(res["error"])
    assert main(["kernel", "--arch", "ffnet", "--rho", "0.5", "--depth", "7", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["convention"] == "rntk"
    assert main(["kernel", "--arch", "ffnet", "--rho", "0.5", "--depth", "3", "--convention", "arora"]) == 0
    assert "arora convention" in capsys.readouterr().out


@pytest.mark.parametrize("argv,msg", [
    (["--arch", "ffnet", "--convention", "jax"], "convention: must be one of"),
    (["--arch", "resnet", "--convention", "arora"], "convention: arora is defined for arch ffnet only"),
    (["--arch", "ffnet", "--convention", "scikit_ntk", "--kernel", "gp"], "kernel: the scikit_ntk"),
])
def test_cli_convention_errors(capsys, argv, msg):
    assert main(["kernel", "--rho", "0.5", "--depth", "3"] + argv) == 2
    err = capsys.readouterr().err
    assert msg in err and len(err.strip().splitlines()) == 1
