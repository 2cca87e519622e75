"""Pure functions from a small spec to a ``keras.Model``.

Importing this package does not import Keras: the names of what it builds
(:mod:`skrnn._options`, read by the estimators' parameter validation) load at once, the
builders and layers on first use.
"""

import importlib

from .._options import (
    ACTIVATIONS,
    ATTENTIONS,
    CELLS,
    CONV_MODES,
    DECODINGS,
    POOLINGS,
    RECURRENT_INITIALIZERS,
)

# Loaded on first access (they import Keras): name -> submodule.
_LAZY = {
    **dict.fromkeys(("GateIdentity", "LayerNormGRUCell", "LayerNormLSTMCell",
                     "LayerNormSimpleRNNCell"), "_cells"),
    **dict.fromkeys(("AttentionPooling", "ConvBlock"), "_layers"),
    **dict.fromkeys(("ModelSpec", "build_model", "state_sizes", "with_state_io",
                     "without_mask"), "_recurrent"),
    **dict.fromkeys(("SEEDS_PER_MODEL", "draw_model_seed"), "_seeds"),
}


def __getattr__(name):
    if name in _LAZY:
        value = getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def register_custom_objects() -> None:
    """Register skrnn's Keras layers and cells (before loading a saved model)."""
    importlib.import_module(f"{__name__}._cells")
    importlib.import_module(f"{__name__}._layers")


__all__ = ["ACTIVATIONS", "ATTENTIONS", "CELLS", "CONV_MODES", "DECODINGS", "POOLINGS",
           "RECURRENT_INITIALIZERS", "register_custom_objects", *_LAZY]
