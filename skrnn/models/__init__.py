"""Pure functions from a small spec to a ``keras.Model``."""

from ._layers import AttentionPooling
from ._recurrent import (
    CELLS,
    POOLINGS,
    ModelSpec,
    build_model,
    state_sizes,
    with_state_io,
    without_mask,
)

__all__ = ["CELLS", "POOLINGS", "AttentionPooling", "ModelSpec", "build_model", "state_sizes",
           "with_state_io", "without_mask"]
