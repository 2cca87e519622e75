"""Checks of a specification that come before anything is built (no Keras).

A specification read from a file is checked here before a builder sees it:
:func:`check_spec` (every field of the kind and within the options the builders take)
and :func:`weight_bounds` (how many weight values the network it describes holds, from
below and above, without building it), so that a file whose specification promises
a larger network than the arrays it carries is refused before memory is spent on it.
"""

from __future__ import annotations

from .._options import ACTIVATIONS, ATTENTIONS, CELLS, CONV_MODES, POOLINGS, RECURRENT_INITIALIZERS

#: Gate blocks per cell: the kernels are ``gates * units`` wide.
GATES = {"rnn": 1, "lstm": 4, "gru": 3}
_INPUT_KINDS = ("numeric", "tokens")
_SOURCE_KINDS = ("tokens", "numeric", "vector")
_TARGET_KINDS = ("tokens", "numeric")


def _positive(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def check_spec(spec) -> None:
    """Raise a ValueError naming the first field of ``spec`` (a ``ModelSpec`` or
    ``Seq2SeqSpec``) that the builders cannot take."""
    def need(ok, field):
        if not ok:
            raise ValueError(f"specification field {field} = {getattr(spec, field)!r} "
                             "is not one the network can be built from")

    name = type(spec).__name__
    need(spec.cell in CELLS, "cell")
    need(isinstance(spec.units, tuple) and spec.units
         and all(_positive(u) for u in spec.units), "units")
    need(_positive(spec.embedding_dim), "embedding_dim")
    need(isinstance(spec.bidirectional, bool), "bidirectional")
    need(isinstance(spec.dropout, (int, float)) and 0 <= spec.dropout < 1, "dropout")
    need(isinstance(spec.seed, int) and not isinstance(spec.seed, bool), "seed")
    if name == "ModelSpec":
        need(spec.input_kind in _INPUT_KINDS, "input_kind")
        need(_positive(spec.n_features) if spec.input_kind == "numeric"
             else spec.n_features is None, "n_features")
        need(_positive(spec.vocabulary_size) and spec.vocabulary_size >= 2
             if spec.input_kind == "tokens" else spec.vocabulary_size is None,
             "vocabulary_size")
        need(isinstance(spec.recurrent_dropout, (int, float))
             and 0 <= spec.recurrent_dropout < 1, "recurrent_dropout")
        need(spec.activation in ACTIVATIONS, "activation")
        need(spec.pooling in POOLINGS, "pooling")
        need(isinstance(spec.return_sequences, bool), "return_sequences")
        need(_positive(spec.n_outputs), "n_outputs")
        need(isinstance(spec.layer_norm, bool), "layer_norm")
        need(spec.recurrent_initializer in RECURRENT_INITIALIZERS, "recurrent_initializer")
        need(isinstance(spec.unit_forget_bias, bool), "unit_forget_bias")
        need(isinstance(spec.conv_filters, tuple)
             and all(_positive(f) for f in spec.conv_filters), "conv_filters")
        need(isinstance(spec.conv_kernel_sizes, tuple)
             and len(spec.conv_kernel_sizes) == len(spec.conv_filters)
             and all(_positive(k) for k in spec.conv_kernel_sizes), "conv_kernel_sizes")
        need(spec.conv_mode in CONV_MODES, "conv_mode")
        return
    need(spec.source_kind in _SOURCE_KINDS, "source_kind")
    need(spec.target_kind in _TARGET_KINDS, "target_kind")
    need(spec.source_vocabulary_size is None if spec.source_kind != "tokens"
         else _positive(spec.source_vocabulary_size), "source_vocabulary_size")
    need(spec.n_source_features is None if spec.source_kind == "tokens"
         else _positive(spec.n_source_features), "n_source_features")
    need(_positive(spec.target_vocabulary_size) if spec.target_kind == "tokens"
         else spec.target_vocabulary_size is None, "target_vocabulary_size")
    need(_positive(spec.n_target_features) if spec.target_kind == "numeric"
         else spec.n_target_features is None, "n_target_features")
    need(spec.attention in ATTENTIONS, "attention")
    need(_positive(spec.output_columns), "output_columns")
    need(isinstance(spec.n_future_features, int)
         and not isinstance(spec.n_future_features, bool)
         and spec.n_future_features >= 0, "n_future_features")


class _Count:
    """Weight values counted from below (the kernels) and from above (everything)."""

    def __init__(self):
        self.low = self.high = 0

    def dense(self, n_in, n_out):
        self.low += n_in * n_out
        self.high += (n_in + 1) * n_out

    def recurrent(self, n_in, units, cell, directions=1, layer_norm=False):
        gates = GATES[cell]
        kernels = gates * units * (n_in + units)
        # biases (GRU keeps two rows), layer-norm gains and shifts, a seed's state
        extra = 2 * gates * units + (4 * gates * units + 2 * units if layer_norm else 0) + 8
        self.low += directions * kernels
        self.high += directions * (kernels + extra)


def weight_bounds(spec) -> tuple:
    """``(low, high)``: at least ``low`` and at most ``high`` values are held by the
    variables of the network ``spec`` (checked by :func:`check_spec`) describes."""
    count = _Count()
    directions = 2 if spec.bidirectional else 1
    if type(spec).__name__ == "ModelSpec":
        if spec.input_kind == "tokens":
            count.dense(spec.vocabulary_size, spec.embedding_dim)
            width = spec.embedding_dim
        else:
            width = spec.n_features
        stem = width
        for filters, kernel in zip(spec.conv_filters, spec.conv_kernel_sizes):
            count.dense(kernel * stem, filters)
            count.high += 4 * filters + 8  # batch normalisation
            stem = filters
        if spec.conv_filters and spec.conv_mode == "before":
            width = stem
        for units in spec.units:
            count.recurrent(width, units, spec.cell, directions, spec.layer_norm)
            width = directions * units
        if spec.pooling == "attention" and not spec.return_sequences:
            count.dense(width, width)
            count.high += width
        if spec.conv_filters and spec.conv_mode == "parallel":
            width += spec.conv_filters[-1]
        count.dense(width, spec.n_outputs)
        return count.low, count.high + 64
    if spec.source_kind == "tokens":
        count.dense(spec.source_vocabulary_size, spec.embedding_dim)
    decoder = [directions * u for u in spec.units]
    if spec.source_kind == "vector":
        for units in decoder:
            for _ in range(2 if spec.cell == "lstm" else 1):
                count.dense(spec.n_source_features, units)
    else:
        width = (spec.embedding_dim if spec.source_kind == "tokens"
                 else spec.n_source_features)
        for units in spec.units:
            count.recurrent(width, units, spec.cell, directions)
            width = directions * units
    if spec.target_kind == "tokens":
        count.dense(spec.target_vocabulary_size, spec.embedding_dim)
        width = spec.embedding_dim
    else:
        width = spec.n_target_features + spec.n_future_features
    for units in decoder:
        count.recurrent(width, units, spec.cell)
        width = units
    if spec.attention is not None and spec.source_kind != "vector":
        count.dense(2 * width, width)
        count.high += width
    n_outputs = (spec.target_vocabulary_size if spec.target_kind == "tokens"
                 else spec.n_target_features * spec.output_columns + 1)
    count.dense(width, n_outputs)
    return count.low, count.high + 64
