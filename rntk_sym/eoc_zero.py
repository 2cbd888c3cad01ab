"""The FFNet's edge of chaos at ``q* = 0`` (docs/asymptotics.md sec. 9.3): no bias, ``phi(0) = 0``,
``sigma_w^2 phi'(0)^2 = 1`` (erf: ``sigma_w^2 = pi/4``; sin, tanh-like odd activations).

Notation: ``r_k = phi^(k)(0)/phi'(0)`` (the activation's Taylor ratios), ``q_l`` the variance, ``c_l`` the
correlation (the normalized GP kernel), ``NTK_L`` the normalized NTK, ``rho`` the inputs' correlation, ``L`` the
depth. By Mehler's expansion ``E[phi(u) phi(v)] = sum_n (c q)^n/n! E[phi^(n)(sqrt(q) z)]^2`` with
``E[phi^(n)(sqrt(q) z)] = sum_k phi^(n+2k)(0) q^k/(2^k k!)``, every map is a power series in ``q`` whose coefficients
are polynomials in ``c`` with rational coefficients in the ``r_k`` (:func:`maps`):

- length map ``q' = V(q) = q - a q^2 + b q^3 + ...``, ``a = -(r_3 + 3 r_2^2/4)`` (``kappa_q``), so
  ``1/q_l = a (l + C_q log l + K_q) + o(1)``, ``C_q = 1 - b/a^2`` (the Fatou coordinate, sec. 3.1);
- correlation map (``r_2 = 0``) ``c' = c - (r_3^2/6) q^2 c (1 - c^2) + O(q^3)``: summable, the correlations freeze;
- the invariant ``F(q, c) = c + sum_n f_n(c) q^n`` with ``F(V(q), c') = F(q, c)`` (:func:`invariant`, solved order by
  order, no logarithms: the coefficient of ``f_n`` at order ``q^(n+1)`` is ``-n a``), so ``c_inf = F(q_N, c_N)`` for
  any ``N``: the exact recursion to a moderate depth plus the derived tail (:func:`correlation_limit`).

Derived (sec. 9.3), for odd ``phi`` (``r_2 = 0``, so ``a = -r_3``; ``a > 0`` is needed for ``q* = 0``):
``GP_L = c_inf + A/L - A C_q log L/L^2 + O(1/L^2)`` with ``A = c_inf (1 - c_inf^2)/6``, and
``NTK_L = c_inf - 2 A log L/L + E/L + O(log^2 L/L^2)``: the normalized NTK tends to the frozen correlation
``c_inf(rho)``; ``A`` and ``-2 A`` are universal functions of ``c_inf``; ``E = A (1 - 2 log a) + K' - c_inf K`` with
``K, K'`` the coefficients of the homogeneous solution of the NTK recursion (:func:`ntk_solutions`,
:func:`ntk_constant`).
"""
from __future__ import annotations

import math
from fractions import Fraction
from functools import cache

import mpmath
import sympy as sp

from . import inputs
from .eoc import _ctx

ORDER = 8  # terms f_1..f_ORDER of the invariant
SERIES = ORDER + 2  # q-order of the maps


# Polynomials in (q, c) with exact rational coefficients: {(degree in q, degree in c): Fraction}, truncated in q
# (the NTK's formal solution adds a third degree, in log q: the same helpers take keys of any length).
def _mul(x: dict, y: dict, n: int) -> dict:
    out: dict = {}
    for kx, a in x.items():
        for ky, b in y.items():
            if kx[0] + ky[0] <= n:
                key = tuple(s + t for s, t in zip(kx, ky))
                out[key] = out.get(key, 0) + a * b
    return {k: v for k, v in out.items() if v}


def _add(*terms: dict) -> dict:
    out: dict = {}
    for t in terms:
        for k, v in t.items():
            out[k] = out.get(k, 0) + v
    return {k: v for k, v in out.items() if v}


def _scale(x: dict, s) -> dict:
    return {k: v * s for k, v in x.items() if v * s}


def _at_c1(x: dict) -> dict:
    out: dict = {}
    for (i, _), v in x.items():
        out[i, 0] = out.get((i, 0), 0) + v
    return {k: v for k, v in out.items() if v}


