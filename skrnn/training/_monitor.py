"""The rules that watch the monitored loss: early stopping (with the best weights kept
and restored), scikit-learn's convergence stop, and the plateau decay of the learning
rate. One :class:`Monitor` owns them and their state (:class:`LoopState`, which is
what a backup saves), so a new stopping rule touches this file alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

#: On a plateau of ``n_iter_no_change // 2`` epochs the learning rate is multiplied by
#: this (Keras' ``ReduceLROnPlateau`` with ``factor=0.5``), down to ``MIN_LR_FRACTION``
#: of where it started.
PLATEAU_FACTOR = 0.5
MIN_LR_FRACTION = 1e-3


@dataclass
class LoopState:
    """What the loop carries from one epoch to the next."""

    lr: float | None  # the learning rate the loop set (None: a schedule's)
    min_lr: float | None  # the floor of the plateau decay
    best_loss: float = np.inf
    best_epoch: int | None = None
    waited: int = 0  # epochs since the monitored loss last improved
    since_decay: int = 0  # epochs since the learning rate was last lowered
    epochs_run: int = 0
    best_weights: list | None = field(default=None, repr=False)


class Monitor:
    """Watches the monitored loss of one fit, epoch after epoch.

    Parameters
    ----------
    step : Step
    loop : LoopSettings
    validates : bool
        Whether this fit has validation data: with ``early_stopping`` the validation
        loss is monitored (else the training loss).
    """

    def __init__(self, step, loop, validates: bool):
        self.step, self.loop = step, loop
        #: early stopping on the validation loss, the best epoch's weights restored
        self.on_validation = loop.early_stopping and validates
        lr = step.learning_rate()  # tracked here: reading it makes JAX sync its state
        self.plateau = loop.lr_schedule == "plateau" and lr is not None
        # Never below a thousandth of the rate the fit started from (warm starts
        # continue from a decayed rate, so this floor is relative to the optimizer's).
        self.state = LoopState(lr=lr, min_lr=lr * MIN_LR_FRACTION if self.plateau else None)
        self.decay_patience = max(1, loop.n_iter_no_change // 2)

    @property
    def what(self) -> str:
        return "validation loss" if self.on_validation else "training loss"

    def callback_set_rate(self) -> None:
        """A callback may have set the learning rate: follow it."""
        if self.state.lr is not None:
            self.state.lr = self.step.learning_rate()

    def epoch_rate(self) -> float:
        """The rate an epoch starts with (a schedule's moves with every update)."""
        state = self.state
        return self.step.current_learning_rate() if state.lr is None else state.lr

    def end_epoch(self, epoch: int, loss: float, val_loss: float) -> bool:
        """Record an epoch's losses; True when training should stop (the monitored
        loss did not improve by ``tol`` for ``n_iter_no_change`` epochs). Lowers the
        learning rate on a plateau."""
        loop = self.loop
        improved = self._improved(val_loss if self.on_validation else loss, epoch)
        if (not improved and (self.on_validation or loop.stop_on_plateau)
                and self.state.waited >= loop.n_iter_no_change):
            if loop.verbose:
                restoring = (f"; restoring epoch {self.state.best_epoch}"
                             if self.on_validation else "")
                print(f"Stopping: the {self.what} did not improve by tol={loop.tol:g} "
                      f"for {loop.n_iter_no_change} epochs{restoring}.", flush=True)
            return True
        if self.plateau and not improved:
            self._decay()
        return False

    def finish(self) -> None:
        """Early stopping: the best epoch's weights back into the model."""
        self.step.sync_to_model()
        if self.on_validation and self.state.best_weights is not None:
            self.step.model.set_weights(self.state.best_weights)

    def summary(self) -> dict:
        return {"epochs_run": self.state.epochs_run,
                "best_epoch": self.state.best_epoch if self.on_validation else None,
                "best_val_loss": (float(self.state.best_loss) if self.on_validation
                                  else np.inf)}

    def _improved(self, monitored: float, epoch: int) -> bool:
        """Track the best epoch of the monitored loss; True when this epoch improved
        it (keeping its weights when they are to be restored)."""
        state = self.state
        state.since_decay += 1
        if not monitored < state.best_loss - self.loop.tol:
            state.waited += 1
            return False
        state.best_loss, state.best_epoch, state.waited = float(monitored), epoch, 0
        if self.on_validation:
            self.step.sync_to_model()
            state.best_weights = self.step.model.get_weights()
        return True

    def _decay(self) -> None:
        """Lower the learning rate after ``decay_patience`` epochs without improvement."""
        state, patience = self.state, self.decay_patience
        if (state.waited >= patience and state.since_decay >= patience
                and state.lr > state.min_lr * (1 + 1e-6)):
            new_lr = max(state.lr * PLATEAU_FACTOR, state.min_lr)
            self.step.set_learning_rate(new_lr)
            state.since_decay = 0
            if self.loop.verbose:
                print(f"Learning rate {state.lr:.3g} -> {new_lr:.3g}: no improvement "
                      f"for {state.waited} epochs.", flush=True)
            state.lr = new_lr
