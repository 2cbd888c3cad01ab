"""Optional numba (the ``numba`` extra): one place that decides whether the compiled paths exist."""
from __future__ import annotations

import functools


@functools.cache
def _import():
    try:
        import numba
    except ImportError:
        return None
    # numba's default threading layer on Linux is GNU OpenMP, after which fork() aborts the child
    # ("fork() called from a process already using GNU OpenMP"): the sweeps' process pools, and any
    # user's multiprocessing, would die. The workqueue layer is fork-safe; it must not be entered by
    # two threads at once (rntk_sym.backends.compiled holds a lock). A layer the user chose
    # (NUMBA_THREADING_LAYER) is kept.
    if numba.config.THREADING_LAYER == "default":
        numba.config.THREADING_LAYER = "workqueue"
    return numba


def numba_or_none():
    """The ``numba`` module, or None when it is not installed (the compiled paths are then skipped)."""
    return _import()
