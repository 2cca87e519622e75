"""Streaming: an answer after every new observation, the network's state carried.

    python examples/streaming.py          # about 2 minutes on 2 CPU cores

1. Early classification of a live ECG. The default ``RNNClassifier`` (LSTM-FCN) learns
   normal rhythm against atrial-fibrillation-like rhythm from whole records
   (``skrnn.datasets.make_ecg_like``: 25 samples a second, 4 to 8 seconds). Then the
   held-out records arrive live, one sample at a time, all of them in one stream: after
   every sample the stream gives each record's class probabilities. Printed: the
   accuracy against the fraction of each record seen, and when each record's
   prediction settles (the sample after which its label never changes again).
2. A forecaster updated one observation at a time. An ``RNNRegressor`` forecasts the
   next value of a noisy seasonal series from its whole history; fed one observation at
   a time it answers from its carried state, against re-predicting from the history at
   every step (what tools without a carried state do): the same forecasts, at a cost
   that does not grow with the history.
"""

from __future__ import annotations

import argparse
import os
import time
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402

from skrnn import RNNClassifier, RNNRegressor  # noqa: E402
from skrnn.datasets import make_ecg_like  # noqa: E402

FRACTIONS = (0.1, 0.25, 0.5, 0.75, 1.0)


def early_classification(n_train=600, n_test=200, epochs=30, random_state=0):
    X, y = make_ecg_like(n_train + n_test, random_state=random_state)
    X_train, y_train, X_test, y_test = X[:n_train], y[:n_train], X[n_train:], y[n_train:]
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = RNNClassifier(epochs=epochs, random_state=random_state).fit(X_train, y_train)
    print(f"1. ECG rhythm, {n_train} training records: fitted in "
          f"{time.perf_counter() - start:.0f} s; accuracy on {n_test} whole held-out "
          f"records {clf.score(X_test, y_test):.3f}")

    # The held-out records arrive live: one sample per record per update.
    stream = clf.stream()
    ids = list(range(n_test))
    labels = [[] for _ in ids]  # each record's predicted label after every sample
    longest = max(len(x) for x in X_test)
    start = time.perf_counter()
    for t in range(longest):
        live = [i for i in ids if t < len(X_test[i])]
        for i, proba in zip(live, stream.update(live, [X_test[i][t:t + 1] for i in live])):
            labels[i].append(clf.classes_[proba[-1].argmax()])
    seconds = time.perf_counter() - start
    print(f"   streamed {sum(map(len, X_test))} samples in {longest} updates: "
          f"{1e3 * seconds / longest:.1f} ms per update of up to {n_test} records")
    final = np.array([record[-1] for record in labels])
    assert (final == clf.predict(X_test)).all()  # the last answer is predict's
    print("   accuracy after seeing a fraction of each record:")
    for fraction in FRACTIONS:
        seen = np.array([record[max(0, int(np.ceil(fraction * len(record))) - 1)]
                         for record in labels])
        print(f"     {fraction:>5.0%}  {np.mean(seen == y_test):.3f}")
    settled = []
    for record in labels:
        changes = [t for t in range(1, len(record)) if record[t] != record[t - 1]]
        settled.append(((changes[-1] if changes else 0) + 1) / len(record))
    settled = np.array(settled)
    print(f"   each record's prediction settles (never changes again) after "
          f"{np.median(settled):.0%} of it in the median record; "
          f"{np.mean(settled <= 0.5):.0%} of records are settled by half-way")
    return {"fractions": FRACTIONS, "settled": settled, "final": final, "y": y_test}


def seasonal_series(n_series, length, rng):
    t = np.arange(length)
    period = rng.uniform(10, 30, n_series)[:, None]
    phase = rng.uniform(0, 2 * np.pi, n_series)[:, None]
    level = rng.uniform(-1, 1, n_series)[:, None]
    return level + np.sin(2 * np.pi * t / period + phase) + 0.1 * rng.randn(n_series,
                                                                             length)


def one_step_forecasts(n_train=400, n_live=50, steps=500, epochs=30, random_state=0):
    rng = np.random.RandomState(random_state)
    series = seasonal_series(n_train, 80, rng)
    # prefixes of every length from 20 steps, each labelled with the value after it
    cut = rng.randint(20, 79, n_train)
    X = [s[:c, None] for s, c in zip(series, cut)]
    y = np.array([s[c] for s, c in zip(series, cut)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reg = RNNRegressor(cell="gru", conv_filters=None, epochs=epochs,
                           random_state=random_state).fit(X, y)
    live = seasonal_series(n_live, steps + 1, rng)
    ids = list(range(n_live))

    stream, start = reg.stream(), time.perf_counter()
    streamed = np.stack([stream.update(ids, live[:, t, None, None])[:, -1]
                         for t in range(steps)], axis=1)
    carried = time.perf_counter() - start
    start = time.perf_counter()
    again = np.stack([reg.predict(list(live[:, :t + 1, None])) for t in range(steps)],
                     axis=1)
    rewarmed = time.perf_counter() - start
    target = live[:, 1:steps + 1]
    print(f"2. {n_live} live series, {steps} observations each, forecasting the next one:")
    print(f"   state carried: {carried:.2f} s, mean absolute error "
          f"{np.abs(streamed - target).mean():.3f}")
    print(f"   re-predicted from the history at every step: {rewarmed:.2f} s "
          f"({rewarmed / carried:.0f}x slower), mean absolute error "
          f"{np.abs(again - target).mean():.3f}; largest difference between the two "
          f"{np.abs(streamed - again).max():.1e}")
    return {"streamed": streamed, "again": again, "carried": carried,
            "rewarmed": rewarmed}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-train", type=int, default=600)
    parser.add_argument("--n-test", type=int, default=200)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--steps", type=int, default=500)
    args = parser.parse_args(argv)
    first = early_classification(args.n_train, args.n_test, args.epochs)
    second = one_step_forecasts(epochs=args.epochs, steps=args.steps)
    return first, second


if __name__ == "__main__":
    main()
