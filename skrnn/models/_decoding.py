"""Greedy and beam-search decoding of tokens and autoregressive decoding of numbers,
batched, written with ``keras.ops``.

Both drive a ``step(previous_tokens, states) -> (log_probs, states)`` callable: the
one-step decoder of :func:`~skrnn.models.build_seq2seq` wrapped by
:func:`step_from_model`, or any hand-built function (the tests use a table). keras-hub's
sampler would pull in tensorflow-text and more (docs/design.md), hence our own.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops


def step_from_model(step_model, memory=None, memory_mask=None):
    """Adapt the one-step decoder model to ``step(previous, states)``.

    ``previous`` is ``(N,)`` int token ids; ``memory`` / ``memory_mask`` (encoder
    outputs and source mask, already repeated per beam) are fixed for the search.
    """
    if memory is not None:
        # Via NumPy: drops the Keras mask the encoder attached (masks are explicit here).
        memory = ops.convert_to_tensor(keras.ops.convert_to_numpy(memory))
        memory_mask = ops.convert_to_tensor(keras.ops.convert_to_numpy(memory_mask))

    def step(previous, states):
        inputs = [ops.expand_dims(ops.convert_to_tensor(previous), 1)]
        if memory is not None:
            inputs += [memory, memory_mask]
        out = step_model(inputs + [ops.convert_to_tensor(s) for s in states],
                         training=False)
        logits, new_states = out[0], list(out[1:])
        return ops.log_softmax(logits, axis=-1), new_states

    return step


def greedy_decode(step, states, batch_size, start_id, end_id, max_length):
    """Pick the most likely token at every step.

    Returns
    -------
    tokens : int ndarray (batch_size, max_length)
        Padded with ``end_id`` after the end token.
    lengths : int ndarray (batch_size,)
        Tokens before the end token (the end token excluded).
    log_prob : float ndarray (batch_size,)
        Total log-probability of each decoded sequence, end token included.
    """
    previous = ops.full((batch_size,), start_id, dtype="int32")
    finished = np.zeros(batch_size, bool)
    tokens = np.full((batch_size, max_length), end_id, dtype=np.int64)
    total = np.zeros(batch_size)
    for t in range(max_length):
        log_probs, states = step(previous, states)
        log_probs = keras.ops.convert_to_numpy(log_probs)
        choice = log_probs.argmax(axis=-1)
        total += np.where(finished, 0.0, log_probs[np.arange(batch_size), choice])
        choice = np.where(finished, end_id, choice)
        tokens[:, t] = choice
        finished |= choice == end_id
        if finished.all():
            break
        previous = ops.convert_to_tensor(choice.astype("int32"))
    lengths = _lengths(tokens, end_id)
    return tokens, lengths, total


def _lengths(tokens, end_id):
    is_end = tokens == end_id
    return np.where(is_end.any(axis=1), is_end.argmax(axis=1), tokens.shape[1])


def beam_search(step, states, batch_size, start_id, end_id, max_length, beam_width=4,
                length_penalty=1.0):
    """Keep the ``beam_width`` most likely partial sequences at every step.

    ``states`` are the decoder's initial states for ``batch_size`` samples; they (and
    anything ``step`` closes over, such as the encoder outputs) must already be
    repeated ``beam_width`` times, sample-major (row ``b * beam_width + k``).

    Finished hypotheses are kept and extended only by ``end_id`` at no cost. The final
    choice maximises ``log_prob / length ** length_penalty`` (length counts the end
    token), so 0 ranks by total log-probability and 1 by the mean per token.

    Returns
    -------
    tokens, lengths, log_prob : as :func:`greedy_decode`
    """
    k = beam_width
    n = batch_size * k
    previous = ops.full((n,), start_id, dtype="int32")
    scores = np.full((batch_size, k), -np.inf)
    scores[:, 0] = 0.0  # all beams start identical: expand only the first
    finished = np.zeros((batch_size, k), bool)
    lengths = np.zeros((batch_size, k), dtype=np.int64)
    tokens = np.full((batch_size, k, max_length), end_id, dtype=np.int64)
    for t in range(max_length):
        log_probs, states = step(previous, states)
        log_probs = keras.ops.convert_to_numpy(log_probs).astype(np.float64)
        vocab = log_probs.shape[-1]
        log_probs = log_probs.reshape(batch_size, k, vocab)
        # A finished beam continues with the end token only, at no cost.
        frozen = np.full(vocab, -np.inf)
        frozen[end_id] = 0.0
        log_probs = np.where(finished[..., None], frozen, log_probs)
        candidates = (scores[..., None] + log_probs).reshape(batch_size, k * vocab)
        best = np.argsort(-candidates, axis=1, kind="stable")[:, :k]
        scores = np.take_along_axis(candidates, best, axis=1)
        beam, token = best // vocab, best % vocab
        rows = np.arange(batch_size)[:, None]
        tokens = tokens[rows, beam]
        tokens[:, :, t] = token
        was_finished = finished[rows, beam]
        lengths = lengths[rows, beam] + (~was_finished)
        finished = was_finished | (token == end_id)
        flat = (rows * k + beam).reshape(-1)
        states = [ops.take(s, ops.convert_to_tensor(flat), axis=0) for s in states]
        previous = ops.convert_to_tensor(token.reshape(-1).astype("int32"))
        if finished.all():
            break
    normalised = scores / np.maximum(lengths, 1) ** length_penalty
    pick = normalised.argmax(axis=1)
    rows = np.arange(batch_size)
    chosen = tokens[rows, pick]
    return chosen, _lengths(chosen, end_id), scores[rows, pick]


def decode_numeric(step_model, memory, memory_mask, states, batch_size, n_features,
                   max_length, stop_early=True, point=None, future=None):
    """Autoregressive decoding of numeric sequences: each predicted step is fed back as
    the next input.

    The one-step decoder outputs value columns and a stop logit (the last column) per
    row; ``point`` (optional) turns the value columns into the ``n_features`` values fed
    back (the median of quantiles, the mean of a Gaussian), beside step ``t`` of
    ``future`` (``(batch, max_length, C)`` covariates known in advance). With ``stop_early`` a row
    ends at the first step (after the first) whose stop probability exceeds 0.5,
    otherwise every row runs ``max_length`` steps (a fixed horizon). Returns
    ``(values, lengths)``: ``(batch, steps, value columns)`` standardised outputs and
    each row's length.
    """
    def with_future(values, t):
        if future is None:
            return values
        return np.concatenate([values, future[:, t:t + 1].astype(np.float32)], axis=-1)

    previous = with_future(np.zeros((batch_size, 1, n_features), np.float32), 0)
    lengths = np.full(batch_size, max_length)
    outputs = []
    for t in range(max_length):
        inputs = [previous] + ([memory, memory_mask] if memory is not None else [])
        out = step_model(inputs + list(states), training=False)
        out0 = keras.ops.convert_to_numpy(out[0])
        value, stop = out0[:, :-1], out0[:, -1]
        states = [keras.ops.convert_to_numpy(s) for s in out[1:]]
        if stop_early and t > 0:  # targets are never empty: no stop at step 0
            lengths = np.where((lengths == max_length) & (stop > 0.0), t, lengths)
            if (lengths < max_length).all():
                break
        outputs.append(value)
        fed = value if point is None else point(value)
        if t + 1 < max_length:
            previous = with_future(np.asarray(fed, np.float32)[:, None, :], t + 1)
    return np.stack(outputs, axis=1), lengths


def compiled(model):
    """``model`` as a function of its inputs for inference, compiled where eager calls
    are slow: under TensorFlow a ``tf.function`` (relaxed shapes) that reads the
    variables when called, so it follows later training. JAX runs its recurrent scan
    compiled already and torch its loop eagerly, so there the model is called as it is.
    """
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        fn = tf.function(lambda inputs: model(inputs, training=False),
                         reduce_retracing=True)
        fn._omit_frequent_tracing_warning = True  # one trace per model, as in training
        return lambda inputs, training=False: fn(inputs)
    return lambda inputs, training=False: model(inputs, training=False)


def decode_batch(encoder, step_model, src, mask, *, has_memory, **kwargs):
    """Encode one padded batch of sources and decode its outputs
    (:func:`decode_encoded`, whose keywords it takes)."""
    # flatten: an encoder with one output (a GRU's state from a vector) returns a tensor
    encoded = [ops.convert_to_numpy(t) for t in keras.tree.flatten(encoder([src, mask]))]
    memory, states = (encoded[0], encoded[1:]) if has_memory else (None, encoded)
    return decode_encoded(step_model, memory, mask, states, len(src), **kwargs)


def decode_encoded(step_model, memory, mask, states, n, *, max_length, n_features=None,
                   stop_early=True, start_id=None, end_id=None, beam_width=1,
                   length_penalty=1.0, check=None, point=None, future=None):
    """Decode ``n`` outputs from the encoder's ``memory`` (its outputs, None without
    attention), the source ``mask`` and the decoder's initial ``states``.

    Numeric targets (``n_features`` given): :func:`decode_numeric` (``point``,
    ``future`` as there),
    returning ``(standardised value columns, lengths)``. Tokens: greedy
    (``beam_width=1``) or beam search, returning ``(token ids, lengths)``.
    ``check(rows)``, if given, sees the encoder's outputs (one row per source) before
    decoding: it refuses non-finite encodings.
    """
    has_memory = memory is not None
    if check is not None:
        check(np.concatenate([e.reshape(n, -1) for e in ([memory] if has_memory else [])
                              + list(states)], axis=1))
    if n_features is not None:
        return decode_numeric(step_model, memory, mask, states, n, n_features, max_length,
                              stop_early=stop_early, point=point, future=future)
    k = beam_width
    rep = (lambda a: np.repeat(a, k, axis=0)) if k > 1 else (lambda a: a)
    step = step_from_model(step_model, rep(memory) if has_memory else None,
                           rep(mask) if has_memory else None)
    args = (n, start_id, end_id, max_length)
    if k > 1:
        tokens, lengths, _ = beam_search(step, [rep(s) for s in states], *args,
                                         beam_width=k, length_penalty=length_penalty)
    else:
        tokens, lengths, _ = greedy_decode(step, states, *args)
    return tokens, lengths
