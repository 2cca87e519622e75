"""The JAX and PyTorch steps against the TensorFlow step (issue 5).

The same cases (masked and equal-length batches, truncated BPTT with per-step and
one-per-sequence targets, tokens with a bidirectional layer and attention pooling, a
clipped update, both seq2seq target kinds) are trained here on TensorFlow and in a
subprocess on each other backend, from the same initial weights and batch order; the
final weights must agree to float32 accuracy (rtol 1e-4, atol 1e-5 after 2 epochs of
SGD). The subprocess then runs the estimator workflows on that backend.
"""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from backend_cases import flatten, train_cases

HERE = Path(__file__).parent


@pytest.fixture(scope="module")
def tensorflow_results():
    return train_cases()


@pytest.fixture(scope="module")
def other_backends(tensorflow_results, tmp_path_factory):
    """Both subprocesses at once (the suite otherwise uses one core of two)."""
    folder = tmp_path_factory.mktemp("backends")
    np.savez(folder / "initial.npz", **flatten(tensorflow_results, 0))
    running = {}
    for backend in ("jax", "torch"):
        env = dict(os.environ, KERAS_BACKEND=backend, JAX_PLATFORMS="cpu",
                   CUDA_VISIBLE_DEVICES="")
        running[backend] = subprocess.Popen(
            [sys.executable, str(HERE / "backend_cases.py"), str(folder / "initial.npz"),
             str(folder / f"{backend}.npz")], env=env, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True)
    done = {}
    for backend, proc in running.items():
        _, err = proc.communicate(timeout=600)
        done[backend] = (proc.returncode, err, folder / f"{backend}.npz")
    return done


def test_clipping_bounds_the_update(tensorflow_results):
    start, end, history = tensorflow_results["one_clipped_update"]
    update = np.sqrt(sum(np.sum((a - b) ** 2) for a, b in zip(start, end)))
    assert history["clipped_fraction"] == [1.0]
    assert update == pytest.approx(0.05, rel=1e-4)  # SGD, lr 1: the clipped gradient


@pytest.mark.parametrize("backend", ["jax", "torch"])
def test_backend_trains_like_tensorflow(backend, tensorflow_results, other_backends):
    returncode, stderr, path = other_backends[backend]
    assert returncode == 0, stderr[-4000:]
    final = np.load(path)
    for key, expected in flatten(tensorflow_results, 1).items():
        np.testing.assert_allclose(final[key], expected, rtol=1e-4, atol=1e-5,
                                   err_msg=f"{backend}: {key}")
