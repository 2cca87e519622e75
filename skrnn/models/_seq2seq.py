"""Encoder-decoder networks for sequence-to-sequence of different lengths.

:func:`build_seq2seq` returns three weight-sharing Keras models:

- ``train``: ``[source, source_mask, target_in, target_mask] -> outputs`` for teacher
  forcing (``target_in`` is the target shifted right behind a start token);
- ``encoder``: ``[source, source_mask] -> [encoder_outputs, *decoder_initial_states]``;
- ``step``: ``[previous_target (B, 1), encoder_outputs, source_mask, *states] ->
  [outputs (B, n_outputs), *states]``, one decoding step for inference.

Attention (``"additive"``: Bahdanau; ``"dot"``: Luong) reads the encoder outputs with
the source mask passed explicitly (``MultiHeadAttention``-style mask deletion and
Keras' mask propagation are not relied on, see docs/design.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import keras
from keras import ops

from .._options import ATTENTIONS, CELLS
from ._seeds import layer_seeds


@dataclass(frozen=True)
class Seq2SeqSpec:
    """What the encoder-decoder needs to know.

    Attributes
    ----------
    source_kind : {"tokens", "numeric", "vector"}
        Token ids ``(B, T)``, numeric sequences ``(B, T, F)``, or one vector per
        sample ``(B, F)`` (one-to-many: the vector initialises the decoder).
    n_source_features : int or None
    source_vocabulary_size : int or None
    target_kind : {"tokens", "numeric"}
    target_vocabulary_size : int or None
        Target ids, padding / OOV / start / end included.
    n_target_features : int or None
        Numeric targets: the head has ``output_columns`` outputs per feature and one
        more, the stop logit (the decoder learns where each target ends).
    embedding_dim : int
    cell : {"rnn", "lstm", "gru"}
    units : tuple of int
        Encoder layers; the decoder has as many, each as wide as the encoder's output
        (twice the units when bidirectional).
    bidirectional : bool
    dropout : float
    attention : {None, "additive", "dot"}
    seed : int
    output_columns : int
        Outputs per numeric target feature: 1, the quantiles of ``loss="quantile"``, or
        2 (mean and scale) for ``loss="gaussian"``; one value per feature is fed back.
    n_future_features : int
        Covariates known over the horizon, read by the decoder beside its previous
        output at every step (numeric targets).
    """

    source_kind: str
    n_source_features: int | None
    source_vocabulary_size: int | None
    target_kind: str
    target_vocabulary_size: int | None
    n_target_features: int | None
    embedding_dim: int
    cell: str
    units: tuple
    bidirectional: bool
    dropout: float
    attention: str | None
    seed: int
    output_columns: int = 1
    n_future_features: int = 0

    @property
    def n_outputs(self) -> int:
        if self.target_kind == "tokens":
            return self.target_vocabulary_size
        return self.n_target_features * self.output_columns + 1  # and the stop logit

    @property
    def decoder_units(self) -> tuple:
        return tuple(u * (2 if self.bidirectional else 1) for u in self.units)


def _n_states(cell: str) -> int:
    return 2 if cell == "lstm" else 1


def build_seq2seq(spec: Seq2SeqSpec) -> dict:
    """Build the ``train``, ``encoder`` and ``step`` models for ``spec`` (see module)."""
    if spec.attention not in ATTENTIONS:
        raise ValueError(f"attention must be one of {ATTENTIONS}, got {spec.attention!r}.")
    seeds = layer_seeds(spec.seed)
    glorot = lambda: keras.initializers.GlorotUniform(seed=next(seeds))  # noqa: E731
    orthogonal = lambda: keras.initializers.Orthogonal(seed=next(seeds))  # noqa: E731
    layer_cls = getattr(keras.layers, CELLS[spec.cell])
    n_states = _n_states(spec.cell)

    # ---------------------------------------------------------------- the layers
    if spec.source_kind == "tokens":
        source_embedding = keras.layers.Embedding(
            spec.source_vocabulary_size, spec.embedding_dim, name="source_embedding",
            embeddings_initializer=keras.initializers.RandomUniform(
                -0.05, 0.05, seed=next(seeds)))
    encoder_layers, vector_bridges = [], []
    if spec.source_kind == "vector":
        # One-to-many: the vector becomes every decoder layer's initial state.
        for i, units in enumerate(spec.decoder_units):
            vector_bridges.append([
                keras.layers.Dense(units, activation="tanh", kernel_initializer=glorot(),
                                   name=f"bridge_{i}_{j}") for j in range(n_states)])
    else:
        for i, units in enumerate(spec.units):
            layer = layer_cls(units, return_sequences=True, return_state=True,
                              dropout=spec.dropout, kernel_initializer=glorot(),
                              recurrent_initializer=orthogonal(), seed=next(seeds),
                              name=f"encoder_{spec.cell}_{i}")
            if spec.bidirectional:
                layer = keras.layers.Bidirectional(layer, name=f"encoder_bidirectional_{i}")
            encoder_layers.append(layer)
    if spec.target_kind == "tokens":
        target_embedding = keras.layers.Embedding(
            spec.target_vocabulary_size, spec.embedding_dim, name="target_embedding",
            embeddings_initializer=keras.initializers.RandomUniform(
                -0.05, 0.05, seed=next(seeds)))
    else:
        target_embedding = keras.layers.Identity(name="target_values")
    decoder_layers = [
        layer_cls(units, return_sequences=True, return_state=True, dropout=spec.dropout,
                  kernel_initializer=glorot(), recurrent_initializer=orthogonal(),
                  seed=next(seeds), name=f"decoder_{spec.cell}_{i}")
        for i, units in enumerate(spec.decoder_units)]
    attention = None
    if spec.attention == "additive" and spec.source_kind != "vector":
        attention = keras.layers.AdditiveAttention(name="attention")
    elif spec.attention == "dot" and spec.source_kind != "vector":
        attention = keras.layers.Attention(name="attention")
    combine = keras.layers.Dense(spec.decoder_units[-1], activation="tanh",
                                 kernel_initializer=glorot(), name="attention_combine")
    head = keras.layers.Dense(spec.n_outputs, kernel_initializer=glorot(), name="head")

    # ------------------------------------------------------------ the functions
    def encode(source, source_mask):
        if spec.source_kind == "vector":
            states = [[bridge(source) for bridge in bridges] for bridges in vector_bridges]
            return None, states
        h = source_embedding(source) if spec.source_kind == "tokens" else source
        states = []
        for layer in encoder_layers:
            h, *s = layer(h, mask=source_mask)
            if spec.bidirectional:  # [fwd states..., bwd states...] -> concatenated
                s = [ops.concatenate([f, b], axis=-1)
                     for f, b in zip(s[:n_states], s[n_states:])]
            states.append(list(s))
        return h, states

    def decode(target_in, target_mask, encoder_outputs, source_mask, states):
        h = target_embedding(target_in)
        final = []
        for layer, initial in zip(decoder_layers, states):
            h, *s = layer(h, mask=target_mask, initial_state=initial)
            final.append(list(s))
        if attention is not None:
            context = attention([h, encoder_outputs], mask=[target_mask, source_mask])
            h = combine(ops.concatenate([h, context], axis=-1))
        return head(h), final

    # ---------------------------------------------------------------- the models
    if spec.source_kind == "tokens":
        source = keras.Input((None,), dtype="int32", name="source")
    elif spec.source_kind == "numeric":
        source = keras.Input((None, spec.n_source_features), name="source")
    else:
        source = keras.Input((spec.n_source_features,), name="source")
    source_mask = keras.Input((None,), dtype="bool", name="source_mask")
    if spec.target_kind == "tokens":
        target_in = keras.Input((None,), dtype="int32", name="target_in")
    else:
        target_in = keras.Input((None, spec.n_target_features + spec.n_future_features),
                                name="target_in")
    target_mask = keras.Input((None,), dtype="bool", name="target_mask")

    encoder_outputs, states = encode(source, source_mask)
    outputs, _ = decode(target_in, target_mask, encoder_outputs, source_mask, states)
    train = keras.Model([source, source_mask, target_in, target_mask], outputs,
                        name="skrnn_seq2seq")

    flat_states = [s for group in states for s in group]
    enc_out = [encoder_outputs] if encoder_outputs is not None else []
    encoder = keras.Model([source, source_mask], enc_out + flat_states, name="encoder")

    if spec.target_kind == "tokens":
        previous = keras.Input((1,), dtype="int32", name="previous")
    else:
        previous = keras.Input((1, spec.n_target_features + spec.n_future_features),
                               name="previous")
    state_inputs = [[keras.Input((units,), name=f"state_{i}_{j}") for j in range(n_states)]
                    for i, units in enumerate(spec.decoder_units)]
    step_inputs = [previous]
    if encoder_outputs is not None:
        memory = keras.Input((None, encoder_outputs.shape[-1]), name="encoder_outputs")
        memory_mask = keras.Input((None,), dtype="bool", name="memory_mask")
        step_inputs += [memory, memory_mask]
    else:
        memory = memory_mask = None
    one = ops.ones_like(previous[..., 0] if spec.target_kind != "tokens" else previous,
                        dtype="bool")
    step_out, step_states = decode(previous, one, memory, memory_mask, state_inputs)
    step = keras.Model(step_inputs + [s for g in state_inputs for s in g],
                       [step_out[:, 0]] + [s for g in step_states for s in g],
                       name="decoder_step")
    # Keras' attention layers draw their weights (AdditiveAttention's scale) from an
    # unseeded initialiser: redraw them from ours so random_state fixes everything.
    if attention is not None:
        for weight in attention.weights:
            weight.assign(keras.initializers.GlorotUniform(seed=next(seeds))(
                tuple(weight.shape)))
    return {"train": train, "encoder": encoder, "step": step}
