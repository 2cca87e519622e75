"""Seq2SeqTransformer: workflows, decoding, scikit-learn integration, bad input."""

import pickle

import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV

from skrnn import Seq2SeqTransformer
from skrnn.datasets import make_reversal

pytestmark = pytest.mark.xdist_group("seq2seq")  # one worker: module fixtures
FAST = dict(units=16, epochs=12, learning_rate=0.01, random_state=0)


@pytest.fixture(scope="module")
def reversal():
    src, tgt = make_reversal(800, 3, 5, alphabet="abcd", random_state=0)
    model = Seq2SeqTransformer(**FAST).fit(src, tgt)
    return model, src, tgt


def test_strings_in_strings_out_and_learns(reversal):
    model, src, tgt = reversal
    test_src, test_tgt = make_reversal(100, 3, 5, alphabet="abcd", random_state=1)
    pred = model.predict(test_src)
    assert all(isinstance(p, str) for p in pred)
    assert model.score(test_src, test_tgt) > 0.5
    assert model.transform(test_src[:3]) == pred[:3]
    assert model.predict(["abzz"])[0] is not None  # unseen characters: OOV, no error


def test_beam_width_one_equals_greedy_and_beam_decodes(reversal):
    model, src, _ = reversal
    greedy = model.predict(src[:30])
    try:
        assert model.set_params(decoding="beam", beam_width=1).predict(src[:30]) == greedy
        assert len(model.set_params(beam_width=3).predict(src[:5])) == 5
    finally:
        model.set_params(decoding="greedy", beam_width=4)


def test_pickle_round_trip_identical(reversal):
    model, src, _ = reversal
    restored = pickle.loads(pickle.dumps(model))
    assert restored.predict(src[:40]) == model.predict(src[:40])


def test_token_lists_and_one_to_many_and_numeric_horizon():
    X = [["x", "y"], ["y"], ["x", "x", "y"]] * 10
    Y = [["B", "A"], ["A"], ["C"]] * 10
    out = Seq2SeqTransformer(units=8, epochs=2, random_state=0).fit(X, Y).predict(X[:3])
    assert all(isinstance(o, list) for o in out)
    vectors = np.random.RandomState(0).randn(30, 4)
    words = ["ab", "ba", "abc"] * 10
    one_to_many = Seq2SeqTransformer(units=8, epochs=2, random_state=0).fit(vectors, words)
    assert all(isinstance(o, str) for o in one_to_many.predict(vectors[:4]))
    rng = np.random.RandomState(0)
    past = [rng.randn(rng.randint(5, 9), 2) for _ in range(30)]
    future = [np.tile(p[-1:, :1], (3, 1)) for p in past]  # 3-step horizon, 1 feature
    forecaster = Seq2SeqTransformer(units=8, epochs=2, random_state=0).fit(past, future)
    pred = forecaster.predict(past[:4])
    assert [p.shape for p in pred] == [(3, 1)] * 4
    assert forecaster.score(past, future) <= 0


@pytest.mark.parametrize("decoding", ["greedy", "beam"])
def test_one_to_many_with_a_single_state_encoder(decoding):
    # A vector source through one GRU layer: the encoder model has a single output
    # tensor (not a list), which decoding used to iterate row by row.
    vectors = np.random.RandomState(0).randn(20, 3)
    paths = [np.cumsum(np.ones((2 + i % 3, 2)), axis=0) * v[0] for i, v in enumerate(vectors)]
    numeric = Seq2SeqTransformer(cell="gru", units=4, epochs=1, random_state=0)
    assert all(p.shape[1] == 2 for p in numeric.fit(vectors, paths).predict(vectors[:3]))
    words = Seq2SeqTransformer(cell="gru", units=4, epochs=1, decoding=decoding,
                               random_state=0).fit(vectors, ["ab", "b"] * 10)
    assert all(isinstance(w, str) for w in words.predict(vectors[:3]))


def test_gridsearch_with_the_score_method():
    src, tgt = make_reversal(60, 3, 4, alphabet="ab", random_state=0)
    grid = GridSearchCV(Seq2SeqTransformer(epochs=1, random_state=0),
                        {"units": [4, 8]}, cv=2).fit(src, tgt)
    assert grid.best_params_["units"] in (4, 8)


