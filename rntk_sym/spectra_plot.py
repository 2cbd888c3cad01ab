"""The figures of docs/spectra.md.

The spectrum figure (``rntk plot spectrum``): ``k^power mu_k`` against k, even and odd k apart, with the
derived decay constants ``C_even``, ``C_odd`` (docs/spectra.md) as horizontal lines.

Left panel: the FFNet NTK at several depths (the constants grow with L: the spectrum flattens toward the
degenerate limit). Right panel: the ResNet NTK at one depth for several gamma (alpha = L^-gamma).
``k^power mu_k`` tends to ``C_(k mod 2)``; eigenvalues that are zero within their error (the odd k >= 3 of
the two-layer NTK) are not drawn on the log axis.

The learning-curves figure (``rntk plot learning-curves``): the predicted test error of kernel ridge regression
(:func:`rntk_sym.learning_curve`) against n, lines, with the experiments of
:func:`rntk_sym.learning.learning_experiment` as points with their standard errors."""
from __future__ import annotations

import numpy as np

from .spectra import count, spectrum

FFNET_DEPTHS = (1, 2, 8, 64)
RESNET_DEPTH = 64
RESNET_GAMMAS = ("1", "0.5", "0.25")


def spectrum_data(*, dim: int = 3, kmax: int = 400, progress=None) -> dict:
    """The plotted numbers: ``k`` = 1..kmax and, for each case, ``scaled = k^power mu_k``, ``zero`` (mu_k
    zero within its error), ``C_even``, ``C_odd``, ``power`` (``rntk_sym.spectrum``, float64)."""
    dim = count("dim", dim, 2, 50)
    kmax = count("kmax", kmax, 4, 20000)
    cases = [("ffnet", L, {}, f"FFNet L = {L}") for L in FFNET_DEPTHS]
    cases += [("resnet", RESNET_DEPTH, {"gamma": g}, f"ResNet L = {RESNET_DEPTH}, gamma = {g}") for g in RESNET_GAMMAS]
    k = np.arange(1, kmax + 1)
    out = []
    for i, (arch, L, kw, label) in enumerate(cases):
        s = spectrum(arch, L, dim, kmax, **kw)
        p = float(s.decay.power)
        out.append({"arch": arch, "depth": L, "scale": kw, "label": label, "power": p,
                    "scaled": k ** p * s.mu[1:], "zero": np.abs(s.mu[1:]) <= 10 * s.error[1:],
                    "C_even": float(s.decay.C_even), "C_odd": float(s.decay.C_odd)})
        if progress:
            progress(i + 1)
    return {"dim": dim, "kmax": kmax, "k": k, "cases": out}


N_CASES = len(FFNET_DEPTHS) + len(RESNET_GAMMAS)


def draw_spectrum(data: dict, out: str, dpi: int = 110) -> None:
    from .plots import _pyplot, _save

    plt = _pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(13, 5.8), sharey=False)
    fig.subplots_adjust(left=0.07, right=0.98, top=0.86, bottom=0.11, wspace=0.18)
    k = data["k"]
    even, odd = k % 2 == 0, k % 2 == 1
    groups = (("ffnet", "FFNet NTK: the constants grow with L"),
              ("resnet", f"ResNet NTK, L = {RESNET_DEPTH}, alpha = L^-gamma"))
    for ax, (arch, title) in zip(axes, groups):
        cases = [c for c in data["cases"] if c["arch"] == arch]
        cols = plt.get_cmap("viridis")(np.linspace(0.0, 0.85, len(cases)))
        for c, col in zip(cases, cols):
            y = np.where(c["zero"], np.nan, c["scaled"])
            ax.plot(k[even], y[even], "-", color=col, lw=1.6, label=c["label"] + " (even k)")
            ax.plot(k[odd], y[odd], ":", color=col, lw=1.6, label=c["label"] + " (odd k)")
            ax.axhline(c["C_even"], color=col, lw=0.9, ls="-", alpha=0.8)
            if c["C_odd"] > 0:
                ax.axhline(c["C_odd"], color=col, lw=0.9, ls="--", alpha=0.8)
        consts = [c[key] for c in cases for key in ("C_even", "C_odd") if c[key] > 0]
        ax.set_ylim(min(consts) / 8, max(consts) * 2.5)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("degree k")
        ax.set_title(title, fontsize=11)
        ax.grid(True, which="both", alpha=0.25)
        ax.legend(fontsize=7.5, ncol=2, loc="lower right", framealpha=0.9)
    axes[0].set_ylabel(rf"$k^{{{data['cases'][0]['power']:g}}}\,\mu_k$")
    fig.suptitle(rf"Mercer eigenvalues on $S^{{{data['dim'] - 1}}}$ times $k^{{d}}$: solid = even k, dotted = odd k; "
                 r"thin lines: the derived constants $C_{\rm even}$ (solid), $C_{\rm odd}$ (dashed)" "\n"
                 r"(two-layer FFNet: odd $\mu_k = 0$ for $k \geq 3$, not drawn)", fontsize=11)
    _save(fig, out, dpi)


