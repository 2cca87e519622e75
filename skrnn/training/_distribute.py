"""The ``strategy`` parameter: from what a user passes to what the step runs under."""

from __future__ import annotations

import contextlib
import os

import keras

STRATEGY_NAMES = ("auto", "mirrored", "multi_worker")
_TPU_ENVIRONMENT = ("TPU_NAME", "COLAB_TPU_ADDR", "TPU_WORKER_ID")


def resolve_strategy(strategy, random_state=None):
    """``None``, a ``tf.distribute.Strategy`` or a ``keras.distribution.DataParallel``.

    Parameters
    ----------
    strategy : None, {"auto", "mirrored", "multi_worker"}, or an instance
        TensorFlow: ``"auto"`` is a ``TPUStrategy`` when a TPU cluster resolves (only
        tried when a TPU is announced by ``TPU_NAME``, ``COLAB_TPU_ADDR`` or
        ``TPU_WORKER_ID``: resolving probes the network), else a ``MirroredStrategy``
        when more than one GPU is visible, else ``None``; ``"mirrored"`` is
        ``MirroredStrategy()``, ``"multi_worker"`` ``MultiWorkerMirroredStrategy()``
        (its cluster from ``TF_CONFIG``). JAX: ``"auto"`` is ``DataParallel()`` over
        every device when there are several, or pass a ``DataParallel``. PyTorch: only
        ``None`` (and ``"auto"``, which resolves to it).
    random_state : the estimator's
        A multi-worker strategy needs an integer: every worker must draw the same
        initial weights and form the same batches.
    """
    if strategy is None:
        return None
    backend = keras.backend.backend()
    if backend == "jax":
        from keras.distribution import DataParallel

        if isinstance(strategy, DataParallel):
            return strategy
        if strategy == "auto":
            import jax

            return DataParallel() if len(jax.devices()) > 1 else None
        raise ValueError(f"With the JAX backend, strategy must be None, 'auto' or a "
                         f"keras.distribution.DataParallel; got {strategy!r}.")
    if backend != "tensorflow":
        if strategy == "auto":
            return None
        raise ValueError(f"strategy is supported with the tensorflow and jax backends of "
                         f"Keras; KERAS_BACKEND={backend!r} accepts only None or 'auto'.")
    import tensorflow as tf

    if (isinstance(strategy, tf.distribute.Strategy)
            and not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy)):
        return strategy
    if strategy == "auto":
        if any(os.environ.get(name) for name in _TPU_ENVIRONMENT):
            return _tpu_strategy()
        if len(tf.config.list_logical_devices("GPU")) > 1:
            return tf.distribute.MirroredStrategy()
        return None
    if strategy == "mirrored":
        return tf.distribute.MirroredStrategy()
    if strategy == "multi_worker":
        strategy = tf.distribute.MultiWorkerMirroredStrategy()
    if isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        if not isinstance(random_state, int) or isinstance(random_state, bool):
            raise ValueError(
                "strategy='multi_worker' needs an integer random_state: every worker "
                "must draw the same initial weights and form the same batches.")
        return strategy
    raise ValueError(f"strategy must be None, one of {STRATEGY_NAMES}, a "
                     f"tf.distribute.Strategy or a keras.distribution.DataParallel; got "
                     f"{strategy!r}.")


def _tpu_strategy():  # pragma: no cover - no TPU here; see docs/scaling.md
    import tensorflow as tf

    resolver = tf.distribute.cluster_resolver.TPUClusterResolver()
    tf.config.experimental_connect_to_cluster(resolver)
    tf.tpu.experimental.initialize_tpu_system(resolver)
    return tf.distribute.TPUStrategy(resolver)


def strategy_scope(strategy):
    """The context that model and optimizer variables are created in."""
    if strategy is not None and hasattr(strategy, "scope"):
        return strategy.scope()
    return contextlib.nullcontext()

