"""The training history (``history_``): the one place its keys and meanings live.

The loop records one entry per epoch through :meth:`History.record`; the estimators'
docstrings and :func:`skrnn.plotting.plot_history` read the keys from here.
"""

from __future__ import annotations

import numpy as np

#: Per-epoch entries: key -> (meaning, legend label in :func:`~skrnn.plotting.plot_history`).
EPOCH_KEYS = {
    "epoch": ("the epoch's number (counting on over warm starts)", None),
    "loss": ("training loss, averaged over the epoch's updates", "training"),
    "val_loss": ("validation loss (NaN without validation data: early_stopping's split "
                 "or fit's X_val)", "validation"),
    "val_score": ("validation accuracy or R² (NaN without validation data)", "validation"),
    "learning_rate": ("the learning rate the epoch started with (a Keras schedule's "
                      "value at that update)", None),
    "time": ("seconds", None),
    "grad_norm_mean": ("mean over the epoch's updates of the global gradient norm before "
                       "clipping", "mean per epoch"),
    "grad_norm_max": ("its maximum", "max per epoch"),
    "clipped_fraction": ("share of the epoch's updates whose gradients were clipped",
                         "updates clipped"),
}
#: Events, not one per epoch: key -> meaning.
EVENT_KEYS = {
    "non_finite": "the ``{'epoch', 'update'}`` of a non-finite loss or gradient, which "
                  "stops training with a warning and keeps the weights of the last "
                  "finite update",
    "resumed": "the ``{'epoch'}`` after which a fit went on from the backup of a fit "
               "that was killed or failed (a ``keras.callbacks.BackupAndRestore`` among "
               "its callbacks)",
}


class History(dict):
    """A dict of lists (``history_["loss"]``, ...), with every key of ``EPOCH_KEYS``
    holding one value per epoch and ``EVENT_KEYS`` their events.

    ``History(old)`` takes over a history pickled by an older skrnn, a key it lacked
    filled with NaN for the epochs already run.
    """

    def __init__(self, recorded=None):
        recorded = dict(recorded or {})
        n = len(recorded.get("epoch", []))
        super().__init__({key: list(recorded.get(key, [np.nan] * n)) for key in EPOCH_KEYS})
        self.update({key: list(recorded.get(key, [])) for key in EVENT_KEYS})

    def __reduce__(self):  # pickles as its class with its contents
        return (History, (dict(self),))

    @property
    def n_epochs(self) -> int:
        return len(self["epoch"])

    def record(self, **values):
        """Append one epoch; every key of ``EPOCH_KEYS`` must be given."""
        if set(values) != set(EPOCH_KEYS):
            raise KeyError(f"History.record needs exactly {sorted(EPOCH_KEYS)}, got "
                           f"{sorted(values)}.")
        for key, value in values.items():
            self[key].append(value)

    def event(self, key: str, value):
        if key not in EVENT_KEYS:
            raise KeyError(f"Unknown history event {key!r}; known: {list(EVENT_KEYS)}.")
        self[key].append(value)


def describe() -> str:
    """The keys as documented in the estimators' ``history_`` attribute."""
    per_epoch = "; ".join(f"``{k}``: {meaning}" for k, (meaning, _) in EPOCH_KEYS.items())
    events = "; ".join(f"``{k}`` lists {meaning}" for k, meaning in EVENT_KEYS.items())
    return f"Per epoch: {per_epoch}. {events[0].upper()}{events[1:]}."
