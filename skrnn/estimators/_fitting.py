"""The one fit skeleton of the three estimators.

:meth:`FitSkeleton._fit` owns the order every ``fit``, ``partial_fit`` and warm start
goes through, inside one transaction (:func:`~skrnn.estimators._transaction.fit_transaction`)::

    parameters -> data through the gate -> validation set -> build (or check the
    spec of the network kept) -> step -> loop -> what the fit ran

Each estimator supplies only what differs, as hooks:

- ``_fit_data(X, y, sample_weight, reset, classes)`` reads the data through the input
  gate and returns a :class:`FitData` (on ``reset`` it learns vocabularies, scalings,
  classes; what must wait for the new network goes in ``FitData.commit``);
- ``_network_spec(data, units, seed)``: the network these parameters and data define;
- ``_validation_set(validation_data, data)``: ``fit``'s fixed validation data;
- ``_training_params()`` / ``_make_step()``: the training step and what it depends on;
- ``_loop_settings(train, validation, epochs, to_convergence)``: the loop's
  :class:`~skrnn.training.LoopSettings` and validation score;
- ``_after_training(data, train, summary, batch_size)`` (optional).

``_seed_before_split``: where the network's seed is drawn from the random stream,
before or after the validation split. The two orders are kept as the estimators drew
them before they shared this skeleton, so that fits stay bit-identical.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import data as sd
from ._steps import check_same_spec, fit_settings, forget_step
from ._transaction import fit_transaction

#: ``n_iter_no_change="auto"``: this many epochs, and at least this many updates.
AUTO_PATIENCE_EPOCHS, AUTO_PATIENCE_UPDATES = 10, 200


def resolve_patience(value, n_train: int, batch_size: int) -> int:
    """``n_iter_no_change`` as an int for ``n_train`` sequences in batches of
    ``batch_size``."""
    if isinstance(value, str):
        batches = max(1, -(-n_train // batch_size))
        return max(AUTO_PATIENCE_EPOCHS, -(-AUTO_PATIENCE_UPDATES // batches))
    return int(value)


def resolve_batch_size(value, n_train: int | None = None) -> int:
    """``batch_size`` as an int: ``"auto"`` is ``n_train // 10`` within [8, 32] (32
    where no training set size applies, e.g. predict)."""
    if isinstance(value, str):
        return 32 if n_train is None else int(min(32, max(8, n_train // 10)))
    return int(value)


def fresh_rng(random_state) -> np.random.RandomState:
    """A new random stream seeded from ``random_state`` (int, RandomState or None)."""
    if isinstance(random_state, np.random.RandomState):
        seed = random_state.randint(0, 2**31 - 1)
    elif random_state is None:
        seed = np.random.randint(0, 2**31 - 1)
    else:
        seed = int(random_state)
    return np.random.RandomState(seed)


@dataclass
class FitData:
    """What an estimator's ``_fit_data`` hook read: the training set and what the
    skeleton needs to go on."""

    full: Any  #: every training sequence (SupervisedSet or Seq2SeqSet)
    stratify: Any = None  #: labels the validation fraction is drawn by, if any
    #: run with the new network once it is built (a fresh fit only): records what
    #: the fit learned that describes that network (the input scaling)
    commit: Callable | None = None
    context: dict = field(default_factory=dict)  #: anything else the hooks share


class FitSkeleton:
    """The fit skeleton (see the module's docstring)."""

    _seed_before_split = False

    def _fit(self, X, y, sample_weight, *, reset: bool, epochs: int, classes=None,
             to_convergence: bool = False, validation_data=(None, None, None)):
        """Validate, build and train, as one transaction (a fit that raises changes
        nothing). ``to_convergence`` (``fit``, not ``partial_fit``): stop on a plateau of
        the monitored loss and warn when ``epochs`` run out first."""
        with fit_transaction(self, warm=not reset):
            units = self._check_params()
            data = self._fit_data(X, y, sample_weight, reset=reset, classes=classes)
            rng = self._rng(reset)
            from .. import models, training  # Keras is imported here, not at import time

            data.context["held_out"] = self._hold_out(data, rng, to_convergence)

            seed = (models.draw_model_seed(rng) if reset and self._seed_before_split
                    else None)
            train, validation = data.full, None
            if any(v is not None for v in validation_data):
                validation = self._validation_set(validation_data, data)
            elif self.early_stopping:
                train, validation = sd.split_validation(
                    data.full, self.validation_fraction, rng, data.stratify)
            if reset:
                self._strategy = training.resolve_strategy(self.strategy, self.random_state)
                if seed is None:
                    seed = models.draw_model_seed(rng)
                self._spec = self._network_spec(data, units, seed)
                self._rebuild_network()
                if data.commit is not None:
                    data.commit()
                self.history_ = training.new_history()
                self.n_iter_ = 0
                self.best_epoch_ = None
                forget_step(self)
            else:  # every model-defining parameter must be as the network was built
                check_same_spec(self._spec, self._network_spec(data, units,
                                                               self._spec.seed))
            if (getattr(self, "_step", None) is None
                    or getattr(self, "_step_params", None) != self._training_params()):
                # A changed optimizer, learning rate or clipping takes effect (and starts
                # the optimizer afresh); otherwise its state carries over.
                self._step = self._make_step()
            loop, val_score = self._loop_settings(train, validation, epochs, to_convergence)
            summary = training.run_epochs(self._step, train, loop, rng=rng,
                                          history=self.history_, validation=validation,
                                          val_score=val_score)
            self._after_training(data, train, summary, loop.batch_size)
            self.n_iter_ += summary["epochs_run"]
            self.best_epoch_ = summary["best_epoch"]
            return self

    def _rng(self, reset: bool) -> np.random.RandomState:
        """Random stream for init, shuffling and splits.

        A fresh fit restarts it from ``random_state``; warm starts and ``partial_fit``
        continue the stream so successive calls see different shuffles.
        """
        if reset or getattr(self, "_random", None) is None:
            self._random = fresh_rng(self.random_state)
        return self._random

    def _loop(self, train, epochs: int, to_convergence: bool, **extra):
        """The :class:`~skrnn.training.LoopSettings` every estimator's parameters give
        (``extra``: what only some estimators have, e.g. ``truncate_steps``)."""
        from ..training import LoopSettings

        batch_size = resolve_batch_size(self.batch_size, len(train))
        return LoopSettings(
            epochs=int(epochs), batch_size=batch_size, early_stopping=self.early_stopping,
            n_iter_no_change=resolve_patience(self.n_iter_no_change, len(train), batch_size),
            tol=float(self.tol), lr_schedule=self.lr_schedule,
            stop_on_plateau=to_convergence, warn_convergence=to_convergence,
            verbose=int(self.verbose), callbacks=self.callbacks,
            fit_key=fit_settings(self), **extra)

    def _hold_out(self, data, rng, to_convergence: bool):
        """Sequences kept out of training for a step after it (``data.full`` then
        loses them; the regressor's interval calibration), or None (the default)."""
        return None

    def _after_training(self, data, train, summary, batch_size) -> None:
        """After the loop, before the fit's counts are recorded (nothing by default)."""
