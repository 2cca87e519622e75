"""The recurrent model: a pure function from a :class:`ModelSpec` to a Keras model."""

from __future__ import annotations

from dataclasses import dataclass

import keras

from .._options import CELLS
from ._cells import LAYER_NORM_CELLS, GateIdentity
from ._layers import AttentionPooling, ConvBlock
from ._seeds import layer_seeds


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
    layer_norm : bool
        Layer-normalised cells (:mod:`skrnn.models._cells`) instead of Keras' own.
    recurrent_initializer : {"orthogonal", "identity"}
    unit_forget_bias : bool
        LSTM only: start the forget gate's bias at 1.
    conv_filters, conv_kernel_sizes : tuple of int
        A convolutional front-end (:class:`ConvBlock`), one block per entry; empty for
        none.
    conv_mode : {"parallel", "before"}
        ``"parallel"``: beside the recurrent stack, pooled over real steps (per step
        with ``return_sequences``) and concatenated before the head (LSTM-FCN).
        ``"before"``: the recurrent stack reads the convolutional features.
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
    layer_norm: bool = False
    recurrent_initializer: str = "orthogonal"
    unit_forget_bias: bool = True
    conv_filters: tuple = ()
    conv_kernel_sizes: tuple = ()
    conv_mode: str = "parallel"


def build_model(spec: ModelSpec) -> keras.Model:
    """Build the Keras model for ``spec``.

    Inputs are ``[x, mask]``: ``x`` is ``(batch, steps, n_features)`` float32 or
    ``(batch, steps)`` int32 token ids, ``mask`` is ``(batch, steps)`` bool, True on real
    steps. The mask is handed to every layer explicitly, so padded steps never reach
    the output whatever values they hold. Outputs are logits (classification) or values
    (regression), ``(batch, n_outputs)`` or ``(batch, steps, n_outputs)``.
    """
    seeds = layer_seeds(spec.seed)
    glorot = lambda: keras.initializers.GlorotUniform(seed=next(seeds))  # noqa: E731
    mask = keras.Input((None,), dtype="bool", name="mask")
    layers = []
    if spec.input_kind == "tokens":
        x = keras.Input((None,), dtype="int32", name="x")
        layers.append(keras.layers.Embedding(
            spec.vocabulary_size, spec.embedding_dim, name="embedding",
            embeddings_initializer=keras.initializers.RandomUniform(
                -0.05, 0.05, seed=next(seeds))))
    else:
        x = keras.Input((None, spec.n_features), dtype="float32", name="x")
    parallel = spec.conv_mode == "parallel"
    if spec.conv_filters:
        layers.append(ConvBlock(
            spec.conv_filters, spec.conv_kernel_sizes, parallel=parallel,
            pool=parallel and not spec.return_sequences, seed=next(seeds), name="conv"))
    layer_cls = getattr(keras.layers, CELLS[spec.cell])
    n_layers = len(spec.units)
    for i, units in enumerate(spec.units):
        last = i == n_layers - 1
        keep_steps = not last or spec.return_sequences or spec.pooling != "last"
        recurrent_init = (GateIdentity() if spec.recurrent_initializer == "identity"
                          else keras.initializers.Orthogonal(seed=next(seeds)))
        common = dict(activation=spec.activation, dropout=spec.dropout,
                      recurrent_dropout=spec.recurrent_dropout,
                      kernel_initializer=glorot(), recurrent_initializer=recurrent_init,
                      seed=next(seeds))
        if spec.cell == "lstm":
            common["unit_forget_bias"] = spec.unit_forget_bias
        # return_state: the final states feed truncated BPTT; ignored otherwise.
        if spec.layer_norm:
            layer = keras.layers.RNN(LAYER_NORM_CELLS[spec.cell](units, **common),
                                     return_sequences=keep_steps, return_state=True,
                                     name=f"{spec.cell}_{i}")
        else:
            layer = layer_cls(units, return_sequences=keep_steps, return_state=True,
                              name=f"{spec.cell}_{i}", **common)
        if spec.bidirectional:
            layer = keras.layers.Bidirectional(layer, name=f"bidirectional_{i}")
        layers.append(layer)
    if not spec.return_sequences:
        if spec.pooling == "mean":
            layers.append(keras.layers.GlobalAveragePooling1D(name="mean_pooling"))
        elif spec.pooling == "attention":
            layers.append(AttentionPooling(seed=next(seeds), name="attention_pooling"))
    if spec.conv_filters and parallel:
        layers.append(keras.layers.Concatenate(name="merge"))
    layers.append(keras.layers.Dense(spec.n_outputs, kernel_initializer=glorot(),
                                     name="head"))
    out, _ = _apply(layers, x, mask)
    return keras.Model([x, mask], out, name="skrnn_recurrent")


