"""The JAX step: ``jax.jit`` over ``stateless_call`` + ``value_and_grad``.

The weights, the non-trainable variables (dropout seeds) and the optimizer's slots live
in a pytree of arrays while training; :meth:`JaxStep.sync_to_model` writes them back to
the Keras variables (the loop calls it before validation and at the end of a fit) and
the next update reads them afresh, so ``set_weights`` between fits is honoured.

``jax.jit`` compiles once per input shape: padded (masked) batches have their time
dimension rounded up to a short ladder of lengths (8, 12, 16, 24, 32, 48, ...) so a
data set of many lengths compiles a handful of times; batches of equal lengths keep their
exact length and carry no mask, except in a fit on sequences of several lengths, where
they run masked on the ladder until their length has done enough work to be worth a
compilation of its own (:mod:`._variants`).

With a ``keras.distribution.DataParallel`` the state is replicated over its device mesh
and every batch is sharded along its rows (padded to a multiple of the devices with
filler rows of weight 0); ``jax.jit`` then computes the global batch's loss and
gradients across the devices, so clipping acts on the summed gradients.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from ._losses import weighted_loss
from ._resident import cut_batch
from ._step import Step, clip_gradients, shard_rows
from ._variants import Variants

#: A held set's batch, cut on the device: compiled once per batch shape.
_cut_batch = jax.jit(cut_batch, static_argnames=("t", "per_step"))


def ladder(t: int) -> int:
    """The padded length for ``t`` steps: the next of 8, 12, 16, 24, 32, 48, 64, ...
    (a power of two or three quarters of one, at least 8)."""
    if t <= 8:
        return 8
    p = 1 << (t - 1).bit_length()
    return p * 3 // 4 if p * 3 // 4 >= t else p


def pad_time(arrays, t: int):
    """Zero-pad each array's axis 1 to ``t`` steps."""
    return [np.pad(a, [(0, 0), (0, t - a.shape[1])] + [(0, 0)] * (a.ndim - 2))
            for a in arrays]


class _View:
    """A weight-sharing view of the model, with its variables' positions in the base
    model's lists (views list the same variables in their own order)."""

    def __init__(self, view, base):
        trainable = {id(v): i for i, v in enumerate(base.trainable_variables)}
        other = {id(v): i for i, v in enumerate(base.non_trainable_variables)}
        self.model = view
        self.trainable = [trainable[id(v)] for v in view.trainable_variables]
        self.other = [other[id(v)] for v in view.non_trainable_variables]

    def __call__(self, trainable, other, inputs, training):
        out, updates = self.model.stateless_call(
            [trainable[i] for i in self.trainable], [other[i] for i in self.other],
            inputs, training=training)
        other = list(other)
        for i, value in zip(self.other, updates):
            other[i] = value
        return out, other


