"""Signal propagation through the FFNet: the one-point analysis at ``(activation, sigma_w^2, sigma_b^2)``.

Notation of docs/activations.md: ``E(q1, q2, c) = E[phi(u) phi(v)]``, ``Ed(q1, q2, c) = E[phi'(u) phi'(v)]``
(the activation's duals, ``act.expectations``); ``sigma_w^2`` = ``weight_var``, ``sigma_b^2`` = ``bias_var``.
Derivations and sources: docs/phases.md (Poole et al. 2016, arXiv 1606.05340; Schoenholz, Gilmer, Ganguli,
Sohl-Dickstein, "Deep information propagation", arXiv 1611.01232).

- Length map ``V(q) = sigma_w^2 E(q, q, q) + sigma_b^2`` (``E(q, q, q) = E[phi(sqrt q z)^2]``); ``q*`` is the
  limit of its orbit from the unit input's ``q_1 = sigma_w^2 + sigma_b^2`` (``norm`` = ``|x|^2`` = 1), so the fixed
  point the kernels of :mod:`rntk_sym.general` actually reach.
- ``chi_1 = sigma_w^2 Ed(q*, q*, q*)``; the phase is "ordered" (``chi_1 < 1``), "chaotic" (``> 1``) or "edge of
  chaos" (``chi_1 = 1`` within the error bound; exactly for ``weight_var="eoc"``).
- Correlation map ``C(c) = (sigma_w^2 E(q*, q*, c q*) + sigma_b^2) / q*``: ``c = 1`` is always fixed, with slope
  ``chi_1``. ``c*`` is the stable fixed point: 1 in the ordered phase and at the edge of chaos, the largest
  fixed point below 1 in the chaotic phase (the limit of the orbit of every correlation close to 1);
  ``chi_{c*} = sigma_w^2 Ed(q*, q*, c* q*)``.
- Depth scales ``xi_c = -1/log chi_{c*}`` (``|c_l - c*| ~ exp(-l/xi_c)``) and ``xi_1 = -1/log chi_1`` (gradients
  scale as ``chi_1^l = exp(-l/xi_1)``: negative in the chaotic phase, where they grow); both infinite at the edge
  of chaos (``math.inf``).
- ``q* = 0`` (``sigma_b^2 = 0`` and ``phi(0) = 0`` in the ordered phase): the variances vanish; the quantities at
  ``q*`` are the limits ``q -> 0`` (evaluated at ``q = 2^-(3 p)``, p the working precision in bits), and the
  correlation map degenerates to ``E(q, q, c q) / E(q, q, q)``, marginal at ``c = 1``: ``c* = 1``,
  ``chi_{c*} = 1``.

Each number is computed at two precisions (mpmath, scoped ``workprec``) with every root bracketed and refined by
the Illinois method to the working precision; its error is the difference of the two runs (an estimate, form
``|v(p1) - v(p2)|``; the root tolerance of the first run is part of it).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from functools import cache

import mpmath
import sympy as sp

from . import inputs
from .activations import get_activation
from .kernels import LOG2_10, KernelValue, nstr

ORBIT_STEPS = 40  # length-map steps before bracketing: the orbit fixes the basin, the bracket the root
ORBIT_BITS = 64
GUARD_DIGITS = 12
Q_MAX = mpmath.mpf(10) ** 30  # (times max(1, q_1, sigma_b^2)): a length-map orbit beyond this diverges
EOC_PROBES = tuple(2.0 ** (k / 2) for k in range(-16, 33))  # sigma_w^2 from 2^-8 to 2^16: the EOC bracket search


def _fail(name, text):
    return ValueError(f"{name}: {text}")


@cache
def homogeneous_constant(act) -> Fraction | None:
    """``k`` with ``E(q, q, q) = k q`` and ``Ed(q, q, q) = k`` for every q > 0 (positively homogeneous
    activations of degree 1: the ``ab_relu`` family), else None. Then ``V(q) = sigma_w^2 k q + sigma_b^2`` and
    ``chi_1 = sigma_w^2 k``: the edge of chaos is ``sigma_w^2 = 1/k`` exactly, and only for ``sigma_b^2 = 0``."""
    from .activations import families as F

    closed = getattr(act, "closed", None)
    if closed is None or closed.dgp is None:
        return None
    q = sp.Symbol("q", positive=True)
    diag = {F.S: 0, F.TH: 0, F.C: q, F.Q1: q, F.Q2: q}
    k = sp.simplify(closed.gp.subs(diag) / q)
    kd = sp.simplify(closed.dgp.subs(diag))
    if k.free_symbols or not k.is_Rational or sp.simplify(k - kd) != 0:
        return None
    return Fraction(int(k.p), int(k.q))


class _Maps:
    """The length and correlation maps at the current mpmath precision."""

    def __init__(self, act, sw2, sb2):
        self.act, self.sw2, self.sb2 = act, sw2, sb2
        self.tiny = mpmath.ldexp(1, -3 * mpmath.mp.prec)

    def E(self, q, gap=0):
        return self.act.expectations(q, q, gap, "mp")

    def V(self, q):
        return self.sw2 * self.E(q)[0] + self.sb2

    def chi(self, q, gap=0):
        return self.sw2 * self.E(q, gap)[1]


def _illinois(F, a, fa, b, fb, rtol):
    """A root of ``F`` in the bracket ``[a, b]`` (``fa fb <= 0``), to ``|b - a| <= rtol max(|a|, |b|)``."""
    if not fa:
        return a
    if not fb:
        return b
    side = 0
    for _ in range(100000):
        if abs(b - a) <= rtol * max(abs(a), abs(b)):
            break
        c = b - fb * (b - a) / (fb - fa)
        if not (min(a, b) < c < max(a, b)):
            c = (a + b) / 2
        fc = F(c)
        if not fc:
            return c
        if (fc > 0) == (fb > 0):
            b, fb = c, fc
            if side == -1:
                fa /= 2
            side = -1
        else:
            a, fa = b, fb
            b, fb = c, fc
            side = 1
    return b - fb * (b - a) / (fb - fa) if fb != fa else (a + b) / 2


def _length_fixed_point(m: _Maps, q1, rtol):
    """``q*``: the limit of the orbit ``q_{l+1} = V(q_l)`` from ``q1``; ValueError when it diverges or when the
    fixed point it approaches is unstable."""
    try:
        return _length_orbit(m, q1, rtol)
    except ZeroDivisionError:  # a closed form cancelled to 0 at a huge q: the orbit ran away
        raise _fail("weight_var", f"the length map of {m.act.spec} cannot be evaluated along its orbit (q beyond "
                    "the working precision): no finite q* found") from None


def _length_orbit(m: _Maps, q1, rtol):
    scale = max(1, q1, m.sb2)
    qmax = Q_MAX * scale

    def F(q):
        return m.V(q) - q

    with mpmath.workprec(ORBIT_BITS):  # locate the basin cheaply
        q = mpmath.mpf(q1)
        for _ in range(ORBIT_STEPS):
            qn = m.V(q)
            if not mpmath.isfinite(qn) or qn > qmax:
                raise _diverges(m)
            if abs(qn - q) <= rtol * q:
                q = qn
                break
            q = qn
    q = mpmath.mpf(q)
    fq = F(q)
    if abs(fq) <= 4 * rtol * max(q, 1):
        if abs(fq) <= rtol * q or not fq:  # the orbit has settled (e.g. V(q) = q identically)
            return q
    h, up = abs(fq), fq > 0
    a, fa = q, fq
    for _ in range(4000):  # scan in the orbit's direction for the first sign change
        b = a + h if up else a - h
        if not up and b <= q * mpmath.ldexp(1, -8) or b <= 0:
            b = m.tiny  # the orbit goes to 0: is 0 its limit?
            fb = F(b)
            if fb < 0:
                return mpmath.mpf(0)
            return _stable(m, _illinois(F, b, fb, a, fa, rtol), rtol)
        if b > qmax:
            raise _diverges(m)
        fb = F(b)
        if not mpmath.isfinite(fb) or up and b > 2 ** 20 * scale and abs(fb) <= mpmath.ldexp(b, 16 - mpmath.mp.prec):
            raise _diverges(m)  # far out and V(q) - q below its rounding: no root resolved, the orbit runs away
        if (fb > 0) != (fa > 0) or not fb:
            return _stable(m, _illinois(F, a, fa, b, fb, rtol), rtol)
        a, fa, h = b, fb, 2 * h
    raise _diverges(m)


def _stable(m: _Maps, q, rtol):
    slope = mpmath.diff(m.V, q) if q > 0 else None
    if slope is not None and abs(slope) > 1 + mpmath.sqrt(rtol):
        raise _fail("weight_var", f"the length map's fixed point q* = {nstr(q, 8)} of {m.act.spec} is unstable "
                    f"(slope {nstr(slope, 6)}): its orbit does not converge, q* is undefined")
    return q


def _diverges(m: _Maps):
    return _fail("weight_var", f"no finite q*: the length map q -> sigma_w^2 E[phi(sqrt(q) z)^2] + sigma_b^2 of "
                 f"{m.act.spec} diverges at sigma_w^2 = {nstr(m.sw2, 8)}, sigma_b^2 = {nstr(m.sb2, 8)}")


def _correlation_fixed_point(m: _Maps, qs, chi1, rtol):
    """``(c*, chi_{c*})`` in the chaotic phase: the first root below 1 of ``C(c) - c``, in ``u = 1 - c``."""
    e0 = m.E(qs)[0]

    def G(u):  # (1 - C(1 - u)) - u
        return m.sw2 * (e0 - m.E(qs, qs * u)[0]) / qs - u

    a = mpmath.ldexp(1, -mpmath.mp.prec // 3)
    fa = G(a)
    while fa <= 0 and a > mpmath.ldexp(1, -2 * mpmath.mp.prec):  # chi_1 - 1 tiny: c* very close to 1
        a /= 2 ** 8
        fa = G(a)
    if fa <= 0:
        raise _fail("weight_var", "the correlation map's fixed point below 1 is closer to 1 than the working "
                    "precision resolves; raise digits")
    while True:  # factor 3/2: never exactly u = 1 (c = 0, the fixed point of every odd phi without bias)
        b = min(3 * a / 2, mpmath.mpf(2))
        fb = G(b)
        if fb <= 0 or b == 2:  # G(2) = -1 - C(-1) <= 0: rounding may leave it just above 0
            u = b if fb > 0 else _illinois(G, a, fa, b, fb, rtol)
            break
        a, fa = b, fb
    return 1 - u, m.chi(qs, qs * u)


def _one_run(act, sw2, sb2, norm, prec, eoc: bool):
    with mpmath.workprec(prec):
        sw2m, sb2m = _mp(sw2), _mp(sb2)
        m = _Maps(act, sw2m, sb2m)
        rtol = mpmath.ldexp(1, 8 - prec)
        qs = _length_fixed_point(m, sw2m * _mp(norm) + sb2m, rtol)
        if qs == 0:
            t = m.tiny
            chi1 = m.chi(t)
            cs, chics = mpmath.mpf(1), m.chi(t) * t / (m.V(t) - sb2m)
            note = ("q* = 0: the variances vanish; the values at q* are limits q -> 0, and the correlation map "
                    "degenerates to E(q, q, c q)/E(q, q, q), marginal at c* = 1")
        else:
            chi1, note = m.chi(qs), ""
            cs, chics = mpmath.mpf(1), chi1
        return {"q_star": qs, "chi_1": chi1, "c_star": cs, "chi_c_star": chics, "note": note, "m": m, "rtol": rtol}


def _mp(x):
    if isinstance(x, Fraction):
        return mpmath.mpf(x.numerator) / x.denominator
    return mpmath.mpf(x)


@dataclass(frozen=True)
class Phase:
    """The one-point analysis (:func:`phase`): each number a :class:`rntk_sym.KernelValue` (value and error)
    or ``math.inf`` (a depth scale at the edge of chaos); ``phase`` is "ordered", "chaotic" or
    "edge of chaos"; ``edge_of_chaos_weight_var`` is None when there is none (``edge_of_chaos_note`` says why)."""

    activation: str
    weight_var: object
    bias_var: Fraction
    digits: int
    q_star: KernelValue
    chi_1: KernelValue
    phase: str
    c_star: KernelValue
    chi_c_star: KernelValue
    xi_c: object
    xi_1: object
    edge_of_chaos_weight_var: KernelValue | None
    edge_of_chaos_note: str
    note: str
    error_kind: str

    def as_json(self) -> dict:
        """Decimal strings (each with ``NAME_error``), ``"inf"`` for an infinite depth scale."""
        out = {"activation": self.activation, "weight_var": _dec(self.weight_var, self.digits),
               "bias_var": _dec(self.bias_var, self.digits), "digits": self.digits, "phase": self.phase}
        for name in ("q_star", "chi_1", "c_star", "chi_c_star", "xi_c", "xi_1", "edge_of_chaos_weight_var"):
            v = getattr(self, name)
            if isinstance(v, KernelValue):
                zero = abs(v.value) <= v.error  # e.g. c* = 0 of an odd phi: print 0, not the rounding noise
                out[name], out[name + "_error"] = "0" if zero else v.decimal(), nstr(v.decimal_error(), 3)
            elif isinstance(v, Fraction):  # exact (the ab_relu family's edge of chaos)
                out[name], out[name + "_error"] = _dec(v, self.digits), "0"
            else:
                out[name], out[name + "_error"] = (None if v is None else "inf"), None
        out.update(edge_of_chaos_note=self.edge_of_chaos_note, note=self.note, error_kind=self.error_kind)
        return out


def _dec(x, digits):
    if isinstance(x, KernelValue):
        return x.decimal()
    if isinstance(x, Fraction) and 10 ** 30 % x.denominator == 0:
        return str(x.numerator) if x.denominator == 1 else nstr(_mp_at(x, digits), digits, strip_zeros=True)
    return nstr(_mp_at(x, digits), digits, strip_zeros=True)


def _mp_at(x, digits):
    with mpmath.workdps(digits + 10):
        return +_mp(x)


def _precisions(digits: int):
    p1 = math.ceil((digits + GUARD_DIGITS) * LOG2_10)
    return p1, p1 + max(32, p1 // 4)


def _value(v1, v2, digits, prec2, kind, extra=0):
    ctx = mpmath.MPContext()
    ctx.prec = prec2
    return KernelValue(ctx.mpf(v2), ctx.mpf(abs(v2 - v1) + extra), digits, "fixed point", kind)


ERROR_KIND = "estimate: |v(p1 bits) - v(p2 bits)| (roots bracketed, Illinois to 2^(8-p))"


def phase(activation="relu", weight_var=None, bias_var=None, *, arch: str = "ffnet", digits: int | None = None,
          norm=1) -> Phase:
    """One-point analysis of the FFNet with activation ``activation``, ``sigma_w^2`` = ``weight_var`` (a number,
    or ``"eoc"``: the edge of chaos for ``bias_var``) and ``sigma_b^2`` = ``bias_var`` (module docstring):
    ``q*``, ``chi_1``, the phase, ``c*``, ``chi_{c*}``, ``xi_c``, ``xi_1`` and the edge-of-chaos weight variance,
    each with an error estimate at ``digits`` significant digits (default 16, about float64). ``norm``: the
    input's squared norm ``|x|^2`` from which the length map starts (the orbit's basin).

    ValueError (naming the argument) when there is no finite ``q*``, for an activation whose derivative has a
    Dirac part (``chi_1`` infinite), and for ``"eoc"`` where no edge of chaos exists.
    """
    arch = inputs.choice("arch", arch, inputs.ARCHS)
    if arch == "resnet":
        raise _fail("arch", "the ResNet's length map q_l = q_(l-1) + alpha^2 E[phi(sqrt(sigma_w^2 q_(l-1) + "
                    "sigma_b^2) z)^2] increases strictly for every activation other than 0, so there is no finite q* "
                    "and no phase (docs/phases.md sec. 1); its depth limits: rntk limit --arch resnet")
    digits = 16 if digits is None else inputs.digits(digits)
    act = get_activation("relu" if activation is None else activation)
    if getattr(act, "singular_derivative", False):
        raise _fail("activation", f"the derivative of {act.spec} has a Dirac part: chi_1 = sigma_w^2 E[phi'^2] "
                    "is infinite")
    if getattr(act, "dphi", True) is None:
        raise _fail("activation", "a callable without its derivative has no chi_1; pass (phi, dphi)")
    b = Fraction(0) if bias_var is None else inputs.exact_number("bias_var", bias_var)
    if b < 0:
        raise _fail("bias_var", f"must be >= 0, got {bias_var!r}")
    n = inputs.exact_number("norm", norm)
    if n <= 0:
        raise _fail("norm", f"must be > 0, got {norm!r}")
    eoc_value, eoc_note = None, ""
    try:
        eoc_value = edge_of_chaos(act, b, digits=digits)
    except ValueError as exc:
        eoc_note = str(exc).partition(": ")[2]
    at_eoc = inputs.is_eoc(weight_var)
    if at_eoc:
        if eoc_value is None:
            raise _fail("weight_var", eoc_note)
        w = eoc_value
    else:
        w = Fraction(2) if weight_var is None else inputs.exact_number("weight_var", weight_var)
        if w <= 0:
            raise _fail("weight_var", f"must be > 0, got {weight_var!r}")
    p1, p2 = _precisions(digits)
    runs = []
    for p in (p1, p2):
        wv = w.value if isinstance(w, KernelValue) else w
        runs.append(_one_run(act, wv, b, n, p, at_eoc))
    r1, r2 = runs
    chi_err = abs(r2["chi_1"] - r1["chi_1"]) + mpmath.ldexp(abs(r2["chi_1"]), 10 - p1)
    if at_eoc or abs(r2["chi_1"] - 1) <= chi_err:
        ph = "edge of chaos"
    else:
        ph = "ordered" if r2["chi_1"] < 1 else "chaotic"
    if ph == "chaotic" and r2["q_star"] > 0:
        for r, p in zip(runs, (p1, p2)):
            with mpmath.workprec(p):
                r["c_star"], r["chi_c_star"] = _correlation_fixed_point(r["m"], r["q_star"], r["chi_1"], r["rtol"])
    vals = {k: _value(r1[k], r2[k], digits, p2, ERROR_KIND)
            for k in ("q_star", "chi_1", "c_star", "chi_c_star")}
    if ph == "edge of chaos":
        vals["chi_1"] = _value(r1["chi_1"], r2["chi_1"], digits, p2, ERROR_KIND, chi_err)
        xi_c = xi_1 = math.inf
    else:
        xi_c = _depth_scale(r1["chi_c_star"], r2["chi_c_star"], digits, p2)
        xi_1 = _depth_scale(r1["chi_1"], r2["chi_1"], digits, p2)
    return Phase(act.spec, w, b, digits, vals["q_star"], vals["chi_1"], ph, vals["c_star"], vals["chi_c_star"],
                 xi_c, xi_1, eoc_value, eoc_note, r2["note"], ERROR_KIND)


def _depth_scale(c1, c2, digits, prec):
    with mpmath.workprec(prec):
        if c2 == 1:
            return math.inf
        return _value(-1 / mpmath.log(c1), -1 / mpmath.log(c2), digits, prec, ERROR_KIND)


_EOC_CACHE: dict = {}


def edge_of_chaos(activation, bias_var=0, *, digits: int | None = None):
    """The edge-of-chaos weight variance ``sigma_w^2`` with ``chi_1 = 1`` at ``sigma_b^2`` = ``bias_var``, ``q*``
    moving with ``sigma_w^2`` (the orbit from the unit input, as :func:`phase`).

    Returns an exact Fraction for the ``ab_relu`` family (``1/k``, :func:`homogeneous_constant`; only
    ``sigma_b^2 = 0``: with a bias, ``q*`` diverges where ``chi_1`` reaches 1), otherwise a
    :class:`rntk_sym.KernelValue` (two precisions, as :func:`phase`). ValueError naming ``weight_var`` when
    there is none: ``chi_1`` does not cross 1 for ``sigma_w^2`` in ``[2^-8, 2^16]`` with a finite ``q*``.
    """
    act = get_activation(activation)
    b = inputs.exact_number("bias_var", bias_var)
    digits = 16 if digits is None else inputs.digits(digits)
    key = (act, b, digits)
    if key not in _EOC_CACHE:
        _EOC_CACHE[key] = _edge_of_chaos(act, b, digits)
    out = _EOC_CACHE[key]
    if isinstance(out, ValueError):
        raise ValueError(str(out))
    return out


def _edge_of_chaos(act, b: Fraction, digits: int):
    if getattr(act, "singular_derivative", False):
        return _fail("weight_var", f"no edge of chaos for {act.spec}: chi_1 is infinite")
    k = homogeneous_constant(act)
    if k is not None:
        if b != 0:
            return _fail("weight_var", f"no edge of chaos for {act.spec} with sigma_b^2 = {b} > 0: chi_1 = "
                         f"{k} sigma_w^2 reaches 1 only where q* = sigma_b^2 / (1 - {k} sigma_w^2) diverges")
        return 1 / k
    p1, p2 = _precisions(digits)
    try:
        lo, hi = _eoc_bracket(act, b)
        roots = [_eoc_refine(act, b, lo, hi, p1)]
        roots.append(_eoc_refine(act, b, lo, hi, p2, near=roots[0]))
    except ValueError as exc:
        return exc
    return _value(roots[0], roots[1], digits, p2, ERROR_KIND + "; nested: q* solved at each sigma_w^2")


def _chi_minus_one(act, b, w, prec):
    """``chi_1(w) - 1`` with ``q*(w)``, or None where ``q*`` is not finite (or unstable)."""
    with mpmath.workprec(prec):
        m = _Maps(act, mpmath.mpf(w), _mp(b))
        rtol = mpmath.ldexp(1, 8 - prec)
        try:
            qs = _length_fixed_point(m, m.sw2 + m.sb2, rtol)
        except ValueError:
            return None
        return (m.chi(m.tiny) if qs == 0 else m.chi(qs)) - 1


def _eoc_bracket(act, b):
    prev = None
    for w in EOC_PROBES:
        g = _chi_minus_one(act, b, w, 64)
        if g is None:
            if prev is not None:  # chi_1 < 1 up to where q* stops being finite: bisect that boundary
                return _boundary(act, b, prev, w)
            continue
        if g >= 0:
            if prev is None:
                raise _fail("weight_var", f"no edge of chaos for {act.spec} with sigma_b^2 = {b}: chi_1 >= 1 "
                            f"already at sigma_w^2 = {w}")
            return prev, w
        prev = w
    raise _fail("weight_var", f"no edge of chaos for {act.spec} with sigma_b^2 = {b}: chi_1 < 1 for every "
                f"sigma_w^2 up to {EOC_PROBES[-1]}")


def _boundary(act, b, lo, hi):
    for _ in range(30):  # to 1e-9: enough to tell a crossing from the divergence boundary
        mid = (lo + hi) / 2
        g = _chi_minus_one(act, b, mid, 64)
        if g is None:
            hi = mid
        elif g >= 0:
            return lo, mid
        else:
            lo = mid
    raise _fail("weight_var", f"no edge of chaos for {act.spec} with sigma_b^2 = {b}: chi_1 < 1 wherever q* is "
                f"finite (the length map diverges from sigma_w^2 = {hi:.6g})")


def _eoc_refine(act, b, lo, hi, prec, near=None):
    """The root of chi_1(w) - 1 in ``[lo, hi]``; ``near``: a root at a lower precision, tried first with a
    bracket of its tolerance's width (the second precision then costs a few steps)."""
    with mpmath.workprec(prec):
        rtol = mpmath.ldexp(1, 8 - prec)

        def g(w):
            v = _chi_minus_one(act, b, w, prec)
            if v is None:
                raise _fail("weight_var", f"no edge of chaos for {act.spec}: q* diverges inside the bracket")
            return v

        if near is not None:
            a, c = near * (1 - mpmath.ldexp(1, 40 - prec)), near * (1 + mpmath.ldexp(1, 40 - prec))
            ga, gc = g(a), g(c)
            if (ga > 0) != (gc > 0):
                return _illinois(g, a, ga, c, gc, rtol)
        a, c = mpmath.mpf(lo), mpmath.mpf(hi)
        return _illinois(g, a, g(a), c, g(c), rtol)


