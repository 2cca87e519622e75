"""Backends and distribution (issue 5), each checked against one-device TensorFlow.

The same training cases (masked and equal-length batches, truncated BPTT with per-step
and one-per-sequence targets, tokens with a bidirectional layer and attention pooling, a
clipped update, both seq2seq target kinds; see ``backend_cases.py``) run here on
TensorFlow and, from the same initial weights and batch order, in subprocesses: on
PyTorch, under ``MirroredStrategy`` over two logical CPU devices, and on JAX under
``DataParallel`` over four simulated CPU devices (the estimator workflows then run on
one JAX device and on PyTorch). Final weights must agree to float32
accuracy: rtol 1e-4, atol 1e-5 after two epochs of clipped SGD. A two-worker
``MultiWorkerMirroredStrategy`` on localhost fits an estimator with truncated BPTT and
early stopping; both workers must end with the weights of the one-device fit.

All subprocesses start together, while this process trains the TensorFlow cases (the
rest of the suite uses one of the two cores). XLA's slowest compiler passes are turned
off for the JAX processes: the tests check numbers, not speed.
"""

import json
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from backend_cases import (
    UNDER_STRATEGY,
    flatten,
    strategy_data,
    strategy_estimator,
    train_cases,
)
from helpers import SUBPROCESS_ENV, free_ports

