"""Every estimator's parameters, declared once: scikit-learn's ``_parameter_constraints``.

Each estimator class sets ``_parameter_constraints`` to one of the tables below and
calls :func:`validate_params` first thing in ``fit`` / ``partial_fit``: a value outside
its constraints raises scikit-learn's ``InvalidParameterError`` (a ``ValueError`` and a
``TypeError``) worded as scikit-learn words it ("The 'cell' parameter of RNNClassifier
must be a str among {...}. Got 'x' instead."), so ``check_param_validation`` applies.
The names a model can be built from (cells, activations, poolings, attentions,
decodings, losses, strategies) come from :mod:`skrnn._options`.

Two rules go beyond scikit-learn's table: a bool is never a number here (``epochs=True``
is refused, where ``Interval(Integral, ...)`` alone would take it), and a tuple of
sizes (``units``, ``conv_filters``, ``conv_kernel_sizes``) must hold positive ints.
Rules between parameters (``truncate_steps`` with ``bidirectional``, ...) stay with the
estimator that has them.
"""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from sklearn.utils._param_validation import (
    HasMethods,
    Interval,
    InvalidParameterError,
    StrOptions,
    make_constraint,
    validate_parameter_constraints,
)

from .. import _options as built
from ..data import INPUT_TYPES, SCALINGS

POSITIVE_INT = Interval(Integral, 1, None, closed="left")
POSITIVE_FINITE = Interval(Real, 0, np.inf, closed="neither")
FRACTION = Interval(Real, 0, 1, closed="left")  # a dropout rate
SIZES = [POSITIVE_INT, tuple, list]  # one int, or one per layer / block
LR_SCHEDULES, STRATEGIES = built.LR_SCHEDULES, built.STRATEGIES
#: What ``conv_filters="auto"`` means for numeric input: LSTM-FCN's front-end.
AUTO_CONV_FILTERS = (128, 256, 128)


def _options(names) -> list:
    """``StrOptions`` of the string names, and None where None is one of them."""
    return [StrOptions({n for n in names if n is not None}),
            *([None] if None in names else [])]


#: What every estimator's training shares.
TRAINING = {
    "cell": _options(built.CELLS),
    "units": SIZES,
    "bidirectional": ["boolean"],
    "dropout": [FRACTION],
    "embedding_dim": [POSITIVE_INT],
    "optimizer": [str, HasMethods(["apply_gradients", "get_config"])],
    # a float, or a keras.optimizers.schedules.LearningRateSchedule (checked without
    # importing Keras: called with the step, rebuilt from its config)
    "learning_rate": [POSITIVE_FINITE, None, HasMethods(["__call__", "get_config"])],
    "lr_schedule": _options(LR_SCHEDULES),
    "epochs": [POSITIVE_INT],
    "clipnorm": [POSITIVE_FINITE, None],
    "clipvalue": [POSITIVE_FINITE, None],
    "global_clipnorm": [POSITIVE_FINITE, None],
    "early_stopping": ["boolean"],
    "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
    "n_iter_no_change": [POSITIVE_INT, StrOptions({"auto"})],
    "tol": [Interval(Real, 0, np.inf, closed="left")],
    "warm_start": ["boolean"],
    "random_state": ["random_state"],
    "verbose": ["verbose"],
    "strategy": [*_options(STRATEGIES), HasMethods(["scope"]), None],
    "callbacks": [list, tuple, None],  # of keras.callbacks.Callback (checked at fit)
}

#: RNNRegressor (and, with ``class_weight``, RNNClassifier).
RECURRENT = {
    **TRAINING,
    "recurrent_dropout": [FRACTION],
    "activation": _options(built.ACTIVATIONS),
    "layer_norm": ["boolean"],
    "recurrent_initializer": _options(built.RECURRENT_INITIALIZERS),
    "unit_forget_bias": ["boolean"],
    "pooling": _options(built.POOLINGS),
    "conv_filters": [StrOptions({"auto"}), *SIZES, None],
    "conv_kernel_sizes": SIZES,
    "conv_mode": _options(built.CONV_MODES),
    "return_sequences": ["boolean"],
    "min_token_frequency": [POSITIVE_INT],
    "input_type": _options(INPUT_TYPES),
    "scaling": _options(SCALINGS),
    "batch_size": [POSITIVE_INT, StrOptions({"auto"})],
    "truncate_steps": [POSITIVE_INT, None],
}

