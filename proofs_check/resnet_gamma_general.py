"""Derived claim (issue 15, item 3): the gamma phase diagram of the ResNet, alpha = L^-gamma, for erf and GELU.

Derivation (docs/asymptotics.md sec. 10): the recursion is Euler's method with step alpha^2 for the continuum
system dK/dt = E(sigma_w^2 K + sigma_b^2), dT/dt = sigma_w^2 Ed T + E + Ed S in the time tau = L alpha^2 =
L^(1 - 2 gamma). Hence
- gamma > 1/2: NTK_L = N_1 + a tau + ..., N_1 the one-layer kernel, a its Taylor coefficient (rate L^-(2 gamma - 1));
- gamma = 1/2: NTK_L -> the system's solution at tau = 1, with a 1/L rate (Euler's global error);
- gamma < 1/2: the activation's large-scale asymptote decides. erf (-> sign): GP_L ~ C tau^-(1 - 2/pi) -> 0 and
  log NTK_L = -(4/pi) sigma_w sqrt(tau) + O(log tau) -> -oo; GELU (-> relu): NTK_L -> 1/4 and
  1 - GP_L ~ (9 pi^2/2) (2/(sigma_w^2 tau))^2, as the seeds' relu flow in the time sigma_w^2 tau / 2.
Evidence: the exact float64 recursion (rntk_sym.general.kernel) at rho = 0.5, to L = 10^4 (quick) or 10^5; the
limits from rntk_sym.resnet_general (closed form at depth 1, mpmath.odefun)."""
from __future__ import annotations

import math
import time

import numpy as np

from rntk_sym import general
from rntk_sym import resnet_general as R

from .core import make

ID = "015-gamma-diagram-any-activation"
CLAIM = ("ResNet alpha = L^-gamma with erf and GELU: gamma > 1/2 the one-layer kernel at rate L^-(2 gamma - 1), "
         "gamma = 1/2 the continuum system at rate 1/L, gamma < 1/2 degenerate: erf NTK -> 0 like "
         "exp(-(4/pi) sigma_w sqrt(tau)) and GP -> 0 like tau^-(1 - 2/pi); GELU NTK -> 1/4, GP -> 1")
SOURCE = ("derived in docs/asymptotics.md sec. 10 (extends the relu ResNet's gamma phase diagram of \"Improve "
          "Generalization Ability of Deep Wide Residual Network with A Suitable Scaling Factor\", arXiv:2403.04545, "
          "to any activation)")
RHO = 0.5
ERF = dict(activation="erf", weight_var="1.5", bias_var="0.1")
GELU = dict(activation="gelu", weight_var="1", bias_var="0.2")


def recursion(L, gamma, net, kernel="ntk"):
    return general.kernel("resnet", RHO, L, gamma=gamma, kernel=kernel, **net)


def _fit(x_cols, y):
    """Exact (or least-squares) fit of ``y`` on the columns ``x_cols``."""
    return np.linalg.lstsq(np.array(x_cols, float).T, np.array(y, float), rcond=None)[0]


