"""skrnn's training loop: epochs of length-bucketed batches, written once.

Backend-specific work happens in a :class:`~skrnn.training.Step`; this module only
forms batches, calls the step, keeps the history, prints progress, stops early and
backs the fit up (:mod:`skrnn.training._backup`).
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable

import numpy as np

from .._history import History
from ..data import SupervisedSet, bucket_batches
from ._outputs import predict_outputs, progress_bar
from ._prefetch import prefetch


def new_history() -> History:
    return History()


#: On a plateau of ``n_iter_no_change // 2`` epochs the learning rate is multiplied by
#: this (Keras' ``ReduceLROnPlateau`` with ``factor=0.5``), down to ``MIN_LR_FRACTION``
#: of where it started.
PLATEAU_FACTOR = 0.5
MIN_LR_FRACTION = 1e-3


def _train_epoch(step, train: SupervisedSet, batch_size: int, rng,
                 truncate_steps: int | None = None, progress=None, hooks=None) -> tuple:
    """One pass over ``train``.

    Returns per-update arrays: ``loss``, ``norm``, ``clipped``, ``finite`` and
    ``count`` (real targets), in update order. ``progress`` (a callable, optional) is
    called after each batch with the number of batches done and the batch's last loss
    (which makes the host wait for the device: only for a live progress bar).
    ``hooks`` (:class:`~skrnn.training._callbacks.Hooks`, optional) calls the Keras
    callbacks around every batch; one that sets ``model.stop_training`` ends the epoch.
    """
    losses, counts, norms, clipped, finite = [], [], [], [], []

    def record(loss, norm, was_clipped, ok, count):
        losses.append(loss)
        norms.append(norm)
        clipped.append(was_clipped)
        finite.append(ok)
        counts.append(count)

    batches = bucket_batches(train.lengths, batch_size, rng)
    if progress is not None:
        progress.target = len(batches)
    def show(done):
        real = np.array(counts[:len(losses)], dtype=float)
        mean = np.average([float(v) for v in losses], weights=real if real.sum() else None)
        progress.update(done, values=[("loss", mean)])

    def staged(idx):  # in the prefetching thread: gather, pad, copy to the device
        count = int(train.lengths[idx].sum()) if train.per_step else len(idx)
        return step.stage_rows(train, idx), count

    ahead = None
    if truncate_steps is None:
        ahead = prefetch(staged, batches) if step.prefetch else map(staged, batches)
    try:
        for b, idx in enumerate(batches):
            if progress is not None and losses:
                show(b)
            if hooks is not None:
                if b and hooks.batch_end(b - 1, losses[-1]):
                    break
                hooks.batch_begin(b)
            if ahead is None:
                _truncated_batch(step, train, idx, truncate_steps, record)
            else:
                batch, count = next(ahead)
                record(*step.train_staged(batch), count)
        else:
            if hooks is not None and losses:
                hooks.batch_end(len(batches) - 1, losses[-1])
    finally:
        if hasattr(ahead, "close"):
            ahead.close()  # stopped early (a callback, an error): the thread ends
    if progress is not None and losses:
        show(len(batches) - 1)
    # Converted once per epoch, so the device never waits after a batch.
    return {"loss": np.array([float(v) for v in losses]),
            "norm": np.array([float(v) for v in norms]),
            "clipped": np.array([float(v) for v in clipped]),
            "finite": np.array([bool(v) for v in finite]),
            "count": np.array(counts, dtype=float)}


def _truncated_batch(step, train, idx, k: int, record) -> None:
    """Truncated BPTT over one batch (the lecture's loop): forward ``k`` steps, loss,
    backpropagate, update, carry the state on. One target per sequence: the batch is
    aligned on its end, earlier chunks only carry the state and the loss backpropagates
    through each sequence's last ``k`` steps."""
    align = "start" if train.per_step else "end"
    x, mask, y, w = train.batch(idx, align=align, multiple=k)
    states = step.initial_states(len(idx))
    n_chunks = x.shape[1] // k
    for c in range(n_chunks):
        sl = slice(c * k, (c + 1) * k)
        if train.per_step:
            count = int(mask[:, sl].sum())
            loss, norm, was_clipped, ok, states = step.train_chunk(
                x[:, sl], mask[:, sl], y[:, sl], w[:, sl], states)
            record(loss, norm, was_clipped, ok, count)
        elif c < n_chunks - 1:
            states = step.advance(x[:, sl], mask[:, sl], states)
        else:
            loss, norm, was_clipped, ok, _ = step.train_chunk(
                x[:, sl], mask[:, sl], y, w, states)
            record(loss, norm, was_clipped, ok, len(idx))


def _validate(step, validation: SupervisedSet, batch_size: int, val_score) -> tuple:
    """Validation loss (per real target) and score."""
    step.sync_to_model()
    total, count = 0.0, 0
    for idx in bucket_batches(validation.lengths, batch_size):
        x, mask, y, w = validation.batch(idx)
        n = int(mask.sum()) if validation.per_step else len(idx)
        total += step.evaluate(x, mask, y, w) * n
        count += n
    score = np.nan
    if val_score is not None:
        outputs = predict_outputs(step, validation.x, validation.lengths, batch_size,
                                  validation.per_step)
        score = float(val_score(outputs))
    return total / max(count, 1), score


def run_epochs(step, train: SupervisedSet, *, epochs: int, batch_size: int,
               rng: np.random.RandomState, history: History,
               validation: SupervisedSet | None = None,
               val_score: Callable | None = None, score_name: str = "score",
               early_stopping: bool = False, n_iter_no_change: int = 10,
               tol: float = 1e-4, verbose: int = 0,
               truncate_steps: int | None = None, lr_schedule: str = "constant",
               stop_on_plateau: bool = False, warn_convergence: bool = False,
               callbacks: list | None = None, settings: str = "") -> dict:
    """Train for up to ``epochs`` epochs; returns a summary of how it ended.

    Parameters
    ----------
    step : Step
    train, validation : SupervisedSet
    rng : RandomState
        Drives the per-epoch shuffling of the length buckets.
    history : skrnn.History
        Appended to (so ``warm_start`` / ``partial_fit`` continue it).
    val_score : callable, optional
        ``val_score(outputs) -> float`` on the validation outputs (higher is better).
    early_stopping : bool
        Monitor the validation loss (else the training loss), stop when it has not
        improved by ``tol`` for ``n_iter_no_change`` epochs, and restore the weights of
        the best epoch.
    truncate_steps : int, optional
        Truncated BPTT with chunks of this many steps (full BPTT when None).
    lr_schedule : {"plateau", "constant"}
        ``"plateau"``: when the monitored loss has not improved by ``tol`` for
        ``max(1, n_iter_no_change // 2)`` epochs, multiply the learning rate by
        ``PLATEAU_FACTOR`` (at most once per such wait, never below
        ``MIN_LR_FRACTION`` of the starting rate).
    stop_on_plateau : bool
        Without ``early_stopping``: stop when the training loss has not improved by
        ``tol`` for ``n_iter_no_change`` epochs (scikit-learn's ``MLPClassifier``
        convergence rule). The last weights are kept.
    warn_convergence : bool
        Issue a ``ConvergenceWarning`` when ``epochs`` ran out while the monitored
        loss was still improving.
    callbacks : list of keras.callbacks.Callback, optional
        Called at Keras' hook points (see :class:`~skrnn.training._callbacks.Hooks`);
        a ``BackupAndRestore`` among them backs the fit up after every epoch and resumes
        it from its backup (see :mod:`skrnn.training._backup`).
    settings : str
        The estimator's settings, which (with the data) identify a fit's backups.

    Returns
    -------
    dict
        ``epochs_run``, ``best_epoch``, ``best_val_loss``, ``stopped_early``
        (stopped because the monitored loss stopped improving), ``interrupted``,
        ``non_finite`` (``{"epoch", "update"}`` of the first non-finite update, which
        stopped training, or None).

    Notes
    -----
    Ctrl-C (``KeyboardInterrupt``) ends training after a warning; the model keeps the
    weights reached so far (or the best ones with early stopping), so an interactive
    user loses nothing.
    """
    from ._backup import Backup, fit_key, is_chief, split_callbacks
    from ._callbacks import Hooks

    callbacks, backup = split_callbacks(callbacks)
    if backup is not None:
        backup = Backup(backup, fit_key(settings, history.n_epochs, train, validation),
                        is_chief(step))
    hooks = Hooks(callbacks, step, epochs) if callbacks else None
    try:
        # the training set on the device for the fit, where it fits (truncated BPTT
        # pads its own chunks on the host)
        with step.hold(train, resident=truncate_steps is None):
            return _run(step, train, epochs, batch_size, rng, history, validation,
                        val_score, score_name, early_stopping, n_iter_no_change, tol,
                        verbose, truncate_steps, lr_schedule, stop_on_plateau,
                        warn_convergence, hooks, backup)
    finally:
        if hooks is not None:
            hooks.detach()


def _improved(state, monitored: float, epoch: int, step, tol: float,
              keep_best: bool) -> bool:
    """Track the best epoch of the monitored loss; True when this epoch improved it."""
    state.since_decay += 1
    if not monitored < state.best_loss - tol:
        state.waited += 1
        return False
    state.best_loss, state.best_epoch, state.waited = float(monitored), epoch, 0
    if keep_best:
        step.sync_to_model()
        state.best_weights = step.model.get_weights()
    return True


def _decay(state, step, decay_patience: int, verbose: int) -> None:
    """Lower the learning rate after ``decay_patience`` epochs without improvement."""
    if (state.waited >= decay_patience and state.since_decay >= decay_patience
            and state.lr > state.min_lr * (1 + 1e-6)):
        new_lr = max(state.lr * PLATEAU_FACTOR, state.min_lr)
        step.set_learning_rate(new_lr)
        state.since_decay = 0
        if verbose:
            print(f"Learning rate {state.lr:.3g} -> {new_lr:.3g}: no improvement for "
                  f"{state.waited} epochs.", flush=True)
        state.lr = new_lr


def _run(step, train, epochs, batch_size, rng, history, validation, val_score, score_name,
         early_stopping, n_iter_no_change, tol, verbose, truncate_steps, lr_schedule,
         stop_on_plateau, warn_convergence, hooks, backup) -> dict:
    from ._backup import LoopState

    step.resume()
    monitor_validation = early_stopping and validation is not None and len(validation) > 0
    lr = step.learning_rate()  # tracked here: reading it makes JAX sync its state
    plateau = lr_schedule == "plateau" and lr is not None
    # Never below a thousandth of the rate the fit started from (warm starts continue
    # from a decayed rate, so this floor is relative to the optimizer's own rate).
    state = LoopState(lr=lr, min_lr=lr * MIN_LR_FRACTION if plateau else None)
    decay_patience = max(1, n_iter_no_change // 2)
    first_epoch = history.n_epochs + 1
    last_epoch = first_epoch + epochs - 1
    restored = backup.restore(step, rng, history) if backup is not None else None
    if restored is not None:
        state = restored
        history.event("resumed", {"epoch": history.n_epochs})
        if verbose:
            print(f"Resuming after epoch {history.n_epochs} from the backup in "
                  f"{backup.directory}.", flush=True)
    stopped, interrupted, non_finite = False, False, None
    logs = {}
    if hooks is not None:
        hooks.train_begin()
    for epoch in range(history.n_epochs + 1, last_epoch + 1):
        start = time.perf_counter()
        if hooks is not None:
            hooks.epoch_begin(epoch - first_epoch)  # from 0 in every fit, as in Keras
            if state.lr is not None:  # a callback may set it
                state.lr = step.learning_rate()
        # the rate this epoch starts with (a schedule's moves with every update)
        epoch_lr = step.current_learning_rate() if state.lr is None else state.lr
        bar = None
        if verbose == 1:
            print(f"Epoch {epoch}/{last_epoch}", flush=True)
            bar = progress_bar(1, verbose)
        try:
            updates = _train_epoch(step, train, batch_size, rng, truncate_steps, bar, hooks)
        except KeyboardInterrupt:
            interrupted = True
            warnings.warn(f"Training interrupted during epoch {epoch}; keeping the "
                          "weights reached so far.", RuntimeWarning, stacklevel=3)
            break
        state.epochs_run += 1
        ok = updates["finite"]
        if not ok.all():
            bad = int(np.argmin(ok))
            non_finite = {"epoch": epoch, "update": bad + 1}
            history.event("non_finite", non_finite)
            warnings.warn(
                f"Non-finite loss or gradient at epoch {epoch}, update {bad + 1} of the "
                "epoch: training stopped and the weights after the last finite update "
                "were kept. Clip the gradients (clipnorm, clipvalue or global_clipnorm) "
                "or lower the learning_rate.", RuntimeWarning, stacklevel=3)
            updates = {k: v[:bad] for k, v in updates.items()}
        weights = updates["count"] if updates["count"].sum() else None
        loss = (float(np.average(updates["loss"], weights=weights))
                if len(updates["loss"]) else np.nan)
        norms, clipped = updates["norm"], updates["clipped"]
        val_loss = val_metric = np.nan
        if validation is not None and len(validation):
            try:
                val_loss, val_metric = _validate(step, validation, batch_size, val_score)
            except KeyboardInterrupt:  # the epoch trained: record it, then stop
                interrupted = True
                warnings.warn(f"Training interrupted while validating epoch {epoch}; "
                              "keeping the weights reached so far.", RuntimeWarning,
                              stacklevel=3)
        history.record(
            epoch=epoch, loss=loss, val_loss=float(val_loss), val_score=val_metric,
            learning_rate=epoch_lr, time=time.perf_counter() - start,
            grad_norm_mean=float(np.mean(norms)) if len(norms) else np.nan,
            grad_norm_max=float(np.max(norms)) if len(norms) else np.nan,
            clipped_fraction=float(np.mean(clipped)) if len(clipped) else np.nan)
        if bar is not None:
            values = [("loss", loss)]
            if validation is not None:
                values.append(("val_loss", val_loss))
                if val_score is not None:
                    bar.stateful_metrics.add(f"val_{score_name}")
                    values.append((f"val_{score_name}", val_metric))
            bar.update(bar.target, values=values, finalize=True)
        elif verbose:
            line = f"Epoch {epoch}/{last_epoch} - loss: {loss:.4f}"
            if validation is not None:
                line += f" - val_loss: {val_loss:.4f}"
                if val_score is not None:
                    line += f" - val_{score_name}: {val_metric:.4f}"
            print(f"{line} - {history['time'][-1]:.2f}s", flush=True)
        if hooks is not None:
            logs = {"loss": loss, "learning_rate": epoch_lr}
            if validation is not None and len(validation):
                logs["val_loss"] = float(val_loss)
                if val_score is not None:
                    logs[f"val_{score_name}"] = val_metric
            if hooks.epoch_end(epoch - first_epoch, logs) or hooks.stop:
                stopped = True
        if non_finite is not None or interrupted or stopped:
            break
        improved = _improved(state, val_loss if monitor_validation else loss, epoch, step,
                             tol, keep_best=monitor_validation)
        if (not improved and (monitor_validation or stop_on_plateau)
                and state.waited >= n_iter_no_change):
            stopped = True
            if verbose:
                what = "validation loss" if monitor_validation else "training loss"
                restoring = (f"; restoring epoch {state.best_epoch}" if monitor_validation
                             else "")
                print(f"Stopping: the {what} did not improve by tol={tol:g} for "
                      f"{n_iter_no_change} epochs{restoring}.", flush=True)
            break
        if plateau and not improved:
            _decay(state, step, decay_patience, verbose)
        if backup is not None:
            backup.save(step, rng, history, state)
    step.sync_to_model()
    if monitor_validation and state.best_weights is not None:
        step.model.set_weights(state.best_weights)
    if hooks is not None:
        hooks.train_end(logs)
    if backup is not None and not interrupted:
        backup.finish()
    if (warn_convergence and not stopped and not interrupted and non_finite is None
            and state.epochs_run == epochs):
        from sklearn.exceptions import ConvergenceWarning

        warnings.warn(
            f"Stopped after the maximum of epochs={epochs} while the "
            f"{'validation' if monitor_validation else 'training'} loss was still "
            f"improving by more than tol={tol:g} within n_iter_no_change="
            f"{n_iter_no_change} epochs. Raise epochs (or the learning_rate) to train "
            "to convergence.", ConvergenceWarning, stacklevel=3)
    return {"epochs_run": state.epochs_run,
            "best_epoch": state.best_epoch if monitor_validation else None,
            "best_val_loss": float(state.best_loss) if monitor_validation else np.inf,
            "stopped_early": stopped,
            "interrupted": interrupted, "non_finite": non_finite}