@pytest.mark.parametrize("X, Y, exc, match", [
    (["ab"], None, ValueError, "requires Y"),
    (["ab", "cd"], ["ba"], ValueError, "X has 2 sequences but Y has 1"),
    (["ab", ""], ["ba", "x"], ValueError, r"X\[1\] is an empty string"),
    (["ab", "c"], ["ba", ""], ValueError, r"Y\[1\] is an empty string"),
    ([np.array([[1.0], [np.nan]])], [np.ones((2, 1))], ValueError, "NaN or infinity"),
    (["ab", ["c", "d"]], ["x", "y"], TypeError, "mixes strings"),
    (np.ones((5, 3)), np.arange(5), ValueError, "1-D array"),
])
def test_bad_input(X, Y, exc, match):
    with pytest.raises(exc, match=match):
        Seq2SeqTransformer(units=4, epochs=1).fit(X, Y)


@pytest.mark.parametrize("param, value", [
    ("attention", "luong"), ("decoding", "sample"), ("beam_width", 0),
    ("length_penalty", "x"), ("length_penalty", np.inf), ("max_output_length", 0),
    ("batch_size", "auto"), ("units", (8, 0)), ("cell", "transformer"),
    # the training parameters are declared once for all three estimators
    ("learning_rate", -1), ("dropout", "0.1"), ("clipnorm", "1"), ("clipnorm", -1),
    ("n_iter_no_change", 0), ("tol", float("nan")), ("validation_fraction", 0),
    ("epochs", True), ("strategy", "tpu")])
def test_invalid_parameters(param, value):
    from sklearn.utils._param_validation import InvalidParameterError

    match = rf"The '{param}' parameter of Seq2SeqTransformer must be .* Got .* instead"
    with pytest.raises(InvalidParameterError, match=match):
        Seq2SeqTransformer(**{param: value}).fit(["ab"], ["ba"])


# scikit-learn's estimator checks that apply to a sequence-to-sequence transformer.
# The others feed 2-D numeric X with a 1-D label / value y, i.e. a tabular
# classification or regression problem; Seq2SeqTransformer's Y must hold one
# *sequence* per sample (strings, token lists, or (T, F) arrays), so those checks test
# a task this estimator does not do (and it rejects 1-D y with a clear ValueError):
NOT_APPLICABLE = {
    "check_fit_score_takes_y, check_estimators_dtypes, check_fit2d_*, check_fit1d, "
    "check_transformer_general, check_transformer_data_not_an_array, "
    "check_pipeline_consistency, check_estimators_pickle, check_fit_idempotent, "
    "check_n_features_in*, check_methods_*_invariance, check_dict_unchanged, "
    "check_dont_overwrite_parameters, check_estimators_overwrite_params, "
    "check_readonly_memmap_input, check_f_contiguous_array_estimator, "
    "check_estimators_fit_returns_self, check_fit_check_is_fitted, "
    "check_dataframe_column_names_consistency, check_transformer_n_iter":
        "fit with a 1-D label/value y (tabular task); covered here by the same "
        "properties on sequence targets (pickling, pipeline step, grid search)",
    "check_estimators_nan_inf, check_estimators_empty_data_messages, check_dtype_object, "
    "check_complex_data, check_estimator_sparse_*":
        "error messages on tabular X with label y; the sequence equivalents are in "
        "test_bad_input",
    "check_transformer_get_feature_names_out*, check_set_output_transform*":
        "outputs are sequences, not feature columns",
}
APPLICABLE = [
    "check_estimator_cloneable", "check_estimator_repr", "check_no_attributes_set_in_init",
    "check_get_params_invariance", "check_set_params", "check_parameters_default_constructible",
    "check_estimator_tags_renamed", "check_valid_tag_types", "check_mixin_order",
    "check_do_not_raise_errors_in_init_or_set_params", "check_estimators_unfitted",
    "check_transformers_unfitted",
    # every parameter has a constraint and fit refuses a value outside it before
    # reading the data (so its tabular X and 1-D y do not matter here)
    "check_param_validation",
]


