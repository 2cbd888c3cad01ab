"""Convergence forms of users' own sequences a(L): rate fitting with model selection, and
extrapolation to the limit when the error has log L terms (plain Richardson is wrong then: docs/asymptotics.md).

Symbols (docs/model.md, section 4 "Rates"): ``L`` = depths L_i (integers or numbers > 1), ``err`` = ``e(L_i) =
|a(L_i) - limit|``, ``values`` = a(L_i). A term ``(p, q)`` is ``L^-p (log L)^q``.

- :func:`fit_rate`: ``e(L) ~ c L^-p (log L)^q`` by least squares on
  ``log e = log c - p log L + q log log L`` for each candidate ``q`` (and ``p`` free or from a list of
  candidates); every candidate is returned with its residual, so the user sees which form fits and
  by how much. A second, independent reading of ``(p, q)`` from the local slopes is attached.
- :func:`extrapolate`: ``a(L) = limit + sum_k c_k L^-p_k (log L)^q_k`` solved for ``limit`` and
  ``c_k`` in high precision, with an error estimate and the form assumed.
- :func:`richardson`: plain Richardson (Neville in ``h = 1/L``, pure powers), for comparison.

All arithmetic is in a private ``mpmath.MPContext`` (never the global ``mp``), in logarithms where
values can be tiny, so ``e = 1e-400`` neither underflows nor loses digits.
"""
from __future__ import annotations

import numbers
import warnings
from dataclasses import dataclass, field
from fractions import Fraction

import mpmath

from . import inputs

FIT_DPS = 30


def _context(dps: int) -> mpmath.MPContext:
    ctx = mpmath.MPContext()
    ctx.dps = dps
    return ctx


def _number(ctx, name: str, x):
    """``x`` (mpf of any context, float, int, decimal string, Fraction, or a KernelValue) in ``ctx``."""
    if hasattr(x, "value") and hasattr(x, "error"):  # a KernelValue
        x = x.value
    if hasattr(x, "_mpf_"):
        if not mpmath.isfinite(x):
            raise ValueError(f"{name}: must be finite numbers, got {x!r}")
        return ctx.mpf(x)
    f = inputs.exact_number(name, x)
    return ctx.mpf(f.numerator) / f.denominator


def _fmt_exp(x) -> str:
    """An exact exponent as text: ``1``, ``0.5``, ``1/3``."""
    f = Fraction(x)
    if f.denominator == 1:
        return str(f.numerator)
    d = f.denominator
    while d % 2 == 0:
        d //= 2
    while d % 5 == 0:
        d //= 5
    return f"{float(f):g}" if d == 1 and len(f"{float(f):g}") < 12 else str(f)


def term_str(p, q) -> str:
    """``L^-p (log L)^q`` as text, e.g. ``term_str(1, 1) == "L^-1 (log L)^1"`` (a string ``p`` is kept)."""
    s = f"L^-{p if isinstance(p, str) else _fmt_exp(p)}"
    return s if q == 0 else f"{s} (log L)^{_fmt_exp(q)}"


def _depths(ctx, L, n_min: int):
    if isinstance(L, (str, bytes)) or not hasattr(L, "__len__"):
        raise ValueError(f"L: must be a sequence of depths > 1, got {L!r}")
    Ls = [_number(ctx, "L", x) for x in L]
    if len(Ls) < n_min:
        raise ValueError(f"L: must have at least {n_min} depths, got {len(Ls)}")
    if any(x <= 1 for x in Ls):
        raise ValueError("L: must be depths > 1 (log log L is used)")
    if any(b <= a for a, b in zip(Ls, Ls[1:])):
        raise ValueError("L: must be strictly increasing")
    return Ls


def _lstsq_line(ctx, xs, ys):
    """Least squares ``y = a + b x``: returns ``(a, b)``."""
    n = len(xs)
    mx, my = ctx.fsum(xs) / n, ctx.fsum(ys) / n
    sxx = ctx.fsum((x - mx) ** 2 for x in xs)
    if sxx == 0:
        return my, ctx.zero
    b = ctx.fsum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx
    return my - b * mx, b


@dataclass(frozen=True)
class RateCandidate:
    """One fitted form ``c L^-p (log L)^q``. ``p_fitted``: whether ``p`` was fitted (else fixed);
    ``residual``: max over the points of ``|c L^-p (log L)^q / e(L) - 1|``; ``rms_log``: root mean
    square of ``log(fit / e)``."""

    form: str
    c: mpmath.mpf
    p: float
    q: float
    p_fitted: bool
    residual: float
    rms_log: float


