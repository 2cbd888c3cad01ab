"""Numbers in and out (issue 18, "numbers and values"): every accepted number type keeps the precision
the result claims, D digits are delivered or refused, nothing is printed beyond its error, and
KernelValue / Expansion behave as numbers and text where users expect it.

References are independent of the code under test: the seed formulas in plain mpmath
(tests/seed_formulas.py, seed 002 / docs/model.md sections 2-3) at a second, higher precision.
"""
import json
import re
import warnings
from fractions import Fraction

import mpmath
import numpy as np
import pytest
import seed_formulas as seed
import sympy as sp

import rntk_sym
from rntk_sym import asymptotics, inputs
from rntk_sym.cli import main
from rntk_sym.kernels import KernelValue, correct_digits


def run_cli(capsys, argv):
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


# ---- 1. SymPy and other number types keep the precision the result claims --------------------------

def test_sympy_rational_is_exact():
    """Issue 18: Rational(1, 3) went through float(), so the 30-digit value differed from digit 20 on."""
    got = rntk_sym.ntk("ffnet", sp.Rational(1, 3), 1000, digits=30)
    exact = rntk_sym.ntk("ffnet", Fraction(1, 3), 1000, digits=30)
    assert abs(got.value - exact.value) <= got.error + exact.error
    # the float64 1/3 is ~1e-17 away, which moves the value far beyond the claimed 30 digits:
    # this is the failure the test catches
    rounded_input = rntk_sym.ntk("ffnet", 1 / 3, 1000, digits=30)
    assert abs(rounded_input.value - exact.value) > 1e3 * (exact.error + rounded_input.error)


@pytest.mark.parametrize("expr,mp_expr,arch,kernel,L", [
    (sp.sqrt(2) / 2, lambda: mpmath.sqrt(2) / 2, "ffnet", "ntk", 300),
    (sp.pi / 4, lambda: mpmath.pi / 4, "resnet", "gp", 200),
    (-sp.exp(-1), lambda: -mpmath.exp(-1), "ffnet", "gp", 50),
])
def test_irrational_sympy_rho_at_40_digits(expr, mp_expr, arch, kernel, L):
    """An irrational SymPy rho at 40 digits against the seed formulas (plain mpmath forward loop /
    backward B recursion, tests/seed_formulas.py) with the number computed by mpmath at 60 digits."""
    got = rntk_sym.kernel(arch, expr, L, kernel=kernel, digits=40, alpha=None if arch == "ffnet" else "0.5")
    with mpmath.workdps(60):
        r, a = mp_expr(), mpmath.mpf("0.5")
        if arch == "ffnet":
            ref = seed.ffnet_ntk_sum_of_products(r, L) if kernel == "ntk" else seed.ffnet_gp(r, L)
        else:
            ref = seed.resnet_ntk_backward(r, L, a) if kernel == "ntk" else seed.resnet_gp(r, L, a)
        # 60 digits: the seed forms lose ~2 log10(1/theta_L) < 6 digits near the fixed point
        assert abs(got.value - ref) <= got.error + mpmath.mpf(10) ** -50
    assert got.correct_digits == 40


def test_exact_number_keeps_every_bit():
    """mpf of a private 50-digit context and SymPy Floats: read from the mantissa, not rounded to
    mpmath's global 53 bits (the old path); irrational SymPy numbers at twice the working digits."""
    ctx = mpmath.MPContext()
    ctx.dps = 50
    x = ctx.mpf(1) / 3
    f = inputs.exact_number("rho", x)
    assert ctx.mpf(f.numerator) / f.denominator == x and f.denominator > 2 ** 150
    g = inputs.exact_number("rho", sp.Float("0.1", 40))
    assert g != Fraction(0.1) and abs(g - Fraction(1, 10)) < Fraction(1, 10 ** 39)
    h = inputs.exact_number("rho", sp.sqrt(2) / 2, digits=30)
    with mpmath.workdps(200):
        assert abs(mpmath.mpf(h.numerator) / h.denominator - mpmath.sqrt(2) / 2) < mpmath.mpf(10) ** -99
    assert inputs.exact_number("rho", np.longdouble(1) / 3) == Fraction(*(np.longdouble(1) / 3).as_integer_ratio())


