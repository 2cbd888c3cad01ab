"""User activations (rntk_sym.activations.quadrature): duals by polar quadrature, and their checks.

Source: the closed forms of rntk_sym.activations.families (proved by Price's identity and checked against an
independent quadrature in tests/test_activations.py) serve as the reference for the same activations given as
user input; docs/activations.md records the measured accuracy of the rule.
"""
import math

import mpmath
import numpy as np
import pytest
import sympy as sp

import rntk_sym
from rntk_sym.activations import get_activation

z = sp.Symbol("z", real=True)


def _user(spec):
    act = get_activation(spec)
    if spec in ("erf:1,3,0.2", "gelu", "sin:1,1.5,0.3", "exp:1,0.5"):  # smooth: a SymPy expression
        return act, get_activation(act.closed.phi.subs(sp.Symbol("z", real=True), z))
    f, d = (sp.lambdify(sp.Symbol("z", real=True), e, "numpy") for e in (act.closed.phi, act.closed.dphi))
    return act, get_activation((f, d))  # kinked: a pair of Python callables


@pytest.mark.parametrize("spec", ["relu", "leaky_relu:0.1", "arccos:2", "erf:1,3,0.2", "gelu", "sin:1,1.5,0.3",
                                  "exp:1,0.5"])
def test_user_duals_vs_closed_forms(spec):
    # measured worst 8.4e-12 (erf(3z) at q = 8), <= 2e-13 for the others: tolerance 3e-11 relative, or relative
    # to 1e-3 sqrt(E[phi(u)^2] E[phi(v)^2]) for values near 0
    act, user = _user(spec)
    for q1, q2 in ((1.0, 1.0), (0.3, 4.0), (8.0, 8.0)):
        s1, s2 = act.expectations(q1, q1, 0.0), act.expectations(q2, q2, 0.0)
        for r in (-1.0, -0.5, 0.1, 0.999, 1 - 1e-12, 1.0):
            gap = math.sqrt(q1 * q2) * (1 - r)
            for exact, got, scale in zip(act.expectations(q1, q2, gap), user.expectations(q1, q2, gap),
                                         (math.sqrt(s1[0] * s2[0]), math.sqrt(abs(s1[1] * s2[1])))):
                assert abs(got - exact) <= 3e-11 * max(abs(exact), 1e-3 * scale), (spec, q1, q2, r, got, exact)


def test_user_kernel_matches_closed_form_kernel():
    # a user erf (SymPy) and a user leaky relu (callables) through the recursion, with biases: 1e-11 agreement
    for spec, user in (("erf", sp.erf(z)), ("leaky_relu:0.1", (lambda x: np.where(x > 0, x, 0.1 * x),
                                                                lambda x: np.where(x > 0, 1.0, 0.1)))):
        for arch, kw in (("ffnet", {}), ("resnet", {"gamma": "0.5"})):
            for kernel in ("ntk", "gp"):
                rho = np.array([-0.7, 0.2, 0.99, 1 - 1e-10])
                a = rntk_sym.kernel(arch, rho, 5, kernel=kernel, activation=spec, bias_var="0.1", norms=(1, 2), **kw)
                b = rntk_sym.kernel(arch, rho, 5, kernel=kernel, activation=user, bias_var="0.1", norms=(1, 2), **kw)
                assert np.allclose(a, b, rtol=1e-11, atol=1e-13), (spec, arch, kernel, a - b)


@pytest.mark.parametrize("phi", [lambda x: np.sqrt(x), lambda x: np.log(np.abs(x) - 1), sp.exp(z**2),
                                 sp.exp(z**2 / 4), lambda x: np.exp(x**2 / 3)])
def test_nan_and_non_square_integrable_are_refused(phi):
    # sqrt and log give NaN; exp(z^2 / a) is square-integrable under N(0, q) only for q < a / 4 (here q = 2 + 0.1)
    with pytest.raises(ValueError, match="^activation"):
        rntk_sym.gp("ffnet", 0.3, 2, activation=phi, bias_var="0.1")


def test_user_activation_bad_input():
    with pytest.raises(ValueError, match="^activation"):
        get_activation(sp.Symbol("x") * sp.Symbol("y"))
    with pytest.raises(ValueError, match="^activation"):  # a callable without a derivative: GP kernel only
        rntk_sym.ntk("ffnet", 0.3, 2, activation=np.tanh)
    assert -1 <= rntk_sym.gp("ffnet", 0.3, 2, activation=np.tanh) <= 1
    with pytest.raises(ValueError, match="^certified"):
        rntk_sym.ntk("ffnet", "0.3", 2, activation=sp.tanh(z), digits=20, certified=True)
    with pytest.raises(ValueError, match="^activation"):  # float-only callables cannot give digits
        rntk_sym.gp("ffnet", "0.3", 1, activation=np.tanh, digits=20)


@pytest.mark.slow
def test_user_activation_digits():
    # digits=D by mpmath quadrature: a user sin against the closed form at 40 digits (L = 1, about a minute)
    kv = rntk_sym.ntk("ffnet", "0.3", 1, activation=sp.sin(z), bias_var="0.1", digits=15)
    ref = rntk_sym.ntk("ffnet", "0.3", 1, activation="sin", bias_var="0.1", digits=40)
    assert abs(kv.value - ref.value) <= kv.error + mpmath.mpf(10) ** -15 * abs(ref.value)
