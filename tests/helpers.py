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


def backup_round_trip(make, X, y, backup_dir, at=3):
    """``make(callbacks=...)`` fitted on ``X, y`` with a ``BackupAndRestore(backup_dir)``
    and a callback that raises at the start of epoch ``at + 1`` (0-based ``at``), then
    fitted again with the backup alone: returns the estimator that resumed. The first
    fit must raise and leave its estimator unfitted, and its backup behind."""
    import keras

    class Fail(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            if epoch == at:
                raise RuntimeError("killed")

    first = make(callbacks=[keras.callbacks.BackupAndRestore(backup_dir), Fail()])
    try:
        first.fit(X, y)
    except RuntimeError as exc:
        assert str(exc) == "killed"
    else:
        raise AssertionError("the first fit did not fail")
    assert not hasattr(first, "model_")
    assert os.path.exists(os.path.join(backup_dir, "skrnn-backup.npz"))
    resumed = make(callbacks=[keras.callbacks.BackupAndRestore(backup_dir)]).fit(X, y)
    assert resumed.history_["resumed"] == [{"epoch": at}], resumed.history_["resumed"]
    assert not os.path.exists(backup_dir)  # delete_checkpoint=True
    return resumed


def assert_same_fit(a, b):
    """Two fitted estimators hold the same weights and the same history (but times)."""
    for x, y in zip(a.model_.get_weights(), b.model_.get_weights(), strict=True):
        np.testing.assert_array_equal(x, y)
    for key in ("epoch", "loss", "val_loss", "val_score", "learning_rate"):
        np.testing.assert_array_equal(a.history_[key], b.history_[key], err_msg=key)
    assert a.n_iter_ == b.n_iter_ and a.best_epoch_ == b.best_epoch_
