r"""Exact maps between this package's normalized kernels and other NTK conventions.

Derivations and sources: ``docs/conventions.md``. Symbols -> arguments:

- ``depth`` = L, always *this package's* depth: the number of ReLU layers (FFNet) or residual blocks
  (ResNet). A source that counts differently (Bietti & Bach's "L + 1 layers", the Arora et al. UCI
  code's ``d_max = L + 1``) is still called with this L.
- ``ntk`` = the NTK value, ``gp`` = the GP (NNGP) kernel value of a pair of unit vectors,
  ``rho = <x, x'>``, in the convention ``frm``; ``rntk`` means this package's ``Omegabar_L`` and
  ``rho_L`` (:func:`rntk_sym.ntk`, :func:`rntk_sym.gp`), both 1 on the diagonal.
- ``gamma`` / ``alpha``: the ResNet's residual scale (alpha = L^-gamma or constant), as in
  :func:`rntk_sym.kernel`.

Every convention here is, on the unit sphere, a fixed linear image of ``(Omegabar_L, rho_L)``:

    NTK_conv = a Omegabar_L + b rho_L,      GP_conv = c rho_L,

with ``(a, b, c)`` given by :func:`coefficients` (exact: rationals in L, powers of 2 and of
``1 + alpha^2``). Off the sphere every one of them is positively homogeneous:
``k(x, x') = |x| |x'| k(rho)`` (neural-tangents divides its input covariance by the input
dimension D, so there ``k(x, x') = |x| |x'| / D * k(rho)``; see :func:`input_scale`).

Number systems: float64 (numbers or numpy arrays), mpmath ``mpf`` (the result keeps the input's
precision), and :class:`rntk_sym.KernelValue` (the error is propagated). The coefficients are computed
in a private mpmath context at a precision above the inputs', so that e.g. ``2^-L`` or
``(1 + alpha^2)^(L-1)`` never round before they are combined.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import mpmath
import numpy as np

from . import inputs
from .backends import MPBackend
from .kernels import KernelValue, _alpha2
from .kernels import kernel as _kernel


@dataclass(frozen=True)
class Convention:
    """One convention: ``coeffs(ctx, L, alpha2) -> (a, b, c)`` (``c`` None: no GP kernel defined)."""

    name: str
    archs: tuple[str, ...]
    summary: str
    coeffs: Callable
    nt_input: bool = False  # input covariance divided by the input dimension D (neural-tangents)
    # ``(ctx, L, model) -> (a, b, c)`` for any activation and variances (rntk_sym.general.Model); None: the
    # convention is defined for the seeds' relu network only (weight variance 2, no bias)
    model_coeffs: Callable | None = None


def _rntk(ctx, L, A2):
    return ctx.one, 0 * ctx.one, ctx.one


def _seed(ctx, L, A2):
    if A2 is None:  # FFNet: Omega_L = L Omegabar_L, K_L = rho_L
        return L * ctx.one, 0 * ctx.one, ctx.one
    g = (1 + A2) ** (L - 1)  # ResNet: Omega_L(x,x) = 2 L alpha^2 (1+alpha^2)^(L-1), K_L(x,x) = (1+alpha^2)^L
    return 2 * L * A2 * g, 0 * ctx.one, g * (1 + A2)


def _all_trained(scale):
    """All L + 1 weight matrices trained: ``scale * (L Omegabar_L + rho_L)``, GP ``scale * rho_L``."""
    def coeffs(ctx, L, A2):
        s = scale(ctx, L)
        return s * L, s, s
    return coeffs


def _rntk_model(ctx, L, model):
    return _rntk(ctx, L, None)


def _nt_model(ctx, L, model):
    """neural-tangents for any activation and variances, inputs with ``<x, x>/D = 1``: ``nngp = k_{L+1}``,
    ``ntk = Theta_{L+1} = k_{L+1} + Omega_{L+1}``, so ``a = Omega_{L+1}(x, x)`` and ``b = c = k_{L+1}(x, x)``
    (docs/conventions.md, derivation 2). The diagonals come from the one recursion
    (:func:`rntk_sym.general.run`'s unnormalized diagonal) in arb balls where python-flint is present, the
    precision doubled (up to 3 times, from ``64 + 2 log2(L)`` bits above ``ctx``'s) until the radius is
    below ``2^-(prec + 8)`` relative, far below the rounding allowance :func:`convert` adds; otherwise
    (no flint, or the balls did not shrink) in mpmath at twice that precision (an unbounded estimate)."""
    from . import general
    from .backends.ball import precision_doubling
    from .kernels import _has_flint

    work = ctx.prec + 64 + 2 * L.bit_length()
    if _has_flint():
        out, _, done = precision_doubling(lambda p: ((o := _ball_diagonals(general, model, L, p, ctx)), o is not None),
                                          work, 3)
        if done:
            return out[0], out[1], out[1]
    with mpmath.workprec(2 * work):
        one = mpmath.mpf(1)
        om, gp = (general.run("mp", model, one, one, 0 * one, L, k, normalize=False)[1] for k in ("ntk", "gp"))
        return ctx.mpf(om), ctx.mpf(gp), ctx.mpf(gp)


def _ball_diagonals(general, model, L, prec: int, ctx):
    """``(Omega_{L+1}(x, x), k_{L+1}(x, x))`` as mpf, from arb balls at ``prec`` bits; None when a radius
    exceeds ``2^-(ctx.prec + 8)`` of its midpoint."""
    import flint

    from .backends.ball import to_fraction

    out = []
    with flint.ctx.workprec(prec):
        one = flint.arb(1)
        for k in ("ntk", "gp"):
            try:
                ball = general.run("ball", model, one, one, 0 * one, L, k, normalize=False)[1]
            except (ValueError, ZeroDivisionError):  # a radius became infinite
                return None
            if not ball.is_finite():
                return None
            mid, rad = to_fraction(ball.mid()), to_fraction(ball.rad())
            if rad > abs(mid) / 2 ** (ctx.prec + 8):
                return None
            out.append(ctx.mpf(mid.numerator) / mid.denominator)
    return out


def _scikit_ntk(ctx, L, A2):
    return ctx.one * L / (L + 1), ctx.one / (L + 1), None


CONVENTION_TABLE = {
    c.name: c for c in [
        Convention("rntk", ("ffnet", "resnet"),
                   "this package: Omegabar_L and rho_L, 1 on the diagonal", _rntk, model_coeffs=_rntk_model),
        Convention("seed", ("ffnet", "resnet"),
                   "seed 002 / docs/model.md unnormalized: Omega_L and K_L", _seed),
        Convention("neural_tangents", ("ffnet",),
                   "neural-tangents stax.serial([Dense(W_std=sqrt(2)), Relu()] * L, Dense(W_std=sqrt(2))), "
                   "parameterization='ntk', no bias; all layers trained (any activation and variances: "
                   "W_std = sigma_w, b_std = sigma_b, <x, x>/D = 1)",
                   _all_trained(lambda ctx, L: 2 * ctx.one), nt_input=True, model_coeffs=_nt_model),
        Convention("bietti_bach", ("ffnet",),
                   "Bietti & Bach kappa_NTK with L + 1 layers (their index), all layers trained",
                   _all_trained(lambda ctx, L: ctx.one)),
        Convention("arora", ("ffnet",),
                   "Arora et al. 2019 Theta^(L), c_sigma = 2, L hidden layers, all L + 1 layers trained",
                   _all_trained(lambda ctx, L: ctx.one)),
        Convention("arora_code", ("ffnet",),
                   "Arora et al. code (c_sigma = 1: each ReLU layer halves): UCI NTK.py "
                   "kernel_value(X, d_max=L+1, fix_dep=0)",
                   _all_trained(lambda ctx, L: ctx.ldexp(ctx.one, -L))),
        Convention("scikit_ntk", ("ffnet",),
                   "scikit-ntk NeuralTangentKernel(depth=L, bias=0): arora / (L + 1), NTK only",
                   _scikit_ntk),
    ]
}
CONVENTIONS = tuple(CONVENTION_TABLE)


def lookup(name: str, arch: str, what: str = "convention") -> Convention:
    """The convention called ``name``; ValueError naming ``what`` if unknown or not defined for ``arch``."""
    conv = CONVENTION_TABLE[inputs.choice(what, name, CONVENTIONS)]
    if arch not in conv.archs:
        raise ValueError(f"{what}: {name} is defined for arch {' or '.join(conv.archs)} only, got {arch!r}")
    return conv


def _arch(arch) -> str:
    """``arch`` is required: the maps differ between the FFNet and the ResNet (no silent default)."""
    if arch is None:
        raise ValueError("arch: required, one of ffnet, resnet (the conventions' maps depend on it)")
    return inputs.choice("arch", arch, inputs.ARCHS)


def coefficients(convention: str, depth: int, *, arch: str | None = None, gamma=None, alpha=None,
                 prec: int = 113, activation=None, weight_var=None, bias_var=None):
    """``(a, b, c)`` with ``NTK_conv = a Omegabar_L + b rho_L`` and ``GP_conv = c rho_L`` on the sphere
    (``c`` is None when the convention defines no GP kernel), as mpf at ``prec`` bits. ``arch``
    ("ffnet" or "resnet") is required. ``activation``, ``weight_var`` (sigma_w^2), ``bias_var``
    (sigma_b^2): the network of :mod:`rntk_sym.general` (default relu, 2, 0); a convention other than
    ``rntk`` and ``neural_tangents`` is defined for the default only (ValueError naming ``activation``).
    ``Omegabar_L`` and ``rho_L`` are then that network's normalized kernels at unit input norms."""
    arch = _arch(arch)
    conv = lookup(convention, arch)
    L = inputs.depth(depth)
    scale = inputs.scaling(arch, gamma, alpha)
    ctx = MPBackend(prec)
    model = _model(conv, arch, gamma, alpha, activation, weight_var, bias_var)
    if model is not None:
        return conv.model_coeffs(ctx.mp, L, model)
    A2 = None if scale is None else _alpha2(ctx, scale, L)
    return conv.coeffs(ctx.mp, L, A2)


def _model(conv: Convention, arch: str, gamma, alpha, activation, weight_var, bias_var):
    """The general network (:class:`rntk_sym.general.Model`), or None for the seeds' relu network."""
    from . import general

    if not general.uses_general(arch, activation, weight_var, bias_var, gamma, alpha):
        return None
    if conv.model_coeffs is None:
        names = ", ".join(c.name for c in CONVENTION_TABLE.values() if c.model_coeffs is not None)
        raise ValueError(f"activation: the {conv.name} convention is defined for relu with weight_var 2 and "
                         f"bias_var 0 only; other networks: {names}")
    return general.resolve(arch, activation, weight_var, bias_var, gamma, alpha)


def input_scale(convention: str, norm_x, norm_y, input_dim: int | None = None):
    """Factor taking a convention's value at ``rho`` to its value at ``(x, y)``: positive homogeneity.

    ``|x| |y|``, and ``|x| |y| / D`` (``input_dim`` = D) for neural-tangents, whose kernels start from
    ``<x, y> / D``.
    """
    conv = CONVENTION_TABLE[inputs.choice("convention", convention, CONVENTIONS)]
    s = np.multiply.outer(np.asarray(norm_x, dtype=float), np.asarray(norm_y, dtype=float))
    if conv.nt_input:
        if input_dim is None:
            raise ValueError("input_dim: needed for the neural_tangents convention (its kernels use <x, y> / D)")
        s = s / input_dim
    return s


def _map(frm: str, to: str, depth, arch, gamma, alpha, prec, network):
    """``(p, q, r)``: ``NTK_to = p NTK_frm + q GP_frm``, ``GP_to = r GP_frm`` (r None: no GP in ``to``).
    A convention without a GP kernel (scikit-ntk) takes and gives ``GP_frm = rho_L``."""
    a1, b1, c1 = coefficients(frm, depth, arch=arch, gamma=gamma, alpha=alpha, prec=prec, **network)
    a2, b2, c2 = coefficients(to, depth, arch=arch, gamma=gamma, alpha=alpha, prec=prec, **network)
    p = a2 / a1
    # Omegabar = (NTK_frm - b1 rho) / a1, rho = GP_frm / c1
    need_gp = b2 - p * b1
    q = 0 if need_gp == 0 else need_gp / (1 if c1 is None else c1)
    r = None if c2 is None else c2 / (1 if c1 is None else c1)
    return p, q, r


def _prec_of(x) -> int | None:
    if isinstance(x, KernelValue):
        return x.value.context.prec
    if hasattr(x, "_mpf_"):
        return x.context.prec
    return None


def convert(ntk, gp=None, depth: int = 1, *, frm: str = "rntk", to: str = "rntk", arch: str | None = None,
            gamma=None, alpha=None, activation=None, weight_var=None, bias_var=None):
    """Convert an ``(ntk, gp)`` pair of kernel values of unit vectors from convention ``frm`` to ``to``.

    ``ntk``, ``gp``: float64 numbers or arrays (Gram matrices), mpmath mpf, or :class:`KernelValue`;
    ``gp`` may be None when the map does not need it (then the returned GP is None too). A convention
    that defines no GP kernel (``scikit_ntk``) takes ``gp`` as this package's ``rho_L``.
    Returns ``(ntk_to, gp_to)`` in the same number system (``gp_to`` None where undefined).
    Conventions: :data:`CONVENTIONS`; formulas in ``docs/conventions.md``. ``arch`` ("ffnet" or
    "resnet", with its ``gamma`` or ``alpha``) is required: a ResNet value mapped with the FFNet's
    coefficients would be silently wrong. ``activation``, ``weight_var``, ``bias_var``: the network
    (see :func:`coefficients`; unit input norms).
    """
    arch = _arch(arch)
    network = dict(activation=activation, weight_var=weight_var, bias_var=bias_var)
    precs = [p for p in (_prec_of(ntk), _prec_of(gp)) if p is not None]
    work = max(precs, default=53) + 64
    p, q, r = _map(frm, to, depth, arch, gamma, alpha, work, network)
    if q != 0 and gp is None:
        raise ValueError(f"gp: the map from {frm} to {to} needs the GP kernel value too")
    gp_out = None if (gp is None or r is None) else _combine(r, gp, 0, None)
    return _combine(p, ntk, q, gp), gp_out


def _combine(p, x, q, y):
    """``p x + q y`` in the number system of ``x`` (and ``y``)."""
    if isinstance(x, KernelValue) or isinstance(y, KernelValue):
        kvs = [v for v in (x, y) if isinstance(v, KernelValue)]
        ctx = mpmath.MPContext()
        ctx.prec = max(v.value.context.prec for v in kvs)
        val = lambda v: ctx.mpf(v.value if isinstance(v, KernelValue) else v)  # noqa: E731
        err = lambda v: ctx.mpf(v.error) if isinstance(v, KernelValue) else ctx.zero  # noqa: E731
        value = p * val(x) + (q * val(y) if q else 0)
        error = abs(p) * err(x) + (abs(q) * err(y) if q else 0) + abs(value) * ctx.ldexp(1, 4 - ctx.prec)
        ref = kvs[0]
        return KernelValue(+value, +error, min(v.digits for v in kvs), ref.method,
                           ref.error_kind + "; propagated through the convention map", ref.alpha)
    prec = _prec_of(x) or _prec_of(y)
    if prec is not None:
        ctx = mpmath.MPContext()
        ctx.prec = prec
        return ctx.mpf(p * x + (q * y if q else 0))  # evaluated at p's higher precision, rounded once
    xa = np.asarray(x, dtype=np.float64)
    out = float(p) * xa
    if q:
        out = out + float(q) * np.asarray(y, dtype=np.float64)
    return float(out) if out.ndim == 0 else out


def kernel_in(convention: str, arch: str, rho, depth: int, *, kernel: str = "ntk", gamma=None, alpha=None,
              digits: int | None = None, method: str = "auto", max_seconds: float | None = None,
              progress: Callable[[int], None] | None = None, activation=None, weight_var=None, bias_var=None):
    """The NTK (``kernel="ntk"``) or GP kernel (``"gp"``) of a pair of unit vectors in ``convention``.

    Same arguments and return types as :func:`rntk_sym.kernel`; the package's normalized kernels are
    computed by :func:`rntk_sym.kernel` (both of them when the convention's NTK involves rho_L) and
    mapped by :func:`convert`. With ``activation``, ``weight_var``, ``bias_var`` (conventions ``rntk``
    and ``neural_tangents``): e.g. ``kernel_in("neural_tangents", "ffnet", rho, L, activation="erf:1,2,0",
    weight_var=2, bias_var="0.1")`` is neural-tangents' ``kernel_fn(x, x').ntk`` for
    ``stax.serial(*[Dense(W_std=sqrt(2), b_std=sqrt(0.1)), Erf(1, 2, 0)] * L, Dense(...))`` and
    ``<x, x>/D = <x', x'>/D = 1``, ``<x, x'>/D = rho``.
    """
    arch = inputs.choice("arch", arch, inputs.ARCHS)
    kernel = inputs.choice("kernel", kernel, inputs.KERNELS)
    conv = lookup(convention, arch)
    network = dict(activation=activation, weight_var=weight_var, bias_var=bias_var)
    a, b, c = coefficients(convention, depth, arch=arch, gamma=gamma, alpha=alpha, **network)
    if kernel == "gp" and c is None:
        raise ValueError(f"kernel: the {convention} convention defines no GP kernel; use kernel='ntk'")
    both = kernel == "ntk" and b != 0
    # progress: the caller's budget of 2 L for the whole job, shared by the kernels computed
    parts = [None if progress is None else (lambda d, k=k: progress((2 * depth * k + d) // 2)) for k in (0, 1)] \
        if both else [progress, progress]
    kw = dict(gamma=gamma, alpha=alpha, digits=digits, max_seconds=max_seconds)
    kw.update({k: v for k, v in network.items() if v is not None})
    gp_method = "auto" if method == "asymptotic" else method  # the skip-ahead is for the NTK only
    gp = _kernel(arch, rho, depth, kernel="gp", method=gp_method, progress=parts[0], **kw) \
        if (kernel == "gp" or b != 0) else None
    if kernel == "gp":
        return convert(gp, gp, depth, to=conv.name, arch=arch, gamma=gamma, alpha=alpha, **network)[1]
    ntk = _kernel(arch, rho, depth, kernel="ntk", method=method, progress=parts[1], **kw)
    return convert(ntk, gp, depth, to=conv.name, arch=arch, gamma=gamma, alpha=alpha, **network)[0]


__all__ = ["CONVENTIONS", "CONVENTION_TABLE", "Convention", "coefficients", "convert", "input_scale", "lookup",
           "kernel_in"]
