"""The ResNet normalization divisor ``2 L alpha^2 (1 + alpha^2)^(L-1)`` equals the diagonal value
``Omega_L(x, x)`` (MATH.md section 3), symbolically in L and alpha."""
from __future__ import annotations

import time

import sympy as sp

import rntk_sym
from rntk_sym.duals import RHO, dual

from .core import SEED_002, make

ID = "002-resnet-divisor"
CLAIM = (
    "ResNet: Omega_L(x, x) = 2 L alpha^2 (1 + alpha^2)^(L-1) for every L >= 1 and alpha > 0 (so Omegabar_L(x, x) = 1)"
)
SOURCE = SEED_002 + ", ResNet NTK and its normalization (docs/recursions.md sec. 3)"

L, l, i = sp.symbols("L l i", integer=True, positive=True)
A = sp.Symbol("alpha", positive=True)
DIVISOR = 2 * L * A ** 2 * (1 + A ** 2) ** (L - 1)


def diagonal_value(shat=None, shatp=None):
    """``Omega_L(x, x)`` from the seed's definitions on the diagonal, as a closed form in L, alpha.

    K_l(x,x) = K_{l-1}(x,x) + alpha^2 K_{l-1}(x,x) shat(1) (sympy.rsolve, K_0 = 1); the bracket
    Gamma_sigma(K_{l-1}) + K_{l-1} Gamma_sigma'(K_{l-1}) = K_{l-1}(x,x) (shat(1) + shatp(1));
    B_{l+1} = prod_{i=l+1}^{L} (1 + alpha^2 shatp(1)); Omega_L = alpha^2 sum_{l=1}^{L} B_{l+1} [...]."""
    relu = dual("relu")
    shat = relu.shat if shat is None else shat
    shatp = relu.shatp if shatp is None else shatp
    s1, p1 = sp.simplify(shat.subs(RHO, 1)), sp.simplify(shatp.subs(RHO, 1))
    K = sp.Function("K")
    Kl = sp.rsolve(K(l) - (1 + A ** 2 * s1) * K(l - 1), K(l), {K(0): 1})
    bracket = Kl.subs(l, l - 1) * (s1 + p1)
    B = sp.product(1 + A ** 2 * p1, (i, l + 1, L))
    omega = A ** 2 * sp.summation(sp.simplify(B * bracket), (l, 1, L))
    return sp.simplify(omega), (s1, p1), {"shat(1)": str(s1), "shatp(1)": str(p1), "K_l(x,x)": str(Kl),
                                "B_{l+1}": str(sp.simplify(B)), "bracket": str(sp.simplify(bracket))}


def check(quick: bool = True, *, shat=None, shatp=None, divisor=DIVISOR, kernel=None, progress=None):
    t0 = time.perf_counter()
    failed = []
    omega, (s1, p1), parts = diagonal_value(shat, shatp)
    diff = sp.simplify(sp.powsimp(sp.expand(omega - divisor), force=True))
    proved = diff == 0
    if not proved:
        failed.append(f"Omega_L(x,x) - divisor = {diff} != 0")
    # the seed's recursions run layer by layer at sample (L, alpha), in exact rationals
    samples = {}
    for Lv, av in ((1, sp.Rational(1, 3)), (5, sp.Rational(7, 10)), (40, sp.Rational(1, 40))):
        Ks = [sp.Integer(1)]
        for _ in range(Lv):
            Ks.append(Ks[-1] + av ** 2 * Ks[-1] * s1)
        direct = 0
        for lv in range(1, Lv + 1):
            B = sp.prod([1 + av ** 2 * p1 for _ in range(lv + 1, Lv + 1)])
            direct += av ** 2 * B * (Ks[lv - 1] * s1 + Ks[lv - 1] * p1)
        target = divisor.subs({L: Lv, A: av})
        samples[f"L={Lv}, alpha={av}"] = {"seed sum": float(direct), "divisor": float(target),
                                          "equal (exact rationals)": bool(direct == target)}
        if direct != target:
            failed.append(f"sample L={Lv}, alpha={av}: seed sum != divisor")
    # the package's normalized diagonal is then exactly 1
    kern = kernel or (lambda arch, rho, L_, **kw: float(rntk_sym.ntk(arch, rho, L_, **kw)))
    diag = {
        f"L={Lv}, alpha={a}": kern("resnet", 1.0, Lv, alpha=a) for Lv, a in ((3, "0.7"), (1000, "0.1"), (10**4, "2"))
    }
    diag.update({f"L={Lv}, gamma=1": kern("resnet", 1.0, Lv, gamma="1") for Lv in (1, 1000)})
    if any(v != 1.0 for v in diag.values()):
        failed.append("package: Omegabar_L(x, x) != 1")
    if progress:
        progress(1)
    ev = {"Omega_L(x,x) (sympy.summation)": str(omega), "divisor": str(divisor),
          "simplify(Omega_L(x,x) - divisor)": str(diff), "steps": parts, "exact samples": samples,
          "package Omegabar_L(x,x)": diag, "failed": failed}
    method = ("sympy: rsolve for K_l(x,x), product for B_{l+1}, summation over l, simplify(difference) == 0; "
              "exact rational samples; package diagonal in float64")
    return make(ID, CLAIM, SOURCE, method, ev, proved and not failed, t0)
