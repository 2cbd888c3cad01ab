"""The compiled Gram for general networks (issue 17): ``rntk_sym.gram`` with an activation, n points on
S^9, L = 100, sigma_w^2 = 2, sigma_b^2 = 0.1 (as benchmarks/bench_activations.py), compiled
(:mod:`rntk_sym.backends.compiled_general`, numba on every core) against, in the same run:

- ``numpy``: today's path, the same call with numba hidden (:func:`rntk_sym.general.run` on numpy arrays);
- ``plain``: a plain numpy loop of the same recursion on the full n x n covariance, without the
  cancellation-free state (bench_activations.plain_gram for the FFNet; :func:`plain_resnet_gram` here).

Cases: FFNet NTK with gelu, erf, leaky_relu:0.1; ResNet (gamma = 0.5) NTK with erf. The first call of
each activation (numba compile, or the load of its on-disk cache) is timed apart and never counted;
run with an empty ``NUMBA_CACHE_DIR`` to see the compile time. Accuracy: max relative error of each Gram
against 50-digit :func:`rntk_sym.kernel` (``digits=50``, its error bound printed) on 8 pairs, one of them
at rho = 1 - 1e-10 (1 - rho taken from the rows exactly, in 60-digit arithmetic).

Run: ``python benchmarks/bench_compiled_general.py [--n N]``
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from unittest import mock

import mpmath
import numpy as np

import rntk_sym
from rntk_sym.backends import compiled

sys.path.insert(0, os.path.dirname(__file__))
from bench_activations import SB2, SW2, _erf_duals, _gelu_duals, plain_gram  # noqa: E402

LEAK = 0.1


def _leaky_duals(Q1, Q2, C):
    """leaky_relu(a) = ab_relu(a, 1): ``E = (1 - a)^2 J + a c``, ``Ed = (1 - a)^2 (pi - theta)/(2 pi) + a`` with
    ``J = (S + (pi - theta) c)/(2 pi)`` (rntk_sym/activations/families.py, Cho and Saul 2009)."""
    r = np.sqrt(Q1 * Q2)
    cos = np.clip(C / r, -1, 1)
    th = np.arccos(cos)
    S = r * np.sin(th)
    b = (1 - LEAK) ** 2
    return b * (S + (np.pi - th) * C) / (2 * np.pi) + LEAK * C, b * (np.pi - th) / (2 * np.pi) + LEAK


def plain_resnet_gram(X, L, duals, gamma):
    """ResNet NTK (rntk_sym.general's docstring: S = sw2 K + sb2, K += a2 E(S),
    T = (1 + a2 sw2 Ed(S)) T + a2 (E(S) + Ed(S) S), K_0 = <x, x'>, T_0 = 0), normalized, plainly."""
    a2 = float(L) ** (-2 * gamma)
    K = X @ X.T
    T = np.zeros_like(K)
    for _ in range(L):
        S = SW2 * K + SB2
        q = np.diag(S)
        e, ed = duals(q[:, None], q[None, :], S)
        T = (1 + a2 * SW2 * ed) * T + a2 * (e + ed * S)
        K = K + a2 * e
    d = np.sqrt(np.diag(T))
    return T / np.outer(d, d)


CASES = (("gelu", "ffnet", {}, _gelu_duals), ("erf", "ffnet", {}, _erf_duals),
         (f"leaky_relu:{LEAK}", "ffnet", {}, _leaky_duals), ("erf", "resnet", {"gamma": 0.5}, _erf_duals))


def timed(f):
    """``(result, wall seconds)``; the process's CPU seconds (all threads) are added to :data:`CPU`."""
    t, c = time.perf_counter(), time.process_time()
    out = f()
    CPU.append(time.process_time() - c)
    return out, time.perf_counter() - t


CPU: list = []


def reference(X, i, j, act, arch, kw, L):
    """50-digit kernel of rows i, j (the exact angle of the float64 rows) and its error bound."""
    with mpmath.workdps(60):
        dot = mpmath.fsum(mpmath.mpf(a) * mpmath.mpf(b) for a, b in zip(X[i], X[j]))
        nrm = mpmath.sqrt(mpmath.fsum(mpmath.mpf(a) ** 2 for a in X[i]) * mpmath.fsum(mpmath.mpf(b) ** 2 for b in X[j]))
        rho = mpmath.nstr(dot / nrm, 55)
    kv = rntk_sym.kernel(arch, rho, L, kernel="ntk", activation=act, weight_var=SW2, bias_var=SB2,
                         norms=(X[i] @ X[i], X[j] @ X[j]), digits=50, **kw)
    return kv.value, kv.error


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--depth", type=int, default=100)
    args = ap.parse_args()
    if not compiled.available():
        raise SystemExit("numba is not installed: nothing to compare")
    L = args.depth
    rng = np.random.default_rng(0)
    X = rng.normal(size=(args.n, 10))
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    X[1] = X[0] + 1e-5 * (X[2] - (X[2] @ X[0]) * X[0]) / np.linalg.norm(X[2] - (X[2] @ X[0]) * X[0])
    X[1] /= np.linalg.norm(X[1])  # 1 - rho = 5e-11 ... 1e-10: a nearly parallel pair
    pairs = [(0, 1), (3, 4), (5, 6), (7, 8), (9, 10), (11, 12), (13, 14), (15, 16)]
    print(f"{time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}; "
          f"n = {args.n} on S^9, L = {L}, sigma_w^2 = {SW2}, sigma_b^2 = {SB2}; 1 - rho(0, 1) = {1 - X[0] @ X[1]:.1e}")
    print(f"{'case':<28} {'compile s':>9} {'compiled s':>10} {'numpy s':>8} {'plain s':>8} {'numpy/c':>8} "
          f"{'plain/c':>8} {'err c':>8} {'err numpy':>9} {'err plain':>9} {'ref bound':>9}")
    for act, arch, kw, duals in CASES:
        kwargs = dict(arch=arch, depth=L, activation=act, weight_var=SW2, bias_var=SB2, **kw)
        _, t_first = timed(lambda: rntk_sym.gram(X[:3], **{**kwargs, "depth": 2}))
        CPU.clear()
        G, t_c = timed(lambda: rntk_sym.gram(X, **kwargs))
        with mock.patch.object(compiled, "available", lambda: False):
            N, t_n = timed(lambda: rntk_sym.gram(X, **kwargs))
        if arch == "ffnet":
            with np.errstate(invalid="ignore"):
                P, t_p = timed(lambda: plain_gram(X, L, duals))
        else:
            P, t_p = timed(lambda: plain_resnet_gram(X, L, duals, kw["gamma"]))
        cpu = list(CPU)
        errs, bound = np.zeros(3), 0.0
        for i, j in pairs:
            ref, e = reference(X, i, j, act, arch, kw, L)
            bound = max(bound, float(e / abs(ref)))
            errs = np.maximum(errs, [float(abs(mpmath.mpf(M[i, j]) - ref) / abs(ref)) for M in (G, N, P)])
        name = f"{arch} {act} {kw.get('gamma', '')}".strip()
        print(f"{name:<28} {t_first:9.1f} {t_c:10.2f} {t_n:8.2f} {t_p:8.2f} {t_n / t_c:8.2f} {t_p / t_c:8.2f} "
              f"{errs[0]:8.1e} {errs[1]:9.1e} {errs[2]:9.1e} {bound:9.0e}  cpu s {cpu[0]:.1f} {cpu[1]:.1f} "
              f"{cpu[2]:.1f}, load {os.getloadavg()[0]:.1f}")
    print("compile s = the first call (numba compile, or load of the on-disk cache), not counted; "
          "numpy/c, plain/c = speed-ups of the compiled path (same run, wall clock); cpu s = CPU seconds of "
          "all threads (compiled, numpy, plain)")


if __name__ == "__main__":
    main()
