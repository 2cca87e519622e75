"""Peak memory of training with truncated BPTT (k=100) against full BPTT as T grows.

Each configuration runs in its own subprocess: one epoch of ``RNNRegressor`` (LSTM(16),
one feature, per-step targets, batch of 8 sequences) on sequences of T steps. Reported:
the growth of the process's peak resident memory during ``fit`` over its resident
memory just before it (model built, data in memory), in MiB.

    python bench/bench_truncated_memory.py                 # T = 1,000 / 10,000 / 100,000
    python bench/bench_truncated_memory.py --lengths 1000  # a quick run
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys

CHILD = r"""
import json, os, resource, sys, time
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import numpy as np
from skrnn import RNNRegressor

T, k, per_step = int(sys.argv[1]), (None if sys.argv[2] == "full" else int(sys.argv[2])), True
rng = np.random.RandomState(0)
X = rng.randn(8, T, 1).astype("float32")
Y = [np.cumsum(s[:, 0]) / np.sqrt(T) for s in X]
reg = RNNRegressor(units=16, epochs=1, batch_size=8, return_sequences=True,
                   truncate_steps=k, random_state=0)
# warm-up on a short copy: builds the model, traces the steps, loads every library
reg.set_params(warm_start=True).fit([s[:200] for s in X], [y[:200] for y in Y])

def rss_mib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024

before = rss_mib()
peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
start = time.perf_counter()
reg.fit(X, Y)
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"T": T, "mode": sys.argv[2], "growth_mib": peak - max(before, peak_before),
                  "peak_mib": peak, "seconds": seconds}))
"""


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--lengths", type=int, nargs="+", default=[1000, 10_000, 100_000])
    p.add_argument("--truncate", type=int, default=100)
    args = p.parse_args()
    print(f"{datetime.date.today()} {platform.node()} {platform.machine()} "
          f"cores={os.cpu_count()}")
    print(f"{'T':>8} {'mode':>10} {'peak growth MiB':>16} {'peak RSS MiB':>13} {'fit s':>7}")
    for T in args.lengths:
        for mode in (str(args.truncate), "full"):
            out = subprocess.run([sys.executable, "-c", CHILD, str(T), mode],
                                 capture_output=True, text=True)
            if out.returncode != 0:
                print(f"{T:>8} {mode:>10}  failed: {out.stderr.strip().splitlines()[-1]}")
                continue
            r = json.loads(out.stdout.strip().splitlines()[-1])
            label = "full" if mode == "full" else f"k={mode}"
            print(f"{T:>8} {label:>10} {r['growth_mib']:>16.1f} {r['peak_mib']:>13.0f} "
                  f"{r['seconds']:>7.1f}", flush=True)


if __name__ == "__main__":
    main()
