"""Kernels of FFNets and ResNets with any activation, weight variance and bias variance.

The networks, their recursions, which layers are trained and the normalization are derived in
docs/activations.md; in short, with ``E(q1, q2, c) = E[phi(u) phi(v)]`` and
``Ed(q1, q2, c) = E[phi'(u) phi'(v)]`` for ``(u, v) ~ N(0, [[q1, c], [c, q2]])``
(:mod:`rntk_sym.activations`), ``sigma_w^2`` = ``weight_var``, ``sigma_b^2`` = ``bias_var``, input
squared norms ``n1, n2`` = ``norms`` and ``<x, x'> = rho sqrt(n1 n2)``:

- FFNet (L hidden layers ``Dense(sigma_w, sigma_b)`` + phi, then a fixed readout ``Dense(sigma_w, sigma_b)``;
  trained: every hidden layer's weights and biases). Pre-activation kernel and NTK:
  ``k_1 = sigma_w^2 <x, x'> + sigma_b^2``, ``Theta_1 = k_1``;
  ``k_{l+1} = sigma_w^2 E(k_l) + sigma_b^2``, ``Omega_{l+1} = sigma_w^2 Ed(k_l) Theta_l``,
  ``Theta_{l+1} = k_{l+1} + Omega_{l+1}``. Returned: GP ``k_{L+1}``, NTK ``Omega_{L+1}`` (readout fixed).
- ResNet (``x_0 = <x, .>`` embedding fixed, branch ``alpha V phi(Dense(sigma_w, sigma_b) x)``, fixed readout;
  trained: ``W_l, b_l, V_l``): ``S_l = sigma_w^2 K_{l-1} + sigma_b^2``, ``K_0 = <x, x'>``, ``T_0 = 0``;
  ``K_l = K_{l-1} + alpha^2 E(S_l)``,
  ``T_l = (1 + alpha^2 sigma_w^2 Ed(S_l)) T_{l-1} + alpha^2 (E(S_l) + Ed(S_l) S_l)``.
  Returned: GP ``K_L``, NTK ``T_L``.

Each kernel is normalized by its diagonal: ``k(x, x') / sqrt(k(x, x) k(x', x'))``. With relu,
``sigma_w^2 = 2``, ``sigma_b^2 = 0`` these are the seeds' ``rho_L`` and ``Omegabar_L`` (docs/model.md
sections 2-3; tests/test_general.py checks the values against :mod:`rntk_sym.kernels`).

The recursion is written once (:mod:`rntk_sym.general_step`, driven by :func:`run`) against a number kind:
``"float"`` (numpy float64, vectorized over rho), ``"mp"`` (mpmath at the precision of an enclosing
``mpmath.workprec``) or ``"ball"`` (arb); numba compiles the same functions for the Gram matrices
(:mod:`rntk_sym.backends.compiled_general`).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from functools import cache
from types import SimpleNamespace

import mpmath
import numpy as np

from . import general_step, inputs
from .activations import get_activation, is_default_relu
from .backends import NUMPY
from .backends._plain import PlainScalar
from .general_step import COMPLEMENT_BELOW, COMPLEMENT_TIERS  # noqa: F401 (COMPLEMENT_BELOW: public)


@dataclass(frozen=True)
class Model:
    """The network: ``arch``, activation ``act``, exact ``weight_var`` (sigma_w^2) and ``bias_var``
    (sigma_b^2), and for the ResNet its residual ``scale`` (:class:`rntk_sym.inputs.Scaling`)."""

    arch: str
    act: object
    weight_var: Fraction
    bias_var: Fraction
    scale: inputs.Scaling | None


def resolve(arch: str, activation=None, weight_var=None, bias_var=None, gamma=None, alpha=None,
            digits: int | None = None) -> Model:
    """Validate the model arguments (one-line ValueError naming the bad one); defaults relu, 2, 0.

    ``weight_var="eoc"``: the edge of chaos for ``bias_var`` (:func:`rntk_sym.phase.edge_of_chaos`): exact for
    the ``ab_relu`` family (``2/(a^2 + b^2)``, bias-free only), otherwise its binary value computed to
    ``digits`` + 20 significant digits (``digits=None``: float64, 36 digits); ValueError naming ``weight_var``
    where there is no edge of chaos."""
    act = get_activation("relu" if activation is None else activation)
    b = Fraction(0) if bias_var is None else inputs.exact_number("bias_var", bias_var)
    if b < 0:
        raise ValueError(f"bias_var: must be >= 0, got {bias_var!r}")
    if inputs.is_eoc(weight_var):
        if arch == "resnet":
            raise ValueError("weight_var: 'eoc' is the FFNet's edge of chaos (docs/phases.md); the ResNet's one-point "
                             "analysis is not done yet")
        w = eoc_weight_var(act, b, digits)
    else:
        w = Fraction(2) if weight_var is None else inputs.exact_number("weight_var", weight_var)
    if w <= 0:
        raise ValueError(f"weight_var: must be > 0, got {weight_var!r}")
    return Model(arch, act, w, b, inputs.scaling(arch, gamma, alpha))


def eoc_weight_var(act, bias_var: Fraction, digits: int | None) -> Fraction:
    """The edge-of-chaos sigma_w^2 as an exact Fraction (the binary value of a 20-guard-digit estimate, or exact
    for the ab_relu family)."""
    from .phase import edge_of_chaos

    w = edge_of_chaos(act, bias_var, digits=(digits or 16) + 20)
    return w if isinstance(w, Fraction) else inputs.exact_number("weight_var", w.value)


def is_seed_model(m: Model) -> bool:
    """relu with sigma_w^2 = 2 and sigma_b^2 = 0: the seeds' network, computed by :mod:`rntk_sym.kernels`
    (its normalized kernels do not depend on the input norms: every map is positively homogeneous)."""
    return is_default_relu(m.act) and m.weight_var == 2 and m.bias_var == 0


def uses_general(arch, activation, weight_var, bias_var, gamma=None, alpha=None, digits=None) -> bool:
    """Whether :func:`rntk_sym.kernel` (and ``gram``) must leave the seeds' relu code: validates the model
    arguments, then False for relu with sigma_w^2 = 2, sigma_b^2 = 0 (whatever the input norms)."""
    if activation is None and weight_var is None and bias_var is None:
        return False
    arch = inputs.choice("arch", arch, inputs.ARCHS)
    return not is_seed_model(resolve(arch, activation, weight_var, bias_var, gamma, alpha, digits))


# positively homogeneous activations, phi(t z) = t^k phi(z) for t > 0: the ab_relu family (k = 1), arccos:n
# (k = n), step and sign (k = 0)
HOMOGENEOUS = frozenset({"relu", "leaky_relu", "ab_relu", "abs", "linear", "arccos", "step", "sign"})


def norm_free(m: Model) -> bool:
    """Whether the normalized kernels do not depend on the input norms: a positively homogeneous activation, no
    bias, and for the ResNet degree 1 (its skip connection is linear). Every entry of every kernel then scales
    as ``f(|x|) f(|x'|)``. They are computed at unit norms: with unequal norms the float64 state's spread terms
    ``(sqrt q1 - sqrt q2)^2 / 2`` would cancel against ``M`` near rho = +-1 (measured up to 7e-9, abs)."""
    name = getattr(m.act, "name", None)
    if m.bias_var != 0 or name not in HOMOGENEOUS:
        return False
    degree = {"arccos": m.act.params[0] if name == "arccos" else None, "step": 0, "sign": 0}.get(name, 1)
    return m.arch == "ffnet" or degree == 1


def norms_pair(norms) -> tuple[Fraction, Fraction]:
    """``norms`` = the two input squared norms ``(|x|^2, |x'|^2)``, each > 0 (one number: both)."""
    if norms is None:
        return Fraction(1), Fraction(1)
    pair = norms if isinstance(norms, (tuple, list)) else (norms, norms)
    if len(pair) != 2:
        raise ValueError(f"norms: must be two squared input norms (|x|^2, |x'|^2), got {norms!r}")
    out = tuple(inputs.exact_number("norms", x) for x in pair)
    if min(out) <= 0:
        raise ValueError(f"norms: must be > 0, got {norms!r}")
    return out


def _num(kind: str, q: Fraction):
    """The exact rational ``q`` as a number of ``kind`` ("float", "mp", or "ball": an arb ball)."""
    if kind == "float":
        return np.float64(q.numerator / q.denominator)
    if kind == "ball":
        import flint

        return flint.arb(q.numerator) / q.denominator
    return mpmath.mpf(q.numerator) / q.denominator


def _sqrt(kind: str, x):
    """Square root in ``kind``; in balls of quantities that are >= 0 exactly (variances, their products)."""
    if kind == "float":
        return np.sqrt(x)
    return x.nonnegative_part().sqrt() if kind == "ball" else mpmath.sqrt(x)


def run(kind: str, m: Model, n1, n2, u, depth: int, kernel: str, normalize: bool = True, v=None, *,
        a2=None, start=None, raw: bool = False):
    """The normalized kernel (``kernel`` "ntk" or "gp") after ``depth`` layers, in number ``kind``.

    ``normalize=False``: the unnormalized entries ``(k(x, x'), k(x, x), k(x', x'))`` instead (FFNet
    ``k = Omega_{L+1}`` or ``k_{L+1}``; ResNet ``T_L`` or ``K_L``); :mod:`rntk_sym.conventions` takes
    neural-tangents' scale from the diagonals.

    ``n1, n2``: input squared norms; ``u = 1 - rho`` and ``v = 1 + rho`` (default ``2 - u``) with rho the
    cosine of the inputs' angle (numbers of ``kind``, possibly numpy arrays; ``u`` and ``v`` rather than rho
    so that nearly parallel and nearly opposite inputs keep them).
    Each covariance ``[[q1, c], [c, q2]]`` is carried as its diagonal, its gap ``sqrt(q1 q2) - c`` and its
    co-gap ``sqrt(q1 q2) + c`` (docs/activations.md, "Cancellation-free state"), so that correlations near
    1 and near -1 keep their relative accuracy in ``1 -+ correlation``. Cost: 3 evaluations of the duals per
    layer (the pair and both diagonals) and, in float64 near correlation +-1, the complement's quadrature.
    The layers are :func:`rntk_sym.general_step.run_layers` (the functions numba compiles for the Gram
    matrices, :mod:`rntk_sym.backends.compiled_general`), on a context of ``kind`` (:func:`_context`).

    The skip-aheads run it in stretches (:mod:`rntk_sym.skip_general`, :mod:`rntk_sym.skip_resnet`):
    ``raw=True`` returns the state ``(q1, q2, gap, cogap, X1, X2, X12)`` of
    :func:`rntk_sym.general_step.run_layers` (FFNet: ``k_{L+1}`` and ``Omega_{L+1}``, for ``depth >= 1``; ResNet:
    ``K_L`` and ``T_L``) and ``start=`` such a state runs ``depth`` more layers from it (``n1, n2, u, v`` are then
    not used); ResNet: ``a2`` = the step alpha^2 (default from ``m.scale`` and ``depth``).
    """
    ctx = _context(kind, m, n1, n2)
    sw2, sb2 = _num(kind, m.weight_var), _num(kind, m.bias_var)
    if m.arch == "ffnet":
        a2 = None
    elif a2 is None:
        a2 = _alpha2(kind, m.scale, depth)
    if start is None:
        st = general_step.run_layers(ctx, m.arch == "ffnet", sw2, sb2, a2, n1, n2, u, 2 - u if v is None else v,
                                     depth)
    elif m.arch == "ffnet":  # after >= 1 layers: Theta = k + Omega
        q1, q2, gap, cogap, o1, o2, o12 = start
        st = general_step.ffnet_layers(ctx, sw2, sb2, q1, q2, gap, cogap, q1 + o1, q2 + o2,
                                       general_step.pair(gap, cogap) + o12, o1, o2, o12, depth)
    else:
        st = general_step.resnet_layers(ctx, sw2, sb2, a2, *start, depth)
    return st if raw else finish(kind, m, depth, kernel, st, normalize)


def finish(kind: str, m: Model, depth: int, kernel: str, st, normalize: bool = True):
    """The kernel from the final state ``st = (q1, q2, gap, cogap, X1, X2, X12)`` of
    :func:`rntk_sym.general_step.run_layers`: ValueError naming ``depth`` where a variance overflowed
    (:func:`_overflow`), else ``X12 / sqrt(X1 X2)`` (NTK) or ``c / sqrt(q1 q2)`` (GP), or with
    ``normalize=False`` the unnormalized entries ``(k(x, x'), k(x, x), k(x', x'))``."""
    q1, q2, gap, cogap, x1, x2, x12 = st
    _overflow(kind, m, depth, [q1, q2] + ([x1, x2] if kernel == "ntk" else []))
    k = (x12, x1, x2) if kernel == "ntk" else (general_step.pair(gap, cogap), q1, q2)
    return k[0] / _sqrt(kind, k[1] * k[2]) if normalize else k


def _context(kind: str, m: Model, n1, n2):
    """The context of :mod:`rntk_sym.general_step` for number ``kind``: ``sqrt``, the duals of a layer (at
    the pair and both diagonals, with the complements of :func:`complement`) and the ResNet's state
    accumulators (float64: compensated, :mod:`rntk_sym.backends.floats`)."""
    # A Gram's pairs share few distinct input norms, and each diagonal is a function of its input norm: the
    # duals on the diagonals are evaluated once per distinct norm (found once, not sorted again every layer)
    distinct = [_distinct(kind, n) for n in (n1, n2)]

    def on_diagonal(q, k):  # (E, Ed) at (q, q, c = q) for the diagonal of input k (0: x, 1: x')
        if distinct[k] is None:
            return m.act.expectations(q, q, 0 * q, kind)
        first, inv = distinct[k]
        uq = np.ravel(q)[first]
        return tuple(x[inv].reshape(np.shape(q)) for x in m.act.expectations(uq, uq, 0 * uq, kind))

    def duals(q1, q2, g, h):  # the duals at the pair and at both diagonals, and the complements (M, N)
        e1 = on_diagonal(q1, 0)
        e2 = e1 if np.ndim(q1) == 0 and q1 == q2 else on_diagonal(q2, 1)  # equal norms: one diagonal
        e12 = m.act.expectations(q1, q2, g, kind, cogap=h)
        return e1, e2, e12, complement(m.act, kind, q1, q2, g, h, e1[0], e2[0], e12[0])

    # each block moves the ResNet's state by O(alpha^2): float64 keeps it as a compensated sum (backends.floats)
    acc = NUMPY if kind == "float" else PlainScalar()
    return SimpleNamespace(sqrt=lambda x: _sqrt(kind, x), duals=duals, accumulator=acc.accumulator,
                           lead=acc.lead, add=acc.add, total=acc.total)


def _distinct(kind: str, n):
    """``(first, inverse)`` of the distinct values of the input norms ``n`` (``np.unique``), or None (scalars,
    small arrays, or not float64)."""
    if kind != "float" or np.ndim(n) == 0 or np.size(n) < 64:
        return None
    _, first, inv = np.unique(np.ravel(n), return_index=True, return_inverse=True)
    return first, inv


def _overflow(kind: str, m: Model, depth: int, diagonals):
    """ValueError naming ``depth`` when a float64 variance overflowed, or a ball's became infinite (mpmath
    numbers do not overflow)."""
    finite = {"float": lambda d: np.all(np.isfinite(d)), "ball": lambda d: d.is_finite()}.get(kind)
    if finite is not None and not all(finite(d) for d in diagonals):
        raise ValueError(f"depth: the kernels of {m.act.spec} overflow float64 by L = {depth} "
                         "(the variances grow without bound); use digits=D")


@cache
def _gauss_legendre01(n: int):
    x, w = np.polynomial.legendre.leggauss(n)
    return (x + 1) / 2, w / 2


def complement(act, kind: str, q1, q2, gap, cogap, e1, e2, e12):
    """``(M, N)``: ``M = (E1 + E2)/2 - E12`` (= ``E[(phi(u) - phi(v))^2] / 2 >= 0``) and ``N = (E1 + E2)/2 + E12``
    (= ``E[(phi(u) + phi(v))^2] / 2``), the increments of the GP map's gap and co-gap.

    A direct difference cancels when the correlation is near +1 (for M) or -1 (for N, and for M with an
    even activation). There (float64, ``1 -+ rho < COMPLEMENT_BELOW``) ``E12`` is written from the nearer
    end by Price's theorem: ``E12 = E(c_max) - I+ = E(-c_max) + I-`` with ``c_max = sqrt(q1 q2)``,
    ``I+ = int_c^c_max Ed dc' = int_0^sqrt(gap) Ed(gap = s^2) 2 s ds`` and
    ``I- = int_-c_max^c Ed dc' = int_0^sqrt(cogap) Ed(cogap = s^2) 2 s ds`` (smooth in s also for kinked
    activations), by Gauss-Legendre (COMPLEMENT_TIERS), and ``(E1 + E2)/2 -+ E(+-c_max)`` is formed first
    (exactly 0 for equal norms where it cancels: ``E(c_max) = E1`` always, ``E(-c_max) = -E1`` for odd
    activations, ``+E1`` for even ones). In mpmath the direct forms are used: the guard digits and the
    two-precision estimate cover their loss.
    """
    direct = (e1 + e2) / 2 - e12, (e1 + e2) / 2 + e12
    if kind != "float" or getattr(act, "dphi", True) is None:  # no derivative: no Price integral
        return direct
    q1, q2, gap, cogap = np.broadcast_arrays(q1, q2, gap, cogap)
    r12 = np.sqrt(q1 * q2)
    ctx = _price_context(act)
    out = None
    for sign, dist in ((1, gap), (-1, cogap)):  # the end c = +c_max (distance gap), then c = -c_max (cogap)
        w = dist / r12
        lower = 0.0  # at w = 0 the integral is 0 and the direct form is exact (and Ed may be infinite: sign)
        for upper, nodes in COMPLEMENT_TIERS:
            near = np.flatnonzero((w > lower) & (w < upper))
            lower = upper
            if near.size == 0:
                continue
            if out is None:
                out = [np.array(x, dtype=float, copy=True) for x in np.broadcast_arrays(*direct)]
            x, wts = _gauss_legendre01(nodes)
            a, b, d, r = (t.ravel()[near][:, None] for t in (q1, q2, dist, r12))
            f1, f2 = (np.broadcast_to(e, out[0].shape).ravel()[near] for e in (e1, e2))
            mn = general_step.price_complement(ctx, sign, a, b, d, r, ((f1 + f2) / 2)[:, None], x[None, :],
                                               (2 * x * wts)[None, :], 0, 1)
            out[0].flat[near], out[1].flat[near] = mn[0][:, 0], mn[1][:, 0]
    if out is None:
        return direct
    return tuple(o if o.ndim else o[()] for o in out)


def _price_context(act):
    """The float64 context of :func:`rntk_sym.general_step.price_complement` for ``act``: its duals on
    arrays, and the quadrature sum over the nodes (the last axis) as a matrix product."""
    return SimpleNamespace(expect=lambda q1, q2, g, h: act.expectations(q1, q2, g, "float", cogap=h),
                           derivative_dual=lambda q1, q2, g, h: act.derivative_dual(q1, q2, g, "float", cogap=h),
                           node_dot=lambda ed, w: (ed @ w)[:, None])


def _alpha2(kind: str, scale: inputs.Scaling, depth: int):
    """``alpha^2``: ``depth^(-2 gamma)`` or the constant alpha squared."""
    if scale.alpha is not None:
        return _num(kind, scale.alpha * scale.alpha)
    g = _num(kind, scale.gamma)
    return _num(kind, Fraction(depth)) ** (-2 * g)


def _check_model(m: Model, kernel: str, certified: bool):
    if m.act.singular_derivative and kernel == "ntk":
        raise ValueError(f"activation: the derivative of {m.act.spec} has a Dirac part, so E[phi'(u) phi'(v)] is "
                         "infinite on the diagonal and the NTK is not defined; use kernel='gp'")
    if kernel == "ntk" and getattr(m.act, "dphi", True) is None:
        raise ValueError("activation: a callable without its derivative gives the GP kernel only; "
                         "pass (phi, dphi) or a SymPy expression")
    if certified and m.act.quadrature:
        raise ValueError("certified: ball arithmetic needs a closed-form dual, not a quadrature dual; use digits=D")


def kernel(arch: str, rho, depth: int, *, kernel: str = "ntk", gamma=None, alpha=None, digits: int | None = None,
           method: str = "auto", certified: bool = False, activation=None, weight_var=None, bias_var=None,
           norms=None, max_seconds: float | None = None, progress=None):
    """Normalized NTK or GP kernel of the network of :class:`Model` (see :func:`rntk_sym.kernel`).

    ``activation``: a name (``"erf"``, ``"leaky_relu:0.1"``), an activation object; ``weight_var`` =
    sigma_w^2 > 0, ``bias_var`` = sigma_b^2 >= 0, ``norms`` = ``(|x|^2, |x'|^2)`` (default (1, 1)).
    ``digits=None``: float64, vectorized over an array ``rho``; ``digits=D``: a
    :class:`rntk_sym.KernelValue`: for closed-form duals with python-flint, one run in arb balls (error = the
    radius, a guaranteed bound; ``certified=True`` also returns the ball as ``interval``); otherwise (user
    activations, no flint) two mpmath runs at two precisions, whose difference is the error estimate.
    ``max_seconds``: refuse (ValueError naming ``depth``) a recursion estimated to take longer.
    ``method``: ``"recursion"``, ``"asymptotic"`` (the skip-ahead: the FFNet's, :mod:`rntk_sym.skip_general`, or
    the ResNet's, :mod:`rntk_sym.skip_resnet`; ValueError where it does not apply), ``"auto"`` (the skip-ahead where
    it applies and is estimated cheaper than the recursion, else the recursion). ``progress(done)``: called by the
    skip-ahead, ``done`` out of ``2 L``.
    """
    arch = inputs.choice("arch", arch, inputs.ARCHS)
    kernel = inputs.choice("kernel", kernel, inputs.KERNELS)
    method = inputs.choice("method", method, ("auto", "recursion", "asymptotic"))
    depth = inputs.depth(depth)
    digits = inputs.digits(digits)
    m = resolve(arch, activation, weight_var, bias_var, gamma, alpha, digits)
    n1, n2 = norms_pair(norms)  # validated also where they do not matter
    if norm_free(m):
        n1 = n2 = Fraction(1)
    _check_model(m, kernel, certified)
    if digits is None and certified:
        raise ValueError("certified: needs digits=D (ball arithmetic is a high-precision method)")
    if certified and method == "asymptotic":
        raise ValueError("certified: method 'asymptotic' has no certified error bound; use method='recursion'")
    if method != "recursion" and not certified:
        out = _skip_ahead(m, kernel, rho, depth, n1, n2, digits, method, max_seconds, progress)
        if out is not None:
            return out
    if digits is None:
        r = inputs.rho_array(rho)
        _refuse_slow(depth, max_seconds)
        with np.errstate(over="ignore", invalid="ignore"):
            out = run("float", m, _num("float", n1), _num("float", n2), 1 - r, depth, kernel, v=1 + r)
        _finite(out, m, depth)
        return float(out) if r.ndim == 0 else out
    _refuse_slow(depth, max_seconds, digits)
    from .kernels import _has_flint

    if certified:
        return _certified(m, kernel, inputs.rho_exact(rho), depth, n1, n2, digits, "recursion (certified)")
    if not m.act.quadrature and _has_flint():  # balls are exact steps with a guaranteed radius, and fast
        try:
            return _certified(m, kernel, inputs.rho_exact(rho), depth, n1, n2, digits, "recursion")
        except ValueError:  # the balls lost accuracy or stayed wider than D digits: the two-precision estimate
            pass
    return _high_precision(m, kernel, inputs.rho_exact(rho), depth, n1, n2, digits)


def _certified(m: Model, kernel: str, rho: Fraction, depth: int, n1, n2, digits: int, method: str):
    """The recursion in arb balls (a guaranteed enclosure), the precision doubled until the radius reaches
    ``digits`` (as :func:`rntk_sym.kernels._ball_recursion` does for the seeds' relu). With python-flint
    this is also how ``digits=D`` is computed (value = the midpoint, error = the radius)."""
    import flint

    from .backends.ball import narrow, precision_doubling, to_fraction
    from .kernels import CERTIFIED_DOUBLINGS, LOG2_10, KernelValue, _outward, ball_guard_digits, long_int_strings

    def step(prec):
        with flint.ctx.workprec(prec):
            try:
                ball = run("ball", m, _num("ball", n1), _num("ball", n2), _num("ball", 1 - rho), depth, kernel,
                           v=_num("ball", 1 + rho))
            except ZeroDivisionError:
                ball = flint.arb("nan")
            if not ball.is_finite():
                raise ValueError(f"certified: the balls lost all accuracy (L = {depth}, {m.act.spec}); "
                                 "use digits=D without certified for an estimate")
            mid, rad = to_fraction(ball.mid()), to_fraction(ball.rad())
            a = None if m.scale is None else _alpha2("ball", m.scale, depth).sqrt().mid()
        return (mid, rad, a), narrow(mid, rad, digits)

    (mid, rad, a), prec, reached = precision_doubling(
        step, math.ceil((digits + ball_guard_digits(depth)) * LOG2_10), CERTIFIED_DOUBLINGS)
    if not reached and method == "recursion":  # digits=D without certified: a ball wider than D digits (its
        # radius can grow exponentially in L, e.g. ab_relu at L ~ 500) is no value; kernel() falls back to mpmath
        raise ValueError(f"certified: the balls did not reach {digits} digits at L = {depth} ({m.act.spec})")
    ctx = mpmath.MPContext()
    ctx.prec = prec + 64  # the midpoint's mantissa has at most ~prec bits: held exactly
    with long_int_strings(digits):
        interval = (_outward(mid - rad, digits + 3, up=False), _outward(mid + rad, digits + 3, up=True))
    alpha = None if a is None else ctx.mpf(to_fraction(a).numerator) / to_fraction(a).denominator
    return KernelValue(ctx.mpf(mid.numerator) / mid.denominator, ctx.mpf(rad.numerator) / rad.denominator, digits,
                       method, f"certified: arb ball radius ({prec} bits)", alpha, interval)


STEP_SECONDS = 2e-4  # rough float64 cost of one layer for one rho (3 dual evaluations; more for arrays)


def _skip_ahead(m: Model, kernel: str, rho, depth: int, n1, n2, digits: int | None, method: str,
                max_seconds: float | None, progress):
    """The skip-ahead where it applies and pays, or None (the caller runs the recursion): the FFNet's
    (:mod:`rntk_sym.skip_general`, docs/asymptotics.md sec. 11) or the ResNet's (:mod:`rntk_sym.skip_resnet`,
    sec. 10.6). ``method="asymptotic"``: a ValueError naming the argument where it does not apply."""
    if m.arch == "ffnet":
        from . import skip_general

        return skip_general.kernel(m, kernel, rho, depth, n1, n2, digits, method, progress)
    from . import skip_resnet

    refuse = method == "asymptotic" or _too_slow(depth, max_seconds, digits)
    if digits is None:
        r = inputs.rho_array(rho)
        if skip_resnet.prefers(method, depth, _recursion_seconds(depth), r.size):
            return skip_resnet.float64(m, kernel, r, depth, n1, n2, progress, refuse=refuse)
        return None
    if skip_resnet.prefers(method, depth, _recursion_seconds(depth, digits)):
        return skip_resnet.kernel_value(m, kernel, inputs.rho_exact(rho, digits + 20), depth, n1, n2, digits,
                                        refuse=refuse, progress=progress)
    return None


def _recursion_seconds(depth: int, digits: int | None = None) -> float:
    """Estimated time of the recursion: mpmath steps cost about 20x a float64 step, twice (two precisions)."""
    return depth * STEP_SECONDS * (1 if digits is None else 40 * (1 + digits / 100))


def _too_slow(depth: int, max_seconds: float | None, digits: int | None = None) -> bool:
    """Whether :func:`_refuse_slow` would refuse."""
    from .kernels import REFUSE_SECONDS

    return _recursion_seconds(depth, digits) > (REFUSE_SECONDS if max_seconds is None else max_seconds)


def _refuse_slow(depth: int, max_seconds: float | None, digits: int | None = None):
    """ValueError naming ``depth`` when the recursion is estimated to take longer than ``max_seconds``
    (default: a day)."""
    from .kernels import REFUSE_SECONDS

    limit = REFUSE_SECONDS if max_seconds is None else max_seconds
    seconds = _recursion_seconds(depth, digits)
    if seconds > limit:
        raise ValueError(f"depth: the recursion at L = {depth} would take about {seconds / 3600:.3g} hours "
                         f"(limit {limit / 3600:.3g} h); the skip-ahead (method='asymptotic') covers the seeds' relu, "
                         "the FFNet with a closed-form activation (ordered, chaotic, edge of chaos with q* > 0) and "
                         "the ResNet, and says why not here")


def _finite(values, m: Model, depth: int):
    """ValueError naming ``activation`` for a non-finite normalized kernel (e.g. 0/0 for phi = 0 without
    bias); float64 overflow of the variances is reported by :func:`_overflow`, naming ``depth``."""
    if isinstance(values, mpmath.mpf):
        finite, nan = mpmath.isfinite(values), mpmath.isnan(values)
    else:
        finite, nan = np.isfinite(values).all(), np.isnan(values).any()
    if finite:
        return
    if nan:
        raise ValueError(f"activation: the normalized kernel of {m.act.spec} is undefined here (NaN: a vanishing "
                         "or infinite variance)")
    raise ValueError(f"activation: the normalized kernel of {m.act.spec} is infinite here")


def guard_digits(depth: int) -> int:
    """Guard digits of the mpmath runs: L steps of rounding (as :func:`rntk_sym.kernels.guard_digits`) and
    up to 8 more for the square-root loss of the closed forms at correlations within 1e-16 of +-1."""
    return 20 + len(str(depth))


def _high_precision(m: Model, kernel: str, rho: Fraction, depth: int, n1, n2, digits: int):
    from .kernels import LOG2_10, KernelValue

    prec1 = math.ceil((digits + guard_digits(depth)) * LOG2_10)
    prec2 = prec1 + max(32, prec1 // 4)
    values = []
    for prec in (prec1, prec2):
        with mpmath.workprec(prec):
            try:
                values.append(run("mp", m, _num("mp", n1), _num("mp", n2), _num("mp", 1 - rho), depth, kernel,
                                  v=_num("mp", 1 + rho)))
            except ZeroDivisionError:  # mpmath raises where float64 gives NaN: the same diagnosis
                values.append(mpmath.nan)
    ctx = mpmath.MPContext()  # the value's own context at its precision, as rntk_sym.kernels returns it
    ctx.prec = prec2
    with mpmath.workprec(prec2):
        _finite(values[1], m, depth)
        err = abs(values[1] - values[0])
        a = None if m.scale is None else ctx.mpf(mpmath.sqrt(_alpha2("mp", m.scale, depth)))
    return KernelValue(ctx.mpf(values[1]), ctx.mpf(err), digits, "recursion",
                       f"estimate: |v({prec1} bits) - v({prec2} bits)|", a)


SNAP_ULPS = 4


def snap_norms(n1, n2):
    """The squared norms of a Gram's pairs, ``n2`` replaced by ``n1`` where they differ by at most
    :data:`SNAP_ULPS` ulps (rows normalized in float64 have squared norms 1 +- an ulp or two).

    The complement ``(E1 + E2)/2 - E(q1, q2, sqrt(q1 q2))`` of :func:`complement` is exactly 0 only for equal
    norms; for norms unequal by rounding it is a difference of nearly equal numbers, off by an ulp of ``E``,
    which a pair near ``rho = +-1`` amplifies (measured 1e-10 at ``1 - rho = 5e-11``, leaky relu with a bias,
    FFNet NTK, L = 20; docs/activations.md, "Unequal norms"). The kernel itself moves by about as many ulps as the
    norms were snapped: far below the float64 recursion's own error."""
    close = np.abs(n2 - n1) <= SNAP_ULPS * np.finfo(float).eps * np.maximum(n1, n2)
    return n1, np.where(close, n1, n2)


def gram(X, Y=None, *, arch: str, depth: int, gamma=None, alpha=None, kernel: str = "ntk", activation=None,
         weight_var=None, bias_var=None, chunk: int = 1 << 14) -> np.ndarray:
    """Gram matrix of the normalized kernel between the rows of ``X`` and ``Y`` (see :func:`rntk_sym.gram`),
    float64, for the network of :class:`Model`. The input kernel is ``<x, y>``: each row's squared norm
    enters the recursion (it matters with biases or a non-homogeneous activation); the angle's
    ``1 - rho`` comes from :mod:`rntk_sym.gram`'s cancellation-free routine. With numba and a closed-form
    activation the same layers run compiled on every core (:mod:`rntk_sym.backends.compiled_general`; the
    first call for an activation compiles it, then it is cached on disk), else in numpy (:func:`run`)."""
    from .gram import fill_pairs, unit_row_pair

    arch = inputs.choice("arch", arch, inputs.ARCHS)
    kernel = inputs.choice("kernel", kernel, inputs.KERNELS)
    depth = inputs.depth(depth)
    m = resolve(arch, activation, weight_var, bias_var, gamma, alpha)
    _check_model(m, kernel, False)
    rows = unit_row_pair(X, Y)
    nx = np.einsum("ij,ij->i", np.asarray(X, float), np.asarray(X, float))
    ny = nx if Y is None else np.einsum("ij,ij->i", np.asarray(Y, float), np.asarray(Y, float))
    if norm_free(m):
        nx, ny = np.ones_like(nx), np.ones_like(ny)
    n, k = len(nx), len(ny)
    _refuse_slow(depth * max(1, n * k) ** 0.5, None)

    from .backends import compiled_general

    fast = compiled_general.supports(m.act)  # numba present and closed-form duals: the compiled step

    def evaluate(u, v, i, j):
        n1, n2 = snap_norms(nx[i], ny[j])
        with np.errstate(over="ignore", invalid="ignore"):
            if fast:
                vals = finish("float", m, depth, kernel, compiled_general.run_pairs(m, depth, n1, n2, u, v))
            else:
                vals = run("float", m, n1, n2, u, depth, kernel, v=v)
        _finite(vals, m, depth)
        return vals

    return fill_pairs(rows, evaluate, chunk, np.empty((n, k)))


__all__ = ["Model", "resolve", "kernel", "gram", "run", "eoc_weight_var"]