def spectrum_figure(out: str | None = None, *, progress=None, dpi: int = 110, **kw) -> dict:
    """Compute :func:`spectrum_data` and, when ``out`` is given, draw it there."""
    from .plots import _compute_and_draw

    return _compute_and_draw(spectrum_data, draw_spectrum, out, progress, dpi, kw)


LEARNING_CASES = (("ffnet", 1, {}, "FFNet L = 1"), ("ffnet", 4, {}, "FFNet L = 4"), ("ffnet", 16, {}, "FFNet L = 16"),
                  ("ffnet", 64, {}, "FFNet L = 64"), ("resnet", 64, {"gamma": "1"}, "ResNet L = 64, gamma = 1"),
                  ("resnet", 64, {"gamma": "0.25"}, "ResNet L = 64, gamma = 1/4"))
EXPERIMENT_NS = (25, 50, 100, 200, 400)


def learning_data(*, dim: int = 3, target_degree: int = 2, ridge: float = 0.1, seeds: int = 3,
                  progress=None) -> dict:
    """Theory at 40 values of n in [10, 1000] and experiments (``seeds`` draws, 300 test points) at
    EXPERIMENT_NS, for each of LEARNING_CASES; a unit-norm harmonic target of ``target_degree``, no noise."""
    from .learning import learning_curve, learning_experiment

    dim = count("dim", dim, 2, 20)
    target_degree = count("target-degree", target_degree, 0, 20)
    seeds = count("seeds", seeds, 2, 100)
    ns = np.unique(np.geomspace(10, 1000, 40).astype(int))
    out = []
    for i, (arch, L, kw, label) in enumerate(LEARNING_CASES):
        th = learning_curve(arch, L, dim, ns, target_degree=target_degree, ridge=ridge, **kw)
        ex = learning_experiment(arch, L, dim, list(EXPERIMENT_NS), target_degree=target_degree, ridge=ridge,
                                 seeds=seeds, n_test=300, **kw)
        out.append({"label": label, "theory": th.test_error, "mean": ex["mean"], "stderr": ex["stderr"]})
        if progress:
            progress(i + 1)
    return {"dim": dim, "target_degree": target_degree, "ridge": ridge, "seeds": seeds, "ns": ns,
            "experiment_ns": np.array(EXPERIMENT_NS), "cases": out}


def draw_learning(data: dict, out: str, dpi: int = 110) -> None:
    from .plots import _pyplot, _save

    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8.5, 6))
    fig.subplots_adjust(left=0.11, right=0.97, top=0.88, bottom=0.1)
    cols = plt.get_cmap("viridis")(np.linspace(0.0, 0.9, len(data["cases"])))
    for c, col in zip(data["cases"], cols):
        res = c["label"].startswith("ResNet")
        ax.plot(data["ns"], c["theory"], "--" if res else "-", color=col, lw=1.6, label=c["label"])
        ax.errorbar(data["experiment_ns"], c["mean"], yerr=c["stderr"], fmt="s" if res else "o", color=col, ms=4,
                    capsize=2)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("samples n")
    ax.set_ylabel("test error (MSE against the noise-free target)")
    ax.grid(True, which="both", alpha=0.25)
    ax.legend(fontsize=8.5, loc="lower left")
    ax.set_title(f"Kernel ridge regression with the NTK on $S^{{{data['dim'] - 1}}}$, degree-{data['target_degree']} "
                 f"harmonic target, ridge {data['ridge']:g}\nlines: spectral theory (rntk_sym.learning_curve); "
                 f"points: experiments (mean +/- SE of {data['seeds']} draws)", fontsize=10)
    _save(fig, out, dpi)


def learning_figure(out: str | None = None, *, progress=None, dpi: int = 110, **kw) -> dict:
    """Compute :func:`learning_data` and, when ``out`` is given, draw it there."""
    from .plots import _compute_and_draw

    return _compute_and_draw(learning_data, draw_learning, out, progress, dpi, kw)


__all__ = ["spectrum_data", "draw_spectrum", "spectrum_figure", "learning_data", "draw_learning", "learning_figure"]
