"""Figures of the normalized NTK ``Omegabar_L``: convergence rates, the gamma phase diagram, kernel curves.

Each figure has a data function (deterministic numbers, returned as a dict of arrays so the tests can
check what is drawn) and a drawing function that writes PNG, SVG or PDF by the file's extension::

    rates(out, ...)    |Omegabar_L - limit| vs L (exact recursion, then skip-ahead) with the derived
                       expansion of rntk_sym.asymptotics overlaid; rescaled errors L^p |error| vs log L.
    phase(out, ...)    the depth limit and Omegabar_L over (gamma, rho), alpha = L^-gamma; a slice
                       Omegabar_L(rho) vs gamma at several L.
    kernels(out, ...)  Omegabar_L(rho), rho in [-1, 1], for several L beside the depth limit.

``rntk plot {rates,phase,kernels} --out FILE.{png,svg,pdf}`` draws them; every option of the
figure is an option of the command, and nothing is random. matplotlib is imported lazily (Agg backend).
Symbols: ``rho`` = <x, x'>, ``L`` = depth, ``gamma`` with alpha = L^-gamma (docs/model.md sections 2-4).
"""
from __future__ import annotations

import math
import os
import time
from fractions import Fraction
from functools import lru_cache

import numpy as np

from . import inputs
from .backends import NUMPY
from .kernels import ntk
from .progress import Progress
from .recursions import Block
from .recursions import run as run_recursion

FORMATS = ("png", "svg", "pdf")
KINDS = ("rates", "phase", "kernels", "spectrum", "learning-curves", "eoc")

# (label, arch, rho, scale) of the rate curves; "rho" None means the figure's --rho
RATE_CASES = (
    ("FFNet", "ffnet", None, {}),
    ("FFNet", "ffnet", "-1", {}),
    ("ResNet, alpha = 1", "resnet", None, {"alpha": "1"}),
    ("ResNet, gamma = 1", "resnet", None, {"gamma": "1"}),
    ("ResNet, gamma = 3/4", "resnet", None, {"gamma": "0.75"}),
    ("ResNet, gamma = 1/2", "resnet", None, {"gamma": "0.5"}),
    ("ResNet, gamma = 1/10", "resnet", None, {"gamma": "0.1"}),
)


def output_format(out: str) -> str:
    """The format of ``out`` from its extension; ValueError naming ``out`` otherwise."""
    ext = os.path.splitext(str(out))[1].lower().lstrip(".")
    if ext not in FORMATS:
        raise ValueError(f"out: the file name must end in .png, .svg or .pdf, got {out!r}")
    return ext


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def writable(name: str, out: str) -> str:
    """Create the parent directory of the file ``out``; ValueError naming ``name`` when ``out`` is a
    directory or its directory cannot be created or written (checked before any work)."""
    if os.path.isdir(out):
        raise ValueError(f"{name}: {out!r} is a directory; give a file name")
    inputs.writable_dir(name, os.path.dirname(os.path.abspath(out)), f"the directory of {out!r}")
    return out


def _save(fig, out: str, dpi: int = 110) -> None:
    fmt = output_format(out)
    writable("out", out)
    # fixed metadata: the same command writes the same bytes (no creation date in the file)
    meta = {"png": {"Software": None}, "svg": {"Date": None}, "pdf": {"CreationDate": None}}[fmt]
    import matplotlib

    with matplotlib.rc_context({"svg.hashsalt": "rntk_sym"}):  # fixed SVG ids
        fig.savefig(out, format=fmt, dpi=dpi, metadata=meta)
    _pyplot().close(fig)


def _decades(lo: int, hi: int, per_decade: int) -> list[int]:
    """Integers log-spaced from ``lo`` to ``hi`` (both included), ``per_decade`` per factor 10."""
    n = max(2, round(per_decade * math.log10(hi / lo)) + 1)
    return sorted({round(lo * (hi / lo) ** (i / (n - 1))) for i in range(n)})


def powers_of_ten(lowest: int, max_depth) -> list[int]:
    """``10^lowest, ..., 10^k <= max_depth`` (``[max_depth]`` below 10^lowest): the depths of the phase
    slices (lowest 1) and of the kernel curves (lowest 0)."""
    top = inputs.integer("max-depth", max_depth)
    return [10 ** k for k in range(lowest, len(str(top)))] if top >= 10 ** lowest else [top]


def _scale_text(scale: dict) -> str:
    if "alpha" in scale:
        return f"alpha={scale['alpha']}"
    return f"gamma={scale['gamma']}" if "gamma" in scale else ""


# --------------------------------------------------------------------------------------------------
# Convergence rates
# --------------------------------------------------------------------------------------------------

def _coef_text(t) -> str:
    if t.exact is not None and len(t.exact) <= 6:
        return f"({t.exact})"
    return f"{float(t.coefficient):.3g}"


def _power_text(p: Fraction) -> str:
    return "L" if p == 1 else (f"L^{{{p.numerator}}}" if p.denominator == 1 else f"L^{{{p.numerator}/{p.denominator}}}")


def term_mathtext(t) -> str:
    """``coefficient * L^-power * (log L)^log_power`` as mathtext (without dollars)."""
    num = {0: "", 1: r"\,\log L"}.get(t.log_power, rf"\,\log^{t.log_power} L")
    return f"{_coef_text(t)}{num}/{_power_text(t.power)}"


def formula(ex, n_terms: int = 2) -> str:
    """The first ``n_terms`` terms of an expansion's ``Omegabar_L - limit`` as a mathtext string."""
    parts = [term_mathtext(t) for t in ex.terms[:n_terms]]
    s = " + ".join(parts).replace("+ -", "- ")
    return "$" + s + (r" + \ldots" if len(ex.terms) > n_terms else "") + "$"