def _q_coeff(x: dict, n: int) -> dict:
    """The coefficient of ``q^n``: a polynomial in ``c`` as ``{(0, j): value}``."""
    return {(0, j): v for (i, j), v in x.items() if i == n}


def taylor_derivatives(act, n: int) -> list | None:
    """``phi^(k)(0)`` for ``k = 0..n`` (SymPy, exact) of a closed-form activation; None for user activations
    (no expression kept)."""
    closed = getattr(act, "closed", None)
    if closed is None:
        return None
    return list(_derivatives(closed.phi, n))


@cache
def _derivatives(phi, n: int):
    from .activations.families import Z

    ser = sp.series(phi, Z, 0, n + 1).removeO()
    return tuple(sp.nsimplify(sp.factorial(k) * ser.coeff(Z, k)) for k in range(n + 1))


def zero_edge(act, bias_var) -> bool:
    """Whether the edge of chaos of ``act`` at ``bias_var`` has ``q* = 0`` (the one place that decides it):
    ``sigma_b^2 = 0``, ``phi(0) = 0``, ``phi'(0) != 0`` and the length map ``V(q) = q - a q^2 + ...`` at
    ``sigma_w^2 = 1/phi'(0)^2`` shrinks (``a = -(r_3 + 3 r_2^2/4) > 0``). Exact (SymPy) for closed-form activations;
    False for user activations (their edge is found numerically)."""
    if Fraction(bias_var) != 0:
        return False
    d = taylor_derivatives(act, 3)
    if d is None or d[0] != 0 or d[1] == 0:
        return False
    r2, r3 = d[2] / d[1], d[3] / d[1]
    return bool(-(r3 + sp.Rational(3, 4) * r2 ** 2) > 0)


def edge_weight_var(act):
    """``sigma_w^2 = 1/phi'(0)^2`` (SymPy, exact) of a ``q* = 0`` edge."""
    return 1 / taylor_derivatives(act, 1)[1] ** 2


@cache
def _ratios(act) -> tuple:
    """``r_k = phi^(k)(0)/phi'(0)`` as Fractions; ValueError naming ``activation`` if one is not rational."""
    d = taylor_derivatives(act, 2 * SERIES + 2)
    out = []
    for x in d:
        r = sp.nsimplify(x / d[1])
        if not r.is_Rational:
            raise ValueError(f"activation: the Taylor ratio phi^(k)(0)/phi'(0) = {r} of {act.spec} is not rational; "
                             "the q* = 0 expansions are computed in exact rationals")
        out.append(Fraction(int(r.p), int(r.q)))
    return tuple(out)


@cache
def maps(act):
    """``(V, E12, chi)`` to order ``q^SERIES`` at the ``q* = 0`` edge (``sigma_w^2 phi'(0)^2 = 1``): the length map,
    ``sigma_w^2 E[phi(u) phi(v)]`` (= ``V(q) c'``) and ``chi = sigma_w^2 E[phi'(u) phi'(v)]`` for ``(u, v)`` of
    variances ``q`` and covariance ``c q`` (Mehler's expansion, module docstring); polynomials
    ``{(degree in q, degree in c): Fraction}``."""
    r = _ratios(act)
    n = SERIES

    def mean(k):  # E[phi^(k)(sqrt(q) z)] / phi'(0)
        return {(j, 0): r[k + 2 * j] / (2 ** j * math.factorial(j)) for j in range(n + 1)
                if k + 2 * j < len(r) and r[k + 2 * j]}

    e12, chi = {}, {}
    for k in range(n + 1):
        mono = {(k, k): Fraction(1, math.factorial(k))}
        e12 = _add(e12, _mul(mono, _mul(mean(k), mean(k), n), n))
        chi = _add(chi, _mul(mono, _mul(mean(k + 1), mean(k + 1), n), n))
    return _at_c1(e12), e12, chi


def _reciprocal(p: dict, n: int) -> dict:
    """``1/p`` to order ``q^n`` for ``p`` with constant term 1 (Newton)."""
    out = {(0, 0): Fraction(1)}
    two = {(0, 0): Fraction(2)}
    for _ in range(n.bit_length() + 1):
        out = _mul(out, _add(two, _scale(_mul(p, out, n), -1)), n)
    return out


