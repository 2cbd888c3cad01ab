"""rntk_sym: symbolic and asymptotic analysis of infinite-width NTKs of deep ReLU FFNets and ResNets."""
from .kernels import KernelValue, gp, kernel, ntk
from .gram import gram

__all__ = ["KernelValue", "gp", "gram", "kernel", "ntk"]
__version__ = "0.1.0"
