"""Optional numba (the ``numba`` extra): one place that decides whether the compiled paths exist."""
from __future__ import annotations

import functools


@functools.cache
def _import():
    try:
        import numba
    except ImportError:
        return None
    return numba


def numba_or_none():
    """The ``numba`` module, or None when it is not installed (the compiled paths are then skipped)."""
    return _import()
