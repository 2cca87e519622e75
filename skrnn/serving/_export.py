"""Exporting a fitted estimator as a TensorFlow SavedModel (or ONNX) that
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

A ``Seq2SeqTransformer`` (source ``tokens`` / ``values`` and ``lengths``, or one vector
per sample as ``values`` ``(batch, n_features)``) decodes greedily inside the graph (a
``tf.while_loop`` over the one-step decoder, as ``decoding="greedy"`` does) and returns
``prediction``: strings for string targets; ``tokens`` and ``lengths`` for token-list
targets; values in the target's units and ``lengths`` for numeric targets (with
``quantiles`` or ``std`` as ``predict_quantiles`` / ``return_std`` give them).
Loading needs TensorFlow alone (``tf.saved_model.load``), neither Keras nor skrnn.

The graph checks its inputs as ``predict`` does (:func:`_guard`): ``lengths`` (and the
covariates) hold one row per sequence, every length is at least 1 and at most the
number of steps, values are finite on the real steps. A SavedModel stops a call that
breaks one with ``tf.errors.InvalidArgumentError`` whose message starts ``skrnn:`` and
names the rule. ONNX has no way to raise, so an ONNX file has one more output,
``valid`` (bool, one per sequence): a row whose ``valid`` is False holds an answer to
inputs ``predict`` would refuse and must be discarded (all rows are False when the batch
sizes differ).
"""

from __future__ import annotations

import numpy as np

from ..data import fitted_covariates

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


def _guard(tf, inputs, lengths=None, static=None, future=None, *, numeric=True,
           assert_=True, least=1):
    """The serving graph's own input checks, those ``predict`` makes: one length per
    sequence, static and future covariates for every sequence, ``1 <= length <=
    steps``, values finite on the real steps (padding may hold anything).

    ``assert_=True`` (SavedModel): ``tf.debugging`` assertions that stop the call with
    a message naming the problem, and everything after them waits on them. Else
    (ONNX, which cannot raise): ``valid``, a bool per sequence, False for a sequence
    whose inputs ``predict`` would refuse (all False when the batch sizes differ).
    Returns ``(inputs, lengths, static, future, valid)``."""
    n = tf.shape(inputs)[0]
    same = [tf.equal(tf.shape(t)[0], n) for t in (lengths, static, future) if t is not None]
    names = [name for name, t in (("lengths", lengths), ("static", static),
                                  ("future", future)) if t is not None]
    if assert_:
        checks = [tf.debugging.Assert(ok, [f"skrnn: {name} must hold one row per sequence "
                                           "of the inputs (their batch sizes differ)"])
                  for ok, name in zip(same, names)]
        with tf.control_dependencies(checks):
            inputs, lengths, static, future = (None if t is None else tf.identity(t)
                                               for t in (inputs, lengths, static, future))
    valid = tf.ones([n], tf.bool)
    problems = []
    if lengths is not None:
        steps = tf.shape(inputs)[1]
        ok = (lengths >= least) & (lengths <= steps)
        problems.append((ok, f"skrnn: every length must be at least {least} and at most "
                             "the number of steps of the inputs"))
        mask = tf.sequence_mask(tf.clip_by_value(lengths, 0, steps), steps)
    if numeric:
        finite = tf.math.is_finite(inputs)
        if lengths is not None:
            finite = finite | ~mask[..., None]
        rank = len(inputs.shape)
        problems.append((tf.reduce_all(finite, axis=list(range(1, rank))),
                         "skrnn: values must be finite (NaN or infinity on a real step)"))
    for extra, name in ((static, "static"), (future, "future")):
        if extra is not None:
            problems.append((tf.reduce_all(tf.math.is_finite(extra),
                                           axis=list(range(1, len(extra.shape)))),
                             f"skrnn: {name} covariates must be finite"))
    if assert_:
        checks = [tf.debugging.Assert(tf.reduce_all(ok), [message])
                  for ok, message in problems]
        with tf.control_dependencies(checks):
            inputs, lengths, static, future = (None if t is None else tf.identity(t)
                                               for t in (inputs, lengths, static, future))
        return inputs, lengths, static, future, None
    for ok, _ in problems:
        valid = valid & ok
    for ok in same:
        valid = valid & ok
    return inputs, lengths, static, future, valid


