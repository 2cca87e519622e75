"""skrnn's training loop: epochs of length-bucketed batches, written once.

Backend-specific work happens in a :class:`~skrnn.training.Step`; this module only
forms batches, calls the step, keeps the history and prints progress; the stopping and
learning-rate rules are the :class:`~skrnn.training._monitor.Monitor`'s, the backups
:mod:`skrnn.training._backup`'s. Its settings come as one
:class:`~skrnn.training._settings.LoopSettings`.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from .._history import History
from .._warnings import warn
from ..data import SupervisedSet, bucket_batches
from ._monitor import Monitor
from ._outputs import predict_outputs, progress_bar
from ._prefetch import prefetch
from ._settings import LoopSettings


def new_history() -> History:
    return History()


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


def run_epochs(step, train: SupervisedSet, loop: LoopSettings, *,
               rng: np.random.RandomState, history: History,
               validation: SupervisedSet | None = None,
               val_score: Callable | None = None) -> dict:
    """Train for up to ``loop.epochs`` epochs; returns a summary of how it ended.

    Parameters
    ----------
    step : Step
    train, validation : SupervisedSet
    loop : LoopSettings
        How to train (epochs, batches, the stopping and learning-rate rules,
        callbacks).
    rng : RandomState
        Drives the per-epoch shuffling of the length buckets.
    history : skrnn.History
        Appended to (so ``warm_start`` / ``partial_fit`` continue it).
    val_score : callable, optional
        ``val_score(outputs) -> float`` on the validation outputs (higher is better).

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

    callbacks, backup = split_callbacks(loop.callbacks)
    if backup is not None:
        backup = Backup(backup, fit_key(loop.fit_key, history.n_epochs, train, validation),
                        is_chief(step))
    hooks = Hooks(callbacks, step, loop.epochs) if callbacks else None
    try:
        # the training set on the device for the fit, where it fits (truncated BPTT
        # pads its own chunks on the host)
        with step.hold(train, resident=loop.truncate_steps is None):
            return _run(step, train, loop, rng, history, validation, val_score, hooks,
                        backup)
    finally:
        if hooks is not None:
            hooks.detach()


def _run(step, train, loop, rng, history, validation, val_score, hooks, backup) -> dict:
    step.resume()
    validates = validation is not None and len(validation) > 0
    monitor = Monitor(step, loop, validates)
    verbose, score_name = loop.verbose, loop.score_name
    first_epoch = history.n_epochs + 1
    last_epoch = first_epoch + loop.epochs - 1
    restored = backup.restore(step, rng, history) if backup is not None else None
    if restored is not None:
        monitor.state = restored
        history.event("resumed", {"epoch": history.n_epochs})
        if verbose:
            print(f"Resuming after epoch {history.n_epochs} from the backup in "
                  f"{backup.directory}.", flush=True)
    state = monitor.state
    stopped, interrupted, non_finite = False, False, None
    logs = {}
    if hooks is not None:
        hooks.train_begin()
    for epoch in range(history.n_epochs + 1, last_epoch + 1):
        start = time.perf_counter()
        if hooks is not None:
            hooks.epoch_begin(epoch - first_epoch)  # from 0 in every fit, as in Keras
            monitor.callback_set_rate()
        epoch_lr = monitor.epoch_rate()
        bar = None
        if verbose == 1:
            print(f"Epoch {epoch}/{last_epoch}", flush=True)
            bar = progress_bar(1, verbose)
        try:
            updates = _train_epoch(step, train, loop.batch_size, rng, loop.truncate_steps,
                                   bar, hooks)
        except KeyboardInterrupt:
            interrupted = True
            warn(f"Training interrupted during epoch {epoch}; keeping the "
                 "weights reached so far.", RuntimeWarning)
            break
        state.epochs_run += 1
        ok = updates["finite"]
        if not ok.all():
            bad = int(np.argmin(ok))
            non_finite = {"epoch": epoch, "update": bad + 1}
            history.event("non_finite", non_finite)
            warn(
                f"Non-finite loss or gradient at epoch {epoch}, update {bad + 1} of the "
                "epoch: training stopped and the weights after the last finite update "
                "were kept. Clip the gradients (clipnorm, clipvalue or global_clipnorm) "
                "or lower the learning_rate.", RuntimeWarning)
            updates = {k: v[:bad] for k, v in updates.items()}
        weights = updates["count"] if updates["count"].sum() else None
        loss = (float(np.average(updates["loss"], weights=weights))
                if len(updates["loss"]) else np.nan)
        norms, clipped = updates["norm"], updates["clipped"]
        val_loss = val_metric = np.nan
        if validates:
            try:
                val_loss, val_metric = _validate(step, validation, loop.batch_size,
                                                 val_score)
            except KeyboardInterrupt:  # the epoch trained: record it, then stop
                interrupted = True
                warn(f"Training interrupted while validating epoch {epoch}; "
                     "keeping the weights reached so far.", RuntimeWarning)
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
            if validates:
                logs["val_loss"] = float(val_loss)
                if val_score is not None:
                    logs[f"val_{score_name}"] = val_metric
            if hooks.epoch_end(epoch - first_epoch, logs) or hooks.stop:
                stopped = True
        if non_finite is not None or interrupted or stopped:
            break
        if monitor.end_epoch(epoch, loss, val_loss):
            stopped = True
            break
        if backup is not None:
            backup.save(step, rng, history, state)
    monitor.finish()
    if hooks is not None:
        hooks.train_end(logs)
    if backup is not None and not interrupted:
        backup.finish()
    if (loop.warn_convergence and not stopped and not interrupted and non_finite is None
            and state.epochs_run == loop.epochs):
        from sklearn.exceptions import ConvergenceWarning

        warn(
            f"Stopped after the maximum of epochs={loop.epochs} while the "
            f"{'validation' if monitor.on_validation else 'training'} loss was still "
            f"improving by more than tol={loop.tol:g} within n_iter_no_change="
            f"{loop.n_iter_no_change} epochs. Raise epochs (or the learning_rate) to "
            "train to convergence.", ConvergenceWarning)
    return {**monitor.summary(), "stopped_early": stopped, "interrupted": interrupted,
            "non_finite": non_finite}
