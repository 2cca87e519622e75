"""Long memory: SimpleRNN, LSTM and GRU on the adding problem (T = 200) on CPU.

Each cell is trained with the same recipe (units 64, Adam, lr 0.003, global_clipnorm 1,
batch 64) one epoch at a time until the held-out MSE drops below 0.005 or the epoch /
time budget runs out. Always answering 1.0 scores about 0.167 (Bai et al. 2018, T = 600:
GRU 5.3e-5, LSTM 0.164, vanilla 0.177).

    python bench/bench_adding.py                      # T=200, as in docs/benchmarks.md
    python bench/bench_adding.py --steps 50 --quick   # a smoke run
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

from skrnn import RNNRegressor  # noqa: E402
from skrnn.datasets import make_adding_problem  # noqa: E402


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=200)
    p.add_argument("--train", type=int, default=10_000)
    p.add_argument("--max-epochs", type=int, default=40)
    p.add_argument("--max-minutes", type=float, default=8.0)
    p.add_argument("--quick", action="store_true")
    args = p.parse_args()
    if args.quick:
        args.train, args.max_epochs, args.max_minutes = 1000, 3, 1.0
    X, y = make_adding_problem(args.train, args.steps, random_state=0)
    X_test, y_test = make_adding_problem(1000, args.steps, random_state=1)
    print(f"{datetime.date.today()} {platform.node()} {platform.machine()} "
          f"cores={os.cpu_count()}  adding problem T={args.steps}, {args.train} training "
          f"sequences; predicting 1.0 gives MSE {np.mean((y_test - 1) ** 2):.3f}")
    print(f"{'cell':>5} {'test MSE':>9} {'epochs':>6} {'minutes':>7}  MSE by epoch")
    for cell in ("rnn", "lstm", "gru"):
        reg = RNNRegressor(cell=cell, units=64, learning_rate=0.003, global_clipnorm=1.0,
                           batch_size=64, epochs=1, warm_start=True, random_state=0)
        start, curve = time.perf_counter(), []
        for _ in range(args.max_epochs):
            reg.fit(X, y)
            curve.append(float(np.mean((reg.predict(X_test) - y_test) ** 2)))
            minutes = (time.perf_counter() - start) / 60
            if curve[-1] < 0.005 or minutes > args.max_minutes:
                break
        shown = " ".join(f"{m:.3g}" for m in curve)
        print(f"{cell:>5} {curve[-1]:>9.2e} {len(curve):>6} {minutes:>7.1f}  {shown}",
              flush=True)


if __name__ == "__main__":
    main()
