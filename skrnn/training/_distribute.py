"""The ``strategy`` parameter: from what a user passes to what the step runs under."""

from __future__ import annotations

import contextlib
import itertools
import os
import weakref

import keras

from .._options import STRATEGIES as STRATEGY_NAMES
from .._warnings import warn

_TPU_ENVIRONMENT = ("TPU_NAME", "COLAB_TPU_ADDR", "TPU_WORKER_ID")


def resolve_strategy(strategy, random_state=None):
    """``None``, a ``tf.distribute.Strategy`` or a ``keras.distribution.DataParallel``.

    Parameters
    ----------
    strategy : None, {"auto", "mirrored", "multi_worker"}, or an instance
        TensorFlow: ``"auto"`` is a ``TPUStrategy`` when a TPU cluster resolves (only
        tried when a TPU is announced by ``TPU_NAME``, ``COLAB_TPU_ADDR`` or
        ``TPU_WORKER_ID``: resolving probes the network; one that does not resolve is
        warned about, once per process, and skipped), else a ``MirroredStrategy``
        when more than one GPU is visible, else ``None``; ``"mirrored"`` is
        ``MirroredStrategy()``, ``"multi_worker"`` ``MultiWorkerMirroredStrategy()``
        (its cluster from ``TF_CONFIG``). JAX: ``"auto"`` is ``DataParallel()`` over
        every device when there are several, or pass a ``DataParallel``. PyTorch: only
        ``None`` (and ``"auto"``, which resolves to it). A strategy made from a name is
        made once per process and shared by every later fit; an instance you pass is
        used, its collective operations keyed apart from every other strategy's
        (:func:`_own_collective_keys`), so new instances per fit work too.
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

    resolved = _tensorflow_strategy(tf, strategy, random_state)
    if isinstance(resolved, tf.distribute.MirroredStrategy):  # (not multi-worker's)
        _own_collective_keys(resolved)
    return resolved


def _tensorflow_strategy(tf, strategy, random_state):
    if (isinstance(strategy, tf.distribute.Strategy)
            and not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy)):
        return strategy
    if strategy == "auto":
        announced = tuple(os.environ.get(name) or "" for name in _TPU_ENVIRONMENT)
        if any(announced):
            tpu = _shared(("tpu", announced), _tpu_strategy)
            if tpu is not None:
                return tpu
        if len(tf.config.list_logical_devices("GPU")) > 1:
            return _shared(("mirrored",), tf.distribute.MirroredStrategy)
        return None
    if strategy == "mirrored":
        return _shared(("mirrored",), tf.distribute.MirroredStrategy)
    if strategy == "multi_worker":
        strategy = _shared(("multi_worker", os.environ.get("TF_CONFIG")),
                           tf.distribute.MultiWorkerMirroredStrategy)
    if isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        if not isinstance(random_state, int) or isinstance(random_state, bool):
            raise ValueError(
                "strategy='multi_worker' needs an integer random_state: every worker "
                "must draw the same initial weights and form the same batches.")
        return strategy
    raise ValueError(f"strategy must be None, one of {STRATEGY_NAMES}, a "
                     f"tf.distribute.Strategy or a keras.distribution.DataParallel; got "
                     f"{strategy!r}.")


#: The strategies skrnn made from a name, one per kind for the whole process: TensorFlow
#: numbers its collective operations per strategy instance, so a second
#: ``MirroredStrategy`` over the same GPUs collides with the first ("Shape mismatch in
#: the collective instance 100", tensorflow#61314, #62790) as soon as the models differ
#: -- what every GridSearchCV over model sizes does. A TPU system is initialised once.
_SHARED: dict = {}


def _shared(key, make):
    if key not in _SHARED:
        _SHARED[key] = make()
    return _SHARED[key]


#: Strategies whose collective keys are their own (weakly held: a strategy can go).
_REKEYED = weakref.WeakSet()
_KEY_BASES = itertools.count(1)


def _own_collective_keys(strategy) -> None:
    """Key a ``MirroredStrategy``'s all-reduce apart from every other strategy's.

    A ``MirroredStrategy`` all-reduces with collective operations numbered from group key
    ``1 + MirroredStrategy._collective_key_base`` (0) and instance key 100 -- the same
    numbers in every instance. Two instances over the same devices therefore share
    collective instances, and the second model of another size aborts with "Shape
    mismatch in the collective instance 100" (tensorflow#61314, #62790): what a
    GridSearchCV over model sizes does with a strategy instance (``clone`` deep-copies
    it), or a user who makes a new ``MirroredStrategy()`` for every fit. The first time
    skrnn meets a mirrored strategy it rebuilds its collective operations from a key
    base of its own (what TensorFlow's own tests do between strategies). TensorFlow
    versions without these (private) attributes are left as they are. Not for
    ``MultiWorkerMirroredStrategy``, whose keys every worker must share.
    """
    extended = strategy.extended
    remake = getattr(extended, "_make_collective_ops_with_fallbacks", None)
    if remake is None or strategy in _REKEYED or not hasattr(extended, "_collective_ops"):
        return
    default = extended._cross_device_ops is extended._collective_ops
    extended._collective_key_base = 100_000 * next(_KEY_BASES)
    extended._collective_ops = remake()
    if default:  # the strategy all-reduces with its collective operations
        extended._cross_device_ops = extended._collective_ops
    _REKEYED.add(strategy)


def _tpu_strategy():
    """A ``TPUStrategy`` for the announced TPU, or None (with a warning) when it does
    not resolve: ``"auto"`` then goes on without a TPU."""
    import tensorflow as tf

    try:
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver()
        tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
        return tf.distribute.TPUStrategy(resolver)
    except Exception as exc:  # URLError, ValueError("Please provide a TPU Name"), ...
        announced = [n for n in _TPU_ENVIRONMENT if os.environ.get(n)]
        warn(
            f"strategy='auto': {', '.join(announced)} announce a TPU, but it could not be "
            f"used ({type(exc).__name__}: {exc}); training without a TPU.", RuntimeWarning)
        return None


def strategy_scope(strategy):
    """The context that model and optimizer variables are created in."""
    if strategy is not None and hasattr(strategy, "scope"):
        return strategy.scope()
    return contextlib.nullcontext()

