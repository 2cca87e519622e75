"""Keras callbacks in skrnn's loop, at Keras' hook points and with Keras' ``logs``."""

from __future__ import annotations

import keras

from ._backup import check_backup


def check_callbacks(callbacks, owner: str) -> None:
    """Each of ``callbacks`` is a ``keras.callbacks.Callback`` that ``Hooks`` can run,
    or one ``BackupAndRestore`` skrnn's loop honours itself."""
    backups = 0
    for i, callback in enumerate(callbacks):
        if not isinstance(callback, keras.callbacks.Callback):
            raise TypeError(f"callbacks[{i}] is a {type(callback).__name__}, not a "
                            "keras.callbacks.Callback.")
        if isinstance(callback, keras.callbacks.BackupAndRestore):
            check_backup(callback, i)
            backups += 1
    if backups > 1:
        raise ValueError(f"{owner}: callbacks holds {backups} BackupAndRestore callbacks; "
                         "a fit is backed up to one backup_dir.")


class Hooks:
    """Calls ``callbacks`` the way ``Model.fit`` does: ``callback.model`` is the model
    being trained, with ``model.optimizer`` the step's optimizer (a rate a callback sets
    is the rate the next update uses); ``model.stop_training`` stops after the batch or
    epoch that set it. Epochs are numbered from 0 in the hooks, as in Keras. After
    training the callbacks are detached from the model, so the estimator that holds
    them clones and pickles."""

    def __init__(self, callbacks, step, epochs: int):
        self.step, self.model = step, step.model
        self.model.optimizer = step.optimizer  # skrnn's models are never compiled
        self.model.stop_training = False
        self.callbacks = keras.callbacks.CallbackList(
            callbacks, model=self.model, epochs=epochs, verbose=0)

    @property
    def stop(self) -> bool:
        return bool(self.model.stop_training)

    def _call(self, hook, *args):
        self.step.sync_to_model()  # callbacks read and set the model's variables
        getattr(self.callbacks, hook)(*args)

    def train_begin(self):
        self._call("on_train_begin", {})

    def epoch_begin(self, epoch: int):
        self._call("on_epoch_begin", epoch, {})

    def batch_begin(self, batch: int):
        self.callbacks.on_train_batch_begin(batch, {})

    def batch_end(self, batch: int, loss) -> bool:
        self._call("on_train_batch_end", batch, {"loss": float(loss)})
        return self.stop

    def epoch_end(self, epoch: int, logs: dict) -> bool:
        self._call("on_epoch_end", epoch, logs)
        return self.stop

    def train_end(self, logs: dict):
        self._call("on_train_end", logs)

    def detach(self):
        """Undo what ``__init__`` set on the model and the callbacks (always, even when
        training raised)."""
        self.model.__dict__.pop("optimizer", None)
        for callback in self.callbacks.callbacks:
            callback.set_model(None)
