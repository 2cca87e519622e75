"""End-to-end workflows of RNNClassifier and RNNRegressor on every input form."""

import keras
import numpy as np
import pandas as pd
import pytest
from helpers import ragged

from skrnn import RNNClassifier, RNNRegressor
from skrnn.data import from_long_format

FAST = dict(units=4, epochs=2, batch_size=16, random_state=0)


def test_classifier_learns_ragged_sequences_and_api_shapes():
    X, y = ragged(200)
    clf = RNNClassifier(units=16, epochs=40, learning_rate=0.01, random_state=0).fit(X, y)
    assert clf.classes_.tolist() == ["neg", "pos"]
    assert clf.n_step_features_ == 2 and not hasattr(clf, "n_features_in_")
    assert clf.score(X, y) > 0.9
    proba = clf.predict_proba(X[:5])
    assert proba.shape == (5, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert set(clf.predict(X[:5])) <= {"neg", "pos"}
    np.testing.assert_allclose(np.exp(clf.predict_log_proba(X[:5])), proba)
    assert len(clf.history_["loss"]) == clf.n_iter_ <= 40  # a plateau may end it first
    assert clf.history_["loss"][-1] < clf.history_["loss"][0]


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("pooling", ["last", "mean", "attention"])
def test_every_cell_and_pooling_fits(cell, pooling):
    X, y = ragged(24)
    clf = RNNClassifier(cell=cell, pooling=pooling, **FAST).fit(X, y)
    assert clf.predict(X).shape == (24,)


def test_stacked_bidirectional_dropout_relu():
    X, y = ragged(24)
    clf = RNNClassifier(units=(6, 4), bidirectional=True, dropout=0.2,
                        recurrent_dropout=0.1, activation="relu", epochs=2,
                        random_state=0).fit(X, y)
    names = [layer.name for layer in clf.model_.layers]
    assert "bidirectional_0" in names and "bidirectional_1" in names
    assert clf.predict_proba(X).shape == (24, 2)


def test_inputs_3d_2d_1d_lists_and_dataframes():
    rng = np.random.RandomState(0)
    X3 = rng.randn(30, 6, 3)
    y = rng.randint(0, 3, 30)
    assert RNNClassifier(**FAST).fit(X3, y).n_step_features_ == 3
    X2 = rng.randn(30, 6)
    clf = RNNClassifier(**FAST).fit(X2, y)
    assert clf.n_features_in_ == 6  # scikit-learn's meaning for 2-D input: columns
    assert clf.n_step_features_ == 1
    with pytest.raises(ValueError, match="X has 5 features, but RNNClassifier is expecting 6"):
        clf.predict(X2[:, :5])
    # a univariate model fitted on a table also reads ragged univariate lists
    assert clf.predict([rng.randn(9), rng.randn(3)]).shape == (2,)
    X1 = [rng.randn(rng.randint(2, 9)) for _ in range(30)]
    assert RNNClassifier(**FAST).fit(X1, y).n_step_features_ == 1
    df = pd.DataFrame(X2, columns=[f"t{i}" for i in range(6)])
    clf = RNNClassifier(**FAST).fit(df, y)
    assert list(clf.feature_names_in_) == [f"t{i}" for i in range(6)]


def test_long_format_dataframe_path():
    rng = np.random.RandomState(0)
    rows = []
    labels = {}
    for sid in range(30):
        n = rng.randint(3, 9)
        level = rng.randn()
        labels[f"s{sid}"] = int(level > 0)
        for t in rng.permutation(n):
            rows.append({"patient": f"s{sid}", "t": t, "hr": level + 0.1 * t,
                         "bp": rng.randn()})
    df = pd.DataFrame(rows)
    X = from_long_format(df, id_column="patient", time_column="t")
    y = pd.Series(labels).loc[X.ids].to_numpy()
    clf = RNNClassifier(**FAST).fit(X, y)
    assert list(clf.feature_names_in_) == ["hr", "bp"]
    assert clf.n_step_features_ == 2
    assert clf.predict(X).shape == (30,)
    renamed = from_long_format(df.rename(columns={"bp": "spo2"}), "patient", "t")
    with pytest.raises(ValueError, match=r"feature names \['hr', 'spo2'\]"):
        clf.predict(renamed)


def test_token_lists_with_vocabulary_and_oov():
    rng = np.random.RandomState(0)
    words = ["good", "great", "fine", "bad", "awful", "poor", "the", "movie"]
    X, y = [], []
    for _ in range(120):
        sent = list(rng.choice(words[6:], size=rng.randint(1, 4)))
        pos = rng.rand() > 0.5
        sent.insert(rng.randint(len(sent) + 1), rng.choice(words[:3] if pos else words[3:6]))
        X.append(sent)
        y.append("pos" if pos else "neg")
    clf = RNNClassifier(cell="gru", units=8, embedding_dim=8, epochs=30, learning_rate=0.02,
                        random_state=0).fit(X, y)
    assert clf.vocabulary_ is not None and "good" in clf.vocabulary_.tokens_
    assert clf.score(X, y) > 0.9
    # unseen tokens map to out-of-vocabulary, not an error
    pred = clf.predict([["unseen", "great", "words"], ["bad"]])
    assert pred.tolist() == ["pos", "neg"]
    with pytest.raises(ValueError, match="X holds numeric sequences but RNNClassifier was "
                                         "fitted on tokens"):
        clf.predict([np.ones(3)])


def test_min_token_frequency_sends_rare_tokens_to_out_of_vocabulary():
    X = [["rare", "a"], ["a", "b"], ["b", "a"], ["b"]] * 5 + [["once", "b"]]
    y = [0, 1, 1, 0] * 5 + [1]
    clf = RNNClassifier(units=4, embedding_dim=4, epochs=1, min_token_frequency=6,
                        random_state=0).fit(X, y)
    assert clf.vocabulary_.tokens_ == ["b", "a"]   # "rare" 5 times, "once" 1: out
    assert clf.vocabulary_.encode(["rare", "once", "unseen", "a"]).tolist() == [1, 1, 1, 3]
    proba = clf.predict_proba([["rare", "a"], ["unseen", "a"]])
    np.testing.assert_array_equal(proba[0], proba[1])  # both read as out-of-vocabulary
    assert RNNClassifier(units=4, epochs=1, random_state=0).fit(X, y).vocabulary_.tokens_ \
        == ["b", "a", "rare", "once"]


def test_integer_tokens_need_input_type_tokens():
    X = [[5, 7, 9], [7, 5], [9, 9, 9, 5]] * 8
    y = [0, 1, 0] * 8
    clf = RNNClassifier(input_type="tokens", **FAST).fit(X, y)
    assert clf.vocabulary_.tokens_ and clf._input_kind == "tokens"


def test_tagging_per_step_labels_come_back_at_each_length():
    rng = np.random.RandomState(0)
    vocab = {"paris": "LOC", "berlin": "LOC", "anna": "PER", "bob": "PER"}
    filler = ["in", "met", "the", "city", "visited"]
    X, Y = [], []
    for _ in range(150):
        sent = list(rng.choice(filler + list(vocab), size=rng.randint(2, 8)))
        X.append(sent)
        Y.append([vocab.get(w, "O") for w in sent])
    tagger = RNNClassifier(return_sequences=True, bidirectional=True, units=16,
                           epochs=25, learning_rate=0.02, random_state=0).fit(X, Y)
    assert tagger.classes_.tolist() == ["LOC", "O", "PER"]
    pred = tagger.predict(X[:10])
    assert [len(p) for p in pred] == [len(s) for s in X[:10]]
    assert tagger.score(X, Y) > 0.95
    proba = tagger.predict_proba(X[:3])
    assert [p.shape for p in proba] == [(len(s), 3) for s in X[:3]]


def test_regressor_multi_output_and_target_scaling():
    rng = np.random.RandomState(0)
    X = rng.randn(200, 8, 1)
    y = np.column_stack([1000 + 50 * X[:, -1, 0], -3 * X[:, -2, 0]])
    reg = RNNRegressor(cell="gru", bidirectional=True, units=16, epochs=40,
                       learning_rate=0.01, random_state=0).fit(X, y)
    pred = reg.predict(X)
    assert pred.shape == (200, 2) and reg.n_outputs_ == 2
    assert reg.score(X, y) > 0.9
    assert abs(pred[:, 0].mean() - 1000) < 20  # back on the original scale
    reg1 = RNNRegressor(**FAST).fit(X, y[:, 0])
    assert reg1.predict(X).shape == (200,)


def test_regressor_per_step_targets():
    rng = np.random.RandomState(0)
    X = [rng.randn(rng.randint(3, 10), 1) for _ in range(60)]
    Y = [np.cumsum(s[:, 0]) for s in X]
    reg = RNNRegressor(return_sequences=True, units=16, epochs=40, learning_rate=0.01,
                       random_state=0).fit(X, Y)
    pred = reg.predict(X[:5])
    assert [p.shape for p in pred] == [(len(s),) for s in X[:5]]
    assert reg.score(X, Y) > 0.8


def test_padding_never_changes_a_prediction():
    """A sequence's prediction is the same alone, in a batch with much longer ones,
    and in any order: padded steps are masked everywhere.

    What padded steps *hold* never matters, bit for bit (tests/test_models.py pads with
    garbage). How *many* there are changes only the summation order of mean and
    attention pooling over time, hence a float32-rounding tolerance here.
    """
    X, y = ragged(40, lo=2, hi=30)
    for kwargs in [dict(pooling="last"), dict(pooling="mean", bidirectional=True),
                   dict(pooling="attention", cell="gru")]:
        clf = RNNClassifier(**{**FAST, **kwargs}).fit(X, y)
        together = clf.predict_proba(X)
        alone = np.vstack([clf.predict_proba([s]) for s in X[:6]])
        np.testing.assert_allclose(together[:6], alone, rtol=1e-6, atol=1e-7)
        order = np.random.RandomState(1).permutation(40)
        np.testing.assert_allclose(clf.predict_proba([X[i] for i in order]),
                                   together[order], rtol=1e-6, atol=1e-7)
        assert clf.predict(X[:6]).tolist() == [clf.predict([s])[0] for s in X[:6]]


def test_same_random_state_same_predictions_different_state_differs():
    X, y = ragged(40)
    a = RNNClassifier(dropout=0.2, **FAST).fit(X, y).predict_proba(X)
    b = RNNClassifier(dropout=0.2, **FAST).fit(X, y).predict_proba(X)
    c = RNNClassifier(dropout=0.2, **{**FAST, "random_state": 1}).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_inputs_are_not_modified():
    X, y = ragged(20)
    X_copy = [s.copy() for s in X]
    X3 = np.random.RandomState(0).randn(20, 5, 2)
    X3_copy = X3.copy()
    sw = np.ones(20)
    RNNClassifier(**FAST).fit(X, y, sample_weight=sw).predict(X)
    RNNClassifier(**FAST).fit(X3, y).predict(X3)
    assert all(np.array_equal(a, b) for a, b in zip(X, X_copy))
    np.testing.assert_array_equal(X3, X3_copy)
    np.testing.assert_array_equal(sw, np.ones(20))


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_gradient_mitigations_as_parameters(cell):
    X, y = ragged(32)
    clf = RNNClassifier(cell=cell, layer_norm=True, recurrent_initializer="identity",
                        activation="leaky_relu", unit_forget_bias=False, dropout=0.1,
                        recurrent_dropout=0.1, **FAST).fit(X, y)
    rec = clf.model_.get_layer(f"{cell}_0")
    assert type(rec.cell).__name__.startswith("LayerNorm")
    kernel = keras.ops.convert_to_numpy(rec.cell.recurrent_kernel)
    assert kernel.shape[1] % kernel.shape[0] == 0
    # built from the identity: every gate block started as I (a few steps move it a bit)
    assert clf.predict(X).shape == (32,)
    plain = RNNClassifier(cell=cell, recurrent_initializer="identity", units=4, epochs=1,
                          learning_rate=1e-9, random_state=0).fit(X, y)
    k = keras.ops.convert_to_numpy(plain.model_.get_layer(f"{cell}_0").cell.recurrent_kernel)
    u = k.shape[0]
    for block in range(k.shape[1] // u):
        np.testing.assert_allclose(k[:, block * u:(block + 1) * u], np.eye(u), atol=1e-6)


def test_unit_forget_bias_sets_lstm_forget_gate_bias():
    X, y = ragged(16)
    for flag, expected in [(True, 1.0), (False, 0.0)]:
        clf = RNNClassifier(units=4, epochs=1, learning_rate=1e-9, unit_forget_bias=flag,
                            random_state=0).fit(X, y)
        bias = keras.ops.convert_to_numpy(clf.model_.get_layer("lstm_0").cell.bias)
        np.testing.assert_allclose(bias[4:8], expected, atol=1e-6)
