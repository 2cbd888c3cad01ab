"""Seed 002, non-learnability of the degenerate limit kernel: ridge regression with
``Omegabar = (3/4) I + (1/4) J`` fits the training labels and predicts 0 everywhere else.

The kernel's two values (diagonal 1, off-diagonal 1/4) are taken from the package's depth limit
(``asymptotics.limit("ffnet", ...)``), so a wrong limit makes this check fail.

Symbolic method, valid for every n and lambda: the n x n matrices I and J (all ones) span an
algebra with ``J^2 = n J``; every matrix in it is a polynomial ``a + b J`` in a symbol J, reduced
modulo ``J^2 - n J``. Labels with ``sum y = 0`` satisfy ``J y = 0``, and ``1^T P(J) y = P(n) 1^T y``."""
from __future__ import annotations

import time

import numpy as np
import sympy as sp

from rntk_sym import asymptotics

from .core import SEED_002, make

ID = "002-nonlearnability"
CLAIM = ("Limit kernel Omegabar = 1 on, 1/4 off the diagonal, n points, sum y = 0: ridge solution "
         "beta = (I - J/(n + 4 lambda + 3)) y/(lambda + 3/4), f(x_j) = 3 y_j/(4 lambda + 3), f(x*) = 0, "
         "for every n and lambda")
SOURCE = SEED_002 + ", 'non-learnability' (closed form of beta-hat)"

n, lam = sp.symbols("n lambda", positive=True)
J, s = sp.symbols("J s")  # s = 1^T y



def limit_kernel_values():
    """(diagonal, off-diagonal) values of the depth-limit kernel, as exact rationals."""
    on = asymptotics.limit("ffnet", "1").value
    off = asymptotics.limit("ffnet", "0.3").value
    return sp.nsimplify(float(on)), sp.nsimplify(float(off))


def check(quick: bool = True, *, kernel_values=None, progress=None):
    t0 = time.perf_counter()
    failed = []
    on, off = limit_kernel_values() if kernel_values is None else map(sp.nsimplify, kernel_values)
    Om = (on - off) + off * J                        # Omegabar = (on - off) I + off J
    beta = (1 - J / (n + 4 * lam + 3)) / (lam + sp.Rational(3, 4))   # the seed's inverse, as a polynomial in J
    prod = sp.simplify(sp.rem(sp.expand((Om + lam) * beta), J ** 2 - n * J, J))
    inverse_ok = sp.simplify(prod - 1) == 0          # (Omegabar + lambda I) beta_op = I, every y
    fitted = sp.rem(sp.expand(Om * beta), J ** 2 - n * J, J)          # f(X) = Omegabar beta y
    f_train = sp.simplify(fitted.subs(J, 0))                           # J y = 0
    train_ok = sp.simplify(f_train - 3 / (4 * lam + 3)) == 0
    f_new = sp.simplify(off * beta.subs(J, n) * s)                    # f(x*) = off * 1^T beta y
    new_ok = sp.simplify(f_new.subs(s, 0)) == 0
    for ok, what in ((inverse_ok, "(Omegabar + lambda I) beta != y"), (train_ok, "f(x_j) != 3 y_j/(4 lambda + 3)"),
                     (new_ok, "f(x*) != 0")):
        if not ok:
            failed.append(what)
    # numeric: random labels, n = 7, 50
    rng = np.random.default_rng(0)
    numeric = {}
    for nn, lv in ((7, 0.1), (50, 1e-3)):
        y = rng.standard_normal(nn)
        y -= y.mean()
        K = float(off) * np.ones((nn, nn)) + float(on - off) * np.eye(nn)
        b = np.linalg.solve(K + lv * np.eye(nn), y)
        b_seed = (y - y.sum() / (nn + 4 * lv + 3)) / (lv + 0.75)
        f = K @ b
        fstar = float(off) * b.sum()
        e = {"max|beta - seed|": float(np.max(np.abs(b - b_seed))),
             "max|f(x_j) - 3y_j/(4lam+3)|": float(np.max(np.abs(f - 3 * y / (4 * lv + 3)))),
             "|f(x*)|": abs(fstar)}
        numeric[f"n={nn}, lambda={lv}"] = e
        if max(e.values()) > 1e-10:
            failed.append(f"numeric n={nn}: {e}")
    if progress:
        progress(1)
    ev = {"kernel (from asymptotics.limit)": {"diagonal": str(on), "off-diagonal": str(off)},
          "(Omegabar + lambda I) beta_op mod J^2 - nJ": str(prod),
          "f(x_j)/y_j (J y = 0)": str(f_train), "f(x*) for general 1^T y = s": str(f_new),
          "note": "the seed's inverse holds for every y (Sherman-Morrison); sum y = 0 is needed only for f(x*) = 0",
          "numeric": numeric, "failed": failed}
    return make(ID, CLAIM, SOURCE, "sympy in the algebra span{I, J}, J^2 = n J, symbolic n and lambda; "
                "numpy solve with random centred labels", ev, not failed, t0)