BAD_NUMBERS = [True, False, np.bool_(True), 1j, np.complex128(0.5), sp.Symbol("x"), sp.I, sp.sqrt(-2), sp.oo,
               sp.nan, sp.zoo, "abc", "nan", "inf", float("nan"), float("inf"), mpmath.mpf("inf"), mpmath.mpc(1, 1),
               sp.cos(1) ** 2 + sp.sin(1) ** 2 - 1, None, object()]


@pytest.mark.parametrize("x", BAD_NUMBERS, ids=repr)
def test_bad_rho_is_rejected_by_name(x):
    for call in (lambda: rntk_sym.ntk("ffnet", x, 10, digits=20),
                 lambda: asymptotics.limit("resnet", x, gamma="0.75"),
                 lambda: inputs.exact_number("rho", x)):
        with pytest.raises(ValueError, match="^rho: must be"):
            call()


@pytest.mark.parametrize("x", [True, np.bool_(False), [True, 0.5], np.array([True]), np.array([0.5j]),
                               np.complex128(0.5)], ids=repr)
def test_bool_and_complex_rejected_in_float64(x):
    for f in (rntk_sym.ntk, rntk_sym.gp):
        with pytest.raises(ValueError, match="^rho: must be"):
            f("ffnet", x, 10)


def test_gamma_and_beta_from_sympy():
    """gamma = Rational(3, 4) is the exact 3/4, as "0.75"; a bool is refused."""
    assert asymptotics.setting("resnet", gamma=sp.Rational(3, 4)) == asymptotics.setting("resnet", gamma="0.75")
    with pytest.raises(ValueError, match="^gamma:"):
        rntk_sym.ntk("resnet", 0.5, 10, gamma=True)


def test_certified_refuses_an_irrational_rho():
    with pytest.raises(ValueError, match="^rho: certified"):
        rntk_sym.ntk("ffnet", sp.sqrt(2) / 2, 10, digits=20, certified=True)


# ---- 2. D digits: delivered, refused, never printed beyond the error --------------------------------

@pytest.mark.parametrize("value,error,digits,n,text", [
    ("0.123456789", "1e-5", 30, 4, "0.1235"),   # half a unit of digit 4 is 5e-5 >= 1e-5; of digit 5, 5e-6 < 1e-5
    ("0.123456789", "4e-6", 30, 5, "0.12346"),  # under half a unit of digit 5 (5e-6)
    ("123.456", "0.4", 30, 3, "123"),         # 0.4 <= 0.5 (half a unit of the units digit)
    ("0.25", "0", 6, 6, "0.250000"),            # exact: the digits asked
    ("0.25", "1e-40", 6, 6, "0.250000"),        # capped at the digits asked
])
def test_decimal_never_beyond_the_error(value, error, digits, n, text):
    """Worked by hand: correct_digits is the largest n with error <= half a unit of the n-th digit."""
    kv = KernelValue(mpmath.mpf(value), mpmath.mpf(error), digits, "test", "test")
    assert kv.correct_digits == n == correct_digits(kv.value, kv.error, digits)
    assert kv.decimal() == text
    assert abs(mpmath.mpf(kv.decimal()) - kv.value) <= kv.decimal_error() - kv.error  # the rounding, in the bound


def test_skip_ahead_refuses_digits_it_does_not_reach(monkeypatch):
    """Issue 18: at depths only the skip-ahead answers, D digits beyond its reach were printed anyway
    (200 digits with error 3.9e-87). With 3 extrapolation levels per segment (instead of 40) the
    segmented orbit reaches a few digits; the request for 30 is refused with the number reached."""
    monkeypatch.setattr(asymptotics, "SEGMENT_LEVELS", 3)
    kw = dict(gamma="0.25", digits=30)
    _, err, _ = asymptotics.skip_ahead("resnet", "0.3", 10 ** 5, **kw)
    with pytest.raises(ValueError, match=r"^digits: at most (\d+) correct digits can be delivered at depth") as e:
        rntk_sym.ntk("resnet", "0.3", 10 ** 5, method="asymptotic", **kw)
    reached = int(re.search(r"at most (\d+)", str(e.value)).group(1))
    assert 0 < reached < 30 and err > mpmath.mpf(10) ** -30
    with pytest.raises(ValueError, match="^digits: at most .* exact recursion would take"):
        rntk_sym.kernel("resnet", "0.3", 10 ** 5, max_seconds=1e-3, **kw)
    # and with the recursion allowed, auto falls back to it and delivers the 30 digits
    assert rntk_sym.ntk("resnet", "0.3", 10 ** 4 + 1, **kw).correct_digits == 30


