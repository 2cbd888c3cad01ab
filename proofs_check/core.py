"""The shape of one verified claim, and the helpers the checks share.

A :class:`Check` says what is claimed (``claim``), where (``source``: paper, arXiv id and theorem), how it
was checked (``method``), the numbers found (``evidence``) and whether they support the claim
(``status``: "pass" or "fail"). Every check function takes ``quick`` and lets the thing under test
be injected (a kernel evaluator, the duals, a Gram function...), so that tests can feed a wrong
kernel and see the check fail.
"""
from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

import rntk_sym
from rntk_sym.rates import fit_rate

# The papers whose claims are checked (the project's seeds 000, 002, 003), cited by title and arXiv id:
# the "source" of every check in the report (a user's clone holds no seed files).
SEED_000 = ('"Improve Generalization Ability of Deep Wide Residual Network with A Suitable Scaling Factor", '
            'later "Branch Scaling Manifests as Implicit Architectural Regularization for Improving '
            'Generalization in Overparameterized ResNets" (arXiv:2403.04545)')
SEED_002 = ('Huang, Wang, Tao, Zhao, "Why Do Deep Residual Networks Generalize Better than Deep Feedforward '
            'Networks? -- A Neural Tangent Kernel Perspective" (NeurIPS 2020, arXiv:2002.06262)')
SEED_003 = ('Li, Luo, Yip, "Towards an Understanding of Residual Networks Using Neural Tangent Hierarchy (NTH)" '
            '(CSIAM Trans. Appl. Math. 2022, arXiv:2007.03714)')

Kernel = Callable[..., float]
"""``kernel(arch, rho, L, *, gamma=None, alpha=None) -> float``: the normalized NTK Omegabar_L."""


@dataclass
class Check:
    id: str
    claim: str
    source: str
    method: str
    evidence: dict
    status: str
    seconds: float = field(default=0.0)

    @property
    def passed(self) -> bool:
        return self.status == "pass"

    def as_json(self) -> dict:
        return {"id": self.id, "source": self.source, "claim": self.claim, "status": self.status,
                "method": self.method, "evidence": jsonable(self.evidence), "seconds": round(self.seconds, 2)}


def make(id, claim, source, method, evidence, ok: bool, t0: float | None = None) -> Check:
    """A :class:`Check` with ``status`` from ``ok`` (``evidence["failed"]`` lists failed criteria)."""
    return Check(id, claim, source, method, evidence, "pass" if ok else "fail",
                 0.0 if t0 is None else time.perf_counter() - t0)


