"""Exporting a fitted RNNClassifier / RNNRegressor as a TensorFlow SavedModel that
serves raw inputs: the preprocessing and the label decoding run inside the graph.

The serving signature (``serving_default``) takes a padded batch and the lengths:

- numeric sequences: ``values`` float32 ``(batch, steps, n_features)`` and ``lengths``
  int32 ``(batch,)``; the input scaling the estimator learned (per feature, or each
  sequence's own) is applied to the real steps in the graph;
- token sequences: ``tokens`` string ``(batch, steps)`` (padding: any string) and
  ``lengths``; the vocabulary is a lookup table in the graph (unknown tokens map to the
  out-of-vocabulary id, as in ``predict``).

It returns what ``predict`` / ``predict_proba`` return: a classifier's ``label`` and
``probabilities``, a regressor's ``prediction`` in the target's units; per step
(``return_sequences=True``) with a steps axis, padded steps to be cut with ``lengths``.
Loading needs TensorFlow alone (``tf.saved_model.load``), neither Keras nor skrnn.
"""

from __future__ import annotations

import numpy as np

FORMATS = ("tf_saved_model", "onnx")
ONNX_OPSET = 17


def _scale(tf, values, mask, mode, stats):
    """The estimator's input scaling (``skrnn.data.apply_scaling``), in float64 on the
    real steps; padded steps are zeros."""
    x = tf.cast(values, tf.float64)
    real = tf.cast(mask, tf.float64)[..., None]
    if mode == "feature":
        x = (x - tf.constant(stats[0])) / tf.constant(stats[1])
    elif mode == "sequence":
        n = tf.maximum(tf.reduce_sum(real, axis=1, keepdims=True), 1.0)
        mean = tf.reduce_sum(x * real, axis=1, keepdims=True) / n
        std = tf.sqrt(tf.reduce_sum(tf.square((x - mean) * real), axis=1, keepdims=True) / n)
        x = (x - mean) / tf.where(std > 1e-12, std, tf.ones_like(std))
    return tf.cast(x * real, tf.float32)


def _labels(classes):
    """The classes as a tensor-ready array (strings for object arrays of strings)."""
    classes = np.asarray(classes)
    if classes.dtype == object:
        if not all(isinstance(c, str) for c in classes):
            raise ValueError("export needs class labels that are all strings or all "
                             f"numbers; got {sorted({type(c).__name__ for c in classes})}.")
        classes = classes.astype(str)
    return classes


def _serving(estimator):
    """``(serve, input_signature, model, lookup table or None)``: the serving function
    of ``estimator`` on the TensorFlow backend."""
    import keras

    if keras.backend.backend() != "tensorflow":
        raise ValueError(
            "export needs the TensorFlow backend of Keras (this process runs "
            f"{keras.backend.backend()!r}): save the estimator with est.save(path), load "
            "it with skrnn.load under KERAS_BACKEND=tensorflow, and export there.")
    import tensorflow as tf

    model = estimator.model_
    if getattr(estimator, "_step", None) is not None:
        estimator._step.sync_to_model()
    classifier = hasattr(estimator, "classes_")
    tokens = estimator._input_kind == "tokens"
    lengths_spec = tf.TensorSpec((None,), tf.int32, name="lengths")
    table = None
    if tokens:
        vocabulary = [str(t) for t in estimator.vocabulary_.tokens_]
        if len(set(vocabulary)) != len(vocabulary):
            raise ValueError("export needs tokens that stay distinct as strings.")
        table = tf.lookup.StaticHashTable(
            tf.lookup.KeyValueTensorInitializer(
                tf.constant(vocabulary, tf.string),
                tf.range(2, len(vocabulary) + 2, dtype=tf.int32)), default_value=1)
        signature = [tf.TensorSpec((None, None), tf.string, name="tokens"), lengths_spec]
    else:
        n_features = estimator._spec.n_features
        mode, stats = estimator._input_scaling()
        if stats is not None:  # constants made inside serve: ONNX captures no inputs
            stats = tuple(np.asarray(s, np.float64) for s in stats)
        signature = [tf.TensorSpec((None, None, n_features), tf.float32, name="values"),
                     lengths_spec]
    if classifier:
        labels = _labels(estimator.classes_)
    else:
        y_mean = np.asarray(estimator._y_mean, np.float64)
        y_scale = np.asarray(estimator._y_scale, np.float64)
        squeeze = estimator._y_ndim == 1

    def serve(inputs, lengths):
        mask = tf.sequence_mask(lengths, maxlen=tf.shape(inputs)[1])
        if tokens:
            x = tf.where(mask, table.lookup(inputs), tf.zeros_like(lengths[:, None]))
        else:
            x = _scale(tf, inputs, mask, mode, stats)
        out = tf.cast(model([x, mask], training=False), tf.float64)
        if classifier:
            return {"probabilities": tf.nn.softmax(out, axis=-1),
                    "label": tf.gather(tf.constant(labels), tf.argmax(out, axis=-1))}
        out = out * tf.constant(y_scale) + tf.constant(y_mean)
        return {"prediction": out[..., 0] if squeeze else out}

    return serve, signature, model, table


def export_saved_model(estimator, path) -> None:
    """Write ``estimator`` to ``path`` as a SavedModel (see the module's docstring)."""
    import keras

    serve, signature, model, table = _serving(estimator)
    archive = keras.export.ExportArchive()
    archive.track(model)
    if table is not None:
        archive.track(table)
    archive.add_endpoint("serve", serve, input_signature=signature)
    archive.write_out(str(path), verbose=False)


def export_onnx(estimator, path) -> None:
    """Write ``estimator`` to ``path`` as an ONNX model (numeric sequences): the same
    inputs and outputs as the SavedModel, converted by tf2onnx (opset 17)."""
    if estimator._input_kind == "tokens":
        raise ValueError("format='onnx' exports models of numeric sequences; export a "
                         "model of tokens with format='tf_saved_model' (its vocabulary "
                         "lookup stays in the graph there).")
    try:
        import tf2onnx
    except ImportError as exc:
        raise ImportError("format='onnx' needs tf2onnx: pip install 'skrnn[export]'.") from exc
    import tensorflow as tf

    serve, signature, _, _ = _serving(estimator)
    function = tf.function(serve, input_signature=signature)
    tf2onnx.convert.from_function(function, input_signature=signature, opset=ONNX_OPSET,
                                  output_path=str(path))


class ExportMixin:
    """``export(path, format=...)`` for RNNClassifier and RNNRegressor."""

    def export(self, path, format: str = "tf_saved_model") -> None:  # noqa: A002
        """Write the fitted estimator for serving, preprocessing and label decoding
        inside.

        ``format="tf_saved_model"``: a TensorFlow SavedModel whose ``serving_default``
        signature takes a padded batch (``values`` float32 ``(batch, steps,
        n_features)``, or ``tokens`` strings ``(batch, steps)``) and its ``lengths``,
        and returns ``label`` and ``probabilities`` (classifier) or ``prediction`` in
        the target's units (regressor); it loads with TensorFlow alone
        (``tf.saved_model.load``). ``format="onnx"`` (numeric sequences; needs
        ``pip install 'skrnn[export]'``): one ``.onnx`` file with the same inputs and
        outputs, for ``onnxruntime``. Both need the TensorFlow backend."""
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(self)
        if format not in FORMATS:
            raise ValueError(f"format must be one of {FORMATS}, got {format!r}.")
        (export_onnx if format == "onnx" else export_saved_model)(self, path)