def check(quick: bool = True, *, kernel=recursion, progress=None):
    t0 = time.perf_counter()
    failed, ev = [], {}
    deep = (1000, 2000, 4000) if quick else (1000, 10000, 100000)
    for name, net in (("erf", ERF), ("gelu", GELU)):
        m = general.resolve("resnet", gamma="0.5", **net)
        # gamma = 3/4: (NTK_L - N_1)/tau -> a, the next terms O(tau) relative
        lim, slope = R.one_layer(m, str(RHO), 15)
        ratios = [(kernel(L, "0.75", net) - float(lim.ntk)) / L ** -0.5 / float(slope.ntk) for L in deep[:2]]
        ev[f"{name} gamma=0.75: (NTK_L - N_1)/(a tau), L = {deep[:2]}"] = ratios
        if not all(abs(r - 1) < 0.2 * L ** -0.5 for r, L in zip(ratios, deep[:2])):
            failed.append(f"{name} gamma=0.75: (NTK_L - N_1)/(a tau) = {ratios}, not within 0.2 tau of 1")
        # gamma = 1/2: the 1/L Richardson extrapolation of the recursion meets the ODE limit
        v = R.continuum(m, str(RHO), 1, 12)
        n1, n2 = kernel(1000, "0.5", net), kernel(2000, "0.5", net)
        raw, rich = abs(n2 - float(v.ntk)), abs(2 * n2 - n1 - float(v.ntk))
        ev[f"{name} gamma=0.5: ODE limit, |NTK_2000 - lim|, |Richardson - lim|"] = [float(v.ntk), raw, rich]
        if not (rich < 0.02 * raw and raw < 1e-3):
            failed.append(f"{name} gamma=0.5: recursion at L = 1000, 2000 does not meet the ODE limit at rate 1/L")
        if progress:
            progress(1)
    # gamma = 1/4 (tau = L^(1/2)): the degenerate limits
    taus = [L ** 0.5 for L in deep]
    sw = math.sqrt(1.5)
    ntk = [kernel(L, "0.25", ERF) for L in deep]
    gp = [kernel(L, "0.25", ERF, "gp") for L in deep]
    # derived: log NTK = -k sqrt(tau) + (2/pi - 4/pi^2) log tau + log log tau + c + O(tau^-1/2)
    p = 2 / math.pi - 4 / math.pi ** 2
    y = [math.log(n) - p * math.log(t) - math.log(math.log(t)) for n, t in zip(ntk, taus)]
    k, _, _ = _fit([[-t ** 0.5 for t in taus], [1] * 3, [t ** -0.5 for t in taus]], y)
    e, _, _ = _fit([[-math.log(t) for t in taus], [t ** -0.5 for t in taus], [1] * 3], np.log(gp))
    ev["erf gamma=0.25: tau, NTK_L, GP_L"] = [taus, ntk, gp]
    ev["erf: k in log NTK = -k sqrt(tau) + (2/pi - 4/pi^2) log tau + log log tau + c + d tau^-1/2, "
       "predicted (4/pi) sigma_w"] = [k, 4 * sw / math.pi]
    ev["erf: e in GP ~ C tau^-e (1 + d tau^-1/2), predicted 1 - 2/pi"] = [e, 1 - 2 / math.pi]
    if not (abs(k / (4 * sw / math.pi) - 1) < 0.02 and abs(e - (1 - 2 / math.pi)) < 0.03):
        failed.append(f"erf gamma=0.25: fitted k = {k:.4g}, e = {e:.4g}")
    # GELU at gamma = 0.3 (tau = L^0.4): K ~ exp(tau/2), and the float64 closed form of the diagonal dual breaks at
    # S ~ 1e17 ((q + 1)^2 - q^2 cancels to 0), i.e. beyond tau ~ 75
    deep = (1000, 2000, 4000) if quick else (1000, 5000, 20000)
    taus = [L ** 0.4 for L in deep]
    ntk = [kernel(L, "0.3", GELU) for L in deep]
    gp = [kernel(L, "0.3", GELU, "gp") for L in deep]
    hayou = [t * t * (1 - g) / (4.5 * math.pi ** 2 * 4) for t, g in zip(taus, gp)]  # sigma_w^2 = 1
    # the flow enters the relu regime with a time shift tau0 (the transient): 1 - GP ~ C0/(tau + tau0)^2, so
    # hayou^(-1/2) = A + tau0/tau with A = 1 (fitted); then NTK - 1/4 ~ s/(tau + tau0): (tau + tau0)(NTK - 1/4) ~ s
    a_fit, tau0 = _fit([[1] * 3, [1 / t for t in taus]], [h ** -0.5 for h in hayou])
    s = [(t + tau0) * (n - 0.25) for t, n in zip(taus, ntk)]
    ev["gelu gamma=0.3: tau^2 (1 - GP_L) / ((9 pi^2/2)(2/sigma_w^2)^2)"] = hayou
    ev["gelu: fit of that^(-1/2) = A + tau0/tau: A (predicted 1), tau0"] = [a_fit, tau0]
    ev["gelu: (tau + tau0)(NTK_L - 1/4) (predicted: tends to a constant s)"] = s
    if not (abs(a_fit - 1) < 0.03 and tau0 > 0 and all(x > 0 for x in s) and max(s) / min(s) < 1.1):
        failed.append(f"gelu gamma=0.3: A = {a_fit:.4g}, tau0 = {tau0:.4g}, (tau + tau0)(NTK - 1/4) = {s}")
    if progress:
        progress(2)
    method = ("float64 exact recursion at rho = 0.5 (erf sigma_w^2 = 1.5, sigma_b^2 = 0.1; GELU 1, 0.2) against the "
              "one-layer closed form and its Taylor slope (gamma = 3/4), the mpmath.odefun limit with Richardson in "
              "1/L (gamma = 1/2), and fits of the predicted forms (gamma = 1/4)")
    return make(ID, CLAIM, SOURCE, method, {**ev, "failed": failed}, not failed, t0)
