"""The choice of the backend's :class:`~skrnn.training.Step`.

It lives apart from the interface (``_step.py``), which the backend modules import:
the interface never imports an implementation (as Keras keeps its backend choice
outside ``keras.src.backend.common``).
"""

from __future__ import annotations

import keras

from ._step import Step


def make_step(model, optimizer, task, per_step, clipping=None, seq2seq=False,
              strategy=None) -> Step:
    """The :class:`Step` for the active Keras backend (``seq2seq``: teacher forcing of
    an encoder-decoder's training model; ``strategy``: from
    :func:`~skrnn.training.resolve_strategy`)."""
    backend = keras.backend.backend()
    kwargs = {}
    if backend == "tensorflow" and strategy is not None:
        from ._tf_distribute import DistributedSeq2SeqStep as seq2seq_cls
        from ._tf_distribute import DistributedTensorFlowStep as cls
        kwargs["strategy"] = strategy
    elif backend == "tensorflow":
        from ._tensorflow import Seq2SeqTensorFlowStep as seq2seq_cls
        from ._tensorflow import TensorFlowStep as cls
    elif backend == "jax":
        from ._jax import JaxStep as cls
        from ._jax import Seq2SeqJaxStep as seq2seq_cls
        kwargs["distribution"] = strategy
    elif backend == "torch":
        from ._torch import Seq2SeqTorchStep as seq2seq_cls
        from ._torch import TorchStep as cls
    else:
        raise NotImplementedError(
            f"skrnn's training loop supports the tensorflow, jax and torch backends of "
            f"Keras; KERAS_BACKEND={backend!r} is not supported.")
    if backend in ("jax", "torch"):
        from ..models._fused import use_fused_kernels

        use_fused_kernels(model)  # the views share its layers, so they run fused too
    else:  # with a GPU: cuDNN only for the masks it takes (truncated BPTT's are not)
        from ..models._cudnn_guard import guard_cudnn_masks

        guard_cudnn_masks(model)
    return (seq2seq_cls if seq2seq else cls)(model, optimizer, task, per_step, clipping,
                                             **kwargs)


def release_caches() -> None:
    """Free what the backend keeps per compiled function after the function is gone.

    TensorFlow's eager kernel cache keeps the kernels of every ``tf.function`` ever
    called, keyed by the function's unique name, after the function itself is deleted:
    about 1.3 MB per fit, for the life of the process (bench/bench_memory.py). This is
    ``keras.backend.clear_session``'s cache clearing without its reset of Keras' global
    state (layer names, the default graph), so other live models are unaffected: their
    kernels are created again on their next call.
    """
    if keras.backend.backend() == "tensorflow":
        from tensorflow.python.eager import context

        context.context().clear_kernel_cache()
