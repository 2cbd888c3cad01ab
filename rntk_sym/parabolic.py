"""Formal solutions at a parabolic fixed point, for the skip-ahead at the edge of chaos (docs/asymptotics.md sec. 11).

A small variable ``x`` (``u = 1 - c`` for a smooth activation, the angle ``theta`` for the ``ab_relu`` family) obeys

    x_{l+1} = f(x_l) = x_l U(x_l),        U(x) = 1 - a x + U_2 x^2 + ...   (a > 0: x_l -> 0 like 1/(a l)),

and a kernel entry obeys the linear recursion ``T_{l+1} = P(x_l) T_l + Q(x_l)`` with ``P(x) = 1 - p x + ...`` and
``m = p / a`` a positive integer (2 for smooth activations, 3 for the ``ab_relu`` family). Given the Taylor
coefficients of ``U``, ``P`` and ``Q`` (lists of mpf, coefficient k of ``x^k``), :func:`solve` finds, order by
order, the formal series

- the Fatou coordinate ``Phi(x) = A/x + B log x + sum_{k>=1} d_k x^k`` with ``Phi(f(x)) = Phi(x) + 1``;
- the multiplier's eigenfunction ``h(x) = x^m exp(sum_{k>=1} e_k x^k)`` with ``h(f(x)) = P(x) h(x)``;
- a particular solution ``S(x) = sum_{k>=-(m+1)} s_k x^k + sigma log x`` (``s_0 = 0``) of
  ``S(f(x)) - S(x) = Q(x) / h(f(x))``;

so that, exactly for the formal series, ``Phi(x_L) = Phi(x_N) + L - N`` and
``T_L = h(x_L) (T_N / h(x_N) + S(x_L) - S(x_N))`` (:func:`advance`). Each series is a sum
``sum_k c_k x^k (U^k - 1) + sigma log U = R`` whose order ``x^j`` fixes ``c_{j-1}`` (coefficient
``[U^{j-1}]_1 = -(j - 1) a``), or at ``j = 1`` the log coefficient ``sigma`` (coefficient ``[log U]_1 = -a``): one
generic solver, :func:`_difference_solve`. The series are asymptotic (the Fatou coordinate is Borel summable, not
convergent); truncated after ``x^n`` at ``x <= 10^-1`` they err by about their last terms, which
:mod:`rntk_sym.skip_general` measures.
"""
from __future__ import annotations

from dataclasses import dataclass

from .asymptotics import _fatou_theta, _log1, _mul, _phi, _pow1


def _exp0(ctx, a, n):
    """``exp(a)`` for ``a[0] = 0`` (``E' = a' E``)."""
    out = [ctx.one] + [ctx.zero] * (n - 1)
    for k in range(1, n):
        out[k] = sum(j * a[j] * out[k - j] for j in range(1, min(k, len(a) - 1) + 1)) / k
    return out


def _difference_solve(ctx, U, upow, lg, rhs: dict, kmin: int, kmax: int):
    """``({k: c_k}, sigma)`` with ``sum_{kmin <= k <= kmax, k != 0} c_k x^k (U^k - 1) + sigma log U = sum_j rhs[j] x^j``
    through order ``x^(kmax + 1)``; ``upow[k]`` = the series of ``U^k``, ``lg`` that of ``log U``. The orders below
    ``min(kmin + 1, 1)`` of ``rhs`` must vanish (the caller's leading orders)."""
    c, sigma = {}, None
    for j in range(min(kmin + 1, 1), kmax + 2):
        r = rhs.get(j, ctx.zero)
        r -= sum((ck * upow[k][j - k] for k, ck in c.items() if j - k < len(upow[k])), ctx.zero)
        if sigma is not None and j < len(lg):
            r -= sigma * lg[j]
        k = j - 1
        if k == 0:
            sigma = r / lg[1]
        elif k >= kmin:
            c[k] = r / upow[k][1]
    return c, ctx.zero if sigma is None else sigma