CLASSIFIER = {**RECURRENT, "class_weight": [dict, StrOptions({"balanced"}), None]}
LOSSES = {"loss": _options(built.LOSSES), "quantiles": [tuple, list]}
REGRESSOR = {**RECURRENT, **LOSSES,
             "interval_calibration": [StrOptions({"auto"}),
                                      Interval(Real, 0, 0.5, closed="left"), None]}

SEQ2SEQ = {
    **TRAINING,
    **LOSSES,
    "attention": _options(built.ATTENTIONS),
    "decoding": _options(built.DECODINGS),
    "beam_width": [POSITIVE_INT],
    "length_penalty": [Interval(Real, -np.inf, np.inf, closed="neither")],
    "max_output_length": [POSITIVE_INT, None],
    "batch_size": [POSITIVE_INT],
    "n_paths": [Interval(Integral, 0, None, closed="left")],
}

SEQUENCE_SCALER = {"with_mean": ["boolean"], "with_std": ["boolean"]}

TIME_SERIES_WINDOWS = {
    "lookback": [POSITIVE_INT],
    "horizon": [POSITIVE_INT],
    "stride": [POSITIVE_INT],
    "target": [Interval(Integral, 0, None, closed="left"), tuple, list, None],
    "future": [Interval(Integral, 0, None, closed="left"), tuple, list, None],
}


def _invalid(est, name: str, expected: str):
    return InvalidParameterError(
        f"The {name!r} parameter of {type(est).__name__} must be {expected}. "
        f"Got {getattr(est, name)!r} instead.")


def validate_params(est) -> None:
    """Check every parameter of ``est`` against its class's ``_parameter_constraints``."""
    params = est.get_params(deep=False)
    validate_parameter_constraints(est._parameter_constraints, params,
                                   caller_name=type(est).__name__)
    for name, value in params.items():
        constraints = est._parameter_constraints[name]
        if isinstance(value, (bool, np.bool_)) and not any(
                isinstance(c, str) and c in ("boolean", "verbose") for c in constraints):
            allowed = [str(make_constraint(c)) for c in constraints]
            allowed = " or ".join(filter(None, (", ".join(allowed[:-1]), allowed[-1])))
            raise _invalid(est, name, f"{allowed} (not a bool)")


def sizes(est, name: str, *, allow_zero: bool = False) -> tuple:
    """The int-or-tuple parameter ``name`` as a non-empty tuple of positive ints (of
    non-negative ints with ``allow_zero``)."""
    value = getattr(est, name)
    seq = (value,) if isinstance(value, Integral) else value
    low = 0 if allow_zero else 1
    if (not isinstance(seq, (tuple, list)) or not seq
            or not all(isinstance(v, Integral) and not isinstance(v, (bool, np.bool_))
                       and v >= low for v in seq)):
        kind = "non-negative" if allow_zero else "positive"
        raise _invalid(est, name, f"a {kind} int or a non-empty tuple of {kind} ints")
    return tuple(int(v) for v in seq)


def conv_blocks(est, *, auto: bool = False) -> tuple:
    """``(filters, kernel_sizes)`` of the convolutional front-end as tuples of positive
    ints (empty: none); ``conv_filters="auto"`` means :data:`AUTO_CONV_FILTERS` where
    ``auto`` is true, else none."""
    filters = est.conv_filters
    if isinstance(filters, str):
        filters = AUTO_CONV_FILTERS if auto else None
    if filters is None:
        return (), ()
    if filters is not AUTO_CONV_FILTERS:
        filters = sizes(est, "conv_filters")
    kernels = sizes(est, "conv_kernel_sizes")
    if len(kernels) == 1:
        kernels = kernels * len(filters)
    if len(kernels) != len(filters):
        raise ValueError(f"conv_kernel_sizes needs one entry per conv_filters entry (or a "
                         f"single int): got {len(kernels)} kernel sizes for "
                         f"{len(filters)} blocks.")
    return filters, kernels


def check_callbacks(callbacks, owner: str) -> None:
    """Every entry of ``callbacks`` is a Keras callback skrnn's loop can run (Keras is
    imported only when there are callbacks to check)."""
    if callbacks:
        from ..training._callbacks import check_callbacks as check

        check(callbacks, owner)
