"""The training step of a fitted estimator: what it is made from (the settings that,
changed under ``warm_start``, rebuild it), making it, forgetting it with a new
network, and the check that a warm fit continues the network it was built with."""

from __future__ import annotations

import numpy as np


def _setting(value):
    """A parameter as a comparable value: Keras objects (an optimizer, a learning-rate
    schedule) by class and config, so an unpickled or cloned copy compares equal."""
    if hasattr(value, "get_config"):
        return type(value).__name__, repr(value.get_config())
    return value


def step_settings(est) -> tuple:
    """What a compiled training step is made from: when any of it changes (under
    ``warm_start``) the step is rebuilt and the optimizer starts afresh."""
    return (_setting(est.optimizer), _setting(est.learning_rate), est.clipnorm,
            est.clipvalue, est.global_clipnorm)


#: Parameters that do not change what a fit computes, or that may change when a fit
#: killed part-way is started again to resume from its backup.
_NOT_IN_BACKUP_KEY = ("epochs", "verbose", "callbacks", "strategy")


def fit_settings(est) -> str:
    """The parameters that identify a fit's backups (with its data), as a string equal
    in every process: Keras objects by class and config, a ``RandomState`` instance by
    its type (its state is the backup's own)."""
    settings = []
    for name, value in sorted(est.get_params(deep=False).items()):
        if name not in _NOT_IN_BACKUP_KEY:
            value = _setting(value)
            settings.append((name, type(value).__name__
                             if isinstance(value, np.random.RandomState) else value))
    return f"{type(est).__name__}{settings!r}"


def clipping_of(est) -> dict:
    """The clipping keywords of :func:`skrnn.training.clip_gradients`."""
    return dict(clipnorm=est.clipnorm, clipvalue=est.clipvalue,
                global_clipnorm=est.global_clipnorm)


def fitted_step(est, settings, task, per_step, **kwargs):
    """The compiled training step of ``est.model_``, recorded as made under ``settings``
    (what :func:`step_settings` returned, plus anything else the step depends on).

    After unpickling, the step takes the optimizer state pickled with the estimator when
    it was pickled under the same settings; otherwise that state is dropped."""
    from .. import training

    step = training.make_step(est.model_, training.get_optimizer(est.optimizer,
                                                                 est.learning_rate),
                              task, per_step, clipping_of(est),
                              strategy=getattr(est, "_strategy", None), **kwargs)
    saved = est.__dict__.pop("_optimizer_state", None)
    if saved is not None and getattr(est, "_step_params", None) == settings:
        step.load_optimizer_values(saved)
    est._step_params = settings
    return step


def forget_step(est) -> None:
    """A new network: its step, and its optimizer's state, start afresh."""
    est._step = None
    est.__dict__.pop("_optimizer_state", None)


def check_spec_fields(spec, expected, fields) -> None:
    """Loading: the saved network's ``spec`` against the one the fitted state and the
    parameters define (``expected``), on the ``fields`` the fitted state decides; a
    ValueError names the first that differs."""
    for field in fields:
        if getattr(expected, field) != getattr(spec, field):
            raise ValueError(
                f"the network's {field} is {getattr(spec, field)!r}, the fitted state "
                f"and parameters make it {getattr(expected, field)!r}")


def check_same_spec(built, now) -> None:
    """``warm_start`` / ``partial_fit`` continue the network ``built``: refuse when the
    parameters now define another one (``now``, a spec of the same dataclass), naming
    every field that changed. The seed is not compared; neither are the settings of a
    convolutional front-end that neither has."""
    import dataclasses

    ignore = {"seed"}
    if getattr(now, "input_kind", "tokens") != "tokens":
        ignore.add("embedding_dim")  # no embedding in front of numeric input
    if not getattr(built, "conv_filters", None) and not getattr(now, "conv_filters", None):
        ignore |= {"conv_mode", "conv_kernel_sizes"}
    changed = [f.name for f in dataclasses.fields(now) if f.name not in ignore
               and getattr(built, f.name, f.default) != getattr(now, f.name)]
    if changed:
        raise ValueError(
            f"warm_start / partial_fit continue the fitted network, but {changed} changed "
            "since it was built. Fit from scratch (warm_start=False) to use the new "
            "architecture.")