def _labels(classes):
    """The classes as a tensor-ready array (strings for object arrays of strings)."""
    classes = np.asarray(classes)
    if classes.dtype == object:
        if not all(isinstance(c, str) for c in classes):
            raise ValueError("export needs class labels that are all strings or all "
                             f"numbers; got {sorted({type(c).__name__ for c in classes})}.")
        classes = classes.astype(str)
    return classes


def _ends(tf, estimator):
    """What both serving functions of an RNNClassifier / RNNRegressor share:
    ``(input_signature, prepare, answer, table)``. The signature is the steps
    (``values`` or ``tokens``), ``lengths`` and, if fitted with them, ``static``;
    ``prepare(inputs, mask, static)`` gives the network's input as ``predict`` makes
    it (token ids, or scaled values with the static covariates appended);
    ``answer(out)`` what ``predict`` / ``predict_proba`` return from the network's
    outputs (any leading axes)."""
    classifier = hasattr(estimator, "classes_")
    tokens = estimator._input_kind == "tokens"
    lengths_spec = tf.TensorSpec((None,), tf.int32, name="lengths")
    table = _token_table(tf, estimator.vocabulary_) if tokens else None
    if tokens:
        signature = [tf.TensorSpec((None, None), tf.string, name="tokens"), lengths_spec]
    else:
        n_features = estimator._n_step_features
        mode, stats = estimator._input_scaling()
        if stats is not None:  # constants made inside serve: ONNX captures no inputs
            stats = tuple(np.asarray(s, np.float64) for s in stats)
        signature = [tf.TensorSpec((None, None, n_features), tf.float32, name="values"),
                     lengths_spec]
    static_spec, static_stats = _static_input(tf, estimator)
    signature += static_spec
    if classifier:
        labels = _labels(estimator.classes_)
    else:
        y_mean = np.asarray(estimator._y_mean, np.float64)
        y_scale = np.asarray(estimator._y_scale, np.float64)
        squeeze = estimator._y_ndim == 1
        task = estimator._loss_task()

    def prepare(inputs, mask, static):
        if tokens:
            return tf.where(mask, table.lookup(inputs), tf.zeros_like(mask, tf.int32))
        return _with_static(tf, _scale(tf, inputs, mask, mode, stats), mask, static,
                            static_stats)

    def answer(out):
        if not classifier:  # (the loss's transforms in float32, as predict's)
            return _regression_outputs(tf, task, out, y_mean, y_scale, squeeze,
                                       getattr(estimator, "interval_calibration_", None))
        out = tf.cast(out, tf.float64)
        return {"probabilities": tf.nn.softmax(out, axis=-1),
                "label": tf.gather(tf.constant(labels), tf.argmax(out, axis=-1))}

    return signature, prepare, answer, table


def _serving(estimator, onnx=False):
    """``(serve, input_signature, model, lookup table or None)``: the serving function
    of an RNNClassifier / RNNRegressor; ``onnx``: with a ``valid`` output instead of
    assertions (see :func:`_guard`)."""
    import tensorflow as tf

    model = estimator.model_
    signature, prepare, answer, table = _ends(tf, estimator)
    tokens = table is not None

    def serve(inputs, lengths, static=None):
        inputs, lengths, static, _, valid = _guard(tf, inputs, lengths, static,
                                                   numeric=not tokens, assert_=not onnx)
        mask = tf.sequence_mask(lengths, maxlen=tf.shape(inputs)[1])
        result = answer(model([prepare(inputs, mask, static), mask], training=False))
        return result if valid is None else {**result, "valid": valid}

    return serve, signature, model, table