def _shift_down(p: dict) -> dict:
    """``p / q`` for ``p`` without a ``q^0`` term."""
    return {(i - 1, j): v for (i, j), v in p.items()}


@cache
def correlation_map(act) -> dict:
    """``c' = E12/V`` to order ``q^(SERIES - 1)``."""
    V, e12, _ = maps(act)
    n = SERIES - 1
    return _mul(_shift_down(e12), _reciprocal(_shift_down(V), n), n)


@cache
def coefficients(act) -> dict:
    """``a``, ``b`` (``V = q - a q^2 + b q^3 + ...``), ``C_q = 1 - b/a^2`` and ``r_2`` (Fractions)."""
    V = maps(act)[0]
    a, b = -V.get((2, 0), 0), V.get((3, 0), 0)
    return {"a": a, "b": b, "C_q": 1 - b / a ** 2, "r2": _ratios(act)[2]}


@cache
def invariant(act) -> tuple:
    """``(f_1, ..., f_ORDER)`` (polynomials in ``c``, ``{(0, j): Fraction}``): ``F(q, c) = c + sum f_n q^n`` is
    invariant under one layer, ``F(V(q), c'(q, c)) = F(q, c)`` to order ``q^(ORDER + 1)``. At order ``q^(n+1)`` the
    unknown ``f_n`` enters as ``-n a f_n``; the lower orders are checked to vanish (AssertionError otherwise)."""
    V = maps(act)[0]
    cmap = correlation_map(act)
    a = coefficients(act)["a"]
    n = ORDER + 1
    vpow, cpow = [{(0, 0): Fraction(1)}], [{(0, 0): Fraction(1)}]
    for _ in range(n + 1):
        vpow.append(_mul(vpow[-1], V, n))
    fs: list = []

    def moved(F):  # F(V(q), c'(q, c)): sum F_ij V^i c'^j
        out: dict = {}
        for (i, j), v in F.items():
            while len(cpow) <= j:
                cpow.append(_mul(cpow[-1], cmap, n))
            out = _add(out, _scale(_mul(vpow[i], cpow[j], n), v))
        return out

    F = {(0, 1): Fraction(1)}
    for k in range(1, ORDER + 1):
        res = _add(moved(F), _scale(F, -1))
        assert all(i > k for (i, _) in res), "the invariant's lower orders do not vanish"
        f = _scale(_q_coeff(res, k + 1), Fraction(1) / (k * a))
        fs.append(f)
        F = _add(F, {(k, j): v for (_, j), v in f.items()})
    return tuple(fs)


def _require_odd(act):
    d = taylor_derivatives(act, 2)
    if d is None:
        raise ValueError("activation: the q* = 0 edge of chaos is derived for closed-form activations (their Taylor "
                         "series at 0); a user activation has none kept")
    if d[2] != 0:
        raise ValueError(f"activation: {act.spec} has phi''(0) != 0: at its q* = 0 edge the correlations move at "
                         "O(q) per layer and do not freeze; not derived (docs/asymptotics.md sec. 9.3)")


def edge_fraction(act, digits: int) -> Fraction:
    """The edge ``sigma_w^2 = 1/phi'(0)^2`` as a decimal Fraction to ``digits`` + 45 digits (for the exact recursion:
    its effect on the kernels is ~1e-(digits+40) log L)."""
    return Fraction(str(sp.N(edge_weight_var(act), digits + 45)))


def _run(act, rho: Fraction, depth: int, prec: int, weight_var: Fraction, kernel: str = "gp"):
    """The unnormalized ``(k(x, x'), k(x, x), k(x', x'))`` after ``depth`` layers of the exact recursion
    (:func:`rntk_sym.general.run`, mpmath at ``prec`` bits): ``k_{depth+1}`` (``"gp"``) or ``Omega_{depth+1}``."""
    from .general import Model, run

    m = Model("ffnet", act, weight_var, Fraction(0), None)
    with mpmath.workprec(prec):
        u, v = (mpmath.mpf(x.numerator) / x.denominator for x in (1 - rho, 1 + rho))
        return run("mp", m, mpmath.mpf(1), mpmath.mpf(1), u, depth, kernel, normalize=False, v=v)


