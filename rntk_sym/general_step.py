"""The layers of :func:`rntk_sym.general.run`, written once against a context (issue 17).

The same functions run on numpy arrays (float64, vectorized over the pairs), on mpmath numbers, on arb
balls (the contexts :func:`rntk_sym.general.run` builds) and, compiled by numba, on one float64 pair at
a time (:mod:`rntk_sym.backends.compiled_general`). The mathematics (symbols of docs/activations.md,
``sigma_w^2`` = ``sw2``, ``sigma_b^2`` = ``sb2``, ``alpha^2`` = ``a2``) is in :mod:`rntk_sym.general`'s
docstring; the state of a pair is its covariance's diagonal ``(q1, q2)``, its gap ``sqrt(q1 q2) - c`` and
co-gap ``sqrt(q1 q2) + c`` ("Cancellation-free state").

A context ``ctx`` supplies ``sqrt``; ``duals(q1, q2, gap, cogap)`` =
``((E1, Ed1), (E2, Ed2), (E12, Ed12), (M, N))``: the duals on both diagonals and at the pair, and the
complements of :func:`complement_tiers`; the ResNet's state accumulators ``accumulator``, ``lead``,
``add``, ``total`` (:class:`rntk_sym.backends.floats._Compensated` in float64); for
:func:`price_complement` also ``expect(q1, q2, gap, cogap)`` = ``(E, Ed)``,
``derivative_dual(q1, q2, gap, cogap)`` = ``Ed`` and ``node_dot(ed, w)`` (the quadrature sum).

Written for numba as well: no star-unpacking, no comprehensions, tuples of fixed length.
"""
from __future__ import annotations

COMPLEMENT_BELOW = 1 / 16  # use the integral where 1 - correlation is below this (the direct form loses <= 16 ulp)
# Gauss-Legendre nodes of the integral by range of u = 1 - correlation: the integrand is analytic in s = sqrt(gap)
# up to s^2 ~ 2 sqrt(q1 q2) (v = 0): a Bernstein ellipse of parameter ~ 4 sqrt(2/u), so n nodes err by ~ (u/32)^n.
# Measured against 60 digits (erf, GELU, relu, abs, leaky relu, relu^2, sin, exp; q = 1 and 8; u from 1e-14 to 1/16):
# these tiers give at most 3.5e-16 relative in M, as the former (4 nodes below 1e-4, 12 above) did, at less cost
COMPLEMENT_TIERS = ((1e-8, 3), (1e-4, 4), (1e-2, 9), (COMPLEMENT_BELOW, 12))


def square(x):
    """``x * x`` (in arb, ``x ** 2`` of a ball containing 0 is NaN: pow goes through the logarithm)."""
    return x * x


def pair(gap, cogap):
    """The cross entry ``c = sqrt(q1 q2) - gap = cogap - sqrt(q1 q2)`` as ``(cogap - gap) / 2``."""
    return (cogap - gap) / 2


def spread(ctx, q1, q2):
    """``(sqrt q1 - sqrt q2)^2 / 2 = (q1 + q2)/2 - sqrt(q1 q2)``, >= 0 without cancellation."""
    return square(ctx.sqrt(q1) - ctx.sqrt(q2)) / 2


def affine_excess(ctx, a, b, diag):
    """``sqrt(G1 G2) - a sqrt(g1 g2) - b >= 0`` for ``G = a g + b``: ``a b (sqrt g1 - sqrt g2)^2 /
    (sqrt(G1 G2) + a sqrt(g1 g2) + b)`` (``G1 G2 - (a sqrt(g1 g2) + b)^2 = a b (sqrt g1 - sqrt g2)^2``);
    ``diag = (g1, g2)``."""
    g1, g2 = diag
    return a * b * square(ctx.sqrt(g1) - ctx.sqrt(g2)) / (ctx.sqrt((a * g1 + b) * (a * g2 + b))
                                                           + a * ctx.sqrt(g1 * g2) + b)


def affine_gap(ctx, a, b, diag, gap):
    """Gap of ``a K + b`` from that of ``K``: ``a gap`` plus :func:`affine_excess` (no cancellation)."""
    return a * gap + affine_excess(ctx, a, b, diag)


def affine_cogap(ctx, a, b, diag, cogap):
    """Co-gap ``sqrt(G1 G2) + (a c + b)`` of ``a K + b`` from that of ``K``: ``a cogap + 2 b`` plus
    :func:`affine_excess` (a sum of terms >= 0)."""
    return a * cogap + 2 * b + affine_excess(ctx, a, b, diag)