def _stream_serving(estimator, onnx=False):
    """The streaming ``step`` of an RNNClassifier / RNNRegressor: ``(new steps, lengths,
    [static], state) -> outputs after every new step and the new state``, the state
    every carried field side by side in one float32 ``(batch, width)`` tensor (see
    :mod:`skrnn.streaming`); and ``initial_state``."""
    import tensorflow as tf

    from ..streaming._engine import StreamEngine

    engine = StreamEngine(estimator.model_, estimator._spec)
    initial = engine.initial_row()
    signature, prepare, answer, table = _ends(tf, estimator)
    tokens = table is not None
    signature = signature + [tf.TensorSpec((None, engine.width), tf.float32, name="state")]
    names_in = [spec.name for spec in signature]

    def step(*args):
        named = dict(zip(names_in, args))
        inputs, lengths, state = args[0], named["lengths"], named["state"]
        static = named.get("static")
        inputs, lengths, static, _, valid = _guard(
            tf, inputs, lengths, static, numeric=not tokens, assert_=not onnx, least=0)
        n = tf.shape(inputs)[0]
        same = tf.equal(tf.shape(state)[0], n)
        if onnx:
            valid = valid & same & tf.reduce_all(tf.math.is_finite(state), axis=1)
        else:
            check = tf.debugging.Assert(same, ["skrnn: state must hold one row per "
                                               "sequence of the inputs"])
            with tf.control_dependencies([check]):
                state = tf.identity(state)
        mask = tf.sequence_mask(lengths, maxlen=tf.shape(inputs)[1])
        carried = engine.unpack(state)
        out, new = engine.step(prepare(inputs, mask, static), mask, carried)
        result = answer(out)
        result["new_state"] = engine.pack(new, carried)
        return result if valid is None else {**result, "valid": valid}

    def initial_state(n):
        return {"state": tf.tile(tf.constant(initial[None, :], tf.float32), [n, 1])}

    return step, signature, initial_state, estimator.model_, table


def _static_input(tf, estimator):
    """``([static TensorSpec], (mean, scale))`` for an estimator fitted with static
    covariates, else ``([], None)``."""
    stats = fitted_covariates(estimator).static
    if stats is None:
        return [], None
    return ([tf.TensorSpec((None, len(stats[0])), tf.float32, name="static")],
            tuple(np.asarray(a, np.float64) for a in stats))


def _standardised(tf, values, stats):
    return tf.cast((tf.cast(values, tf.float64) - tf.constant(stats[0]))
                   / tf.constant(stats[1]), tf.float32)


def _with_static(tf, x, mask, static, stats):
    """Standardised static covariates appended to every real step (as ``predict``)."""
    if static is None:
        return x
    rows = _standardised(tf, static, stats)[:, None, :]
    steps = tf.cast(mask, tf.float32)[..., None] * rows
    return tf.concat([x, steps], axis=-1)


def _regression_outputs(tf, task, out, y_mean, y_scale, squeeze, adjust=None):
    """A regressor's ``prediction`` in the target's units, with its ``quantiles``
    (``loss="quantile"``) or ``std`` (``loss="gaussian"``), as ``predict`` gives them
    (``adjust``: its ``interval_calibration_``)."""
    from ..training._losses import calibrated_spread, gaussian_outputs, quantile_outputs

    mean, scale = tf.constant(y_mean), tf.constant(y_scale)
    name = getattr(task, "name", "squared_error")
    result = {}
    if name == "quantile":
        q = quantile_outputs(out, len(task.quantiles))
        out = tf.cast(q[..., task.quantiles.index(0.5)], tf.float64)
        q = tf.cast(calibrated_spread(task, q, adjust), tf.float64)
        q = q * scale[:, None] + mean[:, None]
        result["quantiles"] = q[..., 0, :] if squeeze else q
    elif name == "gaussian":
        out, std = gaussian_outputs(out)
        out, std = (tf.cast(a, tf.float64) for a in (out, calibrated_spread(task, std, adjust)))
        result["std"] = std[..., 0] * scale[0] if squeeze else std * scale
    out = tf.cast(out, tf.float64) * scale + mean
    result["prediction"] = out[..., 0] if squeeze else out
    return result


def _token_table(tf, vocabulary):
    """Tokens (as strings) to ids 2, 3, ...; anything else to the out-of-vocabulary 1."""
    tokens = [str(t) for t in vocabulary.tokens_]
    if len(set(tokens)) != len(tokens):
        raise ValueError("export needs tokens that stay distinct as strings.")
    return tf.lookup.StaticHashTable(tf.lookup.KeyValueTensorInitializer(
        tf.constant(tokens, tf.string), tf.range(2, len(tokens) + 2, dtype=tf.int32)),
        default_value=1)


