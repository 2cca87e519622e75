from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

PARAM_NAMES = ("W_xh", "W_hh", "b_h", "W_oh", "b_o")


@dataclass
class ElmanParams:
    """Weights of the Elman network (column-vector convention).

    ``W_xh`` (H, F), ``W_hh`` (H, H), ``b_h`` (H,), ``W_oh`` (O, H), ``b_o`` (O,);
    ``output`` is ``"linear"`` or ``"softmax"``, ``activation`` (σ_h) ``"tanh"`` or
    ``"relu"``.
    """

    W_xh: np.ndarray
    W_hh: np.ndarray
    b_h: np.ndarray
    W_oh: np.ndarray
    b_o: np.ndarray
    output: str = field(default="linear")
    activation: str = field(default="tanh")

    @classmethod
    def random(cls, n_features, n_hidden, n_outputs, output="linear", scale=0.5,
               random_state=0):
        rng = np.random.RandomState(random_state)
        return cls(scale * rng.randn(n_hidden, n_features),
                   scale * rng.randn(n_hidden, n_hidden),
                   scale * rng.randn(n_hidden),
                   scale * rng.randn(n_outputs, n_hidden),
                   scale * rng.randn(n_outputs), output)

    def arrays(self) -> dict:
        return {name: getattr(self, name) for name in PARAM_NAMES}


def _sigma_h(p: ElmanParams, a):
    return np.tanh(a) if p.activation == "tanh" else np.maximum(a, 0.0)


def _sigma_h_prime(p: ElmanParams, a, h):
    """σ'_h(a) from the pre-activation ``a`` and the state ``h = σ_h(a)``."""
    return 1 - h ** 2 if p.activation == "tanh" else (a > 0).astype(float)


def _softmax(o):
    e = np.exp(o - o.max())
    return e / e.sum()


def forward(p: ElmanParams, x, h0=None):
    """Run the network over ``x`` (T, F); returns ``(a, h, y_hat)`` with ``h[0] = h0``
    and ``h[t + 1]`` the state after step t."""
    T = len(x)
    H = p.W_hh.shape[0]
    h = np.zeros((T + 1, H))
    if h0 is not None:
        h[0] = h0
    a = np.zeros((T, H))
    y_hat = np.zeros((T, p.W_oh.shape[0]))
    for t in range(T):
        a[t] = p.W_xh @ x[t] + p.W_hh @ h[t] + p.b_h
        h[t + 1] = _sigma_h(p, a[t])
        o = p.W_oh @ h[t + 1] + p.b_o
        y_hat[t] = o if p.output == "linear" else _softmax(o)
    return a, h, y_hat


def loss(p: ElmanParams, x, y, h0=None, steps=None) -> float:
    """L = Σ_t L_t over ``steps`` (all by default); ``y`` is (T, O) values or one-hot."""
    _, _, y_hat = forward(p, x, h0)
    steps = range(len(x)) if steps is None else steps
    if p.output == "linear":
        return float(sum(0.5 * np.sum((y_hat[t] - y[t]) ** 2) for t in steps))
    return float(-sum(np.sum(y[t] * np.log(y_hat[t])) for t in steps))


def bptt(p: ElmanParams, x, y, h0=None, steps=None):
    """Full BPTT. Returns ``(L, grads, dL_dh)``: the loss, a dict of gradients named
    like the parameters, and ∂L/∂h_t for every step (T, H)."""
    a, h, y_hat = forward(p, x, h0)
    T, H = a.shape
    steps = set(range(T) if steps is None else steps)
    grads = {name: np.zeros_like(v) for name, v in p.arrays().items()}
    dL_dh = np.zeros((T, H))
    upstream = np.zeros(H)  # ∂L/∂h_{t+1} ⊙ σ'_h(a_{t+1}), zero beyond the last step
    for t in reversed(range(T)):
        delta = (y_hat[t] - y[t]) if t in steps else np.zeros(p.W_oh.shape[0])
        grads["W_oh"] += np.outer(delta, h[t + 1])
        grads["b_o"] += delta
        dL_dh[t] = p.W_oh.T @ delta + p.W_hh.T @ upstream
        g = dL_dh[t] * _sigma_h_prime(p, a[t], h[t + 1])
        grads["W_hh"] += np.outer(g, h[t])
        grads["W_xh"] += np.outer(g, x[t])
        grads["b_h"] += g
        upstream = g
    return loss(p, x, y, h0, steps), grads, dL_dh


def truncated_bptt(p: ElmanParams, x, y, k: int, h0=None):
    """The lecture's truncated BPTT: per chunk of ``k`` steps, the chunk's loss and its
    gradients with the state carried in but no gradient flowing out of the chunk.

    Returns a list of ``(L_chunk, grads_chunk)``, one per chunk.
    """
    H = p.W_hh.shape[0]
    state = np.zeros(H) if h0 is None else h0
    out = []
    for start in range(0, len(x), k):
        xs, ys = x[start:start + k], y[start:start + k]
        L, grads, _ = bptt(p, xs, ys, state)
        out.append((L, grads))
        _, h, _ = forward(p, xs, state)
        state = h[-1]
    return out


def numerical_gradient(p: ElmanParams, x, y, eps=1e-6, h0=None, steps=None) -> dict:
    """Central finite differences of :func:`loss` for every parameter."""
    grads = {}
    for name, value in p.arrays().items():
        g = np.zeros_like(value)
        it = np.nditer(value, flags=["multi_index"])
        for _ in it:
            i = it.multi_index
            old = value[i]
            value[i] = old + eps
            up = loss(p, x, y, h0, steps)
            value[i] = old - eps
            down = loss(p, x, y, h0, steps)
            value[i] = old
            g[i] = (up - down) / (2 * eps)
        grads[name] = g
    return grads
