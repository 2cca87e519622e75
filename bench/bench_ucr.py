"""Univariate UCR time-series classification against the published deep-learning results.

    python bench/bench_ucr.py                       # GunPoint, OSULeaf, ACSF1
    python bench/bench_ucr.py GunPoint --configs recipe
    python bench/bench_ucr.py ACSF1 --configs defaults --seeds 0,1,2,3,4   # mean of 5 runs
    python bench/bench_ucr.py ACSF1 --export .ucr    # the splits as .npz, for a machine
    KERAS_BACKEND=jax python bench/bench_ucr.py ACSF1 --npz .ucr --recipe '{"epochs": 2000}'

For each data set shipped with aeon (official train / test split), two configurations of
``RNNClassifier`` are trained and scored on the test split:

- ``defaults``: ``RNNClassifier(random_state=0)``, every other parameter at its default;
- ``recipe``: the LSTM-FCN recipe written with skrnn's own parameters (see ``RECIPE``).

``--seeds`` trains each configuration once per ``random_state`` and reports the mean (the
published figures are means of 5 runs) with each run's accuracy. ``--recipe`` overrides
parameters of the recipe (JSON). ``--export DIR`` writes the splits as ``.npz`` files and
``--npz DIR`` reads them instead of aeon: the GPU machine has neither aeon nor a network
(``bench/device_ucr.sh``).

Published accuracies: Ismail Fawaz et al. (2019), "Deep learning for time series
classification: a review", Data Mining and Knowledge Discovery 33(4), mean test accuracy
of 5 runs on the UCR 2018 archive (their repository's results-ucr-128.csv); LSTM-FCN on
GunPoint: Karim et al. (2018), IEEE Access 6.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

#: Published test accuracies of deep models (see the module docstring).
PUBLISHED = {
    "GunPoint": {"FCN": 1.000, "ResNet": 0.991, "LSTM-FCN": 1.000},
    "OSULeaf": {"FCN": 0.979, "ResNet": 0.980},
    "ACSF1": {"FCN": 0.898, "ResNet": 0.916},
}

#: The defaults are LSTM-FCN already (a 128-256-128 convolutional branch beside the LSTM,
#: batch norm, ReLU, global average pooling; Adam 1e-3 halved on plateaus). The recipe
#: adds what the published runs did besides: z-normalised series (Fawaz et al.
#: normalise every series) and longer training (more patience, a larger budget).
RECIPE = dict(scaling="sequence", n_iter_no_change=50, epochs=400)


def load(name: str, split: str, npz: str | None = None):
    """``(X, y)``: X a list of ``(T, channels)`` float32 arrays (from aeon, or from the
    ``.npz`` files :func:`export` wrote to the folder ``npz``)."""
    if npz is not None:
        with np.load(os.path.join(npz, f"{name}_{split}.npz")) as data:
            return list(data["X"]), data["y"]
    from aeon.datasets import load_classification

    X, y = load_classification(name, split=split)
    return [np.asarray(x, dtype=np.float32).T for x in X], np.asarray(y)


def export(name: str, folder: str) -> None:
    """Both splits of ``name`` as ``.npz`` files in ``folder`` (equal lengths only)."""
    os.makedirs(folder, exist_ok=True)
    for split in ("train", "test"):
        X, y = load(name, split)
        np.savez(os.path.join(folder, f"{name}_{split}.npz"), X=np.stack(X),
                 y=np.asarray(y).astype(str))


def run(name: str, config: str, seed: int = 0, npz: str | None = None,
        recipe: dict = RECIPE):
    from skrnn import RNNClassifier

    X_train, y_train = load(name, "train", npz)
    X_test, y_test = load(name, "test", npz)
    params = {} if config == "defaults" else dict(recipe)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf = RNNClassifier(random_state=seed, **params).fit(X_train, y_train)
    fit_time = time.perf_counter() - start
    return {"accuracy": clf.score(X_test, y_test), "epochs": clf.n_iter_,
            "seconds": fit_time}


def _cell(runs):
    """One table cell: the accuracy (the mean and each run's when several), epochs, time."""
    acc = [r["accuracy"] for r in runs]
    epochs = "/".join(str(r["epochs"]) for r in runs)
    seconds = sum(r["seconds"] for r in runs) / len(runs)
    if len(runs) == 1:
        return f"{acc[0]:.3f} ({epochs} epochs, {seconds:.0f} s)"
    each = ", ".join(f"{a:.3f}" for a in acc)
    return (f"{np.mean(acc):.3f} ± {np.std(acc):.3f} (runs: {each}; {epochs} epochs, "
            f"{seconds:.0f} s each on average)")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("datasets", nargs="*", default=list(PUBLISHED))
    parser.add_argument("--configs", default="recipe,defaults")
    parser.add_argument("--seeds", default="0", help="comma-separated random_state values")
    parser.add_argument("--recipe", type=json.loads, default={},
                        help="JSON of parameters that override the recipe's")
    parser.add_argument("--npz", help="read the splits from this folder's .npz files")
    parser.add_argument("--export", metavar="DIR", help="write the splits there and stop")
    args = parser.parse_args(argv)
    if args.export:
        for name in args.datasets:
            export(name, args.export)
        return
    import importlib

    import keras
    from bench_gpu import device_name

    backend = keras.backend.backend()
    print(f"{time.strftime('%Y-%m-%d')}, {platform.machine()}, {os.cpu_count()} CPUs, "
          f"device {device_name()}, Python {platform.python_version()}, Keras "
          f"{keras.__version__}, backend {backend} "
          f"{importlib.import_module(backend).__version__}")
    recipe = {**RECIPE, **args.recipe}
    print(f"recipe: {recipe}")
    print("| data set | published (best deep) | skrnn recipe | skrnn defaults |")
    for name in args.datasets:
        best = max(PUBLISHED[name].items(), key=lambda kv: kv[1])
        cells = []
        for config in ("recipe", "defaults"):
            if config not in args.configs.split(","):
                cells.append("—")
                continue
            runs = []
            for seed in (int(s) for s in args.seeds.split(",")):
                runs.append(run(name, config, seed, args.npz, recipe))
                r = runs[-1]
                print(f"  {name} {config} seed {seed}: {r['accuracy']:.3f} "
                      f"({r['epochs']} epochs, {r['seconds']:.0f} s)", flush=True)
            cells.append(_cell(runs))
        print(f"| {name} | {best[1]:.3f} ({best[0]}) | {cells[0]} | {cells[1]} |", flush=True)


if __name__ == "__main__":
    main()