def rates_data(*, rho="0.5", max_exact_depth: int = 10**4, max_depth: int = 10**10, digits: int = 20,
               per_decade: int = 4, cases=None, activation=None, weight_var=None, bias_var=None,
               progress=None) -> dict:
    """The numbers of the rates figure.

    For each case of RATE_CASES (``rho`` replaces the default 0.5): the expansion
    ``Omegabar_L = limit + sum_k c_k L^-p_k (log L)^q_k`` (:func:`rntk_sym.asymptotics.expansion`);
    exact values by the recursion (``rntk_sym.ntk(..., digits=digits, method="recursion")``) at
    log-spaced L in [2, max_exact_depth]; skip-ahead values (``method="asymptotic"``) at log-spaced L in
    [max_exact_depth, max_depth] where a skip-ahead applies. ``cases``: indices into RATE_CASES
    (default all). Returns ``{"cases": [...]}``, each case with
    ``label, arch, rho, scale, limit, power (p_0), formula, L_exact, err_exact, L_asym, err_asym,
    L_curve, err_curve`` (the derived ``sum of terms`` on a fine grid; ``err_* = Omegabar_L - limit``).

    ``activation``, ``weight_var`` (sigma_w^2), ``bias_var`` (sigma_b^2): another network, see
    :func:`general_rates_data` (``max_depth`` is then not used: there is no skip-ahead).
    """
    from . import asymptotics

    net = network(activation, weight_var, bias_var)
    if net:
        return general_rates_data(net, rho=rho, max_exact_depth=max_exact_depth, digits=digits,
                                  per_decade=per_decade, cases=cases, progress=progress)

    r = inputs.rho_exact(rho)
    if not -1 < r < 1:
        raise ValueError(f"rho: must be in (-1, 1) for the rates figure, got {rho!r}")
    max_exact_depth = inputs.integer("max-exact-depth", max_exact_depth)
    max_depth = inputs.integer("max-depth", max_depth)
    if not 2 <= max_exact_depth <= max_depth:
        raise ValueError(f"max-depth: need 2 <= max-exact-depth <= max-depth, got {max_exact_depth}, {max_depth}")
    L_exact = _decades(2, max_exact_depth, per_decade)
    L_asym = _decades(max_exact_depth, max_depth, 2) if max_depth > max_exact_depth else [max_exact_depth]
    chosen = [RATE_CASES[i] for i in (range(len(RATE_CASES)) if cases is None else cases)]
    cases, done = [], 0
    for label, arch, crho, scale in chosen:
        rr = str(rho) if crho is None else crho
        ex = asymptotics.expansion(arch, rr, digits=digits, **scale)
        lim = ex.limit.value
        done += 1
        progress and progress(done)
        err_exact = []
        for L in L_exact:
            v = ntk(arch, rr, L, digits=digits, method="recursion", **scale)
            err_exact.append(float(v.value - lim))
            done += 1
            progress and progress(done)
        La, err_asym = [], []
        for L in L_asym:
            try:
                v = ntk(arch, rr, L, digits=digits, method="asymptotic", **scale)
            except ValueError:  # no skip-ahead at this depth (e.g. a fixed-step depth below its range)
                v = None
            if v is not None:
                La.append(L)
                err_asym.append(float(v.value - lim))
            done += 1
            progress and progress(done)
        L_curve = np.logspace(1, math.log10(max_depth), 200)
        cases.append({
            "label": label, "arch": arch, "rho": rr, "scale": dict(scale), "limit": float(lim),
            "limit_exact": ex.limit.exact, "regime": ex.limit.regime, "power": ex.terms[0].power,
            "log_power": ex.terms[0].log_power, "formula": formula(ex),
            "terms": [(float(t.coefficient), t.power, t.log_power) for t in ex.terms],
            "L_exact": np.array(L_exact, dtype=float), "err_exact": np.array(err_exact),
            "L_asym": np.array(La, dtype=float), "err_asym": np.array(err_asym),
            "L_curve": L_curve, "err_curve": expansion_sum(ex.terms, L_curve),
        })
    return {"cases": cases, "rho": str(rho), "digits": digits, "max_exact_depth": max_exact_depth,
            "max_depth": max_depth}


FLOOR = 100  # an exact point is kept while |value - limit| exceeds FLOOR times the errors of value and limit


def general_rates_data(net: dict, *, rho="0.5", max_exact_depth: int = 10**4, digits: int = 20, per_decade: int = 4,
                       cases=None, progress=None) -> dict:
    """The rates figure for another network ``net`` (``activation``, ``weight_var``, ``bias_var``): for each case
    of RATE_CASES where :func:`rntk_sym.asymptotics.limit` answers (the FFNet's ordered and chaotic phases,
    docs/asymptotics.md section 8), ``err_exact = value - limit`` with ``value`` from
    :func:`rntk_sym.general.kernel` at ``digits`` (log-spaced L in [2, max_exact_depth], while ``|err|``
    is above FLOOR times the errors: the approach is exponential, so it reaches the precision floor early),
    and the rate fitted to them (:func:`rntk_sym.rates.fit_exponential`, ``c L^k r^L``, on the last 6 points;
    ``fit``: its form, ``r``, ``r_error``, ``k``, ``residual``; ``L_curve``, ``err_curve``: the fitted curve).
    Cases where the limit is not derived go to ``not_derived`` as ``(label, reason)``; where the approach is not
    exponential (edge of chaos, ResNet: docs/asymptotics.md sections 9-10) ``fit`` is None."""
    from . import asymptotics
    from .general import kernel as general_kernel
    from .rates import fit_exponential

    r = inputs.rho_exact(rho)
    if not -1 < r < 1:
        raise ValueError(f"rho: must be in (-1, 1) for the rates figure, got {rho!r}")
    max_exact_depth = inputs.integer("max-exact-depth", max_exact_depth)
    if max_exact_depth < 2:
        raise ValueError(f"max-exact-depth: must be >= 2, got {max_exact_depth}")
    digits = inputs.digits(digits)
    L_exact = _decades(2, max_exact_depth, per_decade)
    chosen = [RATE_CASES[i] for i in (range(len(RATE_CASES)) if cases is None else cases)]
    out, skipped, done = [], [], 0
    for label, arch, crho, scale in chosen:
        rr = str(rho) if crho is None else crho
        try:
            lim = asymptotics.limit(arch, rr, digits=digits, **scale, **net)
        except ValueError as exc:
            skipped.append((f"{label}, rho = {rr}", str(exc).splitlines()[0]))
            done += 1 + len(L_exact)
            progress and progress(done)
            continue
        Ls, errs, below = [], [], 0
        for L in L_exact:
            done += 1
            if below < 2:  # two points in a row at the precision floor: the rest are too
                kv = general_kernel(arch, rr, L, digits=digits, **scale, **net)
                e = kv.value - lim.value
                if abs(e) > FLOOR * (kv.error + lim.error):
                    Ls.append(L)
                    errs.append(float(e))
                    below = 0
                else:
                    below += 1
            progress and progress(done)
        fit, L_curve, err_curve = None, np.array([]), np.array([])
        # the exponential form is derived for the FFNet's ordered and chaotic phases only (sec. 8); the edge of
        # chaos and the ResNet approach polynomially or stretched-exponentially (sec. 9, 10): data, no fit
        exponential = arch == "ffnet" and any(p in str(lim.regime) for p in ("ordered", "chaotic"))
        if exponential and len(Ls) >= 4:
            tail = slice(max(0, len(Ls) - 6), len(Ls))
            f = fit_exponential(Ls[tail], errs[tail])
            fit = {"form": f.form, "r": float(f.r), "r_error": float(f.r_error), "k": f.k, "c": float(f.c),
                   "residual": f.residual}
            L_curve = np.linspace(Ls[0], Ls[-1], 200)
            err_curve = float(f.c) * L_curve ** f.k * float(f.r) ** L_curve
        out.append({"label": label, "arch": arch, "rho": rr, "scale": dict(scale), "limit": float(lim.value),
                    "limit_exact": lim.exact, "regime": lim.regime, "derived_form": lim.form,
                    "L_exact": np.array(Ls, dtype=float), "err_exact": np.array(errs), "fit": fit,
                    "L_curve": L_curve, "err_curve": err_curve})
    return {"cases": out, "not_derived": skipped, "rho": str(rho), "digits": digits,
            "max_exact_depth": max_exact_depth, "network": net}


