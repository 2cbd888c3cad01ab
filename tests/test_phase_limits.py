"""Depth limits of the normalized kernels in the ordered phase for general activations (docs/asymptotics.md,
section 8, derived there; Xiao, Pennington, Schoenholz 2020, arXiv 1912.13053, for the limit itself), against the
exact recursion rntk_sym.general.kernel at 40 digits:

- smooth phi: ``1 - NTK_L = (A' + B L) chi_1^L`` with ``B = A (1 - chi_1 + kappa/chi_1)/chi_1``, ``A`` the GP
  kernel's ``lim (1 - GP_L)/chi_1^L`` and ``kappa = sigma_w^2 q* E[phi''^2]`` (from Price's theorem: the one-sided
  derivative of ``Ed(q*, q*, c)`` in ``c`` at the diagonal, here by mpmath.diff);
- kinked phi (leaky relu with a bias): ``1 - NTK_L ~ C chi_1^(L/2)``,
  ``C = sigma_w^2 (a - b)^2 sqrt(2 A) / (2 pi chi_1^(3/2) (1 - sqrt chi_1))``: half the GP kernel's rate."""
import mpmath
import pytest

from rntk_sym import general
from rntk_sym.activations import get_activation
from rntk_sym.phase import phase


def one_minus(act, w, b, L, kernel):
    v = general.kernel("ffnet", "0.5", L, kernel=kernel, activation=act, weight_var=w, bias_var=b, digits=40)
    return 1 - v.value


def test_smooth_ordered_ntk_rate_constant():
    act, w, b = "erf", "0.5", "0.05"
    p = phase(act, w, b, digits=30)
    with mpmath.workdps(40):
        qs, chi = p.q_star.value, p.chi_1.value
        ed = get_activation(act)
        kappa = mpmath.mpf(w) * qs * -mpmath.diff(lambda g: ed.expectations(qs, qs, g, "mp")[1], 0, direction=1)
        A = one_minus(act, w, b, 50, "gp") / chi ** 50  # converged to O(chi^50) ~ 1e-14
        r = [one_minus(act, w, b, L, "ntk") / chi ** L for L in (40, 50)]
        slope = (r[1] - r[0]) / 10
        predicted = A * (1 - chi + kappa / chi) / chi
    # the slope's error is O(chi^40) ~ 1e-11 relative; kappa by numerical differentiation: ~1e-20
    assert abs(slope / predicted - 1) < 1e-8


def test_kinked_ordered_ntk_half_rate():
    act, w, b, a_minus_b = "leaky_relu:0.1", "1.5", "0.2", mpmath.mpf("0.1") - 1
    p = phase(act, w, b, digits=30)
    with mpmath.workdps(40):
        chi = p.chi_1.value
        A = one_minus(act, w, b, 120, "gp") / chi ** 120
        C = mpmath.mpf(w) * a_minus_b ** 2 * mpmath.sqrt(2 * A) / (2 * mpmath.pi * chi ** 1.5 * (1 - mpmath.sqrt(chi)))
        ratio = [one_minus(act, w, b, L, "ntk") / chi ** (L / 2) / C for L in (60, 120)]
    # the remainder is O(chi^(L/2)) relative: 2.4e-4 at L = 60, 6e-8 at 120 (measured: the ratio moves by
    # 2e-4 between them)
    assert abs(ratio[1] - 1) < 1e-5 and abs(ratio[1] - 1) < abs(ratio[0] - 1)
    assert p.phase == "ordered"


@pytest.mark.parametrize("act,w,b", [("erf", "1.5", "0.05")])
def test_chaotic_limits(act, w, b):
    # GP -> c* at rate chi_{c*}; NTK -> 0 at rate 1/chi_1 (docs/asymptotics.md, 8.2); float64 recursion
    p = phase(act, w, b)
    cs, chic, chi = float(p.c_star), float(p.chi_c_star), float(p.chi_1)
    g = [float(general.kernel("ffnet", 0.5, L, kernel="gp", activation=act, weight_var=w, bias_var=b)) - cs
         for L in (300, 400)]
    n = [float(general.kernel("ffnet", 0.5, L, activation=act, weight_var=w, bias_var=b)) for L in (600, 800)]
    # per-layer ratios: GP over 100 layers, corrections O(chi_{c*}^300) ~ 1e-4 relative, float64 rounding of
    # GP - c* (3e-7 at L = 400) ~ 1e-9; NTK over 200 layers, corrections O(L chi_{c*}^L) ~ 6e-6 at L = 600
    assert (g[1] / g[0]) ** 0.01 == pytest.approx(chic, rel=1e-5)
    assert (n[1] / n[0]) ** 0.005 == pytest.approx(1 / chi, rel=1e-6)
