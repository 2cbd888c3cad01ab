"""The FFNet's edge of chaos at q* = 0 (docs/asymptotics.md sec. 9.3; rntk_sym/eoc_zero.py).

Sources: the derivation of sec. 9.3 (Mehler's expansion of the duals in q, the invariant F(q, c) of one layer, the
formal solution of the NTK recursion); the setting is the edge of chaos of Schoenholz et al. 2017 (arXiv 1611.01232)
at sigma_b^2 = 0. Every derived number is compared with the exact covariance recursion of rntk_sym.general (closed-form
duals, not their Taylor series), and the Taylor series of the maps with SymPy series of the closed-form duals."""
import json
import math
from fractions import Fraction

import mpmath
import pytest
import sympy as sp

from proofs_check import eoc_zero as check_zero
from rntk_sym import eoc_zero
from rntk_sym.activations import get_activation
from rntk_sym.activations.families import Q1, Q2, substitute_helpers
from rntk_sym.activations.families import C as C12
from rntk_sym.cli import main
from rntk_sym.eoc import eoc_expansion, eoc_limit
from rntk_sym.general import kernel
from rntk_sym.phase import phase

ERF = get_activation("erf")


def test_zero_edge_decision():
    # erf, sin, erf(2z) without bias have phi(0) = 0 and a shrinking length map; not with a bias, not gelu (its
    # length map grows from 0: a < 0), not sin with a phase (phi(0) != 0), not relu (no Taylor series: kinked)
    assert eoc_zero.zero_edge(ERF, 0) and eoc_zero.zero_edge(get_activation("sin"), 0)
    assert eoc_zero.zero_edge(get_activation("erf:1,2,0"), 0)
    assert not eoc_zero.zero_edge(ERF, Fraction(1, 20)) and not eoc_zero.zero_edge(get_activation("gelu"), 0)
    assert not eoc_zero.zero_edge(get_activation("sin:1,1,0.5"), 0)


@pytest.mark.parametrize("name", ["erf", "sin"])
def test_maps_against_the_closed_form_duals(name):
    # Mehler's series of sigma_w^2 E(q, q, c q) and sigma_w^2 Ed(q, q, c q) against SymPy's series of the closed forms
    act = get_activation(name)
    q, c = sp.symbols("q c", positive=True)
    w = eoc_zero.edge_weight_var(act)
    sub = {Q1: q, Q2: q, C12: c * q}
    V, e12, chi = eoc_zero.maps(act)
    for poly, closed in ((e12, act.closed.gp), (chi, act.closed.dgp)):
        want = sp.expand(sp.series(w * substitute_helpers(closed).subs(sub), q, 0, 7).removeO())
        got = sum(sp.Rational(v.numerator, v.denominator) * q ** i * c ** j for (i, j), v in poly.items() if i <= 6)
        assert sp.simplify(want - got) == 0


def test_orbit_constants():
    # erf: V(q) = asin(2q/(1+2q))/2 = q - 2 q^2 + (14/3) q^3: a = 2, C_q = 1 - b/a^2 = -1/6; sin: (1 - e^(-2q))/2
    assert eoc_zero.coefficients(ERF)["a"] == 2 and eoc_zero.coefficients(ERF)["C_q"] == Fraction(-1, 6)
    s = eoc_zero.coefficients(get_activation("sin"))
    assert s["a"] == 1 and s["C_q"] == Fraction(1, 3)
    # the invariant's first term: f_1 = -(a/6) c (1 - c^2)  (sec. 9.3)
    assert eoc_zero.invariant(ERF)[0] == {(0, 1): Fraction(-1, 3), (0, 3): Fraction(1, 3)}


def test_invariant_along_the_exact_recursion():
    # F(q_N, c_N) is constant along the 40-digit recursion (N = 100, 1600) while c_N itself moves: the check can fail
    (f1, c1), (f2, c2) = check_zero.invariance("sin", "-0.4")
    assert abs(f1 - f2) < 1e-15 < 1e-6 < abs(c1 - c2)


def test_limit_against_the_deep_recursion():
    # c_inf (20 digits, error 2e-23) against the 30-digit recursion at L = 3000 with the derived GP terms: the rest is
    # O(1/L^2) (measured L^2 residual -0.059, flat from L = 1000 to 64000); bound 0.2/L^2. Without the A/L term the
    # difference would be 2e-5
    lim = eoc_limit("0.5", "erf", 0, kernel="gp", digits=20)
    assert lim.error < 1e-21
    ex = eoc_expansion("0.5", "erf", 0, kernel="gp", digits=20)
    L = 3000
    g = kernel("ffnet", "0.5", L, activation="erf", weight_var="eoc", kernel="gp", digits=30).value
    pred = lim.value + sum(t.coefficient * mpmath.log(L) ** t.log_power / mpmath.mpf(L) ** int(t.power)
                           for t in ex.terms)
    assert abs(g - pred) < 0.2 / L ** 2
    assert abs(g - lim.value) > 100 * 0.2 / L ** 2


