"""ECG-like rhythm classification: normal vs atrial-fibrillation-like, variable lengths.

    python examples/ecg_classification.py          # about a minute on 2 CPU cores

Signals from ``skrnn.datasets.make_ecg_like`` (4-8 s at 25 Hz, so 100-200 steps; the
classes overlap in heart rate and amplitude, they differ in rhythm: regular beats with P
waves vs irregular beats without). The list of 1-D signals goes in as it is. Baselines:
majority class, and logistic regression on summary statistics of the signal.
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
from sklearn.dummy import DummyClassifier  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from skrnn import RNNClassifier  # noqa: E402
from skrnn.datasets import make_ecg_like  # noqa: E402


def summary_features(X):
    return np.stack([[x.mean(), x.std(), x.min(), x.max(), np.median(x),
                      np.abs(np.diff(x)).mean(), len(x)] for x in X])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--epochs", type=int, default=15)
    args = parser.parse_args(argv)
    X, y = make_ecg_like(args.n, random_state=0)
    X_test, y_test = make_ecg_like(400, random_state=1)
    F, F_test = summary_features(X), summary_features(X_test)
    rnn = RNNClassifier(cell="gru", units=32, bidirectional=True, pooling="attention",
                        epochs=args.epochs, learning_rate=0.005, random_state=0).fit(X, y)
    scores = {
        "majority class": DummyClassifier().fit(F, y).score(F_test, y_test),
        "logistic regression on summary statistics": make_pipeline(
            StandardScaler(), LogisticRegression(max_iter=1000)).fit(F, y).score(F_test, y_test),
        "RNNClassifier (bi-GRU, attention pooling)": rnn.score(X_test, y_test),
    }
    print(f"{len(X)} training / {len(X_test)} test signals of "
          f"{min(map(len, X))}-{max(map(len, X))} steps; accuracy:")
    for name, value in scores.items():
        print(f"  {name:<44} {value:.3f}")
    return scores


if __name__ == "__main__":
    main()
