"""The generalized recursion (rntk_sym.general): any activation, weight and bias variance, input norms.

Sources: docs/activations.md (networks, recursions, normalization); docs/model.md sections 2-3 for the seeds'
ReLU case, which must come out as today's normalized kernels (rntk_sym.kernels, an independent code path:
angle form, different state); the numerics are checked against a plain transcription of the recursion in
mpmath at 50 digits (covariances carried directly, no gap state, no compensation, no complement integral).
"""
import mpmath
import numpy as np
import pytest

import rntk_sym
from rntk_sym import general as G
from rntk_sym.activations import get_activation

REGIMES = [("ffnet", {}), ("resnet", {"gamma": 1}), ("resnet", {"gamma": "0.5"}),
           ("resnet", {"gamma": "0.25"}), ("resnet", {"alpha": "0.7"})]
RHOS = [-1.0, -1 + 1e-12, -1 + 1e-8, -0.9999, -0.9, -0.3, 0.0, 0.5, 0.9, 0.99, 0.999999, 1 - 1e-12, 1.0]


@pytest.mark.parametrize("arch,kw", REGIMES)
@pytest.mark.parametrize("L", [1, 3, 20, 300])
@pytest.mark.parametrize("kernel", ["ntk", "gp"])
def test_relu_reproduces_seed_kernels_float64(arch, kw, L, kernel):
    # relu, sigma_w^2 = 2, sigma_b^2 = 0 through the general recursion (general.kernel always runs it; the
    # dispatch to the seeds' code is in kernels.kernel) equals rntk_sym.kernel's Omegabar_L / rho_L.
    # Tolerance 1e-13 relative or 1e-15 absolute (values near 0),
    # the float64 accuracy both codes reach against 50 digits (tests/test_kernels.py for the seed path).
    got = G.kernel(arch, np.array(RHOS), L, kernel=kernel, **kw)
    ref = rntk_sym.kernel(arch, np.array(RHOS), L, kernel=kernel, **kw)
    err = np.abs(got - ref)
    assert np.all((err <= 1e-13 * np.abs(ref)) | (err <= 1e-15)), (err, ref)


@pytest.mark.parametrize("arch,kw", [("ffnet", {}), ("resnet", {"gamma": "0.25"}), ("resnet", {"alpha": "0.7"})])
@pytest.mark.parametrize("rho", ["-0.8", "0.3", "0.999999999999"])
def test_relu_reproduces_seed_kernels_30_digits(arch, kw, rho):
    # the same at 30 digits: agreement to 1e-25 (both carry >= 12 guard digits; their own error estimates
    # are below 1e-29).
    for L in (2, 25):
        for kernel in ("ntk", "gp"):
            got = G.kernel(arch, rho, L, kernel=kernel, digits=30, **kw)
            ref = rntk_sym.kernel(arch, rho, L, kernel=kernel, digits=30, **kw)
            assert abs(got.value - ref.value) <= mpmath.mpf("1e-25") * abs(ref.value)
            assert got.error <= mpmath.mpf("1e-29")


def plain_recursion(arch, act, sw2, sb2, n1, n2, rho, L, a2=None, kernel="ntk"):
    """docs/activations.md transcribed with the covariances carried directly (mpmath, caller's precision)."""
    def E(q1, q2, c):
        return act.expectations(q1, q2, mpmath.sqrt(q1 * q2) - c, "mp")

    x = [n1, n2, rho * mpmath.sqrt(n1 * n2)]
    if arch == "ffnet":
        k = [sw2 * v + sb2 for v in x]
        theta = list(k)
        for _ in range(L):
            ed = [E(k[0], k[0], k[0]), E(k[1], k[1], k[1]), E(k[0], k[1], k[2])]
            omega = [sw2 * d * t for (_, d), t in zip(ed, theta)]
            k = [sw2 * e + sb2 for e, _ in ed]
            theta = [a + b for a, b in zip(k, omega)]
        out = omega if kernel == "ntk" else k
    else:
        K, T = x, [0, 0, 0]
        for _ in range(L):
            S = [sw2 * v + sb2 for v in K]
            ed = [E(S[0], S[0], S[0]), E(S[1], S[1], S[1]), E(S[0], S[1], S[2])]
            T = [t * (1 + a2 * sw2 * d) + a2 * (e + d * s) for t, (e, d), s in zip(T, ed, S)]
            K = [v + a2 * e for v, (e, _) in zip(K, ed)]
        out = T if kernel == "ntk" else K
    return out[2] / mpmath.sqrt(out[0] * out[1])


