"""Figures of a fit: the training history and the gradient flow (needs matplotlib,
``pip install 'skrnn[plot]'``)."""

from __future__ import annotations

import numpy as np

from ._history import EPOCH_KEYS
from .diagnostics import plot_gradient_flow

__all__ = ["plot_gradient_flow", "plot_history"]

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
