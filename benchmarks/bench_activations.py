"""Speed and accuracy of the general-activation kernels (issue 14): erf and GELU with a bias, FFNet,
float64 Gram matrices of n points at L = 10 and 100.

Compared, in one run (ratios printed, no pass/fail):
- ``rntk_sym.gram(..., activation=...)``: the gap-state recursion of rntk_sym.general;
- ``plain``: a straightforward numpy loop of the same closed forms (docs/activations.md, section 3) on
  the full n x n covariance, written below with NumPy only (no cancellation-free state);
- the seeds' relu Gram (``rntk_sym.gram`` without an activation) for scale;
- neural-tangents' ``kernel_fn`` of ``stax.serial(*[Dense(W_std, b_std), Act()] * L, Dense(W_std, b_std))``
  (the same recursion, all layers trained: docs/conventions.md), float64 (jax x64), called without
  ``jax.jit`` (jit compile time is printed separately at L = 10: the unrolled graph grows with L), when
  the ``nt`` extra is importable; otherwise "not installed" is printed.
``kernels``: 10^4 values of rho (``rntk_sym.ntk`` on an array) against the plain loop on the same array
(neural-tangents has no such call: its kernels are Grams of inputs).

Accuracy: both against rntk_sym's 30-digit values on 10 pairs plus a pair at rho = 1 - 1e-10.
Run: ``python benchmarks/bench_activations.py [--n N]``.
"""
from __future__ import annotations

import argparse
import time

import mpmath
import numpy as np

import rntk_sym

SW2, SB2 = 2.0, 0.1


def _erf_duals(Q1, Q2, C):
    P = (1 + 2 * Q1) * (1 + 2 * Q2)
    return 2 / np.pi * np.arcsin(np.clip(2 * C / np.sqrt(P), -1, 1)), 4 / (np.pi * np.sqrt(P - 4 * C * C))


def _gelu_duals(Q1, Q2, C):
    P = (1 + Q1) * (1 + Q2)
    d2 = P - C * C
    d = np.sqrt(d2)
    ang = np.arcsin(C / np.sqrt(P))
    e = C / 4 + C * ang / (2 * np.pi) + (C * C + Q1 * Q2 * d2) / (2 * np.pi * P * d)
    ed = 0.25 + ang / (2 * np.pi) + C * (1 / d2 + (1 - Q1 * Q2) / P + 1) / (2 * np.pi * d)
    return e, ed


def plain_gram(X, L, duals):
    """FFNet NTK (hidden layers trained, readout fixed), normalized, by the plain recursion on the covariance."""
    k = SW2 * X @ X.T + SB2
    theta = k.copy()
    for _ in range(L):
        q = np.diag(k)
        e, ed = duals(q[:, None], q[None, :], k)
        omega = SW2 * ed * theta
        k = SW2 * e + SB2
        theta = k + omega
    d = np.sqrt(np.diag(omega))
    return omega / np.outer(d, d)


def plain_kernels(rho, L, duals):
    """The plain recursion for unit inputs and an array of rho (both diagonals equal)."""
    q = np.full_like(rho, SW2 + SB2)
    c = SW2 * rho + SB2
    theta_d, theta = q.copy(), c.copy()
    for _ in range(L):
        (e, ed), (e_d, ed_d) = duals(q, q, c), duals(q, q, q)
        omega, omega_d = SW2 * ed * theta, SW2 * ed_d * theta_d
        c, q = SW2 * e + SB2, SW2 * e_d + SB2
        theta, theta_d = c + omega, q + omega_d
    return omega / omega_d


def nt_kernel_fn(name, L):
    """neural-tangents' kernel_fn, or None when the `nt` extra is not importable."""
    try:
        import jax

        jax.config.update("jax_enable_x64", True)
        from neural_tangents import stax
    except ImportError:
        return None
    act = {"erf": stax.Erf, "gelu": stax.Gelu}[name]()
    dense = stax.Dense(1, W_std=float(np.sqrt(SW2)), b_std=float(np.sqrt(SB2)))
    return stax.serial(*[dense, act] * L, dense)[2]


