"""Rate fitting and extrapolation for users' sequences (issue 5, item 5; rntk_sym/rates.py).

Sources: synthetic sequences built here from their definition (known limit and terms, independent of
the package's kernels); the FFNet limit 1/4 is seed 002, Theorem 6 (docs/model.md section 2); the
coefficient 3/8 of log L / L is the derived expansion Omegabar_L = 1/4 + (3/8) log L / L + B1 / L + ...
(issue 5), which this test only confirms numerically to about 1%.
"""
import mpmath
import pytest

import rntk_sym
from rntk_sym.rates import extrapolate, fit_rate, richardson

CTX = mpmath.MPContext()
CTX.dps = 50


def depths(k0, k1):
    return [2**k for k in range(k0, k1 + 1)]


def pure(c, p, q, Ls, scale=1):
    c, p, q = CTX.mpf(c), CTX.mpf(p), CTX.mpf(q)
    return [scale * c * CTX.power(L, -p) * CTX.power(CTX.log(L), q) for L in Ls]


@pytest.mark.parametrize("p,q", [(1, 0), (1, 1), (2, 1), ("0.5", 2), ("1.5", 0)])
def test_fit_rate_selects_the_true_log_power(p, q):
    Ls = depths(4, 16)
    fit = fit_rate(Ls, pure(3, p, q, Ls))
    assert fit.q == q and abs(fit.p - float(p)) < 1e-12 and abs(fit.c - 3) < 1e-10
    assert fit.residual < 1e-20
    # every wrong q is rejected by a wide margin, and the local slopes read the same (p, q)
    assert all(c.residual > 1e-3 for c in fit.candidates if c.q != q)
    assert fit.margin > 1e10 and fit.consistent
    assert abs(fit.slope_q - q) < 1e-10 and abs(fit.slope_p - float(p)) < 1e-10


def test_fit_rate_tiny_mpmath_values_do_not_underflow():
    """e(L) ~ 1e-400: below the float64 range; the fit must work in logarithms."""
    Ls = depths(3, 12)
    fit = fit_rate(Ls, pure(7, 2, 1, Ls, scale=CTX.mpf("1e-400")))
    assert fit.q == 1 and abs(fit.p - 2) < 1e-12
    assert abs(fit.c / CTX.mpf("7e-400") - 1) < 1e-12


def test_fit_rate_fixed_powers_and_a_subleading_term():
    Ls = depths(10, 20)
    # e = L^-2 log L (1 + 0.5 / log L): q = 1 should still win among p in {1, 2}, q in {0, 1, 2}
    e = [a * (1 + CTX.mpf("0.5") / CTX.log(L)) for a, L in zip(pure(1, 2, 1, Ls), Ls)]
    fit = fit_rate(Ls, e, powers=[1, 2])
    assert (fit.p, fit.q) == (2, 1) and fit.form == "c L^-2 (log L)^1"
    assert len(fit.candidates) == 6 and fit.margin > 3
    assert {(c.p, c.q): c.form for c in fit.candidates}[(1, 0)] == "c L^-1"
    # half the spread of 0.5 / log L over the range (0.036): the subleading term shows, it is not hidden
    assert 0.01 < fit.residual < 0.03


@pytest.mark.parametrize("kwargs,name", [
    (dict(L=[4, 2, 8], err=[1, 1, 1]), "L"), (dict(L=[1, 2, 4], err=[1, 1, 1]), "L"),
    (dict(L=[2, 4, 8], err=[1, 0, 1]), "err"), (dict(L=[2, 4, 8], err=[1, 1]), "err"),
    (dict(L=[2, 4, 8], err=[1, 1, 1], log_powers=["x"]), "log_powers"),
])
def test_fit_rate_bad_input(kwargs, name):
    with pytest.raises(ValueError, match=f"^{name}:"):
        fit_rate(**kwargs)


LIMIT = CTX.mpf(2)


def synthetic(Ls):
    """a(L) = 2 + 0.7 log L / L - 1.3 / L + 0.5 log L / L^2 + 0.2 / L^2 + 3 (log L)^2 / L^3."""
    out = []
    for L in Ls:
        L, g = CTX.mpf(L), CTX.log(L)
        out.append(LIMIT + CTX.mpf("0.7") * g / L - CTX.mpf("1.3") / L + CTX.mpf("0.5") * g / L**2
                   + CTX.mpf("0.2") / L**2 + 3 * g**2 / L**3)
    return out


