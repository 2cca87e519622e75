"""The backend interface of the training loop and the losses it computes.

One :class:`Step` per Keras backend compiles the per-batch work; the loop in
:mod:`skrnn.training._loop` only ever talks to this interface. The loss and the
clipping are written with ``keras.ops`` so every backend shares them.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import keras
import numpy as np
from keras import ops

TASKS = ("classification", "regression", "regression_with_stop")
#: Regression losses (``RNNRegressor(loss=...)``); "squared_error" is the task "regression".
REGRESSION_LOSSES = ("squared_error", "absolute_error", "huber", "quantile", "gaussian")


@dataclass(frozen=True)
class RegressionLoss:
    """A regression task whose loss is not the squared error (a :class:`Step`'s task).

    ``"huber"``: quadratic within 1 (in standardised target units), linear beyond.
    ``"quantile"``: the pinball loss of every level in ``quantiles``; the network gives
    ``len(quantiles)`` columns per target, made non-decreasing by
    :func:`quantile_outputs`. ``"gaussian"``: the negative log-likelihood of a normal
    distribution whose mean and standard deviation the network gives
    (:func:`gaussian_outputs`). ``with_stop``: numeric sequences of their own lengths,
    as ``"regression_with_stop"`` (the last column is the stop flag and its logit).
    """

    name: str
    quantiles: tuple = ()
    with_stop: bool = False

    @property
    def columns(self) -> int:
        """Network outputs per target."""
        return {"quantile": len(self.quantiles), "gaussian": 2}.get(self.name, 1)


def quantile_outputs(out, n_quantiles: int):
    """``(..., k * Q)`` network outputs as ``(..., k, Q)`` quantiles that never cross:
    the first level, then positive (softplus) increments."""
    out = ops.reshape(out, tuple(ops.shape(out)[:-1]) + (-1, n_quantiles))
    base = out[..., :1]
    return ops.concatenate([base, base + ops.cumsum(ops.softplus(out[..., 1:]), axis=-1)],
                           axis=-1)


def gaussian_outputs(out):
    """``(..., 2k)`` network outputs as ``(mean, std)``, each ``(..., k)``."""
    k = ops.shape(out)[-1] // 2
    return out[..., :k], ops.softplus(out[..., k:]) + 1e-3


def sample_outputs(task: RegressionLoss, out, noise):
    """One draw per row from the distribution the outputs predict, ``(..., k)``
    standardised: for ``"gaussian"`` the mean plus the std times ``noise`` (standard
    normal); for ``"quantile"`` the quantile function at the levels ``noise`` (uniform),
    linear between the fitted levels and extended linearly beyond them. The noise comes
    from the caller (NumPy in ``predict``, TensorFlow's stateless generator in an
    exported graph), so both draw through this one function."""
    out = ops.convert_to_tensor(out)
    if task.name == "gaussian":
        mean, std = gaussian_outputs(out)
        return mean + std * ops.cast(noise, mean.dtype)
    q = quantile_outputs(out, len(task.quantiles))
    u = ops.cast(noise, q.dtype)
    levels = ops.cast(ops.convert_to_tensor(np.asarray(task.quantiles)), q.dtype)
    i = ops.clip(ops.sum(ops.cast(levels < ops.expand_dims(u, -1), "int32"), axis=-1), 1,
                 len(task.quantiles) - 1)
    lo, hi = ops.take(levels, i - 1), ops.take(levels, i)
    q_lo = ops.take_along_axis(q, ops.expand_dims(i - 1, -1), axis=-1)[..., 0]
    q_hi = ops.take_along_axis(q, ops.expand_dims(i, -1), axis=-1)[..., 0]
    return q_lo + (u - lo) / (hi - lo) * (q_hi - q_lo)


def _regression_loss(task: RegressionLoss, y, out):
    """Per-target-row loss of ``task`` (averaged over the target's columns)."""
    if task.name == "absolute_error":
        return ops.mean(ops.abs(out - y), axis=-1)
    if task.name == "huber":
        e = ops.abs(out - y)
        return ops.mean(ops.where(e <= 1.0, 0.5 * ops.square(e), e - 0.5), axis=-1)
    if task.name == "quantile":
        levels = ops.convert_to_tensor(np.asarray(task.quantiles, np.float32))
        e = ops.expand_dims(y, -1) - quantile_outputs(out, len(task.quantiles))
        return ops.mean(ops.maximum(levels * e, (levels - 1.0) * e), axis=(-2, -1))
    if task.name == "gaussian":
        mean, std = gaussian_outputs(out)
        return ops.mean(ops.log(std) + 0.5 * ops.square((y - mean) / std), axis=-1)
    raise ValueError(f"loss must be one of {REGRESSION_LOSSES}, got {task.name!r}.")


def weighted_loss(task: str, per_step: bool, y, out, w, mask, count=None):
    """Weighted loss, summed and divided by the number of real targets.

    ``w`` holds one weight per target (per sequence, or per step with ``per_step``);
    padded steps are excluded through ``mask``. Dividing by the count of real targets
    rather than by the sum of weights keeps Keras' meaning of sample weights: a weight
    of 2 counts a sample twice relative to the rest of its batch.

    ``"regression_with_stop"`` (numeric sequences of their own lengths): the last
    column of ``y`` and ``out`` is a stop flag (1 at the end step) and its logit; the
    squared error (or a :class:`RegressionLoss` ``with_stop``) counts on the value
    steps, the binary cross-entropy of the stop logit on every step.

    ``count`` (optional) replaces the number of real targets: a replica holding one
    shard of a global batch divides by the global count, so that the gradients summed
    across replicas are those of the global batch.
    """
    with_stop = task == "regression_with_stop" or getattr(task, "with_stop", False)
    if with_stop:
        values = (_regression_loss(task, y[..., :-1], out[..., :-1])
                  if isinstance(task, RegressionLoss)
                  else ops.mean(ops.square(out[..., :-1] - y[..., :-1]), axis=-1))
        per = values * (1.0 - y[..., -1]) + keras.losses.binary_crossentropy(
            y[..., -1:], out[..., -1:], from_logits=True)
    elif isinstance(task, RegressionLoss):
        per = _regression_loss(task, y, out)
    elif task == "classification":
        per = keras.losses.sparse_categorical_crossentropy(y, out, from_logits=True)
    elif task == "regression":
        per = ops.mean(ops.square(out - y), axis=-1)
    else:
        raise ValueError(f"task must be one of {TASKS}, got {task!r}.")
    if per_step:
        valid = ops.cast(mask, per.dtype)
        w = w * valid
        total = ops.maximum(ops.sum(valid), 1.0)
    else:
        total = ops.cast(ops.shape(per)[0], per.dtype)
    return ops.sum(per * w) / (total if count is None else count)


def clip_gradients(grads, clipnorm=None, clipvalue=None, global_clipnorm=None):
    """Clip gradients; the keyword meanings are Keras' optimizer arguments.

    Applied in this order when several are given: ``clipvalue`` (each element),
    ``clipnorm`` (each tensor's norm), ``global_clipnorm`` (the norm of all tensors
    together). Written with ``keras.ops`` so that every backend's step, and a
    distributed step after its all-reduce, clips the same way.

    Returns
    -------
    grads : list of tensors
    norm : scalar tensor
        Global gradient norm before clipping.
    clipped : scalar tensor
        1.0 when any clipping changed the gradients, else 0.0.
    """
    def global_norm(gs):
        return ops.sqrt(sum(ops.sum(ops.square(g)) for g in gs))

    norm = global_norm(grads)
    clipped = ops.convert_to_tensor(0.0)
    if clipvalue is not None:
        over = sum(ops.sum(ops.cast(ops.abs(g) > clipvalue, "float32")) for g in grads)
        clipped = ops.maximum(clipped, ops.cast(over > 0, "float32"))
        grads = [ops.clip(g, -clipvalue, clipvalue) for g in grads]
    if clipnorm is not None:
        out = []
        for g in grads:
            n = ops.sqrt(ops.sum(ops.square(g)))
            clipped = ops.maximum(clipped, ops.cast(n > clipnorm, "float32"))
            out.append(g * ops.minimum(1.0, clipnorm / ops.maximum(n, 1e-12)))
        grads = out
    if global_clipnorm is not None:
        n = global_norm(grads)
        clipped = ops.maximum(clipped, ops.cast(n > global_clipnorm, "float32"))
        factor = ops.minimum(1.0, global_clipnorm / ops.maximum(n, 1e-12))
        grads = [g * factor for g in grads]
    return grads, norm, clipped


def shard_rows(arrays, replicas: int) -> tuple:
    """Split each array's rows into ``replicas`` equal shards.

    Rows are padded to a multiple of ``replicas`` with filler rows: zeros, except that
    2-D boolean arrays (masks) get their first step set, so no filler sequence is empty.
    Filler rows have weight 0: they never reach a loss or a gradient.
    Returns ``(shards, rows_per_replica)`` with ``shards[i][r]`` array ``i``'s shard ``r``.
    """
    n = len(arrays[0])
    size = -(-n // replicas)
    shards = []
    for a in arrays:
        a = np.asarray(a)
        if size * replicas > n:
            filler = np.zeros((size * replicas - n,) + a.shape[1:], a.dtype)
            if a.dtype == bool and a.ndim == 2:
                filler[:, 0] = True
            a = np.concatenate([a, filler])
        shards.append([a[r * size:(r + 1) * size] for r in range(replicas)])
    return shards, size


class Step:
    """What the loop needs from a backend.

    Parameters
    ----------
    model : keras.Model
        Inputs ``[x, mask]``.
    optimizer : keras.optimizers.Optimizer
    task : {"classification", "regression", "regression_with_stop"}
    per_step : bool
        Targets are per step (``return_sequences=True``).
    clipping : dict, optional
        Keyword arguments of :func:`clip_gradients`.
    """

    def __init__(self, model, optimizer, task, per_step, clipping=None):
        if task not in TASKS and not isinstance(task, RegressionLoss):
            raise ValueError(f"task must be one of {TASKS}, got {task!r}.")
        self.model = model
        self.optimizer = optimizer
        self.task = task
        self.per_step = per_step
        self.clipping = dict(clipping or {})

    def train(self, x, mask, y, w):
        """One update on a batch; returns ``(loss, gradient_norm, clipped, finite)`` as
        backend scalars.

        A step whose loss or gradients are not finite must not update anything, and
        must skip every later update until :meth:`resume`: the loop checks the flags at
        the end of the epoch and keeps the weights of the last finite update.

        They are converted to floats by the loop at the end of the epoch, so the device
        is never made to wait after each batch.
        """
        raise NotImplementedError

    #: Prepare batches in a background thread (:mod:`._prefetch`): worth it when an
    #: accelerator computes while the host prepares; on a CPU both share the same cores
    #: and a thread handoff per batch only adds latency. Set by each backend's step.
    prefetch = False

    def stage(self, x, mask, y, w):
        """Make a batch ready for :meth:`train_staged` (padding, conversion, the copy to
        the device); runs in the loop's prefetching thread, ahead of the update. The
        default hands the arrays on as they are."""
        return x, mask, y, w

    def train_staged(self, staged):
        """:meth:`train` on what :meth:`stage` returned."""
        return self.train(*staged)

    #: A compiled step's choice of masked or unmasked variant for equal-length batches
    #: (:class:`._variants.Variants`); None: they always run unmasked.
    variants = None

    #: Keep the training set on the device for a fit (:mod:`._resident`): None decides
    #: from the accelerator's free memory (never without one), True / False force it.
    keep_on_device = None
    #: Whether this step can cut batches from a set on its device (:meth:`stage_held`).
    can_hold = False

    def free_device_memory(self) -> int | None:
        """Bytes free on the accelerator the step trains on; None without one."""
        return None

    def put_held(self, array):
        """``array`` copied to the device for a held set."""
        raise NotImplementedError

    def stage_held(self, held, idx):
        """:meth:`stage` of the rows ``idx`` cut from ``held`` on the device."""
        raise NotImplementedError

    @contextlib.contextmanager
    def hold(self, train, resident=True):
        """Within it, :meth:`stage_rows` cuts ``train``'s batches from a copy on the
        device when the step can (:attr:`can_hold`; not for seq2seq pairs) and the copy
        takes at most ``FREE_FRACTION`` of the accelerator's free memory, or when
        :attr:`keep_on_device` forces it. The copy is dropped on leaving, so a fit's
        device memory is released with it. ``train`` is the fit's training set;
        ``resident=False`` keeps it on the host (truncated BPTT pads its own chunks). A
        step's :attr:`variants` read its lengths."""
        from ..data import SupervisedSet
        from ._resident import FREE_FRACTION, HeldSet, held_bytes, indexable

        if self.variants is not None:
            self.variants.fit_lengths(getattr(train, "lengths", None))
        keep = (resident and self.can_hold and isinstance(train, SupervisedSet)
                and indexable(train) and self.keep_on_device)
        if keep is None:  # automatic: on an accelerator with room for it
            free = self.free_device_memory()
            keep = free is not None and held_bytes(train) <= FREE_FRACTION * free
        held = HeldSet(train, self.put_held) if keep else None
        self._held = held
        try:
            yield held is not None
        finally:
            self._held = None

    def stage_rows(self, train, idx):
        """:meth:`stage` of the rows ``idx`` of ``train``: cut on the device from the set
        :meth:`hold` keeps there, else gathered and padded on the host."""
        held = self.__dict__.get("_held")
        if held is not None and held.train is train:
            return self.stage_held(held, idx)
        return self.stage(*train.batch(idx))

    def initial_states(self, batch_size: int) -> list:
        """Zero recurrent states for a batch (truncated BPTT), flattened by layer."""
        from ..models import state_sizes

        return [np.zeros((batch_size, size), np.float32)
                for sizes in state_sizes(self.model) for size in sizes]

    def train_chunk(self, x, mask, y, w, states):
        """One update on a chunk of steps starting from ``states``.

        The states are inputs, so no gradient flows into earlier chunks. Returns
        ``(loss, gradient_norm, clipped, finite, final_states)``; non-finite updates are
        handled as in :meth:`train`.
        """
        raise NotImplementedError

    def advance(self, x, mask, states):
        """Run a chunk forward (training mode, no gradient); returns the final states."""
        raise NotImplementedError

    def evaluate(self, x, mask, y, w):
        """Loss on a batch without updating; returns a float."""
        raise NotImplementedError

    def predict(self, x, mask):
        """Model outputs (logits or values) for a batch, as a NumPy array."""
        raise NotImplementedError

    def model_view(self, name: str):
        """The model (``"masked"``), its unmasked view (``"unmasked"``: equal-length
        batches) or its view with explicit states (``"states"``: truncated BPTT); the
        views share the model's weights and are built once."""
        views = self.__dict__.setdefault("_model_views", {})
        if name not in views:
            from ..models import with_state_io, without_mask

            build = {"masked": lambda m: m, "unmasked": without_mask,
                     "states": with_state_io}[name]
            views[name] = build(self.model)
        return views[name]

    def resume(self):
        """Allow updates again after a non-finite one (start of a new fit)."""

    def learning_rate(self) -> float | None:
        """The optimizer's current learning rate, or None when it follows a Keras
        ``LearningRateSchedule`` (which the loop then leaves alone)."""
        if isinstance(getattr(self.optimizer, "_learning_rate", None),
                      keras.optimizers.schedules.LearningRateSchedule):
            return None
        return self.current_learning_rate()

    def current_learning_rate(self) -> float:
        """The rate the next update uses: a ``LearningRateSchedule`` evaluated at the
        optimizer's update count, else the rate itself."""
        self.sync_to_model()
        return float(ops.convert_to_numpy(self.optimizer.learning_rate))

    def set_learning_rate(self, value: float):
        """Assign the optimizer's learning rate (a variable, so compiled steps read the
        new value without retracing)."""
        self.sync_to_model()  # stateless backends re-read the optimizer's variables
        self.optimizer.learning_rate = value

    def optimizer_values(self) -> list:
        """The optimizer's variables (moments, update count, learning rate) as arrays:
        what a pickled estimator keeps to resume training exactly."""
        self.sync_to_model()
        return [np.array(ops.convert_to_numpy(v)) for v in self.optimizer.variables]

    def load_optimizer_values(self, values) -> None:
        """Give the optimizer the variables :meth:`optimizer_values` returned (nothing
        changes when they do not fit this optimizer)."""
        self.sync_to_model()
        variables = self.optimizer.variables
        if len(values) == len(variables) and all(
                tuple(v.shape) == np.shape(a) for v, a in zip(variables, values)):
            for variable, value in zip(variables, values):
                variable.assign(value)

    def sync_to_model(self):
        """Make ``self.model``'s variables hold the trained values (stateless backends)."""

    def drop_pending(self):
        """Forget trained values not yet written to the model (stateless backends): the
        model's variables are about to be restored from a copy."""