def _state(act, rho: Fraction, depth: int, prec: int, weight_var: Fraction):
    """``(q, c)`` after ``depth`` layers: ``q = k_{depth+1}(x, x)``, ``c`` the normalized GP kernel ``GP_depth``."""
    k12, k11, _ = _run(act, rho, depth, prec, weight_var)
    with mpmath.workprec(prec):
        return +k11, k12 / k11


def _evaluate(fs, ctx, q, c):
    """``F(q, c) = c + sum f_n(c) q^n`` and the size of its last term."""
    total, last = ctx.mpf(c), ctx.zero
    for n, f in enumerate(fs, start=1):
        last = _poly_c(ctx, f, c) * q ** n
        total += last
    return total, abs(last)


def _poly_c(ctx, f: dict, c):
    """A polynomial in ``c`` (``{(0, j): Fraction}``) at ``c``."""
    return ctx.fsum(ctx.mpf(v.numerator) / v.denominator * c ** j for (_, j), v in f.items())


def correlation_limit(rho, activation, digits: int = 20):
    """``c_inf(rho) = lim_L GP_L = lim_L NTK_L`` at the ``q* = 0`` edge, ``(value, error)`` (mpf, ``digits`` + 10
    digits): the exact recursion to depths ``N`` and ``2N`` plus the invariant's tail ``F(q_N, c_N)`` (order
    ``ORDER``). ``N`` is chosen so that ``q_N^(ORDER+1)`` is below ``10^-(digits+5)``; the error is the two depths'
    difference plus twice the last tail term at ``N`` plus the recursion's rounding (two precisions)."""
    from .activations import get_activation

    act = get_activation(activation) if isinstance(activation, str) else activation
    _require_odd(act)
    return _correlation_limit(inputs.rho_exact(rho, digits + 10), act, digits)


@cache
def _correlation_limit(r: Fraction, act, digits: int):
    """:func:`correlation_limit` at the exact ``r`` (cached: ``rntk rate`` asks for it three times)."""
    a = float(coefficients(act)["a"])
    N = max(64, math.ceil(10 ** ((digits + 5) / (ORDER + 1)) / a))
    fs = invariant(act)
    ctx = _ctx(digits + 10)
    prec = int(math.ceil((digits + 30) * math.log2(10)))
    weight_var = edge_fraction(act, digits)
    values = []
    for depth, p in ((N, prec), (2 * N, prec), (2 * N, prec + 64)):
        q, c = _state(act, r, depth, p, weight_var)
        with mpmath.workprec(p):
            values.append(_evaluate(fs, ctx, ctx.mpf(q), ctx.mpf(c)))
    (v1, t1), (v2, _), (v3, _) = values
    return v3, abs(v2 - v1) + 2 * t1 + abs(v3 - v2)


def _lift(p: dict) -> dict:
    return {(i, j, 0): v for (i, j), v in p.items()}


