"""A minimal progress bar on stderr for long runs (deep recursions, sweeps).

Silent when ``enabled`` is false (the command line passes ``--json`` or ``--quiet`` here) and when
stderr is not a terminal, unless ``force`` is set.
"""
from __future__ import annotations

import sys
import time


class Progress:
    """``Progress(total, label)``; call it with the number of units done; ``close()`` at the end."""

    def __init__(self, total: int, label: str = "", *, enabled: bool = True, force: bool = False,
                 stream=None, min_interval: float = 0.2):
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = enabled and (force or getattr(self.stream, "isatty", lambda: False)())
        self.total, self.label = max(int(total), 1), label
        self.start = self._last = time.perf_counter()
        self.min_interval = min_interval
        self.done = 0

    def __call__(self, done: int) -> None:
        self.done = done
        now = time.perf_counter()
        if not self.enabled or (now - self._last < self.min_interval and done < self.total):
            return
        self._last = now
        frac = min(done / self.total, 1.0)
        bar = "#" * int(30 * frac)
        eta = (now - self.start) * (1 - frac) / frac if frac > 0 else float("nan")
        self.stream.write(f"\r{self.label} [{bar:<30}] {100 * frac:5.1f}%  eta {eta:6.1f}s")
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
