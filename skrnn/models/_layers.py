"""Custom Keras layers, registered so fitted models save, load and pickle."""

from __future__ import annotations

import keras
from keras import ops


@keras.saving.register_keras_serializable("skrnn")
class AttentionPooling(keras.layers.Layer):
    """Attention pooling over time: a learned, masked softmax-weighted mean of steps.

    ``score_t = v . tanh(W h_t + b)``; padded steps get zero weight. The mask is passed
    explicitly (``layer(h, mask=mask)``) rather than relying on Keras mask propagation.

    Parameters
    ----------
    units : int, optional
        Size of the scoring projection; defaults to the input's feature size.
    seed : int, optional
        Seed of the weight initialisers.
    """

    def __init__(self, units=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.seed = seed

    def build(self, input_shape):
        dim = int(input_shape[-1])
        units = self.units or dim
        seed = self.seed
        self.w = self.add_weight(
            shape=(dim, units), name="w",
            initializer=keras.initializers.GlorotUniform(seed=seed))
        self.b = self.add_weight(shape=(units,), name="b", initializer="zeros")
        self.v = self.add_weight(
            shape=(units, 1), name="v",
            initializer=keras.initializers.GlorotUniform(
                seed=None if seed is None else seed + 1))

    def call(self, inputs, mask=None):
        scores = ops.squeeze(ops.matmul(ops.tanh(ops.matmul(inputs, self.w) + self.b),
                                        self.v), axis=-1)
        if mask is not None:
            scores = ops.where(mask, scores, ops.full_like(scores, -1e9))
        weights = ops.softmax(scores, axis=1)
        if mask is not None:
            weights = weights * ops.cast(mask, weights.dtype)
        return ops.sum(inputs * ops.expand_dims(weights, -1), axis=1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[-1])

    def compute_mask(self, inputs, mask=None):
        return None

    def get_config(self):
        config = super().get_config()
        config.update(units=self.units, seed=self.seed)
        return config