CASES = [("erf", "2", "0.1"), ("erf:1,2,0", "1.5", "0"), ("gelu", "2", "0.1"), ("leaky_relu:0.1", "2", "0.1"),
         ("sin:1,1,0.3", "1", "0.2"), ("abs", "1", "0.05"), ("arccos:2", "0.5", "0.1"), ("relu", "2", "0.5"),
         ("abs", "2", "0")]  # homogeneous, no bias: at unit norms (general.norm_free); unequal norms erred 7e-9


@pytest.mark.parametrize("spec,w,b", CASES)
@pytest.mark.parametrize("arch,kw", [("ffnet", {}), ("resnet", {"gamma": "0.5"})])
def test_float64_vs_plain_50_digits(spec, w, b, arch, kw):
    # float64 (gap and co-gap state, complement integrals, compensated sums) against the plain recursion at 50 digits,
    # on a grid reaching rho = 1 - 1e-12 and -1 + 1e-12, L = 1, 4, 30, norms (1, 1) and (0.5, 2). Tolerance 3e-13
    # relative or 1e-15 absolute: the measured worst case is in docs/activations.md ("Accuracy"); the plain float64
    # transcription errs by up to ~1e-9 near rho = 1 (the cancellation the gap state removes), and the gap state
    # without the co-gap by 3e-8 near rho = -1 (erf(2z), no bias).
    act = get_activation(spec)
    for norms in ((1, 1), (0.5, 2)):
        for L in (1, 4, 30):
            for kernel in ("ntk", "gp"):
                got = G.kernel(arch, np.array(RHOS), L, kernel=kernel, activation=spec, weight_var=w, bias_var=b,
                               norms=norms, **kw)
                with mpmath.workdps(50):
                    a2 = None if arch == "ffnet" else mpmath.mpf(L) ** -1
                    ref = np.array([float(plain_recursion(arch, act, mpmath.mpf(w), mpmath.mpf(b), mpmath.mpf(norms[0]),
                                                          mpmath.mpf(norms[1]), mpmath.mpf(r), L, a2, kernel))
                                    for r in RHOS])
                err = np.abs(got - ref)
                assert np.all((err <= 3e-13 * np.abs(ref)) | (err <= 1e-15)), (spec, norms, L, kernel, err)


def test_gram_near_minus_one():
    # a nearly opposite pair of unit rows (1 + rho = 2.1e-12): the Gram's v = 1 + rho (rntk_sym.gram's routine)
    # enters the co-gap; against the 30-digit kernel at the rows' exact angle and norms. Odd erf(2z) without bias
    # keeps the correlation near -1 through the layers: before the co-gap this pair erred by 1.0e-7 at L = 30
    # (measured; now 4.8e-15). Tolerance as above.
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=4), rng.normal(size=4)
    x /= np.linalg.norm(x)
    z = -x + 1e-6 * y
    X = np.stack([x, z / np.linalg.norm(z)])
    G2 = G.gram(X, arch="ffnet", depth=30, activation="erf:1,2,0", weight_var="1.5")
    with mpmath.workdps(60):
        a, b = ([mpmath.mpf(float(t)) for t in row] for row in X)
        na, nb = mpmath.fsum(t * t for t in a), mpmath.fsum(t * t for t in b)
        rho = mpmath.fsum(s * t for s, t in zip(a, b)) / mpmath.sqrt(na * nb)
        assert 1 + rho < 1e-11
        ref = G.kernel("ffnet", mpmath.nstr(rho, 55), 30, activation="erf:1,2,0", weight_var="1.5",
                       norms=(mpmath.nstr(na, 55), mpmath.nstr(nb, 55)), digits=30).value
    assert abs(G2[0, 1] - float(ref)) <= 3e-13 * abs(float(ref))


def test_digits_vs_plain_recursion():
    # digits=D for a non-relu activation with biases: D correct digits against the plain recursion at D + 30.
    kv = G.kernel("resnet", "0.6", 12, kernel="ntk", gamma="0.25", digits=40, activation="gelu", weight_var="1.5",
                  bias_var="0.2", norms=("0.5", "3"))
    with mpmath.workdps(70):
        ref = plain_recursion("resnet", get_activation("gelu"), mpmath.mpf("1.5"), mpmath.mpf("0.2"), mpmath.mpf("0.5"),
                              mpmath.mpf(3), mpmath.mpf("0.6"), 12, mpmath.mpf(12) ** mpmath.mpf("-0.5"))
        assert abs(kv.value - ref) <= kv.error + mpmath.mpf(10) ** -45
    assert kv.error < mpmath.mpf(10) ** -40


