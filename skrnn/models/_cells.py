"""Recurrent cells with layer normalisation, and the identity recurrent initialiser.

Keras 3 has no layer-normalised recurrent cells; these follow Ba, Kiros & Hinton (2016,
"Layer Normalization", section 3.1): the input and recurrent projections are normalised
separately before they are added, and the LSTM's cell state is normalised before its
output non-linearity. All are registered so fitted models save, load and pickle.
"""

from __future__ import annotations

import keras
from keras import ops

# Keras' own cells' dropout: one mask per sequence, drawn by the RNN layer before its
# loop (drawing inside the loop leaks a tracer out of jax's scan).
from keras.src.layers.rnn.dropout_rnn_cell import DropoutRNNCell


@keras.saving.register_keras_serializable("skrnn")
class GateIdentity(keras.initializers.Initializer):
    """Identity for each gate block of a recurrent kernel ``(units, n_gates * units)``.

    For a simple RNN this is the IRNN initialisation of Le, Jaitly & Hinton (2015): with
    ReLU the state is copied forward unchanged at the start of training, so gradients
    neither vanish nor explode through time. For LSTM / GRU every gate block starts as
    the identity.
    """

    def __call__(self, shape, dtype=None):
        rows, cols = shape
        if cols % rows:
            raise ValueError(f"GateIdentity needs a (units, k * units) shape, got {shape}.")
        eye = ops.eye(rows, dtype=dtype or "float32")
        return ops.concatenate([eye] * (cols // rows), axis=1)

    def get_config(self):
        return {}


class _LayerNormCell(DropoutRNNCell, keras.layers.Layer):
    """Shared parts: sizes, dropout on inputs and state, layer-norm parameters."""

    n_gates = 1

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid",
                 dropout=0.0, recurrent_dropout=0.0, kernel_initializer="glorot_uniform",
                 recurrent_initializer="orthogonal", unit_forget_bias=True, seed=None,
                 epsilon=1e-5, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.activation = keras.activations.get(activation)
        self.recurrent_activation = keras.activations.get(recurrent_activation)
        self.dropout = dropout
        self.recurrent_dropout = recurrent_dropout
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.recurrent_initializer = keras.initializers.get(recurrent_initializer)
        self.unit_forget_bias = unit_forget_bias
        self.seed = seed
        self.epsilon = epsilon
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.state_size = units
        self.output_size = units

    def build(self, input_shape):
        dim = int(input_shape[-1])
        width = self.n_gates * self.units
        self.kernel = self.add_weight(shape=(dim, width), name="kernel",
                                      initializer=self.kernel_initializer)
        self.recurrent_kernel = self.add_weight(shape=(self.units, width),
                                                name="recurrent_kernel",
                                                initializer=self.recurrent_initializer)
        self.bias = self.add_weight(shape=(width,), name="bias",
                                    initializer=self._bias_initializer())
        # Separate gains and offsets for the input and recurrent projections.
        self.input_gamma = self.add_weight(shape=(width,), name="input_gamma",
                                           initializer="ones")
        self.input_beta = self.add_weight(shape=(width,), name="input_beta",
                                          initializer="zeros")
        self.recurrent_gamma = self.add_weight(shape=(width,), name="recurrent_gamma",
                                               initializer="ones")
        self.recurrent_beta = self.add_weight(shape=(width,), name="recurrent_beta",
                                              initializer="zeros")

    def _bias_initializer(self):
        return "zeros"

    def _norm(self, x, gamma, beta):
        """Layer normalisation of each gate block separately."""
        shape = ops.shape(x)
        blocks = ops.reshape(x, (shape[0], self.n_gates, self.units))
        mean = ops.mean(blocks, axis=-1, keepdims=True)
        var = ops.var(blocks, axis=-1, keepdims=True)
        blocks = (blocks - mean) / ops.sqrt(var + self.epsilon)
        return ops.reshape(blocks, (shape[0], self.n_gates * self.units)) * gamma + beta

    def _projections(self, inputs, h, training):
        if training and self.dropout > 0:
            inputs = inputs * self.get_dropout_mask(inputs)
        if training and self.recurrent_dropout > 0:
            h = h * self.get_recurrent_dropout_mask(h)
        xw = self._norm(ops.matmul(inputs, self.kernel), self.input_gamma, self.input_beta)
        hu = self._norm(ops.matmul(h, self.recurrent_kernel), self.recurrent_gamma,
                        self.recurrent_beta)
        return xw, hu

    def get_config(self):
        config = super().get_config()
        config.update(
            units=self.units,
            activation=keras.activations.serialize(self.activation),
            recurrent_activation=keras.activations.serialize(self.recurrent_activation),
            dropout=self.dropout, recurrent_dropout=self.recurrent_dropout,
            kernel_initializer=keras.initializers.serialize(self.kernel_initializer),
            recurrent_initializer=keras.initializers.serialize(self.recurrent_initializer),
            unit_forget_bias=self.unit_forget_bias, seed=self.seed, epsilon=self.epsilon)
        return config


@keras.saving.register_keras_serializable("skrnn")
class LayerNormSimpleRNNCell(_LayerNormCell):
    """``h_t = act(LN(W x_t) + LN(U h_{t-1}) + b)``."""

    def call(self, inputs, states, training=False):
        h = states[0] if isinstance(states, (list, tuple)) else states
        xw, hu = self._projections(inputs, h, training)
        h_new = self.activation(xw + hu + self.bias)
        return h_new, [h_new]


@keras.saving.register_keras_serializable("skrnn")
class LayerNormGRUCell(_LayerNormCell):
    """GRU whose input and recurrent projections are layer-normalised per gate."""

    n_gates = 3

    def call(self, inputs, states, training=False):
        h = states[0] if isinstance(states, (list, tuple)) else states
        xw, hu = self._projections(inputs, h, training)
        u = self.units
        xz, xr, xh = xw[:, :u], xw[:, u:2 * u], xw[:, 2 * u:]
        hz, hr, hh = hu[:, :u], hu[:, u:2 * u], hu[:, 2 * u:]
        bz, br, bh = self.bias[:u], self.bias[u:2 * u], self.bias[2 * u:]
        z = self.recurrent_activation(xz + hz + bz)
        r = self.recurrent_activation(xr + hr + br)
        candidate = self.activation(xh + r * hh + bh)  # reset after, as Keras' default
        h_new = z * h + (1 - z) * candidate
        return h_new, [h_new]


@keras.saving.register_keras_serializable("skrnn")
class LayerNormLSTMCell(_LayerNormCell):
    """LSTM with layer-normalised gate projections and cell state (Ba et al. 2016)."""

    n_gates = 4

    def __init__(self, units, **kwargs):
        super().__init__(units, **kwargs)
        self.state_size = [units, units]

    def build(self, input_shape):
        super().build(input_shape)
        self.cell_gamma = self.add_weight(shape=(self.units,), name="cell_gamma",
                                          initializer="ones")
        self.cell_beta = self.add_weight(shape=(self.units,), name="cell_beta",
                                         initializer="zeros")

    def _bias_initializer(self):
        if not self.unit_forget_bias:
            return "zeros"
        units = self.units

        def init(shape, dtype=None):
            return ops.concatenate([ops.zeros((units,)), ops.ones((units,)),
                                    ops.zeros((2 * units,))])
        return init

    def call(self, inputs, states, training=False):
        h, c = states
        xw, hu = self._projections(inputs, h, training)
        z = xw + hu + self.bias
        u = self.units
        i = self.recurrent_activation(z[:, :u])
        f = self.recurrent_activation(z[:, u:2 * u])
        g = self.activation(z[:, 2 * u:3 * u])
        o = self.recurrent_activation(z[:, 3 * u:])
        c_new = f * c + i * g
        mean = ops.mean(c_new, axis=-1, keepdims=True)
        var = ops.var(c_new, axis=-1, keepdims=True)
        c_norm = (c_new - mean) / ops.sqrt(var + self.epsilon) * self.cell_gamma + self.cell_beta
        h_new = o * self.activation(c_norm)
        return h_new, [h_new, c_new]


LAYER_NORM_CELLS = {"rnn": LayerNormSimpleRNNCell, "gru": LayerNormGRUCell,
                    "lstm": LayerNormLSTMCell}
