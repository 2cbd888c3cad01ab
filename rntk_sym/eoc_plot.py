"""``rntk plot eoc``: the signal-propagation plane of an activation (docs/phases.md).

The ``(sigma_b^2, sigma_w^2)`` plane with the depth scale ``xi_c = -1/log chi_{c*}`` as a heat map (log color
scale), the edge-of-chaos curve ``sigma_w^2(sigma_b^2)`` (:func:`rntk_sym.phase.edge_of_chaos`), the region
without a finite ``q*`` in gray, and the depth limit of the normalized NTK in each region (ordered: 1;
chaotic: 0, the GP kernel tending to ``c*``; docs/asymptotics.md section 8) and on the edge of chaos (1/4 kinked,
1/3 smooth with ``q* > 0``, the frozen correlation ``c_inf(rho)`` at a bias-free ``q* = 0`` edge; section 9).
"""
from __future__ import annotations

import math

import mpmath
import numpy as np

from . import phase as P
from .activations import get_activation


def point(act, w: float, b: float) -> tuple[str, float]:
    """``(phase, xi_c)`` at one grid point, one run at 53 bits (a figure's accuracy); ``("none", nan)`` without a
    finite ``q*``; ``("edge of chaos", inf)`` where ``chi_1 = 1`` to 2^-45."""
    with mpmath.workprec(53):
        m = P._Maps(act, mpmath.mpf(w), mpmath.mpf(b))
        rtol = mpmath.ldexp(1, -45)
        try:
            qs = P._length_fixed_point(m, m.sw2 + m.sb2, rtol)
        except ValueError:
            return "none", math.nan
        if qs == 0:
            return "ordered", math.inf  # the correlation map is marginal at q* = 0
        chi1 = m.chi(qs)
        if abs(chi1 - 1) <= rtol:
            return "edge of chaos", math.inf
        if chi1 < 1:
            return "ordered", -1 / float(mpmath.log(chi1))
        try:
            _, chic = P._correlation_fixed_point(m, qs, chi1, rtol)
        except ValueError:
            return "chaotic", math.inf
        return "chaotic", -1 / float(mpmath.log(chic)) if chic < 1 else math.inf


def eoc_data(*, activation="erf", max_bias_var="0.5", max_weight_var="4", n_grid: int = 36, n_curve: int = 21,
             progress=None) -> dict:
    """The plotted numbers: grid of ``sigma_b^2`` in ``[0, max_bias_var]`` and ``sigma_w^2`` in
    ``(0, max_weight_var]``, the phase and ``xi_c`` at each point, and the edge-of-chaos curve (NaN where there
    is none)."""
    from . import inputs

    act = get_activation(activation)
    if getattr(act, "singular_derivative", False):
        raise ValueError(f"activation: the derivative of {act.spec} has a Dirac part: chi_1 is infinite")
    bmax, wmax = (float(inputs.exact_number(n, v)) for n, v in (("max-bias-var", max_bias_var),
                                                              ("max-weight-var", max_weight_var)))
    if bmax <= 0 or wmax <= 0:
        raise ValueError("max-bias-var: --max-bias-var and --max-weight-var must be > 0")
    if not 4 <= n_grid <= 400:
        raise ValueError(f"n-grid: must be an integer in [4, 400], got {n_grid}")
    bs = np.linspace(0, bmax, n_grid)
    ws = np.linspace(wmax / n_grid, wmax, n_grid)
    xi = np.full((n_grid, n_grid), np.nan)
    phase = np.empty((n_grid, n_grid), dtype=object)
    done = 0
    for i, b in enumerate(bs):
        for j, w in enumerate(ws):
            phase[i, j], xi[i, j] = point(act, float(w), float(b))
        done += n_grid
        if progress:
            progress(done)
    cb = bmax * np.linspace(0, 1, n_curve) ** 2  # denser near sigma_b^2 = 0, where the curve is steepest
    curve = np.full(n_curve, np.nan)
    for k, b in enumerate(cb):
        try:
            e = P.edge_of_chaos(act, mpmath.mpf(float(b)) if b else 0, digits=8)
            curve[k] = float(e.value if hasattr(e, "value") else e)
        except ValueError:
            pass
        if progress:
            progress(done + k + 1)
    return {"activation": act.spec, "bias_vars": bs, "weight_vars": ws, "xi_c": xi,
            "phase": [[str(x) for x in row] for row in phase], "curve_bias_vars": cb, "curve_weight_vars": curve,
            **edge_limits(act)}


def edge_limits(act, rho: str = "0.5") -> dict:
    """The NTK's depth limit along the edge of chaos (docs/asymptotics.md sec. 9), for the figure: the kind
    (``"kinked"``: 1/4; ``"smooth"``: 1/3 where ``q* > 0``) and, at a bias-free ``q* = 0`` edge
    (:func:`rntk_sym.eoc_zero.zero_edge`), the frozen correlation ``c_inf(rho)`` (10 digits) there."""
    from . import eoc_zero

    out = {"edge_kind": "kinked" if P.homogeneous_constant(act) is not None else "smooth", "zero_q_rho": None,
           "zero_q_limit": None}
    if eoc_zero.zero_edge(act, 0):
        try:
            out["zero_q_rho"], out["zero_q_limit"] = rho, float(eoc_zero.correlation_limit(rho, act, 10)[0])
        except ValueError:  # phi''(0) != 0: not derived
            pass
    return out


