"""Learning well by default: training to convergence, input scaling inside the
estimator, the convolutional front-end (mask-aware, precise batch-norm statistics)."""

import warnings

import helpers
import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from skrnn import RNNClassifier, RNNRegressor, Seq2SeqTransformer


def ragged(n=60, features=2):
    return helpers.ragged(n, features, lo=4, hi=16)


# ----------------------------------------------------------------- convergence
def test_fit_stops_on_a_plateau_of_the_training_loss_without_warning():
    X, y = ragged(40)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        clf = RNNClassifier(units=8, learning_rate=0.05, n_iter_no_change=3, tol=0.05,
                            epochs=300, random_state=0).fit(X, y)
    assert clf.n_iter_ < 300
    losses = np.array(clf.history_["loss"])
    # Stopped because the last n_iter_no_change epochs did not beat the best by tol.
    best_before = losses[:-3].min()
    assert (losses[-3:] > best_before - 0.05).all()


def test_budget_exhausted_warns_and_partial_fit_does_not():
    X, y = ragged(30)
    with pytest.warns(ConvergenceWarning, match="epochs=2"):
        RNNClassifier(units=4, epochs=2, random_state=0).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        clf = RNNClassifier(units=4, random_state=0).partial_fit(X, y)
    assert clf.n_iter_ == 1


def test_plateau_schedule_halves_the_learning_rate_and_constant_keeps_it():
    X, y = ragged(40)
    kw = dict(units=4, epochs=40, learning_rate=0.01, n_iter_no_change=4, tol=10.0,
              random_state=0)
    # tol=10: no epoch counts as an improvement, so the rate halves every 2 epochs
    # from the first plateau; n_iter_no_change stops the fit at epoch 5.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        plateau = RNNClassifier(**kw).fit(X, y)
        constant = RNNClassifier(lr_schedule="constant", **kw).fit(X, y)
    lr = plateau.history_["learning_rate"]
    assert lr[0] == pytest.approx(0.01) and lr[-1] == pytest.approx(0.005)
    assert plateau.n_iter_ == 5
    assert constant.history_["learning_rate"] == [pytest.approx(0.01)] * 5


def test_auto_batch_size_and_patience_give_small_data_enough_updates():
    from skrnn.estimators._fitting import resolve_batch_size, resolve_patience

    # a tenth of the training set within [8, 32]; 32 at predict time
    assert [resolve_batch_size("auto", n) for n in (30, 100, 200, 5000)] == [8, 10, 20, 32]
    assert resolve_batch_size("auto") == 32 and resolve_batch_size(5, 100) == 5
    # 10 epochs and at least 200 updates; an int is taken as it is
    assert resolve_patience("auto", 100, 10) == 20 and resolve_patience("auto", 5000, 32) == 10
    assert resolve_patience("auto", 30, 8) == 50 and resolve_patience(3, 30, 8) == 3
    X, y = ragged(40)  # batches of 8: 5 updates an epoch, so 40 epochs of patience
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        # tol=10: no epoch improves on the first, so the fit stops 40 epochs later
        clf = RNNClassifier(units=2, epochs=100, tol=10.0, conv_filters=None,
                            random_state=0).fit(X, y)
    assert clf.n_iter_ == 41
    lr = clf.history_["learning_rate"]  # halved after 20 epochs without improvement
    assert lr[20] == pytest.approx(0.001) and lr[21] == pytest.approx(0.0005)