def jsonable(x):
    """Evidence as JSON: floats rounded to 6 significant digits, mpf and Fractions as floats."""
    if isinstance(x, dict):
        return {str(k): jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [jsonable(v) for v in x]
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    if isinstance(x, (int, np.integer)):
        return int(x)
    if isinstance(x, str) or x is None:
        return x
    try:
        f = float(x)
    except (TypeError, ValueError):
        return str(x)
    if not math.isfinite(f):
        return str(f)
    return float(f"{f:.6g}")


def package_kernel(arch, rho, L, *, gamma=None, alpha=None) -> float:
    """The package's float64 Omegabar_L (scalar path: ~3 us per layer, O(1) memory)."""
    return float(rntk_sym.ntk(arch, float(rho), int(L), gamma=gamma, alpha=alpha))


def naive_kernel(shat: Callable[[float], float], shatp: Callable[[float], float]) -> Kernel:
    """Omegabar_L straight from docs/model.md sections 2-3 with the given duals (float64, no care for
    cancellation). For tests: feed perturbed duals and watch the checks fail."""
    def kernel(arch, rho, L, *, gamma=None, alpha=None):
        rho, L = float(rho), int(L)
        if arch == "ffnet":
            T = 0.0
            for _ in range(L):
                T = shatp(rho) * (T + rho)
                rho = min(1.0, shat(rho))
            return T / L
        a2 = float(alpha) ** 2 if alpha is not None else L ** (-2 * float(1 if gamma is None else gamma))
        w = a2 / (1 + a2)
        T = 0.0
        for _ in range(L):
            th = math.acos(max(-1.0, min(1.0, rho)))
            T = (1 - w * th / math.pi) * T + (shat(rho) + rho * shatp(rho)) / 2
            rho = min(1.0, rho + w * (shat(rho) - rho))
        return T / L
    return kernel


def relu_shat(r: float) -> float:
    r = max(-1.0, min(1.0, r))
    return (math.sqrt(max(0.0, 1 - r * r)) + (math.pi - math.acos(r)) * r) / math.pi


def relu_shatp(r: float) -> float:
    r = max(-1.0, min(1.0, r))
    return (math.pi - math.acos(r)) / math.pi


def geometric_depths(lo: int, hi: int, per_decade: int = 2) -> list[int]:
    """Integer depths from ``lo`` to ``hi``, ``per_decade`` per factor 10, strictly increasing."""
    n = int(round(per_decade * math.log10(hi / lo)))
    out = sorted({int(round(lo * (hi / lo) ** (k / n))) for k in range(n + 1)})
    return out


def rate_summary(L, err, *, log_powers=(0, 1, 2)) -> dict:
    """``fit_rate`` of ``|err|`` against ``L``: free ``p`` for each ``q``, and ``p = 1`` fixed with each ``q``.

    Returns the best form of each family, every candidate with its max relative residual, and the
    local-slope reading ``(slope_p, slope_q)``."""
    with warnings.catch_warnings():  # reported in the summary instead
        warnings.simplefilter("ignore")
        free = fit_rate(L, [abs(e) for e in err], log_powers=log_powers)
        fixed = fit_rate(L, [abs(e) for e in err], log_powers=log_powers, powers=[1])
    return {
        "warnings": list(dict.fromkeys(free.warnings + fixed.warnings)),
        "best_free": free.form, "p_free": free.p, "q_free": free.q, "residual_free": free.residual,
        "candidates_free": {c.form: c.residual for c in free.candidates},
        "best_p1": fixed.form, "q_p1": fixed.q, "residual_p1": fixed.residual,
        "candidates_p1": {c.form: c.residual for c in fixed.candidates},
        "slope_p": free.slope_p, "slope_q": free.slope_q,
    }


def log_slope(L1: int, v1: float, L2: int, v2: float, limit: float) -> float:
    """``(L2 (v2 - limit) - L1 (v1 - limit)) / log(L2/L1)``: the coefficient ``c`` of a ``c log L / L`` term of
    ``v_L - limit`` (the ``1/L`` term cancels), measured between depths ``L1`` and ``L2``."""
    return (L2 * (v2 - limit) - L1 * (v1 - limit)) / math.log(L2 / L1)


def linear_fit(x, y) -> tuple[float, float, float]:
    """Least squares ``y = a + b x``; returns ``(a, b, max |residual|)``."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    b, a = np.polyfit(x, y, 1)
    return float(a), float(b), float(np.max(np.abs(a + b * x - y)))


def log_poly_fits(L, err, degrees=(0, 1, 2)) -> dict:
    """Fit ``L^p err(L) = sum_{k<=d} c_k (log L)^k`` (``p = 1``) for each degree ``d``: degree 0 is
    "L err bounded" (no log factor), 1 and 2 add log factors. Returns, per degree, the coefficients
    ``c_0..c_d`` and the max relative residual."""
    x = np.log(np.asarray(L, float))
    y = np.asarray(L, float) * np.asarray(err, float)
    out = {}
    for d in degrees:
        c = np.polynomial.polynomial.polyfit(x, y, d)
        fit = np.polynomial.polynomial.polyval(x, c)
        out[f"L*err = poly_{d}(log L)"] = {"coefficients": [float(v) for v in c],
                                           "max_rel_residual": float(np.max(np.abs(fit / y - 1)))}
    return out


_S0_CACHE: dict = {}


def large_tau_constant(rho: str, quick: bool):
    """``s0(rho) = lim_tau (S(tau) - tau/4)`` of the continuum kernel (asymptotics.large_tau_coefficient),
    with its error estimate; cached per process (``quick`` is accepted for symmetry, the cost is small)."""
    from rntk_sym import asymptotics

    if rho not in _S0_CACHE:
        v, e, _ = asymptotics.large_tau_coefficient(rho, digits=8)
        _S0_CACHE[rho] = (float(v), float(e))
    return _S0_CACHE[rho]


def local_exponents(L, err) -> list[float]:
    """``-Delta log|err| / Delta log L`` between consecutive depths."""
    x, y = np.log(np.asarray(L, float)), np.log(np.abs(np.asarray(err, float)))
    return [float(-(y[k + 1] - y[k]) / (x[k + 1] - x[k])) for k in range(len(x) - 1)]