def test_norms_matter_only_with_bias_or_inhomogeneous():
    # relu without bias is positively homogeneous: the normalized kernels ignore the norms; with a bias they do not.
    a = G.kernel("ffnet", 0.3, 5, norms=(1, 1))
    assert G.kernel("ffnet", 0.3, 5, norms=(0.2, 7)) == pytest.approx(a, rel=1e-14)
    assert abs(G.kernel("ffnet", 0.3, 5, bias_var=0.3, norms=(0.2, 7)) - G.kernel("ffnet", 0.3, 5, bias_var=0.3)) > 1e-3


def test_diagonal_is_one():
    for spec in ("erf", "gelu", "sin", "exp:1,0.5"):
        for arch, kw in (("ffnet", {}), ("resnet", {"alpha": "0.5"})):
            for kernel in ("ntk", "gp"):
                v = G.kernel(arch, 1.0, 7, kernel=kernel, activation=spec, weight_var="0.5", bias_var=0.1, **kw)
                assert v == pytest.approx(1.0, abs=2e-16)


@pytest.mark.parametrize("kwargs,name", [
    ({"activation": "nope"}, "activation"), ({"activation": "erf:1,2,3,4"}, "activation"),
    ({"weight_var": 0}, "weight_var"), ({"weight_var": "-1"}, "weight_var"), ({"weight_var": "x"}, "weight_var"),
    ({"bias_var": "-0.1"}, "bias_var"), ({"bias_var": float("nan")}, "bias_var"), ({"norms": (1, 0)}, "norms"),
    ({"norms": (1, 2, 3)}, "norms"), ({"activation": "step"}, "activation"),
    ({"activation": "ab_relu:0,0"}, "activation"),
    ({"activation": "ab_relu:0,0", "digits": 10, "bias_var": 1}, "activation"),
    ({"activation": (np.tanh, np.tanh), "digits": 20, "certified": True}, "certified"),
    ({"activation": "erf", "weight_var": "0.5", "bias_var": "0.05", "method": "asymptotic", "digits": 20}, "method")])
def test_bad_input(kwargs, name):
    with pytest.raises(ValueError, match=f"^{name}"):
        G.kernel("ffnet", 0.5, 3, **kwargs)


def test_step_gp_is_allowed_and_overflow_is_refused():
    assert -1 <= G.kernel("ffnet", 0.5, 3, kernel="gp", activation="sign") <= 1
    with pytest.raises(ValueError, match="^depth"):
        G.kernel("ffnet", 0.5, 40, activation="exp", weight_var=4)


def test_public_api_dispatch():
    # the defaults (relu, 2, 0; any norms) take the seeds' code path: bitwise the same values
    r = np.array([-0.5, 0.2, 0.9])
    assert np.array_equal(rntk_sym.ntk("resnet", r, 9, gamma="0.5", activation="relu", weight_var="2", bias_var=0,
                                       norms=(2, 3)), rntk_sym.ntk("resnet", r, 9, gamma="0.5"))
    # anything else takes the general recursion
    kw = {"activation": "erf:1,2,0", "weight_var": "1.5", "bias_var": "0.1", "norms": (0.5, 2)}
    assert np.array_equal(rntk_sym.gp("ffnet", r, 4, **kw), G.kernel("ffnet", r, 4, kernel="gp", **kw))
    kv = rntk_sym.kernel("ffnet", "0.3", 4, digits=20, **kw)
    assert abs(kv.value - G.kernel("ffnet", "0.3", 4, digits=30, **kw).value) < 1e-20
    for bad, name in (({"weight_var": 0}, "weight_var"), ({"bias_var": -1}, "bias_var"),
                      ({"activation": "foo"}, "activation"), ({"norms": (0, 1)}, "norms")):
        with pytest.raises(ValueError, match=f"^{name}"):
            rntk_sym.ntk("ffnet", 0.5, 3, **bad)