def test_extrapolate_exact_form_recovers_limit_and_coefficients():
    Ls = depths(3, 12)
    a = [v - 3 * CTX.log(L) ** 2 / CTX.mpf(L) ** 3 for v, L in zip(synthetic(Ls), Ls)]  # exactly 4 terms
    ex = extrapolate(Ls, a, [(1, 1), (1, 0), (2, 1), (2, 0)], digits=30)
    assert abs(ex.limit - LIMIT) < 1e-35
    for got, want in zip(ex.coefficients, ["0.7", "-1.3", "0.5", "0.2"]):
        assert abs(got - CTX.mpf(want)) < 1e-25


def test_extrapolate_error_estimate_covers_a_missing_term():
    Ls = depths(4, 16)
    ex = extrapolate(Ls, synthetic(Ls), [(1, 1), (1, 0), (2, 1), (2, 0)])
    true = abs(ex.limit - LIMIT)
    assert true <= ex.error < 1e4 * true  # covers, and is not vacuous
    assert ex.error < 1e-9 and "L^-1 (log L)^1" in ex.form
    assert abs(ex.coefficients[0] - CTX.mpf("0.7")) < 1e-5


def test_richardson_is_wrong_with_a_log_term_and_extrapolate_is_right():
    Ls = depths(4, 16)
    a = synthetic(Ls)
    rich = richardson(Ls, a, order=4)
    ours = extrapolate(Ls, a, [(1, 1), (1, 0), (2, 1), (2, 0)])
    rich_true = abs(rich.limit - LIMIT)
    assert rich_true > 1e-6 and rich_true > 10 * rich.error  # wrong, and its own estimate misses it
    assert abs(ours.limit - LIMIT) <= ours.error < 1e-3 * rich_true
    # on a pure power series Richardson is right: the comparison is fair
    b = [LIMIT + 1 / CTX.mpf(L) - 5 / CTX.mpf(L) ** 2 for L in Ls]
    assert abs(richardson(Ls, b, order=2).limit - LIMIT) < 1e-30


def test_extrapolate_propagates_input_errors():
    Ls = depths(4, 10)
    a = [LIMIT + CTX.log(L) / L for L in Ls]
    errs = [CTX.mpf("1e-20")] * len(Ls)
    ex = extrapolate(Ls, a, [(1, 1)], window=3, errors=errs)
    assert ex.estimates["noise"] > 1e-20
    # a worst-case perturbation within the errors moves the limit by at most the noise estimate
    for sign in (1, -1):
        pert = [v + sign * (-1) ** i * e for i, (v, e) in enumerate(zip(a, errs))]
        moved = abs(extrapolate(Ls, pert, [(1, 1)], window=3).limit - ex.limit)
        assert 1e-22 < moved <= ex.estimates["noise"] * (1 + 1e-10)


@pytest.mark.parametrize("kwargs,name", [
    (dict(terms=[(0, 1)]), "terms"), (dict(terms=[(1, 0), (1, 0)]), "terms"), (dict(terms=[]), "terms"),
    (dict(window=99), "window"), (dict(digits=0), "digits"),
])
def test_extrapolate_bad_input(kwargs, name):
    Ls = depths(2, 8)
    with pytest.raises(ValueError, match=f"^{name}:"):
        extrapolate(Ls, synthetic(Ls), **kwargs)


@pytest.fixture(scope="module")
def ffnet_sequence():
    Ls = depths(1, 12)
    return Ls, [rntk_sym.ntk("ffnet", "0.5", L, digits=30) for L in Ls]


def test_ffnet_limit_and_log_factor(ffnet_sequence):
    """Seed 002 Theorem 6: Omegabar_L -> 1/4; the error has a log L / L term of coefficient ~3/8."""
    Ls, vals = ffnet_sequence
    quarter = CTX.mpf(1) / 4
    ex = extrapolate(Ls, vals, [(1, 1), (1, 0), (2, 2), (2, 1), (2, 0)])
    assert abs(ex.limit - quarter) <= ex.error < 1e-5
    assert abs(ex.coefficients[0] - CTX.mpf(3) / 8) < 0.01
    # plain Richardson claims more accuracy than it has
    rich = richardson(Ls, vals, order=5)
    assert abs(rich.limit - quarter) > 10 * rich.error
    # fitting |Omegabar_L - 1/4| on L >= 256: with p = 1, log factor q = 1 fits far better than 1/L
    tail = slice(7, None)
    err = [v.value - quarter for v in vals[tail]]
    fixed = fit_rate(Ls[tail], err, powers=[1])
    assert fixed.q == 1 and fixed.margin > 5
    by_q = {c.q: c.residual for c in fixed.candidates}
    assert by_q[1] < 0.1 < by_q[0]
    free = fit_rate(Ls[tail], err)
    assert free.q == 1 and abs(free.p - 1) < 0.05 and free.consistent