@cache
def ntk_solutions(act) -> tuple:
    """``(G, H)``, polynomials in ``(q, c, log q)`` (``{(i, j, m): Fraction}``, to order ``q^ORDER``): a formal
    solution ``G = c/a + g_L(c) q log q + ...`` of the NTK recursion ``T' <- chi(q, c) T' + V(q) c'`` (one layer,
    ``G(V, c') = chi G + E12``; the coefficient of ``q log q`` is forced by the resonance, that of ``q`` set to 0) and
    the homogeneous solution ``H = q + ...`` (``H(V, c') = chi H``, no logarithms). Every order is solved exactly; the
    residual's lower orders are checked to vanish (AssertionError otherwise)."""
    V, e12, chi = (_lift(p) for p in maps(act))
    cmap = _lift(correlation_map(act))
    a = coefficients(act)["a"]
    n = ORDER + 1
    w = _add({(i - 1, j, 0): v for (i, j, _), v in V.items()}, {(0, 0, 0): Fraction(-1)})  # V/q - 1
    lam, wk = {}, {(0, 0, 0): Fraction(1)}
    for k in range(1, n + 1):  # log V = log q + log(1 + w)
        wk = _mul(wk, w, n)
        lam = _add(lam, _scale(wk, Fraction((-1) ** (k + 1), k)))
    bases = (V, cmap, _add({(0, 0, 1): Fraction(1)}, lam))
    powers = ([{(0, 0, 0): Fraction(1)}], [{(0, 0, 0): Fraction(1)}], [{(0, 0, 0): Fraction(1)}])

    def power(axis, k):
        while len(powers[axis]) <= k:
            powers[axis].append(_mul(powers[axis][-1], bases[axis], n))
        return powers[axis][k]

    def residual(P, forcing):  # P(V, c', log V) - chi P - forcing
        out: dict = {}
        for key, v in P.items():
            out = _add(out, _scale(_mul(_mul(power(0, key[0]), power(1, key[1]), n), power(2, key[2]), n), v))
        return _add(out, _scale(_mul(chi, P, n), -1), _scale(forcing, -1))

    def at_order(R, k):  # {log power m: {(0, j, 0): value}} of the q^k coefficient
        out: dict = {}
        for (i, j, m), v in R.items():
            if i == k:
                out.setdefault(m, {})[0, j, 0] = v
        return out

    G = {(0, 1, 0): 1 / a}
    for k in range(1, ORDER + 1):  # adding d(c, l) q^k moves the order q^(k+1) by -(k-1) a d - a dd/dl
        R = residual(G, e12)
        assert all(i > k for (i, _, _) in R), "the NTK's formal solution: lower orders do not vanish"
        Rk, d = at_order(R, k + 1), {}
        for m in range(max(Rk, default=0), -1, -1):
            if k == 1:  # resonance: the log's coefficient absorbs the order, the q term is free (0)
                if m in Rk:
                    d[m + 1] = _scale(Rk[m], 1 / (a * (m + 1)))
            else:
                d[m] = _scale(_add(Rk.get(m, {}), _scale(d.get(m + 1, {}), -a * (m + 1))), 1 / ((k - 1) * a))
        for m, dm in d.items():
            G = _add(G, {(k, j, m): v for (_, j, _), v in dm.items()})
    H = {(1, 0, 0): Fraction(1)}
    for k in range(1, ORDER):  # adding d(c) q^(k+1) moves the order q^(k+2) by -k a d
        R = residual(H, {})
        assert all(i > k + 1 for (i, _, _) in R) and all(m == 0 for (_, _, m) in R)
        H = _add(H, {(k + 1, j, 0): v / (k * a) for (_, j, _), v in at_order(R, k + 2).get(0, {}).items()})
    return G, H


def _poly3(ctx, P: dict, q, c):
    lq = ctx.log(q)
    return ctx.fsum(ctx.mpf(v.numerator) / v.denominator * q ** i * c ** j * lq ** m for (i, j, m), v in P.items())


