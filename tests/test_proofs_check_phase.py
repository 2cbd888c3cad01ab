"""The signal-propagation checks of ``rntk verify`` (proofs_check.schoenholz_depth, xiao_ordered, hayou_eoc) pass
on the package and fail when the thing they check is wrong. Sources: Schoenholz et al. 2017 (arXiv 1611.01232),
Xiao, Pennington, Schoenholz 2020 (arXiv 1912.13053), Hayou, Doucet, Rousseau 2019 (arXiv 1902.06853)."""
import pytest

from proofs_check import eoc_abrelu, eoc_smooth, eoc_zero, hayou_eoc, report, schoenholz_depth, xiao_ordered
from rntk_sym.phase import phase

pytestmark = pytest.mark.slow


def off_by_one_percent(act, w, b):  # the analysis of a network with a 1% larger weight variance
    return phase(act, float(w) * 1.01, b)


@pytest.mark.parametrize("mod", [schoenholz_depth, xiao_ordered, hayou_eoc, eoc_abrelu, eoc_smooth, eoc_zero])
def test_passes_and_cites(mod):
    c = mod.check(quick=True)
    assert c.status == "pass", c.evidence["failed"]
    assert "arXiv:" in c.source and mod.ID in report.check_ids()


def test_schoenholz_fails_on_wrong_fixed_point():
    c = schoenholz_depth.check(quick=True, analysis=off_by_one_percent)
    assert c.status == "fail" and c.evidence["failed"]


def test_xiao_fails_on_wrong_fixed_point():
    c = xiao_ordered.check(quick=True, analysis=off_by_one_percent)
    assert c.status == "fail" and c.evidence["failed"]


def test_hayou_fails_on_a_wrong_rate():
    c = hayou_eoc.check(quick=True, complement=lambda rho, L: 2 * hayou_eoc.one_minus_rho(rho, L) * (L / 1000) ** 0.05)
    assert c.status == "fail" and c.evidence["failed"]


def test_gamma_diagram_any_activation_passes_and_fails_on_a_wrong_rate():
    # derived claim (docs/asymptotics.md sec. 10): passes on the recursion, fails when the degenerate erf NTK is
    # made to decay at another stretched-exponential rate (log NTK off by 5% of (4/pi) sigma_w sqrt(tau))
    import math

    from proofs_check import resnet_gamma_general as g

    c = g.check(quick=True)
    assert c.status == "pass", c.evidence["failed"]
    assert g.ID in report.check_ids()

    def wrong(L, gamma, net, kernel="ntk"):
        v = g.recursion(L, gamma, net, kernel)
        if gamma == "0.25" and kernel == "ntk":
            return v * math.exp(0.05 * 4 * math.sqrt(1.5) / math.pi * L ** 0.25)
        return v

    c = g.check(quick=True, kernel=wrong)
    assert c.status == "fail" and c.evidence["failed"]
