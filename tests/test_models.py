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


def _accepted(constraints) -> set:
    """The names a parameter's constraints accept (StrOptions, and None)."""
    names = {o for c in constraints for o in getattr(c, "options", ())}
    return names | ({None} if None in constraints else set())


def test_the_estimators_accept_exactly_what_the_model_layer_builds():
    """The parameter constraints take their names from the model layer (without importing
    Keras), and every name they accept builds a model."""
    from skrnn.estimators._constraints import RECURRENT, SEQ2SEQ
    from skrnn.models import ACTIVATIONS, CELLS, CONV_MODES, POOLINGS
    from skrnn.models._seq2seq import ATTENTIONS

    assert _accepted(RECURRENT["cell"]) == _accepted(SEQ2SEQ["cell"]) == set(CELLS)
    assert _accepted(RECURRENT["pooling"]) == set(POOLINGS)
    assert _accepted(RECURRENT["activation"]) == set(ACTIVATIONS)
    assert _accepted(RECURRENT["conv_mode"]) == set(CONV_MODES)
    assert _accepted(SEQ2SEQ["attention"]) == set(ATTENTIONS)
    x, mask = np.zeros((2, 5, 3), "float32"), np.ones((2, 5), bool)
    for cell in _accepted(RECURRENT["cell"]):
        for pooling in _accepted(RECURRENT["pooling"]):
            for activation in _accepted(RECURRENT["activation"]):
                model = build_model(spec(cell=cell, pooling=pooling, activation=activation,
                                         units=(3,)))
                assert model([x, mask]).shape == (2, 2)
    for conv_mode in _accepted(RECURRENT["conv_mode"]):
        model = build_model(spec(conv_filters=(4,), conv_kernel_sizes=(3,),
                                 conv_mode=conv_mode, units=(3,)))
        assert model([x, mask]).shape == (2, 2)
