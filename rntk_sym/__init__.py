"""rntk_sym: symbolic and asymptotic analysis of infinite-width NTKs of deep ReLU FFNets and ResNets."""
from .gram import gram
from .kernels import KernelValue, gp, kernel, ntk

__all__ = ["KernelValue", "gp", "gram", "kernel", "ntk"]
__version__ = "0.1.0"