def draw_eoc(data: dict, out: str, dpi: int = 110) -> None:
    from matplotlib.colors import ListedColormap, LogNorm

    from .plots import _pyplot, _save

    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8.5, 6.5))
    bs, ws, xi = data["bias_vars"], data["weight_vars"], np.array(data["xi_c"], float)
    finite = np.where(np.isfinite(xi) & (xi > 0), xi, np.nan)
    lo, hi = max(np.nanmin(finite), 0.5) if np.isfinite(finite).any() else 1, 200.0
    mesh = ax.pcolormesh(bs, ws, np.clip(finite, lo, hi).T, cmap="magma", norm=LogNorm(lo, hi), shading="nearest")
    none = np.array([[p == "none" for p in row] for row in data["phase"]], float)
    if none.any():
        ax.pcolormesh(bs, ws, np.where(none > 0, 1.0, np.nan).T, cmap=ListedColormap(["0.6"]), shading="nearest")
    cb, cw = data["curve_bias_vars"], data["curve_weight_vars"]
    ax.plot(cb, cw, "c-o", lw=2.5, ms=4, label=r"edge of chaos: $\chi_1 = 1$")
    fig.colorbar(mesh, ax=ax, label=r"depth scale $\xi_c = -1/\log\chi_{c^*}$ (layers)")
    ax.set_xlabel(r"$\sigma_b^2$ (bias variance)")
    ax.set_ylabel(r"$\sigma_w^2$ (weight variance)")
    ax.set_xlim(bs[0], bs[-1])
    ax.set_ylim(0, ws[-1])
    box = dict(boxstyle="round", fc="white", ec="0.5", alpha=0.85)
    ph = np.array(data["phase"])
    kinked = P.homogeneous_constant(get_activation(data["activation"])) is not None
    rate = r"$1 - \bar\Theta_L \sim \chi_1^{L/2}$" if kinked else r"$1 - \bar\Theta_L \sim L\chi_1^L$"
    for name, text in (("ordered", "ordered: $\\chi_1 < 1$\nNTK $\\to 1$, GP $\\to 1$\n" + rate),
                       ("chaotic", "chaotic: $\\chi_1 > 1$\nNTK $\\to 0$ like $\\chi_1^{-L}$\n"
                        r"GP $\to c^*$ like $\chi_{c^*}^L$")):
        _label(ax, bs, ws, ph == name, text, box)
    _label(ax, bs, ws, none > 0, "no finite $q^*$", box)
    _edge_labels(ax, data, box)
    ax.legend(loc="lower right")
    ax.set_title(f"Signal propagation of the FFNet, activation {data['activation']}")
    _save(fig, out, dpi)


def _edge_labels(ax, data, box):
    """The NTK's limit on the edge of chaos (sec. 9): next to the curve, and at its bias-free end when q* = 0."""
    cb, cw = np.asarray(data["curve_bias_vars"], float), np.asarray(data["curve_weight_vars"], float)
    ok = np.flatnonzero(np.isfinite(cw))
    if not len(ok):
        return
    k = ok[len(ok) * 2 // 3]
    if data.get("edge_kind") == "kinked":
        ax.annotate("edge of chaos: NTK $\\to 1/4 + (3/8)\\,\\log L/L$\nGP $\\to 1$ like $9\\pi^2/(2w^2L^2)$",
                    (cb[k], cw[k]), xytext=(12, 12), textcoords="offset points", fontsize=8, bbox=box)
    elif cb[k] > 0:
        ax.annotate("edge of chaos ($q^* > 0$):\nNTK $\\to 1/3 + (C/3)\\log L/L$\nGP $\\to 1$ like $(2/\\kappa)/L$",
                    (cb[k], cw[k]), xytext=(14, -40), textcoords="offset points", fontsize=8, bbox=box)
    if data.get("zero_q_limit") is not None and cb[ok[0]] == 0:
        w0 = cw[ok[0]]
        ax.plot([0], [w0], "D", color="lime", ms=9, mec="k", zorder=5)
        ax.annotate(f"$\\sigma_b^2 = 0$, $\\sigma_w^2 = 1/\\phi'(0)^2$: $q^* = 0$\n"
                    f"NTK and GP $\\to c_\\infty(\\rho)$, the frozen correlation\n"
                    f"($\\rho$ = {data['zero_q_rho']}: {data['zero_q_limit']:.6f});  "
                    "NTK $- c_\\infty \\sim -2A\\,\\log L/L$", (0, w0), xytext=(18, -28), textcoords="offset points",
                    fontsize=8, va="top", bbox=box, arrowprops=dict(arrowstyle="->", color="lime"))


def _label(ax, bs, ws, mask, text, box):
    """``text`` at the centroid of the grid cells in ``mask`` (nothing for an empty region)."""
    idx = np.argwhere(mask)
    if len(idx):
        ax.text(bs[idx[:, 0]].mean(), ws[idx[:, 1]].mean(), text, ha="center", va="center", fontsize=9, bbox=box)


def eoc(out: str | None = None, *, progress=None, dpi: int = 110, **kw) -> dict:
    """Compute :func:`eoc_data` (keyword arguments) and, when ``out`` is given, draw it there."""
    data = eoc_data(progress=progress, **kw)
    if out is not None:
        draw_eoc(data, out, dpi)
    return data