def draw_general_rates(data: dict, out: str, dpi: int = 110) -> None:
    """|value - limit| against L (linear L: the approach is exponential) with the fitted ``c L^k r^L``."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(11, 7))
    fig.subplots_adjust(left=0.09, right=0.98, top=0.88, bottom=0.34)
    colors = plt.get_cmap("tab10").colors
    lines, labels = [], []
    for i, c in enumerate(data["cases"]):
        col = colors[i]
        h, = ax.semilogy(c["L_exact"], np.abs(c["err_exact"]), "o", color=col, ms=5)
        lim = c["limit_exact"] or format(c["limit"], ".8g")
        text = rf"{c['label']}, $\rho$ = {c['rho']}: limit {lim} [{c['regime']}]"
        if c["fit"]:
            f = c["fit"]
            ax.semilogy(c["L_curve"], np.abs(c["err_curve"]), "--", color=col, lw=1.3)
            text += f";  fitted {f['form']} (+/- {f['r_error']:.1g}; residual {f['residual']:.1g})"
        lines.append(h)
        labels.append(text + f"\n    derived: {c['derived_form']}")
    for label, why in data["not_derived"]:
        lines.append(ax.plot([], [], " ")[0])
        labels.append(f"{label}: not derived ({why[:90]})")
    ax.set_xlabel("depth L")
    ax.set_ylabel(r"$|\bar\Omega_L(\rho) - \bar\Omega_\infty(\rho)|$")
    ax.grid(True, which="major", alpha=0.3)
    ax.set_title(f"dots: exact recursion (rntk_sym.general.kernel, digits={data['digits']}) above the precision "
                 "floor; dashes: fitted rate (rntk_sym.rates.fit_exponential)", fontsize=9.5)
    fig.legend(lines, labels, loc="lower left", bbox_to_anchor=(0.01, 0.005), fontsize=8.2, frameon=True)
    fig.suptitle("Convergence of the normalized NTK to its depth limit\n" + network_text(data["network"]),
                 fontsize=12)
    _save(fig, out, dpi)


def expansion_sum(terms, L) -> np.ndarray:
    """``sum_k c_k L^-p_k (log L)^q_k`` in float64 for an array of depths L (terms: ``Term`` objects
    or ``(c, p, q)`` tuples)."""
    L = np.asarray(L, dtype=float)
    out = np.zeros_like(L)
    for t in terms:
        c, p, q = (t.coefficient, t.power, t.log_power) if hasattr(t, "coefficient") else t
        out += float(c) * L ** (-float(p)) * np.log(L) ** q
    return out


def draw_rates(data: dict, out: str, dpi: int = 110) -> None:
    plt = _pyplot()
    fig = plt.figure(figsize=(14, 8.2))
    gs = fig.add_gridspec(2, 2, width_ratios=[1.35, 1], hspace=0.42, wspace=0.22,
                          left=0.06, right=0.985, top=0.895, bottom=0.27)
    ax = fig.add_subplot(gs[:, 0])
    axb, axc = fig.add_subplot(gs[0, 1]), fig.add_subplot(gs[1, 1])
    colors = plt.get_cmap("tab10").colors
    handles = []
    for i, c in enumerate(data["cases"]):
        col = colors[i]
        name = c["label"] + rf", $\rho$ = {c['rho']}"
        name = name.replace("alpha", r"$\alpha$").replace("gamma", r"$\gamma$")
        ax.loglog(c["L_curve"], np.abs(c["err_curve"]), "--", color=col, lw=1.3)
        ax.loglog(c["L_exact"], np.abs(c["err_exact"]), "o", color=col, ms=4.5)
        h, = ax.loglog(c["L_asym"], np.abs(c["err_asym"]), "s", color=col, ms=6, mfc="none", mew=1.3)
        lim = c["limit_exact"] if c["limit_exact"] in ("1/4",) else f"{c['limit']:.6f}"
        handles.append((h, f"{name}:  limit {lim},  derived {c['formula']}"))
        p, q = c["power"], c["log_power"]
        target = axb if q > 0 else axc
        for L, e, style in ((c["L_exact"], c["err_exact"], "o"), (c["L_asym"], c["err_asym"], "s")):
            target.plot(np.log(L), L ** float(p) * np.abs(e), style, color=col, ms=4.5 if style == "o" else 6,
                        mfc=None if style == "o" else "none")
        keep = c["L_curve"] >= 10
        target.plot(np.log(c["L_curve"][keep]), c["L_curve"][keep] ** float(p) * np.abs(c["err_curve"][keep]),
                    "--", color=col, lw=1.3, label=name + ("" if p == 1 else rf"  ($p$ = {p})"))
    ax.axvline(data["max_exact_depth"], color="0.6", lw=0.8, ls=":")
    ax.text(
        data["max_exact_depth"] * 1.15,
        0.98,
        "skip-ahead\n(method='asymptotic')",
        transform=ax.get_xaxis_transform(),
        va="top",
        fontsize=8.5,
        color="0.35",
    )
    ax.text(data["max_exact_depth"] / 1.15, 0.98, f"exact recursion\n(digits={data['digits']})", ha="right",
            transform=ax.get_xaxis_transform(), va="top", fontsize=8.5, color="0.35")
    ax.set_xlabel("depth L")
    ax.set_ylabel(r"$|\bar\Omega_L(\rho) - \bar\Omega_\infty(\rho)|$")
    ax.set_title(r"(a) distance to the depth limit $\bar\Omega_\infty(\rho)$")
    ax.grid(True, which="major", alpha=0.3)
    axb.set_title(r"(b) $L\,|$error$|$ vs $\log L$: fixed step, slope 3/8 = one log factor")
    axb.set_xlabel(r"$\log L$ (natural log)")
    axb.set_ylabel(r"$L\,|\bar\Omega_L - 1/4|$")
    axc.set_title(r"(c) $L^{p}\,|$error$|$ vs $\log L$, log scale: flat = no log factor")
    axc.set_yscale("log")
    axc.set_xlabel(r"$\log L$ (natural log)")
    axc.set_ylabel(r"$L^{p}\,|\bar\Omega_L - \bar\Omega_\infty|$")
    for a in (axb, axc):
        a.grid(True, alpha=0.3)
        a.legend(fontsize=8, loc="best")
    marker_h = [ax.plot([], [], "o", color="0.3", ms=4.5)[0], ax.plot([], [], "s", color="0.3", mfc="none", ms=6)[0],
                ax.plot([], [], "--", color="0.3")[0]]
    fig.legend(marker_h + [h for h, _ in handles],
               ["exact recursion (rntk_sym.ntk, method='recursion')", "skip-ahead (method='asymptotic')",
                "derived asymptotic expansion (all terms)"] + [t for _, t in handles],
               loc="lower left", bbox_to_anchor=(0.01, 0.005), ncol=2, fontsize=8.6, frameon=True)
    fig.suptitle(r"Convergence rates of the normalized NTK: $\bar\Omega_L = \bar\Omega_\infty$ + derived terms "
                 "(rntk_sym.asymptotics.expansion); p = leading power", fontsize=12)
    _save(fig, out, dpi)


def _compute_and_draw(compute, draw, out, progress, dpi, kw) -> dict:
    """``compute(progress=..., **kw)``, drawn to ``out`` when given (its format checked before the work)."""
    if out is not None:
        output_format(out)
        writable("out", out)
    data = compute(progress=progress, **kw)
    if out is not None:
        draw(data, out, dpi)
    return data


def rates(out: str | None = None, *, progress=None, dpi: int = 110, **kw) -> dict:
    """Compute :func:`rates_data` (keyword arguments) and, when ``out`` is given, draw it there."""
    def draw(data, out, dpi):
        (draw_general_rates if data.get("network") else draw_rates)(data, out, dpi)

    return _compute_and_draw(rates_data, draw, out, progress, dpi, kw)


# --------------------------------------------------------------------------------------------------
# Phase diagram over gamma
# --------------------------------------------------------------------------------------------------

def ntk_over_gamma(rho, gammas, depth: int) -> np.ndarray:
    """``Omegabar_L(rho)`` of the ResNet with alpha = L^-gamma, float64, for arrays ``gammas`` (axis 0)
    and ``rho`` (axis 1): one vectorized run of the package's recursion (same numbers as
    ``rntk_sym.ntk("resnet", rho, depth, gamma=g)`` for each g)."""
    g = np.asarray(gammas, dtype=float)[:, None]
    r = np.atleast_1d(np.asarray(rho, dtype=float))[None, :]
    a2 = float(depth) ** (-2 * g)
    ones = np.ones((g.shape[0], r.shape[1]))
    _, _, T = run_recursion(NUMPY, Block(a2 / (1 + a2) * ones, 1), (1 - r) * ones, (1 + r) * ones, depth)
    return T / depth


@lru_cache(maxsize=4096)
def limit_value(arch: str, rho: float, scale: tuple = (), digits: int = 8) -> float:
    """``float(rntk_sym.asymptotics.limit(arch, rho, **dict(scale), digits=digits).value)``, cached (the
    borderline limit costs up to seconds at rho = -1, and the figures ask for it more than once)."""
    from . import asymptotics

    return float(asymptotics.limit(arch, repr(float(rho)), digits=digits, **dict(scale)).value)


def limit_curve(arch: str, rhos, scale: tuple = (), digits: int = 8) -> np.ndarray:
    """``[limit_value(arch, rho, scale, digits) for rho in rhos]`` as an array; in the continuum regime
    (gamma = 1/2) from one solution of the continuum ODE for all rho
    (:func:`rntk_sym.asymptotics.continuum_kernels`; one solve per rho took ~0.3 s, 2 s near rho = -1)."""
    return np.array(_limit_curve(arch, tuple(float(x) for x in np.atleast_1d(rhos)), scale, digits))


@lru_cache(maxsize=64)
def _limit_curve(arch: str, rhos: tuple, scale: tuple, digits: int) -> tuple:
    from . import asymptotics

    st = asymptotics.setting(arch, **dict(scale))
    if st.regime != "continuum":
        return tuple(limit_value(arch, x, scale, digits) for x in rhos)
    return tuple(float(v) for v in asymptotics.continuum_kernels([repr(x) for x in rhos], st.beta_squared(), digits))


def limit_over_gamma(rhos, gammas, digits: int = 8) -> np.ndarray:
    """``lim_L Omegabar_L(rho)`` for alpha = L^-gamma (:func:`rntk_sym.asymptotics.limit`), arrays as in
    :func:`ntk_over_gamma`. The limit depends on gamma only through the regime (gamma <, =, > 1/2)."""
    by_regime = {}
    for key, gamma in (("lt", "0.25"), ("eq", "0.5"), ("gt", "1")):
        by_regime[key] = limit_curve("resnet", rhos, (("gamma", gamma),), digits)
    g = np.asarray(gammas, dtype=float)
    keys = np.where(np.isclose(g, 0.5, rtol=0, atol=1e-12), "eq", np.where(g < 0.5, "lt", "gt"))
    return np.array([by_regime[k] for k in keys])


MAX_PHASE_STEPS = 10**7  # recursion steps of the phase figure (~0.2 ms each for the 121 slice gammas)


def phase_data(*, depth: int = 10**4, n_gamma: int = 60, n_rho: int = 81, rho="0.5", max_depth=10**5,
               slice_depths=None, n_slice: int = 121, progress=None) -> dict:
    """The numbers of the phase figure (keywords as the options of ``rntk plot phase``): ``gammas``
    (n_gamma values in (0, 1.2]), ``rhos`` (n_rho in [-1, 1]), ``values[i, j] = Omegabar_depth(rhos[j])``
    at ``gammas[i]``, ``limits[i, j]`` its depth limit; ``slice_gammas`` (n_slice values in (0, 1.2],
    1/2 included) and ``slice_values[k, i] = Omegabar_{slice_depths[k]}(rho)``, ``slice_limits[i]``;
    ``slice_depths`` default 10, 100, ..., max_depth."""
    depth = inputs.integer("depth", depth)
    if slice_depths is None:
        slice_depths = powers_of_ten(1, max_depth)
    elif max_depth != 10**5:
        raise ValueError("max-depth: give max_depth or slice_depths, not both")
    slice_depths = [inputs.integer("slice-depths", L) for L in slice_depths]
    if depth + sum(slice_depths) > MAX_PHASE_STEPS:
        steps = inputs.depth_text(depth + sum(slice_depths))
        raise ValueError(f"max-depth: the phase figure runs the float64 recursion to every depth (depth + slice "
                         f"depths = {steps} steps); at most {MAX_PHASE_STEPS:.0e}")
    sr = inputs.rho_exact(rho)
    for name, n, lo in (("n-gamma", n_gamma, 2), ("n-rho", n_rho, 3), ("n-slice", n_slice, 2)):
        if not isinstance(n, int) or not lo <= n <= 2000:
            raise ValueError(f"{name}: must be an integer in [{lo}, 2000], got {n!r}")
    gammas = np.arange(1, n_gamma + 1) * 1.2 / n_gamma  # k * 1.2 / n: exactly 0.5 when 2.4 k = n
    rhos = np.linspace(-1, 1, n_rho)
    # the slice grid holds gamma = 1/2 exactly (the borderline)
    half = n_slice // 2
    slice_gammas = np.concatenate([np.linspace(0, 0.5, half + 1)[1:], np.linspace(0.5, 1.2, n_slice - half + 1)[1:]])
    slice_gammas[half - 1] = 0.5
    steps = depth + sum(slice_depths) + 2 * n_rho
    done = 0
    bar = progress or (lambda k: None)
    values = ntk_over_gamma(rhos, gammas, depth)
    done += depth
    bar(done)
    limits = limit_over_gamma(rhos, gammas)
    done += 2 * n_rho
    bar(done)
    slice_values = []
    for L in slice_depths:
        slice_values.append(ntk_over_gamma([float(sr)], slice_gammas, L)[:, 0])
        done += L
        bar(done)
    slice_limits = limit_over_gamma([float(sr)], slice_gammas)[:, 0]
    bar(steps)
    return {"gammas": gammas, "rhos": rhos, "depth": depth, "values": values, "limits": limits,
            "slice_rho": str(rho), "slice_gammas": slice_gammas, "slice_depths": slice_depths,
            "slice_values": np.array(slice_values), "slice_limits": slice_limits}


def draw_phase(data: dict, out: str, dpi: int = 110) -> None:
    plt = _pyplot()
    from matplotlib.colors import Normalize

    fig = plt.figure(figsize=(14, 9.5))
    gs = fig.add_gridspec(2, 3, width_ratios=[1, 1, 0.04], height_ratios=[1, 0.9], hspace=0.33, wspace=0.12,
                          left=0.06, right=0.95, top=0.92, bottom=0.07)
    axl, axv = fig.add_subplot(gs[0, 0]), fig.add_subplot(gs[0, 1])
    cax, axs = fig.add_subplot(gs[0, 2]), fig.add_subplot(gs[1, :2])
    g, r = data["gammas"], data["rhos"]
    dg = g[1] - g[0]
    edges_g = np.concatenate([[g[0] - dg / 2], (g[:-1] + g[1:]) / 2, [g[-1] + dg / 2]])
    dr = r[1] - r[0]
    edges_r = np.concatenate([[r[0] - dr / 2], (r[:-1] + r[1:]) / 2, [r[-1] + dr / 2]])
    norm = Normalize(0, 1)
    cmap = plt.get_cmap("viridis")
    lim = data["limits"]
    eq = np.isclose(g, 0.5, rtol=0, atol=1e-12)
    lim_fill = lim.copy()
    lim_fill[eq] = lim[g < 0.5][-1] if (g < 0.5).any() else lim[eq]  # the borderline is drawn as a line
    axl.pcolormesh(edges_g, edges_r, lim_fill.T, cmap=cmap, norm=norm, shading="flat")
    bl = limit_over_gamma(r, [0.5])[0] if not eq.any() else lim[eq][0]  # the borderline column
    axl.scatter(np.full_like(r, 0.5), r, c=bl, cmap=cmap, norm=norm, s=40, marker="s", edgecolors="none", zorder=3)
    mesh = axv.pcolormesh(edges_g, edges_r, data["values"].T, cmap=cmap, norm=norm, shading="flat")
    for a in (axl, axv):
        a.axvline(0.5, color="w", lw=1.0, ls="--")
        a.set_xlabel(r"$\gamma$  ($\alpha = L^{-\gamma}$)")
        a.set_xlim(0, edges_g[-1])
        a.set_ylim(-1, 1)
    cs = axv.contour(g, r, data["values"].T, levels=[0.1, 0.25, 0.4, 0.6, 0.8], colors="w", linewidths=0.7)
    axv.clabel(cs, fontsize=7.5, fmt="%.2f")
    axl.set_ylabel(r"$\rho = \langle x, x'\rangle$")
    axv.set_yticklabels([])
    box = dict(boxstyle="round", fc="white", ec="0.5", alpha=0.85)
    axl.text(
        0.24, 0.55, "degenerate\nlimit 1/4\n" + r"($0 < \gamma < 1/2$)", ha="center", va="center", fontsize=9, bbox=box
    )
    axl.text(0.86, 0.55, "one-hidden-layer kernel\n" + r"$\bar\Omega_1(\rho) = (\hat\sigma + \rho\hat\sigma')/2$" + "\n"
             + r"($\gamma > 1/2$)", ha="center", va="center", fontsize=9, bbox=box)
    axl.annotate("borderline $\\gamma = 1/2$:\ncontinuum kernel $S(1)$", xy=(0.5, -0.55), xytext=(0.62, -0.75),
                 fontsize=8.5, bbox=box, arrowprops=dict(arrowstyle="->", color="0.2"))
    axl.set_title(r"(a) depth limit of $\bar\Omega_L(\rho)$, $L \to \infty$ (rntk_sym.asymptotics.limit)")
    axv.set_title(rf"(b) $\bar\Omega_L(\rho)$ at $L = {data['depth']}$ (exact recursion, float64)")
    cb = fig.colorbar(mesh, cax=cax)
    cb.set_label(r"$\bar\Omega$")
    sg = data["slice_gammas"]
    cols = plt.get_cmap("plasma")(np.linspace(0.05, 0.85, len(data["slice_depths"])))
    for L, v, col in zip(data["slice_depths"], data["slice_values"], cols):
        axs.plot(
            sg,
            v,
            color=col,
            lw=1.5,
            label=rf"$L = 10^{{{math.log10(L):.3g}}}$" if L >= 10 and math.log10(L).is_integer() else f"L = {L}",
        )
    sl = data["slice_limits"]
    lt, gt, eqs = sg < 0.5, sg > 0.5, np.isclose(sg, 0.5, rtol=0, atol=1e-12)
    axs.plot(sg[lt], sl[lt], "k-", lw=2.2, label=r"limit $L \to \infty$")
    axs.plot(sg[gt], sl[gt], "k-", lw=2.2)
    axs.plot(sg[eqs], sl[eqs], "ko", ms=6)
    axs.axvline(0.5, color="0.5", lw=0.8, ls="--")
    rho_s = data["slice_rho"]
    axs.set_title(rf"(c) $\bar\Omega_L(\rho = {rho_s})$ vs $\gamma$: the step at $\gamma = 1/2$ sharpens as $L$ grows "
                  r"(below 1/2 the approach to 1/4 goes with $\tau = L^{1-2\gamma}$)")
    axs.set_xlabel(r"$\gamma$  ($\alpha = L^{-\gamma}$)")
    axs.set_ylabel(rf"$\bar\Omega_L(\rho = {rho_s})$")
    axs.set_xlim(0, sg[-1])
    lo, hi = min(sl.min(), data["slice_values"].min()), max(sl.max(), data["slice_values"].max())
    axs.set_ylim(lo - 0.08 * (hi - lo), hi + 0.08 * (hi - lo))
    axs.grid(True, alpha=0.3)
    axs.legend(fontsize=9, loc="lower right", ncol=2)
    axs.annotate(rf"$\bar\Omega_1 = {sl[gt][0]:.4f}$", xy=(1.0, sl[gt][0]), xytext=(1.0, sl[gt][0] - 0.06),
                 fontsize=9, ha="center", arrowprops=dict(arrowstyle="->"))
    axs.annotate(f"continuum kernel {sl[eqs][0]:.4f}" if eqs.any() else "", xy=(0.5, sl[eqs][0] if eqs.any() else 0),
                 xytext=(0.56, 0.34), fontsize=9, arrowprops=dict(arrowstyle="->"))
    fig.suptitle(r"ResNet, $\alpha = L^{-\gamma}$: regimes of the normalized NTK over $\gamma$", fontsize=12)
    _save(fig, out, dpi)


def phase(out: str | None = None, *, progress=None, dpi: int = 110, **kw) -> dict:
    """Compute :func:`phase_data` (keyword arguments) and, when ``out`` is given, draw it there."""
    return _compute_and_draw(phase_data, draw_phase, out, progress, dpi, kw)


# --------------------------------------------------------------------------------------------------
# Kernel curves
# --------------------------------------------------------------------------------------------------

KERNEL_CASES = (
    ("FFNet (limit 1/4 off the diagonal)", "ffnet", {}),
    (r"ResNet, $\gamma = 1$ (limit $\bar\Omega_1$)", "resnet", {"gamma": "1"}),
    (r"ResNet, $\gamma = 1/2$ (limit: continuum kernel $S(1)$)", "resnet", {"gamma": "0.5"}),
    (r"ResNet, $\gamma = 1/4$ (limit 1/4, reached slowly)", "resnet", {"gamma": "0.25"}),
)


# the same cases for another network: the labels without the seeds' limits
GENERAL_KERNEL_LABELS = ("FFNet", r"ResNet, $\gamma = 1$", r"ResNet, $\gamma = 1/2$", r"ResNet, $\gamma = 1/4$")
GENERAL_N_LIMIT = 9  # default limit points for another network: each solves the one-point analysis (~0.3 s)


def network(activation=None, weight_var=None, bias_var=None) -> dict:
    """The network keywords given (``activation``, ``weight_var`` = sigma_w^2, ``bias_var`` = sigma_b^2), validated
    (one-line ValueError naming the argument); empty for the seeds' relu network."""
    from . import general

    given = {k: v for k, v in (("activation", activation), ("weight_var", weight_var), ("bias_var", bias_var))
             if v is not None}
    if not given:
        return {}
    for arch in ("ffnet", "resnet"):  # "eoc" exists for the ffnet only: validated there
        if arch == "resnet" and inputs.is_eoc(weight_var):
            continue
        if not general.uses_general(arch, activation, weight_var, bias_var, gamma="1" if arch == "resnet" else None):
            return {}
    return given


