"""The recurrent model: a pure function from a :class:`ModelSpec` to a Keras model."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import keras

from ._layers import AttentionPooling

CELLS = {"rnn": "SimpleRNN", "lstm": "LSTM", "gru": "GRU"}
POOLINGS = ("last", "mean", "attention")


@dataclass(frozen=True)
class ModelSpec:
    """What the model needs to know; built by the estimator from its parameters.

    Attributes
    ----------
    input_kind : {"numeric", "tokens"}
    n_features : int or None
        Features per step for numeric input.
    vocabulary_size : int or None
        Number of token ids (padding and out-of-vocabulary included) for token input.
    embedding_dim : int
    cell : {"rnn", "lstm", "gru"}
    units : tuple of int
        One recurrent layer per entry.
    bidirectional : bool
    dropout, recurrent_dropout : float
    activation : str
    pooling : {"last", "mean", "attention"}
        How a many-to-one model summarises the steps.
    return_sequences : bool
        One output per step instead of one per sequence.
    n_outputs : int
        Logits (classes) or regression outputs.
    seed : int
        Base seed of every initialiser and dropout layer.
    """

    input_kind: str
    n_features: int | None
    vocabulary_size: int | None
    embedding_dim: int
    cell: str
    units: tuple
    bidirectional: bool
    dropout: float
    recurrent_dropout: float
    activation: str
    pooling: str
    return_sequences: bool
    n_outputs: int
    seed: int

    def to_dict(self) -> dict:
        return asdict(self)


def build_model(spec: ModelSpec) -> keras.Model:
    """Build the Keras model for ``spec``.

    Inputs are ``[x, mask]``: ``x`` is ``(batch, steps, n_features)`` float32 or
    ``(batch, steps)`` int32 token ids, ``mask`` is ``(batch, steps)`` bool, True on real
    steps. The mask is handed to every layer explicitly, so padded steps never reach
    the output whatever values they hold. Outputs are logits (classification) or values
    (regression), ``(batch, n_outputs)`` or ``(batch, steps, n_outputs)``.
    """
    seeds = iter(range(spec.seed, spec.seed + 10_000))
    glorot = lambda: keras.initializers.GlorotUniform(seed=next(seeds))  # noqa: E731
    mask = keras.Input((None,), dtype="bool", name="mask")
    if spec.input_kind == "tokens":
        x = keras.Input((None,), dtype="int32", name="x")
        h = keras.layers.Embedding(
            spec.vocabulary_size, spec.embedding_dim, name="embedding",
            embeddings_initializer=keras.initializers.RandomUniform(
                -0.05, 0.05, seed=next(seeds)))(x)
    else:
        x = keras.Input((None, spec.n_features), dtype="float32", name="x")
        h = x
    layer_cls = getattr(keras.layers, CELLS[spec.cell])
    n_layers = len(spec.units)
    for i, units in enumerate(spec.units):
        last = i == n_layers - 1
        keep_steps = not last or spec.return_sequences or spec.pooling != "last"
        layer = layer_cls(
            units,
            activation=spec.activation,
            dropout=spec.dropout,
            recurrent_dropout=spec.recurrent_dropout,
            return_sequences=keep_steps,
            kernel_initializer=glorot(),
            recurrent_initializer=keras.initializers.Orthogonal(seed=next(seeds)),
            seed=next(seeds),
            name=f"{spec.cell}_{i}",
        )
        if spec.bidirectional:
            layer = keras.layers.Bidirectional(layer, name=f"bidirectional_{i}")
        h = layer(h, mask=mask)
    if not spec.return_sequences:
        if spec.pooling == "mean":
            h = keras.layers.GlobalAveragePooling1D(name="mean_pooling")(h, mask=mask)
        elif spec.pooling == "attention":
            h = AttentionPooling(seed=next(seeds), name="attention_pooling")(h, mask=mask)
    out = keras.layers.Dense(spec.n_outputs, kernel_initializer=glorot(),
                             name="head")(h)
    return keras.Model([x, mask], out, name="skrnn_recurrent")


def without_mask(model: keras.Model) -> keras.Model:
    """The same network, sharing its weights, with ``x`` as its only input.

    For batches whose sequences all have the same length: no mask means no per-step
    masking work, and it is what lets Keras pick fused cuDNN kernels on GPU (JAX and
    torch use them only when there is no mask at all).
    """
    x_in = model.inputs[0]
    x = keras.Input(tuple(x_in.shape[1:]), dtype=x_in.dtype, name="x")
    h = x
    for layer in model.layers:
        if isinstance(layer, keras.layers.InputLayer):
            continue
        h = layer(h)
    return keras.Model(x, h, name=f"{model.name}_unmasked")