@dataclass(frozen=True)
class RateFit:
    """The selected form (smallest ``residual``) and every candidate, best first.

    ``margin``: residual of the runner-up over the best one (near 1: the data do not decide).
    ``slope_p``, ``slope_q``: ``(p, q)`` read from the local slopes
    ``s_i = -Delta log e / Delta log L``, which for ``e = c L^-p (log L)^q`` equal exactly
    ``p - q Delta log log L / Delta log L``; a line fitted through them gives ``p`` and a real ``q``,
    a check independent of the candidate list. ``local_slopes``: ``[(L_i, L_{i+1}, s_i)]``.
    """

    form: str
    c: mpmath.mpf
    p: float
    q: float
    residual: float
    margin: float
    candidates: list[RateCandidate]
    slope_p: float | None
    slope_q: float | None
    local_slopes: list[tuple[float, float, float]] = field(repr=False)
    warnings: tuple[str, ...] = ()

    @property
    def consistent(self) -> bool:
        """Whether the local-slope reading agrees with the selected ``q`` (within 1/2)."""
        return self.slope_q is not None and abs(self.slope_q - self.q) < 0.5


def fit_rate(L, err, *, log_powers=(0, 1, 2), powers=None, dps: int = FIT_DPS) -> RateFit:
    """Fit ``e(L) ~ c L^-p (log L)^q`` and select the form that fits best.

    ``L``: increasing depths L_i > 1; ``err``: e(L_i) != 0 (signs ignored; mpf of any size, floats,
    decimal strings). ``log_powers``: candidate ``q``; ``powers``: None to fit ``p`` freely (then
    ``len(L) >= 3``), or a list of candidate ``p`` (each ``(p, q)`` pair is then a candidate with
    only ``c`` fitted). The candidate with the smallest max relative residual is selected.

    A fit is always returned, but when the data look like noise rather than a rate, ``warnings`` says
    why (each also issued by ``warnings.warn``): ``err`` changes sign; ``|err|`` changes direction more
    than once (no ``c L^-p (log L)^q`` does: its log-derivative ``(q / log L - p) / L`` changes sign
    at most once); the best form misses a point by more than NOISE_RESIDUAL relatively; or the fitted
    ``p`` is <= 0 (the error does not decay).
    """
    ctx = _context(dps)
    Ls = _depths(ctx, L, 3 if powers is None else 2)
    if isinstance(err, (str, bytes)) or not hasattr(err, "__len__") or len(err) != len(Ls):
        raise ValueError(f"err: must be a sequence of the same length as L ({len(Ls)})")
    signed = [_number(ctx, "err", e) for e in err]
    es = [abs(e) for e in signed]
    if any(e == 0 for e in es):
        raise ValueError("err: must be nonzero (log |err| is fitted)")
    qs = [inputs.exact_number("log_powers", q) for q in log_powers]
    if not qs:
        raise ValueError("log_powers: must be a non-empty list of numbers")
    ps = None if powers is None else [inputs.exact_number("powers", p) for p in powers]
    if ps is not None and not ps:
        raise ValueError("powers: must be None (p fitted) or a non-empty list of numbers")
    x = [ctx.log(v) for v in Ls]
    z = [ctx.log(v) for v in x]
    y = [ctx.log(e) for e in es]

    cands = []
    for q in qs:
        qm = ctx.mpf(q.numerator) / q.denominator
        yq = [yi - qm * zi for yi, zi in zip(y, z)]
        if ps is None:
            a, b = _lstsq_line(ctx, x, yq)
            fits = [(-b, f"{float(-b):.4g}", a)]
        else:
            fits = []
            for p in ps:
                pm = ctx.mpf(p.numerator) / p.denominator
                fits.append((pm, p, ctx.fsum(yi + pm * xi for yi, xi in zip(yq, x)) / len(x)))
        for pm, p_text, a in fits:
            r = [a - pm * xi + qm * zi - yi for xi, zi, yi in zip(x, z, y)]
            resid = max(abs(ctx.expm1(ri)) for ri in r)
            rms = ctx.sqrt(ctx.fsum(ri * ri for ri in r) / len(r))
            form = "c " + term_str(p_text, q)
            cands.append(RateCandidate(form, ctx.exp(a), float(pm), float(q), ps is None, float(resid), float(rms)))
    cands.sort(key=lambda c: (c.residual, c.q))
    best = cands[0]
    margin = cands[1].residual / best.residual if len(cands) > 1 and best.residual > 0 else float("inf")

    slopes = [(-(y[i + 1] - y[i]) / (x[i + 1] - x[i]), (z[i + 1] - z[i]) / (x[i + 1] - x[i]))
              for i in range(len(x) - 1)]
    local = [(float(Ls[i]), float(Ls[i + 1]), float(s)) for i, (s, _) in enumerate(slopes)]
    slope_p = slope_q = None
    if len(slopes) >= 2:
        a, b = _lstsq_line(ctx, [w for _, w in slopes], [s for s, _ in slopes])
        slope_p, slope_q = float(a), float(-b)
    notes = _noise_warnings(signed, es, best)
    for note in notes:
        warnings.warn(note, UserWarning, stacklevel=2)
    return RateFit(best.form, best.c, best.p, best.q, best.residual, margin, cands, slope_p, slope_q, local, notes)


