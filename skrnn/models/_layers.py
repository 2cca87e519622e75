"""Custom Keras layers, registered so fitted models save, load and pickle."""

from __future__ import annotations

import keras
import numpy as np
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
        weights = self.attention(inputs, mask)
        return ops.sum(inputs * ops.expand_dims(weights, -1), axis=1)

    def attention(self, inputs, mask=None):
        """The weight of every step, ``(batch, steps)``: 0 on padded steps, each row
        summing to 1 over the real ones (what ``skrnn.inspection.attention_weights``
        shows)."""
        scores = ops.squeeze(ops.matmul(ops.tanh(ops.matmul(inputs, self.w) + self.b),
                                        self.v), axis=-1)
        if mask is not None:
            scores = ops.where(mask, scores, ops.full_like(scores, -1e9))
        weights = ops.softmax(scores, axis=1)
        if mask is not None:
            weights = weights * ops.cast(mask, weights.dtype)
        return weights

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[-1])

    def compute_mask(self, inputs, mask=None):
        return None

    def get_config(self):
        config = super().get_config()
        config.update(units=self.units, seed=self.seed)
        return config


@keras.saving.register_keras_serializable("skrnn")
class ConvBlock(keras.layers.Layer):
    """A fully convolutional stack (Wang et al. 2017's FCN, LSTM-FCN's branch).

    Per block: ``Conv1D(filters, kernel_size, padding="same")`` → batch normalisation →
    ReLU. Mask-aware: padded steps are set to zero before every convolution (so a real
    step near the end of a sequence sees the zeros that "same" padding would give it,
    however much padding its batch has) and batch statistics are taken over real steps
    only. A prediction therefore never depends on padding.

    Parameters
    ----------
    filters, kernel_sizes : tuple of int
        One block per entry.
    pool : bool
        Return the masked mean over real steps, ``(batch, filters[-1])``, instead of
        per-step features.
    parallel : bool
        Read by the model builder: the block runs beside the recurrent layers on the
        (embedded) input and its output is concatenated before the head, as in
        LSTM-FCN, instead of feeding the recurrent layers.
    seed : int, optional
        Seed of the convolution initialisers.
    """

    def __init__(self, filters, kernel_sizes, pool=False, parallel=False, seed=None,
                 **kwargs):
        super().__init__(**kwargs)
        self.filters = tuple(int(f) for f in filters)
        self.kernel_sizes = tuple(int(k) for k in kernel_sizes)
        self.pool = bool(pool)
        self.parallel = bool(parallel)
        self.seed = seed
        self.convs = [
            keras.layers.Conv1D(
                f, k, padding="same", name=f"conv_{i}",
                kernel_initializer=keras.initializers.HeUniform(
                    seed=None if seed is None else seed + i))
            for i, (f, k) in enumerate(zip(self.filters, self.kernel_sizes))]
        self.norms = [keras.layers.BatchNormalization(momentum=0.9, name=f"norm_{i}")
                      for i in range(len(self.filters))]

    def build(self, input_shape):
        shape = tuple(input_shape)
        for conv, norm in zip(self.convs, self.norms):
            conv.build(shape)
            shape = conv.compute_output_shape(shape)
            norm.build(shape)

    def call(self, inputs, mask=None, training=None):
        keep = None if mask is None else ops.expand_dims(ops.cast(mask, inputs.dtype), -1)
        h = inputs
        for conv, norm in zip(self.convs, self.norms):
            if keep is not None:
                h = h * keep
            h = ops.relu(norm(conv(h), training=training, mask=mask))
        if keep is not None:
            h = h * keep
        if not self.pool:
            return h
        if keep is None:
            return ops.mean(h, axis=1)
        return ops.sum(h, axis=1) / ops.maximum(ops.sum(keep, axis=1), 1.0)

    def calibrate(self, batches):
        """Set each batch normalisation's moving statistics to the exact mean and
        variance of its input over the real steps of ``batches`` ("precise BN", Wu &
        Johnson 2021), block after block, with the final weights.

        During training the moving averages trail weights that keep changing, and on
        small data sets a prediction then differs from what the network learned (on
        GunPoint: 0.98 training accuracy in training mode, 0.66 in inference mode).

        ``batches`` is a callable returning an iterable of ``(inputs, mask)``: the
        block's own inputs (embedded tokens or values) and the real-step masks.
        """
        for level, norm in enumerate(self.norms):
            total = total_sq = count = 0.0
            for inputs, mask in batches():
                keep = ops.expand_dims(ops.cast(mask, "float32"), -1)
                h = ops.convert_to_tensor(inputs, "float32")
                for conv, previous in zip(self.convs[:level], self.norms[:level]):
                    h = ops.relu(previous(conv(h * keep), training=False))
                z = ops.convert_to_numpy(self.convs[level](h * keep) * keep)
                z = z.astype(np.float64)  # float32 squares overflow long before z does
                total = total + z.sum(axis=(0, 1))
                total_sq = total_sq + np.square(z).sum(axis=(0, 1))
                count += float(ops.convert_to_numpy(ops.sum(keep)))
            if count == 0:
                return
            mean = np.asarray(total, np.float64) / count
            var = np.maximum(np.asarray(total_sq, np.float64) / count - mean ** 2, 0.0)
            if not (np.isfinite(mean).all() and np.isfinite(var).all()
                    and np.abs(mean).max(initial=0) < 1e38 and var.max(initial=0) < 1e38):
                return  # outside float32: keep the moving averages training left
            norm.moving_mean.assign(mean.astype("float32"))
            norm.moving_variance.assign(var.astype("float32"))

    def compute_output_shape(self, input_shape):
        if self.pool:
            return (input_shape[0], self.filters[-1])
        return (*input_shape[:-1], self.filters[-1])

    def compute_mask(self, inputs, mask=None):
        return None

    def get_config(self):
        config = super().get_config()
        config.update(filters=self.filters, kernel_sizes=self.kernel_sizes, pool=self.pool,
                      parallel=self.parallel, seed=self.seed)
        return config
