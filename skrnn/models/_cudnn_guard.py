"""TensorFlow's cuDNN path only for the masks it can take.

With a GPU, Keras 3.15's TensorFlow ``LSTM`` and ``GRU`` decide *when tracing* to run
cuDNN (``CudnnRNNV3`` with sequence lengths read from the mask) and guard it with a
``tf.Assert`` that the mask is strictly right-padded with a real step in every row: any
other mask fails that assertion when the batch runs (``InvalidArgumentError``), where
``tf.keras`` 2 chose the generic kernel at run time instead. skrnn's full-BPTT batches
are right-padded, but truncated BPTT's chunks are not: one target per sequence pads at
the front, and short sequences have chunks with no real step at all.

:func:`guard_cudnn_masks` gives each such layer instance an ``inner_loop`` that makes the
choice per batch inside the compiled function (``tf.cond``): Keras' own ``inner_loop``
(cuDNN) when the mask qualifies, the generic ``RNN.inner_loop`` otherwise — the choice
``tf.keras`` 2 made. Both give Keras' results, so only speed changes. Applied by
``make_step`` when TensorFlow sees a GPU; not a subclass, so saved models keep Keras'
classes.
"""

from __future__ import annotations

import keras
from keras import ops

from ._fused import _right_padded


def cudnn_takes(mask):
    """Whether a ``(batch, steps)`` mask is strictly right-padded with at least one real
    step per row (a boolean tensor): the masks ``CudnnRNNV3`` accepts — the fused
    kernels' own condition."""
    return _right_padded(ops.cast(mask, "bool"), ops)[1]


class GuardedLoop:
    """A layer's ``inner_loop``: Keras' (cuDNN) for masks :func:`cudnn_takes`, the
    generic loop for the rest."""

    def __init__(self, layer):
        self.layer = layer

    def _run(self, inner_loop, sequences, initial_state, mask, training):
        layer = self.layer
        # A branch must not reuse a dropout mask the other branch's graph made.
        if hasattr(layer.cell, "reset_dropout_mask"):
            layer.cell.reset_dropout_mask()
        last, outputs, states = inner_loop(layer, sequences, initial_state, mask,
                                           training=training)
        if not layer.return_sequences:
            outputs = ops.expand_dims(last, 1)
        return last, outputs, list(states)

    def __call__(self, sequences, initial_state, mask, training=False):
        import tensorflow as tf

        own = type(self.layer).inner_loop
        row_mask = mask[0] if isinstance(mask, (list, tuple)) else mask
        if row_mask is None:
            return own(self.layer, sequences, initial_state, mask, training=training)
        return tf.cond(
            cudnn_takes(row_mask),
            lambda: self._run(own, sequences, initial_state, mask, training),
            lambda: self._run(keras.layers.RNN.inner_loop, sequences, initial_state, mask,
                              training))


def gpu_visible() -> bool:
    """Whether TensorFlow places work on a GPU (where Keras takes cuDNN)."""
    import tensorflow as tf

    return bool(tf.config.list_logical_devices("GPU"))


def guard_cudnn_masks(model, force: bool = False) -> list:
    """Give each Keras ``LSTM`` / ``GRU`` of ``model`` that may take cuDNN (inside
    ``Bidirectional`` too) a :class:`GuardedLoop`, when TensorFlow sees a GPU (or with
    ``force``: tests); returns those layers. Idempotent."""
    if keras.backend.backend() != "tensorflow" or not (force or gpu_visible()):
        return []
    done = []
    for layer in model._flatten_layers(include_self=False, recursive=True):
        if (type(layer) in (keras.layers.LSTM, keras.layers.GRU)
                and getattr(layer, "use_cudnn", "auto") in ("auto", True)
                and not layer.cell.recurrent_dropout):
            if not isinstance(layer.__dict__.get("inner_loop"), GuardedLoop):
                object.__setattr__(layer, "inner_loop", GuardedLoop(layer))
            done.append(layer)
    return done
