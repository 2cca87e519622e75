"""Resident memory over many fits in one process: what a GridSearchCV of hundreds of
candidates, or a notebook refitting all afternoon, goes through.

For each estimator the same small configuration is fitted ``--fits`` times in one
process (a fresh estimator each time, the previous one dropped, as a search's clones
are); the resident set size is read after every fit. Reported: the growth per fit,
the slope of a least-squares line through the second half of the fits (the first
fits pay for one-off tracing and caches), and the total. Plain Keras (``Sequential``
with the same LSTM, ``compile`` + ``fit``, the model dropped after each) is the
reference. Each case runs in its own subprocess so that one case's caches do not
count against another's.

    python bench/bench_memory.py                  # 100 fits per case
    python bench/bench_memory.py --fits 20        # a smoke run
"""

from __future__ import annotations

import argparse
import datetime
import gc
import json
import os
import platform
import subprocess
import sys
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

CASES = ("RNNClassifier", "RNNRegressor", "Seq2SeqTransformer", "keras_fit")


def rss_mb() -> float:
    """Resident set size of this process (Linux ``/proc``)."""
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def make_fit(case: str):
    import numpy as np

    rng = np.random.RandomState(0)
    X = [rng.randn(rng.randint(5, 20), 3).astype(np.float32) for _ in range(64)]
    y = np.array([x[:, 0].mean() > 0 for x in X])
    small = dict(units=8, epochs=2, random_state=0)
    if case in ("RNNClassifier", "RNNRegressor"):
        import skrnn

        Est = getattr(skrnn, case)
        target = y if case == "RNNClassifier" else y.astype(float)
        return lambda: Est(**small).fit(X, target)
    if case == "Seq2SeqTransformer":
        from skrnn import Seq2SeqTransformer
        from skrnn.datasets import make_reversal

        src, tgt = make_reversal(64, 3, 6, alphabet="abcde", random_state=0)
        return lambda: Seq2SeqTransformer(**small).fit(src, tgt)
    import keras

    padded = np.zeros((64, 20, 3), np.float32)
    for i, x in enumerate(X):
        padded[i, :len(x)] = x

    def keras_fit():
        model = keras.Sequential([keras.Input((20, 3)), keras.layers.Masking(),
                                  keras.layers.LSTM(8), keras.layers.Dense(2)])
        model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        model.fit(padded, y.astype("int32"), epochs=2, batch_size=32, verbose=0)
        return model
    return keras_fit


def measure(case: str, fits: int) -> dict:
    warnings.simplefilter("ignore")
    fit = make_fit(case)
    after = []
    for _ in range(fits):
        model = fit()
        del model
        gc.collect()
        after.append(rss_mb())
    import numpy as np

    half = np.arange(fits // 2, fits)
    slope = float(np.polyfit(half, np.asarray(after)[half], 1)[0])
    return {"case": case, "fits": fits, "first_mb": after[0], "last_mb": after[-1],
            "per_fit_mb": slope}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fits", type=int, default=100)
    parser.add_argument("--case", help=argparse.SUPPRESS)  # one case, in a subprocess
    parser.add_argument("cases", nargs="*", default=list(CASES))
    args = parser.parse_args(argv)
    if args.case:
        print(json.dumps(measure(args.case, args.fits)))
        return
    import keras

    print(f"{datetime.date.today()}, {platform.machine()}, {os.cpu_count()} CPUs, Python "
          f"{platform.python_version()}, Keras {keras.__version__}, backend "
          f"{keras.backend.backend()}; {args.fits} fits per case")
    print("| case | RSS after fit 1 (MB) | after the last (MB) | growth per fit (MB) |")
    print("| --- | ---: | ---: | ---: |")
    for case in args.cases:
        out = subprocess.run([sys.executable, __file__, "--case", case, "--fits",
                              str(args.fits)], capture_output=True, text=True, check=True)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"| {case} | {r['first_mb']:.0f} | {r['last_mb']:.0f} | "
              f"{r['per_fit_mb']:.2f} |", flush=True)


if __name__ == "__main__":
    main()
