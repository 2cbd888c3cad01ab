"""neural-tangents' convention for any activation and variances (issue 14; docs/conventions.md, derivation 2).

`conventions.kernel_in("neural_tangents", ...)` must equal neural-tangents'
`stax.serial(*[Dense(W_std, b_std), Act()] * L, Dense(W_std, b_std))` kernel_fn (`ntk`, `nngp`) for inputs
with <x, x>/D = 1. Checked two ways:

- `nt_serial` below: an independent transcription, at 50 digits, of neural-tangents 0.6.5's own layer rules
  (`_src/stax/linear.py` Dense, parameterization "ntk": `nngp <- W_std^2 nngp + b_std^2`,
  `ntk <- nngp_new + W_std^2 ntk`) and of its activations' kernel formulas (`_src/stax/elementwise.py`:
  Erf, Gelu, Sin, ABRelu; LeakyRelu, Relu, Abs are ABRelu(alpha, 1), ABRelu(0, 1), ABRelu(-1, 1)), written
  from that source and not from rntk_sym's families (which use other forms, e.g. asin instead of arctan2,
  the gap state instead of the covariance). Runs everywhere.
- neural-tangents itself (the `nt` extra: neural-tangents 0.6.5, jax 0.5.3), where it imports.
"""
import json

import mpmath
import numpy as np
import pytest

from rntk_sym import conventions as cv
from rntk_sym import general
from rntk_sym.cli import main

# (our spec, neural-tangents layer name and its arguments, weight variance, bias variance)
MODELS = [
    ("erf:1,2,0", ("Erf", (1, 2, 0)), "2", "0.1"),
    ("erf:0.5,1.5,0.2", ("Erf", (0.5, 1.5, 0.2)), "1.5", "0.05"),
    ("gelu", ("Gelu", ()), "2", "0.1"),
    ("leaky_relu:0.1", ("LeakyRelu", (0.1,)), "1.8", "0.2"),
    ("abs", ("Abs", ()), "1", "0.3"),
    ("sin:1,1.5,0.3", ("Sin", (1, 1.5, 0.3)), "1.2", "0.1"),
    ("relu", ("Relu", ()), "2", "0.5"),
    ("ab_relu:-0.2,0.8", ("ABRelu", (-0.2, 0.8)), "2.5", "0.1"),
]
RHOS = ["-0.9", "0", "0.5", "0.999"]


def nt_activation(name, args, q1, q2, c):
    """neural-tangents 0.6.5 elementwise kernel_fn, pair form (`nngp_ntk_fn`), at covariance [[q1, c], [c, q2]]:
    returns (new nngp, the factor its ntk is multiplied by)."""
    pi = mpmath.pi
    if name == "Erf":  # k *= b (b^2 on every entry); nngp_ntk_fn; then a * k + c (a^2 times, plus c^2)
        a, b, c0 = (mpmath.mpf(x) for x in args)
        q1, q2, c = b * b * q1, b * b * q2, b * b * c
        prod = (1 + 2 * q1) * (1 + 2 * q2)
        root = mpmath.sqrt(prod - 4 * c * c)
        return a * a * (2 / pi) * mpmath.atan2(2 * c, root) + c0 * c0, a * a * b * b * 2 * (2 / pi) / root
    if name == "Gelu":
        prod, prod1 = q1 * q2, (q1 + 1) * (q2 + 1)
        dsq = prod1 - c * c
        delta = mpmath.sqrt(dsq)
        ang = mpmath.atan2(c, delta)
        new = ((c * c + prod * dsq) / (prod1 * delta) + c * ang) / (2 * pi) + c / 4
        first = (1 / dsq + (1 - prod) / prod1 + 1) * c / delta / (2 * pi)
        return new, first + 1 / mpmath.mpf(4) + ang / (2 * pi)
    if name == "Sin":
        a, b, c0 = (mpmath.mpf(x) for x in args)
        s = q1 + q2
        s1 = mpmath.exp(b * b * (-s / 2 + c))
        s2 = mpmath.exp(b * b * (-s / 2 - c)) * mpmath.cos(2 * c0)
        return a * a / 2 * (s1 - s2), a * a / 2 * b * b * (s1 + s2)
    a, b = {"Relu": (0, 1), "Abs": (-1, 1), "LeakyRelu": (args and args[0], 1), "ABRelu": args}[name]
    a, b = mpmath.mpf(a), mpmath.mpf(b)
    root = mpmath.sqrt(max(q1 * q2 - c * c, 0))
    angle = mpmath.atan2(root, c)
    factor = (a - b) ** 2 / (2 * pi)
    dot = (a * a + b * b) / 2 - factor * angle
    return factor * root + dot * c, dot


