"""The PyTorch step: Keras layers run eagerly, gradients from ``torch.autograd``.

Keras' torch backend keeps every variable as a ``torch.nn.Parameter``; the step runs the
model, back-propagates the loss, clips the gradients with the shared
:func:`~skrnn.training.clip_gradients` and lets the Keras optimizer apply them. Batches
of equal lengths use the unmasked view of the model (the cuDNN kernel on GPU).
"""

from __future__ import annotations

import keras
import numpy as np
import torch

from ..models._fused import known_lengths, right_padded_lengths
from ._losses import weighted_loss
from ._resident import cut_batch
from ._step import Step, clip_gradients

_CUDA = torch.cuda.is_available()


class TorchStep(Step):
    """Train / evaluate / predict / chunk steps for the torch backend."""

    #: Decide on the device whether an update applies, so the host never waits for it
    #: (the flags are read once per epoch): on a GPU, where a wait per update would idle
    #: it. On a CPU the check costs nothing and the copies it replaces would.
    defer_checks = prefetch = _CUDA
    can_hold = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.optimizer.build(self.model.trainable_variables)
        self._halted = False

    def resume(self):
        self._halted = False

    @staticmethod
    def _tensors(arrays):
        """Tensors on the device; from a GPU machine's pinned memory, asynchronously
        (the prefetching thread copies the next batches while the step runs)."""
        out = []
        for a in arrays:
            if _CUDA and isinstance(a, np.ndarray):
                a = torch.from_numpy(np.ascontiguousarray(a)).pin_memory().to(
                    "cuda", non_blocking=True)
            out.append(keras.ops.convert_to_tensor(a))
        return out

    def _inputs(self, x, mask):
        if mask.all():
            return "unmasked", self._tensors([x])[0]
        return "masked", self._tensors([x, mask])

    @staticmethod
    def _lengths(mask):
        """What the fused kernels would otherwise read back from the device."""
        lengths = right_padded_lengths(mask)
        return None if lengths is None else torch.from_numpy(lengths.astype(np.int64))

    def _update(self, view, inputs, y, w, mask, lengths=None, chunk=False):
        variables = self.model.trainable_variables
        for v in variables:
            v.value.grad = None
        y, w, mask = self._tensors([y, w, mask])
        with known_lengths(lengths):
            out = self.model_view(view)(inputs, training=True)
        final = None
        if chunk:
            out, *final = out
            final = [s.detach() for s in final]
        loss = weighted_loss(self.task, self.per_step, y, out, w, mask)
        loss.backward()
        grads = [v.value.grad if v.value.grad is not None else torch.zeros_like(v.value)
                 for v in variables]
        with torch.no_grad():
            grads, norm, clipped = clip_gradients(grads, **self.clipping)
            # A non-finite update is skipped, and so is every later one.
            if self.defer_checks:
                finite = torch.isfinite(loss) & torch.isfinite(norm)
                self._apply_where(finite, grads, variables)
            else:
                finite = bool(torch.isfinite(loss) and torch.isfinite(norm))
                if finite and not self._halted:
                    self.optimizer.apply(grads, variables)
                self._halted = self._halted or not finite
        return loss.detach(), norm, clipped, finite, final

    def _apply_where(self, finite, grads, variables):
        """The update decided on the device: apply it, then put every weight and
        optimizer slot back where it must not happen (this update or an earlier one was
        not finite). Two copies of the weights instead of a host sync per update."""
        halted = torch.as_tensor(self._halted, device=finite.device)
        go = finite & ~halted
        slots = [*variables, *self.optimizer.variables]
        before = [v.value.clone() for v in slots]
        self.optimizer.apply(grads, variables)
        for v, old in zip(slots, before):
            v.value.copy_(torch.where(go, v.value, old))
        self._halted = halted | ~finite

    def stage(self, x, mask, y, w):
        view, inputs = self._inputs(x, mask)
        lengths = self._lengths(mask) if view == "masked" else None
        return (view, inputs, *self._tensors([y, w, mask]), lengths)

    def free_device_memory(self):
        return torch.cuda.mem_get_info()[0] if _CUDA else None

    def put_held(self, array):
        return self._tensors([array])[0]

    def stage_held(self, held, idx):
        offsets, lengths, t, equal = held.rows(idx)
        x, mask, y, w = cut_batch(held.x, held.y, held.w,
                                  *self._tensors([np.asarray(idx), offsets, lengths]), t,
                                  held.per_step)
        if equal:
            return "unmasked", x, y, w, mask, None
        return "masked", [x, mask], y, w, mask, torch.from_numpy(lengths.astype(np.int64))

    def train_staged(self, staged):
        return self._update(*staged)[:4]

    def train(self, x, mask, y, w):
        return self.train_staged(self.stage(x, mask, y, w))

    def train_chunk(self, x, mask, y, w, states):
        return self._update("states", self._tensors([x, mask, *states]), y, w, mask,
                            chunk=True)

    def advance(self, x, mask, states):
        with torch.no_grad():
            out = self.model_view("states")(self._tensors([x, mask, *states]), training=True)
        return [s.detach() for s in out[1:]]

    def evaluate(self, x, mask, y, w):
        view, inputs = self._inputs(x, mask)
        with torch.no_grad():
            out = self.model_view(view)(inputs, training=False)
            y, w, mask = self._tensors([y, w, mask])
            return float(weighted_loss(self.task, self.per_step, y, out, w, mask))

    def predict(self, x, mask):
        view, inputs = self._inputs(x, mask)
        with torch.no_grad():
            return keras.ops.convert_to_numpy(self.model_view(view)(inputs, training=False))

    def tracing_count(self) -> int:
        return 0  # eager: nothing is compiled


class Seq2SeqTorchStep(TorchStep):
    """Teacher-forced step for the encoder-decoder's training model."""

    stage, train_staged = Step.stage, Step.train_staged  # :meth:`train` takes arrays

    def _pair(self, x, mask):
        return self._tensors([*x, mask])

    def train(self, x, mask, y, w):
        return self._update("masked", self._pair(x, mask), y, w, mask)[:4]

    def evaluate(self, x, mask, y, w):
        with torch.no_grad():
            out = self.model(self._pair(x, mask), training=False)
            y, w, mask = self._tensors([y, w, np.asarray(mask)])
            return float(weighted_loss(self.task, True, y, out, w, mask))
