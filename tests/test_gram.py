"""Tests of rntk_sym.gram: Gram matrices of the normalized kernels on data (issue 7).

Reference: the seed formulas transcribed in tests/seed_formulas.py (seed 002; docs/model.md sections 1-3:
FFNet NTK as the sum of products, ResNet NTK through the backward B factors, GP kernels), run in
mpmath at 60 digits from rho = <x, y> / (|x| |y|) computed exactly from the float64 input rows.
"""
import tracemalloc

import mpmath as mp
import numpy as np
import pytest
import seed_formulas as sf

import rntk_sym

CONFIGS = [  # (arch, depth, scaling kwargs); depths small: the references are O(L^2) in mpmath
    ("ffnet", 20, {}),
    ("resnet", 30, {"gamma": 1}),
    ("resnet", 16, {"gamma": 0.25}),
    ("resnet", 12, {"alpha": 0.7}),
]


def reference(arch, kernel, rho, L, kw):
    """Seed 002 kernel at mpf ``rho`` (independent transcription; caller sets the precision)."""
    if arch == "ffnet":
        return sf.ffnet_ntk_sum_of_products(rho, L) if kernel == "ntk" else sf.ffnet_gp(rho, L)
    alpha = mp.mpf(kw["alpha"]) if "alpha" in kw else mp.mpf(L) ** (-mp.mpf(kw["gamma"]))
    if kernel == "ntk":
        return sf.resnet_ntk_backward(rho, L, alpha)
    return sf.resnet_gp(rho, L, alpha)


def exact_rho(x, y):
    """<x, y> / (|x| |y|) of the float64 rows, with mpmath's exact dot products (caller's precision)."""
    a = [mp.mpf(float(q)) for q in x]
    b = [mp.mpf(float(q)) for q in y]
    return mp.fdot(a, b) / mp.sqrt(mp.fdot(a, a) * mp.fdot(b, b))


def rotate_towards(x, t, theta):
    """cos(theta) x + sin(theta) t for unit x and a unit t orthogonal to x: rho = cos theta."""
    return np.cos(theta) * x + np.sin(theta) * t


def data_points():
    """Rows with every hazard: non-unit norms (1e-3 .. 1e3), a pair with rho = 1 - 1e-10 and one
    with rho = -1 + 1e-10, a duplicate row, a scaled copy (rho = 1 exactly up to rounding of the
    scale), and generic rows."""
    rng = np.random.default_rng(7)
    D = 6
    x = rng.standard_normal(D)
    x /= np.linalg.norm(x)
    t = rng.standard_normal(D)
    t -= (t @ x) * x
    t /= np.linalg.norm(t)
    th = np.sqrt(2e-10)  # 1 - cos th = 1e-10
    rows = [x, 3.7 * rotate_towards(x, t, th), -0.01 * rotate_towards(x, -t, th), 250.0 * x,
            x.copy()] + [s * rng.standard_normal(D) for s in (1e-3, 1.0, 1e3)]
    return np.array(rows)


def relerr(value, ref):
    """Relative error; absolute where |ref| < 1e-2 (as README's float64 accuracy table)."""
    return abs(mp.mpf(float(value)) - ref) / max(abs(ref), mp.mpf("0.01"))


def naive_float64(arch, kernel, rho, L, kw):
    """A straightforward vectorized float64 recursion on rho = fl(<x, y>) in the seed's arccos form."""
    r = np.clip(rho, -1.0, 1.0)
    T = np.zeros_like(r)
    a2 = None if arch == "ffnet" else (kw["alpha"] if "alpha" in kw else L ** -kw["gamma"]) ** 2
    for _ in range(L):
        s = (np.sqrt(1 - r * r) + (np.pi - np.arccos(r)) * r) / np.pi
        sp = (np.pi - np.arccos(r)) / np.pi
        if arch == "ffnet":
            T, r = sp * (T + r), s
        else:
            T, r = T * (1 + a2 * sp) / (1 + a2) + (s + r * sp) / 2, (r + a2 * s) / (1 + a2)
    return T / L if kernel == "ntk" else r


@pytest.mark.parametrize("kernel", ["ntk", "gp"])
@pytest.mark.parametrize("arch,L,kw", CONFIGS)
def test_entries_match_60_digit_seed_formulas(arch, L, kw, kernel):
    """Seed 002 kernels (docs/model.md 2-3) on data: every entry of gram(X) and of gram(X, Y) within
    1e-13 relative of the 60-digit seed formula at the exact angle between the float64 rows,
    including rho = 1 - 1e-10 and rho = -1 + 1e-10 and rows of norm 1e-3 .. 1e3. A naive float64
    recursion on fl(<x, y>) of the normalized rows must miss the bar by 5x or more on the NTK of
    the nearly parallel pair (so the test distinguishes the two; measured: FFNet 2.5e-10, ResNet
    1e-12 to 2e-12)."""
    X = data_points()
    G = rntk_sym.gram(X, arch=arch, depth=L, kernel=kernel, **kw)
    C = rntk_sym.gram(X[:3], X, arch=arch, depth=L, kernel=kernel, **kw)
    assert np.array_equal(G, G.T) and np.all(np.diag(G) == 1.0)
    Xn = X / np.linalg.norm(X, axis=1, keepdims=True)
    naive = naive_float64(arch, kernel, Xn @ Xn.T, L, kw)
    worst = 0
    with mp.workdps(60):
        for i in range(len(X)):
            for j in range(i, len(X)):
                ref = reference(arch, kernel, exact_rho(X[i], X[j]), L, kw)
                worst = max(worst, relerr(G[i, j], ref))
                if i < 3:
                    worst = max(worst, relerr(C[i, j], ref))
                if (i, j) == (0, 1):
                    naive_err = relerr(naive[0, 1], ref)
    assert worst < 1e-13, float(worst)
    if kernel == "ntk":  # the GP kernel is ~rho near rho = 1: no sqrt(u) to amplify fl(<x, y>)
        assert naive_err > 5e-13, float(naive_err)