def run_layers(ctx, ffnet, sw2, sb2, a2, n1, n2, u, v, depth):
    """``depth`` >= 1 layers from the inputs (squared norms ``n1, n2``, ``u = 1 - rho``, ``v = 1 + rho``);
    returns the final state ``(q1, q2, gap, cogap, X1, X2, X12)``.

    FFNet (``ffnet`` true): ``q = k_{L+1}`` (diagonals), gap and co-gap of ``k_{L+1}``, ``X = Omega_{L+1}``.
    ResNet: ``q = K_L``, the gap and co-gap of ``K_L``, ``X = T_L`` (``a2`` = alpha^2; the state is kept in
    the context's accumulators, compensated in float64, since each block moves it by O(alpha^2))."""
    r0 = ctx.sqrt(n1 * n2)
    # the input kernel <x, x'> = sqrt(n1 n2) - gap = cogap - sqrt(n1 n2)
    gap, cogap = r0 * u, r0 * v
    if ffnet:
        gap, cogap = affine_gap(ctx, sw2, sb2, (n1, n2), gap), affine_cogap(ctx, sw2, sb2, (n1, n2), cogap)
        q1, q2 = sw2 * n1 + sb2, sw2 * n2 + sb2
        # Theta_1 = k_1 (and Omega_1 = k_1, a placeholder that depth >= 1 replaces)
        return ffnet_layers(ctx, sw2, sb2, q1, q2, gap, cogap, q1, q2, pair(gap, cogap), q1, q2, pair(gap, cogap),
                            depth)
    return resnet_layers(ctx, sw2, sb2, a2, n1, n2, gap, cogap, 0 * n1, 0 * n2, 0 * gap, depth)


def ffnet_layers(ctx, sw2, sb2, q1, q2, gap, cogap, t1, t2, t12, o1, o2, o12, depth):
    """``depth`` FFNet layers from ``k_l`` (diagonal ``q1, q2``, gap, co-gap), ``Theta_l = (t1, t2, t12)`` and
    ``Omega_l = (o1, o2, o12)``; returns ``(q1, q2, gap, cogap, o1, o2, o12)`` after them (:func:`run_layers`)."""
    for _ in range(depth):
        o1, o2, o12, q1, q2, gap, cogap = ffnet_layer(ctx, sw2, sb2, q1, q2, gap, cogap, t1, t2, t12)
        t1, t2, t12 = q1 + o1, q2 + o2, pair(gap, cogap) + o12
    return q1, q2, gap, cogap, o1, o2, o12


def resnet_layers(ctx, sw2, sb2, a2, k1, k2, gap, cogap, T1, T2, T12, depth):
    """``depth`` ResNet blocks from the state ``(K1, K2, gap, cogap, T1, T2, T12)``; returns the state after
    them (:func:`run_layers`)."""
    k1, k2 = ctx.accumulator(k1), ctx.accumulator(k2)
    g, h = ctx.accumulator(gap), ctx.accumulator(cogap)
    T1, T2, T12 = ctx.accumulator(T1), ctx.accumulator(T2), ctx.accumulator(T12)
    for _ in range(depth):
        d = resnet_increments(ctx, sw2, sb2, a2, ctx.lead(k1), ctx.lead(k2), ctx.lead(g), ctx.lead(h),
                              ctx.lead(T1), ctx.lead(T2), ctx.lead(T12))
        k1, k2, g, h = ctx.add(k1, d[0]), ctx.add(k2, d[1]), ctx.add(g, d[2]), ctx.add(h, d[3])
        T1, T2, T12 = ctx.add(T1, d[4]), ctx.add(T2, d[5]), ctx.add(T12, d[6])
    return (ctx.total(k1), ctx.total(k2), ctx.total(g), ctx.total(h), ctx.total(T1), ctx.total(T2),
            ctx.total(T12))


def ffnet_layer(ctx, sw2, sb2, q1, q2, gap, cogap, t1, t2, t12):
    """One FFNet layer from ``k_l`` (diagonal ``q1, q2``, gap, co-gap) and ``Theta_l = (t1, t2, t12)``:
    ``(Omega_{l+1}, k_{l+1})`` as ``(o1, o2, o12, q1', q2', gap', cogap')``."""
    duals = ctx.duals(q1, q2, gap, cogap)
    e1, e2, e12, mn = duals[0], duals[1], duals[2], duals[3]
    o1, o2, o12 = sw2 * e1[1] * t1, sw2 * e2[1] * t2, sw2 * e12[1] * t12
    q1, q2 = sw2 * e1[0] + sb2, sw2 * e2[0] + sb2
    # sqrt(q1' q2') -+ c' with c' = sw2 E12 + sb2, q' = sw2 E + sb2, E12 = (E1 + E2)/2 -+ (M or N)
    s = spread(ctx, q1, q2)
    return o1, o2, o12, q1, q2, sw2 * mn[0] - s, sw2 * mn[1] + 2 * sb2 - s