@dataclass(frozen=True)
class Conjugacy:
    """The formal series of the module docstring, truncated after ``x^n``: ``A, B, d`` (Phi), ``m, e`` (h),
    ``s, sigma`` (S); ``d, e, s`` dicts by power. ``a`` = ``-U_1`` and ``p`` = ``-P_1`` as given."""

    ctx: object
    n: int
    a: object
    p: object
    A: object
    B: object
    d: dict
    m: int
    e: dict
    s: dict
    sigma: object

    def phi(self, x):
        return _phi(self.ctx, x, self.A, self.B, self.d)

    def x_at(self, target):
        """``x`` with ``Phi(x) = target`` (Newton, :func:`rntk_sym.asymptotics._fatou_theta`)."""
        return _fatou_theta(self.ctx, self.A, self.B, self.d, target)

    def log_h(self, x):
        return self.m * self.ctx.log(x) + sum(ek * x ** k for k, ek in self.e.items())

    def h_times_S(self, x):
        """``h(x) S(x)``, formed term by term (``S(x) ~ s_{-m-1} x^(-m-1)`` is large where ``h`` is small)."""
        ctx = self.ctx
        hx = ctx.exp(sum(ek * x ** k for k, ek in self.e.items()))
        return hx * (sum(sk * x ** (k + self.m) for k, sk in self.s.items()) + self.sigma * x ** self.m * ctx.log(x))

    def S(self, x):
        return sum(sk * x ** k for k, sk in self.s.items()) + self.sigma * self.ctx.log(x)

    def last_terms(self, x) -> object:
        """The size of the truncation, relative: the largest of the two last terms of ``Phi x / A``, of
        ``sum e_k x^k`` and of ``S x^(m+1) / s_(-m-1)`` at ``x`` (each series' next terms are of this order)."""
        top = max(self.d), max(self.e), max(self.s)
        out = [abs(self.d[k] * x ** (k + 1) / self.A) for k in (top[0] - 1, top[0])]
        out += [abs(self.e[k] * x ** k) for k in (top[1] - 1, top[1])]
        lead = self.s[-self.m - 1]
        out += [abs(self.s[k] * x ** (k + self.m + 1) / lead) for k in (top[2] - 1, top[2])]
        return max(out)


def fatou(ctx, U, n: int):
    """``(A, B, {k: d_k})`` of the Fatou coordinate ``Phi = A/x + B log x + sum_{k=1}^{n} d_k x^k`` of ``f = x U(x)``
    (``U[0] = 1``; at least ``n + 2`` coefficients of ``U``)."""
    size = len(U)
    upow = {k: _pow1(ctx, U, k, size) for k in range(-1, n + 1) if k}
    d, B = _difference_solve(ctx, U, upow, _log1(ctx, U, size), {0: ctx.one}, -1, n)
    return d.pop(-1), B, d


def solve(ctx, U, P, Q, n: int) -> Conjugacy:
    """:class:`Conjugacy` for ``f(x) = x U(x)``, ``P``, ``Q`` (Taylor coefficients in ``ctx``, ``U[0] = P[0] = 1``,
    at least ``n + m + 3`` of each), truncated after ``x^n``. ValueError naming ``activation`` when ``p / a`` is not
    an integer (the recursion's homogeneous solution is then no power series times ``x^m``)."""
    a, p = -U[1], -P[1]
    ratio = p / a
    m = int(ctx.nint(ratio))
    if m < 1 or abs(ratio - m) > ctx.ldexp(1, 20 - ctx.prec) * (1 + abs(ratio)):
        raise ValueError(f"activation: the NTK's multiplier and the correlation map give p/a = {ctx.nstr(ratio, 8)}, "
                         "not a positive integer: no skip-ahead series")
    size = n + m + 4
    U, P, Q = (list(s[:size]) + [ctx.zero] * (size - len(s)) for s in (U, P, Q))
    lg = _log1(ctx, U, size)
    upow = {k: _pow1(ctx, U, k, size) for k in range(-(m + 1), n + 1) if k}
    A, B, d = fatou(ctx, U, n)  # sum_k c_k x^k (U^k - 1) + B log U = 1, c_{-1} = A
    # h = x^m exp(D): m log U + sum e_k x^k (U^k - 1) = log P (order 1 fixes the log coefficient, which is m)
    logP = _log1(ctx, P, size)
    e, m_solved = _difference_solve(ctx, U, upow, lg, dict(enumerate(logP)), 1, n)
    # S: S(f) - S = Q / (P h) = x^-m W, W = Q exp(-D) / P
    W = _mul(_mul(Q, _pow1(ctx, P, -1, size), size), _exp0(ctx, [ctx.zero] + [-e.get(k, ctx.zero)
                                                                         for k in range(1, size)], size), size)
    s, sigma = _difference_solve(ctx, U, upow, lg, {j - m: wj for j, wj in enumerate(W)}, -(m + 1), n)
    del m_solved  # equals m up to rounding (checked above through p / a)
    return Conjugacy(ctx, n, a, p, A, B, d, m, e, s, sigma)


def advance(cj: Conjugacy, x_N, T_N, steps):
    """``(x_L, T_L)`` from ``(x_N, T_N)`` after ``steps = L - N`` layers: ``Phi(x_L) = Phi(x_N) + steps`` and
    ``T_L = h(x_L) (T_N / h(x_N) + S(x_L) - S(x_N))`` (formed as ``(h(x_L)/h(x_N)) T_N + h(x_L) S(x_L) -
    (h(x_L)/h(x_N)) h(x_N) S(x_N)``)."""
    ctx = cj.ctx
    x_L = cj.x_at(cj.phi(x_N) + steps)
    ratio = ctx.exp(cj.log_h(x_L) - cj.log_h(x_N))
    return x_L, ratio * T_N + cj.h_times_S(x_L) - ratio * cj.h_times_S(x_N)


__all__ = ["Conjugacy", "fatou", "solve", "advance"]
