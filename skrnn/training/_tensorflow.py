"""The TensorFlow step: ``tf.function`` + ``GradientTape``."""

from __future__ import annotations

import tensorflow as tf

from ._step import Step, clip_gradients, weighted_loss


class TensorFlowStep(Step):
    """Compiled train / evaluate / predict steps for the TensorFlow backend.

    ``reduce_retracing`` lets TensorFlow generalise the batch and time dimensions to
    ``None`` after the first shape change, so variable-length batches cost at most a
    couple of traces, not one per shape.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from ..models import without_mask

        self.unmasked = without_mask(self.model)
        self.optimizer.build(self.model.trainable_variables)
        self._train = tf.function(self._train_impl, reduce_retracing=True)
        self._evaluate = tf.function(self._evaluate_impl, reduce_retracing=True)
        self._predict = tf.function(self._predict_impl, reduce_retracing=True)

    def _forward(self, x, mask, masked, training):
        if masked:
            return self.model([x, mask], training=training)
        return self.unmasked(x, training=training)

    def _train_impl(self, x, mask, y, w, masked):
        variables = self.model.trainable_variables
        with tf.GradientTape() as tape:
            out = self._forward(x, mask, masked, training=True)
            loss = weighted_loss(self.task, self.per_step, y, out, w, mask)
        grads = tape.gradient(loss, variables)
        grads, norm = clip_gradients(grads, self.clipnorm, self.clipvalue)
        self.optimizer.apply(grads, variables)
        return loss, norm

    def _evaluate_impl(self, x, mask, y, w, masked):
        out = self._forward(x, mask, masked, training=False)
        return weighted_loss(self.task, self.per_step, y, out, w, mask)

    def _predict_impl(self, x, mask, masked):
        return self._forward(x, mask, masked, training=False)

    # ``masked`` is a Python bool: one trace for padded batches, one for equal lengths.
    def train(self, x, mask, y, w):
        return self._train(x, mask, y, w, not mask.all())

    def evaluate(self, x, mask, y, w):
        return float(self._evaluate(x, mask, y, w, not mask.all()))

    def predict(self, x, mask):
        return self._predict(x, mask, not mask.all()).numpy()

    def tracing_count(self) -> int:
        """How many times the train step was traced (compiled)."""
        return self._train.experimental_get_tracing_count()
