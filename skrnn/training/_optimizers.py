"""Optimizer from a name or an instance, never reusing the user's object."""

from __future__ import annotations

import numbers

import keras


def get_optimizer(optimizer, learning_rate=None) -> keras.optimizers.Optimizer:
    """A fresh optimizer.

    Parameters
    ----------
    optimizer : str or keras.optimizers.Optimizer
        A Keras name ("adam", "sgd", "rmsprop", ...) or an instance, which is copied
        from its config so the caller's object (and its state) is left alone.
    learning_rate : float or keras.optimizers.schedules.LearningRateSchedule, optional
        Overrides the optimizer's own learning rate; a schedule is copied from its
        config, like the optimizer.
    """
    if isinstance(optimizer, str):
        try:
            opt = keras.optimizers.get(optimizer)
        except ValueError:
            raise ValueError(f"Unknown optimizer {optimizer!r}; use a Keras optimizer "
                             "name such as 'adam', 'sgd' or 'rmsprop', or an "
                             "instance.") from None
        opt = opt.__class__.from_config(opt.get_config())
    elif isinstance(optimizer, keras.optimizers.Optimizer):
        opt = optimizer.__class__.from_config(optimizer.get_config())
    else:
        raise TypeError(f"optimizer must be a name or a keras.optimizers.Optimizer, got "
                        f"{type(optimizer).__name__}.")
    if isinstance(learning_rate, keras.optimizers.schedules.LearningRateSchedule):
        opt.learning_rate = learning_rate.__class__.from_config(learning_rate.get_config())
    elif learning_rate is not None:
        if not isinstance(learning_rate, numbers.Real):  # a callable with a get_config
            raise TypeError("learning_rate must be a positive float or a keras.optimizers."
                            f"schedules.LearningRateSchedule, got {learning_rate!r}.")
        opt.learning_rate = learning_rate
    return opt
