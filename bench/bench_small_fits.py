"""Small fits on TensorFlow or JAX: seconds per ``fit`` + ``predict`` of a new
estimator, the work of a grid search or a notebook cell, where compiling the step is most
of the time.

Sequences of several lengths: by default equal-length batches carry their all-true mask
(skrnn/training/_variants.py: TensorFlow then traces one graph per function, JAX compiles
only the ladder's masked shapes); ``UNMASKED_AFTER = -1`` restores the old behaviour (an
unmasked graph for them too; on JAX one per exact length). Both in this process,
alternated, so the ratio is what to read.

    python bench/bench_small_fits.py                     # 3 networks x 3 rounds
    KERAS_BACKEND=jax python bench/bench_small_fits.py
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from skrnn import RNNClassifier  # noqa: E402

if keras.backend.backend() == "jax":
    from skrnn.training._jax import JaxStep as CompiledStep
else:
    from skrnn.training._tensorflow import TensorFlowStep as CompiledStep

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
    one_fit(X, y)  # the backend's own start-up, outside the timings
    print(f"backend {keras.backend.backend()}, n={args.n}")
    default = CompiledStep.UNMASKED_AFTER
    times = {"default": [], "unmasked too": []}
    for _ in range(args.rounds):
        for mode, threshold in (("unmasked too", -1), ("default", default)):
            CompiledStep.UNMASKED_AFTER = threshold
            times[mode].append(sum(one_fit(X, y, **kw) for kw in NETWORKS.values()))
    CompiledStep.UNMASKED_AFTER = default
    for mode, values in times.items():
        print(f"{mode:12s}: {np.median(values) / len(NETWORKS):.2f} s per fit + predict "
              f"(median of {args.rounds} rounds of {len(NETWORKS)} networks, n={args.n})")
    ratio = np.median(times["unmasked too"]) / np.median(times["default"])
    print(f"ratio unmasked too / default: {ratio:.2f}x")


if __name__ == "__main__":
    main()