NOISE_RESIDUAL = 0.5  # a best fit missing a point by more than 50% describes no rate


def _noise_warnings(signed, es, best: RateCandidate) -> tuple[str, ...]:
    """Why the data ``err`` (signed) look like noise rather than ``c L^-p (log L)^q`` (see :func:`fit_rate`)."""
    notes = []
    if any(a * b < 0 for a, b in zip(signed, signed[1:])):
        notes.append("fit_rate: err changes sign between depths: |err| of an oscillating or noisy sequence "
                     "follows no power law (is the limit right?)")
    steps = [b - a for a, b in zip(es, es[1:]) if b != a]
    if sum(1 for a, b in zip(steps, steps[1:]) if a * b < 0) > 1:
        notes.append("fit_rate: |err| changes direction more than once, which no c L^-p (log L)^q does: noise")
    if best.residual > NOISE_RESIDUAL:
        notes.append(f"fit_rate: the best form {best.form} misses a point by {best.residual:.0%}: "
                     "no single rate fits these data")
    if best.p_fitted and best.p <= 0:
        notes.append(f"fit_rate: the fitted error does not decay (p = {best.p:.3g}): not a convergence rate")
    return tuple(notes)


@dataclass(frozen=True)
class Extrapolation:
    """``limit`` of a(L) with ``error`` (an estimate, not a bound: ``estimates`` says from what) under
    the assumed ``form``; ``coefficients[k]`` is ``c_k`` of ``terms[k] = (p_k, q_k)``; ``depths``:
    the L_i used."""

    limit: mpmath.mpf
    error: mpmath.mpf
    form: str
    terms: tuple
    coefficients: list
    depths: tuple
    estimates: dict

    def __str__(self) -> str:
        return f"{mpmath.nstr(self.limit, 20)} +/- {mpmath.nstr(self.error, 2)}  [{self.form}]"


def _form(terms) -> str:
    return "limit" + "".join(f" + c{k + 1} {term_str(p, q)}" for k, (p, q) in enumerate(terms))


def _solve(ctx, Ls, vals, terms):
    """``(limit, coefficients, weights)`` of the fit of ``vals`` on ``1, L^-p (log L)^q``: exact
    interpolation when square, least squares otherwise. ``weights``: limit = sum w_i vals_i.

    Columns are scaled to 1 at the largest depth so that the system is well scaled."""
    n, k = len(Ls), len(terms) + 1
    cols = [[ctx.one] * n]
    scale = [ctx.one]
    for p, q in terms:
        pm, qm = ctx.mpf(p.numerator) / p.denominator, ctx.mpf(q.numerator) / q.denominator
        col = [ctx.power(L, -pm) * ctx.power(ctx.log(L), qm) for L in Ls]
        s = col[-1]
        cols.append([c / s for c in col])
        scale.append(s)
    A = ctx.matrix(n, k)
    for i in range(n):
        for j in range(k):
            A[i, j] = cols[j][i]
    At = A.T
    M = At * A if n > k else A
    Minv = ctx.inverse(M)
    W = Minv * At if n > k else Minv  # rows: the linear functionals giving each unknown
    sol = [ctx.fsum(W[j, i] * vals[i] for i in range(n)) for j in range(k)]
    coeffs = [sol[j] / scale[j] for j in range(1, k)]
    return sol[0], coeffs, [W[0, i] for i in range(n)]


