"""A NumPy Elman RNN with hand-written BPTT, to check skrnn's gradients.

Written from the lecture's equations, in column-vector form::

    a_t = W_xh x_t + W_hh h_{t-1} + b_h         h_t = σ_h(a_t)
    o_t = W_oh h_t + b_o                         ŷ_t = σ_o(o_t)
    L = Σ_t L_t

with σ_h = tanh (or ReLU: ``activation="relu"``) and either σ_o = identity with
L_t = ½‖ŷ_t − y_t‖² (``"linear"``) or σ_o = softmax with cross-entropy (``"softmax"``).
Backward, with δ_t = ∂L_t/∂o_t (ŷ_t − y_t in both cases)::

    ∂L/∂h_t = W_ohᵀ δ_t + W_hhᵀ (∂L/∂h_{t+1} ⊙ σ'_h(a_{t+1}))
    ∂L/∂W_oh = Σ_t δ_t h_tᵀ     ∂L/∂W_hh = Σ_t g_t h_{t−1}ᵀ     ∂L/∂W_xh = Σ_t g_t x_tᵀ
    with g_t = ∂L/∂h_t ⊙ σ'_h(a_t)

Only NumPy is used. :func:`bptt` is full backpropagation through time,
:func:`truncated_bptt` the lecture's truncated loop (forward k steps, loss,
backpropagate within the chunk, carry the state on with the gradient stopped).
"""

from ._elman import ElmanParams, bptt, forward, loss, numerical_gradient, truncated_bptt

__all__ = ["ElmanParams", "bptt", "forward", "loss", "numerical_gradient",
           "truncated_bptt"]
