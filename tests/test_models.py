import keras
import numpy as np
import pytest

from skrnn.models import AttentionPooling, ModelSpec, build_model


def spec(**kw):
    base = dict(input_kind="numeric", n_features=3, vocabulary_size=None, embedding_dim=4,
                cell="lstm", units=(5, 4), bidirectional=False, dropout=0.0,
                recurrent_dropout=0.0, activation="tanh", pooling="last",
                return_sequences=False, n_outputs=2, seed=0)
    base.update(kw)
    return ModelSpec(**base)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("pooling, return_sequences",
                         [("last", False), ("mean", False), ("attention", False),
                          ("last", True)])
def test_garbage_in_padded_steps_never_reaches_the_output(cell, bidirectional, pooling,
                                                          return_sequences):
    model = build_model(spec(cell=cell, bidirectional=bidirectional, pooling=pooling,
                             return_sequences=return_sequences))
    rng = np.random.RandomState(0)
    x = rng.randn(4, 9, 3).astype("float32")
    lengths = np.array([9, 4, 1, 6])
    mask = np.arange(9)[None] < lengths[:, None]
    garbage = x.copy()
    garbage[~mask] = 1e4 * rng.randn((~mask).sum(), 3)
    clean = keras.ops.convert_to_numpy(model([np.where(mask[..., None], x, 0), mask]))
    dirty = keras.ops.convert_to_numpy(model([garbage, mask]))
    if return_sequences:
        clean, dirty = clean[mask], dirty[mask]
    np.testing.assert_array_equal(clean, dirty)


def test_token_model_and_same_seed_same_weights():
    s = spec(input_kind="tokens", n_features=None, vocabulary_size=10)
    a, b = build_model(s), build_model(s)
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)
    ids = np.array([[2, 3, 0], [4, 0, 0]], dtype="int32")
    out = a([ids, ids != 0])
    assert tuple(out.shape) == (2, 2)


def test_attention_pooling_serialises(tmp_path):
    import keras

    model = build_model(spec(pooling="attention"))
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert any(isinstance(layer, AttentionPooling) for layer in loaded.layers)
    x = np.ones((2, 3, 3), "float32")
    m = np.ones((2, 3), bool)
    to_np = keras.ops.convert_to_numpy
    np.testing.assert_array_equal(to_np(model([x, m])), to_np(loaded([x, m])))


def test_the_estimators_accept_exactly_what_the_model_layer_builds():
    """The estimators validate their parameters without importing Keras, so they keep
    their own lists of names; these must be the model layer's."""
    from skrnn import _params, seq2seq
    from skrnn.models import CELLS, POOLINGS
    from skrnn.models._seq2seq import ATTENTIONS

    assert set(_params._CELL_NAMES) == set(CELLS)
    assert tuple(_params._POOLINGS) == tuple(POOLINGS)
    assert set(seq2seq._ATTENTIONS) == set(ATTENTIONS)
