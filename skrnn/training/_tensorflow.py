"""The TensorFlow step: ``tf.function`` + ``GradientTape``."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from ._losses import weighted_loss  # noqa: F401
from ._step import Step, clip_gradients  # noqa: F401
from ._variants import Variants


def dense(grads):
    """Embedding gradients come as IndexedSlices, on which keras.ops work per slice: a
    token seen twice in a batch would count as two slices in the norm, not as their
    sum. The dense gradient is the one every other backend clips."""
    return [tf.convert_to_tensor(g) if isinstance(g, tf.IndexedSlices) else g
            for g in grads]


def quiet(fn):
    """``fn`` (a ``tf.function``) without TensorFlow's "retracing" warning: it counts
    traces per Python code object, so every fit of a search tracing its own step once
    (with relaxed shapes) would read as retracing."""
    fn._omit_frequent_tracing_warning = True
    return fn


def _skip_default_all_reduce(optimizer):
    """On one device, let ``optimizer`` (a fresh copy, see ``get_optimizer``) skip
    Keras' all-reduce of the gradients.

    Outside a strategy that all-reduce (``_all_reduce_sum_gradients``) sums over the
    one default replica: the identity. But every trace of it registers a
    ``tf.custom_gradient`` in TensorFlow's process-wide gradient registry, which is
    never cleared and holds the traced graph alive: about 6 MB of every fit, for the
    life of the process (bench/bench_memory.py; Keras' own ``fit`` keeps them too).
    """
    if hasattr(optimizer, "_all_reduce_sum_gradients"):
        optimizer._all_reduce_sum_gradients = list


class TensorFlowStep(Step):
    """Compiled train / evaluate / predict steps for the TensorFlow backend.

    Each function is compiled once, with an input signature whose batch and time
    dimensions are ``None``: batches of any length and size reuse the same graph. There
    are two variants of each, for padded batches (the model with its mask) and for
    batches of equal lengths (the weight-sharing view without a mask); which one a
    batch runs is :mod:`._variants`' choice (TensorFlow's cuDNN path takes right-padded
    masks too, so a GPU loses nothing when an all-true mask is carried).
    """

    #: Row-steps of equal-length batches after which the unmasked view (25-30% faster
    #: on a CPU) is worth its own trace (0.5-1 s) in a fit on sequences of several
    #: lengths.
    UNMASKED_AFTER = 50_000

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.prefetch = self.prefetch or bool(tf.config.list_logical_devices("GPU")
                                              or tf.config.list_logical_devices("TPU"))
        self._unmasked = None  # without_mask(model), built on first equal-length batch
        self._stateful = None  # with_state_io(model), built on first truncated use
        self.variants = Variants(self.UNMASKED_AFTER, per_length=False)
        self.optimizer.build(self.model.trainable_variables)
        if getattr(self, "strategy", None) is None:
            _skip_default_all_reduce(self.optimizer)
        self._functions = {}
        # Set by the first non-finite update; every later update is skipped until
        # resume(), so the weights stay those of the last finite update.
        self._halted = tf.Variable(False, trainable=False,
                                   aggregation=tf.VariableAggregation.ONLY_FIRST_REPLICA)

    def resume(self):
        self._halted.assign(False)

    def _update(self, loss, grads, variables):
        """Clip and apply unless the loss or a gradient is non-finite (or halted)."""
        grads = dense(grads)
        grads, norm, clipped = clip_gradients(grads, **self.clipping)
        finite = self._apply_if_finite(loss, norm, grads, variables)
        return norm, clipped, finite

    def _apply_if_finite(self, loss, norm, grads, variables):
        # An overflowing norm counts too: its square overflowed float32 (so would
        # Adam's second moment), and clipping by it would scale the update to zero.
        finite = tf.logical_and(tf.math.is_finite(loss), tf.math.is_finite(norm))
        go = tf.logical_and(finite, tf.logical_not(self._halted))

        def apply():
            self.optimizer.apply(grads, variables)
            return tf.constant(True)

        tf.cond(go, apply, lambda: tf.constant(False))
        self._halted.assign(tf.logical_or(self._halted, tf.logical_not(finite)))
        return finite

    @property
    def unmasked(self):
        if self._unmasked is None:
            from ..models import without_mask

            self._unmasked = without_mask(self.model)
        return self._unmasked

    def _forward(self, x, mask, masked, training):
        if masked:
            return self.model([x, mask], training=training)
        return self.unmasked(x, training=training)

    def _train_impl(self, x, mask, y, w, masked):
        variables = self.model.trainable_variables
        with tf.GradientTape() as tape:
            out = self._forward(x, mask, masked, training=True)
            loss = weighted_loss(self.task, self.per_step, y, out, w, mask)
        grads = tape.gradient(loss, variables)
        norm, clipped, finite = self._update(loss, grads, variables)
        return loss, norm, clipped, finite

    def _state_model(self):
        if self._stateful is None:
            from ..models import with_state_io

            self._stateful = with_state_io(self.model)
        return self._stateful

    def _train_chunk_impl(self, x, mask, y, w, *states):
        variables = self.model.trainable_variables
        with tf.GradientTape() as tape:
            out, *final = self._state_model()([x, mask, *states], training=True)
            loss = weighted_loss(self.task, self.per_step, y, out, w, mask)
        grads = tape.gradient(loss, variables)
        norm, clipped, finite = self._update(loss, grads, variables)
        return loss, norm, clipped, finite, final

    def _advance_impl(self, x, mask, *states):
        _, *final = self._state_model()([x, mask, *states], training=True)
        return [tf.stop_gradient(s) for s in final]

    def train_chunk(self, x, mask, y, w, states):
        lead = 2 if self.per_step else 1
        loss, norm, clipped, finite, final = self._compiled(
            ("train_chunk", True), self._train_chunk_impl, (x, mask, y, w, *states),
            (2, 2, lead, lead) + (1,) * len(states))
        return loss, norm, clipped, finite, final

    def advance(self, x, mask, states):
        return self._compiled(("advance", True), self._advance_impl, (x, mask, *states),
                              (2, 2) + (1,) * len(states))

    def _compiled(self, key, impl, args, leads):
        """``impl`` compiled once per key, with ``None`` for the leading (batch, time)
        dimensions given by ``leads`` so every later shape reuses the graph."""
        fn = self._functions.get(key)
        if fn is None:
            signature = [
                tf.TensorSpec([None] * lead + list(np.shape(a)[lead:]),
                              tf.as_dtype(a.dtype))
                for a, lead in zip(args, leads)
            ]
            fn = quiet(tf.function(impl, input_signature=signature))
            self._functions[key] = fn
        return fn(*args)

    def _evaluate_impl(self, x, mask, y, w, masked):
        out = self._forward(x, mask, masked, training=False)
        return weighted_loss(self.task, self.per_step, y, out, w, mask)

    def _predict_impl(self, x, mask, masked):
        return self._forward(x, mask, masked, training=False)

    def _call(self, name, impl, args):
        """Run ``impl`` compiled for these arguments, masked or not as the batch needs."""
        masked = self.variants.masked_batch(args[1], train=name == "train")
        target_lead = 2 if self.per_step else 1
        leads = (2, 2, target_lead, target_lead)[:len(args)]
        return self._compiled((name, masked), lambda *a: impl(*a, masked), args, leads)

    def train(self, x, mask, y, w):
        return self._call("train", self._train_impl, (x, mask, y, w))

    def evaluate(self, x, mask, y, w):
        return float(self._call("evaluate", self._evaluate_impl, (x, mask, y, w)))

    def predict(self, x, mask):
        return self._call("predict", self._predict_impl, (x, mask)).numpy()

    def tracing_count(self) -> int:
        """How many times the train step was traced (compiled), both variants."""
        return sum(fn.experimental_get_tracing_count()
                   for (name, _), fn in self._functions.items()
                   if name in ("train", "train_chunk"))


class Seq2SeqTensorFlowStep(TensorFlowStep):
    """Teacher-forced step for the encoder-decoder's training model.

    ``x`` is ``(source, source_mask, target_in)``, ``mask`` the target mask, ``y`` the
    target shifted left (ending with the end token), ``w`` per-step weights.
    """

    def _seq2seq_impl(self, source, source_mask, target_in, mask, y, w, training):
        out = self.model([source, source_mask, target_in, mask], training=training)
        return weighted_loss(self.task, True, y, out, w, mask)

    def _seq2seq_train(self, *args):
        variables = self.model.trainable_variables
        with tf.GradientTape() as tape:
            loss = self._seq2seq_impl(*args, training=True)
        grads = tape.gradient(loss, variables)
        norm, clipped, finite = self._update(loss, grads, variables)
        return loss, norm, clipped, finite

    def _seq2seq_evaluate(self, *args):
        return self._seq2seq_impl(*args, training=False)

    def _leads(self, args):
        return tuple(1 if (i == 0 and np.ndim(a) == 2 and a.dtype.kind == "f") else 2
                     for i, a in enumerate(args))

    def train(self, x, mask, y, w):
        args = (*x, mask, y, w)
        return self._compiled(("seq2seq_train", None), self._seq2seq_train, args,
                              self._leads(args))

    def evaluate(self, x, mask, y, w):
        args = (*x, mask, y, w)
        return float(self._compiled(("seq2seq_evaluate", None), self._seq2seq_evaluate,
                                    args, self._leads(args)))
