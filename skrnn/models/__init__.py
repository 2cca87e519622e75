"""Pure functions from a small spec to a ``keras.Model``."""

from ._layers import AttentionPooling
from ._recurrent import CELLS, POOLINGS, ModelSpec, build_model, without_mask

__all__ = ["CELLS", "POOLINGS", "AttentionPooling", "ModelSpec", "build_model", "without_mask"]
