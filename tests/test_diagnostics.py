import numpy as np
import pytest

from skrnn import RNNClassifier, RNNRegressor
from skrnn.diagnostics import gradient_flow, plot_gradient_flow
from skrnn.reference import ElmanParams, bptt


def test_gradient_flow_equals_the_reference_dL_dh():
    """For a SimpleRNN, gradient_flow is ‖∂L/∂h_t‖ of the lecture's recursion."""
    T, F, H, O = 6, 2, 3, 2  # noqa: E741 (the lecture's names)
    rng = np.random.RandomState(0)
    p = ElmanParams.random(F, H, O, random_state=0)
    x = rng.randn(T, F).astype(np.float32)
    y = rng.randn(T, O).astype(np.float32)
    reg = RNNRegressor(cell="rnn", units=H, return_sequences=True, epochs=1,
                       scaling=None, random_state=0).fit([x, x], [y, y])
    reg.model_.get_layer("rnn_0").set_weights([p.W_xh.T, p.W_hh.T, p.b_h])
    reg.model_.get_layer("head").set_weights([p.W_oh.T, p.b_o])
    reg._y_mean, reg._y_scale = np.zeros(O), np.ones(O)  # compare unscaled losses
    flow = gradient_flow(reg, [x], [y])
    _, _, dL_dh = bptt(p, x.astype(np.float64), y.astype(np.float64))
    expected = np.linalg.norm(dL_dh, axis=1) * 2 / (T * O)  # skrnn's loss is a mean
    np.testing.assert_allclose(flow, expected, rtol=1e-4)


def test_gradient_flow_many_to_one_ragged_and_stacked():
    rng = np.random.RandomState(0)
    X = [rng.randn(n, 2) for n in (12, 7, 12)]
    y = [0, 1, 0]
    clf = RNNClassifier(cell="gru", units=(4, 3), epochs=1, random_state=0).fit(X, y)
    flow = gradient_flow(clf, X, y)
    assert flow.shape == (12,) and (flow > 0).all()
    assert gradient_flow(clf, X, y, layer=1).shape == (12,)
    with pytest.raises(ValueError, match="layer must be in"):
        gradient_flow(clf, X, y, layer=2)
    bi = RNNClassifier(units=3, bidirectional=True, epochs=1, random_state=0).fit(X, y)
    with pytest.raises(ValueError, match="unidirectional"):
        gradient_flow(bi, X, y)


def test_plot_gradient_flow(tmp_path):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    ax = plot_gradient_flow({"rnn": np.logspace(-6, 0, 20), "lstm": np.ones(20)})
    assert len(ax.get_lines()) == 2 and ax.get_yscale() == "log"
    ax.figure.savefig(tmp_path / "flow.png")
    assert (tmp_path / "flow.png").stat().st_size > 0


def test_vanishing_gradient_simple_rnn_vs_lstm_on_the_adding_problem():
    """Trained the same way on a task that needs memory, the LSTM keeps a useful
    gradient at the first step while SimpleRNN's has vanished by orders of magnitude."""
    from skrnn.datasets import make_adding_problem

    X, y = make_adding_problem(2000, 40, random_state=0)
    ratios = {}
    for cell in ("lstm", "rnn"):
        reg = RNNRegressor(cell=cell, units=16, epochs=6, learning_rate=0.01,
                           global_clipnorm=1.0, scaling=None, conv_filters=None,
                           random_state=0).fit(X, y)
        flow = gradient_flow(reg, X[:64], y[:64])
        ratios[cell] = flow[0] / flow[-1]  # first step relative to the last
        if cell == "lstm":
            assert np.mean((reg.predict(X[:500]) - y[:500]) ** 2) < 0.05  # it learned
    assert ratios["lstm"] > 100 * ratios["rnn"]


def test_plot_history(tmp_path):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    from skrnn.plotting import plot_history

    history = {"epoch": [1, 2, 3], "loss": [0.9, 0.5, 0.4], "val_loss": [1.0, 0.7, 0.6],
               "val_score": [float("nan")] * 3, "grad_norm_mean": [1.0, 0.5, 0.2],
               "grad_norm_max": [2.0, 1.0, 0.5], "clipped_fraction": [0.5, 0.0, 0.0]}
    axes = plot_history(history, metrics=("loss", "score", "gradient norm"))
    assert len(axes) == 2  # no recorded score: that panel is left out
    assert [ln.get_label() for ln in axes[0].get_lines()] == ["training", "validation"]
    np.testing.assert_array_equal(axes[0].get_lines()[1].get_ydata(), [1.0, 0.7, 0.6])
    assert axes[1].get_yscale() == "log"
    axes[0].figure.savefig(tmp_path / "history.png")
    with pytest.raises(ValueError, match="Unknown metrics"):
        plot_history(history, metrics=("accuracy",))
    with pytest.raises(TypeError, match="fitted skrnn estimator"):
        plot_history([0.1, 0.2])
