"""The backend interface of the training loop.

One :class:`Step` per Keras backend compiles the per-batch work; the loop in
:mod:`skrnn.training._loop` only ever talks to this interface. The losses
(:mod:`skrnn.training._losses`) and the clipping are written with ``keras.ops`` so
every backend shares them.
"""

from __future__ import annotations

import contextlib

import keras
import numpy as np
from keras import ops

from ._losses import TASKS, RegressionLoss


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