def network_text(net: dict) -> str:
    """``erf:1,1,0, sigma_w^2 = 2, sigma_b^2 = 0.1`` (the defaults filled in)."""
    from .activations import get_activation

    act = get_activation(net.get("activation", "relu")).spec
    return f"{act}, $\\sigma_w^2$ = {net.get('weight_var', 2)}, $\\sigma_b^2$ = {net.get('bias_var', 0)}"


def _general_limit_curve(arch: str, rhos, scale: dict, net: dict) -> np.ndarray:
    """The derived depth limit at each rho (:func:`rntk_sym.asymptotics.limit`, 8 digits), NaN where it does
    not answer (not derived for this network)."""
    from . import asymptotics

    out = []
    for x in rhos:
        try:
            out.append(float(asymptotics.limit(arch, repr(float(x)), digits=8, **scale, **net).value))
        except ValueError:
            out.append(float("nan"))
            if arch == "resnet":  # refused for every rho alike (the ResNet's limits: not derived here)
                return np.full(len(rhos), np.nan)
    return np.array(out)


def kernels_data(*, max_depth=10**4, depths=None, n_rho: int = 401, n_limit: int | None = None, activation=None,
                 weight_var=None, bias_var=None, progress=None) -> dict:
    """The numbers of the kernels figure (keywords as the options of ``rntk plot kernels``): ``rhos``
    (n_rho in [-1, 1]); for each case of KERNEL_CASES, ``values[k] = rntk_sym.ntk(arch, rhos, depths[k], ...)``
    (float64, vectorized) and the depth limit ``limit`` at ``limit_rhos`` (n_limit points, default 61, denser
    near +-1: rho = -cos(pi t)); ``depths`` default 1, 10, 100, ..., max_depth.

    ``activation``, ``weight_var`` (sigma_w^2), ``bias_var`` (sigma_b^2): another network (docs/activations.md):
    the values from :func:`rntk_sym.general.kernel` (float64, unit inputs), the limit from
    :func:`rntk_sym.asymptotics.limit` where it answers, NaN where not derived (``n_limit`` default 9); the
    ResNet cases with ``weight_var="eoc"`` (the FFNet's edge of chaos) are left out."""
    net = network(activation, weight_var, bias_var)
    if n_limit is None:
        n_limit = GENERAL_N_LIMIT if net else 61
    if depths is None:
        depths = powers_of_ten(0, max_depth)
    elif max_depth != 10**4:
        raise ValueError("max-depth: give max_depth or depths, not both")
    depths = [inputs.integer("depths", L) for L in depths]
    for name, n, lo in (("n-rho", n_rho, 3), ("n-limit", n_limit, 3)):
        if not isinstance(n, int) or not lo <= n <= 20001:
            raise ValueError(f"{name}: must be an integer in [{lo}, 20001], got {n!r}")
    rhos = np.linspace(-1, 1, n_rho)
    limit_rhos = -np.cos(np.pi * np.linspace(0, 1, n_limit))
    limit_rhos[0], limit_rhos[-1] = -1.0, 1.0
    cases, done = [], 0
    for k, (label, arch, scale) in enumerate(KERNEL_CASES):
        if net and arch == "resnet" and inputs.is_eoc(net.get("weight_var")):
            continue
        vals = []
        for L in depths:
            if net:
                from .general import kernel as general_kernel

                vals.append(general_kernel(arch, rhos, L, **scale, **net))
            else:
                vals.append(ntk(arch, rhos, L, **scale))
            done += 1
            progress and progress(done)
        if net:
            label = GENERAL_KERNEL_LABELS[k]
            lim = _general_limit_curve(arch, limit_rhos, scale, net)
        else:
            lim = limit_curve(arch, limit_rhos, tuple(scale.items()))
        done += 1
        progress and progress(done)
        cases.append({"label": label, "arch": arch, "scale": dict(scale), "values": np.array(vals), "limit": lim})
    return {"rhos": rhos, "depths": depths, "limit_rhos": limit_rhos, "cases": cases, "network": net}


