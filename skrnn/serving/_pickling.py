"""Pickling an estimator: its Keras model as an in-memory archive, its compiled step
dropped (the optimizer's state kept as arrays), a strategy object replaced by None."""

from __future__ import annotations

from .._history import History


def picklable_state(estimator, rebuilt_on_use=()) -> dict:
    """An estimator's ``__dict__`` ready to pickle.

    The compiled step (and ``rebuilt_on_use``) and the resolved strategy (devices of this
    process; prediction needs none) are dropped, the step's optimizer state kept as
    arrays (``_optimizer_state``: a warm start after unpickling continues Adam's moments
    and the learning rate reached, see :func:`fitted_step`); a strategy object
    given as a parameter is replaced by None (strategy objects do not pickle, strings
    do); the Keras model is pickled on its own (an in-memory ``.keras`` archive).
    """
    import pickle

    from ._saving import saved_strategy

    state = estimator.__dict__.copy()
    step = state.pop("_step", None)
    if step is not None:
        state["_optimizer_state"] = step.optimizer_values()
    for key in ("_strategy", *rebuilt_on_use):
        state.pop(key, None)
    if "strategy" in state:
        state["strategy"] = saved_strategy(state["strategy"])
    if "model_" in state:
        state["model_"] = pickle.dumps(state["model_"])
    return state


def unpickled_state(state: dict) -> dict:
    """The counterpart of :func:`picklable_state` for what every estimator shares: a
    history pickled as a plain dict by an earlier skrnn becomes a :class:`History`; the
    ``n_features_in_`` an earlier skrnn recorded for sequences (features per step, now
    ``n_step_features_``) is dropped: it counts the columns of a 2-D table only."""
    from ._reading import retired_state_dropped

    retired_state_dropped(state)
    if type(state.get("history_")) is dict:
        state["history_"] = History(state["history_"])
    return state