def nt_serial(model, sw2, sb2, L, rho):
    """stax.serial(*[Dense(W_std, b_std), Act()] * L, Dense(W_std, b_std)) kernel_fn at <x, x>/D = <x', x'>/D = 1,
    <x, x'>/D = rho (input ntk 0). Returns (nngp, ntk) of the pair."""
    name, args = model
    sw2, sb2 = mpmath.mpf(sw2), mpmath.mpf(sb2)
    q1 = q2 = mpmath.mpf(1)
    c, ntk = mpmath.mpf(rho), mpmath.mpf(0)
    for _ in range(L + 1):
        q1, q2, c = sw2 * q1 + sb2, sw2 * q2 + sb2, sw2 * c + sb2  # Dense
        ntk = c + sw2 * ntk
        if _ == L:  # the readout Dense
            return c, ntk
        (c, dot), (q1, _d1), (q2, _d2) = (nt_activation(name, args, *cov) for cov in
                                          ((q1, q2, c), (q1, q1, q1), (q2, q2, q2)))
        ntk = ntk * dot


def network(spec, sw2, sb2):
    return dict(activation=spec, weight_var=sw2, bias_var=sb2)


# --- the independent transcription (runs everywhere) ---------------------------------------------------

@pytest.mark.parametrize("L", [3, 20])
@pytest.mark.parametrize("spec,model,sw2,sb2", MODELS, ids=[m[0] for m in MODELS])
def test_kernel_in_vs_nt_formulas(spec, model, sw2, sb2, L):
    """float64 kernel_in (vectorized over rho) against the 50-digit transcription of neural-tangents' rules.
    Tolerance 1e-12 relative: the float64 recursion is accurate to ~1e-14 (docs/activations.md, section 5);
    the coefficients are exact to 113 bits."""
    rhos = np.array([float(r) for r in RHOS])
    with mpmath.workdps(50):
        want = [nt_serial(model, sw2, sb2, L, r) for r in RHOS]
    for k, kind in enumerate(("gp", "ntk")):
        got = cv.kernel_in("neural_tangents", "ffnet", rhos, L, kernel=kind, **network(spec, sw2, sb2))
        ref = np.array([float(w[k]) for w in want])
        np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-14 * np.max(np.abs(ref)))


@pytest.mark.parametrize("spec,model,sw2,sb2", [MODELS[0], MODELS[2], MODELS[6]], ids=["erf", "gelu", "relu_bias"])
def test_kernel_in_digits_vs_nt_formulas(spec, model, sw2, sb2):
    """digits=30: the KernelValue's error bound covers the distance to the 50-digit transcription."""
    with mpmath.workdps(50):
        ref = nt_serial(model, sw2, sb2, 3, "0.5")
    for k, kind in enumerate(("gp", "ntk")):
        kv = cv.kernel_in("neural_tangents", "ffnet", "0.5", 3, kernel=kind, digits=30, **network(spec, sw2, sb2))
        with mpmath.workdps(50):
            assert abs(kv.value - ref[k]) <= kv.error + mpmath.mpf(10) ** -45
            assert kv.error < mpmath.mpf(10) ** -29 * abs(ref[k])


def test_general_diagonals_reproduce_relu_table():
    """The general coefficients (diagonals of the one recursion) at relu, sigma_w^2 = 2, no bias give the
    relu table's (2 L, 2, 2) (docs/conventions.md), which the seeds' path uses."""
    m = general.resolve("ffnet")
    ctx = mpmath.MPContext()
    ctx.prec = 113
    for L in (1, 5, 40):
        got = cv._nt_model(ctx, L, m)
        want = cv.coefficients("neural_tangents", L, arch="ffnet")
        assert all(abs(g - w) <= abs(w) * 2 ** -100 for g, w in zip(got, want)), (L, got, want)


