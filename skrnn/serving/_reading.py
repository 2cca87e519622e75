"""Reading a saved estimator file piece by piece, each piece checked before the next
is read and before anything is allocated for it (see :mod:`skrnn.serving._saving`):
the zip's members, the JSON document, the network's specification and the bounds it
puts on the arrays, each array's header, the saved variables."""

from __future__ import annotations

import io
import json
import math
import os
import re
import zipfile

import numpy as np

from ._codec import Decoder, SavingError

FORMAT, VERSION = "skrnn-estimator", 1
MEMBERS = ("skrnn.json", "arrays.npz")
#: A saved stream's members, beside its estimator's.
STREAM_MEMBERS = ("stream.json", "stream.npz")
#: The most a file's ``skrnn.json`` may hold (bytes) and how deep its JSON may nest.
MAX_DOCUMENT, MAX_DEPTH = 64 * 2**20, 64
#: ``arrays.npz`` may hold at most this many bytes per value the network can hold
#: (the variables, float32, and up to 4 optimizer slots each, say float64) plus
#: :data:`ARRAY_SLACK` for the rest (classes, scaling, random state).
BYTES_PER_WEIGHT, ARRAY_SLACK = 48, 16 * 2**20


def _member(archive, info, path) -> bytes:
    """A member's bytes: its declared sizes checked first (a compressed size beyond
    the archive's own would have the reader allocate that much), then read whole."""
    if not 0 <= info.compress_size <= archive.fp.seek(0, os.SEEK_END):
        raise SavingError(f"{path}: member {info.filename} declares {info.compress_size} "
                          "compressed bytes, more than the file holds.")
    try:
        return archive.read(info)
    except (zipfile.BadZipFile, EOFError, OSError, NotImplementedError, RuntimeError,
            ValueError) as exc:  # zlib.error is an Exception of its own
        raise SavingError(f"{path}: member {info.filename} cannot be read "
                          f"({type(exc).__name__}: {exc}).") from exc
    except Exception as exc:
        if type(exc).__module__ == "zlib":
            raise SavingError(f"{path}: member {info.filename} cannot be read "
                              f"(zlib: {exc}).") from exc
        raise


def json_depth(text: str) -> int:
    """How deep the arrays and objects of the JSON ``text`` nest (strings skipped),
    counted without parsing it (Python's parser recurses)."""
    brackets = re.sub(r'"(?:[^"\\]|\\.)*"', "", text)
    codes = np.frombuffer(brackets.encode("utf-8", "replace"), dtype=np.uint8)
    steps = np.isin(codes, (91, 123)).astype(np.int64) - np.isin(codes, (93, 125))
    return int(np.cumsum(steps).max()) if steps.size else 0


def read_json(archive, path, member) -> object:
    """A JSON member: its declared size and nesting checked before it is parsed."""
    info = archive.getinfo(member)
    if info.file_size > MAX_DOCUMENT:
        raise SavingError(f"{path}: {member} declares {info.file_size} bytes; "
                          f"skrnn reads at most {MAX_DOCUMENT}.")
    try:
        text = _member(archive, info, path).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SavingError(f"{path}: {member} is not UTF-8 text ({exc}).") from exc
    if json_depth(text) > MAX_DEPTH:
        raise SavingError(f"{path}: {member} nests deeper than {MAX_DEPTH} levels.")
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise SavingError(f"{path}: {member} is not valid JSON ({exc}).") from exc


def read_document(archive, path, classes) -> dict:
    """``skrnn.json``: its declared size and nesting checked before it is parsed, then
    its fields (``classes``: the estimator classes a file may name)."""
    document = read_json(archive, path, MEMBERS[0])
    keys = {"format", "version", "class", "params", "state", "n_variables"}
    if not isinstance(document, dict) or set(document) != keys:
        raise SavingError(f"{path}: skrnn.json must hold exactly {sorted(keys)}.")
    if document["format"] != FORMAT or document["version"] != VERSION:
        raise SavingError(f"{path}: format {document['format']!r} version "
                          f"{document['version']!r}; this skrnn reads {FORMAT!r} {VERSION}.")
    name, n = document["class"], document["n_variables"]
    if not isinstance(name, str) or name not in classes:
        raise SavingError(f"{path}: unknown estimator class {str(name)[:80]!r}.")
    for key in ("params", "state"):
        if not isinstance(document[key], dict):
            raise SavingError(f"{path}: {key} must be a JSON object, not "
                              f"{type(document[key]).__name__}.")
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise SavingError(f"{path}: n_variables = {str(n)[:80]!r}.")
    return document


def read_spec(document, cls, path):
    """The network's specification (of estimator class ``cls``), checked, and the bounds
    on how many values its network holds."""
    from ..models._checks import check_spec, weight_bounds

    raw = document["state"].get("_spec")
    if raw is None:
        raise SavingError(f"{path}: {cls.__name__} needs its network's specification.")
    spec = Decoder({})(raw, f"{cls.__name__}._spec")  # a specification holds no arrays
    if type(spec).__name__ != cls._spec_type:
        raise SavingError(f"{path}: {cls.__name__} needs a {cls._spec_type}, the file "
                          f"holds {type(spec).__name__}.")
    try:
        check_spec(spec)
    except ValueError as exc:
        raise SavingError(f"{path}: {exc}.") from exc
    return spec, weight_bounds(spec)


