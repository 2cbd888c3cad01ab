"""Speed and accuracy of rntk_sym.gram (issues 7 and 17): n = 2000 points on S^9, L = 100; FFNet NTK,
ResNet NTK (gamma = 1) and FFNet GP kernel; n = 10^4 for the FFNet NTK with --big.

Compared, in one run:
- ``naive numpy``: a straightforward vectorized numpy recursion on the full n x n matrix rho = X X^T in
  the seed's arccos form (docs/model.md 2-3), written below: the baseline of every ratio;
- ``rntk_sym.gram`` on its numpy path (numba hidden) and on its compiled path (numba, issue 17) with 1
  thread and with every core. The compiled path's first call is timed separately: compiling from
  scratch (a fresh ``NUMBA_CACHE_DIR``, in a subprocess) and loading the on-disk cache (this process);
  neither counts in the ratios;
- ``neural-tangents`` 0.6.5 ``stax.serial`` ``kernel_fn`` on CPU, float64, without jit (ECOSYSTEM.md:
  the jit compile of a deep ``stax.serial`` does not finish), when it imports. Its network trains
  every layer; with the first ``Dense(W_std=sqrt(D))`` (so its input kernel is rho) and the others
  ``Dense(W_std=sqrt(2))`` its NTK is ``Theta = Omega_L + K_L``: the seed's FFNet NTK (hidden layers
  trained) plus the last layer's term, the GP kernel ``K_L`` it returns as ``nngp``. So
  ``Omegabar_L = (ntk - nngp) / L`` is compared with ``rntk_sym.gram`` entrywise.

Accuracy: every method against the seed formula (tests/seed_formulas.py, plain forward loop) at 60
digits, at the exact angle of the float64 rows, on 20 random pairs plus a pair with
rho = 1 - 1e-10 inserted into the data.
Run: ``python benchmarks/bench_gram.py [--n N] [--dim D] [--depths ..] [--big N] [--no-nt]``.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from unittest import mock

import mpmath as mp
import numpy as np

import rntk_sym
from rntk_sym.backends import compiled

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
import seed_formulas as sf  # noqa: E402


def naive(X, L, arch="ffnet", kernel="ntk", alpha=None):
    """Straightforward vectorized recursion on rho (seed 002, arccos form; as tests/test_gram.py's
    naive_float64): Omegabar_L or rho_L of every pair, the full matrix."""
    r = np.clip(X @ X.T, -1.0, 1.0)
    T = np.zeros_like(r)
    a2 = None if alpha is None else alpha * alpha
    for _ in range(L):
        t = np.arccos(r)
        sp = (np.pi - t) / np.pi
        s = (np.sqrt(1 - r * r) + (np.pi - t) * r) / np.pi
        if arch == "ffnet":
            T, r = sp * (T + r), s
        else:
            T, r = T * (1 + a2 * sp) / (1 + a2) + (s + r * sp) / 2, (r + a2 * s) / (1 + a2)
    return T / L if kernel == "ntk" else r


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


def reference(X, pairs, L, arch="ffnet", kernel="ntk", alpha=None):
    out = []
    with mp.workdps(60):
        for i, j in pairs:
            a = [mp.mpf(float(q)) for q in X[i]]
            b = [mp.mpf(float(q)) for q in X[j]]
            rho = mp.fdot(a, b) / mp.sqrt(mp.fdot(a, a) * mp.fdot(b, b))
            out.append(sf.forward_loop(arch, rho, L, None if alpha is None else mp.mpf(alpha))[kernel == "gp"])
    return out


def worst_error(K, pairs, ref):
    """max relative error over the pairs, and the error on the nearly parallel pair (0, 1)."""
    errs = [abs(mp.mpf(float(K[i, j])) - r) / abs(r) for (i, j), r in zip(pairs, ref)]
    return float(max(errs)), float(errs[0])


@contextmanager
def numba_threads(k):
    """Run the compiled path on k threads (None: as many as numba has, every core)."""
    import numba

    old = numba.get_num_threads()
    numba.set_num_threads(k or numba.config.NUMBA_NUM_THREADS)
    try:
        yield
    finally:
        numba.set_num_threads(old)


def cold_compile_seconds():
    """Seconds of the first gram call in a fresh process with an empty numba cache (import + compile)."""
    code = ("import time, numpy as np, rntk_sym; t = time.perf_counter(); "
            "rntk_sym.gram(np.eye(3), arch='ffnet', depth=2); print(time.perf_counter() - t)")
    with tempfile.TemporaryDirectory() as d:
        env = dict(os.environ, NUMBA_CACHE_DIR=d)
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    return float(out.stdout.split()[-1])


def methods(X, L, arch, kernel, alpha):
    """(name, seconds, matrix) of each method on the rows X."""
    kw = dict(arch=arch, depth=L, kernel=kernel, **({} if alpha is None else {"gamma": 1}))
    t = time.perf_counter()
    N = naive(X, L, arch, kernel, alpha)
    rows = [("naive numpy", time.perf_counter() - t, N)]
    with mock.patch.object(compiled, "available", lambda: False):
        t = time.perf_counter()
        G = rntk_sym.gram(X, **kw)
        rows.append(("gram numpy path", time.perf_counter() - t, G))
    if compiled.available():
        for k, name in ((1, "gram compiled 1 thread"), (None, "gram compiled all cores")):
            with numba_threads(k):
                t = time.perf_counter()
                G = rntk_sym.gram(X, **kw)
                rows.append((name, time.perf_counter() - t, G))
    return rows


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--n", type=int, default=2000)
    p.add_argument("--dim", type=int, default=10)
    p.add_argument("--depths", type=int, nargs="+", default=[100])
    p.add_argument("--big", type=int, default=10 ** 4, help="n of the compiled-only FFNet NTK run (0: skip)")
    p.add_argument("--no-nt", action="store_true", help="skip neural-tangents")
    a = p.parse_args(argv)
    X = points(a.n, a.dim)
    rng = np.random.default_rng(1)
    pairs = [(0, 1)] + [tuple(sorted(rng.choice(a.n, 2, replace=False))) for _ in range(20)]
    print(f"n = {a.n} points on S^{a.dim - 1}, float64, {time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores")
    if compiled.available():
        print(f"compiled path, first call from scratch (numba import + compile): {cold_compile_seconds():.1f} s")
        t = time.perf_counter()
        rntk_sym.gram(np.eye(3), arch="ffnet", depth=2)
        print(f"compiled path, first call in a process (numba import + load of the cache): "
              f"{time.perf_counter() - t:.1f} s   (neither is counted below)")
    else:
        print("numba is not installed: numpy path only")
    print(f"{'L':>5} {'kernel':<16} {'method':<24} {'seconds':>8} {'vs naive':>9} {'worst rel err':>14} "
          f"{'err rho=1-1e-10':>16}")
    for L in a.depths:
        for arch, kernel, alpha in (("ffnet", "ntk", None), ("resnet", "ntk", 1 / L), ("ffnet", "gp", None)):
            label = f"{arch} {kernel}" + ("" if alpha is None else " g=1")
            ref = reference(X, pairs, L, arch, kernel, alpha)
            rows = methods(X, L, arch, kernel, alpha)
            note = None
            if arch == "ffnet" and kernel == "ntk" and not a.no_nt:
                kfn, note = nt_kernel_fn(a.dim, L)
                if kfn is not None:
                    t = time.perf_counter()
                    k = kfn(X, None, ("nngp", "ntk"))
                    om = (np.asarray(k.ntk) - np.asarray(k.nngp)) / L
                    rows.append(("neural-tangents", time.perf_counter() - t, om))
                    iu = np.triu_indices(a.n, 1)
                    note = (f"converted neural-tangents vs rntk_sym.gram: max |diff| over all pairs "
                            f"{np.abs(om - rows[1][2])[iu].max():.1e}")
            base = rows[0][1]
            for name, sec, K in rows:
                w, near = worst_error(K, pairs, ref)
                print(f"{L:>5} {label:<16} {name:<24} {sec:8.2f} {base / sec:9.2f} {w:14.1e} {near:16.1e}")
            if note:
                print(f"      {note}")
            sys.stdout.flush()
    if a.big and compiled.available():
        L = a.depths[0]
        Xb = points(a.big, a.dim)
        ref = reference(Xb, pairs, L)
        t = time.perf_counter()
        G = rntk_sym.gram(Xb, arch="ffnet", depth=L)
        sec = time.perf_counter() - t
        w, near = worst_error(G, pairs, ref)
        print(f"{L:>5} {'ffnet ntk':<16} {f'compiled, n = {a.big}':<24} {sec:8.2f} {'':>9} {w:14.1e} {near:16.1e}")
    print("vs naive = seconds of the naive numpy recursion / seconds of the method (same run, same n and L);")
    print("errors relative, vs the 60-digit seed formula at the exact angle of the float64 rows")


if __name__ == "__main__":
    main()
