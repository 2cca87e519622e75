"""Saving fitted estimators to a file that loads without running code from it.

``est.save(path)`` writes one zip holding two members: ``skrnn.json`` (the class, the
parameters and the fitted state — classes, vocabularies, scaling, history, the network's
specification — as tagged JSON) and ``arrays.npz`` (every array, the network's
variables and the optimizer's state among them). :func:`load` reads them with
``allow_pickle=False``, rebuilds the network with skrnn's own builders from the
specification (no Keras layer configuration is deserialised, so no ``Lambda`` can come
in) and assigns the saved variables after checking their shapes. Anything else in the
file — another member, an unknown key or tag, a value of the wrong type, an array of the
wrong shape — is refused with a ValueError naming it.

Not saved: ``callbacks`` and strategy objects (set to None, as when pickling); a
``RandomState`` given as ``random_state`` is saved as its state.
"""

from __future__ import annotations

import io
import json
import os
import zipfile

import numpy as np

from ._codec import Decoder, Encoder, SavingError

FORMAT, VERSION = "skrnn-estimator", 1
MEMBERS = ("skrnn.json", "arrays.npz")
#: Built again from the specification on loading, or rebuilt on use.
_REBUILT = ("model_", "_step", "_strategy", "_encoder", "_decoder_step", "_inference")
_FITTED = {  # what a fitted estimator may hold besides its parameters
    "common": {"history_", "n_iter_", "best_epoch_", "_spec", "_random", "_step_params",
               "_optimizer_state"},
    "RNNClassifier": {"n_features_in_", "feature_names_in_", "_layout", "_input_kind",
                      "_n_step_features", "vocabulary_", "_scaling", "scaling_mean_",
                      "scaling_scale_", "classes_", "_label_encoder", "_class_weights",
                      "_covariates"},
    "RNNRegressor": {"n_features_in_", "feature_names_in_", "_layout", "_input_kind",
                     "_n_step_features", "vocabulary_", "_scaling", "scaling_mean_",
                     "scaling_scale_", "n_outputs_", "_y_ndim", "_y_mean", "_y_scale",
                     "_fitted_loss", "quantiles_", "_covariates"},
    "Seq2SeqTransformer": {"_source_kind", "_target_kind", "_target_strings",
                           "source_vocabulary_", "target_vocabulary_",
                           "_n_source_features", "_numeric_horizon", "max_output_length_",
                           "_end", "_start", "_y_mean", "_y_scale", "_fitted_loss",
                           "quantiles_", "_covariates"},
}


def _classes():
    from .classifier import RNNClassifier
    from .regressor import RNNRegressor
    from .seq2seq import Seq2SeqTransformer

    return {c.__name__: c for c in (RNNClassifier, RNNRegressor, Seq2SeqTransformer)}