_HEADERS = {(1, 0): np.lib.format.read_array_header_1_0,
            (2, 0): np.lib.format.read_array_header_2_0}


def read_arrays(archive, path, budget: int, member: str = MEMBERS[1]) -> dict:
    """The arrays of ``arrays.npz`` (or another npz ``member``): its declared sizes,
    then each array's header, checked before anything is decompressed or allocated."""
    info = archive.getinfo(member)
    if info.file_size > budget:
        raise SavingError(
            f"{path}: {member} declares {info.file_size} bytes, more than the "
            f"network its specification describes can need ({budget}).")
    data = _member(archive, info, path)
    try:
        inner = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise SavingError(f"{path}: {member} is not an npz archive ({exc}).") from exc
    arrays, total = {}, 0
    with inner:
        for entry in inner.infolist():
            key = entry.filename[:-4]
            if not (entry.filename.endswith(".npy") and re.fullmatch(r"\w{1,64}", key)) \
                    or key in arrays:
                raise SavingError(f"{path}: {member} holds {entry.filename[:80]!r}, "
                                  "not an array skrnn writes.")
            total += entry.file_size
            if entry.compress_size > len(data) or total > budget:
                raise SavingError(f"{path}: the arrays of {member} declare more than "
                                  f"{budget} bytes, more than the network can need.")
            arrays[key] = _array(inner, entry, path)
    return arrays


def _array(inner, entry, path) -> np.ndarray:
    where = f"{path}: array {entry.filename[:-4]!r}"
    try:
        with inner.open(entry) as f:
            version = np.lib.format.read_magic(f)
            if version not in _HEADERS:
                raise ValueError(f"npy format version {version}")
            shape, fortran, dtype = _HEADERS[version](f)
            declared = math.prod(shape) * dtype.itemsize
            if dtype.hasobject:
                raise SavingError(f"{where} is an object array (pickled Python objects), "
                                  "which skrnn never loads (allow_pickle=False).")
            if dtype.kind not in "biufUS" or dtype.fields is not None:
                raise SavingError(f"{where} holds {dtype}; skrnn saves real numbers, "
                                  "booleans and text only.")
            if declared != entry.file_size - f.tell():
                raise SavingError(f"{where} declares shape {shape} of {dtype} "
                                  f"({declared} bytes) but holds "
                                  f"{entry.file_size - f.tell()}.")
        with inner.open(entry) as f:
            value = np.lib.format.read_array(f, allow_pickle=False)
    except SavingError:
        raise
    except Exception as exc:  # damaged bytes: zlib, CRC, truncated data, bad header
        raise SavingError(f"{where} cannot be read ({type(exc).__name__}: {exc}).") \
            from exc
    if value.dtype.kind == "f" and not np.isfinite(value).all():
        raise SavingError(f"{where} holds NaN or infinity.")
    return value


def saved_variables(arrays, n: int, bounds, path) -> list:
    """The saved variables: present, numbers, and at least as many values as the
    specification's network holds (checked before that network is built)."""
    missing = [i for i in range(n) if f"variable{i}" not in arrays]
    if missing:
        raise SavingError(f"{path}: variables {missing[:10]} are not in {MEMBERS[1]}.")
    values = [arrays[f"variable{i}"] for i in range(n)]
    for i, value in enumerate(values):
        if value.dtype.kind not in "biuf":
            raise SavingError(f"{path}: variable {i} holds {value.dtype} values.")
    held = sum(int(v.size) for v in values)
    low, high = bounds
    if not low <= held <= high:
        raise SavingError(f"{path}: the saved variables hold {held} values; the network "
                          f"the specification describes holds between {low} and {high}.")
    return values


def fits(value: np.ndarray, dtype: np.dtype) -> bool:
    """Whether ``value`` is what a variable of ``dtype`` holds: the same float dtype,
    or integers within its range (backends keep seed states in int64 or uint32)."""
    if dtype.kind == "f" or value.dtype.kind == "f":
        return value.dtype == dtype
    if value.dtype.kind not in "iu" or dtype.kind not in "iu":
        return value.dtype == dtype
    info = np.iinfo(dtype)
    return not value.size or (int(value.min()) >= info.min and int(value.max()) <= info.max)


def check_optimizer_state(values, n_variables: int) -> None:
    if values is None:
        return
    if not isinstance(values, list) or len(values) > 8 * n_variables + 16:
        raise ValueError("the optimizer state is not a list of its variables")
    for value in values:
        if not isinstance(value, np.ndarray) or value.dtype.kind not in "biuf":
            raise ValueError("the optimizer state holds something other than numbers")


def retired_state_dropped(state: dict) -> dict:
    """A loaded or unpickled estimator's state without what an earlier skrnn recorded
    and this one no longer means: ``n_features_in_`` for sequences (it counted the
    features per step, now ``n_step_features_``; it counts the columns of a table
    only). Returns ``state``, changed in place."""
    if state.get("_layout", "tabular") != "tabular":
        state.pop("n_features_in_", None)
    return state
