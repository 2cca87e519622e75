"""MkDocs hook: draw the documentation's figures at build time.

The problem-shape pictures are drawn with matplotlib; the training history and the
gradient-flow figures come from small fits drawn by ``skrnn.plotting`` itself, so the
pages always show what the current code produces. The figures are added to the site
as generated files (``figures/*.svg``); nothing is written into ``docs/``.
"""

from __future__ import annotations

import io
import logging
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch  # noqa: E402
from mkdocs.structure.files import File  # noqa: E402

log = logging.getLogger("mkdocs.hooks.figures")
COLOURS = {"x": "#dbeafe", "h": "#fde68a", "d": "#fed7aa", "y": "#bbf7d0", "v": "#e9d5ff"}


def _svg(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(fig)
    return buf.getvalue()


# ---------------------------------------------------------------- problem shapes
def _box(ax, x, y, text, kind):
    ax.add_patch(FancyBboxPatch((x - 0.32, y - 0.22), 0.64, 0.44, boxstyle="round,pad=0.04",
                                facecolor=COLOURS[kind], edgecolor="#334155", lw=1))
    ax.text(x, y, text, ha="center", va="center", fontsize=10)


def _arrow(ax, a, b):
    ax.add_patch(FancyArrowPatch(a, b, arrowstyle="-|>", mutation_scale=10, lw=1,
                                 color="#475569"))


def _chain(ax, xs, y, label, kind, start=None):
    """Recurrent cells at xs, each passing its state to the next."""
    for i, x in enumerate(xs):
        _box(ax, x, y, label, kind)
        if i:
            _arrow(ax, (xs[i - 1] + 0.36, y), (x - 0.36, y))
    if start is not None:
        _arrow(ax, start, (xs[0] - 0.36, y))


def _io(ax, x, y_cell, below=None, above=None, feed=False):
    if below:
        _box(ax, x, y_cell - 1, below, "x" if not feed else "y")
        _arrow(ax, (x, y_cell - 0.74), (x, y_cell - 0.26))
    if above:
        _box(ax, x, y_cell + 1, above, "y")
        _arrow(ax, (x, y_cell + 0.26), (x, y_cell + 0.74))


def _decoder(ax, xs, start, end):
    """Decoder cells at xs, started from ``start``: each reads the previous output and
    writes the next, the last one writing ``end``."""
    _chain(ax, xs, 0, "dec", "d", start=start)
    for i, x in enumerate(xs):
        above = end if i == len(xs) - 1 else f"ŷ{i + 1}"
        _io(ax, x, 0, below=f"ŷ{i}" if i else "<s>", above=above, feed=i > 0)


def shape_figure(shape: str) -> bytes:
    fig, ax = plt.subplots(figsize=(7.2, 2.6))
    if shape == "many-to-one":
        xs = [0, 1.2, 2.4, 3.6]
        _chain(ax, xs, 0, "h", "h")
        for i, x in enumerate(xs):
            _io(ax, x, 0, below=f"x{i + 1}" if i < 3 else "xT")
        _io(ax, xs[-1], 0, above="ŷ")
        ax.text(1.8, 1.1, "one label or value per sequence\n(pooling: last, mean, attention)",
                ha="center", fontsize=9, color="#334155")
    elif shape == "many-to-many":
        xs = [0, 1.2, 2.4, 3.6]
        _chain(ax, xs, 0, "h", "h")
        for i, x in enumerate(xs):
            name = f"{i + 1}" if i < 3 else "T"
            _io(ax, x, 0, below=f"x{name}", above=f"ŷ{name}")
    elif shape == "seq2seq":
        enc, dec = [0, 1.2, 2.4], [4.0, 5.2, 6.4, 7.6]
        _chain(ax, enc, 0, "enc", "h")
        _decoder(ax, dec, start=(enc[-1] + 0.36, 0), end="</s>")
        for i, x in enumerate(enc):
            _io(ax, x, 0, below=f"x{i + 1}")
        ax.text(1.2, 1.1, "source: length S", ha="center", fontsize=9, color="#334155")
        ax.text(5.8, -1.65, "decoder input: the previous output (teacher forcing in fit)",
                ha="center", fontsize=9, color="#334155")
    elif shape == "one-to-many":
        dec = [1.4, 2.6, 3.8, 5.0]
        _box(ax, 0, 0, "v", "v")
        ax.text(0, -0.55, "(F,) vector", ha="center", fontsize=9, color="#334155")
        _decoder(ax, dec, start=(0.36, 0), end="stop")
    else:
        raise ValueError(shape)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.autoscale_view()
    ax.margins(0.04)
    return _svg(fig)


# ---------------------------------------------------------------- fitted figures
def history_figure() -> bytes:
    from skrnn import RNNClassifier
    from skrnn.plotting import plot_history

    rng = np.random.RandomState(0)
    X = [rng.randn(rng.randint(5, 40), 3) for _ in range(400)]
    y = ["up" if s[:, 0].sum() > 0 else "down" for s in X]
    clf = RNNClassifier(units=16, epochs=12, early_stopping=True, n_iter_no_change=20,
                        random_state=0).fit(X, y)
    axes = plot_history(clf, metrics=("loss", "score", "gradient norm"))
    return _svg(axes[0].figure)


def gradient_flow_figure() -> bytes:
    from skrnn import RNNRegressor
    from skrnn.datasets import make_adding_problem
    from skrnn.diagnostics import gradient_flow, plot_gradient_flow

    X, y = make_adding_problem(2000, 40, random_state=0)
    flows = {}
    for cell, name in (("lstm", "LSTM"), ("rnn", "SimpleRNN")):
        reg = RNNRegressor(cell=cell, units=16, epochs=6, learning_rate=0.01,
                           global_clipnorm=1.0, random_state=0).fit(X, y)
        flows[name] = gradient_flow(reg, X[:64], y[:64])
    ax = plot_gradient_flow(flows)
    ax.set_title("Adding problem, T = 40: gradient reaching each step")
    return _svg(ax.figure)


def explaining_figures() -> dict:
    """The four figures of explaining.md, drawn by examples/explain_and_calibrate.py
    itself (at a small size: the page's numbers come from its full run)."""
    import importlib.util
    import tempfile

    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    spec = importlib.util.spec_from_file_location(
        "explain_and_calibrate", os.path.join(root, "examples", "explain_and_calibrate.py"))
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    with tempfile.TemporaryDirectory() as folder:
        example.main(["--epochs", "20", "--n-train", "800", "--n-cal", "400",
                      "--n-test", "400", "--review-epochs", "2", "--figures", folder])
        return {f"figures/{name}": open(os.path.join(folder, name), "rb").read()
                for name in sorted(os.listdir(folder))}


FIGURES = {
    **{f"figures/{s}.svg": (lambda s=s: shape_figure(s))
       for s in ("many-to-one", "many-to-many", "seq2seq", "one-to-many")},
    "figures/history.svg": history_figure,
    "figures/gradient-flow.svg": gradient_flow_figure,
}


def on_config(config):
    # Build from a checkout without installing it: skrnn is imported from the repository.
    root = os.path.dirname(os.path.abspath(config.config_file_path))
    if root not in sys.path:
        sys.path.insert(0, root)
    return config


def on_files(files, config):
    for path, draw in FIGURES.items():
        start = time.perf_counter()
        files.append(File.generated(config, path, content=draw()))
        log.info("drew %s in %.1f s", path, time.perf_counter() - start)
    start = time.perf_counter()
    for path, content in explaining_figures().items():
        files.append(File.generated(config, path, content=content))
    log.info("drew the explaining figures in %.1f s", time.perf_counter() - start)
    return files
