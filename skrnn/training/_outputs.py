"""What a model under training computes besides its updates: outputs in input order
(prediction and validation scores) and its normalisation statistics' calibration."""

from __future__ import annotations

import numpy as np

from ..data import SupervisedSet, bucket_batches, pad_batch


def progress_bar(n_batches: int, verbose: int):
    """Keras' ``Progbar`` over ``n_batches`` when ``verbose == 1``, else None."""
    if verbose != 1 or n_batches < 1:
        return None
    import keras

    return keras.utils.Progbar(n_batches, unit_name="batch",
                               stateful_metrics=["loss", "val_loss", "val_score"])


def predict_outputs(step, x, lengths, batch_size: int, per_step: bool, verbose: int = 0):
    """Model outputs for every sequence, in input order.

    Sequences are batched by length (sorted), so each batch is padded little in time.
    Every batch is padded to ``batch_size`` rows: the matrix kernels then always see
    the same shapes, which makes a sequence's output bit-identical whatever else is
    predicted with it (alone, in another order, in a subset) and keeps the number of
    compiled shapes small.
    Returns ``(n, n_outputs)`` or, with ``per_step``, a list of ``(T_i, n_outputs)``.
    ``verbose=1`` shows a progress bar.
    """
    lengths = np.asarray(lengths)
    results = [None] * len(x)
    batches = bucket_batches(lengths, batch_size)
    bar = progress_bar(len(batches), verbose)
    for b, idx in enumerate(batches):
        xb, mask = pad_batch(x, idx, lengths, dtype=x[idx[0]].dtype)
        if len(idx) < batch_size:
            extra = batch_size - len(idx)
            xb = np.concatenate([xb, np.zeros((extra,) + xb.shape[1:], xb.dtype)])
            mask = np.concatenate([mask, np.zeros((extra,) + mask.shape[1:], bool)])
            # Filler rows copy a real row's mask: no empty means, and a batch without
            # padding in time stays one (the unmasked graph: no second trace).
            mask[len(idx):] = mask[len(idx) - 1]
        out = step.predict(xb, mask)
        for row, i in enumerate(idx):
            results[i] = out[row, :lengths[i]] if per_step else out[row]
        if bar is not None:
            bar.update(b + 1)
    return results if per_step else np.stack(results)


def calibrate_normalisation(step, data: SupervisedSet, batch_size: int) -> None:
    """Give every convolutional block's batch normalisation the exact statistics of
    ``data`` under the final weights (see :meth:`skrnn.models.ConvBlock.calibrate`)."""
    from ..models import ConvBlock

    model = step.model
    blocks = [layer for layer in model.layers if isinstance(layer, ConvBlock)]
    if not blocks or not len(data):
        return
    step.sync_to_model()
    embedding = next((layer for layer in model.layers
                      if layer.name == "embedding"), None)

    def batches():
        for idx in bucket_batches(data.lengths, batch_size):
            x, mask, _, _ = data.batch(idx)
            yield (x if embedding is None else embedding(x)), mask

    for block in blocks:  # a block reads the (embedded) input in either mode
        block.calibrate(batches)