def _terms(terms):
    out = []
    for t in terms:
        if isinstance(t, (str, bytes)) or not hasattr(t, "__len__") or len(t) != 2:
            raise ValueError(f"terms: must be a list of (p, q) pairs, got {t!r}")
        p, q = inputs.exact_number("terms", t[0]), inputs.exact_number("terms", t[1])
        if p <= 0:
            raise ValueError(f"terms: powers p must be > 0 (the terms must vanish as L -> oo), got {t!r}")
        out.append((p, q))
    if not out:
        raise ValueError("terms: must have at least one (p, q) pair")
    if len(set(out)) != len(out):
        raise ValueError("terms: must not repeat a (p, q) pair")
    return out


def extrapolate(L, values, terms=((1, 1), (1, 0)), *, window: int | None = None, errors=None,
                digits: int = 30) -> Extrapolation:
    """Limit of ``a(L) = limit + sum_k c_k L^-p_k (log L)^q_k`` (``terms = [(p_k, q_k), ...]``).

    ``L``: increasing depths L_i > 1; ``values``: a(L_i) (KernelValue, mpf, float, decimal string).
    Uses the ``window`` largest depths (default ``len(terms) + 1``: exact interpolation; more: least
    squares). ``errors``: optional absolute errors of ``values`` (taken from KernelValues when not
    given), propagated through the linear solve. ``digits``: working precision (plus guard digits).

    ``error`` = max of (a) the change of the limit when the window moves one depth down ("shift")
    and (b) the change when the last term is dropped ("drop_term"), plus (c) the propagated input
    error ("noise"); each is in ``estimates``. (a) and (b) measure the truncation of the assumed
    form; they are estimates, which fail when the form misses a term larger than its last one.
    """
    ctx = _context(inputs.digits(digits) + 20)
    ts = _terms(terms)
    Ls = _depths(ctx, L, len(ts) + 1)
    if isinstance(values, (str, bytes)) or not hasattr(values, "__len__") or len(values) != len(Ls):
        raise ValueError(f"values: must be a sequence of the same length as L ({len(Ls)})")
    vals = [_number(ctx, "values", v) for v in values]
    if errors is None:
        errs = [ctx.mpf(v.error) if hasattr(v, "error") and hasattr(v, "value") else ctx.zero for v in values]
    else:
        if len(errors) != len(Ls):
            raise ValueError(f"errors: must be a sequence of the same length as L ({len(Ls)})")
        errs = [abs(_number(ctx, "errors", e)) for e in errors]
    k = len(ts) + 1
    w = k if window is None else window
    if isinstance(w, bool) or not isinstance(w, numbers.Integral) or not k <= w <= len(Ls):
        raise ValueError(
            f"window: must be an integer in [{k}, {len(Ls)}] (terms + 1 .. number of depths), got {window!r}"
        )
    sl = slice(len(Ls) - w, len(Ls))
    limit, coeffs, weights = _solve(ctx, Ls[sl], vals[sl], ts)
    est = {"noise": ctx.fsum(abs(wi) * e for wi, e in zip(weights, errs[sl]))}
    if len(Ls) > w:
        sh = slice(len(Ls) - w - 1, len(Ls) - 1)
        est["shift"] = abs(_solve(ctx, Ls[sh], vals[sh], ts)[0] - limit)
    if len(ts) > 1:
        dr = slice(len(Ls) - w + 1 if w == k else len(Ls) - w, len(Ls))
        est["drop_term"] = abs(_solve(ctx, Ls[dr], vals[dr], ts[:-1])[0] - limit)
    trunc = max([est[n] for n in ("shift", "drop_term") if n in est], default=ctx.inf)
    err = trunc + est["noise"]
    return Extrapolation(limit, err, _form(ts), tuple(ts), coeffs, tuple(Ls[sl]), est)