def _is_recurrent(layer) -> bool:
    return isinstance(layer, (keras.layers.RNN, keras.layers.Bidirectional))


_MASKED_POOLING = (keras.layers.GlobalAveragePooling1D, AttentionPooling)


def _apply(layers, x, mask=None, states=None, replace=None):
    """Run ``layers`` in order on ``x``; returns the output and each recurrent layer's
    final states. ``mask`` (optional) goes to recurrent, convolutional and pooling
    layers explicitly; ``states`` (optional) gives each recurrent layer its initial
    states. A parallel :class:`ConvBlock` reads the input of the recurrent stack (the
    embedded tokens or ``x``) and its output joins at the ``Concatenate`` layer.
    ``replace`` (optional), a pair ``(layer, fn)``: ``fn(h, mask)`` runs in place of
    that recurrent layer (the gradient diagnostics unroll it step by step)."""
    h, final, stem, branch = x, [], x, None
    for layer in layers:
        if isinstance(layer, keras.layers.InputLayer):
            continue
        if isinstance(layer, ConvBlock):
            out = layer(stem, mask=mask)
            if layer.parallel:
                branch = out
            else:
                h = out
        elif isinstance(layer, keras.layers.Concatenate):
            h = layer([h, branch])
        elif replace is not None and layer is replace[0]:
            h = replace[1](h, mask)
            final.append([])
        elif _is_recurrent(layer):
            kwargs = {} if mask is None else {"mask": mask}
            if states is not None:
                kwargs["initial_state"] = states[len(final)]
            outs = layer(h, **kwargs)
            h = outs[0]
            final.append(list(outs[1:]))
        elif isinstance(layer, _MASKED_POOLING) and mask is not None:
            h = layer(h, mask=mask)
        else:
            h = layer(h)
        if isinstance(layer, keras.layers.Embedding):
            stem = h
    return h, final


def without_mask(model: keras.Model) -> keras.Model:
    """The same network, sharing its weights, with ``x`` as its only input.

    For batches whose sequences all have the same length: no mask means no per-step
    masking work, and it is what lets Keras pick fused cuDNN kernels on GPU (JAX and
    torch use them only when there is no mask at all).
    """
    x_in = model.inputs[0]
    x = keras.Input(tuple(x_in.shape[1:]), dtype=x_in.dtype, name="x")
    out, _ = _apply(model.layers, x)
    return keras.Model(x, out, name=f"{model.name}_unmasked")


def state_sizes(model: keras.Model) -> list:
    """Sizes of each recurrent layer's states, e.g. ``[[64, 64], [32, 32]]`` for two
    LSTM layers."""
    sizes = []
    for layer in model.layers:
        if _is_recurrent(layer):
            cell = layer.forward_layer.cell if hasattr(layer, "forward_layer") else layer.cell
            size = cell.state_size
            size = list(size) if isinstance(size, (list, tuple)) else [size]
            sizes.append(size * (2 if hasattr(layer, "forward_layer") else 1))
    return sizes


def with_state_io(model: keras.Model) -> keras.Model:
    """The same network, sharing its weights, with explicit recurrent states.

    Inputs ``[x, mask, *initial_states]``, outputs ``[out, *final_states]`` (states
    flattened in layer order): what truncated BPTT needs to carry the state from one
    chunk to the next without ``stateful=True`` (see docs/design.md).
    """
    x_in = model.inputs[0]
    x = keras.Input(tuple(x_in.shape[1:]), dtype=x_in.dtype, name="x")
    mask = keras.Input((None,), dtype="bool", name="mask")
    states = [[keras.Input((size,), name=f"state_{i}_{j}") for j, size in enumerate(sizes)]
              for i, sizes in enumerate(state_sizes(model))]
    out, final = _apply(model.layers, x, mask, states)
    flat_in = [s for group in states for s in group]
    flat_out = [s for group in final for s in group]
    return keras.Model([x, mask, *flat_in], [out, *flat_out], name=f"{model.name}_states")
