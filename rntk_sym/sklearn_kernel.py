"""A scikit-learn ``Kernel``: this package's NTK / GP kernel, for ``GaussianProcessRegressor``,
``GaussianProcessClassifier`` and ``KernelRidge`` (optional extra: ``pip install 'rntk_sym[sklearn]'``).

Inputs off the unit sphere (``inputs=`` argument):

- ``"homogeneous"`` (default): ``k(x, y) = |x| |y| kappa(rho)``, ``rho = <x, y> / (|x| |y|)``, where
  ``kappa`` is the chosen kernel on the sphere. Every ReLU kernel here (FFNet and ResNet, NTK and GP,
  every convention) is positively homogeneous of degree 1 in each argument, so this is the
  infinite-width kernel of the network fed the raw ``x`` (up to the constant normalization of the
  convention); ``k(0, y) = 0``. For ``convention="neural_tangents"`` the factor is ``|x| |y| / D``
  (D = number of features), so that the values equal ``kernel_fn(X, Y)`` of neural-tangents.
- ``"normalize"``: rows are projected to the sphere first, ``k(x, y) = kappa(rho)``; a zero row is an
  error.

The kernel has no tunable hyperparameters (depth, gamma, alpha are discrete / structural choices);
combine it with ``ConstantKernel`` / ``WhiteKernel`` for amplitude and noise.
"""
from __future__ import annotations

try:
    from sklearn.gaussian_process.kernels import Kernel
except ImportError as exc:  # pragma: no cover - exercised by a test that hides scikit-learn
    raise ImportError("rntk_sym.sklearn_kernel needs scikit-learn: pip install 'rntk_sym[sklearn]'") from exc

import numpy as np

from . import conventions, inputs
from .kernels import kernel as _kernel

INPUT_MODES = ("homogeneous", "normalize")


class RNTKKernel(Kernel):
    """Normalized NTK (``kernel="ntk"``) or GP kernel (``"gp"``) of ``arch`` at depth ``depth``.

    Arguments as in :func:`rntk_sym.kernel` (``arch``, ``depth`` = L, ``gamma`` / ``alpha`` for the
    ResNet), plus ``convention`` (default ``"rntk"``: ``Omegabar_L`` / ``rho_L``, 1 on the diagonal;
    any name of :data:`rntk_sym.conventions.CONVENTIONS`) and ``inputs`` (module docstring).
    Values are float64 from the package's vectorized recursion.
    """

    def __init__(self, arch="ffnet", depth=1, kernel="ntk", gamma=None, alpha=None, convention="rntk",
                 inputs="homogeneous"):
        self.arch = arch
        self.depth = depth
        self.kernel = kernel
        self.gamma = gamma
        self.alpha = alpha
        self.convention = convention
        self.inputs = inputs

    def _on_sphere(self, rho):
        """The kernel at ``rho`` (array) in the chosen convention."""
        kw = dict(gamma=self.gamma, alpha=self.alpha)
        a, b, c = conventions.coefficients(self.convention, self.depth, arch=self.arch, **kw)
        gp = _kernel(self.arch, rho, self.depth, kernel="gp", **kw) if (self.kernel == "gp" or b != 0) else None
        if self.kernel == "gp":
            out = conventions.convert(gp, gp, self.depth, to=self.convention, arch=self.arch, **kw)[1]
            if out is None:
                raise ValueError(f"kernel: the {self.convention} convention defines no GP kernel; use kernel='ntk'")
            return out
        ntk = _kernel(self.arch, rho, self.depth, kernel="ntk", **kw)
        return conventions.convert(ntk, gp, self.depth, to=self.convention, arch=self.arch, **kw)[0]

    def _prepare(self, X):
        X = np.atleast_2d(np.asarray(X, dtype=np.float64))
        norms = np.linalg.norm(X, axis=1)
        if inputs.choice("inputs", self.inputs, INPUT_MODES) == "normalize" and not (norms > 0).all():
            raise ValueError("inputs: 'normalize' needs nonzero rows; use inputs='homogeneous'")
        return X, norms, X / np.where(norms > 0, norms, 1.0)[:, None]

    def _scale(self, nx, ny, dim):
        if self.inputs == "normalize":
            return 1.0
        return conventions.input_scale(self.convention, nx, ny, dim)

    def __call__(self, X, Y=None, eval_gradient=False):
        inputs.choice("kernel", self.kernel, inputs.KERNELS)
        X, nx, Xn = self._prepare(X)
        if Y is None:
            ny, Yn = nx, Xn
        else:
            if eval_gradient:
                raise ValueError("Gradient can only be evaluated when Y is None.")
            _, ny, Yn = self._prepare(Y)
        rho = np.clip(Xn @ Yn.T, -1.0, 1.0)
        if Y is None:
            # rounding of <x/|x|, x/|x|> would move rho off 1, where the kernel has a sqrt singularity
            np.fill_diagonal(rho, np.where(nx > 0, 1.0, 0.0))
        K = self._on_sphere(rho) * self._scale(nx, ny, X.shape[1])
        if eval_gradient:
            return K, np.empty((X.shape[0], X.shape[0], 0))
        return K

    def diag(self, X):
        X, nx, _ = self._prepare(X)
        scale = (
            1.0 if self.inputs == "normalize" else nx * conventions.input_scale(self.convention, nx, 1.0, X.shape[1])
        )
        return self._on_sphere(np.ones(X.shape[0])) * scale

    def is_stationary(self):
        return False

    def __repr__(self):
        scale = "" if self.arch == "ffnet" else (f", alpha={self.alpha}" if self.alpha is not None
                                                 else f", gamma={1 if self.gamma is None else self.gamma}")
        return (f"RNTKKernel(arch={self.arch!r}, depth={self.depth}, kernel={self.kernel!r}{scale}, "
                f"convention={self.convention!r}, inputs={self.inputs!r})")


__all__ = ["RNTKKernel", "INPUT_MODES"]
