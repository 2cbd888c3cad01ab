"""Progress on stderr for long runs (deep recursions, sweeps, figures, checks).

Quick jobs stay quiet: nothing is shown during the first ``delay`` seconds. After that, on a
terminal, a bar redrawn in place every ``min_interval`` (0.2 s); elsewhere (a log file, a pipe, a
CI job) one plain line every ``min_interval`` (5 s), so a long silent run is never mistaken for a
hang. The eta is the remaining fraction at the rate so far, ``elapsed * (1 - f) / f`` with
``f = done / total``: callers count ``done`` in units of the whole job's work (all its phases), so
that the rate of the first phase is not taken for the whole job's. No eta is shown before there
is a rate (no work done yet). ``enabled=False`` (the command line's ``--json`` and ``--quiet``)
shows nothing.
"""
from __future__ import annotations

import sys
import time

TTY_INTERVAL, LINE_INTERVAL = 0.2, 5.0  # seconds between redraws of the bar / between plain lines
TTY_DELAY = 1.0  # a bar appears after this long; plain lines after LINE_INTERVAL


def duration(seconds: float) -> str:
    """``seconds`` for people: ``4.2s``, ``3m05s``, ``2h07m``."""
    s = max(seconds, 0.0)
    if s < 60:
        return f"{s:.1f}s"
    if s < 3600:
        return f"{int(s // 60)}m{int(s % 60):02d}s"
    return f"{int(s // 3600)}h{int(s % 3600 // 60):02d}m"


class Progress:
    """``Progress(total, label)``; call it with the number of units done (out of ``total``);
    ``close()`` at the end (or use it as a context manager).

    ``force``: draw the terminal bar even when ``stream`` is not a terminal. ``clock``: the time
    source (seconds; injectable for tests). ``min_interval`` and ``delay`` default by the kind of
    stream (see the module's docstring).
    """

    def __init__(self, total: int, label: str = "", *, enabled: bool = True, force: bool = False,
                 stream=None, min_interval: float | None = None, delay: float | None = None,
                 clock=time.monotonic):
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = enabled
        self.tty = force or bool(getattr(self.stream, "isatty", lambda: False)())
        self.min_interval = min_interval if min_interval is not None else (TTY_INTERVAL if self.tty else LINE_INTERVAL)
        self.delay = delay if delay is not None else (TTY_DELAY if self.tty else LINE_INTERVAL)
        self.total, self.label = max(int(total), 1), label
        self.clock = clock
        self.start = clock()
        self._last = None  # time of the last line drawn
        self._width = 0  # length of the bar last drawn (cleared by the next)
        self.done = 0

    def status(self, now: float) -> str:
        """``label  42.0%  1m05s elapsed  eta 1m30s`` at time ``now`` (no eta before a rate exists)."""
        frac = min(max(self.done / self.total, 0.0), 1.0)
        elapsed = now - self.start
        eta = f"  eta {duration(elapsed * (1 - frac) / frac)}" if frac > 0 and elapsed > 0 else ""
        return f"{100 * frac:5.1f}%  {duration(elapsed)} elapsed{eta}"

    def __call__(self, done: int) -> None:
        self.done = done
        if not self.enabled:
            return
        now = self.clock()
        if now - self.start < self.delay:
            return
        if self._last is not None and now - self._last < self.min_interval and (done < self.total or not self.tty):
            return
        self._last = now
        if self.tty:
            frac = min(max(done / self.total, 0.0), 1.0)
            text = f"{self.label} [{'#' * int(30 * frac):<30}] {self.status(now)}"
            self.stream.write("\r" + text.ljust(self._width))
            self._width = len(text)
        else:
            self.stream.write(f"{self.label}: {self.status(now)}\n")
        self.stream.flush()

    def close(self, stopped: bool = False) -> None:
        """End the bar's line, or say when the job finished (``stopped``: ended by an exception);
        only where something was shown."""
        if not self.enabled or self._last is None:
            return
        if self.tty:
            self.stream.write("\n")
        else:
            end = "stopped after" if stopped else "done in"
            self.stream.write(f"{self.label}: {end} {duration(self.clock() - self.start)}\n")
        self.stream.flush()

    def __enter__(self):
        return self

    def __exit__(self, exc_type, *exc):
        self.close(stopped=exc_type is not None)
