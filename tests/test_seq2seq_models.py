"""The encoder-decoder models and the decoders (foundations of Seq2SeqTransformer)."""

import keras
import numpy as np
import pytest

from skrnn.models._decoding import beam_search, greedy_decode, step_from_model
from skrnn.models._seq2seq import Seq2SeqSpec, build_seq2seq

to_np = keras.ops.convert_to_numpy


@pytest.mark.parametrize("cell", ["lstm", "gru"])
@pytest.mark.parametrize("attention", [None, "additive", "dot"])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_one_step_decoder_reproduces_teacher_forcing(cell, attention, bidirectional):
    spec = Seq2SeqSpec("tokens", None, 12, "tokens", 9, None, 6, cell, (5, 4),
                       bidirectional, 0.0, attention, 0)
    models = build_seq2seq(spec)
    rng = np.random.RandomState(0)
    src = rng.randint(2, 12, (3, 7)).astype("int32")
    src_mask = np.arange(7)[None] < np.array([7, 4, 2])[:, None]
    tgt = rng.randint(2, 9, (3, 5)).astype("int32")
    full = to_np(models["train"]([src, src_mask, tgt, np.ones((3, 5), bool)]))
    memory, *states = (to_np(t) for t in models["encoder"]([src, src_mask]))
    steps = []
    for t in range(5):
        out, *states = (to_np(v) for v in models["step"]([tgt[:, t:t + 1], memory, src_mask,
                                                          *states]))
        steps.append(out)
    np.testing.assert_allclose(np.stack(steps, axis=1), full, atol=1e-5)


def test_padded_source_steps_do_not_matter():
    spec = Seq2SeqSpec("numeric", 3, None, "tokens", 9, None, 6, "lstm", (5,), True, 0.0,
                       "additive", 0)
    train = build_seq2seq(spec)["train"]
    rng = np.random.RandomState(0)
    src = rng.randn(2, 6, 3).astype("float32")
    mask = np.arange(6)[None] < np.array([6, 3])[:, None]
    garbage = src.copy()
    garbage[~mask] = 1e4
    tgt = rng.randint(2, 9, (2, 4)).astype("int32")
    tmask = np.ones((2, 4), bool)
    np.testing.assert_array_equal(to_np(train([src, mask, tgt, tmask])),
                                  to_np(train([garbage, mask, tgt, tmask])))


def test_one_to_many_and_numeric_targets_build():
    spec = Seq2SeqSpec("vector", 4, None, "numeric", None, 2, 6, "gru", (5, 3), False, 0.0,
                       "additive", 0)
    models = build_seq2seq(spec)
    vec = np.ones((2, 4), "float32")
    states = [to_np(s) for s in models["encoder"]([vec, np.ones((2, 1), bool)])]
    out, *_ = models["step"]([np.zeros((2, 1, 2), "float32"), *states])
    assert tuple(out.shape) == (2, 3)  # two values and the stop logit


# ---- decoding -------------------------------------------------------------------
PAD, END, A, B, START = 0, 1, 2, 3, 4
TABLE = {  # P(next | previous): greedy takes A first and never ends
    START: {A: 0.6, B: 0.4},
    A: {END: 0.3, A: 0.35, B: 0.35},
    B: {END: 0.9, A: 0.05, B: 0.05},
}


def table_step(previous, states):
    prev = to_np(previous)
    out = np.full((len(prev), 5), -np.inf)
    for row, p in enumerate(prev):
        for token, prob in TABLE.get(int(p), {END: 1.0}).items():
            out[row, token] = np.log(prob)
    return out, states


def test_beam_search_finds_the_most_likely_sequence_greedy_misses():
    g_tokens, g_len, g_logp = greedy_decode(table_step, [], 1, START, END, max_length=6)
    b_tokens, b_len, b_logp = beam_search(table_step, [], 1, START, END, max_length=6,
                                          beam_width=2, length_penalty=0.0)
    assert g_tokens[0, :g_len[0]].tolist() == [A] * 6  # never reaches the end
    assert b_tokens[0, :b_len[0]].tolist() == [B]
    assert b_logp[0] == pytest.approx(np.log(0.4 * 0.9))
    assert b_logp[0] > g_logp[0]


@pytest.mark.parametrize("attention", [None, "dot"])
def test_beam_width_one_equals_greedy_on_a_model(attention):
    spec = Seq2SeqSpec("tokens", None, 10, "tokens", 8, None, 6, "lstm", (6,), False, 0.0,
                       attention, 3)
    models = build_seq2seq(spec)
    rng = np.random.RandomState(1)
    src = rng.randint(2, 10, (4, 5)).astype("int32")
    mask = np.ones((4, 5), bool)
    memory, *states = models["encoder"]([src, mask])
    step = step_from_model(models["step"], memory, mask)
    g = greedy_decode(step, states, 4, start_id=2, end_id=1, max_length=7)
    b = beam_search(step, states, 4, start_id=2, end_id=1, max_length=7, beam_width=1)
    np.testing.assert_array_equal(g[0], b[0])
    np.testing.assert_array_equal(g[1], b[1])
    np.testing.assert_allclose(g[2], b[2], rtol=1e-5)


def test_wider_beams_never_score_lower_than_greedy_on_a_model():
    spec = Seq2SeqSpec("tokens", None, 10, "tokens", 8, None, 6, "gru", (6,), False, 0.0,
                       "additive", 5)
    models = build_seq2seq(spec)
    rng = np.random.RandomState(2)
    src = rng.randint(2, 10, (5, 6)).astype("int32")
    mask = np.ones((5, 6), bool)
    memory, *states = models["encoder"]([src, mask])
    g = greedy_decode(step_from_model(models["step"], memory, mask), states, 5, 2, 1, 6)
    k = 3
    rep = lambda t: keras.ops.repeat(t, k, axis=0)  # noqa: E731
    step = step_from_model(models["step"], rep(memory), rep(keras.ops.convert_to_tensor(mask)))
    b = beam_search(step, [rep(s) for s in states], 5, 2, 1, 6, beam_width=k,
                    length_penalty=0.0)
    assert (b[2] >= g[2] - 1e-6).all()


def test_numeric_batches_carry_a_stop_flag():
    """Numeric targets of different lengths: the target gets a stop column (1 on the
    end step only, whose values the loss ignores); the input is the target shifted
    right behind a zero step."""
    from skrnn.data import Seq2SeqSet

    targets = [np.array([[1.0], [2.0]]), np.array([[3.0]])]
    data = Seq2SeqSet([np.ones((2, 1))] * 2, [2, 2], targets, "numeric", None, None,
                      "numeric")
    (_, _, target_in), mask, y, w = data.batch(np.arange(2))
    np.testing.assert_array_equal(target_in[..., 0], [[0, 1, 2], [0, 3, 0]])
    np.testing.assert_array_equal(mask, [[1, 1, 1], [1, 1, 0]])
    np.testing.assert_array_equal(y[..., 1], [[0, 0, 1], [0, 1, 0]])
    np.testing.assert_array_equal(y[0, :2, 0], [1, 2])
    np.testing.assert_array_equal(w, mask)
