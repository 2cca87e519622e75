"""Gradient diagnostics: how much of the loss's gradient reaches each time step.

``history_`` already records the global gradient norm and how often it was clipped;
:func:`gradient_flow` shows *where in time* the gradient goes: ‖∂L/∂h_t‖ for every step
t, the quantity that vanishes (or explodes) in backpropagation through time.
"""

from __future__ import annotations

import numpy as np
from sklearn.utils.validation import check_is_fitted


def gradient_flow(estimator, X, y, layer: int = 0) -> np.ndarray:
    """‖∂L/∂h_t‖ for every step t of a fitted recurrent estimator.

    The recurrent layer ``layer`` is unrolled step by step (eagerly, with its own cell
    and weights), so ∂L/∂h_t is the total derivative of the training loss on ``(X, y)``
    with respect to that layer's hidden state at step t — through the output at t and
    through every later step. Sequences are padded at the end; a padded step carries no
    gradient.

    Parameters
    ----------
    estimator : fitted RNNClassifier or RNNRegressor
        Unidirectional (a bidirectional state has no single direction in time).
    X, y
        As for ``fit``; keep it to a few dozen sequences.
    layer : int, default=0
        Which recurrent layer, 0 being the one next to the input.

    Returns
    -------
    ndarray of shape (n_steps,)
        The norm over the batch and the units of ∂L/∂h_t, for t = 0 .. n_steps - 1.

    Notes
    -----
    TensorFlow backend only for now.
    """
    import keras
    import tensorflow as tf

    from .data import SupervisedSet
    from .models._recurrent import _apply, _is_recurrent
    from .training import weighted_loss

    check_is_fitted(estimator)
    if estimator.bidirectional:
        raise ValueError("gradient_flow needs a unidirectional model "
                         "(bidirectional=False).")
    seq = estimator._check_X(X, reset=False)
    n = len(seq)
    targets = estimator._prepare_targets(y, seq, reset=False, training=False)
    weights = estimator._target_weights(targets, np.ones(n))
    data = SupervisedSet(estimator._encode_X(seq), seq.lengths, targets, weights,
                         estimator.return_sequences)
    x, mask, y_b, w = data.batch(np.arange(n))
    model = estimator.model_
    layers = [lay for lay in model.layers if not isinstance(lay, keras.layers.InputLayer)]
    recurrent = [i for i, lay in enumerate(layers) if _is_recurrent(lay)]
    if not 0 <= layer < len(recurrent):
        raise ValueError(f"layer must be in [0, {len(recurrent) - 1}], got {layer}.")
    rnn = layers[recurrent[layer]]
    mask_t = tf.constant(mask)
    watched = []

    def unrolled(h, mask):
        """The layer's own cell, step by step, each step's output watched."""
        size = rnn.cell.state_size
        states = [tf.zeros((n, s), h.dtype)
                  for s in (size if isinstance(size, (list, tuple)) else [size])]
        outputs = []
        for t in range(h.shape[1]):
            out, new_states = rnn.cell(h[:, t], states, training=False)
            tape.watch(out)
            watched.append(out)
            keep = mask[:, t:t + 1]
            new_states = new_states if isinstance(new_states, (list, tuple)) else [new_states]
            states = [tf.where(keep, s_new, s) for s_new, s in zip(new_states, states)]
            outputs.append(tf.where(keep, out, tf.zeros_like(out)))
        if rnn.return_sequences:
            return tf.stack(outputs, axis=1)
        return states[0]  # the state after each sequence's last real step

    with tf.GradientTape() as tape:
        # The whole network (a convolutional front-end included), this layer unrolled.
        out, _ = _apply(layers, tf.constant(x), mask_t, replace=(rnn, unrolled))
        loss = weighted_loss(estimator._loss_task(), estimator.return_sequences,
                             tf.constant(y_b), out, tf.constant(w), mask_t)
    grads = tape.gradient(loss, watched)
    return np.array([0.0 if g is None else float(tf.norm(g)) for g in grads])


def plot_gradient_flow(flows, ax=None, labels=None):
    """Plot one or more :func:`gradient_flow` curves on a log scale.

    Parameters
    ----------
    flows : array or dict of label -> array
    ax : matplotlib Axes, optional
    labels : list of str, optional
        Names of the curves when ``flows`` is a list.

    Returns
    -------
    matplotlib Axes

    Notes
    -----
    Needs matplotlib (``pip install skrnn[plot]``).
    """
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("plot_gradient_flow needs matplotlib: pip install "
                          "'skrnn[plot]'") from exc
    if isinstance(flows, dict):
        items = list(flows.items())
    elif np.ndim(flows) == 1:
        items = [(labels[0] if labels else None, flows)]
    else:
        items = list(zip(labels or [None] * len(flows), flows))
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.5))
    for label, flow in items:
        ax.semilogy(np.arange(len(flow)), flow, label=label)
    ax.set_xlabel("time step t")
    ax.set_ylabel(r"$\|\partial L / \partial h_t\|$")
    ax.set_title("Gradient reaching each time step")
    if any(label for label, _ in items):
        ax.legend()
    return ax
