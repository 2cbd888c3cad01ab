"""rntk_sym.progress driven by a fake clock (no real timing): plain lines at the interval when the
stream is not a terminal, a redrawn bar when it is, no eta before a rate exists, and the eta of a
linear job equal to its remaining time (issue 18, "slow without warning")."""
import io
import re

import pytest

from rntk_sym.progress import LINE_INTERVAL, Progress, duration


class Clock:
    def __init__(self):
        self.t = 1000.0

    def __call__(self):
        return self.t


class Term(io.StringIO):
    def isatty(self):
        return True


def _seconds(text: str) -> float:
    """Inverse of :func:`duration` for the eta checks."""
    m = re.fullmatch(r"(?:(\d+)h)?(?:(\d+)m)?(?:([\d.]+)s)?", text)
    h, mi, s = (float(g) if g else 0.0 for g in m.groups())
    return 3600 * h + 60 * mi + s


def test_plain_lines_every_interval_and_eta_of_a_linear_job():
    # a linear job of 120 s reporting every 0.5 s into a log file: one line per LINE_INTERVAL, none
    # before it, and each eta equal to the time left (120 - t), up to the printed rounding
    clock, out = Clock(), io.StringIO()
    total, seconds = 1200, 120.0
    with Progress(total, "job", stream=out, clock=clock) as bar:
        for k in range(1, 241):
            clock.t += 0.5
            bar(k * total // 240)
    lines = out.getvalue().splitlines()
    assert len(lines) == int(seconds // LINE_INTERVAL) + 1  # 24 progress lines and "done in"
    assert lines[-1] == "job: done in 2m00s"
    for i, line in enumerate(lines[:-1], start=1):
        t = i * LINE_INTERVAL
        m = re.fullmatch(r"job: +([\d.]+)%  (\S+) elapsed  eta (\S+)", line)
        assert m, line
        assert float(m[1]) == pytest.approx(100 * t / seconds, abs=0.05)
        assert _seconds(m[2]) == pytest.approx(t, abs=0.05)
        assert _seconds(m[3]) == pytest.approx(seconds - t, abs=1.0)  # "1m05s": whole seconds past a minute
    assert "nan" not in out.getvalue()


def test_quick_jobs_and_disabled_bars_stay_quiet():
    for enabled, steps in ((True, 8), (False, 100)):  # 4 s of work: under the first interval; or disabled
        clock, out = Clock(), io.StringIO()
        with Progress(steps, "job", stream=out, clock=clock, enabled=enabled) as bar:
            for k in range(steps):
                clock.t += 0.5
                bar(k + 1)
        assert out.getvalue() == ""


def test_no_eta_before_a_rate():
    # a first report with nothing done (a phase starting): no eta, and never "nan"
    clock, out = Clock(), io.StringIO()
    bar = Progress(10, "job", stream=out, clock=clock)
    clock.t += 6
    bar(0)
    clock.t += 6
    bar(5)
    first, second = out.getvalue().splitlines()
    assert "eta" not in first and "nan" not in first and first.endswith("6.0s elapsed")
    assert second.endswith("eta 12.0s")


def test_terminal_bar_is_redrawn_in_place():
    clock, out = Clock(), Term()
    with Progress(100, "L=10", stream=out, clock=clock) as bar:
        for k in range(1, 101):
            clock.t += 0.1
            bar(k)
    text = out.getvalue()
    assert text.endswith("\n") and text.count("\n") == 1 and text.count("\r") >= 40  # one line, redrawn
    assert text.rstrip().endswith("eta 0.0s") and "[" + "#" * 30 + "]" in text


def test_a_failed_job_is_not_reported_done():
    clock, out = Clock(), io.StringIO()
    with pytest.raises(KeyboardInterrupt), Progress(10, "job", stream=out, clock=clock) as bar:
        clock.t += 6
        bar(1)
        raise KeyboardInterrupt
    assert out.getvalue().splitlines()[-1] == "job: stopped after 6.0s"


def test_duration():
    assert [duration(s) for s in (0.04, 59.9, 65, 3599, 7260)] == ["0.0s", "59.9s", "1m05s", "59m59s", "2h01m"]


@pytest.mark.parametrize("convention, kernel, digits", [("rntk", "ntk", None), ("rntk", "ntk", 20),
                                                        ("arora", "ntk", 20), ("arora", "gp", 20)])
def test_jobs_report_against_their_whole_budget(convention, kernel, digits):
    # rntk_sym.kernel's progress runs over 2 L for the whole job, also when a convention needs two
    # kernels (the NTK and the GP kernel): the count never goes back and ends at 2 L, so the eta is
    # taken from the total work, not from the first phase
    from rntk_sym.conventions import kernel_in

    L, seen = 300, []
    kernel_in(convention, "ffnet", "0.3", L, kernel=kernel, digits=digits, method="recursion", progress=seen.append)
    assert seen == sorted(seen) and seen[-1] == 2 * L
