"""RNNClassifier.fit against Keras ``model.fit`` on the identical model, data and batch size.

(a) equal lengths: N sequences of T steps, F features, LSTM(units), E epochs.
(b) variable lengths drawn from a long-tailed distribution between 10 and 500 steps;
    Keras trains on the data padded to the maximum length behind a ``Masking`` layer,
    skrnn on its length-bucketed batches.

Both run in this process, one after the other, each after a one-epoch warm-up that pays
for tracing; the ratio is what to compare (machines are shared and noisy). Accuracy on a
held-out split is printed for both.

    python bench/bench_fit.py            # the sizes recorded in docs/benchmarks.md
    python bench/bench_fit.py --quick    # a smoke run
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from skrnn import RNNClassifier  # noqa: E402


def equal_length_data(n, t, f, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.randn(n, t, f).astype("float32")
    y = (X[:, -10:, 0].mean(axis=1) > 0).astype(int)
    return X, y


def long_tailed_data(n, f, lo=10, hi=500, seed=0):
    rng = np.random.RandomState(seed)
    lengths = np.clip(np.round(lo + rng.pareto(1.5, n) * 25), lo, hi).astype(int)
    X = [rng.randn(t, f).astype("float32") for t in lengths]
    y = np.array([int(s[-10:, 0].mean() > 0) for s in X])
    return X, y, lengths


def keras_model(f, units, n_classes, masking):
    layers = [keras.Input((None, f))]
    if masking:
        layers.append(keras.layers.Masking(0.0))
    layers += [keras.layers.LSTM(units), keras.layers.Dense(n_classes)]
    model = keras.Sequential(layers)
    model.compile(optimizer="adam",
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


def time_keras(X, y, f, units, epochs, batch_size, masking):
    model = keras_model(f, units, 2, masking)
    model.fit(X, y, epochs=1, batch_size=batch_size, verbose=0)  # warm-up / tracing
    start = time.perf_counter()
    model.fit(X, y, epochs=epochs, batch_size=batch_size, verbose=0)
    return time.perf_counter() - start, model


def time_skrnn(X, y, units, epochs, batch_size):
    # The same network as Keras': no convolutional front-end (the default adds one to
    # series with one target each), Adam at Keras' default learning rate.
    clf = RNNClassifier(units=units, conv_filters=None, learning_rate=1e-3, epochs=1,
                        batch_size=batch_size, random_state=0, warm_start=True)
    clf.fit(X, y)  # warm-up / tracing, then continue training
    clf.set_params(epochs=epochs)
    start = time.perf_counter()
    clf.fit(X, y)
    return time.perf_counter() - start, clf


def accuracy_keras(model, X, y):
    return float(np.mean(model.predict(X, verbose=0).argmax(-1) == y))


def pad(X, t):
    out = np.zeros((len(X), t, X[0].shape[1]), "float32")
    for i, s in enumerate(X):
        out[i, :len(s)] = s
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true")
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--batch-size", type=int, default=64)
    args = p.parse_args()
    n, t, f, units = (512, 30, 16, 16) if args.quick else (4096, 100, 16, 64)
    n_var = 256 if args.quick else 4096
    e, b = args.epochs, args.batch_size
    print(f"{datetime.date.today()} {platform.node()} {platform.processor() or platform.machine()}"
          f" cores={os.cpu_count()} keras={keras.__version__} backend={keras.backend.backend()}")

    X, y = equal_length_data(n + n // 4, t, f)
    Xtr, ytr, Xte, yte = X[:n], y[:n], X[n:], y[n:]
    tk, mk = time_keras(Xtr, ytr, f, units, e, b, masking=False)
    ts, ms = time_skrnn(Xtr, ytr, units, e, b)
    print(f"(a) equal lengths N={n} T={t} F={f} LSTM({units}) {e} epochs batch {b}")
    print(f"    keras fit : {n * e / tk:9.0f} samples/s  acc {accuracy_keras(mk, Xte, yte):.3f}")
    print(f"    skrnn fit : {n * e / ts:9.0f} samples/s  acc {ms.score(Xte, yte):.3f}")
    print(f"    ratio skrnn/keras: {tk / ts:.2f}x")

    X, y, lengths = long_tailed_data(n_var + n_var // 4, f)
    Xtr, ytr, Xte, yte = X[:n_var], y[:n_var], X[n_var:], y[n_var:]
    tmax = int(lengths.max())
    tk, mk = time_keras(pad(Xtr, tmax), ytr, f, units, e, b, masking=True)
    ts, ms = time_skrnn(Xtr, ytr, units, e, b)
    print(f"(b) variable lengths N={n_var} T in [{lengths.min()}, {tmax}] "
          f"(median {int(np.median(lengths))}, mean {lengths.mean():.0f}) F={f} "
          f"LSTM({units}) {e} epochs batch {b}")
    print(f"    keras fit, padded to {tmax} + Masking: {n_var * e / tk:9.0f} samples/s  "
          f"acc {accuracy_keras(mk, pad(Xte, tmax), yte):.3f}")
    print(f"    skrnn fit, length buckets        : {n_var * e / ts:9.0f} samples/s  "
          f"acc {ms.score(Xte, yte):.3f}")
    print(f"    ratio skrnn/keras: {tk / ts:.2f}x")


if __name__ == "__main__":
    main()
