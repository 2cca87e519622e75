"""Pure functions from a small spec to a ``keras.Model``."""

from ._cells import GateIdentity, LayerNormGRUCell, LayerNormLSTMCell, LayerNormSimpleRNNCell
from ._layers import AttentionPooling, ConvBlock
from ._recurrent import (
    CELLS,
    POOLINGS,
    ModelSpec,
    build_model,
    state_sizes,
    with_state_io,
    without_mask,
)
from ._seeds import SEEDS_PER_MODEL, draw_model_seed

__all__ = ["CELLS", "POOLINGS", "AttentionPooling", "ConvBlock", "GateIdentity",
           "LayerNormGRUCell", "LayerNormLSTMCell", "LayerNormSimpleRNNCell", "ModelSpec",
           "SEEDS_PER_MODEL", "draw_model_seed",
           "build_model", "state_sizes", "with_state_io", "without_mask"]
