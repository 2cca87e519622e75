"""One-to-many: a whole sequence from one vector, with Seq2SeqTransformer.

    python examples/one_to_many.py            # both tasks, about a minute and a half
    python examples/one_to_many.py words      # digits -> the number in English words
    python examples/one_to_many.py paths      # launch parameters -> the flight path

A 2-D ``(n, F)`` source is one vector per sample: it initialises the decoder, which
writes the target step by step and learns where it ends.

- ``words`` (``skrnn.datasets.make_number_words``): the four digits of a number, one-hot
  encoded in the pipeline, → its English words (1-7 tokens), e.g. 3042 → "three thousand
  and forty two". Tested on 500 numbers never seen in training. Baseline: the words of
  the nearest training number (1-nearest neighbour on the one-hot digits).
- ``paths`` (``skrnn.datasets.make_trajectories``): launch speed, angle, height, drag
  and wind → the ``(x, y)`` position every 0.1 s until landing (4-30 steps). Baselines:
  the mean training path, and the path of the nearest training launch.
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
from sklearn.neighbors import NearestNeighbors  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import OneHotEncoder, StandardScaler  # noqa: E402

from skrnn import Seq2SeqTransformer  # noqa: E402
from skrnn.datasets import make_number_words, make_trajectories  # noqa: E402
from skrnn.metrics import exact_match, token_accuracy  # noqa: E402


def nearest(X_train, X_test, transform):
    fitted = transform.fit(X_train)
    index = NearestNeighbors(n_neighbors=1).fit(fitted.transform(X_train))
    return index.kneighbors(fitted.transform(X_test), return_distance=False)[:, 0]


def words(args):
    X, Y = make_number_words(args.n + 500, random_state=0)
    X, Y, X_test, Y_test = X[:args.n], Y[:args.n], X[args.n:], Y[args.n:]
    one_hot = OneHotEncoder(categories=[range(10)] * 4, sparse_output=False)
    start = time.perf_counter()
    model = make_pipeline(one_hot, Seq2SeqTransformer(
        cell="gru", units=64, epochs=args.epochs or 15, batch_size=32, learning_rate=0.003,
        random_state=0)).fit(X, Y)
    seconds = time.perf_counter() - start
    results = {
        "nearest training number": [Y[i] for i in nearest(X, X_test, one_hot)],
        "Seq2SeqTransformer (GRU)": model.predict(X_test),
    }
    example = results["Seq2SeqTransformer (GRU)"][0]
    print(f"words: {len(X)} training / {len(X_test)} unseen numbers "
          f"(fit {seconds:.0f} s), e.g. {X_test[0].tolist()} -> {example}")
    scores = {}
    for name, pred in results.items():
        scores[name] = (exact_match(Y_test, pred), token_accuracy(Y_test, pred))
        print(f"  {name:<26} exact match {scores[name][0]:.3f}  token accuracy "
              f"{scores[name][1]:.3f}")
    return scores


def mean_path(Y):
    """Step-wise mean of the training paths, as long as the median path."""
    length = int(np.median([len(y) for y in Y]))
    return np.stack([np.mean([y[min(t, len(y) - 1)] for y in Y], axis=0)
                     for t in range(length)])


def path_errors(Y_true, Y_pred):
    """Mean squared position error (a short path is held at its last point, a long one
    cut, as ``Seq2SeqTransformer.score`` does), share of flights whose landing step is
    right, and the mean error of the landing distance."""
    errors, right, landing = [], [], []
    for t, p in zip(Y_true, Y_pred):
        q = p[np.minimum(np.arange(len(t)), len(p) - 1)]
        errors.append(np.mean((q - t) ** 2))
        right.append(len(p) == len(t))
        landing.append(abs(p[-1, 0] - t[-1, 0]))
    return float(np.mean(errors)), float(np.mean(right)), float(np.mean(landing))


def paths(args):
    X, Y = make_trajectories(args.n, random_state=0)
    X_test, Y_test = make_trajectories(300, random_state=1)
    start = time.perf_counter()
    model = make_pipeline(StandardScaler(), Seq2SeqTransformer(
        cell="gru", units=64, epochs=args.epochs or 40, batch_size=32, learning_rate=0.002,
        global_clipnorm=1.0, early_stopping=True, n_iter_no_change=8,
        random_state=0)).fit(X, Y)
    seconds = time.perf_counter() - start
    results = {
        "mean training path": [mean_path(Y)] * len(Y_test),
        "nearest training launch": [Y[i] for i in nearest(X, X_test, StandardScaler())],
        "Seq2SeqTransformer (GRU)": model.predict(X_test),
    }
    print(f"paths: {len(X)} training / {len(X_test)} test launches, "
          f"{min(map(len, Y))}-{max(map(len, Y))} steps (fit {seconds:.0f} s, "
          f"{model[-1].n_iter_} epochs)")
    scores = {}
    for name, pred in results.items():
        scores[name] = path_errors(Y_test, pred)
        print(f"  {name:<26} position MSE {scores[name][0]:6.3f} m2  landing step right "
              f"{scores[name][1]:.3f}  landing distance error {scores[name][2]:.2f} m")
    return scores


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("task", nargs="?", choices=["words", "paths", "both"], default="both")
    parser.add_argument("--n", type=int, default=3000, help="training samples")
    parser.add_argument("--epochs", type=int, default=None)
    args = parser.parse_args(argv)
    tasks = {"words": words, "paths": paths}
    chosen = list(tasks) if args.task == "both" else [args.task]
    return {name: tasks[name](args) for name in chosen}


if __name__ == "__main__":
    main()
