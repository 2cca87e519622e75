"""The backend interface of the training loop and the losses it computes.

One :class:`Step` per Keras backend compiles the per-batch work; the loop in
:mod:`skrnn.training._loop` only ever talks to this interface. The loss and the
clipping are written with ``keras.ops`` so every backend shares them.
"""

from __future__ import annotations

import keras
from keras import ops

TASKS = ("classification", "regression")


def weighted_loss(task: str, per_step: bool, y, out, w, mask):
    """Weighted loss, summed and divided by the number of real targets.

    ``w`` holds one weight per target (per sequence, or per step with ``per_step``);
    padded steps are excluded through ``mask``. Dividing by the count of real targets
    rather than by the sum of weights keeps Keras' meaning of sample weights: a weight
    of 2 counts a sample twice relative to the rest of its batch.
    """
    if task == "classification":
        per = keras.losses.sparse_categorical_crossentropy(y, out, from_logits=True)
    else:
        per = ops.mean(ops.square(out - y), axis=-1)
    if per_step:
        valid = ops.cast(mask, per.dtype)
        w = w * valid
        count = ops.maximum(ops.sum(valid), 1.0)
    else:
        count = ops.cast(ops.shape(per)[0], per.dtype)
    return ops.sum(per * w) / count


def clip_gradients(grads, clipnorm=None, clipvalue=None):
    """Clip like Keras' optimizer arguments: per-tensor norm, then element values.

    Returns the clipped gradients and the global norm before clipping.
    """
    global_norm = ops.sqrt(sum(ops.sum(ops.square(g)) for g in grads))
    if clipnorm is not None:
        clipped = []
        for g in grads:
            norm = ops.sqrt(ops.sum(ops.square(g)))
            clipped.append(g * ops.minimum(1.0, clipnorm / ops.maximum(norm, 1e-12)))
        grads = clipped
    if clipvalue is not None:
        grads = [ops.clip(g, -clipvalue, clipvalue) for g in grads]
    return grads, global_norm


class Step:
    """What the loop needs from a backend.

    Parameters
    ----------
    model : keras.Model
        Inputs ``[x, mask]``.
    optimizer : keras.optimizers.Optimizer
    task : {"classification", "regression"}
    per_step : bool
        Targets are per step (``return_sequences=True``).
    clipnorm, clipvalue : float or None
    """

    def __init__(self, model, optimizer, task, per_step, clipnorm=None, clipvalue=None):
        self.model = model
        self.optimizer = optimizer
        self.task = task
        self.per_step = per_step
        self.clipnorm = clipnorm
        self.clipvalue = clipvalue

    def train(self, x, mask, y, w):
        """One update on a batch; returns ``(loss, gradient_norm)`` as backend scalars.

        They are converted to floats by the loop at the end of the epoch, so the device
        is never made to wait after each batch.
        """
        raise NotImplementedError

    def evaluate(self, x, mask, y, w):
        """Loss on a batch without updating; returns a float."""
        raise NotImplementedError

    def predict(self, x, mask):
        """Model outputs (logits or values) for a batch, as a NumPy array."""
        raise NotImplementedError

    def sync_to_model(self):
        """Make ``self.model``'s variables hold the trained values (stateless backends)."""


def make_step(model, optimizer, task, per_step, clipnorm=None, clipvalue=None) -> Step:
    """The :class:`Step` for the active Keras backend."""
    backend = keras.backend.backend()
    if backend == "tensorflow":
        from ._tensorflow import TensorFlowStep

        return TensorFlowStep(model, optimizer, task, per_step, clipnorm, clipvalue)
    raise NotImplementedError(
        f"skrnn's training loop supports the TensorFlow backend of Keras; "
        f"KERAS_BACKEND={backend!r} is not supported yet. Set KERAS_BACKEND=tensorflow."
    )
