"""The losses a training step computes, written once with ``keras.ops`` for every
backend: cross-entropy, the squared error and the other regression losses
(:class:`RegressionLoss`), per sequence or per step, weighted and masked; and how a
regression loss's output columns are read (quantiles, Gaussian mean and scale) and
sampled."""

from __future__ import annotations

from dataclasses import dataclass

import keras
import numpy as np
from keras import ops

#: Regression losses (``RNNRegressor(loss=...)``); "squared_error" is the task "regression".
from .._options import LOSSES as REGRESSION_LOSSES

TASKS = ("classification", "regression", "regression_with_stop")


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


def calibrated_spread(task, spread, adjust):
    """A regressor's spread with its held-out calibration ``adjust`` applied
    (``RNNRegressor.interval_calibration_``; None: unchanged), standardised: the
    Gaussian's ``(..., k)`` standard deviations times ``adjust`` ``(k,)``; the ``(..., k,
    Q)`` quantiles' distances from the median (level ``median``) times ``adjust``
    ``(k, Q)``, sorted so that levels never cross. One function for ``predict``, the
    stream and the exported graph."""
    if adjust is None:
        return spread
    spread = ops.convert_to_tensor(spread)
    adjust = ops.cast(ops.convert_to_tensor(np.asarray(adjust, np.float32)), spread.dtype)
    if task.name == "gaussian":
        return spread * adjust
    median = spread[..., task.quantiles.index(0.5):task.quantiles.index(0.5) + 1]
    return ops.sort(median + (spread - median) * adjust, axis=-1)


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
