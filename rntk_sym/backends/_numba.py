"""Optional numba (the ``numba`` extra): one place that decides whether the compiled paths exist, and
which threading layer runs their parallel loops."""
from __future__ import annotations

import ctypes
import functools
import os
import sys

# The threading layer (docs/benchmarks.md, "Threading layer"): numba's default on Linux is GNU OpenMP,
# after which fork() aborts the child ("fork() called from a process already using GNU OpenMP"): the
# sweeps' process pools, and any user's multiprocessing, would die. "forksafe" asks numba for TBB (fork-
# and thread-safe, and it balances the blocks between the cores by work stealing: measured 1.2-1.9x on 2
# cores against 1.0-1.4x for workqueue) when it loads, else workqueue (fork-safe; it must not be entered
# by two threads at once: rntk_sym.backends.compiled holds a lock). A layer the user chose
# (NUMBA_THREADING_LAYER) is kept.
LAYER = "forksafe"


def _preload_tbb():
    """pip's ``tbb`` wheel (in the ``numba`` extra) installs ``libtbb.so.12`` into ``<prefix>/lib``, which
    the dynamic loader does not search in a virtual environment (numba issue #7148): load it from there,
    so that numba's own ``dlopen("libtbb.so.12")`` finds it already loaded. Linux only; silent on failure
    (numba then falls back to workqueue)."""
    if not sys.platform.startswith("linux"):
        return
    for prefix in dict.fromkeys((sys.prefix, sys.base_prefix)):
        path = os.path.join(prefix, "lib", "libtbb.so.12")
        if os.path.exists(path):
            try:
                ctypes.CDLL(path, mode=ctypes.RTLD_GLOBAL)
            except OSError:
                continue
            return


@functools.cache
def _import():
    try:
        import numba
    except ImportError:
        return None
    _preload_tbb()  # for our choice and for a user's "tbb" alike
    if numba.config.THREADING_LAYER == "default":
        numba.config.THREADING_LAYER = LAYER
    return numba


def numba_or_none():
    """The ``numba`` module, or None when it is not installed (the compiled paths are then skipped)."""
    return _import()


def threading_layer() -> str | None:
    """The threading layer numba loaded (``"tbb"`` or ``"workqueue"`` unless the user chose one), None
    before the first parallel call or without numba."""
    numba = _import()
    if numba is None:
        return None
    try:
        return numba.threading_layer()
    except ValueError:  # not initialized yet
        return None