@pytest.mark.parametrize("name", APPLICABLE)
def test_sklearn_checks_that_apply(name):
    from sklearn.utils import estimator_checks

    getattr(estimator_checks, name)("Seq2SeqTransformer", Seq2SeqTransformer(epochs=1))


def _teacher_force_own_predictions(model, past, pred):
    """The training model's outputs when its input is the model's own predictions
    shifted right behind the zero start step (one extra step: where it should stop)."""
    import keras

    from skrnn.data import pad_batch

    n = len(pred)
    scaled = [((p - model._y_mean) / model._y_scale).astype("float32") for p in pred]
    src, mask = pad_batch([s.astype("float32") for s in past[:n]], np.arange(n),
                          np.array([len(s) for s in past[:n]]))
    steps = np.array([len(p) + 1 for p in pred])
    inputs = [np.vstack([np.zeros((1, 1), "float32"), s]) for s in scaled]
    target_in, target_mask = pad_batch(inputs, np.arange(n), steps)
    out = model.model_([src, mask, target_in, target_mask])
    return keras.ops.convert_to_numpy(out), scaled


def test_numeric_decoding_feeds_each_prediction_back():
    """Teacher-forcing the training model with the model's own predictions reproduces
    them: decoding was autoregressive."""
    rng = np.random.RandomState(0)
    past = [rng.randn(rng.randint(4, 7), 2) for _ in range(20)]
    future = [rng.randn(4, 1) for _ in range(20)]
    model = Seq2SeqTransformer(units=6, epochs=1, random_state=0).fit(past, future)
    pred = model.predict(past[:3])
    assert [p.shape for p in pred] == [(4, 1)] * 3  # one horizon: exactly that long
    out, scaled = _teacher_force_own_predictions(model, past, pred)
    np.testing.assert_allclose(out[:, :4, :1], np.stack(scaled), rtol=1e-4, atol=1e-5)


def _reverse_doubled(n, rng):
    past = [rng.uniform(-1, 1, (rng.randint(2, 6), 1)) for _ in range(n)]
    return past, [2 * p[::-1] for p in past]  # each target as long as its source


@pytest.fixture(scope="module")
def variable_lengths():
    X, Y = _reverse_doubled(300, np.random.RandomState(0))
    model = Seq2SeqTransformer(units=16, epochs=20, batch_size=32, learning_rate=0.01,
                               random_state=0)
    return model.fit(X, Y), X, Y


def test_numeric_targets_of_their_own_lengths(variable_lengths):
    model, _, _ = variable_lengths
    X, Y = _reverse_doubled(100, np.random.RandomState(1))
    pred = model.predict(X)
    assert all(p.ndim == 2 and p.shape[1] == 1 for p in pred)
    assert np.mean([len(p) == len(y) for p, y in zip(pred, Y)]) >= 0.8
    assert -1.5 < model.score(X, Y) <= 0  # predicting zeros would score about -1.33
    capped = model.set_params(max_output_length=2).predict(X[:10])
    model.set_params(max_output_length=None)
    assert max(len(p) for p in capped) <= 2


def test_numeric_decoding_stops_where_the_stop_probability_first_passes_half(
        variable_lengths):
    """Fed its own predictions, the model's stop logit is negative on every value step
    after the first and positive on the step where decoding stopped."""
    model, X, _ = variable_lengths
    pred = model.predict(X[:20])
    out, scaled = _teacher_force_own_predictions(model, X, pred)
    for row, p, s in zip(out, pred, scaled):
        np.testing.assert_allclose(row[:len(p), :1], s, rtol=1e-4, atol=1e-5)
        assert (row[1:len(p), -1] <= 0).all()
        if len(p) < model.max_output_length_:
            assert row[len(p), -1] > 0


