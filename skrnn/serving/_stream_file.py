"""A saved stream: the estimator's file (``skrnn.json``, ``arrays.npz``) and two more
members, ``stream.json`` (the series' ids, how many, and with attention how many encoder
outputs each holds) and ``stream.npz`` (each carried state, one row per series).

Read as the estimator's members are (:mod:`skrnn.serving._reading`): the JSON's size
and depth before it is parsed; the ids and counts checked; from them and the loaded
estimator, the exact shape of every array the stream needs, whose total bounds the
declared size of ``stream.npz`` before it is decompressed; every array's header before
it is allocated; then each array's shape, dtype and values (finite; step counts
whole and never negative).
"""

from __future__ import annotations

import math

import numpy as np

from ._codec import SavingError
from ._reading import STREAM_MEMBERS, read_arrays, read_json

FORMAT, VERSION = "skrnn-stream", 1
_SLACK = 2**20  # npy headers and the zip's own bytes


def _encode_id(key, i):
    if isinstance(key, np.generic):
        key = key.item()
    if isinstance(key, tuple):
        return {"tuple": [_encode_id(k, i) for k in key]}
    if isinstance(key, float) and not math.isfinite(key):
        raise SavingError(f"id {key!r} (series {i}) is not finite: a saved stream's ids "
                          "are strings, numbers or tuples of them.")
    if isinstance(key, (str, int, float)) or key is None:
        return key
    raise SavingError(f"id {key!r} (series {i}) is a {type(key).__name__}: a saved "
                      "stream's ids are strings, numbers or tuples of them.")


def _decode_id(value, path):
    if isinstance(value, dict):
        if set(value) != {"tuple"} or not isinstance(value["tuple"], list):
            raise SavingError(f"{path}: an id is {str(value)[:80]}.")
        return tuple(_decode_id(v, path) for v in value["tuple"])
    if isinstance(value, (str, int, float)) or value is None:
        return value
    raise SavingError(f"{path}: an id is {str(value)[:80]}.")


def stream_members(stream):
    """``(document, arrays)`` of ``stream.json`` and ``stream.npz``."""
    ids = stream.ids
    rows = np.array([stream._rows[key] for key in ids], dtype=np.int64)
    arrays = {f"state_{name}": value[rows] for name, value in stream._state.items()}
    document = {"format": FORMAT, "version": VERSION,
                "ids": [_encode_id(key, i) for i, key in enumerate(ids)],
                "memory_lengths": None}
    if stream._engine_memory():
        lengths = [len(stream._memory.get(key, ())) for key in ids]
        document["memory_lengths"] = lengths
        width = stream._engine.memory_width
        arrays["memory"] = (np.concatenate([stream._memory[key] for key in ids
                                            if key in stream._memory])
                            if any(lengths) else np.zeros((0, width), np.float32))
    return document, arrays


def _expected(stream, n, memory_lengths) -> dict:
    """The arrays a stream of ``n`` series must hold: name -> (shape, dtype)."""
    expected = {f"state_{name}": ((n, *shape), np.float32)
                for name, shape in stream._fields().items()}
    if memory_lengths is not None:
        expected["memory"] = ((sum(memory_lengths), stream._engine.memory_width),
                              np.float32)
    return expected


def read_stream(archive, path, estimator):
    """The stream saved beside ``estimator`` (loaded and checked already)."""
    # (through the estimator: the loader imports no estimator and no stream module)
    why = estimator._why_not_streamable()
    if why is not None:
        raise SavingError(f"{path}: the file holds a stream of a model that cannot "
                          f"stream ({why}).")
    stream = estimator._new_stream()
    document = read_json(archive, path, STREAM_MEMBERS[0])
    keys = {"format", "version", "ids", "memory_lengths"}
    if not isinstance(document, dict) or set(document) != keys:
        raise SavingError(f"{path}: {STREAM_MEMBERS[0]} must hold exactly {sorted(keys)}.")
    if document["format"] != FORMAT or document["version"] != VERSION:
        raise SavingError(f"{path}: stream format {str(document['format'])[:40]!r} "
                          f"version {str(document['version'])[:20]!r}; this skrnn reads "
                          f"{FORMAT!r} {VERSION}.")
    if not isinstance(document["ids"], list):
        raise SavingError(f"{path}: the stream's ids are not a list.")
    ids = [_decode_id(v, path) for v in document["ids"]]
    if len(set(ids)) != len(ids):
        raise SavingError(f"{path}: the stream's ids repeat.")
    n = len(ids)
    lengths = document["memory_lengths"]
    if stream._engine_memory():
        if not isinstance(lengths, list) or len(lengths) != n or not all(
                isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in lengths):
            raise SavingError(f"{path}: memory_lengths must be one count per series.")
    elif lengths is not None:
        raise SavingError(f"{path}: memory_lengths given for a model without attention.")
    expected = _expected(stream, n, lengths)
    budget = sum(math.prod(shape) * np.dtype(dtype).itemsize
                 for shape, dtype in expected.values()) + _SLACK
    arrays = read_arrays(archive, path, budget, STREAM_MEMBERS[1])
    if set(arrays) != set(expected):
        raise SavingError(f"{path}: {STREAM_MEMBERS[1]} holds {sorted(arrays)[:12]}, the "
                          f"stream needs {sorted(expected)[:12]}.")
    for name, (shape, dtype) in expected.items():
        value = arrays[name]
        if value.shape != shape or value.dtype != dtype:
            raise SavingError(f"{path}: stream array {name!r} has shape {value.shape} and "
                              f"dtype {value.dtype}; the stream needs {shape} {np.dtype(dtype)}.")
    steps = arrays["state_steps"][:, 0]
    if (steps < 0).any() or (steps != np.round(steps)).any():
        raise SavingError(f"{path}: the stream's step counts are not whole numbers >= 0.")
    if lengths is not None and any(m != s for m, s in zip(lengths, steps)):
        raise SavingError(f"{path}: a series holds another number of encoder outputs "
                          "than steps.")
    stream._restore(ids, {name[len("state_"):]: arrays[name] for name in arrays
                          if name.startswith("state_")},
                    arrays.get("memory"), lengths)
    return stream