def test_ntk_log_slope_and_limit():
    # NTK_L -> c_inf with -2 A log L / L (proofs_check.eoc_zero, quick: erf, float64 L = 1000, 4000)
    c = check_zero.check(quick=True)
    assert c.status == "pass", c.evidence["failed"]


def test_check_fails_on_wrong_coefficients():
    # a synthetic NTK with the log coefficient -A instead of -2A (and a GP without its A/L) must fail the check
    cinf = float(eoc_zero.correlation_limit("0.5", ERF, 16)[0])
    A = cinf * (1 - cinf ** 2) / 6

    def wrong(act, rho, L, k):
        return cinf - A * math.log(L) / L if k == "ntk" else cinf
    c = check_zero.check(quick=True, evaluate=wrong)
    assert any("log-slope" in f for f in c.evidence["failed"]) and any("GP_L" in f for f in c.evidence["failed"])


def test_phase_reports_zero():
    p = phase("erf", "eoc", 0, digits=20)
    assert p.q_star.value == 0 and p.phase == "edge of chaos"
    # sin: V(q) = (1 - e^(-2q))/2 cancels to 0 at the tiny q where phase evaluates the limits (it divided by 0);
    # chi_{c*} -> 1 at q* = 0 (chi(q) and V(q)/q both tend to sigma_w^2 phi'(0)^2), also in the ordered phase
    for w, ph in (("eoc", "edge of chaos"), ("0.5", "ordered")):
        s = phase("sin", w, 0, digits=16)
        assert s.q_star.value == 0 and s.phase == ph and abs(s.chi_c_star.value - 1) < 1e-15
    with mpmath.workdps(40):  # sigma_w^2 phi'(0)^2 = 1: pi/4 for erf
        assert abs(p.chi_1.value - 1) < 1e-19 and abs(p.edge_of_chaos_weight_var.value - mpmath.pi / 4) < 1e-19


def test_cli_limit_and_rate_json(capsys):
    code = main(["limit", "--arch", "ffnet", "--rho", "0.5", "--activation", "erf", "--weight-var", "eoc", "--json"])
    res = json.loads(capsys.readouterr().out)
    cinf = float(res["value"] if "value" in res else res["limit"]["value"])
    code2 = main(["rate", "--arch", "ffnet", "--rho", "0.5", "--activation", "erf", "--weight-var", "eoc", "--json"])
    rate = json.loads(capsys.readouterr().out)
    assert code == code2 == 0 and rate["terms"][0]["log_power"] == 1
    assert abs(float(rate["terms"][0]["coefficient"]) + cinf * (1 - cinf ** 2) / 3) < 1e-15
    with pytest.raises(ValueError, match="^activation: .*phi''\\(0\\)"):  # not odd: not derived
        eoc_zero.correlation_limit("0.5", get_activation("sin:1,1,0.5"))


def test_ntk_constant_against_the_recursion():
    # E (the NTK's 1/L constant, from the homogeneous coefficients at two depths: error < 1e-18) against the 30-digit
    # recursion at L = 2000: the residual after the three terms is O(log^2 L/L^2) (measured 0.047 log^2 L/L^2 from
    # L = 1000 to 256000, erf at rho = 0.5); bound 0.08. E off by 10% would move the residual by more than the bound
    ex = eoc_expansion("-0.3", "erf", 0, digits=20)
    (log_term, e_term), lim = ex.terms, ex.limit
    assert e_term.error < 1e-18 and lim.error < 1e-18
    L = 2000
    n = kernel("ffnet", "-0.3", L, activation="erf", weight_var="eoc", digits=30).value
    res = n - lim.value - log_term.coefficient * mpmath.log(L) / L - e_term.coefficient / L
    assert abs(res) < 0.08 * math.log(L) ** 2 / L ** 2 < 0.1 * abs(e_term.coefficient) / L


def test_figure_labels_the_zero_q_edge():
    # rntk plot eoc prints c_inf(0.5) at erf's bias-free edge: the limit rntk limit gives (10 digits there: 1e-9;
    # the value itself is tested against the recursion above); relu's edge is kinked (1/4), no q* = 0 label
    from rntk_sym.eoc_plot import edge_limits

    e = edge_limits(ERF)
    assert e["edge_kind"] == "smooth" and abs(e["zero_q_limit"] - eoc_limit("0.5", "erf", 0, digits=20).value) < 1e-9
    r = edge_limits(get_activation("relu"))
    assert r["edge_kind"] == "kinked" and r["zero_q_limit"] is None
