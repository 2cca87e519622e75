"""Multivariate time-series classification on two UEA data sets shipped with ``aeon``.

    python examples/timeseries_classification.py          # about 6 minutes on 2 CPU cores

- JapaneseVowels: 9 speakers saying "ae", 12 LPC cepstrum coefficients per frame,
  **7 to 29 frames** per utterance (270 train / 370 test). The sequences go in as they
  are — a list of ``(T_i, 12)`` arrays, no padding by hand.
- BasicMotions: smartwatch accelerometer + gyroscope (6 channels, 100 steps), four
  activities (40 train / 40 test).

Each is scored on its official test split against a majority-class baseline and a
logistic regression on summary statistics (mean, std, min, max, first and last value of
each channel).

Then the univariate UCR set GunPoint (150 steps, 50 train / 150 test) against the
published deep-learning accuracy (FCN and LSTM-FCN: 1.000): ``RNNClassifier`` with its
defaults (which are LSTM-FCN: a 128-256-128 convolutional branch beside the LSTM), and
with the recipe (z-normalised series, longer training; ``bench/bench_ucr.py`` runs
OSULeaf and ACSF1 too). ``pip install 'skrnn[examples]'`` installs aeon; nothing is
downloaded.
"""

from __future__ import annotations

import argparse
import os
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
from sklearn.dummy import DummyClassifier  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from skrnn import RNNClassifier  # noqa: E402
from skrnn.preprocessing import SequenceScaler  # noqa: E402


def load(name: str, split: str):
    """``(list of (T_i, channels) arrays, labels)``: aeon stores (channels, T)."""
    from aeon import datasets

    X, y = getattr(datasets, f"load_{name}")(split=split)
    return [np.asarray(x, dtype=np.float32).T for x in X], np.asarray(y)


def summary_features(X):
    return np.stack([np.concatenate([x.mean(0), x.std(0), x.min(0), x.max(0), x[0], x[-1]])
                     for x in X])


def evaluate(name, epochs, units, cap=None):
    """Baselines and the network on one data set; returns the test accuracies."""
    X_train, y_train = load(name, "train")
    X_test, y_test = load(name, "test")
    lengths = sorted({len(x) for x in X_train + X_test})
    print(f"{name}: {len(X_train)} train / {len(X_test)} test sequences, "
          f"{X_train[0].shape[1]} channels, lengths {lengths[0]}-{lengths[-1]}")
    baseline = DummyClassifier().fit(summary_features(X_train), y_train)
    logistic = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)).fit(
        summary_features(X_train), y_train)
    with warnings.catch_warnings():  # the hand-set network has a fixed budget
        warnings.simplefilter("ignore", ConvergenceWarning)
        rnn = make_pipeline(SequenceScaler(), RNNClassifier(
            cell="gru", units=units, bidirectional=True, pooling="attention",
            epochs=epochs, learning_rate=0.005, batch_size=16, random_state=0)).fit(
            X_train, y_train)
        defaults = RNNClassifier(random_state=0, **({} if cap is None else {"epochs": cap})
                                 ).fit(X_train, y_train)
    scores = {
        "majority class": baseline.score(summary_features(X_test), y_test),
        "logistic regression on summary statistics": logistic.score(
            summary_features(X_test), y_test),
        "RNNClassifier (bi-GRU, attention pooling)": rnn.score(X_test, y_test),
        "RNNClassifier() defaults": defaults.score(X_test, y_test),
    }
    for label, value in scores.items():
        print(f"  {label:<44} accuracy {value:.3f}")
    return scores


#: The defaults are LSTM-FCN (Karim et al. 2018) already; the recipe adds z-normalised
#: series and longer training, as the published runs did. The same as bench/bench_ucr.py.
RECIPE = dict(scaling="sequence", n_iter_no_change=50, epochs=400)


def gunpoint(max_epochs=None):
    """GunPoint: defaults and the LSTM-FCN recipe against the published 1.000."""
    from aeon.datasets import load_classification

    def split(name):
        X, y = load_classification("GunPoint", split=name)
        return [np.asarray(x, dtype=np.float32).T for x in X], np.asarray(y)

    (X_train, y_train), (X_test, y_test) = split("train"), split("test")
    print(f"GunPoint: {len(X_train)} train / {len(X_test)} test series of "
          f"{len(X_train[0])} steps (published FCN / LSTM-FCN: 1.000)")
    scores = {}
    for label, params in (("RNNClassifier() defaults", {}),
                          ("LSTM-FCN recipe", RECIPE)):
        params = dict(params)
        if max_epochs is not None:
            params["epochs"] = max_epochs
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            clf = RNNClassifier(random_state=0, **params).fit(X_train, y_train)
        scores[label] = clf.score(X_test, y_test)
        print(f"  {label:<44} accuracy {scores[label]:.3f} ({clf.n_iter_} epochs)")
    return scores


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, nargs=2, default=[40, 100],
                        help="epochs for JapaneseVowels and BasicMotions (40 sequences)")
    parser.add_argument("--units", type=int, default=32)
    parser.add_argument("--cap-epochs", type=int, default=None,
                        help="cap the fits at the defaults and the recipe's (default: "
                             "trained to convergence)")
    args = parser.parse_args(argv)
    scores = {name: evaluate(name, epochs, args.units, args.cap_epochs)
              for name, epochs in zip(("japanese_vowels", "basic_motions"), args.epochs)}
    scores["gunpoint"] = gunpoint(args.cap_epochs)
    return scores


if __name__ == "__main__":
    main()