def richardson(L, values, order: int | None = None, *, digits: int = 30) -> Extrapolation:
    """Plain Richardson extrapolation: Neville's scheme in ``h = 1/L`` on the ``order + 1`` largest
    depths, i.e. ``a(L) = limit + sum_{j=1..order} c_j L^-j`` (no log terms). ``error`` is the usual
    estimate ``|R_order - R_(order-1)|``. Given for comparison: it is wrong when a(L) has log L terms.
    """
    ctx = _context(inputs.digits(digits) + 20)
    Ls = _depths(ctx, L, 2)
    if isinstance(values, (str, bytes)) or not hasattr(values, "__len__") or len(values) != len(Ls):
        raise ValueError(f"values: must be a sequence of the same length as L ({len(Ls)})")
    m = len(Ls) - 1 if order is None else order
    if isinstance(m, bool) or not isinstance(m, numbers.Integral) or not 1 <= m <= len(Ls) - 1:
        raise ValueError(f"order: must be an integer in [1, {len(Ls) - 1}], got {order!r}")
    h = [1 / v for v in Ls[-(m + 1):]]
    T = [_number(ctx, "values", v) for v in values[-(m + 1):]]
    # Neville at h = 0: after pass j, T[i] is the degree-j interpolant through h[i..i+j]; ``prev``
    # keeps the degree-(m-1) one through the m largest depths.
    for j in range(1, m + 1):
        prev = T[-1]
        T = [(h[i] * T[i + 1] - h[i + j] * T[i]) / (h[i] - h[i + j]) for i in range(len(T) - 1)]
    limit = T[0]
    err = abs(limit - prev)
    terms = tuple((Fraction(j), Fraction(0)) for j in range(1, m + 1))
    return Extrapolation(limit, err, "Richardson: " + _form(terms), terms, [], tuple(Ls[-(m + 1):]),
                         {"richardson": err})


@dataclass(frozen=True)
class ExponentialFit:
    """``e(L) ~ c L^k r^L`` fitted by least squares on ``log e = log c + k log L + L log r``: ``r`` the base
    (``< 1``: the error decays), ``k`` the power of the prefactor (fitted or fixed), ``residual`` the max
    over the points of ``|fit / e - 1|``, ``r_error`` the change of ``r`` when the fit moves one point down
    (drops the largest depth): an estimate, from the data alone."""

    form: str
    c: mpmath.mpf
    r: mpmath.mpf
    k: float
    residual: float
    r_error: mpmath.mpf


def _exp_lstsq(ctx, Ls, y, k):
    """``(log c, k, log r)``: least squares of ``y`` on ``1, L`` (``k`` fixed) or ``1, log L, L`` (``k`` None)."""
    if k is not None:
        a, b = _lstsq_line(ctx, Ls, [yi - k * ctx.log(L) for yi, L in zip(y, Ls)])
        return a, ctx.mpf(k), b
    A = ctx.matrix([[1, ctx.log(L), L] for L in Ls])
    sol = ctx.lu_solve(A.T * A, A.T * ctx.matrix(y))
    return sol[0], sol[1], sol[2]


def fit_exponential(L, err, *, power=None, dps: int = FIT_DPS) -> ExponentialFit:
    """Fit ``e(L) ~ c L^k r^L`` (a geometric rate ``r``, as in the ordered and chaotic phases of
    docs/asymptotics.md section 8). ``L``: increasing depths (any numbers > 1); ``err``: e(L_i) != 0 (signs
    ignored); ``power``: a fixed ``k`` (e.g. 1 for ``B L chi_1^L``), or None to fit it too (then at least 4
    depths). The estimate ``r_error`` compares the fit without the largest depth."""
    ctx = _context(dps)
    k = None if power is None else inputs.exact_number("power", power)
    Ls = _depths(ctx, L, 3 if k is not None else 4)
    if isinstance(err, (str, bytes)) or not hasattr(err, "__len__") or len(err) != len(Ls):
        raise ValueError(f"err: must be a sequence of the same length as L ({len(Ls)})")
    es = [abs(_number(ctx, "err", e)) for e in err]
    if any(e == 0 for e in es):
        raise ValueError("err: must be nonzero (log |err| is fitted)")
    km = None if k is None else ctx.mpf(k.numerator) / k.denominator
    y = [ctx.log(e) for e in es]
    a, kk, b = _exp_lstsq(ctx, Ls, y, km)
    a2, _, b2 = _exp_lstsq(ctx, Ls[:-1], y[:-1], km)
    resid = max(abs(ctx.expm1(a + kk * ctx.log(x) + b * x - yi)) for x, yi in zip(Ls, y))
    r = ctx.exp(b)
    kt = "" if kk == 0 else (" L" if kk == 1 else f" L^{float(kk):.4g}")
    return ExponentialFit(f"c{kt} ({mpmath.nstr(r, 6)})^L", ctx.exp(a), r, float(kk), float(resid),
                          abs(ctx.exp(b2) - r))


__all__ = ["RateCandidate", "RateFit", "Extrapolation", "ExponentialFit", "fit_rate", "fit_exponential",
           "extrapolate", "richardson", "term_str"]