def test_numeric_score_aligns_lengths(variable_lengths, monkeypatch):
    model, _, _ = variable_lengths
    Y = [np.array([[1.0], [2.0], [3.0]]), np.array([[1.0]])]
    pred = [np.array([[1.0]]), np.array([[2.0], [5.0]])]  # extended to 1,1,1; cut to 2
    monkeypatch.setattr(model, "predict", lambda X: pred)
    assert model.score([np.ones((2, 1))] * 2, Y) == pytest.approx(-(5 / 3 + 1) / 2)


def test_early_stopping_and_reproducibility():
    src, tgt = make_reversal(100, 3, 4, alphabet="abc", random_state=0)
    kw = dict(units=6, epochs=3, early_stopping=True, n_iter_no_change=2, random_state=0)
    a = Seq2SeqTransformer(**kw).fit(src, tgt)
    b = Seq2SeqTransformer(**kw).fit(src, tgt)
    assert np.isfinite(a.history_["val_loss"]).all()
    assert a.predict(src[:20]) == b.predict(src[:20])
    np.testing.assert_array_equal(a.history_["loss"], b.history_["loss"])


def test_in_a_pipeline_and_with_a_metric_scorer():
    from sklearn.metrics import make_scorer
    from sklearn.model_selection import cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    from skrnn.metrics import token_accuracy

    src, tgt = make_reversal(60, 3, 4, alphabet="abc", random_state=0)
    upper = [s.upper() for s in src]
    pipe = make_pipeline(FunctionTransformer(lambda X: [s.lower() for s in X]),
                         Seq2SeqTransformer(units=6, epochs=1, random_state=0))
    pipe.fit(upper, tgt)
    assert all(isinstance(p, str) for p in pipe.predict(upper[:5]))
    scores = cross_val_score(Seq2SeqTransformer(units=6, epochs=1, random_state=0), src,
                             tgt, cv=2, scoring=make_scorer(token_accuracy))
    assert scores.shape == (2,) and (scores >= 0).all()


def test_warm_start_with_a_new_learning_rate_rebuilds_the_step():
    src, tgt = make_reversal(40, 3, 4, alphabet="abc", random_state=0)
    model = Seq2SeqTransformer(units=8, epochs=1, random_state=0).fit(src, tgt)
    first = model._step
    model.set_params(warm_start=True).fit(src, tgt)
    assert model._step is first  # same training parameters: the optimizer carries over
    model.set_params(learning_rate=0.05, clipnorm=1.0).fit(src, tgt)
    assert model._step is not first
    assert model._step.learning_rate() == pytest.approx(0.05)


def test_compiled_decoding_follows_further_training_and_pickles(reversal):
    model, src, tgt = reversal
    clone = pickle.loads(pickle.dumps(model))
    before = clone.predict(src[:50])  # compiles the encoder and decoder step
    assert before == model.predict(src[:50])
    clone.set_params(warm_start=True, epochs=3, learning_rate=0.05).fit(src[:200],
                                                                        tgt[:200])
    after = clone.predict(src[:50])
    assert after != before
    # the compiled functions read the trained variables, not a copy from the first call
    assert after == pickle.loads(pickle.dumps(clone)).predict(src[:50])
    assert "_inference" not in clone.__getstate__()


def test_predict_on_another_kind_of_source_is_refused():
    model = Seq2SeqTransformer(units=4, epochs=1, random_state=0).fit(["ab", "ba"],
                                                                      ["ba", "ab"])
    with pytest.raises(ValueError, match="one vector per sample but the model was fitted "
                                         "on tokens"):
        model.predict(np.ones((3, 4)))


def test_warm_start_refuses_a_new_architecture():
    src, tgt = make_reversal(40, 3, 4, alphabet="abc", random_state=0)
    model = Seq2SeqTransformer(units=8, epochs=1, warm_start=True, random_state=0)
    model.fit(src, tgt)
    for change in (dict(units=12), dict(attention="dot"), dict(embedding_dim=8),
                   dict(dropout=0.2)):
        with pytest.raises(ValueError, match=rf"\['{next(iter(change))}'\] changed"):
            model.set_params(**change).fit(src, tgt)
        model.set_params(**{k: Seq2SeqTransformer().get_params()[k] if k != "units"
                            else 8 for k in change})
    model.fit(src, tgt)
    assert model.n_iter_ == 2