def ntk_constant(rho, activation, digits: int = 20):
    """``E`` in ``NTK_L = c_inf - 2 A log L/L + E/L + O(log^2 L/L^2)`` (sec. 9.3), ``(value, error)``:
    ``E = A (1 - 2 log a) + K' - c_inf K`` with ``K' = (Theta'_N - G(q_N, c_N))/H(q_N, c_N)`` and
    ``K = (Theta_N - G(q_N, 1))/H(q_N, 1)`` the coefficients of the homogeneous solution in the NTK off and on the
    diagonal (:func:`ntk_solutions`), read off the exact mpmath recursion at depths ``N`` and ``4N``; error: their
    difference plus the error of ``c_inf``."""
    from .activations import get_activation

    act = get_activation(activation) if isinstance(activation, str) else activation
    _require_odd(act)
    r = inputs.rho_exact(rho, digits + 10)
    cinf, cerr = correlation_limit(rho, act, digits)
    a = coefficients(act)["a"]
    G, H = ntk_solutions(act)
    N = max(200, math.ceil(10 ** ((digits + 5) / ORDER) / float(a)))
    prec = int(math.ceil((digits + 30) * math.log2(10)))
    weight_var = edge_fraction(act, digits)
    ctx = _ctx(digits + 10)
    out = []
    for depth in (N, 4 * N):
        k12, k11, _ = _run(act, r, depth, prec, weight_var)
        o12, o11, _ = _run(act, r, depth, prec, weight_var, "ntk")  # Theta_{N+1} = k_{N+1} + Omega_{N+1}
        with mpmath.workprec(prec):
            q, c = ctx.mpf(k11), ctx.mpf(k12 / k11)
            kp = (ctx.mpf(k12 + o12) - _poly3(ctx, G, q, c)) / _poly3(ctx, H, q, c)
            k = (ctx.mpf(k11 + o11) - _poly3(ctx, G, q, ctx.one)) / _poly3(ctx, H, q, ctx.one)
        A = cinf * (1 - cinf ** 2) / 6
        out.append(A * (1 - 2 * ctx.log(ctx.mpf(a.numerator) / a.denominator)) + kp - cinf * k)
    return out[1], abs(out[1] - out[0]) + cerr * (1 + abs(out[1]))


def limit(rho, activation, *, kernel: str = "ntk", digits: int = 20):
    """:class:`rntk_sym.asymptotics.Limit` of the normalized NTK or GP kernel (``kernel``) at the ``q* = 0`` edge:
    both tend to ``c_inf(rho)`` (:func:`correlation_limit`; sec. 9.3)."""
    from .asymptotics import Limit

    v, e = correlation_limit(rho, activation, digits)
    name = "NTK_L" if kernel == "ntk" else "GP_L"
    return Limit(v, e, "edge of chaos", f"edge of chaos at q* = 0 ({activation.spec})",
                 f"{name} -> c_inf(rho), the frozen correlation: the exact recursion to depth N plus the invariant's "
                 f"tail F(q_N, c_N) to order q^{ORDER}, error |F at N - F at 2N| + 2 |last term| (docs/asymptotics.md "
                 "sec. 9.3)", None)


def expansion(rho, activation, *, kernel: str = "ntk", digits: int = 20):
    """:class:`rntk_sym.asymptotics.Expansion` at the ``q* = 0`` edge (sec. 9.3), with ``A = c_inf (1 - c_inf^2)/6``:
    NTK ``-2 A log L/L + E/L`` (:func:`ntk_constant`), remainder ``O(log^2 L/L^2)``; GP ``A/L - A C_q log L/L^2``,
    remainder ``O(1/L^2)``."""
    from .asymptotics import Expansion, Term

    lim = limit(rho, activation, kernel=kernel, digits=digits)
    c, ce = lim.value, lim.error
    A = c * (1 - c * c) / 6
    Ae = ce * abs(1 - 3 * c * c) / 6 + abs(A) * mpmath.mpf(10) ** (-digits - 5)
    Cq = coefficients(activation)["C_q"]
    form = (f"q* = 0 edge: A = c_inf (1 - c_inf^2)/6, C_q = 1 - b/a^2 = {Cq} (length map q - a q^2 + b q^3, "
            "docs/asymptotics.md sec. 9.3; the NTK's 1/L constant E = A (1 - 2 log a) + K' - c_inf K from the NTK's "
            "homogeneous coefficients on the exact recursion)")
    if kernel == "ntk":
        E, Ee = ntk_constant(rho, activation, digits)
        return Expansion(lim, [Term(-2 * A, 2 * Ae, Fraction(1), 1, None), Term(E, Ee, Fraction(1), 0, None)],
                         "log(L)^2 / L^2", form)
    cq = mpmath.mpf(Cq.numerator) / Cq.denominator
    return Expansion(lim, [Term(A, Ae, Fraction(1), 0, None), Term(-A * cq, Ae * abs(cq), Fraction(2), 1, None)],
                     "1/L^2", form)


__all__ = ["zero_edge", "edge_weight_var", "maps", "correlation_map", "coefficients", "invariant",
           "correlation_limit", "taylor_derivatives", "edge_fraction", "limit", "expansion", "ntk_solutions",
           "ntk_constant"]
