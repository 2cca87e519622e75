"""The streaming encoder of a Seq2SeqTransformer: its recurrent layers' states carried
from step to step (the decoder starts from them at every forecast)."""

from __future__ import annotations

from keras import ops

from ._engine import CarriedFields, _run_cell


class EncoderEngine(CarriedFields):
    """The encoder of ``est`` (unidirectional), step by step: ``fields`` as for
    :class:`~skrnn.streaming._engine.StreamEngine`; :meth:`step` returns the last
    layer's output after every step (the memory attention reads) and the new states."""

    def __init__(self, est):
        layers = {layer.name: layer for layer in est.model_.layers}
        spec = est._spec
        self.embedding = layers.get("source_embedding")
        self.recurrent = [layers[f"encoder_{spec.cell}_{i}"] for i in range(len(spec.units))]
        self.attention = spec.attention is not None
        self.input_width = spec.n_source_features
        self.memory_width = int(spec.units[-1])
        n_states = 2 if spec.cell == "lstm" else 1
        self.fields = {"steps": (1,)}
        self.state_names = []
        for i, units in enumerate(spec.units):
            for j in range(n_states):
                self.fields[f"rnn_{i}_{j}"] = (int(units),)
                self.state_names.append(f"rnn_{i}_{j}")

    @staticmethod
    def chunk_size(batch: int, last_only: bool) -> int:
        """Steps per call: about a million step-rows."""
        return max(1, 2**20 // batch)

    def step(self, x, mask, state):
        h = self.embedding(x) if self.embedding is not None else x
        new = {"steps": state["steps"] + ops.sum(ops.cast(mask, "float32"), axis=1,
                                                 keepdims=True)}
        for i, layer in enumerate(self.recurrent):
            names = [n for n in self.state_names if n.startswith(f"rnn_{i}_")]
            h, final = _run_cell(layer.cell, h, mask, [state[n] for n in names])
            new.update(zip(names, final))
        return h, new