pytestmark = pytest.mark.xdist_group("backends")  # one worker: module fixtures
HERE = Path(__file__).parent
TOL = dict(rtol=1e-4, atol=1e-5)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Every subprocess's (returncode, stderr, output path), and "tensorflow": this
    process's results, computed while they run."""
    folder = tmp_path_factory.mktemp("backends")
    base = SUBPROCESS_ENV
    fast_xla = "--xla_backend_optimization_level=0 --xla_llvm_disable_expensive_passes=true"
    ports = ",".join(str(p) for p in free_ports(2))
    commands = {
        "torch": ([], dict(KERAS_BACKEND="torch")),
        "mirrored": (["mirrored"], dict(KERAS_BACKEND="tensorflow")),
        "data_parallel": (["data_parallel"], dict(
            KERAS_BACKEND="jax",
            XLA_FLAGS=f"{fast_xla} --xla_force_host_platform_device_count=4")),
    }
    running = {}
    for name, (mode, env) in commands.items():
        running[name] = subprocess.Popen(
            [sys.executable, str(HERE / "backend_cases.py"), str(folder / f"{name}.npz"),
             *mode], env={**base, **env}, cwd=folder, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True)
    for index in (0, 1):
        running[f"worker{index}"] = subprocess.Popen(
            [sys.executable, str(HERE / "backend_cases.py"), "worker", str(index), ports,
             str(folder / f"worker{index}.npz")], env={**base, "KERAS_BACKEND": "tensorflow"},
            cwd=folder, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    results = {"tensorflow": train_cases()}
    for name, proc in running.items():
        try:
            _, err = proc.communicate(timeout=480)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, err = proc.communicate()
        results[name] = (proc.returncode, err, folder / f"{name}.npz")
    return results


@pytest.fixture(scope="module")
def tensorflow_results(runs):
    return runs["tensorflow"]


def _finished(runs, name):
    returncode, stderr, path = runs[name]
    assert returncode == 0, f"{name} failed:\n{stderr[-4000:]}"
    return np.load(path)


def test_clipping_bounds_the_update(tensorflow_results):
    start, end, history = tensorflow_results["one_clipped_update"]
    update = np.sqrt(sum(np.sum((a - b) ** 2) for a, b in zip(start, end)))
    assert history["clipped_fraction"] == [1.0]
    assert update == pytest.approx(0.05, rel=1e-4)  # SGD, lr 1: the clipped gradient


@pytest.mark.parametrize("backend", ["data_parallel", "torch"])
def test_backend_trains_like_tensorflow(backend, tensorflow_results, runs):
    """JAX (on four devices) and PyTorch: every case."""
    final = _finished(runs, backend)
    for key, expected in flatten(tensorflow_results, 1).items():
        np.testing.assert_allclose(final[key], expected, **TOL, err_msg=f"{backend}: {key}")


@pytest.mark.parametrize("name", ["mirrored", "data_parallel"])
def test_strategy_trains_like_one_device(name, tensorflow_results, runs):
    """Two replicas (TF) / four devices (JAX): the same weights as one device, so the
    loss was scaled by the global batch and clipping bounded the summed gradients
    (per-replica clipping, Keras' own, gives another update: see docs/design.md)."""
    final = _finished(runs, name)
    expected = flatten({k: tensorflow_results[k] for k in UNDER_STRATEGY}, 1)
    for key, value in expected.items():
        np.testing.assert_allclose(final[key], value, **TOL, err_msg=f"{name}: {key}")
    start = tensorflow_results["one_clipped_update"][0]
    n = len(start)
    end = [final[f"one_clipped_update/{i}"] for i in range(n)]
    update = np.sqrt(sum(np.sum((a - b) ** 2) for a, b in zip(start, end)))
    assert update <= 0.05 * (1 + 1e-4)


@pytest.fixture(scope="module")
def one_device_estimator():
    return strategy_estimator(None)


def test_estimator_under_mirrored_strategy_pickles_and_predicts_without_it(
        runs, one_device_estimator):
    _finished(runs, "mirrored")
    with open(str(runs["mirrored"][2]) + ".pkl", "rb") as f:
        clf = pickle.load(f)  # this process has one device and no strategy
    assert clf.strategy is None  # the instance was not pickled
    X, _ = strategy_data()
    np.testing.assert_allclose(clf.predict_proba(X), one_device_estimator.predict_proba(X),
                               **TOL)
    assert clf.n_iter_ == one_device_estimator.n_iter_


def test_multi_worker_strategy(runs, one_device_estimator):
    """Two worker processes (Keras' own fit is broken here, keras-team/keras#20585)."""
    chief, other = _finished(runs, "worker0"), _finished(runs, "worker1")
    for key in chief.files:
        np.testing.assert_array_equal(chief[key], other[key])
        np.testing.assert_allclose(chief[key], one_device_estimator.model_.get_weights()[
            int(key.split("_")[1])], **TOL)
    with open(str(runs["worker0"][2]) + ".pkl", "rb") as f:
        clf = pickle.load(f)
    assert clf.strategy == "multi_worker"
    X, _ = strategy_data()
    np.testing.assert_allclose(clf.predict_proba(X), one_device_estimator.predict_proba(X),
                               **TOL)


def test_data_parallel_estimator_loads_on_tensorflow(runs):
    _finished(runs, "data_parallel")
    with open(str(runs["data_parallel"][2]) + ".pkl", "rb") as f:
        clf = pickle.load(f)
    X, y = strategy_data()
    assert clf.predict(X).shape == y.shape and clf.n_iter_ >= 1


@pytest.mark.parametrize("backend", ["data_parallel", "torch"])
def test_fused_kernels_match_keras_loops(backend, runs):
    """The fused recurrent kernels (``skrnn.models._fused``; on JAX through
    ``lstm_ref``, the CPU twin of its cuDNN kernel, with the same weight layout) give
    Keras' outputs, final states and weight gradients to 1e-5 (``fused_cases.py``), and
    ran once per layer and direction; front-padded masks, which the kernels cannot
    take, give Keras' results through its own loop (torch: no kernel call at all)."""
    _finished(runs, backend)
    with open(str(runs[backend][2]) + ".fused.json") as f:
        results = json.load(f)
    kinds = {"torch": {"lstm", "gru", "rnn"}, "data_parallel": {"lstm"}}[backend]
    assert {case.split("/")[0] for case in results} == kinds
    for case, (difference, calls) in results.items():
        assert difference <= 1e-5, f"{backend}: {case}"
        layers = (2 if "/bi/" in case else 1) * (2 if "/stacked" in case else 1)
        expected = 0 if "front" in case and backend == "torch" else layers
        assert calls == expected, f"{backend}: {case}: {calls} kernel calls"