def draw_kernels(data: dict, out: str, dpi: int = 110) -> None:
    plt = _pyplot()
    n = len(data["cases"])
    if n == 1:  # the FFNet alone (weight_var="eoc": the ResNet cases are left out)
        fig, ax1 = plt.subplots(figsize=(9, 6.5))
        fig.subplots_adjust(left=0.1, right=0.97, top=0.87, bottom=0.2)
        axes = np.array([ax1])
    else:
        fig, axes = plt.subplots(2, (n + 1) // 2, figsize=(13, 9), sharex=True, sharey=True)
        fig.subplots_adjust(left=0.07, right=0.98, top=0.91, bottom=0.14, hspace=0.18, wspace=0.06)
        axes = axes.ravel()
    cols = plt.get_cmap("viridis")(np.linspace(0.0, 0.85, len(data["depths"])))
    lines = []
    for ax, c in zip(axes, data["cases"]):
        for v, col in zip(c["values"], cols):
            ln, = ax.plot(data["rhos"], v, color=col, lw=1.4)
        lines = [ax.lines[k] for k in range(len(data["depths"]))]
        lr, lv = data["limit_rhos"], c["limit"]
        off = lr < 1
        if np.all(np.isnan(lv[off])):
            ax.text(0.03, 0.95, "depth limit: not derived for this network", transform=ax.transAxes, fontsize=9,
                    va="top")
        elif data.get("network"):  # a few limit points (each solves the one-point analysis): markers
            lim_line, = ax.plot(lr[off], lv[off], "k^", ms=6, mfc="none")
        else:
            lim_line, = ax.plot(lr[off], lv[off], "k--", lw=2)
            ax.plot([1.0], [lv[-1]], "ko", ms=5)
        ax.set_title(c["label"], fontsize=11)
        ax.grid(True, alpha=0.3)
    for ax in axes[len(data["cases"]):]:
        ax.set_visible(False)
    for ax in axes[-2:]:
        ax.set_xlabel(r"$\rho = \langle x, x'\rangle$")
    for ax in axes[::2]:
        ax.set_ylabel(r"$\bar\Omega_L(\rho)$")
    net = data.get("network")
    labels = [f"L = {L}" for L in data["depths"]]
    handles = list(lines)
    if "lim_line" in locals():
        handles.append(lim_line)
        labels.append(r"depth limit $L\to\infty$ (rntk_sym.asymptotics.limit)" if net
                      else r"depth limit $L\to\infty$ (dot: $\rho = 1$, value 1)")
    fig.legend(handles, labels, loc="lower center", ncol=len(labels), fontsize=10, frameon=True)
    title = r"Normalized NTK $\bar\Omega_L(\rho)$ at several depths beside its depth limit"
    if net:
        title += f"\n{network_text(net)} (rntk_sym.general.kernel, float64, unit inputs)"
        fig.subplots_adjust(top=0.85 if n == 1 else 0.88)
    fig.suptitle(title, fontsize=12)
    _save(fig, out, dpi)


def kernels(out: str | None = None, *, progress=None, dpi: int = 110, **kw) -> dict:
    """Compute :func:`kernels_data` (keyword arguments) and, when ``out`` is given, draw it there."""
    return _compute_and_draw(kernels_data, draw_kernels, out, progress, dpi, kw)


# --------------------------------------------------------------------------------------------------
# rntk plot
# --------------------------------------------------------------------------------------------------

def _int(name: str, s: str) -> int:
    try:
        return int(s)
    except (TypeError, ValueError):
        raise ValueError(f"{name}: must be an integer, got {s!r}") from None


# The options of each figure (argparse dest = the keyword of its data function) and how the command
# line reads them (depths and rho go in as written: the data functions take exact notations); an
# option given to a figure that does not take it is refused.
OPTIONS = {
    "rates": {"rho": str, "max_depth": str, "max_exact_depth": str,
              "digits": lambda s: inputs.digits(_int("digits", s)), "activation": str, "weight_var": str,
              "bias_var": str},
    "phase": {"rho": str, "max_depth": str, "depth": str,
              "n_gamma": lambda s: _int("n-gamma", s), "n_rho": lambda s: _int("n-rho", s)},
    "kernels": {"max_depth": str, "n_rho": lambda s: _int("n-rho", s), "activation": str, "weight_var": str,
                "bias_var": str},
    "spectrum": {"dim": lambda s: _int("dim", s), "kmax": lambda s: _int("kmax", s)},
    "learning-curves": {"dim": lambda s: _int("dim", s), "seeds": lambda s: _int("seeds", s)},
    "eoc": {"activation": str, "max_bias_var": str, "max_weight_var": str, "n_grid": lambda s: _int("n-grid", s)},
}


def add_cli(sub) -> None:
    """The ``rntk plot`` subparser (defaults: those of the figure's data function)."""
    p = sub.add_parser("plot", help="figures: convergence rates, gamma phase diagram, kernel curves, spectra, "
                       "learning curves, the edge of chaos (PNG/SVG/PDF)")
    p.add_argument("kind", help="rates, phase, kernels, spectrum, learning-curves or eoc")
    p.add_argument("--out", required=True, help="output file; the format from its extension: .png, .svg or .pdf")
    p.add_argument(
        "--max-depth",
        help="largest depth shown (rates: skip-ahead points, default 1e10; phase: "
        "slice depths 10..max, default 1e5; kernels: depths 1, 10, .., max, default 1e4)",
    )
    p.add_argument("--max-exact-depth", help="rates: exact recursion up to this depth (default 1e4)")
    p.add_argument("--rho", help="rates: rho of the curves (plus the FFNet at rho = -1); "
                                 "phase: rho of the slice (default 0.5)")
    p.add_argument("--digits", help="rates: significant digits of the exact values (default 20)")
    p.add_argument("--depth", help="phase: depth of the heat map (default 1e4)")
    p.add_argument("--n-gamma", help="phase: gammas in the heat map (default 60)")
    p.add_argument("--n-rho", help="phase: rhos in the heat map (default 81); kernels: rhos per curve (default 401)")
    p.add_argument("--dim", help="spectrum: the sphere S^(dim-1) (default 3)")
    p.add_argument("--kmax", help="spectrum: largest degree k (default 400)")
    p.add_argument("--seeds", help="learning-curves: random draws per experiment point (default 3)")
    p.add_argument("--activation", help="eoc: NAME[:PARAMS] (default erf); kernels, rates: the network's activation "
                                        "(default relu), e.g. erf:1,2,0 or leaky_relu:0.1")
    p.add_argument("--weight-var", help="kernels, rates: sigma_w^2 > 0, exact decimal (default 2)")
    p.add_argument("--bias-var", help="kernels, rates: sigma_b^2 >= 0, exact decimal (default 0)")
    p.add_argument("--max-bias-var", help="eoc: largest sigma_b^2 (default 0.5)")
    p.add_argument("--max-weight-var", help="eoc: largest sigma_w^2 (default 4)")
    p.add_argument("--n-grid", help="eoc: grid points per axis (default 36)")
    p.add_argument("--dpi", default="110", help="resolution of a PNG (default 110)")
    p.add_argument("--data", help="also write the plotted numbers to this JSON file")
    p.add_argument("--json", action="store_true", help="print one JSON object, no progress")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def _jsonable(x):
    if isinstance(x, dict):
        return {k: _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, np.ndarray):
        return x.tolist()
    if isinstance(x, Fraction):
        return str(x)
    if isinstance(x, (np.floating, np.integer)):
        return x.item()
    return x


def _figure_options(kind: str, args) -> dict:
    """The figure's keywords from the options given; one that ``kind`` does not take is refused."""
    allowed = OPTIONS[kind]
    given = {k: v for k, v in vars(args).items() if k in set().union(*OPTIONS.values()) and v is not None}
    for k in given:
        if k not in allowed:
            opts = ", ".join("--" + a.replace("_", "-") for a in allowed)
            raise ValueError(f"{k.replace('_', '-')}: --{k.replace('_', '-')} does not apply to 'plot {kind}' "
                             f"(its options: {opts})")
    return {k: allowed[k](v) for k, v in given.items()}


def run(args) -> dict:
    """``rntk plot``: validate, compute with a progress bar, write the figure; a summary as a dict."""
    import inspect
    import json

    kind = inputs.choice("kind", args.kind, KINDS)
    fmt = output_format(args.out)
    if args.data:
        writable("data", args.data)
    show_bar = not (args.json or args.quiet)
    dpi = _int("dpi", args.dpi)
    if not 20 <= dpi <= 600:
        raise ValueError(f"dpi: must be an integer in [20, 600], got {args.dpi!r}")
    given = _figure_options(kind, args)
    from . import spectra_plot
    from .eoc_plot import eoc, eoc_data

    compute = {"rates": rates_data, "phase": phase_data, "kernels": kernels_data, "eoc": eoc_data,
               "spectrum": spectra_plot.spectrum_data, "learning-curves": spectra_plot.learning_data}[kind]
    kw = {k: p.default for k, p in inspect.signature(compute).parameters.items() if k in OPTIONS[kind]} | given
    t0 = time.perf_counter()
    if kind == "rates":
        max_exact, top = inputs.integer("max-exact-depth", kw["max_exact_depth"]), inputs.integer("max-depth",
                                                                                                  kw["max_depth"])
        n_exact = len(_decades(2, max_exact, 4))
        total = len(RATE_CASES) * (1 + n_exact + len(_decades(max_exact, max(top, max_exact + 1), 2)))
        draw = rates
    elif kind == "phase":
        total = inputs.integer("depth", kw["depth"]) + sum(powers_of_ten(1, kw["max_depth"])) + 2 * kw["n_rho"]
        draw = phase
    elif kind == "spectrum":
        total, draw = spectra_plot.N_CASES, spectra_plot.spectrum_figure
    elif kind == "learning-curves":
        total, draw = len(spectra_plot.LEARNING_CASES), spectra_plot.learning_figure
    elif kind == "eoc":
        total, draw = kw["n_grid"] ** 2 + 21, eoc
    else:
        total = len(KERNEL_CASES) * (len(powers_of_ten(0, kw["max_depth"])) + 1)
        draw = kernels
    with Progress(total, f"plot {kind}", enabled=show_bar) as bar:
        data = draw(args.out, progress=bar, dpi=dpi, **kw)
    if args.data:
        with open(args.data, "w") as fh:
            json.dump(_jsonable(data), fh)
    return {"kind": kind, "out": args.out, "format": fmt, "bytes": os.path.getsize(args.out),
            "seconds": round(time.perf_counter() - t0, 3), "options": _jsonable(kw), "data": args.data}


def show(res: dict) -> None:
    """Text summary of ``rntk plot``."""
    opts = ", ".join(f"{k}={v}" for k, v in res["options"].items())
    print(f"plot {res['kind']}: wrote {res['out']} ({res['format']}, {res['bytes']} bytes) in {res['seconds']} s")
    print(f"  options: {opts}")
    if res["data"]:
        print(f"  plotted numbers: {res['data']}")
