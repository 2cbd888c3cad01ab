r"""Experiments on data with the package's Gram matrices (issue 7).

* :func:`depth_degeneration` -- seed 000 (arXiv 2403.04545) / docs/model.md 4: kernel regression with
  gradient-flow early stopping on the normalized RNTK, synthetic data ``y = <x, beta> + 0.1 eps``
  with x uniform on the sphere; test error against depth L for ``alpha`` constant and
  ``alpha = L^-gamma``, gamma = 1/4, 1/2, 1. Degeneration (error growing with L) is expected for
  constant alpha and gamma < 1/2, not for gamma = 1 (depth limit = the one-layer kernel).
* :func:`ffnet_shrinkage` -- seed 002 / docs/model.md 5: with the FFNet NTK and centered labels, kernel
  ridge predictions at new points shrink toward 0 as L grows (limit kernel 1/4 off the diagonal).
* :func:`least_eigenvalues` -- seed 003 / docs/model.md 6: least eigenvalue ``lambda`` of the Gram matrix
  of n points as n and L vary (the normalized Gram: seed 003's lambda divided by the diagonal).

Every function takes ``seed`` and returns plain arrays; ``python -m rntk_sym.experiments`` runs all
three at moderate sizes and writes PNG figures to ``out/`` (matplotlib, Agg backend).
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from .gram import gram
from .regression import early_stopping, gradient_flow, kernel_ridge, mse, synthetic_data

REGIMES = {  # label -> scaling keyword arguments of rntk_sym.gram for arch="resnet"
    "alpha = 1 (constant)": {"alpha": 1},
    "gamma = 1/4": {"gamma": "0.25"},
    "gamma = 1/2": {"gamma": "0.5"},
    "gamma = 1": {"gamma": 1},
}


def _split_data(n_train, n_val, n_test, dim, noise, seed):
    X, y, beta = synthetic_data(n_train, dim, noise=noise, seed=[seed, 0])
    Xv, yv, _ = synthetic_data(n_val, dim, beta=beta, noise=noise, seed=[seed, 1])
    Xt, _, _ = synthetic_data(n_test, dim, beta=beta, noise=noise, seed=[seed, 2])
    return X, y, Xv, yv, Xt, Xt @ beta


def depth_degeneration(depths, *, regimes=None, n_train=200, n_val=100, n_test=200, dim=5,
                       noise=0.1, seed=0, times=None):
    """Seed 000's experiment: test error of early-stopped gradient flow on the normalized RNTK.

    For each regime (``regimes``: label -> ``{"alpha": a}`` or ``{"gamma": g}``, default
    :data:`REGIMES`) and depth ``L`` in ``depths``: fit gradient flow ``df/dt = -(1/n) K (f - y)``
    on ``n_train`` points, choose the stopping time among ``times`` (default 10^-1 .. 10^9) by the
    validation MSE, and report the MSE against the noise-free target ``<x, beta>`` on ``n_test``
    new points. Returns ``{label: array of errors, one per depth}`` and the trivial error (predict 0)
    under the key ``"zero predictor"``.
    """
    regimes = REGIMES if regimes is None else regimes
    times = np.geomspace(1e-1, 1e9, 61) if times is None else times
    X, y, Xv, yv, Xt, ft = _split_data(n_train, n_val, n_test, dim, noise, seed)
    out = {}
    for label, kw in regimes.items():
        errs = []
        for L in depths:
            K = gram(X, arch="resnet", depth=L, **kw)
            Kv = gram(Xv, X, arch="resnet", depth=L, **kw)
            Kt = gram(Xt, X, arch="resnet", depth=L, **kw)
            t_best, _ = early_stopping(K, y, Kv, yv, times)
            _, pred = gradient_flow(K, y, t_best, Kt)
            errs.append(float(mse(pred, ft)))
        out[label] = np.array(errs)
    out["zero predictor"] = np.full(len(depths), float(mse(np.zeros_like(ft), ft)))
    return out


def ffnet_shrinkage(depths, *, n_train=200, n_test=200, dim=5, noise=0.1, lam=1e-3, seed=0):
    """Seed 002's non-learnability on data: RMS of the FFNet-NTK ridge predictions at new points.

    Labels are centered (``sum y = 0``, as in docs/model.md 5). Returns ``(rms_pred, test_mse)`` arrays over
    ``depths``: ``rms_pred`` -> 0 as L grows (the depth-limit kernel predicts exactly 0 at new points)
    and the test MSE against ``<x, beta>`` rises to that of the zero predictor.
    """
    X, y, _, _, Xt, ft = _split_data(n_train, 1, n_test, dim, noise, seed)
    y = y - y.mean()
    ft = ft - ft.mean()
    rms, err = [], []
    for L in depths:
        K = gram(X, arch="ffnet", depth=L)
        Kt = gram(Xt, X, arch="ffnet", depth=L)
        _, pred, _ = kernel_ridge(K, y, lam, Kt)
        rms.append(float(np.sqrt(np.mean(pred ** 2))))
        err.append(float(mse(pred, ft)))
    return np.array(rms), np.array(err)


def least_eigenvalues(ns, depths, *, arch="resnet", dim=5, seed=0, **scaling):
    """Least eigenvalue of the normalized Gram matrix ``Omegabar_L(x_i, x_j)`` of ``n`` points
    uniform on S^{dim-1} (nested: the first n of one sample), for every n in ``ns`` and L in
    ``depths``. Returns an array of shape (len(depths), len(ns)). Seed 003's lambda (unnormalized
    Gram) is this times the diagonal ``Omega_L(x, x)``.
    """
    X, _, _ = synthetic_data(max(ns), dim, seed=[seed, 3])
    lam = np.empty((len(depths), len(ns)))
    for a, L in enumerate(depths):
        G = gram(X, arch=arch, depth=L, **scaling)
        for b, n in enumerate(ns):
            lam[a, b] = np.linalg.eigvalsh(G[:n, :n])[0]
    return lam


def _plot_regression(path, depths, deg, rms, ffn_err):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(1, 2, figsize=(11, 4.2))
    for label, errs in deg.items():
        style = {"color": "k", "ls": ":"} if label == "zero predictor" else {"marker": "o"}
        ax[0].loglog(depths, errs, label=label, **style)
    ax[0].set(xlabel="depth L", ylabel="test MSE vs <x, beta>",
              title="Seed 000: RNTK + early stopping, y = <x,beta> + 0.1 eps")
    ax[0].legend(fontsize=8)
    ax[1].semilogx(depths, rms, "o-", label="RMS of predictions at new points")
    ax[1].semilogx(depths, ffn_err, "s--", label="test MSE (centered target)")
    ax[1].axhline(0, color="k", lw=0.5)
    ax[1].set(xlabel="depth L", title="Seed 002: FFNet NTK ridge, predictions shrink to 0")
    ax[1].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _plot_eigen(path, ns, depths, lam_res, lam_ff):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(1, 2, figsize=(11, 4.2))
    for a, L in enumerate(depths):
        ax[0].loglog(ns, lam_res[a], "o-", label=f"ResNet gamma=1, L={L}")
        ax[1].semilogx(ns, lam_ff[a], "o-", label=f"FFNet, L={L}")
    ax[0].set(xlabel="n points on S^4", ylabel="least eigenvalue of normalized Gram",
              title="Seed 003 lambda: ResNet, alpha = 1/L")
    ax[1].axhline(0.75, color="k", ls=":", label="3/4 (limit kernel, docs/model.md 5)")
    ax[1].set(xlabel="n points on S^4", title="FFNet: lambda -> 3/4 as L grows")
    for x in ax:
        x.set_xticks(ns, [str(n) for n in ns], minor=False)
        x.set_xticks([], minor=True)
        x.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m rntk_sym.experiments", description=__doc__.split("\n\n")[0])
    p.add_argument("--out", default="out", help="directory for the PNG files (default: out)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--quick", action="store_true", help="small sizes (seconds)")
    a = p.parse_args(argv)
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    if a.quick:
        depths, sizes, ns, edepths = [1, 4, 16, 64], dict(n_train=80, n_val=40, n_test=80), [10, 20, 40], [1, 10, 100]
    else:
        depths, sizes, ns, edepths = [1, 3, 10, 30, 100, 300, 1000], {}, [25, 50, 100, 200, 400], [1, 10, 100, 1000]
    deg = depth_degeneration(depths, seed=a.seed, **sizes)
    sz = {k: v for k, v in sizes.items() if k != "n_val"}
    rms, ffn_err = ffnet_shrinkage(depths, seed=a.seed, **sz)
    print(f"{'depth':<22s} " + " ".join(f"{L:>9d}" for L in depths))
    for label, errs in deg.items():
        print(f"{label:<22s} " + " ".join(f"{e:9.2e}" for e in errs))
    print(f"{'FFNet RMS pred':<22s} " + " ".join(f"{e:9.2e}" for e in rms))
    print(f"{'FFNet test MSE':<22s} " + " ".join(f"{e:9.2e}" for e in ffn_err))
    _plot_regression(out / "regression_depth.png", depths, deg, rms, ffn_err)
    lam_res = least_eigenvalues(ns, edepths, arch="resnet", gamma=1, seed=a.seed)
    lam_ff = least_eigenvalues(ns, edepths, arch="ffnet", seed=a.seed)
    print("least eigenvalue, n =      " + " ".join(f"{n:>9d}" for n in ns))
    for name, lam in (("ResNet gamma=1", lam_res), ("FFNet", lam_ff)):
        for L, row in zip(edepths, lam):
            print(f"{name + ', L=' + str(L):<26s} " + " ".join(f"{e:9.3e}" for e in row))
    _plot_eigen(out / "least_eigenvalue.png", ns, edepths, lam_res, lam_ff)
    print(f"wrote {out / 'regression_depth.png'} and {out / 'least_eigenvalue.png'} "
          f"in {time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main()