def test_symmetric_equals_cross_and_chunking_is_invisible():
    """gram(X) (upper triangle mirrored) equals gram(X, X), and the block size does not change the
    entries beyond a few ulps (the BLAS rounding of rho where |rho| <= 1/2 depends on the tiles)."""
    rng = np.random.default_rng(3)
    X = rng.standard_normal((23, 4))
    kw = dict(arch="resnet", depth=9, gamma=0.5)
    G = rntk_sym.gram(X, **kw)
    np.testing.assert_allclose(G, rntk_sym.gram(X, X, **kw), rtol=4e-15, atol=0)
    for chunk in (1, 7, 50, 10 ** 6):
        np.testing.assert_allclose(rntk_sym.gram(X, chunk=chunk, **kw), G, rtol=4e-15, atol=0)
        np.testing.assert_allclose(rntk_sym.gram(X[:5], X, chunk=chunk, **kw), G[:5], rtol=4e-15, atol=0)
    # scale invariance: the normalized kernel depends on the angle only (docs/model.md 1)
    s = np.exp2(rng.integers(-30, 30, size=(23, 1)))  # powers of two: scaling is exact ...
    # ... but not bitwise afterwards: BLAS products may round differently from call to call
    np.testing.assert_allclose(rntk_sym.gram(s * X, **kw), G, rtol=4e-15, atol=0)


def test_agrees_with_pairwise_kernel():
    """gram(X, Y)[i, j] equals rntk_sym.kernel(arch, rho_ij, L) at the float64 rho of unit rows
    (same recursion from a different entry point), for |rho| <= 1/2 where both get the same u."""
    rng = np.random.default_rng(5)
    X = rng.standard_normal((40, 30))
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    rho = X @ X.T
    iu = np.triu_indices(40, 1)
    iu = tuple(k[np.abs(rho[iu]) <= 0.5] for k in iu)
    assert len(iu[0]) > 700
    for arch, kw in (("ffnet", {}), ("resnet", {"alpha": 2.0})):
        G = rntk_sym.gram(X, arch=arch, depth=25, **kw)
        np.testing.assert_allclose(G[iu], rntk_sym.ntk(arch, rho[iu], 25, **kw), rtol=1e-14)


def test_working_memory_is_bounded_by_the_chunk():
    """Issue 7 (n = 20000 must fit): with ``out`` given, the peak of new allocations is set by the
    chunk, not by n m; here 3000 x 200 pairs would need ~200 MB of recursion state at once."""
    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((3000, 8)), rng.standard_normal((200, 8))
    out = np.empty((3000, 200))
    tracemalloc.start()
    rntk_sym.gram(X, Y, arch="ffnet", depth=2, chunk=4096, out=out)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 8e6, peak
    np.testing.assert_allclose(out[:3, :4], rntk_sym.gram(X[:3], Y[:4], arch="ffnet", depth=2), rtol=1e-15)


@pytest.mark.parametrize("args,kw,name", [
    ((np.zeros((2, 3)),), {}, "X"),
    ((np.ones((2, 3)), np.array([[1.0, 0, 0], [0, 0, 0]])), {}, "Y"),
    ((np.ones((2, 3)), np.ones((2, 4))), {}, "Y"),
    ((np.array([[1.0, np.nan]]),), {}, "X"),
    ((np.ones(3),), {}, "X"),
    ((np.ones((2, 3)),), {"chunk": 0}, "chunk"),
    ((np.ones((2, 3)),), {"depth": 0}, "depth"),
    ((np.ones((2, 3)),), {"gamma": 1}, "gamma"),
    ((np.ones((2, 3)),), {"kernel": "nngp"}, "kernel"),
])
def test_bad_input_raises_naming_the_argument(args, kw, name):
    """Error contract (docs/getting-started.md): ValueError whose message starts with the argument's name."""
    kw = {"arch": "ffnet", "depth": 3, **kw}
    with pytest.raises(ValueError, match=f"^{name}"):
        rntk_sym.gram(*args, **kw)


@pytest.mark.parametrize("arch,kw", [("ffnet", {}), ("resnet", {"gamma": 1})])
def test_empty_inputs_give_empty_matrices(arch, kw):
    # issue 18: an empty X or Y was a ZeroDivisionError (tiles of zero columns); the Gram of n and m rows
    # is n x m also when n or m is 0. Same for the callable route and the scikit-learn adapter.
    from rntk_sym import regression
    X, E = np.eye(3, 4), np.zeros((0, 4))
    assert rntk_sym.gram(E, arch=arch, depth=10, **kw).shape == (0, 0)
    assert rntk_sym.gram(X, E, arch=arch, depth=10, **kw).shape == (3, 0)
    assert rntk_sym.gram(E, X, arch=arch, depth=10, **kw).shape == (0, 3)
    k = regression.package_kernel(arch, 10, **kw)
    assert regression.gram_from_callable(k, E).shape == (0, 0)
    assert regression.gram_from_callable(k, X, E).shape == (3, 0)
    assert regression.sklearn_kernel(arch, 10, **kw)(E, X).shape == (0, 3)
    with pytest.raises(ValueError, match="^K:"):  # no training points: nothing to fit, said by name
        regression.kernel_ridge_fit(np.zeros((0, 0)), np.zeros(0), 0.1)