def test_cli_refuses_digits_not_delivered(capsys, monkeypatch):
    monkeypatch.setattr(asymptotics, "SEGMENT_LEVELS", 3)
    code, out, err = run_cli(capsys, ["kernel", "--arch", "resnet", "--gamma", "0.25", "--rho", "0.3", "--depth",
                                      "100000", "--method", "asymptotic"])
    assert code == 2 and out == "" and re.fullmatch(r"rntk: error: digits: at most \d+ correct digits .*\n", err)


def test_continuum_limit_refuses_200_digits():
    """Issue 18: `rntk limit --arch resnet --rho 0.5 --gamma 0.5 --digits 200` printed 200 digits with
    error 2.9e-133. Now refused, naming the digits reached; 40 are delivered (docs/asymptotics.md 6.2)."""
    with pytest.raises(ValueError, match=r"^digits: at most 1\d\d correct digits can be delivered for the continuum"):
        asymptotics.limit("resnet", "0.5", gamma="0.5", digits=200)
    lim = asymptotics.limit("resnet", "0.5", gamma="0.5", digits=40)
    assert correct_digits(lim.value, lim.error, 40) == 40


def test_rate_prints_each_coefficient_to_its_error(capsys):
    """gamma = 0.4: s_1 and s_2 of the large-tau fit have 12 and 4 digits (sec. 7.4); they were printed
    to 20. Each coefficient is now rounded to the digits its error supports, which JSON reports."""
    code, out, _ = run_cli(capsys, ["rate", "--arch", "resnet", "--gamma", "0.4", "--rho", "0.5", "--json"])
    res = json.loads(out)
    assert code == 0 and res["gamma"] == "0.4" and res["alpha"] is None and res["beta"] is None
    for t in res["terms"]:
        n = len(re.sub(r"^[-0.]*|[.]", "", t["coefficient"].split("e")[0]))  # significant digits printed
        assert n <= t["digits"] <= res["digits"]
        assert t["digits"] == correct_digits(mpmath.mpf(t["coefficient"]), mpmath.mpf(t["error"]), res["digits"]) \
            or n < t["digits"]  # zeros stripped
    assert [t["digits"] < 20 for t in res["terms"]] == [False, True, True]


# ---- 3. What users expected -------------------------------------------------------------------------

def test_kernel_value_is_a_number():
    """Comparison, arithmetic with error propagation, float(), mpmath.mpf(), format specs. The error
    bounds are checked against the same expressions of a 60-digit value (an independent, more precise
    run of the recursion)."""
    a = rntk_sym.ntk("ffnet", "0.5", 100, digits=20)
    ref = rntk_sym.ntk("ffnet", "0.5", 100, digits=60).value
    assert 0.25 < a < Fraction(3, 10) and a <= a.value and a >= mpmath.mpf("0.27") and not a > sp.Rational(1, 3)
    assert a == a.value and a == KernelValue(a.value, 0 * a.error, 5, "x", "x") and a != float(a) + 1e-3
    assert hash(KernelValue(mpmath.mpf(0.25), mpmath.mpf(0), 5, "x", "x")) == hash(0.25)
    assert sorted([a, 0.3, 0.26]) == [0.26, a, 0.3]
    checks = [(3 * a, 3 * ref), (a + Fraction(1, 3), ref + Fraction(1, 3)), (1 - a, 1 - ref),
              (a * a, ref * ref), (a / 7, ref / 7), (2 / a, 2 / ref), (a * a - a / mpmath.mpf(3), ref * ref - ref / 3),
              (-a, -ref), (a - 0.25, ref - mpmath.mpf(0.25)), (abs(0.25 - a), abs(0.25 - ref))]
    for got, want in checks:
        assert isinstance(got, KernelValue) and 0 < got.error < 1e-19
        assert abs(got.value - want) <= got.error
    assert float(a) == float(a.value) and mpmath.mpf(a) == mpmath.mpf(a.value)
    with mpmath.workdps(40):
        assert mpmath.mpf(a) == mpmath.mpf(a.value) != mpmath.mpf(float(a)) and mpmath.sqrt(a) == mpmath.sqrt(a.value)
    for spec in (".5f", ".3e", ".10g", "+.2%", ">12.4f"):
        assert f"{a:{spec}}" == format(float(a), spec)
    assert f"{a:.40f}" == mpmath.nstr(a.value, 40, min_fixed=-100, max_fixed=100)[:42].ljust(42, "0")
    assert f"{a}" == str(a) and str(a).startswith(a.decimal())
    for bad in (True, "0.5", 1j, [1]):
        with pytest.raises(TypeError):
            a + bad
    with pytest.raises(ZeroDivisionError):
        a / KernelValue(mpmath.mpf(0), mpmath.mpf("1e-30"), 5, "x", "x")


