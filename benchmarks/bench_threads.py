"""numba's threading layers for the compiled Gram (issue 17: "using both cores"): ``rntk_sym.gram`` of
n = 2000 points on S^9, FFNet NTK, L = 100, with 1 thread and with every core, for each layer that
loads, each in a fresh process (numba fixes the layer at its first parallel call); then whether a
forked child (``multiprocessing`` "fork", as the sweeps' process pools) can still run the compiled
path. Timings are the best of 3 runs, 1 and all threads interleaved (the machine is shared: the
minimum is the least disturbed); the load average is printed beside them.

- ``workqueue``: numba's own pool (fork-safe, not thread-safe; static split of the blocks);
- ``tbb``: Intel TBB (pip package ``tbb``, in the ``numba`` extra; fork- and thread-safe, work stealing);
- ``omp``: GNU OpenMP (numba's default on Linux; a fork after it aborts the child);
- ``forksafe``: what rntk_sym asks numba for (tbb when it loads, else workqueue).

Run: ``python benchmarks/bench_threads.py [--n N] [--depth L]``
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

CHILD = r"""
import json, multiprocessing as mp, sys, time
import numpy as np
import rntk_sym
from rntk_sym.backends import _numba
numba = _numba.numba_or_none()
n, L = int(sys.argv[1]), int(sys.argv[2])
rng = np.random.default_rng(0)
X = rng.standard_normal((n, 10))
X /= np.linalg.norm(X, axis=1)[:, None]
rntk_sym.gram(X[:50], arch="ffnet", depth=3)  # compile or load the cache; not timed
cores = numba.config.NUMBA_NUM_THREADS
times = {1: [], cores: []}
for _ in range(3):
    for t in times:
        numba.set_num_threads(t)
        s = time.perf_counter()
        rntk_sym.gram(X, arch="ffnet", depth=L)
        times[t].append(time.perf_counter() - s)
def child(_):
    return float(rntk_sym.gram(X[:40], arch="ffnet", depth=5).sum())
with mp.get_context("fork").Pool(1) as pool:
    fut = pool.map_async(child, [0])
    fut.wait(60)
    fork = fut.ready() and fut.successful()
print(json.dumps({"layer": _numba.threading_layer(), "one": min(times[1]), "all": min(times[cores]),
                  "cores": cores, "fork": fork, "load": os.getloadavg()[0]}))
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--depth", type=int, default=100)
    a = ap.parse_args()
    print(f"rntk_sym.gram, n = {a.n} on S^9, FFNet NTK, L = {a.depth}; best of 3; {os.cpu_count()} cores")
    print("| asked | layer loaded | 1 thread s | all threads s | speed-up | fork after use | load avg |")
    print("|---|---|---|---|---|---|---|")
    for asked in ("workqueue", "tbb", "omp", "forksafe"):
        env = {**os.environ, "NUMBA_THREADING_LAYER": asked}
        p = subprocess.run([sys.executable, "-c", "import os\n" + CHILD, str(a.n), str(a.depth)], env=env,
                           capture_output=True, text=True, timeout=900)
        line = p.stdout.strip().splitlines()[-1] if p.stdout.strip() else ""
        if p.returncode or not line.startswith("{"):
            fork = "aborts" if "fork()" in p.stderr else "error"
            print(f"| {asked} | (no result: {fork}, exit {p.returncode}) | | | | | |", flush=True)
            continue
        r = json.loads(line)
        print(f"| {asked} | {r['layer']} | {r['one']:.3f} | {r['all']:.3f} | {r['one'] / r['all']:.2f} | "
              f"{'ok' if r['fork'] else 'FAILS'} | {r['load']:.1f} |", flush=True)


if __name__ == "__main__":
    main()
