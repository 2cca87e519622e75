"""Figures of a fit: the training history and the gradient flow (needs matplotlib,
``pip install 'skrnn[plot]'``)."""

from __future__ import annotations

import numpy as np

from ._history import EPOCH_KEYS
from .diagnostics import plot_gradient_flow

__all__ = ["plot_attributions", "plot_gradient_flow", "plot_history"]

_PANELS = {
    "loss": ("loss", "val_loss"),
    "score": (None, "val_score"),
    "gradient norm": ("grad_norm_mean", "grad_norm_max"),
    "clipped fraction": ("clipped_fraction", None),
}


def _pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("skrnn.plotting needs matplotlib: pip install "
                          "'skrnn[plot]'") from exc
    return plt


def plot_history(history, metrics=("loss", "score"), axes=None):
    """Plot a fit's history: training vs validation loss, validation score, and the
    gradient diagnostics, one panel each, against the epoch.

    Parameters
    ----------
    history : fitted estimator or dict
        An estimator with ``history_`` (``RNNClassifier``, ``RNNRegressor``,
        ``Seq2SeqTransformer``) or the dict itself.
    metrics : sequence of {"loss", "score", "gradient norm", "clipped fraction"}
        The panels, in order. Panels without any recorded values (e.g. "score"
        without ``early_stopping``) are left out.
    axes : sequence of matplotlib Axes, optional
        One per panel drawn; new figure otherwise.

    Returns
    -------
    list of matplotlib Axes
    """
    if hasattr(history, "history_"):
        history = history.history_
    if not isinstance(history, dict) or "epoch" not in history:
        raise TypeError("plot_history needs a fitted skrnn estimator or its history_ dict, "
                        f"got {type(history).__name__}.")
    unknown = [m for m in metrics if m not in _PANELS]
    if unknown:
        raise ValueError(f"Unknown metrics {unknown}; choose from {list(_PANELS)}.")
    epochs = np.asarray(history["epoch"])
    if not len(epochs):
        raise ValueError("The history is empty: fit the estimator first.")

    def curve(key):
        values = np.asarray(history.get(key) or [], dtype=float)
        return values if len(values) == len(epochs) and np.isfinite(values).any() else None

    panels = [(m, [(k, curve(k)) for k in _PANELS[m] if k and curve(k) is not None])
              for m in metrics]
    panels = [(m, curves) for m, curves in panels if curves]
    plt = _pyplot()
    if axes is None:
        _, axes = plt.subplots(1, len(panels), figsize=(4.5 * len(panels), 3.2),
                               squeeze=False)
        axes = list(axes[0])
    labels = {key: label for key, (_, label) in EPOCH_KEYS.items()}
    for ax, (metric, curves) in zip(axes, panels):
        for key, values in curves:
            ax.plot(epochs, values, marker="o", markersize=3, label=labels[key])
        if metric == "gradient norm":
            ax.set_yscale("log")
        ax.set_xlabel("epoch")
        ax.set_title(metric)
        ax.legend()
    return list(axes[:len(panels)])


def plot_attributions(sequence, scores, ax=None, *, channel_names=None, cmap="coolwarm",
                      title=None):
    """Draw a sequence with its attributions (:func:`skrnn.inspection.attributions`).

    A numeric ``(T, F)`` series is drawn channel by channel over a time x channel heat
    map of its scores (red raises the explained output, blue lowers it; the colour
    scale is symmetric). A token sequence is drawn as text, each token highlighted by
    its score.

    Parameters
    ----------
    sequence : ``(T, F)`` or ``(T,)`` array, or a list of tokens
    scores : ``(T, F)`` or ``(T,)`` array
    ax : matplotlib Axes, optional
    channel_names : list of str, optional
    cmap : str, default="coolwarm"
    title : str, optional

    Returns
    -------
    matplotlib Axes
    """
    plt = _pyplot()
    scores = np.asarray(scores, dtype=np.float64)
    numeric = isinstance(sequence, np.ndarray) and sequence.dtype.kind in "biuf"
    per_line = 60
    if ax is None:
        lines = 1 if numeric else -(-len(sequence) // per_line)
        _, ax = plt.subplots(figsize=(8, 3) if numeric else (8, 0.3 * lines + 0.3),
                             layout="constrained")
    limit = float(np.abs(scores).max()) or 1.0
    norm = plt.Normalize(-limit, limit)
    colours = plt.get_cmap(cmap)
    if not numeric:
        tokens = [str(t) for t in sequence]
        if scores.shape != (len(tokens),):
            raise ValueError(f"scores has shape {scores.shape}; a sequence of "
                             f"{len(tokens)} tokens has one score each.")
        ax.set_axis_off()
        ax.set_xlim(0, min(per_line, max(len(tokens), 1)))
        ax.set_ylim(-(len(tokens) // per_line + 1), 0.5)
        for i, (token, score) in enumerate(zip(tokens, scores)):
            ax.text(i % per_line + 0.5, -(i // per_line), token, ha="center",
                    va="center", family="monospace",
                    bbox=dict(boxstyle="square,pad=0.15", lw=0,
                              facecolor=colours(norm(score))))
    else:
        values = sequence.reshape(len(sequence), -1).astype(np.float64)
        if scores.size != values.size or len(scores) != len(values):
            raise ValueError(f"scores has shape {scores.shape}, the sequence "
                             f"{values.shape}: one score per step and channel.")
        scores = scores.reshape(values.shape)
        n_channels = values.shape[1]
        ax.imshow(scores.T, aspect="auto", cmap=cmap, norm=norm, origin="lower",
                  extent=(-0.5, len(values) - 0.5, -0.5, n_channels - 0.5))
        span = np.ptp(values, axis=0)
        span = np.where(span > 0, span, 1.0)
        for j in range(n_channels):  # each channel drawn inside its own row
            row = (values[:, j] - values[:, j].min()) / span[j] * 0.8 - 0.4 + j
            ax.plot(np.arange(len(values)), row, color="black", lw=1)
        names = channel_names or [f"channel {j}" for j in range(n_channels)]
        ax.set_yticks(range(n_channels), names)
        ax.set_xlabel("time step")
        plt.colorbar(plt.cm.ScalarMappable(norm=norm, cmap=cmap), ax=ax,
                     label="attribution")
    if title:
        ax.set_title(title)
    return ax