def save(estimator, path) -> None:
    """Write ``estimator`` (fitted) to ``path`` (see the module's docstring)."""
    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(estimator)
    name = type(estimator).__name__
    allowed = _FITTED["common"] | _FITTED.get(name, set())
    params = estimator.get_params(deep=False)
    encode = Encoder()
    saved_params = {}
    for key, value in params.items():
        if key == "callbacks" or (key == "strategy" and not isinstance(value, (str, type(None)))):
            value = None
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
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    with zipfile.ZipFile(os.fspath(path), "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(MEMBERS[0], json.dumps(document))
        archive.writestr(MEMBERS[1], buffer.getvalue())


def _read(path):
    try:
        archive = zipfile.ZipFile(os.fspath(path))
    except (zipfile.BadZipFile, OSError) as exc:
        raise SavingError(f"{path} is not an skrnn estimator file ({exc}).") from exc
    with archive:
        names = archive.namelist()
        unknown = [n for n in names if n not in MEMBERS]
        if unknown or sorted(names) != sorted(MEMBERS):
            raise SavingError(f"{path}: an skrnn file holds exactly {list(MEMBERS)}; "
                              f"found {names} (refused: {unknown or 'members missing'}).")
        try:
            document = json.loads(archive.read(MEMBERS[0]))
            with np.load(io.BytesIO(archive.read(MEMBERS[1])), allow_pickle=False) as f:
                arrays = {k: f[k] for k in f.files}
        except ValueError as exc:  # a pickled (object) array among them, broken JSON
            raise SavingError(f"{path}: {exc}") from exc
    keys = {"format", "version", "class", "params", "state", "n_variables"}
    if not isinstance(document, dict) or set(document) != keys:
        raise SavingError(f"{path}: skrnn.json must hold exactly {sorted(keys)}.")
    if document["format"] != FORMAT or document["version"] != VERSION:
        raise SavingError(f"{path}: format {document['format']!r} version "
                          f"{document['version']!r}; this skrnn reads {FORMAT!r} {VERSION}.")
    return document, arrays


def load(path):
    """Load an estimator written by its ``save`` method, without running code from
    the file.

    The arrays are read with ``allow_pickle=False``; the network is rebuilt by skrnn's
    own builders from its saved specification and given the saved variables (no Keras
    layer configuration is deserialised); a Keras optimizer or learning-rate schedule
    among the parameters is loaded from Keras' optimizer modules only, in ``safe_mode``.
    The file may come from any Keras backend.

    Parameters
    ----------
    path : str or path-like

    Returns
    -------
    RNNClassifier, RNNRegressor or Seq2SeqTransformer
        Fitted, predicting bit-identically to the estimator saved (same backend), and
        holding its optimizer's state for ``warm_start``.

    Raises
    ------
    ValueError
        The file is not one ``save`` wrote, or was changed (another member, an unknown
        key or tag, a refused parameter, a variable of the wrong shape): the message
        says what.
    """
    document, arrays = _read(path)
    classes = _classes()
    name = document["class"]
    if name not in classes:
        raise SavingError(f"{path}: unknown estimator class {name!r}.")
    decode = Decoder(arrays)
    estimator = classes[name]()
    params = document["params"]
    # A parameter added after the file was written takes its default (which keeps the
    # behaviour the file was written with); one this skrnn does not know is refused.
    if not isinstance(params, dict) or not set(params) <= set(estimator.get_params()):
        raise SavingError(f"{path}: parameters {name} does not have: "
                          f"{sorted(set(params or ()) - set(estimator.get_params()))}.")
    estimator.set_params(**{k: decode(v, f"parameter {k}") for k, v in params.items()})
    try:
        estimator._check_params()
    except (ValueError, TypeError) as exc:
        raise SavingError(f"{path}: {exc}") from exc
    state = document["state"]
    allowed = _FITTED["common"] | _FITTED[name]
    if not isinstance(state, dict) or not set(state) <= allowed:
        raise SavingError(f"{path}: unknown fitted attributes "
                          f"{sorted(set(state) - allowed)}.")
    values = {k: decode(v, f"{name}.{k}") for k, v in state.items()}
    spec = values.get("_spec")
    if spec is None or type(spec).__name__ != ("Seq2SeqSpec" if name == "Seq2SeqTransformer"
                                               else "ModelSpec"):
        raise SavingError(f"{path}: {name} needs its network's specification.")
    estimator.__dict__.update(values)
    _rebuild(estimator, path, arrays, document["n_variables"])
    unused = set(arrays) - decode.used - {f"variable{i}" for i in range(
        document["n_variables"])}
    if unused:
        raise SavingError(f"{path}: arrays.npz holds arrays nothing refers to: "
                          f"{sorted(unused)}.")
    return estimator


def _rebuild(estimator, path, arrays, n_variables) -> None:
    """The network from its specification, with the saved variables."""
    from .models import build_model
    from .models._seq2seq import build_seq2seq

    if type(estimator).__name__ == "Seq2SeqTransformer":
        built = build_seq2seq(estimator._spec)
        estimator._encoder, estimator._decoder_step = built["encoder"], built["step"]
        estimator._inference = None
        model = built["train"]
    else:
        model = build_model(estimator._spec)
    if n_variables != len(model.variables):
        raise SavingError(f"{path}: {n_variables} variables saved, the network has "
                          f"{len(model.variables)}.")
    for i, variable in enumerate(model.variables):
        value = arrays.get(f"variable{i}")
        if value is None or tuple(value.shape) != tuple(variable.shape):
            raise SavingError(
                f"{path}: variable {i} ({variable.path}) has shape "
                f"{None if value is None else value.shape}, the network "
                f"{tuple(variable.shape)}.")
        variable.assign(value)
    estimator.model_ = model
    estimator._step = None  # built on use, taking _optimizer_state (see fitted_step)


class SaveMixin:
    """``save(path)`` for the estimators."""

    def save(self, path) -> None:
        """Write the fitted estimator to one file that :func:`skrnn.load` reads back
        without running code from it (no pickle; the network is rebuilt from its
        specification and given the saved variables). Predictions after loading are
        bit-identical on the same backend, and the file loads under any backend.
        ``callbacks`` and strategy objects are not saved (None after loading)."""
        save(self, path)
