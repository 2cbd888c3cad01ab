"""Speed and accuracy of rntk_sym.gram (issue 7): n = 2000 points on S^4, FFNet NTK, L = 100, 1000.

Compared, in one run:
- ``naive``: a straightforward vectorized numpy recursion on the full n x n matrix rho = X X^T in the
  seed's arccos form (docs/model.md 2), written below;
- ``neural-tangents`` 0.6.5 ``stax.serial`` ``kernel_fn`` on CPU, float64, without jit (ECOSYSTEM.md:
  the jit compile of a deep ``stax.serial`` does not finish), when it imports. Its network trains
  every layer; with the first ``Dense(W_std=sqrt(D))`` (so its input kernel is rho) and the others
  ``Dense(W_std=sqrt(2))`` its NTK is ``Theta = Omega_L + K_L``: the seed's FFNet NTK (hidden layers
  trained) plus the last layer's term, the GP kernel ``K_L`` it returns as ``nngp``. So
  ``Omegabar_L = (ntk - nngp) / L`` is compared with ``rntk_sym.gram`` entrywise.

Accuracy: every method against the seed formula (tests/seed_formulas.py, plain forward loop) at 60
digits, at the exact angle of the float64 rows, on 20 random pairs plus a pair with
rho = 1 - 1e-10 inserted into the data. Run: ``python benchmarks/bench_gram.py [--n N] [--depths ..]``.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import mpmath as mp
import numpy as np

import rntk_sym

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
import seed_formulas as sf  # noqa: E402


def naive_ffnet_ntk(X, L):
    """Straightforward vectorized recursion on rho (seed 002 FFNet, arccos form): Omegabar_L."""
    r = np.clip(X @ X.T, -1.0, 1.0)
    T = np.zeros_like(r)
    for _ in range(L):
        t = np.arccos(r)
        sp = (np.pi - t) / np.pi
        T = sp * (T + r)
        r = (np.sqrt(1 - r * r) + (np.pi - t) * r) / np.pi
    return T / L


def nt_kernel_fn(D, L):
    """neural-tangents stax kernel_fn of the FFNet above, or the reason it is unavailable."""
    try:
        import jax

        jax.config.update("jax_enable_x64", True)
        from neural_tangents import stax
    except Exception as e:  # ImportError, or the jax.core incompatibility of ECOSYSTEM.md
        return None, f"{type(e).__name__}: {e}"
    layers = [stax.Dense(1, W_std=np.sqrt(D))]
    for _ in range(L):
        layers += [stax.Relu(), stax.Dense(1, W_std=np.sqrt(2.0))]
    return stax.serial(*layers)[2], None


def points(n, D, seed=0):
    """n points on S^{D-1}; row 1 is row 0 turned by an angle with 1 - cos = 1e-10."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, D))
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    t = X[1] - (X[1] @ X[0]) * X[0]
    t /= np.linalg.norm(t)
    th = np.sqrt(2e-10)
    X[1] = np.cos(th) * X[0] + np.sin(th) * t
    return X


def reference(X, pairs, L):
    out = []
    with mp.workdps(60):
        for i, j in pairs:
            a = [mp.mpf(float(q)) for q in X[i]]
            b = [mp.mpf(float(q)) for q in X[j]]
            rho = mp.fdot(a, b) / mp.sqrt(mp.fdot(a, a) * mp.fdot(b, b))
            out.append(sf.forward_loop("ffnet", rho, L)[0])
    return out


def worst_error(K, pairs, ref):
    """max relative error over the pairs, and the error on the nearly parallel pair (0, 1)."""
    errs = [abs(mp.mpf(float(K[i, j])) - r) / abs(r) for (i, j), r in zip(pairs, ref)]
    return float(max(errs)), float(errs[0])


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--n", type=int, default=2000)
    p.add_argument("--dim", type=int, default=5)
    p.add_argument("--depths", type=int, nargs="+", default=[100, 1000])
    p.add_argument("--no-nt", action="store_true", help="skip neural-tangents")
    a = p.parse_args(argv)
    X = points(a.n, a.dim)
    rng = np.random.default_rng(1)
    pairs = [(0, 1)] + [tuple(sorted(rng.choice(a.n, 2, replace=False))) for _ in range(20)]
    print(f"n = {a.n} points on S^{a.dim - 1}, FFNet normalized NTK, float64, {time.strftime('%Y-%m-%d')}")
    print(f"{'L':>5} {'method':<16} {'seconds':>8} {'ratio':>7} {'worst rel err':>14} {'err rho=1-1e-10':>16}")
    for L in a.depths:
        ref = reference(X, pairs, L)
        rows = []
        t = time.perf_counter()
        G = rntk_sym.gram(X, arch="ffnet", depth=L)
        rows.append(("rntk_sym.gram", time.perf_counter() - t, G))
        t = time.perf_counter()
        N = naive_ffnet_ntk(X, L)
        rows.append(("naive numpy", time.perf_counter() - t, N))
        note = None
        if not a.no_nt:
            kfn, note = nt_kernel_fn(a.dim, L)
            if kfn is not None:
                t = time.perf_counter()
                k = kfn(X, None, ("nngp", "ntk"))
                om = (np.asarray(k.ntk) - np.asarray(k.nngp)) / L
                rows.append(("neural-tangents", time.perf_counter() - t, om))
                iu = np.triu_indices(a.n, 1)
                note = (f"converted neural-tangents vs rntk_sym.gram: max |diff| over all pairs "
                        f"{np.abs(om - G)[iu].max():.1e}")
        base = rows[0][1]
        for name, sec, K in rows:
            w, near = worst_error(K, pairs, ref)
            print(f"{L:>5} {name:<16} {sec:8.2f} {sec / base:7.2f} {w:14.1e} {near:16.1e}")
        if note:
            print(f"      {note}")
        sys.stdout.flush()
    print("ratio = seconds / seconds of rntk_sym.gram (same run); errors vs 60-digit seed formula")


if __name__ == "__main__":
    main()