def timed(f):
    t = time.perf_counter()
    out = f()
    return out, time.perf_counter() - t


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=400)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    X = rng.normal(size=(args.n, 5))
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    X[1] = X[0] + 1e-5 * X[2]  # a nearly parallel pair: 1 - rho ~ 1e-10
    X[1] /= np.linalg.norm(X[1])
    pairs = [(0, 1)] + [(i, i + 1) for i in range(2, 22, 2)]
    for name, duals in (("erf", _erf_duals), ("gelu", _gelu_duals)):
        rntk_sym.gram(X[:3], arch="ffnet", depth=2, activation=name, bias_var=SB2)  # build the evaluators once
        for L in (10, 100):
            t = time.perf_counter()
            G = rntk_sym.gram(X, arch="ffnet", depth=L, activation=name, weight_var=SW2, bias_var=SB2)
            t_gen = time.perf_counter() - t
            t = time.perf_counter()
            P = plain_gram(X, L, duals)
            t_plain = time.perf_counter() - t
            t = time.perf_counter()
            rntk_sym.gram(X, arch="ffnet", depth=L)
            t_relu = time.perf_counter() - t
            err_g = err_p = 0.0
            for i, j in pairs:
                nx, ny = X[i] @ X[i], X[j] @ X[j]
                with mpmath.workdps(60):  # the exact angle of the float64 rows
                    dot = mpmath.fsum(mpmath.mpf(a) * mpmath.mpf(b) for a, b in zip(X[i], X[j]))
                    nrm = mpmath.sqrt(mpmath.fsum(mpmath.mpf(a) ** 2 for a in X[i]) *
                                      mpmath.fsum(mpmath.mpf(b) ** 2 for b in X[j]))
                    rho = mpmath.nstr(dot / nrm, 50)
                ref = float(rntk_sym.ntk("ffnet", rho, L, activation=name, weight_var=SW2, bias_var=SB2,
                                         norms=(nx, ny), digits=30).value)
                err_g, err_p = max(err_g, abs(G[i, j] - ref) / ref), max(err_p, abs(P[i, j] - ref) / ref)
            print(f"{name:5s} L={L:4d} Gram n={args.n}: general {t_gen:.3f} s, plain numpy {t_plain:.3f} s "
                  f"(ratio {t_gen / t_plain:.1f}), seeds' relu gram {t_relu:.3f} s; max rel. error on the "
                  f"test pairs: general {err_g:.1e}, plain {err_p:.1e}")
            kfn = nt_kernel_fn(name, L)
            if kfn is None:
                print(f"{name:5s} L={L:4d} Gram: neural-tangents not installed")
            else:
                Xd = X * np.sqrt(X.shape[1])  # <x, x>/D = 1
                _, t_nt = timed(lambda: np.asarray(kfn(Xd, None, "ntk")))
                line = f"neural-tangents kernel_fn (no jit) {t_nt:.3f} s (general / NT = {t_gen / t_nt:.2f})"
                if L == 10:
                    import jax

                    jk = jax.jit(kfn, static_argnames="get")
                    _, t_c = timed(lambda: np.asarray(jk(Xd, None, get="ntk")))
                    _, t_j = timed(lambda: np.asarray(jk(Xd, None, get="ntk")))
                    line += f"; jit: first call {t_c:.3f} s, then {t_j:.3f} s (general / NT jit = {t_gen / t_j:.2f})"
                print(f"{name:5s} L={L:4d} Gram: {line}")
            rho = np.linspace(-1, 1, 10 ** 4)
            _, t_k = timed(lambda: rntk_sym.ntk("ffnet", rho, L, activation=name, weight_var=SW2, bias_var=SB2))
            _, t_kp = timed(lambda: plain_kernels(rho, L, duals))
            print(f"{name:5s} L={L:4d} kernels (10^4 rho): general {t_k:.3f} s, plain numpy {t_kp:.3f} s "
                  f"(ratio {t_k / t_kp:.1f})")


if __name__ == "__main__":
    main()
