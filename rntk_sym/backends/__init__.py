"""Number contexts on which :mod:`rntk_sym.recursions` runs: float64 (numpy arrays or Python
scalars) and mpmath at any precision. Each supplies the primitives listed in that module."""
from .floats import NUMPY, SCALAR
from .mp import MPBackend

__all__ = ["NUMPY", "SCALAR", "MPBackend"]
