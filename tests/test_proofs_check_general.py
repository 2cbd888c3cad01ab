"""proofs_check.general_mc (``rntk verify``): passes on the package's generalized recursion and fails on a
wrong one (the bias variance dropped from the kernel). Source: docs/activations.md."""
from proofs_check import general_mc
from rntk_sym import general


def test_general_mc_passes():
    c = general_mc.check(quick=True)
    assert c.status == "pass", c.evidence["failed"]


def test_general_mc_fails_on_a_wrong_kernel():
    def no_bias(*args, bias_var=None, **kw):  # a recursion that ignores the biases
        return general.kernel(*args, bias_var=0, **kw)

    c = general_mc.check(quick=True, kernel=no_bias)
    assert c.status == "fail" and c.evidence["failed"]