def test_gram_with_raw_inputs():
    # gram's entries are the pair kernels with norms (|x|^2, |y|^2) and rho = cos(angle): 1e-14 agreement
    # (the gram computes 1 - rho without cancellation, the pair call from the rounded rho).
    rng = np.random.default_rng(3)
    X, Y = rng.normal(size=(5, 3)), rng.normal(size=(4, 3))
    kw = {"activation": "gelu", "weight_var": "1.7", "bias_var": "0.2"}
    for arch, ak in (("ffnet", {}), ("resnet", {"gamma": "0.25"})):
        K = rntk_sym.gram(X, Y, arch=arch, depth=6, **ak, **kw)
        Ks = rntk_sym.gram(X, arch=arch, depth=6, **ak, **kw)
        for i in range(5):
            assert Ks[i, i] == 1.0 and np.allclose(Ks[i], Ks[:, i], rtol=0, atol=0)
            for j in range(4):
                nx, ny = X[i] @ X[i], Y[j] @ Y[j]
                ref = rntk_sym.ntk(arch, X[i] @ Y[j] / np.sqrt(nx * ny), 6, norms=(nx, ny), **ak, **kw)
                assert abs(K[i, j] - ref) < 1e-14
    # the seeds' relu gram is unchanged (dispatch): rows scaled to the sphere, exactly as before
    assert np.array_equal(rntk_sym.gram(X, Y, arch="ffnet", depth=3, activation="relu"),
                          rntk_sym.gram(X, Y, arch="ffnet", depth=3))


@pytest.mark.parametrize("spec", ["erf:1,2,0", "gelu", "leaky_relu:0.1", "sin:1,1,0.3", "relu", "arccos:2",
                                  "exp:1,0.5"])
@pytest.mark.parametrize("arch,kw", [("ffnet", {}), ("resnet", {"gamma": "0.5"}), ("resnet", {"alpha": "0.7"})])
def test_certified_encloses_plain_recursion(spec, arch, kw):
    # certified=True: the arb ball (rntk_sym.activations.balls) contains the plain recursion at 60 digits, and its
    # radius reaches the digits asked; near the diagonal (rho = 1 - 1e-6) and with unequal norms and a bias.
    L, b, norms = 12, "0.1", ("1", "2.5")
    w = {"exp:1,0.5": "0.1", "arccos:2": "0.1"}.get(spec, "1.5")  # keep the variances bounded to L = 12
    for kernel in ("ntk", "gp"):
        kv = G.kernel(arch, "0.999999", L, kernel=kernel, activation=spec, weight_var=w, bias_var=b, norms=norms,
                      digits=30, certified=True, **kw)
        with mpmath.workdps(60):
            a2 = None if arch == "ffnet" else (mpmath.mpf(L) ** -1 if "gamma" in kw else mpmath.mpf("0.49"))
            ref = plain_recursion(arch, get_activation(spec), mpmath.mpf(w), mpmath.mpf(b), mpmath.mpf(norms[0]),
                                  mpmath.mpf(norms[1]), mpmath.mpf("0.999999"), L, a2, kernel)
            assert mpmath.mpf(kv.interval[0]) <= ref <= mpmath.mpf(kv.interval[1])
        assert kv.error <= abs(kv.value) * mpmath.mpf(10) ** -30 / 2


def test_certified_refusals():
    with pytest.raises(ValueError, match="^certified"):
        G.kernel("ffnet", "0.3", 3, activation="erf", certified=True)  # no digits
    z = __import__("sympy").Symbol("z")
    with pytest.raises(ValueError, match="^certified"):
        G.kernel("ffnet", "0.3", 3, activation=__import__("sympy").tanh(z), digits=10, certified=True)


def test_gram_rows_normalized_in_float64():
    """Rows normalized in float64 have squared norms 1 +- an ulp; general.snap_norms takes those as equal, so
    that the complement (E1 + E2)/2 - E(c_max) stays exactly 0 (docs/activations.md, "Unequal norms"). Against
    the 30-digit kernel at the rows' exact angle and exact (unequal) squared norms: 1e-13 as above; the
    pairs were measured at up to 6.7e-16 with the snap, 3.9e-12 without (leaky relu with a bias, L = 20)."""
    rng = np.random.default_rng(1)
    for _ in range(6):
        x = rng.standard_normal(6)
        x /= np.linalg.norm(x)
        y = x + 1e-5 * rng.standard_normal(6)
        y /= np.linalg.norm(y)
        got = G.gram(np.stack([x, y]), arch="ffnet", depth=20, activation="leaky_relu:0.1", weight_var="1.5",
                     bias_var="0.2")[0, 1]
        a, b = [mpmath.mpf(t) for t in x], [mpmath.mpf(t) for t in y]
        with mpmath.workdps(70):
            rho = mpmath.nstr(mpmath.fdot(a, b) / mpmath.sqrt(mpmath.fdot(a, a) * mpmath.fdot(b, b)), 60)
            norms = (mpmath.nstr(mpmath.fdot(a, a), 60), mpmath.nstr(mpmath.fdot(b, b), 60))
        ref = G.kernel("ffnet", rho, 20, activation="leaky_relu:0.1", weight_var="1.5", bias_var="0.2", norms=norms,
                       digits=30).value
        assert abs(got - float(ref)) <= 1e-13 * abs(float(ref))