class JaxStep(Step):
    """Compiled train / evaluate / predict / chunk steps for the JAX backend."""

    #: Row-steps of one length's equal-length batches after which their unmasked,
    #: exact-length variant is worth its compilation (1-3 s on a CPU, 3-4 times a
    #: TensorFlow trace) in a fit on sequences of several lengths.
    UNMASKED_AFTER = 200_000

    def __init__(self, model, optimizer, task, per_step, clipping=None, distribution=None):
        super().__init__(model, optimizer, task, per_step, clipping)
        self.variants = Variants(self.UNMASKED_AFTER, per_length=True)
        self.optimizer.build(self.model.trainable_variables)
        self._views, self._functions, self._state = {}, {}, None
        # Donated buffers are reused in place on accelerators (CPU cannot donate), and
        # batches are prepared ahead for them.
        accelerator = jax.default_backend() != "cpu"
        self._donate = (0,) if accelerator else ()
        self.prefetch = self.prefetch or accelerator
        self._devices, self._rows, self._replicated = 1, None, None
        if distribution is not None:
            from jax.sharding import NamedSharding, PartitionSpec

            mesh = distribution.device_mesh.backend_mesh
            self._devices = mesh.devices.size
            self._rows = NamedSharding(mesh, PartitionSpec(distribution.batch_dim_name))
            self._replicated = NamedSharding(mesh, PartitionSpec())
        self.can_hold = distribution is None  # a mesh shards each batch from the host

    def _put(self, arrays):
        """Copies on the device (asynchronous: made ahead by the prefetching thread);
        data parallel: rows padded to a multiple of the devices, sharded over them."""
        if self._rows is None:
            return jax.device_put(list(arrays))
        shards, _ = shard_rows(arrays, self._devices)
        return [jax.device_put(np.concatenate(s), self._rows) for s in shards]

    def _count(self, mask):
        return np.float32(mask.sum() if self.per_step else len(mask))

    # ------------------------------------------------------------------ the state
    def _read(self, copy: bool) -> dict:
        take = (lambda v: jnp.array(v.value)) if copy else (lambda v: v.value)
        return {"trainable": [take(v) for v in self.model.trainable_variables],
                "other": [take(v) for v in self.model.non_trainable_variables],
                "optimizer": [take(v) for v in self.optimizer.variables],
                "halted": jnp.asarray(False)}

    @property
    def state(self) -> dict:
        if self._state is None:
            self._state = self._read(copy=bool(self._donate))
            if self._replicated is not None:
                self._state = jax.device_put(self._state, self._replicated)
        return self._state

    def resume(self):
        self.state["halted"] = jnp.asarray(False)

    def sync_to_model(self):
        if self._state is None:
            return
        s = self._state
        for variables, values in ((self.model.trainable_variables, s["trainable"]),
                                  (self.model.non_trainable_variables, s["other"]),
                                  (self.optimizer.variables, s["optimizer"])):
            for variable, value in zip(variables, values):
                variable.assign(value)
        self._state = None  # re-read next time: the model may be changed in between

    def drop_pending(self):
        self._state = None

    # ------------------------------------------------------------------ the views
    def _view(self, name):
        if name not in self._views:
            self._views[name] = _View(self.model_view(name), self.model)
        return self._views[name]

    def _compiled(self, key, make):
        fn = self._functions.get(key)
        if fn is None:
            fn = self._functions[key] = make()
        return fn

    def _train_fn(self, view_name, chunk=False):
        view, optimizer, clipping = self._view(view_name), self.optimizer, self.clipping
        task, per_step = self.task, self.per_step

        def loss_fn(trainable, other, inputs, y, w, mask, count):
            out, other = view(trainable, other, inputs, training=True)
            final = None
            if chunk:
                out, *final = out
            return weighted_loss(task, per_step, y, out, w, mask, count), (other, final)

        grad_fn = jax.value_and_grad(loss_fn, has_aux=True)

        def train(state, inputs, y, w, mask, count):
            (loss, (other, final)), grads = grad_fn(
                state["trainable"], state["other"], inputs, y, w, mask, count)
            grads, norm, clipped = clip_gradients(grads, **clipping)
            finite = jnp.isfinite(loss) & jnp.isfinite(norm)
            go = finite & ~state["halted"]
            trainable, slots = optimizer.stateless_apply(state["optimizer"], grads,
                                                         state["trainable"])

            def pick(new, old):
                return jax.tree.map(lambda a, b: jnp.where(go, a, b), new, old)

            new = {"trainable": pick(trainable, state["trainable"]),
                   "other": pick(other, state["other"]),
                   "optimizer": pick(slots, state["optimizer"]),
                   "halted": state["halted"] | ~finite}
            return new, (loss, norm, clipped, finite, final)

        return jax.jit(train, donate_argnums=self._donate)

    def _forward_fn(self, view_name, loss=False):
        view, task, per_step = self._view(view_name), self.task, self.per_step

        def forward(state, inputs, y=None, w=None, mask=None, count=None):
            out, _ = view(state["trainable"], state["other"], inputs, training=False)
            return weighted_loss(task, per_step, y, out, w, mask, count) if loss else out

        return jax.jit(forward)

    def _update(self, key, view_name, inputs, y, w, mask, count, chunk=False):
        fn = self._compiled(key, lambda: self._train_fn(view_name, chunk))
        self._state, (loss, norm, clipped, finite, final) = fn(self.state, inputs, y, w,
                                                                mask, count)
        return loss, norm, clipped, finite, final

    def _current(self):
        return self._state if self._state is not None else self._read(copy=False)

    # -------------------------------------------------------- padded / equal batches
    def _prepare(self, x, mask, y=None, w=None, train=False):
        """-> (view name, inputs, y, w, mask, count, steps): masked batches padded to
        the ladder of lengths, rows sharded when data parallel."""
        steps, count = mask.shape[1], self._count(mask)
        if not self.variants.masked_batch(mask, train):
            view = "unmasked"
        else:
            view, t = "masked", ladder(steps)
            if t != steps:
                x, mask = pad_time([x, mask], t)
                if self.per_step and y is not None:
                    y, w = pad_time([y, w], t)
        x, mask, *yw = self._put([x, mask] + ([y, w] if y is not None else []))
        y, w = yw if yw else (None, None)
        inputs = x if view == "unmasked" else [x, mask]
        return view, inputs, y, w, mask, count, steps

    def stage(self, x, mask, y, w):
        return self._prepare(x, mask, y, w, train=True)[:6]

    def free_device_memory(self):
        stats = jax.devices()[0].memory_stats() or {}  # None on a CPU
        limit = stats.get("bytes_limit")
        return None if limit is None else limit - stats.get("bytes_in_use", 0)

    def put_held(self, array):
        return jax.device_put(array)

    def stage_held(self, held, idx):
        """What :meth:`stage` makes of the padded batch, cut on the device: no mask and
        the exact length for the unmasked variant, else the ladder's length."""
        offsets, lengths, t, equal = held.rows(idx)
        unmasked = not self.variants.masked(equal, t, len(idx) * t, train=True)
        x, mask, y, w = _cut_batch(held.x, held.y, held.w, idx, offsets, lengths,
                                   t=t if unmasked else ladder(t), per_step=held.per_step)
        count = np.float32(lengths.sum() if held.per_step else len(idx))
        return ("unmasked", x, y, w, mask, count) if unmasked else \
            ("masked", [x, mask], y, w, mask, count)

    def train_staged(self, staged):
        view, *batch = staged
        return self._update(("train", view), view, *batch)[:4]

    def train(self, x, mask, y, w):
        return self.train_staged(self.stage(x, mask, y, w))

    def evaluate(self, x, mask, y, w):
        view, inputs, y, w, mask, count, _ = self._prepare(x, mask, y, w)
        fn = self._compiled(("evaluate", view), lambda: self._forward_fn(view, loss=True))
        return float(fn(self._current(), inputs, y, w, mask, count))

    def predict(self, x, mask):
        n = len(x)
        view, inputs, _, _, _, _, steps = self._prepare(x, mask)
        fn = self._compiled(("predict", view), lambda: self._forward_fn(view))
        out = np.asarray(fn(self._current(), inputs))[:n]
        return out[:, :steps] if self.per_step else out

    def initial_states(self, batch_size: int) -> list:
        rows = -(-batch_size // self._devices) * self._devices
        return self._put(super().initial_states(rows)) if self._rows else \
            super().initial_states(batch_size)

    def train_chunk(self, x, mask, y, w, states):
        count = self._count(mask)
        x, mask, y, w = self._put([x, mask, y, w])
        return self._update(("train_chunk", None), "states", [x, mask, *states], y, w,
                            mask, count, chunk=True)

    def advance(self, x, mask, states):
        view = self._view("states")

        def make():
            def advance(state, inputs):
                out, other = view(state["trainable"], state["other"], inputs,
                                  training=True)
                return other, [jax.lax.stop_gradient(s) for s in out[1:]]
            return jax.jit(advance)

        other, final = self._compiled(("advance", None), make)(
            self.state, [*self._put([x, mask]), *states])
        self.state["other"] = other
        return final

    def tracing_count(self) -> int:
        """How many train functions were compiled (one per view; JAX recompiles per
        input shape on its own, see the ladder of lengths)."""
        return sum(1 for (name, _) in self._functions if name in ("train", "train_chunk"))


class Seq2SeqJaxStep(JaxStep):
    """Teacher-forced step for the encoder-decoder's training model (see
    :class:`~skrnn.training._tensorflow.Seq2SeqTensorFlowStep` for the arguments)."""

    def _prepare_pair(self, x, mask, y, w):
        source, source_mask, target_in = x
        count = np.float32(mask.sum())
        if not source_mask.all():  # (vector sources: one step, never masked)
            source, source_mask = pad_time([source, source_mask],
                                           ladder(source_mask.shape[1]))
        if not mask.all():
            target_in, mask, y, w = pad_time([target_in, mask, y, w], ladder(mask.shape[1]))
        source, source_mask, target_in, mask, y, w = self._put(
            [source, source_mask, target_in, mask, y, w])
        return [source, source_mask, target_in, mask], y, w, mask, count

    def stage(self, x, mask, y, w):
        return ("masked", *self._prepare_pair(x, mask, y, w))

    def evaluate(self, x, mask, y, w):
        inputs, y, w, mask, count = self._prepare_pair(x, mask, y, w)
        fn = self._compiled(("evaluate", "masked"),
                            lambda: self._forward_fn("masked", loss=True))
        return float(fn(self._current(), inputs, y, w, mask, count))
