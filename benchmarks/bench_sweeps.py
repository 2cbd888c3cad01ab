"""The sweeps with and without the compiled paths (issue 17, target 3): ``rntk plot rates`` (20 digits:
exact recursion to L = 10^4, skip-ahead to 10^10) and a 5-gamma ``rntk explore`` to L = 10^12
(float64, rho = 0.5, depths 10, 100, ..., 10^12), each run as the command a user types, in a fresh
process: with numba (the ``numba`` extra; its on-disk cache warm, so the ~1 s load of the compiled
functions is counted), and with numba unimportable (``sys.modules["numba"] = None`` before rntk_sym is
imported: what users get without the extra). The two runs alternate, best of ``--repeats``.

Run: ``python benchmarks/bench_sweeps.py [--repeats N]``
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time

RUN = "import sys\n{hide}from rntk_sym import cli\nsys.exit(cli.main(sys.argv[1:]))\n"
HIDE = "sys.modules['numba'] = None\n"
GAMMAS = "1,0.75,0.5,0.25,0.1"
DEPTHS = ",".join(f"1e{k}" for k in range(1, 13))


def commands(tmp: str) -> list[tuple[str, list[str]]]:
    return [("rntk plot rates", ["plot", "rates", "--out", os.path.join(tmp, "rates.png")]),
            (f"rntk explore --gamma {GAMMAS} --rho 0.5 --depths 1e1,...,1e12",
             ["explore", "--arch", "resnet", "--gamma", GAMMAS, "--rho", "0.5", "--depths", DEPTHS, "--quiet",
              "--out", os.path.join(tmp, "sweep")])]


def timed(argv: list[str], hide: bool) -> float:
    t = time.perf_counter()
    p = subprocess.run([sys.executable, "-c", RUN.format(hide=HIDE if hide else ""), *argv],
                       capture_output=True, text=True)
    dt = time.perf_counter() - t
    if p.returncode:
        raise SystemExit(f"{argv} failed ({p.returncode}): {p.stderr[-2000:]}")
    return dt


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=2)
    a = ap.parse_args()
    print(f"{time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    print("| command | with numba s | numba absent s | speed-up |")
    print("|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        timed(commands(tmp)[0][1][:2] + ["--max-depth", "1e5", "--max-exact-depth", "100", "--out",
                                         os.path.join(tmp, "warm.png")], False)  # numba's cache warm
        for name, argv in commands(tmp):
            best = {False: float("inf"), True: float("inf")}
            for _ in range(a.repeats):
                for hide in (False, True):
                    if argv[0] == "explore":
                        argv = argv[:-1] + [os.path.join(tmp, f"sweep{time.perf_counter_ns()}")]
                    best[hide] = min(best[hide], timed(argv, hide))
            print(f"| `{name}` | {best[False]:.1f} | {best[True]:.1f} | {best[True] / best[False]:.1f} |", flush=True)
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
