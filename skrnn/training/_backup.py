"""Backups of a fit in progress, so that a fit killed hard resumes where it was.

A ``keras.callbacks.BackupAndRestore(backup_dir)`` among an estimator's ``callbacks``
turns them on; skrnn does the work itself (Keras' callback needs ``Model.fit``'s
training state). At the end of every epoch the whole state of the fit is written to one
file, ``backup_dir/skrnn-backup.npz``, atomically (a temporary file renamed over the
last one): the model's variables (weights, normalisation statistics, dropout seed
states), the optimizer's (moments, update count, learning rate), the random stream that
shuffles the batches, the history and what the loop tracks (best loss and weights,
epochs waited, learning-rate decay). A fit started again with the same settings and data
restores it and trains from the next epoch on, to the weights an uninterrupted fit
reaches. The file holds arrays and JSON only (read with ``allow_pickle=False``).

The backup is keyed by the fit's settings (every parameter but ``epochs``, ``verbose``,
``callbacks`` and ``strategy``), its data and the epoch it started from: a backup made
by another fit is refused with a ValueError, never loaded into this one. Under a
multi-worker strategy only the chief writes (every worker holds the same state) and
every worker reads, so ``backup_dir`` must be on a file system they share.

The other callbacks' own state (an ``EarlyStopping``'s wait, say) is not backed up,
as in Keras.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from dataclasses import asdict

import numpy as np

from ._monitor import LoopState

FILE = "skrnn-backup.npz"


def split_callbacks(callbacks) -> tuple:
    """``(the other callbacks, the BackupAndRestore or None)``."""
    import keras

    callbacks = list(callbacks or ())
    backups = [c for c in callbacks if isinstance(c, keras.callbacks.BackupAndRestore)]
    return [c for c in callbacks if c not in backups], (backups[0] if backups else None)


def check_backup(callback, index: int) -> None:
    """What skrnn honours of a ``BackupAndRestore``: epoch-end backups."""
    if callback.save_freq != "epoch":
        raise ValueError(
            f"callbacks[{index}]: BackupAndRestore(save_freq={callback.save_freq!r}) is "
            "not supported: skrnn backs a fit up at the end of every epoch "
            "(save_freq='epoch').")


def _digest(value, h) -> None:
    if isinstance(value, np.ndarray) and value.dtype == object:  # by content, not address
        _digest(value.tolist(), h)
    elif isinstance(value, np.ndarray):
        h.update(f"{value.dtype}{value.shape}".encode())
        h.update(np.ascontiguousarray(value).tobytes())
    elif isinstance(value, (list, tuple)):
        h.update(f"[{len(value)}".encode())
        for item in value:
            _digest(item, h)
    elif isinstance(value, dict):
        for key in sorted(value):
            h.update(str(key).encode())
            _digest(value[key], h)
    elif hasattr(value, "__dict__"):  # a training or validation set
        _digest(vars(value), h)
    else:
        h.update(repr(value).encode())


def fit_key(settings: str, first_epoch: int, *data) -> str:
    """What identifies a fit: its settings, the epoch it starts from and its data."""
    h = hashlib.sha256(f"{settings}|{first_epoch}".encode())
    for item in data:
        _digest(item, h)
    return h.hexdigest()


def is_chief(step) -> bool:
    """Whether this process writes the backups (one worker of a multi-worker strategy)."""
    strategy = getattr(step, "strategy", None)
    return strategy is None or bool(strategy.extended.should_checkpoint)


def _as_json(value):
    return value.item() if isinstance(value, np.generic) else str(value)


class Backup:
    """Writes and reads the backups of one fit (see the module's docstring).

    Parameters
    ----------
    callback : keras.callbacks.BackupAndRestore
        Its ``backup_dir``, ``double_checkpoint`` (the previous backup is kept beside
        the last, and read when the last cannot be) and ``delete_checkpoint`` (the
        directory is removed when the fit ends).
    key : str
        :func:`fit_key` of this fit.
    chief : bool
        This process writes (and deletes) the backups.
    """

    def __init__(self, callback, key: str, chief: bool = True):
        self.directory = os.fspath(callback.backup_dir)
        self.path = os.path.join(self.directory, FILE)
        self.previous = self.path + ".bkp"
        self.double = bool(callback.double_checkpoint)
        self.delete = bool(callback.delete_checkpoint)
        self.key, self.chief = key, chief

    def _read(self):
        errors = []
        for path in (self.path, self.previous) if self.double else (self.path,):
            if not os.path.exists(path):
                continue
            try:
                with np.load(path, allow_pickle=False) as f:
                    return path, dict(f)
            except Exception as exc:  # a damaged file: try the previous one
                errors.append(f"{path}: {exc}")
        if errors:
            raise ValueError("The backup of this fit cannot be read (" + "; ".join(errors)
                             + "). Delete the backup_dir to start afresh.")
        return None, None

    def restore(self, step, rng, history) -> LoopState | None:
        """Load the backup, if there is one, into the step, ``rng`` and ``history``;
        returns the loop's state then, else None."""
        path, arrays = self._read()
        if arrays is None:
            return None
        try:
            meta = json.loads(str(arrays.pop("meta")))
            key = meta["key"] if isinstance(meta, dict) else None
        except (KeyError, ValueError) as exc:
            raise self._damaged(path, f"its metadata cannot be read ({exc!r})") from exc
        if key != self.key:
            raise ValueError(
                f"The backup in {self.directory!r} ({path}) was made by a fit with other "
                "settings, data or starting epoch: BackupAndRestore's backup_dir belongs "
                "to one fit. Delete it, or give this fit a backup_dir of its own.")
        step.sync_to_model()
        try:  # everything checked before anything is assigned
            model, optimizer, best, loop, random = self._checked(step, meta, arrays)
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            raise self._damaged(path, f"{type(exc).__name__}: {exc}") from exc
        for variable, value in zip(step.model.variables, model):
            variable.assign(value)
        for variable, value in zip(step.optimizer.variables, optimizer):
            variable.assign(value)
        rng.set_state(random)
        history.clear()
        history.update(meta["history"])
        loop["best_weights"] = best
        return LoopState(**loop)

    def _damaged(self, path, why) -> ValueError:
        return ValueError(
            f"The backup in {self.directory!r} ({path}) matches this fit but is damaged: "
            f"{why}. Delete the backup_dir to start afresh.")

    @staticmethod
    def _checked(step, meta, arrays):
        """The backup's values, each checked against what it will be assigned to:
        ``(model values, optimizer values, best weights or None, loop state, random
        state)``; a KeyError / TypeError / ValueError says what does not fit."""
        from .._history import EPOCH_KEYS, History

        def take(name, variables):
            values = [np.asarray(arrays[f"{name}_{i}"]) for i in range(len(variables))]
            for i, (variable, value) in enumerate(zip(variables, values)):
                if (tuple(value.shape) != tuple(variable.shape)
                        or value.dtype.kind not in "biuf"):
                    raise ValueError(f"{name} variable {i} holds {value.dtype} "
                                     f"{value.shape}, the fit {tuple(variable.shape)}")
            return values

        if not isinstance(meta, dict):
            raise TypeError("metadata is not a JSON object")
        model = take("model", step.model.variables)
        if meta["n_optimizer"] != len(step.optimizer.variables):
            raise ValueError(f"{meta['n_optimizer']} optimizer variables, the fit's "
                             f"optimizer has {len(step.optimizer.variables)}")
        optimizer = take("optimizer", step.optimizer.variables)
        if meta["n_best"] not in (None, len(step.model.weights)):
            raise ValueError(f"{meta['n_best']} best weights, the model has "
                             f"{len(step.model.weights)}")
        best = None if meta["n_best"] is None else take("best", step.model.weights)
        loop = dict(meta["loop"])
        fields = {f for f in LoopState.__dataclass_fields__} - {"best_weights"}
        if set(loop) != fields:
            raise KeyError(f"loop state fields {sorted(loop)}")
        if not isinstance(meta["history"], dict):
            raise TypeError("history is not a JSON object")
        recorded = History(meta["history"])
        if {len(recorded[k]) for k in EPOCH_KEYS} != {recorded.n_epochs}:
            raise ValueError("history lists of different lengths")
        kind, *rest = meta["rng"]
        keys = np.asarray(arrays["rng"])
        random = (kind, keys, *rest)
        np.random.RandomState().set_state(random)  # a TypeError / ValueError if broken
        return model, optimizer, best, loop, random

    def save(self, step, rng, history, state: LoopState) -> None:
        """Write the state after an epoch (the chief only), replacing the last backup."""
        if not self.chief:
            return
        step.sync_to_model()
        arrays = {}
        for name, values in (("model", [v.numpy() for v in step.model.variables]),
                             ("optimizer", step.optimizer_values()),
                             ("best", state.best_weights or [])):
            arrays.update({f"{name}_{i}": np.asarray(v) for i, v in enumerate(values)})
        kind, keys, *rest = rng.get_state()
        arrays["rng"] = keys
        loop = asdict(state)
        best = loop.pop("best_weights")
        meta = {"key": self.key, "n_optimizer": len(step.optimizer.variables),
                "n_best": None if best is None else len(best), "rng": [kind, *rest],
                "history": dict(history), "loop": loop}
        arrays["meta"] = np.array(json.dumps(meta, default=_as_json))
        os.makedirs(self.directory, exist_ok=True)
        fd, tmp = tempfile.mkstemp(suffix=".npz", prefix=".skrnn-backup-",
                                   dir=self.directory)
        try:
            with os.fdopen(fd, "wb") as f:
                np.savez(f, **arrays)
                f.flush()
                os.fsync(f.fileno())
            if self.double and os.path.exists(self.path):
                os.replace(self.path, self.previous)
            os.replace(tmp, self.path)
        except BaseException:
            if os.path.exists(tmp):
                os.remove(tmp)
            raise

    def finish(self) -> None:
        """The fit ended: remove the backups (and the directory, when nothing else is
        in it) when ``delete_checkpoint`` says so."""
        if not (self.chief and self.delete):
            return
        for path in (self.path, self.previous):
            if os.path.exists(path):
                os.remove(path)
        with contextlib.suppress(OSError):
            os.rmdir(self.directory)
