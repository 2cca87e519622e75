"""The TensorFlow step under a ``tf.distribute`` strategy.

Every worker forms the same global batches (the same data, the same seeded shuffle);
each global batch is cut into one shard per replica (rows padded to a multiple of the
number of replicas with filler rows of weight 0) and handed to the replicas with
``experimental_distribute_values_from_function``. In each replica:

1. the loss of its shard is divided by the **global** number of real targets, so the
   gradients summed over replicas are those of the global batch;
2. the gradients are all-reduced (summed) in the replica context, **then** clipped, so
   ``clipnorm`` / ``global_clipnorm`` bound the real update (Keras' optimizer clips per
   replica before its own sum, see docs/design.md).

The summed, clipped gradients are then applied by a second compiled call, unless they
or the loss are not finite (the same rule as the one-device step). The check costs one
host synchronisation per update: skipping inside the graph would need a ``tf.cond``
around Keras' optimizer, whose cross-replica sum (a ``merge_call``) TensorFlow does not
allow there. Keras' optimizer sums the gradients over the replicas once more, so each
replica passes its copy divided by the number of replicas (exact for a power of two).

The loss and gradient norm reported to the loop are the all-reduced values. Evaluation
and prediction run on the model's variables directly (every replica holds the same).
Truncated BPTT carries each replica's states from chunk to chunk as distributed values.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from ._losses import weighted_loss
from ._step import clip_gradients, shard_rows
from ._tensorflow import Seq2SeqTensorFlowStep, TensorFlowStep, dense, quiet


class _Distributed:
    """Distributed ``train`` / ``train_chunk`` / ``advance`` for a TensorFlow step."""

    def __init__(self, model, optimizer, task, per_step, clipping=None, strategy=None):
        self.strategy = strategy
        self.replicas = strategy.num_replicas_in_sync
        with strategy.scope():  # Keras' optimizer records the strategy it is made under
            optimizer = optimizer.__class__.from_config(optimizer.get_config())
            super().__init__(model, optimizer, task, per_step, clipping)
        self._distributed = {}
        self._halted_host = False  # the host-side twin of the one-device step's flag

    def _distribute(self, arrays):
        shards, _ = shard_rows(arrays, self.replicas)
        return [self.strategy.experimental_distribute_values_from_function(
            lambda ctx, s=s: tf.constant(s[ctx.replica_id_in_sync_group]))
            for s in shards]

    def _first(self, value):
        return self.strategy.experimental_local_results(value)[0]

    def resume(self):
        self._halted_host = False

    def _run(self, key, replica_fn, args, updates=True):
        """``strategy.run(replica_fn)`` compiled; with ``updates``, ``replica_fn``
        returns ``(loss, norm, clipped, grads, *rest)`` and the update is applied here."""
        fn = self._distributed.get(key)
        if fn is None:
            fn = self._distributed[key] = quiet(tf.function(
                lambda *a: self.strategy.run(replica_fn, args=a), reduce_retracing=True))
        out = fn(*args)
        if not updates:
            return out
        loss, norm, clipped, grads, *rest = out
        loss, norm, clipped = (self._first(v) for v in (loss, norm, clipped))
        finite = bool(np.isfinite(float(loss)) and np.isfinite(float(norm)))
        if finite and not self._halted_host:
            self._apply(grads)
        self._halted_host = self._halted_host or not finite
        return (loss, norm, clipped, finite, *rest)

    def _apply(self, grads):
        fn = self._distributed.get("apply")
        if fn is None:
            variables, replicas = self.model.trainable_variables, self.replicas

            def replica(grads):
                self.optimizer.apply([g / replicas for g in grads], variables)

            fn = self._distributed["apply"] = quiet(tf.function(
                lambda g: self.strategy.run(replica, args=(g,)), reduce_retracing=True))
        fn(list(grads))

    def _reduce_and_clip(self, loss, grads):
        """In a replica: sum the loss and gradients over the replicas, then clip."""
        context = tf.distribute.get_replica_context()
        grads = context.all_reduce(tf.distribute.ReduceOp.SUM, dense(grads))
        loss = context.all_reduce(tf.distribute.ReduceOp.SUM, loss)
        grads, norm, clipped = clip_gradients(grads, **self.clipping)
        return loss, norm, clipped, grads

    def _count(self, mask, n_rows):
        return tf.constant(np.float32(mask.sum() if self.per_step else n_rows))

    def train(self, x, mask, y, w):
        arrays = self._arrays(x, mask, y, w)
        masked = (self.variants.masked_batch(np.asarray(mask), train=True)
                  or len(mask) % self.replicas != 0)

        def replica(count, *args):
            with tf.GradientTape() as tape:
                loss = self._replica_loss(args, masked, count)
            grads = tape.gradient(loss, self.model.trainable_variables)
            return self._reduce_and_clip(loss, grads)

        return self._run(("train", masked), replica,
                         (self._count(mask, len(mask)), *self._distribute(arrays)))

    def initial_states(self, batch_size: int) -> list:
        size = -(-batch_size // self.replicas)
        return [self.strategy.experimental_distribute_values_from_function(
            lambda ctx, s=s: tf.zeros((size,) + s.shape[1:], s.dtype))
            for s in super().initial_states(1)]

    def train_chunk(self, x, mask, y, w, states):
        def replica(count, x, mask, y, w, *states):
            with tf.GradientTape() as tape:
                out, *final = self._state_model()([x, mask, *states], training=True)
                loss = weighted_loss(self.task, self.per_step, y, out, w, mask, count)
            grads = tape.gradient(loss, self.model.trainable_variables)
            return (*self._reduce_and_clip(loss, grads), *final)

        loss, norm, clipped, finite, *final = self._run(
            ("train_chunk", None), replica,
            (self._count(mask, len(mask)), *self._distribute([x, mask, y, w]), *states))
        return loss, norm, clipped, finite, final

    def advance(self, x, mask, states):
        def replica(x, mask, *states):
            _, *final = self._state_model()([x, mask, *states], training=True)
            return [tf.stop_gradient(s) for s in final]

        return list(self._run(("advance", None), replica,
                              (*self._distribute([x, mask]), *states), updates=False))


class DistributedTensorFlowStep(_Distributed, TensorFlowStep):
    """:class:`TensorFlowStep` under a strategy."""

    @staticmethod
    def _arrays(x, mask, y, w):
        return [x, mask, y, w]

    def _replica_loss(self, args, masked, count):
        x, mask, y, w = args
        out = self._forward(x, mask, masked, training=True)
        return weighted_loss(self.task, self.per_step, y, out, w, mask, count)


class DistributedSeq2SeqStep(_Distributed, Seq2SeqTensorFlowStep):
    """:class:`Seq2SeqTensorFlowStep` under a strategy."""

    @staticmethod
    def _arrays(x, mask, y, w):
        return [*x, mask, y, w]

    def _replica_loss(self, args, masked, count):
        source, source_mask, target_in, mask, y, w = args
        out = self.model([source, source_mask, target_in, mask], training=True)
        return weighted_loss(self.task, True, y, out, w, mask, count)