__all__ = ["Phase", "phase", "edge_of_chaos", "depth_limit", "homogeneous_constant"]


def depth_limit(rho, *, activation, weight_var=None, bias_var=None, kernel: str = "ntk", digits: int = 30):
    """``lim_{L -> oo}`` of the FFNet's normalized NTK or GP kernel (``kernel``) at ``rho`` for unit inputs, in the
    ordered and chaotic phases (docs/asymptotics.md, section 8), as a :class:`rntk_sym.asymptotics.Limit`:
    ordered: 1 (both kernels; exact); chaotic: the NTK 0 (exact), the GP kernel ``c*`` (:func:`phase`, its
    error); at the edge of chaos with ``q* > 0`` :func:`rntk_sym.eoc.eoc_limit` (sec. 9). ValueError naming
    ``weight_var`` for ``q* = 0`` (not derived), and naming
    ``rho`` when the orbit of ``rho`` does not reach ``c*`` (another stable fixed point of the correlation map)."""
    from .asymptotics import Limit

    kernel = inputs.choice("kernel", kernel, inputs.KERNELS)
    digits = inputs.digits(digits)
    r = inputs.rho_exact(rho)
    p = phase(activation, weight_var, bias_var, digits=digits)
    ctx = mpmath.MPContext()
    ctx.prec = _precisions(digits)[1]
    if r == 1:
        return Limit(ctx.mpf(1), ctx.mpf(0), "diagonal", "diagonal", "diagonal: the normalized kernel is 1", "1")
    from .eoc import eoc_limit, zero_q_star

    if p.phase == "edge of chaos" and not zero_q_star(p):  # derived in docs/asymptotics.md sec. 9
        return eoc_limit(r, p_act(p), p.bias_var, kernel=kernel, digits=digits)
    if p.phase == "edge of chaos" or zero_q_star(p):
        why = ("at the edge of chaos (q* = 0: the variances vanish like 1/L)" if p.phase == "edge of chaos" else
               "with q* = 0 (the network linearizes)")
        raise _fail("weight_var", f"the depth limit of {p.activation} {why} is not derived yet (docs/asymptotics.md, "
                    "sections 8.3, 9.3); the ordered and chaotic phases and the edge of chaos with q* > 0 are")
    chi = nstr(p.chi_1.value, 6)
    if p.phase == "ordered":
        rate = "chi_1^L" if kernel == "gp" else ("L chi_1^L (smooth phi)" if homogeneous_constant(p_act(p)) is None
                                                 else "chi_1^(L/2) (kinked phi)")
        return Limit(ctx.mpf(1), ctx.mpf(0), "ordered", f"ordered phase (chi_1 = {chi})",
                     f"exact: c* = 1; 1 - value ~ {rate} (docs/asymptotics.md sec. 8.1)", "1")
    if kernel == "ntk":
        return Limit(ctx.mpf(0), ctx.mpf(0), "chaotic", f"chaotic phase (chi_1 = {chi})",
                     "exact: NTK_L ~ E chi_1^-L (docs/asymptotics.md sec. 8.2)", "0")
    _reaches_c_star(p, r)
    value = ctx.mpf(0) if abs(p.c_star.value) <= p.c_star.error else p.c_star.value  # odd phi: c* = 0
    return Limit(value, p.c_star.error, "chaotic", f"chaotic phase (chi_1 = {chi})",
                 f"c*, the correlation map's stable fixed point; GP_L - c* ~ chi_c*^L ({p.error_kind})", None)