def _seq2seq_serving(est):
    """The serving function of a Seq2SeqTransformer: the source read as ``predict``
    reads it, encoded, and decoded greedily in a ``tf.while_loop``."""
    import tensorflow as tf

    source, numeric = est._source_kind, est._target_kind != "tokens"
    encoder, step_model = est._encoder, est._decoder_step
    table = _token_table(tf, est.source_vocabulary_) if source == "tokens" else None
    lengths_spec = tf.TensorSpec((None,), tf.int32, name="lengths")
    signature = {"tokens": [tf.TensorSpec((None, None), tf.string, name="tokens"),
                            lengths_spec],
                 "numeric": [tf.TensorSpec((None, None, est._n_source_features),
                                           tf.float32, name="values"), lengths_spec],
                 "vector": [tf.TensorSpec((None, est._n_source_features), tf.float32,
                                          name="values")]}[source]
    horizon = est._numeric_horizon if numeric else None
    max_length = int(est._decode_length())
    static_spec, static_stats = _static_input(tf, est)
    future_stats = fitted_covariates(est).future
    signature = signature + static_spec + (
        [] if future_stats is None else
        [tf.TensorSpec((None, None, len(future_stats[0])), tf.float32, name="future")])
    names_in = [spec.name for spec in signature]
    if numeric:
        n_features = len(est._y_mean)
        y_mean, y_scale = (np.asarray(a, np.float64) for a in (est._y_mean, est._y_scale))
        task = est._loss_task()

        def point(value, t=None):  # what the decoder is fed back: the median or the mean
            fed = _regression_outputs(tf, task, value, np.zeros_like(y_mean),
                                      np.ones_like(y_scale), False)["prediction"]
            return tf.ensure_shape(tf.cast(fed, tf.float32), [None, n_features])

        n_paths, seed = est._path_count(), est._path_seed()
    else:  # id -> token: the vocabulary's tokens from id 2, "" for the special ids
        names = [""] * (max(est._start, est._end) + 1)
        names[2:est._end] = [str(t) for t in est.target_vocabulary_.tokens_]

    def decode(memory, mask, states, n, future, feed=None):
        """Greedy decoding; ``feed(value, t)`` (sample paths) replaces the point fed
        back, and what it fed is returned instead of the raw outputs."""
        extra = [memory, mask] if memory is not None else []
        length0 = tf.fill([n], max_length)

        def with_future(values, t):  # step t's covariates beside the value fed back
            return values if future is None else tf.concat([values, future[:, t:t + 1]], -1)

        if numeric:
            previous = with_future(tf.zeros([n, 1, n_features], tf.float32), 0)
        else:
            previous = tf.fill([n, 1], tf.constant(est._start, tf.int32))
        outputs = tf.TensorArray(tf.float32 if numeric else tf.int32, size=max_length)

        def body(t, previous, states, lengths, outputs):
            out = step_model([previous, *extra, *states], training=False)
            head, states = out[0], list(out[1:])
            if numeric:
                value, stop = head[:, :-1], head[:, -1]
                if horizon is None:  # a row ends at the first step after the first
                    lengths = tf.where((lengths == max_length) & (stop > 0.0) & (t > 0),
                                       t, lengths)
                fed = (feed or point)(value, t)
                return (t + 1, with_future(fed[:, None, :], t + 1), states, lengths,
                        outputs.write(t, value if feed is None else fed))
            done = lengths < max_length
            choice = tf.where(done, est._end, tf.cast(tf.argmax(head, -1), tf.int32))
            lengths = tf.where(~done & (choice == est._end), t, lengths)
            return t + 1, choice[:, None], states, lengths, outputs.write(t, choice)

        _, _, _, lengths, outputs = tf.while_loop(
            lambda t, *_: t < max_length, body,
            (tf.constant(0), previous, list(states), length0, outputs))
        stacked = outputs.stack()  # (steps, n, ...)
        return tf.transpose(stacked, [1, 0, 2] if numeric else [1, 0]), lengths

    def serve(*args):
        named = dict(zip(names_in, args))
        inputs, lengths = args[0], named.get("lengths")
        static, future = named.get("static"), named.get("future")
        inputs, lengths, static, future, _ = _guard(
            tf, inputs, lengths, static, future, numeric=table is None)
        n = tf.shape(inputs)[0]
        if source == "vector":
            x, mask = inputs, tf.ones([n, 1], tf.bool)
            if static is not None:
                x = tf.concat([x, _standardised(tf, static, static_stats)], axis=-1)
        else:
            mask = tf.sequence_mask(lengths, maxlen=tf.shape(inputs)[1])
            x = (tf.where(mask, table.lookup(inputs), tf.zeros_like(lengths[:, None]))
                 if table is not None else _with_static(
                     tf, inputs * tf.cast(mask, tf.float32)[..., None], mask, static,
                     static_stats))
        if future is not None:  # standardised, zeros past the steps given (as predict)
            future = _standardised(tf, future, future_stats)[:, :max_length + 1]
            future = tf.pad(future, [[0, 0], [0, max_length + 1 - tf.shape(future)[1]],
                                     [0, 0]])
        # tf.identity: new tensors without the Keras mask the encoder attached (the
        # step model takes the mask explicitly)
        encoded = [tf.identity(e) for e in
                   tf.nest.flatten(encoder([x, mask], training=False))]
        memory, states = (encoded[0], encoded[1:]) if source != "vector" else (None, encoded)
        out, out_lengths = decode(memory, mask, states, n, future)
        if numeric:  # the point, and the quantiles or the std, in the target's units
            result = _regression_outputs(tf, task, out, y_mean, y_scale, False)
            if n_paths:  # as predict_quantiles / return_std: the spread of sample paths
                rep = lambda a: None if a is None else tf.repeat(a, n_paths, 0)  # noqa: E731
                sampled, _ = decode(rep(memory), rep(mask), [rep(s) for s in states],
                                    n * n_paths, rep(future),
                                    lambda v, t: tf.ensure_shape(_draw(
                                        tf, task, v, tf.stack([seed, t])), [None, n_features]))
                result.update(_path_spread(tf, task, tf.reshape(sampled, [
                    n, n_paths, max_length, n_features]), y_mean, y_scale))
            return {**result, "lengths": out_lengths}
        tokens = tf.gather(tf.constant(names), out)
        valid = tf.sequence_mask(out_lengths, maxlen=max_length)
        tokens = tf.where(valid, tokens, "")
        if est._target_strings:
            return {"prediction": tf.strings.reduce_join(tokens, axis=1)}
        return {"tokens": tokens, "lengths": out_lengths}

    return serve, signature, est.model_, table