def test_other_conventions_refuse_general_networks(capsys):
    with pytest.raises(ValueError, match="^activation: the arora convention is defined for relu"):
        cv.kernel_in("arora", "ffnet", 0.5, 3, activation="erf")
    with pytest.raises(ValueError, match="^activation:"):
        cv.coefficients("bietti_bach", 3, arch="ffnet", bias_var="0.1")
    # the seeds' network spelled out is not "general": every convention takes it
    assert cv.kernel_in("arora", "ffnet", 0.5, 3, activation="relu", weight_var=2, bias_var=0) == \
        cv.kernel_in("arora", "ffnet", 0.5, 3)
    assert main(["kernel", "--arch", "ffnet", "--rho", "0.5", "--depth", "3", "--convention", "arora",
                 "--activation", "erf"]) == 2
    err = capsys.readouterr().err
    assert "activation:" in err and len(err.strip().splitlines()) == 1


def test_cli_neural_tangents_activation(capsys):
    """`rntk kernel --convention neural_tangents --activation ...`: the transcription's value within the error."""
    spec, model, sw2, sb2 = MODELS[2]
    assert main(["kernel", "--arch", "ffnet", "--rho", "0.5", "--depth", "3", "--digits", "20", "--convention",
                 "neural_tangents", "--activation", spec, "--weight-var", sw2, "--bias-var", sb2, "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert res["convention"] == "neural_tangents" and res["activation"] == spec
    with mpmath.workdps(50):
        ref = nt_serial(model, sw2, sb2, 3, "0.5")[1]
        assert abs(mpmath.mpf(res["value"]) - ref) <= mpmath.mpf(res["error"]) + mpmath.mpf(10) ** -40


# --- neural-tangents itself (the pinned `nt` extra) -------------------------------------------------------

@pytest.mark.parametrize("L", [3, 20])
@pytest.mark.parametrize("spec,model,sw2,sb2", MODELS, ids=[m[0] for m in MODELS])
def test_neural_tangents_kernel_fn(spec, model, sw2, sb2, L):
    """neural-tangents' analytic kernel_fn on 5 inputs with <x, x>/D = 1 (D = 3; pairs with rho from -0.95 to
    1 - 1e-6) equals kernel_in's float64 values. Tolerance 1e-9 relative: against the 50-digit transcription
    neural-tangents' own float64 values err by up to 8e-11 (erf(2z), L = 20, near rho = 1: it carries the
    covariance itself), kernel_in's by at most 3e-15 (measured; docs/conventions.md)."""
    nt = pytest.importorskip("neural_tangents")
    import jax

    jax.config.update("jax_enable_x64", True)
    stax = nt.stax
    D = 3
    t = np.array([0.0, 0.3, 1.0, 2.9, 1e-3 * np.sqrt(2)])
    X = np.sqrt(D) * np.stack([np.cos(t), np.sin(t), np.zeros_like(t)], axis=1)
    act = getattr(stax, model[0])(*model[1])
    dense = stax.Dense(1, W_std=float(np.sqrt(float(sw2))), b_std=float(np.sqrt(float(sb2))))
    kernel_fn = stax.serial(*[dense, act] * L, dense)[2]
    k = kernel_fn(X, X, ("nngp", "ntk"))
    rho = np.clip(np.cos(t[:, None] - t[None, :]), -1, 1)
    for kind, ref in (("gp", np.asarray(k.nngp)), ("ntk", np.asarray(k.ntk))):
        ours = cv.kernel_in("neural_tangents", "ffnet", rho, L, kernel=kind, **network(spec, sw2, sb2))
        rel = np.max(np.abs(ours - ref) / np.abs(ref))
        print(f"NT {spec} L={L} {kind}: max rel diff {rel:.2e}")
        np.testing.assert_allclose(ours, ref, rtol=1e-9)