def test_complement_where_the_value_rounds_to_one():
    """FFNet GP kernel rho_L -> 1: at L = 20000, 1 - rho_L ~ 1.1e-7 and the 6-digit value prints
    1.00000. 1 - value comes from the recursion's u = 1 - rho (not from the rounded value), checked
    against the seed's forward loop at 60 digits, and the skip-ahead's u agrees with it."""
    L = 20000
    kv = rntk_sym.gp("ffnet", "0.5", L, digits=6)
    assert kv.decimal() in ("1.00000", "0.999999")
    with mpmath.workdps(60):
        ref = 1 - seed.ffnet_gp(mpmath.mpf("0.5"), L)
    c = kv.complement
    assert c.correct_digits == 6 and abs(c.value - ref) <= c.error and c.error < ref * 1e-6
    seg = rntk_sym.gp("ffnet", "0.5", L, digits=6, method="asymptotic").complement
    assert abs(seg.value - ref) <= seg.error and seg.correct_digits == 6
    # the NTK: 1 - value at the working precision, its error the value's (absolute)
    n = rntk_sym.ntk("ffnet", "0.5", 100, digits=20)
    assert abs(n.complement.value - (1 - n.value)) <= n.complement.error + n.error < 1e-20


def test_cli_complement_and_echo(capsys):
    base = ["kernel", "--arch", "ffnet", "--kernel", "gp", "--rho", "0.5", "--depth", "20000", "--digits", "6"]
    code, out, _ = run_cli(capsys, base + ["--json"])
    res = json.loads(out)
    assert code == 0 and res["value"] in ("1.00000", "0.999999") and res["correct_digits"] == 6
    assert mpmath.mpf(res["one_minus_value"]) > 1e-7 and res["gamma"] is None
    code, out, _ = run_cli(capsys, base)
    assert "1 - value  1.1" in out
    code, out, _ = run_cli(capsys, ["kernel", "--arch", "resnet", "--gamma", "0.250", "--rho", "0.5", "--depth", "10",
                                    "--json"])
    res = json.loads(out)
    assert res["gamma"] == "0.250" and "one_minus_value" not in res
    code, out, _ = run_cli(capsys, ["kernel", "--arch", "resnet", "--rho", "0.5", "--depth", "10", "--complement",
                                    "--json"])
    res = json.loads(out)
    assert mpmath.mpf(res["one_minus_value"]) + mpmath.mpf(res["value"]) == 1  # both exact decimals of 30 digits
    code, out, _ = run_cli(capsys, ["limit", "--arch", "resnet", "--beta", "1.50", "--rho", "0.5", "--json"])
    res = json.loads(out)
    assert code == 0 and (res["beta"], res["gamma"], res["alpha"]) == ("1.50", None, None) and res["digits"] == 30


def test_digits_with_an_array_of_rho():
    rhos = np.array([["0.5", "-0.25"], [sp.Rational(1, 3), 0.75]], dtype=object)
    got = rntk_sym.ntk("resnet", rhos, 50, gamma="0.5", digits=25)
    assert isinstance(got, np.ndarray) and got.dtype == object and got.shape == (2, 2)
    for idx, r in np.ndenumerate(rhos):
        one = rntk_sym.ntk("resnet", r, 50, gamma="0.5", digits=25)
        assert isinstance(got[idx], KernelValue) and got[idx] == one
    assert rntk_sym.gp("ffnet", [0.5, 0.25], 10, digits=10).shape == (2,)
    assert rntk_sym.ntk("ffnet", np.array(0.5), 10, digits=10) == rntk_sym.ntk("ffnet", 0.5, 10, digits=10)


