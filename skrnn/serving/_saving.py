"""Saving fitted estimators to a file that loads without running code from it.

``est.save(path)`` writes one zip holding two members: ``skrnn.json`` (the class, the
parameters and the fitted state — classes, vocabularies, scaling, history, the network's
specification — as tagged JSON) and ``arrays.npz`` (every array, the network's
variables and the optimizer's state among them). It writes a temporary file beside
``path`` and renames it over ``path``, so a write that fails leaves the previous file.

:func:`load` trusts nothing in the file and checks all of it before it builds
anything, in this order: the zip's directory (exactly the two members, the JSON's
declared size bounded) → the JSON (nesting depth bounded, then parsed) → the network's
specification (every field one the builders take) → how many values that network
holds, from below and above (:func:`skrnn.models._checks.weight_bounds`), which
bounds the declared size of ``arrays.npz`` before it is decompressed → each array's
header (no object arrays, no complex numbers, its shape matching its bytes) before it
is allocated → the saved variables hold at least the values the specification
promises → the parameters and the fitted state (classes against outputs, scaling
shapes, vocabularies against the network: the estimator's ``_check_fitted_state``) →
only then the network, built by skrnn's own builders (no Keras layer configuration
is deserialised, so no ``Lambda`` can come in), whose variables must match the saved
ones in shape and dtype and be finite. So loading any file costs a small multiple of
the memory of the model it really holds. Every failure is a :class:`SavingError` (a
ValueError) naming the file and what is wrong.

The loader finds the estimator classes in a registry the classes fill (a class that
declares ``_saved_state`` registers itself, see :class:`SaveMixin`) and rebuilds the
network through the estimator's ``_rebuild_network``: this module imports none of them.

Not saved: ``callbacks`` and strategy objects (set to None, as when pickling); a
``RandomState`` given as ``random_state`` is saved as its state.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import tempfile
import zipfile

import numpy as np

from ._codec import Decoder, Encoder, SavingError
from ._reading import (
    ARRAY_SLACK,
    BYTES_PER_WEIGHT,
    FORMAT,
    MEMBERS,
    STREAM_MEMBERS,
    VERSION,
    check_optimizer_state,
    fits,
    read_arrays,
    read_document,
    read_spec,
    retired_state_dropped,
    saved_variables,
)

#: Built again from the specification on loading, or rebuilt on use.
_REBUILT = ("model_", "_step", "_strategy", "_encoder", "_decoder_step", "_inference")
#: What every fitted estimator may hold besides its parameters; each class adds its
#: own ``_saved_state``.
SAVED_STATE = frozenset({"history_", "n_iter_", "best_epoch_", "_spec", "_random",
                         "_step_params", "_optimizer_state"})
#: The estimator classes that files name, filled by :class:`SaveMixin`.
REGISTRY: dict = {}


def saved_strategy(value):
    """What of a ``strategy`` parameter is kept when saving or pickling: a name (or
    None); a strategy object belongs to the devices of one process and becomes None."""
    return value if isinstance(value, (str, type(None))) else None


def save(estimator, path) -> None:
    """Write ``estimator`` (fitted) to ``path`` (see the module's docstring)."""
    document, arrays = _members(estimator)
    _write_atomically(os.fspath(path), {MEMBERS[0]: json.dumps(document).encode(),
                                        MEMBERS[1]: _npz(arrays)})


def _npz(arrays: dict) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def _members(estimator):
    """``(document, arrays)``: what ``skrnn.json`` and ``arrays.npz`` hold."""
    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(estimator)
    cls = type(estimator)
    name = cls.__name__
    if REGISTRY.get(name) is not cls:
        raise TypeError(f"{name} cannot be saved: skrnn saves "
                        f"{sorted(REGISTRY)} (a subclass would load as another class).")
    allowed = SAVED_STATE | cls._saved_state
    params = estimator.get_params(deep=False)
    encode = Encoder()
    saved_params = {}
    for key, value in params.items():
        if key == "callbacks":
            value = None
        elif key == "strategy":
            value = saved_strategy(value)
        saved_params[key] = encode(value, f"parameter {key}")
    state = {}
    for key, value in estimator.__dict__.items():
        if key in params or key in _REBUILT:
            continue
        if key not in allowed:
            raise TypeError(f"{name}.{key} is not among the attributes skrnn saves.")
        state[key] = encode(value, f"{name}.{key}")
    step = estimator.__dict__.get("_step")
    if step is not None:  # (stateless backends write the trained values back first)
        state["_optimizer_state"] = encode(step.optimizer_values(), "optimizer state")
    variables = [np.asarray(v.numpy()) for v in estimator.model_.variables]
    document = {"format": FORMAT, "version": VERSION, "class": name,
                "params": saved_params, "state": state, "n_variables": len(variables)}
    arrays = dict(encode.arrays)
    arrays.update({f"variable{i}": v for i, v in enumerate(variables)})
    return document, arrays


def save_stream(stream, path) -> None:
    """Write a :class:`~skrnn.streaming.Stream`: the estimator's two members and the
    stream's own two (see :mod:`skrnn.serving._stream_file`)."""
    from ._stream_file import stream_members

    document, arrays = _members(stream.estimator)
    stream_document, stream_arrays = stream_members(stream)
    _write_atomically(os.fspath(path), {
        MEMBERS[0]: json.dumps(document).encode(), MEMBERS[1]: _npz(arrays),
        STREAM_MEMBERS[0]: json.dumps(stream_document).encode(),
        STREAM_MEMBERS[1]: _npz(stream_arrays)})


def _write_atomically(target: str, members: dict) -> None:
    """The zip of ``members`` at ``target``, written to a temporary file in the same
    directory, flushed to disk and renamed over ``target``: a failed write leaves
    whatever ``target`` held before."""
    directory = os.path.dirname(os.path.abspath(target))
    fd, temporary = tempfile.mkstemp(prefix=f".{os.path.basename(target)}.",
                                     suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            with zipfile.ZipFile(f, "w", zipfile.ZIP_DEFLATED) as archive:
                for name, data in members.items():
                    archive.writestr(name, data)
            f.flush()
            os.fsync(f.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)  # as open() would have made it
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def load(path):
    """Load an estimator written by its ``save`` method, without running code from
    the file.

    The whole file is checked before anything is built (see :mod:`skrnn.serving._saving`):
    the arrays are read with ``allow_pickle=False`` after their headers and sizes are
    checked against what the saved network's specification needs; the network is
    rebuilt by skrnn's own builders and given the saved variables (no Keras layer
    configuration is deserialised); a Keras optimizer or learning-rate schedule among
    the parameters is loaded from Keras' optimizer modules only, in ``safe_mode``.
    The file may come from any Keras backend.

    Parameters
    ----------
    path : str or path-like

    Returns
    -------
    RNNClassifier, RNNRegressor or Seq2SeqTransformer
        Fitted, predicting bit-identically to the estimator saved (same backend), and
        holding its optimizer's state for ``warm_start``. For a file written by
        ``Stream.save``: the :class:`~skrnn.streaming.Stream`, its series' states
        checked and restored (it continues bit-identically).

    Raises
    ------
    skrnn.SavingError
        A ValueError: the file is not one ``save`` wrote, or was changed (another
        member, an unknown key or tag, sizes that do not agree, a refused parameter,
        a variable of the wrong shape or dtype, a fitted state that contradicts its
        network): the message names the file and says what.
    """
    try:
        return _load(path)
    except SavingError as exc:
        if str(path) in str(exc):
            raise
        raise SavingError(f"{path}: {exc}") from exc  # the codec's, naming a value
    except (KeyboardInterrupt, MemoryError):
        raise
    except Exception as exc:  # whatever else a damaged file provokes
        raise SavingError(f"{path} cannot be loaded ({type(exc).__name__}: {exc}).") \
            from exc


def _load(path):
    try:
        archive = zipfile.ZipFile(os.fspath(path))
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError) as exc:
        raise SavingError(f"{path} is not an skrnn estimator file ({exc}).") from exc
    with archive:
        names = archive.namelist()
        streamed = sorted(names) == sorted(MEMBERS + STREAM_MEMBERS)
        unknown = [n for n in names if n not in MEMBERS + STREAM_MEMBERS]
        if unknown or (sorted(names) != sorted(MEMBERS) and not streamed):
            raise SavingError(f"{path}: an skrnn file holds exactly {list(MEMBERS)} (and "
                              f"a stream's {list(STREAM_MEMBERS)}); found {names[:10]} "
                              f"(refused: {unknown[:10] or 'members missing or repeated'}).")
        estimator = _load_estimator(archive, path)
        if not streamed:
            return estimator
        from ._stream_file import read_stream

        return read_stream(archive, path, estimator)


def _load_estimator(archive, path):
    document = read_document(archive, path, REGISTRY)
    cls = REGISTRY[document["class"]]
    spec, bounds = read_spec(document, cls, path)
    arrays = read_arrays(archive, path, BYTES_PER_WEIGHT * bounds[1] + ARRAY_SLACK)
    saved = saved_variables(arrays, document["n_variables"], bounds, path)
    name = cls.__name__
    decode = Decoder(arrays)
    estimator = cls()
    params = document["params"]
    # A parameter added after the file was written takes its default (which keeps the
    # behaviour the file was written with); one this skrnn does not know is refused.
    if not set(params) <= set(estimator.get_params()):
        raise SavingError(f"{path}: parameters {name} does not have: "
                          f"{sorted(set(params) - set(estimator.get_params()))}.")
    estimator.set_params(**{k: decode(v, f"parameter {k}") for k, v in params.items()})
    try:
        estimator._check_params()
    except (ValueError, TypeError) as exc:
        raise SavingError(f"{path}: {exc}") from exc
    state = document["state"]
    allowed = SAVED_STATE | cls._saved_state
    if not set(state) <= allowed:
        raise SavingError(f"{path}: unknown fitted attributes "
                          f"{sorted(set(state) - allowed)}.")
    values = {k: decode(v, f"{name}.{k}") for k, v in state.items() if k != "_spec"}
    estimator.__dict__.update(retired_state_dropped(values), _spec=spec)
    try:
        estimator._check_fitted_state()
        check_optimizer_state(estimator.__dict__.get("_optimizer_state"), len(saved))
    except (ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:
        raise SavingError(f"{path}: the fitted state contradicts itself or its network: "
                          f"{exc}") from exc
    unused = set(arrays) - decode.used - {f"variable{i}" for i in range(len(saved))}
    if unused:
        raise SavingError(f"{path}: arrays.npz holds arrays nothing refers to: "
                          f"{sorted(unused)[:10]}.")
    try:
        model = estimator._rebuild_network()
    except Exception as exc:
        raise SavingError(f"{path}: the network cannot be built from its "
                          f"specification ({type(exc).__name__}: {exc}).") from exc
    if len(saved) != len(model.variables):
        raise SavingError(f"{path}: {len(saved)} variables saved, the network has "
                          f"{len(model.variables)}.")
    for i, (variable, value) in enumerate(zip(model.variables, saved)):
        if tuple(value.shape) != tuple(variable.shape) \
                or not fits(value, np.dtype(variable.dtype)):
            raise SavingError(
                f"{path}: variable {i} ({variable.path}) has shape {value.shape} and "
                f"dtype {value.dtype}, the network {tuple(variable.shape)} and "
                f"{variable.dtype}.")
    for variable, value in zip(model.variables, saved):
        variable.assign(value)
    estimator._step = None  # built on use, taking _optimizer_state (see fitted_step)
    return estimator


class SaveMixin:
    """``save(path)`` for the estimators; a subclass that declares ``_saved_state`` (the
    fitted attributes it saves besides :data:`SAVED_STATE`) joins the
    :data:`REGISTRY` that :func:`load` reads class names from. It also provides
    ``_spec_type`` (the specification's class name), ``_check_fitted_state()`` and
    ``_rebuild_network()``."""

    _saved_state: frozenset = frozenset()
    _spec_type: str = ""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "_saved_state" in cls.__dict__:
            REGISTRY[cls.__name__] = cls

    def save(self, path) -> None:
        """Write the fitted estimator to one file that :func:`skrnn.load` reads back
        without running code from it (no pickle; the network is rebuilt from its
        specification and given the saved variables). Predictions after loading are
        bit-identical on the same backend, and the file loads under any backend.
        ``callbacks`` and strategy objects are not saved (None after loading)."""
        save(self, path)
