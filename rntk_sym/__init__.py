"""rntk_sym: symbolic and asymptotic analysis of infinite-width NTKs of deep ReLU FFNets and ResNets."""
from .gram import gram
from .kernels import KernelValue, gp, kernel, ntk
from .learning import learning_curve
from .spectra import spectrum

__all__ = ["KernelValue", "gp", "gram", "kernel", "learning_curve", "ntk", "spectrum"]
__version__ = "0.1.0"