def resnet_increments(ctx, sw2, sb2, a2, k1, k2, gap, cogap, T1, T2, T12):
    """One ResNet block's increments of ``(K1, K2, gap, cogap, T1, T2, T12)``: ``S = sw2 K + sb2``,
    ``K += a2 E(S)``, ``T += a2 (sw2 Ed(S) T + E(S) + Ed(S) S)``."""
    S1, S2 = sw2 * k1 + sb2, sw2 * k2 + sb2
    gap_s, cogap_s = affine_gap(ctx, sw2, sb2, (k1, k2), gap), affine_cogap(ctx, sw2, sb2, (k1, k2), cogap)
    duals = ctx.duals(S1, S2, gap_s, cogap_s)
    e1, e2, e12, mn = duals[0], duals[1], duals[2], duals[3]
    dT1 = a2 * (sw2 * e1[1] * T1 + e1[0] + e1[1] * S1)
    dT2 = a2 * (sw2 * e2[1] * T2 + e2[0] + e2[1] * S2)
    dT12 = a2 * (sw2 * e12[1] * T12 + e12[0] + e12[1] * pair(gap_s, cogap_s))
    # the gap of K + alpha^2 E: (K1 + K2)/2 - K12 grows by alpha^2 M (the co-gap: K12 + (K1 + K2)/2 by
    # alpha^2 N); the geometric-mean terms are exact
    dspread = spread(ctx, k1, k2) - spread(ctx, k1 + a2 * e1[0], k2 + a2 * e2[0])
    return a2 * e1[0], a2 * e2[0], dspread + a2 * mn[0], dspread + a2 * mn[1], dT1, dT2, dT12


def price_complement(ctx, sign, q1, q2, dist, r12, mean, x, wx, k0, k1):
    """``(M, N)`` near correlation ``sign`` (+1 or -1) by Price's theorem: ``E12 = E(c_max) - I+``
    (``sign`` = 1, ``dist`` = gap) or ``E(-c_max) + I-`` (``sign`` = -1, ``dist`` = co-gap), with
    ``I = dist int_0^1 Ed(s^2 = dist t^2) 2 t dt`` by the Gauss-Legendre nodes ``x[k0:k1]`` on [0, 1] and
    weights ``wx = 2 x w``; ``mean = (E1 + E2) / 2``, ``r12 = sqrt(q1 q2)`` (see
    :func:`rntk_sym.general.complement`). A numpy context passes its pairs as columns and all nodes as the
    one row ``x[0]``."""
    integral = 0.0
    for k in range(k0, k1):
        s2 = dist * (x[k] * x[k])
        if sign > 0:
            ed = ctx.derivative_dual(q1, q2, s2, 2 * r12 - s2)
        else:
            ed = ctx.derivative_dual(q1, q2, 2 * r12 - s2, s2)
        integral = integral + ctx.node_dot(ed, wx[k])
    zero = r12 * 0
    if sign > 0:  # (gap, cogap) at c = sign * c_max
        end = ctx.expect(q1, q2, zero, 2 * r12)[0]
    else:
        end = ctx.expect(q1, q2, 2 * r12, zero)[0]
    integral = dist * integral
    # E12 = end - I (sign +) or end + I (sign -): M = mean - E12, N = mean + E12
    return mean - end + sign * integral, mean + end - sign * integral


def tier(w):
    """Index into :data:`COMPLEMENT_TIERS` of ``w = 1 -+ correlation`` (-1: the direct form; at ``w = 0``
    the integral is 0 and the direct form is exact, and Ed may be infinite: sign)."""
    lower = 0.0
    for t in range(len(COMPLEMENT_TIERS)):
        upper = COMPLEMENT_TIERS[t][0]
        if w > lower and w < upper:
            return t
        lower = upper
    return -1


def pair_complement(ctx, q1, q2, gap, cogap, e1, e2, e12, x, wx, offsets):
    """:func:`rntk_sym.general.complement` for one pair (the compiled context's driver): the direct
    ``(E1 + E2)/2 -+ E12``, or :func:`price_complement` on the tier's nodes ``x[offsets[t]:offsets[t + 1]]``
    where ``1 -+ correlation`` is below ``COMPLEMENT_BELOW``."""
    mean = (e1 + e2) / 2
    M, N = mean - e12, mean + e12
    r12 = ctx.sqrt(q1 * q2)
    t = tier(gap / r12)
    if t >= 0:
        return price_complement(ctx, 1.0, q1, q2, gap, r12, mean, x, wx, offsets[t], offsets[t + 1])
    t = tier(cogap / r12)
    if t >= 0:
        return price_complement(ctx, -1.0, q1, q2, cogap, r12, mean, x, wx, offsets[t], offsets[t + 1])
    return M, N


def angle_helpers(ctx, r12, u, v):
    """The closed forms' helper symbols ``S = sqrt(q1 q2 - c^2) = r12 sqrt(u v)`` and
    ``theta = arccos(c / r12) = 2 atan2(sqrt u, sqrt v)`` from ``u = 1 - corr``, ``v = 1 + corr`` (clipped
    to [0, 2]) and ``r12 = sqrt(q1 q2)`` (:mod:`rntk_sym.activations.families`)."""
    su, sv = ctx.sqrt(u), ctx.sqrt(v)
    return r12 * su * sv, 2 * ctx.atan2(su, sv)