@pytest.mark.parametrize("params, data, expected", [
    ({}, "numeric", (128, 256, 128)),
    ({"return_sequences": True}, "numeric", ()),
    ({"truncate_steps": 4}, "numeric", ()),
    ({}, "tokens", ()),
    ({"conv_filters": None}, "numeric", ()),
    ({"conv_filters": (4,), "conv_kernel_sizes": 3}, "tokens", (4,)),
])
def test_auto_front_end_only_for_numeric_sequences_with_one_target(params, data, expected):
    X, y = ragged(12)
    if data == "tokens":
        X = [list("abcab"[: 2 + i % 3]) for i in range(12)]
    if params.get("return_sequences"):
        y = [np.full(len(x), label) for x, label in zip(X, y)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = RNNClassifier(units=2, epochs=1, random_state=0, **params).fit(X, y)
        if not params and data == "numeric":  # the regressor's "auto" is off
            reg = RNNRegressor(units=2, epochs=1, random_state=0).fit(X, (y == "pos") * 1.0)
            assert reg._spec.conv_filters == ()
    assert clf._spec.conv_filters == expected


def test_learning_rate_never_falls_below_a_thousandth():
    from skrnn.training._monitor import MIN_LR_FRACTION

    X, y = ragged(20)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = RNNClassifier(units=4, epochs=30, learning_rate=0.01, n_iter_no_change=2,
                            tol=10.0, early_stopping=True, random_state=0).fit(X, y)
    lr = np.array(clf.history_["learning_rate"])
    assert lr.min() >= 0.01 * MIN_LR_FRACTION * (1 - 1e-6)


def test_an_optimizer_schedule_is_left_alone():
    import keras

    X, y = ragged(20)
    schedule = keras.optimizers.schedules.ExponentialDecay(0.01, 10, 0.9)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = RNNClassifier(units=4, epochs=3, optimizer=keras.optimizers.Adam(schedule),
                            random_state=0).fit(X, y)
    # the schedule's rate at each epoch's first update: 20 sequences in the "auto"
    # batches of 8 make 3 updates an epoch, and no plateau halving
    np.testing.assert_allclose(clf.history_["learning_rate"],
                               [0.01 * 0.9 ** (step / 10) for step in (0, 3, 6)], rtol=1e-5)


@pytest.mark.parametrize("bad", ["cosine", None, 1])
def test_lr_schedule_is_validated(bad):
    X, y = ragged(10)
    with pytest.raises(ValueError, match="lr_schedule"):
        RNNClassifier(lr_schedule=bad).fit(X, y)
    with pytest.raises(ValueError, match="lr_schedule"):
        Seq2SeqTransformer(lr_schedule=bad).fit(["ab", "cd"], ["ba", "dc"])


# ------------------------------------------------------------------------ scaling
def test_feature_scaling_is_learned_stored_and_leaves_the_input_alone():
    X, y = ragged(30)
    X = [1000 + 50 * s for s in X]
    copies = [s.copy() for s in X]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = RNNClassifier(units=4, epochs=2, random_state=0).fit(X, y)
    steps = np.concatenate(copies)
    np.testing.assert_allclose(clf.scaling_mean_, steps.mean(0))
    np.testing.assert_allclose(clf.scaling_scale_, steps.std(0))
    for a, b in zip(X, copies):
        np.testing.assert_array_equal(a, b)
    encoded = clf._encode_X(clf._check_X(X, reset=False))
    np.testing.assert_allclose(np.concatenate(encoded).mean(0), 0, atol=1e-5)
    np.testing.assert_allclose(np.concatenate(encoded).std(0), 1, atol=1e-5)


def test_a_failed_refit_keeps_the_fitted_input_scaling():
    X, _ = ragged(30)
    y = np.array([s[:, 0].sum() for s in X])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reg = RNNRegressor(units=4, epochs=1, random_state=0).fit(X, y)
    mean, scale = reg.scaling_mean_.copy(), reg.scaling_scale_.copy()
    # One sequence cannot be split for early stopping: the refit fails after the new
    # data were read and their scaling computed, before a model is built.
    with pytest.raises(ValueError, match="early_stopping needs at least 2"):
        reg.set_params(early_stopping=True).fit([100 * X[0]], y[:1])
    np.testing.assert_array_equal(reg.scaling_mean_, mean)
    np.testing.assert_array_equal(reg.scaling_scale_, scale)


def test_sequence_scaling_ignores_each_series_level_and_amplitude():
    X, y = ragged(30, features=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = RNNClassifier(units=4, epochs=2, scaling="sequence", random_state=0).fit(X, y)
    assert not hasattr(clf, "scaling_mean_")
    moved = [7 * s - 300 for s in X]
    np.testing.assert_allclose(clf.predict_proba(moved), clf.predict_proba(X), atol=1e-5)


def test_scaling_none_and_feature_differ_and_tokens_are_not_scaled():
    X, y = ragged(30)
    X = [10 + 5 * s for s in X]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        raw = RNNClassifier(units=4, epochs=2, scaling=None, random_state=0).fit(X, y)
        scaled = RNNClassifier(units=4, epochs=2, random_state=0).fit(X, y)
        tokens = RNNClassifier(units=4, epochs=1, random_state=0).fit(
            [list("abc"), list("ba"), list("cab")], ["x", "y", "x"])
    assert not hasattr(raw, "scaling_mean_") and not hasattr(tokens, "scaling_mean_")
    assert not np.allclose(raw.predict_proba(X), scaled.predict_proba(X))
    with pytest.raises(ValueError, match="scaling"):
        RNNClassifier(scaling="minmax").fit(X, y)


# ------------------------------------------------------------- convolutional front-end
CONV = dict(conv_filters=(8, 6), conv_kernel_sizes=(5, 3))


@pytest.mark.parametrize("mode", ["parallel", "before"])
@pytest.mark.parametrize("pooling", ["last", "attention"])
def test_conv_front_end_predictions_never_depend_on_padding(mode, pooling):
    X, y = ragged(40)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = RNNClassifier(units=4, epochs=3, conv_mode=mode, pooling=pooling,
                            random_state=0, **CONV).fit(X, y)
    short = X[0][:5]
    alone = clf.predict_proba([short])
    # Batched with a sequence 20 times longer: padded to 100 steps.
    rng = np.random.RandomState(1)
    together = clf.predict_proba([short, 3 * rng.randn(100, 2)])
    np.testing.assert_allclose(together[:1], alone, rtol=1e-5, atol=1e-6)
    assert clf.model_.get_layer("conv").parallel == (mode == "parallel")


def test_conv_front_end_per_step_and_tokens():
    X, y = ragged(30)
    steps = [np.where(s[:, 0] > 0, "pos", "neg") for s in X]
    tokens = [list(np.where(s[:, 0] > 0, "a", "b")) for s in X]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        tagger = RNNClassifier(units=4, epochs=2, return_sequences=True, random_state=0,
                               **CONV).fit(X, steps)
        text = RNNClassifier(units=4, epochs=2, random_state=0, **CONV).fit(tokens, y)
    pred = tagger.predict(X[:3])
    assert [len(p) for p in pred] == [len(s) for s in X[:3]]
    assert text.predict(tokens[:4]).shape == (4,)
    short = tokens[0][:3]
    np.testing.assert_allclose(text.predict_proba([short, tokens[1] * 5])[:1],
                               text.predict_proba([short]), rtol=1e-5, atol=1e-6)


def test_batch_norm_statistics_are_the_exact_training_statistics():
    X, y = ragged(40)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = RNNClassifier(units=4, epochs=3, random_state=0, **CONV).fit(X, y)
    block = clf.model_.get_layer("conv")
    encoded = clf._encode_X(clf._check_X(X, reset=False))
    z = np.concatenate([block.convs[0](s[None].astype("float32")).numpy()[0]
                        for s in encoded])
    np.testing.assert_allclose(block.norms[0].moving_mean.numpy(), z.mean(0),
                               rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(block.norms[0].moving_variance.numpy(), z.var(0),
                               rtol=1e-3, atol=1e-5)


@pytest.mark.parametrize("mode", ["parallel", "before"])
def test_gradient_flow_runs_through_the_front_end(mode):
    from skrnn.diagnostics import gradient_flow

    X, y = ragged(20)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = RNNClassifier(units=4, epochs=1, conv_mode=mode, random_state=0,
                            **CONV).fit(X, y)
    flow = gradient_flow(clf, X[:6], y[:6])
    assert flow.shape == (max(len(x) for x in X[:6]),)
    assert np.isfinite(flow).all() and (flow > 0).all()
    if mode == "before":  # the recurrent layer reads the convolutions: they shape ∂L/∂h_t
        conv = clf.model_.get_layer("conv")
        conv.set_weights([2 * w for w in conv.get_weights()])
        assert not np.allclose(gradient_flow(clf, X[:6], y[:6]), flow)


def test_conv_regressor_pickles_and_predicts_identically():
    import pickle

    rng = np.random.RandomState(0)
    X = rng.randn(32, 12, 1)
    y = X[:, -3:, 0].sum(1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reg = RNNRegressor(units=4, epochs=3, random_state=0, **CONV).fit(X, y)
    again = pickle.loads(pickle.dumps(reg))
    np.testing.assert_array_equal(again.predict(X), reg.predict(X))


@pytest.mark.parametrize("params, message", [
    (dict(conv_filters=(8, 8)), "one entry per conv_filters"),
    (dict(conv_filters=(0,), conv_kernel_sizes=3), "conv_filters"),
    (dict(conv_filters=8, conv_kernel_sizes="3"), "conv_kernel_sizes"),
    (dict(conv_filters=(8,), conv_kernel_sizes=3, conv_mode="after"), "conv_mode"),
    (dict(conv_filters=(8,), conv_kernel_sizes=3, truncate_steps=4), "truncate_steps"),
])
def test_conv_parameters_are_validated(params, message):
    X, y = ragged(10)
    with pytest.raises(ValueError, match=message):
        RNNClassifier(**params).fit(X, y)


def test_warm_start_refuses_a_changed_front_end():
    X, y = ragged(20)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = RNNClassifier(units=4, epochs=1, warm_start=True, random_state=0,
                            **CONV).fit(X, y)
    with pytest.raises(ValueError, match="conv_filters"):
        clf.set_params(conv_filters=(8, 8, 8), conv_kernel_sizes=3).fit(X, y)


# ------------------------------------------------------------------ seq2seq defaults
@pytest.mark.slow
def test_seq2seq_defaults_learn_to_reverse_strings():
    """The issue's check: reversal of 3-6 letters (alphabet of 5) from 500 pairs."""
    def make(n, seed):
        rng = np.random.RandomState(seed)
        X = ["".join(rng.choice(list("abcde"), rng.randint(3, 7))) for _ in range(n)]
        return X, [x[::-1] for x in X]

    X, Y = make(500, 0)
    X_test, Y_test = make(200, 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = Seq2SeqTransformer(random_state=0).fit(X, Y)
    assert model.score(X_test, Y_test) >= 0.9
