"""Direct transcriptions of the seed formulas (seed 002; docs/model.md sections 1-3), in plain mpmath.

Independent references for the tests: the textbook arccos/sqrt forms, the FFNet NTK as the seed's sum
of products, the ResNet NTK through the backward B factors, unnormalized, with the seed's divisor.
They cancel near rho = 1, so callers use many digits. Callers set the precision with
``mpmath.workdps``.
"""
import mpmath as mp


def shat(r):
    return (mp.sqrt(1 - r * r) + (mp.pi - mp.acos(r)) * r) / mp.pi


def shatp(r):
    return (mp.pi - mp.acos(r)) / mp.pi


def _sum_of_products(K0, L, shat_, shatp_):
    """``(K_L, Omega_L)``: K_l = shat(K_{l-1}), Omega_L = sum_{l=1}^{L} K_{l-1} prod_{i=l}^{L} shatp(K_{i-1})
    (seed 002, FFNet NTK; docs/model.md section 2), in whatever numbers ``K0``, ``shat_``, ``shatp_`` use."""
    K = [K0]
    for _ in range(L):
        K.append(shat_(K[-1]))
    omega = 0
    for l in range(1, L + 1):
        prod = 1
        for i in range(l, L + 1):
            prod = prod * shatp_(K[i - 1])
        omega = omega + K[l - 1] * prod
    return K[L], omega


def ffnet_ntk_sum_of_products(rho, L):
    """Omegabar_L = (1/L) sum_{l=1}^{L} K_{l-1} prod_{i=l}^{L} shatp(K_{i-1})  (seed 002, FFNet NTK)."""
    return _sum_of_products(mp.mpf(rho), L, shat, shatp)[1] / L


def ffnet_gp(rho, L):
    K = mp.mpf(rho)
    for _ in range(L):
        K = shat(K)
    return K


def resnet_ntk_backward(rho, L, alpha):
    """Seed 002 ResNet NTK, unnormalized: K_l(x,x'), K_l(x,x), B_{l+1}, then / (2 L a^2 (1+a^2)^(L-1))."""
    a2 = mp.mpf(alpha) ** 2
    K = [mp.mpf(rho)]  # off-diagonal K_l(x, x')
    Kd = [mp.mpf(1)]  # diagonal K_l(x, x)
    for _ in range(L):
        Kbar = K[-1] / Kd[-1]
        K.append(K[-1] + a2 * Kd[-1] * shat(Kbar))
        Kd.append(Kd[-1] * (1 + a2))
    B = {L + 1: mp.mpf(1)}
    for l in range(L - 1, 0, -1):
        B[l + 1] = B[l + 2] * (1 + a2 * shatp(K[l] / Kd[l]))
    omega = 0
    for l in range(1, L + 1):
        Kbar = K[l - 1] / Kd[l - 1]
        gamma_sigma = Kd[l - 1] * shat(Kbar)
        omega += B[l + 1] * (gamma_sigma + K[l - 1] * shatp(Kbar))
    omega *= a2
    return omega / (2 * L * a2 * (1 + a2) ** (L - 1))


def resnet_gp(rho, L, alpha):
    a2 = mp.mpf(alpha) ** 2
    r = mp.mpf(rho)
    for _ in range(L):
        r = (r + a2 * shat(r)) / (1 + a2)
    return r


def forward_loop(arch, rho, L, alpha=None):
    """Plain forward loop of the seed formulas in rho (no stable coordinate): O(L), O(1) memory.

    Loses about 2 log10(1/theta_L) digits near rho = 1; run it with that many extra digits.
    """
    r = mp.mpf(rho)
    T = mp.mpf(0)
    a2 = None if arch == "ffnet" else mp.mpf(alpha) ** 2
    for _ in range(L):
        s, sp_ = shat(r), shatp(r)
        if arch == "ffnet":
            T = sp_ * (T + r)
            r = s
        else:
            T = T * (1 + a2 * sp_) / (1 + a2) + (s + r * sp_) / 2
            r = (r + a2 * s) / (1 + a2)
    return T / L, r


def shat_np(r):
    """The seed's shat in float64 numpy (arrays; clipped to [-1, 1])."""
    import numpy as np

    r = np.clip(r, -1.0, 1.0)
    return (np.sqrt(1 - r * r) + (np.pi - np.arccos(r)) * r) / np.pi


def shatp_np(r):
    import numpy as np

    r = np.clip(r, -1.0, 1.0)
    return (np.pi - np.arccos(r)) / np.pi


def ffnet_sum_of_products_np(rho, L):
    """float64 numpy version of :func:`ffnet_ntk_sum_of_products`: ``(K_L, Omega_L)``, unnormalized."""
    import numpy as np

    return _sum_of_products(np.asarray(rho, dtype=float), L, shat_np, shatp_np)