def test_expansion_str():
    """docs/asymptotics.md sec. 3-4: Omegabar_L = 1/4 + (3/8) log L / L + B1 / L + (9/16) log L / L^2 + B2 / L^2."""
    ex = asymptotics.expansion("ffnet", "0.5")
    text = str(ex)
    m = re.fullmatch(r"Omegabar_L = 1/4 \+ \(3/8\) L\^-1 log L \+ (\S+) L\^-1 \+ \(9/16\) L\^-2 log L - (\S+) L\^-2 "
                     r"\+ O\(log\(L\)\^2 / L\^3\)", text)
    assert m, text
    b1, b2 = ex.terms[1].coefficient, ex.terms[3].coefficient
    assert abs(mpmath.mpf(m.group(1)) - b1) <= 1e-8 * abs(b1) and abs(-mpmath.mpf(m.group(2)) - b2) <= 1e-8 * abs(b2)
    small = str(asymptotics.expansion("resnet", "0.5", gamma="0.75"))
    assert small.startswith("Omegabar_L = 0.47116556 - 0.037187197 L^-(1/2) + ") and small.endswith("+ O(L^(-2))")


def test_fit_rate_warns_on_noise():
    """Issue 18: fit_rate([2, 3, 4], [1, -1, 1]) returned 'c L^-0' silently."""
    with pytest.warns(UserWarning) as rec:
        fit = rntk_sym.rates.fit_rate([2, 3, 4], [1, -1, 1])
    assert fit.form == "c L^-0" and fit.warnings == tuple(str(w.message) for w in rec)
    assert "changes sign" in fit.warnings[0] and "does not decay" in fit.warnings[1]
    with pytest.warns(UserWarning) as rec:
        fit = rntk_sym.rates.fit_rate([2, 4, 8, 16, 32], [1, 0.3, 0.5, 0.1, 0.2])
    assert "changes direction more than once" in fit.warnings[0] and "misses a point by 103%" in fit.warnings[1]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a clean rate, and one rising before it falls (L^-1/2 log^2 L), pass silently
        assert rntk_sym.rates.fit_rate([2, 4, 8, 16], [0.5, 0.25, 0.125, 0.0625]).warnings == ()
        Ls = [2 ** k for k in range(3, 14)]
        assert rntk_sym.rates.fit_rate(Ls, [L ** -0.5 * np.log(L) ** 2 for L in Ls]).q == 2


def test_fixed_step_rate_delivers_high_digits():
    """Issue 18: `rntk rate --arch ffnet --digits 200` printed B1 to 200 digits with error 1.2e-31 (14
    Fatou terms). The number of terms now follows the digits. Check: the orbit constant
    K = lim (Phi(theta_l) - l) does not depend on where the series takes over (docs/asymptotics.md
    sec. 3.3): from l0 = 943 and from 4 l0 = 3772 exact steps (theta 4x smaller) it agrees to the errors."""
    K1, e1 = asymptotics.fixed_step_constant(1, 0, Fraction(1, 2), 120)
    K2, e2 = asymptotics.fixed_step_constant(1, 0, Fraction(1, 2), 120, l0=3772)
    assert abs(K1 - K2) <= e1 + e2 and e1 < abs(K1) * mpmath.mpf(10) ** -120 / 2
    ex = asymptotics.expansion("ffnet", "0.5", digits=120)
    assert [correct_digits(t.coefficient, t.error, 120) for t in ex.terms] == [120] * 4


@pytest.mark.parametrize("flint", [True, False])
@pytest.mark.parametrize("arch,kw", [("ffnet", {}), ("resnet", {"alpha": "0.7"})])
def test_complement_near_the_diagonal(monkeypatch, flint, arch, kw):
    """rho = 1 - 10^-38 exactly: u = 1 - rho is formed from the exact rational (not 1 - rounded rho),
    so 1 - rho_L keeps all 30 digits, in the ball recursion and in the two-precision mpmath path.
    Reference: the seed's GP map (tests/seed_formulas.py) at 120 digits, then 1 - K_L."""
    from rntk_sym import kernels
    if not flint:
        monkeypatch.setattr(kernels, "_has_flint", lambda: False)
    rho, L = "0." + "9" * 38, 10
    kv = rntk_sym.gp(arch, rho, L, digits=30, **kw)
    with mpmath.workdps(120):  # the seed forms cancel: 1 - K_L ~ 1e-38 needs 38 + 30 digits and a margin
        r = mpmath.mpf(rho)
        ref = 1 - (seed.ffnet_gp(r, L) if arch == "ffnet" else seed.resnet_gp(r, L, mpmath.mpf(kw["alpha"])))
        c = kv.complement
        assert abs(c.value - ref) <= c.error and c.correct_digits == 30 and kv.decimal() == "1." + "0" * 29
