"""The NumPy reference against finite differences, and skrnn's Keras gradients
(float64) against the reference, full and truncated."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from skrnn.models import ModelSpec, build_model, with_state_io
from skrnn.reference import ElmanParams, bptt, numerical_gradient, truncated_bptt
from skrnn.training import weighted_loss


def case(T=3, F=2, H=3, O=2, output="linear", seed=0):  # noqa: E741 (the lecture's names)
    rng = np.random.RandomState(seed)
    p = ElmanParams.random(F, H, O, output=output, random_state=seed)
    # float32-representable inputs, so Keras' float32 input layer loses nothing
    x = rng.randn(T, F).astype(np.float32).astype(np.float64)
    if output == "linear":
        y = rng.randn(T, O).astype(np.float32).astype(np.float64)
    else:
        y = np.eye(O)[rng.randint(0, O, T)]
    return p, x, y


@pytest.mark.parametrize("output", ["linear", "softmax"])
@pytest.mark.parametrize("many_to_one", [False, True])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_reference_gradients_match_finite_differences(output, many_to_one, seed):
    p, x, y = case(T=5, output=output, seed=seed)
    steps = [4] if many_to_one else None
    _, grads, _ = bptt(p, x, y, steps=steps)
    numeric = numerical_gradient(p, x, y, steps=steps)
    for name in grads:
        np.testing.assert_allclose(grads[name], numeric[name], rtol=1e-5, atol=1e-8,
                                   err_msg=name)


@pytest.mark.parametrize("seed", [0, 1])
def test_reference_relu_gradients_match_finite_differences(seed):
    """The ReLU state (the weekend-plans network's activation) backpropagates too."""
    p, x, y = case(T=5, seed=seed)
    p.activation = "relu"
    _, grads, _ = bptt(p, x, y)
    numeric = numerical_gradient(p, x, y)
    for name in grads:
        np.testing.assert_allclose(grads[name], numeric[name], rtol=1e-5, atol=1e-8,
                                   err_msg=name)
    p.activation = "tanh"
    _, tanh_grads, _ = bptt(p, x, y)
    assert not np.allclose(tanh_grads["W_hh"], grads["W_hh"])


def test_dL_dh_is_the_total_derivative():
    """∂L/∂h_t from the recursion equals a finite difference on h_t itself."""
    p, x, y = case(T=4)
    _, _, dL_dh = bptt(p, x, y)
    from skrnn.reference._elman import forward

    def loss_with_bump(t, j, eps):
        a, h, _ = forward(p, x)
        state = h[t + 1].copy()
        state[j] += eps
        total = sum(0.5 * np.sum((p.W_oh @ h[s + 1] + p.b_o - y[s]) ** 2) for s in range(t))
        for s in range(t, len(x)):
            if s > t:
                state = np.tanh(p.W_xh @ x[s] + p.W_hh @ state + p.b_h)
            total += 0.5 * np.sum((p.W_oh @ state + p.b_o - y[s]) ** 2)
        return total

    for t in range(4):
        for j in range(3):
            fd = (loss_with_bump(t, j, 1e-6) - loss_with_bump(t, j, -1e-6)) / 2e-6
            assert dL_dh[t, j] == pytest.approx(fd, rel=1e-5, abs=1e-9)


@pytest.fixture
def float64_keras():
    keras.config.set_dtype_policy("float64")
    yield
    keras.config.set_dtype_policy("float32")


def skrnn_model_from(p: ElmanParams):
    H, F = p.W_xh.shape
    spec = ModelSpec("numeric", F, None, 4, "rnn", (H,), False, 0.0, 0.0, "tanh", "last",
                     True, p.W_oh.shape[0], 0)
    model = build_model(spec)
    model.get_layer("rnn_0").set_weights([p.W_xh.T, p.W_hh.T, p.b_h])
    model.get_layer("head").set_weights([p.W_oh.T, p.b_o])
    return model


def keras_gradients(model, inputs, y, T, O):  # noqa: E741
    """Gradients of skrnn's training loss, rescaled to the reference's L = Σ_t ½‖·‖²."""
    with tf.GradientTape() as tape:
        out = model(inputs, training=True)
        out = out[0] if isinstance(out, (list, tuple)) else out
        mask = inputs[1]
        loss = weighted_loss("regression", True, tf.constant(y[None]), out,
                             tf.ones((1, T), tf.float64), mask)
    rec, head = model.get_layer("rnn_0"), model.get_layer("head")
    variables = [rec.cell.kernel, rec.cell.recurrent_kernel, rec.cell.bias,
                 head.kernel, head.bias]
    grads = tape.gradient(loss, variables)
    scale = T * O / 2  # skrnn: mean over steps and outputs of the squared error
    g = [keras.ops.convert_to_numpy(v) * scale for v in grads]
    return {"W_xh": g[0].T, "W_hh": g[1].T, "b_h": g[2], "W_oh": g[3].T, "b_o": g[4]}


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_skrnn_simple_rnn_gradients_equal_the_reference(float64_keras, seed):
    T = 3 if seed == 0 else 7  # seed 0: a 3-step example, as in the lecture
    p, x, y = case(T=T, F=2, H=3, O=2, seed=seed)
    model = skrnn_model_from(p)
    got = keras_gradients(model, [x[None], np.ones((1, T), bool)], y, T, 2)
    _, expected, _ = bptt(p, x, y)
    for name in expected:
        np.testing.assert_allclose(got[name], expected[name], rtol=1e-6, atol=1e-12,
                                   err_msg=name)


@pytest.mark.parametrize("seed", [0, 1])
def test_skrnn_truncated_gradients_equal_the_reference(float64_keras, seed):
    T, k = 9, 4
    p, x, y = case(T=T, F=2, H=3, O=2, seed=seed)
    model = skrnn_model_from(p)
    stateful = with_state_io(model)
    state = np.zeros((1, 3))
    for c, (_, expected) in enumerate(truncated_bptt(p, x, y, k)):
        sl = slice(c * k, (c + 1) * k)
        n = len(x[sl])
        inputs = [x[None, sl], np.ones((1, n), bool), state]
        got = keras_gradients(stateful, inputs, y[sl], n, 2)
        for name in expected:
            np.testing.assert_allclose(got[name], expected[name], rtol=1e-6, atol=1e-12,
                                       err_msg=f"chunk {c} {name}")
        state = keras.ops.convert_to_numpy(stateful(inputs)[1])
