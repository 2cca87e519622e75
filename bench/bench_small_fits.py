"""Small fits on TensorFlow: seconds per ``fit`` + ``predict`` of a new estimator, the
work of a grid search or a notebook cell, where tracing the step's graphs is most of the
time.

Sequences of several lengths: by default equal-length batches carry their all-true mask
(one graph per function); ``UNMASKED_AFTER = -1`` restores the old behaviour (a second,
unmasked graph for them). Both in this process, alternated, so the ratio is what to read.

    python bench/bench_small_fits.py            # 3 networks x 3 rounds
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

from skrnn import RNNClassifier  # noqa: E402
from skrnn.training._tensorflow import TensorFlowStep  # noqa: E402

NETWORKS = {"lstm": dict(conv_filters=None), "lstm-fcn (default)": {},
            "bi-gru + attention": dict(cell="gru", bidirectional=True,
                                       pooling="attention")}


def one_fit(X, y, **kw) -> float:
    start = time.perf_counter()
    RNNClassifier(units=8, epochs=3, random_state=0, **kw).fit(X, y).predict(X)
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=60)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    rng = np.random.RandomState(0)
    X = [rng.randn(rng.randint(3, 12), 2) for _ in range(args.n)]
    y = np.array([int(x[:, 0].sum() > 0) for x in X])
    one_fit(X, y)  # TensorFlow's own start-up, outside the timings
    default = TensorFlowStep.UNMASKED_AFTER
    times = {"one graph": [], "two graphs": []}
    for _ in range(args.rounds):
        for mode, threshold in (("two graphs", -1), ("one graph", default)):
            TensorFlowStep.UNMASKED_AFTER = threshold
            times[mode].append(sum(one_fit(X, y, **kw) for kw in NETWORKS.values()))
    TensorFlowStep.UNMASKED_AFTER = default
    for mode, values in times.items():
        print(f"{mode:10s}: {np.median(values) / len(NETWORKS):.2f} s per fit + predict "
              f"(median of {args.rounds} rounds of {len(NETWORKS)} networks, n={args.n})")
    print(f"ratio two / one: {np.median(times['two graphs']) / np.median(times['one graph']):.2f}x")


if __name__ == "__main__":
    main()
