"""Small helpers shared by the test modules."""

import os
import pathlib
import socket

import numpy as np

# For test subprocesses: CPU only, quiet TensorFlow, skrnn importable from the checkout
# even when it is not installed.
SUBPROCESS_ENV = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="",
                      JAX_PLATFORMS="cpu",
                      PYTHONPATH=str(pathlib.Path(__file__).resolve().parents[1]))


def free_ports(n):
    """n TCP ports free on localhost right now (for local TensorFlow workers)."""
    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("localhost", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def ragged(n=40, f=2, lo=3, hi=12, seed=0):
    """n ragged ``(T_i, f)`` series (lo <= T_i < hi), labelled by the sign of their
    first feature's mean."""
    rng = np.random.RandomState(seed)
    X = [rng.randn(rng.randint(lo, hi), f) for _ in range(n)]
    y = np.array(["pos" if s[:, 0].mean() > 0 else "neg" for s in X])
    return X, y