def _draw(tf, task, value, seed):
    """One draw per row from the predicted distribution (standardised), as ``predict``
    draws it, the noise from TensorFlow's stateless generator."""
    from ..training._losses import sample_outputs

    shape = tf.concat([tf.shape(value)[:-1], [tf.shape(value)[-1] // task.columns]], 0)
    noise = (tf.random.stateless_normal(shape, seed) if task.name == "gaussian"
             else tf.random.stateless_uniform(shape, seed))
    return sample_outputs(task, value, noise)


def _path_spread(tf, task, paths, y_mean, y_scale):
    """``quantiles`` (linear between order statistics, as ``np.quantile``) or ``std``
    over the paths axis of ``(n, paths, steps, k)``, in the target's units."""
    paths = tf.cast(paths, tf.float64)
    if task.name == "gaussian":
        return {"std": tf.math.reduce_std(paths, axis=1) * tf.constant(y_scale)}
    ordered, last = tf.sort(paths, axis=1), int(paths.shape[1]) - 1
    columns = []
    for level in task.quantiles:
        pos = level * last
        lo = int(np.floor(pos))
        hi, frac = min(lo + 1, last), pos - lo
        columns.append(ordered[:, lo] + frac * (ordered[:, hi] - ordered[:, lo]))
    q = tf.stack(columns, axis=-1)
    return {"quantiles": q * tf.constant(y_scale)[:, None] + tf.constant(y_mean)[:, None]}


def _serving_of(estimator, onnx=False):
    """The serving function of any estimator, on the TensorFlow backend."""
    import keras

    if keras.backend.backend() != "tensorflow":
        raise ValueError(
            "export needs the TensorFlow backend of Keras (this process runs "
            f"{keras.backend.backend()!r}): save the estimator with est.save(path), load "
            "it with skrnn.load under KERAS_BACKEND=tensorflow, and export there.")
    if getattr(estimator, "_step", None) is not None:
        estimator._step.sync_to_model()
    if hasattr(estimator, "_decoder_step"):
        return _seq2seq_serving(estimator)
    return _serving(estimator, onnx=onnx)


def export_saved_model(estimator, path, streaming=False) -> None:
    """Write ``estimator`` to ``path`` as a SavedModel (see the module's docstring);
    ``streaming``: with the ``step`` and ``initial_state`` signatures."""
    import keras

    serve, signature, model, table = _serving_of(estimator)
    archive = keras.export.ExportArchive()
    archive.track(model)
    if table is not None:
        archive.track(table)
    archive.add_endpoint("serve", serve, input_signature=signature)
    if streaming:
        import tensorflow as tf

        step, step_signature, initial_state, _, _ = _stream_serving(estimator)
        archive.add_endpoint("step", step, input_signature=step_signature)
        archive.add_endpoint("initial_state", initial_state, input_signature=[
            tf.TensorSpec((), tf.int32, name="n")])
    archive.write_out(str(path), verbose=False)


def export_onnx(estimator, path, streaming=False) -> None:
    """Write ``estimator`` to ``path`` as an ONNX model (numeric sequences): the same
    inputs and outputs as the SavedModel, converted by tf2onnx (opset 17);
    ``streaming``: the ``step`` function instead (the initial state is documented)."""
    if hasattr(estimator, "_decoder_step"):
        raise ValueError("format='onnx' exports RNNClassifier and RNNRegressor; export a "
                         "Seq2SeqTransformer with format='tf_saved_model'.")
    if estimator._input_kind == "tokens":
        raise ValueError("format='onnx' exports models of numeric sequences; export a "
                         "model of tokens with format='tf_saved_model' (its vocabulary "
                         "lookup stays in the graph there).")
    try:
        import tf2onnx
    except ImportError as exc:
        raise ImportError("format='onnx' needs tf2onnx: pip install 'skrnn[export]'.") from exc
    import tensorflow as tf

    if streaming:
        _serving_of(estimator)  # the backend check, the trained weights in the model
        serve, signature, _, _, _ = _stream_serving(estimator, onnx=True)
    else:
        serve, signature, _, _ = _serving_of(estimator, onnx=True)
    function = tf.function(serve, input_signature=signature)
    tf2onnx.convert.from_function(function, input_signature=signature, opset=ONNX_OPSET,
                                  output_path=str(path))


class ExportMixin:
    """``export(path, format=...)`` for the three estimators."""

    def export(self, path, format: str = "tf_saved_model",  # noqa: A002
               streaming: bool = False) -> None:
        """Write the fitted estimator for serving, preprocessing and label decoding
        inside.

        ``format="tf_saved_model"``: a TensorFlow SavedModel whose ``serving_default``
        signature takes a padded batch (``values`` float32 ``(batch, steps,
        n_features)``, or ``tokens`` strings ``(batch, steps)``) and its ``lengths``,
        and returns ``label`` and ``probabilities`` (classifier) or ``prediction`` in
        the target's units (regressor); a Seq2SeqTransformer decodes greedily in the
        graph and returns ``prediction`` (strings, or values with ``lengths``) or
        ``tokens`` and ``lengths``. It loads with TensorFlow alone
        (``tf.saved_model.load``). ``format="onnx"`` (RNNClassifier and RNNRegressor
        on numeric sequences; needs
        ``pip install 'skrnn[export]'``): one ``.onnx`` file with the same inputs and
        outputs plus ``valid`` (one bool per sequence), for ``onnxruntime``. Both need
        the TensorFlow backend.

        The graphs check their inputs as ``predict`` does (lengths between 1 and the
        number of steps, one per sequence; finite values on the real steps): the
        SavedModel raises ``InvalidArgumentError`` naming the rule ("skrnn: ..."); ONNX
        cannot raise, so discard every row whose ``valid`` output is False.

        ``streaming=True`` (RNNClassifier and RNNRegressor; see docs/streaming.md):
        the SavedModel gains a ``step`` signature, ``(values or tokens (batch, k),
        lengths (batch,) of new steps, 0 allowed, [static], state (batch, width)) ->
        the outputs after every new step (as above, with a steps axis) and
        new_state``, and ``initial_state(n)``; with ``format="onnx"`` the file is that
        ``step`` (with ``valid``), and ``est.stream().initial_state(n)`` gives the
        state a series starts from. Equal to ``Stream.update`` (1e-5)."""
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(self)
        if format not in FORMATS:
            raise ValueError(f"format must be one of {FORMATS}, got {format!r}.")
        if streaming:
            from ..streaming import why_not_streamable

            why = why_not_streamable(self)
            if why is None and hasattr(self, "_decoder_step"):
                why = ("a Seq2SeqTransformer's streaming export is not built (its "
                       "forecast decodes in Python); serve est.stream() instead")
            if why is not None:
                raise ValueError(f"export(streaming=True): {why}.")
        (export_onnx if format == "onnx" else export_saved_model)(self, path, streaming)
