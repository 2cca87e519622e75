"""Streaming (issue 30): the latency of one update of 1,000 live series, one new step
each, after histories of 100, 1,000 and 10,000 steps — against re-predicting every
prefix (what re-warming tools do) and against Keras' own way, a ``stateful=True`` copy
of the same network fed one step at a time with ``predict_on_batch``.

Two networks: an LSTM(32) (``conv_filters=None``) and the default classifier (an
LSTM(32) beside LSTM-FCN's convolutional blocks, which have no stateful Keras form).
Every timing is the median of ``--repeats`` updates, all in one process, so the ratios
compare like with like on a shared machine.

    python bench/bench_streaming.py [--series 1000] [--histories 100 1000 10000]
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from functools import partial

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402


def _each(update, ids, steps):
    """``update(ids, next new steps)``: each timed call feeds other steps."""
    return update(ids, next(steps))


def median_time(fn, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def keras_stateful(est, n_series):
    """A ``stateful=True`` copy of an LSTM classifier (no convolution) for
    ``n_series`` series, with the fitted weights and a softmax head (it returns
    probabilities, as the stream does): Keras' way of stepping a network."""
    import keras

    spec = est._spec
    layers = [keras.Input(batch_shape=(n_series, 1, spec.n_features))]
    layers += [keras.layers.LSTM(units, stateful=True, return_sequences=True)
               for units in spec.units[:-1]]
    layers += [keras.layers.LSTM(spec.units[-1], stateful=True),
               keras.layers.Dense(spec.n_outputs, activation="softmax")]
    copy = keras.Sequential(layers)
    fitted = [layer for layer in est.model_.layers if layer.weights]
    for target, source in zip([layer for layer in copy.layers if layer.weights], fitted):
        target.set_weights(source.get_weights())
    mean, scale = est.scaling_mean_, est.scaling_scale_
    return lambda x: copy.predict_on_batch(((x - mean) / scale).astype(np.float32))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--series", type=int, default=1000)
    parser.add_argument("--histories", type=int, nargs="+", default=[100, 1000, 10000])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--rewarm-history", type=int, default=1000)
    args = parser.parse_args()

    import keras

    from skrnn import RNNClassifier

    rng = np.random.RandomState(0)
    X = rng.randn(256, 60, 3)
    y = (X[:, -10:, 0].sum(axis=1) > 0).astype(int)
    n = args.series
    ids = list(range(n))
    print(f"# {time.strftime('%Y-%m-%d')}, {platform.machine()}, {os.cpu_count()} CPUs, "
          f"Keras {keras.__version__} ({keras.backend.backend()}), {n} series")
    print("| network | history | stream update (ms) | vs history 100 | "
          "predict every prefix (ms) | Keras stateful (ms) |")
    print("|---|---|---|---|---|---|")
    for name, conv in (("LSTM(32)", None), ("default (LSTM-FCN)", "auto")):
        est = RNNClassifier(epochs=2, random_state=0, conv_filters=conv).fit(X, y)
        base = None
        for history in args.histories:
            stream = est.stream()
            past = rng.randn(n, history, 3).astype(np.float32)
            start = time.perf_counter()
            stream.update(ids, past, every_step=False)
            warm = time.perf_counter() - start
            new_steps = [rng.randn(n, 1, 3) for _ in range(args.repeats)]
            stream.update(ids, new_steps[0])  # compiles the one-step call
            rewarm = stateful = ""
            if conv is None and history == args.histories[0]:
                # paired with the stream's updates, alternating, on the same steps
                step = keras_stateful(est, n)
                step(new_steps[0])
                times = [[], []]
                for x in new_steps:
                    for which, fn in enumerate((partial(stream.update, ids, x),
                                                partial(step, x))):
                        start = time.perf_counter()
                        fn()
                        times[which].append(time.perf_counter() - start)
                latency, keras_ms = (float(np.median(t)) for t in times)
                stateful = f"{1e3 * keras_ms:.2f} ({keras_ms / latency:.2f}x)"
            else:
                latency = median_time(partial(_each, stream.update, ids, iter(new_steps)),
                                      args.repeats)
            base = base or latency
            if history == args.rewarm_history:
                prefixes = list(past)
                est.predict_proba(prefixes[:8])  # compiled shapes
                again = median_time(partial(est.predict_proba, prefixes), 3)
                rewarm = f"{1e3 * again:.0f} ({again / latency:.0f}x)"
            print(f"| {name} | {history} | {1e3 * latency:.2f} | {latency / base:.2f} | "
                  f"{rewarm} | {stateful} |   <!-- warm-up {warm:.1f} s -->", flush=True)


if __name__ == "__main__":
    main()
