"""``fit`` is a transaction: an estimator's fitted state changes only when it returns.

Every ``fit`` / ``partial_fit`` runs inside :func:`fit_transaction`. If anything raises
(bad input found late, a failed build, an error or Ctrl-C while training), the
estimator's attributes are put back as they were, so a previously fitted estimator
predicts bit-identically (same ``classes_``, vocabularies, scaling, history) and a
never-fitted one stays unfitted (``NotFittedError``).

A fresh fit builds a new Keras model beside the old one, which it never touches; a warm
fit (``warm_start``, ``partial_fit``) trains the fitted model in place, so its weights
and the optimizer's variables are copied first and written back on failure.

After a fresh fit, succeeded or not, the backend's per-function caches are released
(:func:`skrnn.training.release_caches`), so that many fits in one process stay flat.
"""

from __future__ import annotations

import contextlib
import copy
import sys

import numpy as np

from .._warnings import warn

#: Attributes changed in place (not replaced) by a warm fit.
_MUTABLE = ("history_", "_random")


def _variables(estimator) -> tuple[list, int]:
    """The fitted model's variables and the optimizer's (and how many of those)."""
    model, step = estimator.__dict__.get("model_"), estimator.__dict__.get("_step")
    if model is None:
        return [], 0
    if step is None:
        return list(model.variables), 0
    step.sync_to_model()  # stateless backends: the trained values into the model
    return list(model.variables) + list(step.optimizer.variables), len(
        step.optimizer.variables)


@contextlib.contextmanager
def fit_transaction(estimator, warm: bool):
    """Run a fit; on any exception restore ``estimator`` and re-raise.

    ``warm``: the fit continues the fitted model, whose variables are then restored too.
    """
    saved = dict(estimator.__dict__)
    for name in _MUTABLE:
        if name in saved:
            saved[name] = copy.deepcopy(saved[name])
    variables, n_optimizer = _variables(estimator) if warm else ([], 0)
    values = [np.array(v.numpy()) for v in variables]
    try:
        yield
    except BaseException:
        step = saved.get("_step")
        if step is not None:
            step.drop_pending()
            if len(step.optimizer.variables) != n_optimizer:
                saved["_step"] = None  # its optimizer was built by the failed fit
        for variable, value in zip(variables, values):
            variable.assign(value)
        estimator.__dict__.clear()
        estimator.__dict__.update(saved)
        raise
    finally:
        # A fresh fit replaced (or failed to build) a model whose compiled functions are
        # now gone; a warm fit keeps its functions, whose kernels are worth keeping
        # (partial_fit in a streaming loop would otherwise re-create them every call).
        if not warm and "skrnn.training" in sys.modules:
            sys.modules["skrnn.training"].release_caches()


def _non_finite_rows(outputs) -> list:
    """Positions of the samples (rows of an array, or per-sample arrays) holding a
    non-finite value."""
    if isinstance(outputs, np.ndarray):  # at once, not row by row
        finite = np.isfinite(outputs.reshape(len(outputs), -1)).all(axis=1)
        return np.flatnonzero(~finite).tolist()
    return [i for i, r in enumerate(outputs) if not np.isfinite(r).all()]


def check_finite_outputs(estimator, outputs, index=None, ids=None):
    """Refuse to return predictions computed from non-finite network outputs.

    ``outputs``: an array with one row per sample, or a list of per-sample arrays;
    ``index``: the samples' positions in the caller's input (default: their order);
    ``ids``: the samples' keys instead (a stream's series), named in the message.
    A NaN logit would otherwise become a silent class, a NaN value a silent prediction.
    """
    bad = _non_finite_rows(outputs)
    if not bad:
        return
    first = bad[0] if index is None else int(index[bad[0]])
    where = f"id {ids[bad[0]]!r}" if ids is not None else f"sample {first}"
    diverged = bool(getattr(estimator, "history_", {}).get("non_finite"))
    why = ("training diverged (history_['non_finite'] records where): refit with a lower "
           "learning_rate or with gradient clipping (clipnorm)" if diverged else
           "the weights or these inputs are too large for float32: check the scale of "
           "these samples against the training data")
    raise ValueError(
        f"{type(estimator).__name__} computes non-finite outputs for {where} "
        f"({len(bad)} of {len(outputs)} samples checked); {why}. No prediction is returned "
        "rather than a NaN or an arbitrary class.")


def warn_if_outputs_diverged(estimator, data, batch_size: int):
    """After a non-finite update: warn when the weights kept (those of the last finite
    update) still give non-finite outputs on the training sequences ``data``."""
    from ..training import predict_outputs

    out = predict_outputs(estimator._step, data.x, data.lengths, batch_size, data.per_step)
    bad = len(_non_finite_rows(out))
    if bad:
        warn(
            f"The weights kept give non-finite outputs for {bad} of {len(data)} training "
            "sequences: predict raises a ValueError for such samples. Refit with a lower "
            "learning_rate or with gradient clipping (clipnorm).", RuntimeWarning)