def p_act(p: Phase):
    return get_activation(p.activation)


def _reaches_c_star(p: Phase, r: Fraction):
    """ValueError naming ``rho`` unless the float64 recursion from ``rho`` is within 1e-6 of ``c*`` by depth
    ``40 xi_c`` (``|c_L - c*| ~ exp(-40)`` if it tends to ``c*``)."""
    from .general import kernel

    depth = max(10, math.ceil(40 * float(p.xi_c.value)))
    c = kernel("ffnet", float(r), depth, kernel="gp", activation=p.activation, weight_var=_weight(p),
               bias_var=p.bias_var)
    if abs(c - float(p.c_star.value)) > 1e-6:
        raise _fail("rho", f"the correlation from rho = {r} tends to another fixed point than c* = "
                    f"{nstr(p.c_star.value, 8)} (at depth {depth}: {c:.8g}); its limit is not computed")


def _weight(p: Phase):
    return p.weight_var.value if isinstance(p.weight_var, KernelValue) else p.weight_var


def add_cli(sub) -> None:
    """``rntk phase``: the one-point analysis (:func:`phase`)."""
    p = sub.add_parser("phase", help="signal propagation: q*, chi_1, the phase, c*, depth scales, the edge of chaos")
    p.add_argument("--arch", default="ffnet", help="ffnet (resnet: no finite q*, refused; docs/phases.md sec. 1)")
    p.add_argument("--activation", default="relu", help="NAME[:PARAMS], e.g. erf or leaky_relu:0.1")
    p.add_argument("--weight-var", default="2", help="sigma_w^2 > 0 (exact decimal), or eoc: the edge of chaos")
    p.add_argument("--bias-var", default="0", help="sigma_b^2 >= 0 (exact decimal)")
    p.add_argument("--digits", type=int, default=16, help="significant digits (default 16)")
    p.add_argument("--json", action="store_true", help="print one JSON object")


def run(args) -> dict:
    return {"arch": args.arch, **phase(args.activation, args.weight_var, args.bias_var, arch=args.arch,
                                       digits=args.digits).as_json()}


def show(res: dict) -> None:
    def line(name, label):
        v, e = res[name], res[name + "_error"]
        print(f"  {label:<28} {'-' if v is None else v}" + (f"  +/- {e}" if e not in (None, "0") else ""))

    print(f"{res['arch']} {res['activation']}, sigma_w^2 = {res['weight_var']}, sigma_b^2 = {res['bias_var']}: "
          f"{res['phase']}")
    for name, label in (("q_star", "q*"), ("chi_1", "chi_1"), ("c_star", "c*"), ("chi_c_star", "chi_c*"),
                        ("xi_c", "xi_c = -1/log chi_c*"), ("xi_1", "xi_1 = -1/log chi_1"),
                        ("edge_of_chaos_weight_var", "edge of chaos sigma_w^2")):
        line(name, label)
    for key in ("edge_of_chaos_note", "note"):
        if res[key]:
            print(f"  ({res[key]})")
    print(f"  ({res['error_kind']})")
