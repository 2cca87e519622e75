"""Covariates: static features per sequence (every estimator) and values known over the
horizon (Seq2SeqTransformer's decoder), as one indexable X built by hand, from a long
frame or by TimeSeriesWindows."""

import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import (
    GridSearchCV,
    TimeSeriesSplit,
    cross_val_score,
    train_test_split,
)
from sklearn.pipeline import make_pipeline
from sklearn.utils import _safe_indexing

import skrnn
from skrnn import RNNClassifier, RNNRegressor, Seq2SeqTransformer
from skrnn.data import WithCovariates, from_long_format
from skrnn.preprocessing import SequenceScaler, TimeSeriesWindows

pytestmark = pytest.mark.usefixtures("quiet_convergence")

TINY = dict(units=4, epochs=2, batch_size=16, random_state=0)


def store_data(n=240, horizon=4, seed=0):
    """Sales over a horizon: the last level, plus 3 on promotion days (known in
    advance), plus 1.5 times the store's size (static)."""
    rng = np.random.RandomState(seed)
    X = rng.randn(n, 10, 1)
    promo = (rng.rand(n, horizon) < 0.3).astype(float)
    size = rng.randn(n, 1)
    Y = X[:, -1:, 0] + 3 * promo + 1.5 * size + 0.1 * rng.randn(n, horizon)
    return X, size, promo[..., None], Y[..., None]


# ------------------------------------------------------------------- the container

def test_indexing_keeps_every_part_together():
    X, size, promo, _ = store_data(12)
    Xc = WithCovariates(list(X), static=size, future=promo, ids=np.arange(12) * 10)
    assert len(Xc) == 12 and Xc.shape == (12,)
    for key in ([3, 1], np.array([3, 1]), slice(3, 0, -2), (np.array([3, 1]), ...)):
        part = Xc[key]
        np.testing.assert_array_equal(part.static[:, 0], size[[3, 1], 0])
        np.testing.assert_array_equal(part.sequences[0], X[3])
        np.testing.assert_array_equal(part.future[1], promo[1])
        assert part.ids.tolist() == [30, 10]
    assert Xc[np.arange(12) % 2 == 1].ids.tolist() == [10, 30, 50, 70, 90, 110]
    seq, static, future = Xc[5]
    np.testing.assert_array_equal(seq, X[5])
    assert static[0] == size[5, 0] and future.shape == (4, 1)
    np.testing.assert_array_equal(_safe_indexing(Xc, [2]).static, size[[2]])
    a, b = train_test_split(Xc, test_size=4, shuffle=False)
    assert (len(a), len(b)) == (8, 4) and b.ids.tolist() == [80, 90, 100, 110]
    assert size[0, 0] == Xc.static[0, 0] and Xc.static is not size  # a copy


@pytest.mark.parametrize("kwargs, message", [
    (dict(static=np.ones((3, 1))), r"static must be \(n_sequences, n_features\) = \(4"),
    (dict(static=[[1.0], [np.nan], [1.0], [1.0]]), "static contains NaN .* sample 1"),
    (dict(static=[["a"]] * 4), "static holds <U1 values; numbers are required"),
    (dict(future=[np.ones((2, 1))] * 3), "future has 3 rows but there are 4"),
    (dict(future=[np.ones((2, 1))] * 3 + [np.ones((2, 2))]), r"future\[3\] has 2 features"),
    (dict(future=[np.ones((2, 1))] * 3 + [np.full((2, 1), np.inf)]),
     r"future contains NaN or infinity in sample 3"),
    (dict(future=[np.ones((0, 1))] * 4), r"future\[0\] must be a non-empty"),
])
def test_bad_covariates_are_named(kwargs, message):
    with pytest.raises((ValueError, TypeError), match=message):
        WithCovariates(np.zeros((4, 5, 1)), **kwargs)


# ------------------------------------------------------------------ static features

def test_static_features_are_learned_by_the_regressor_and_the_classifier():
    X, size, _, Y = store_data(300)
    y = X[:, -1, 0] + 2 * size[:, 0]
    Xc = WithCovariates(X, static=size)
    kw = dict(units=8, epochs=15, random_state=0)
    with_static = RNNRegressor(**kw).fit(Xc[:200], y[:200]).score(Xc[200:], y[200:])
    without = RNNRegressor(**kw).fit(X[:200], y[:200]).score(X[200:], y[200:])
    assert with_static > 0.7 and without < 0.3  # measured 0.855 and 0.049
    labels = np.where(size[:, 0] > 0, "big", "small")  # only the static column tells
    clf = RNNClassifier(**kw).fit(Xc[:200], labels[:200])
    assert clf.score(Xc[200:], labels[200:]) > 0.8  # measured 0.86 (chance: 0.5)


def test_static_features_in_model_selection_and_checked_at_predict():
    X, size, _, _ = store_data(60)
    y = X[:, -1, 0] + size[:, 0]
    Xc = WithCovariates(X, static=size)
    scores = cross_val_score(make_pipeline(SequenceScaler(), RNNRegressor(**TINY)), Xc, y,
                             cv=TimeSeriesSplit(2))  # the scaler passes covariates on
    assert np.isfinite(scores).all()
    search = GridSearchCV(RNNRegressor(**TINY), {"units": [2, 4]}, cv=2, refit=False)
    assert len(search.fit(Xc, y).cv_results_["mean_test_score"]) == 2
    reg = RNNRegressor(**TINY).fit(Xc, y)
    before = reg.predict(Xc)
    with pytest.raises(ValueError, match="fitted with static covariates: pass X as"):
        reg.predict(X)
    with pytest.raises(ValueError, match="X has 2 static covariates but RNNRegressor was "
                                         "fitted with 1"):
        reg.predict(WithCovariates(X, static=np.c_[size, size]))
    with pytest.raises(ValueError, match="static covariates go with numeric sequences"):
        RNNClassifier(**TINY).fit(WithCovariates([["a", "b"]] * 4, static=np.ones((4, 1))),
                                  [0, 1, 0, 1])
    with pytest.raises(ValueError, match="RNNRegressor takes static covariates only"):
        reg.fit(WithCovariates(X, future=np.ones((60, 2, 1))), y)
    with pytest.raises(ValueError, match="static contains NaN"):  # a failed refit ...
        reg.fit(WithCovariates(X, static=np.where(size > 1, np.nan, size)), y)
    np.testing.assert_array_equal(reg.predict(Xc), before)  # ... changes nothing
    with pytest.raises(ValueError, match="fitted without them"):
        RNNRegressor(**TINY).fit(X, y).predict(Xc)
    for other in (pickle.loads(pickle.dumps(reg)), ):
        np.testing.assert_array_equal(other.predict(Xc), before)


# ------------------------------------------------------------------- future values

def test_seq2seq_reads_future_and_static_covariates():
    X, size, promo, Y = store_data(300)
    Xc = WithCovariates(X, static=size, future=promo)
    kw = dict(units=16, epochs=25, random_state=0)
    informed = Seq2SeqTransformer(**kw).fit(Xc[:200], Y[:200]).score(Xc[200:], Y[200:])
    blind = Seq2SeqTransformer(**kw).fit(X[:200], Y[:200]).score(X[200:], Y[200:])
    assert -informed < 0.2 * -blind  # measured MSE 0.22 against 4.99


def test_seq2seq_covariates_are_checked_saved_and_validated(tmp_path):
    X, size, promo, Y = store_data(40)
    Xc = WithCovariates(X, static=size, future=promo)
    est = Seq2SeqTransformer(**TINY, loss="quantile").fit(
        Xc[:30], Y[:30], X_val=Xc[30:], Y_val=Y[30:])
    assert len(est.history_["val_loss"]) == 2
    before = np.array(est.predict_quantiles(Xc))
    est.save(tmp_path / "est.skrnn")
    for other in (skrnn.load(tmp_path / "est.skrnn"), pickle.loads(pickle.dumps(est))):
        np.testing.assert_array_equal(np.array(other.predict_quantiles(Xc)), before)
    with pytest.raises(ValueError, match=r"future\[0\] covers 2 steps but the model "
                                         "forecasts 4"):
        est.predict(WithCovariates(X, static=size, future=promo[:, :2]))
    with pytest.raises(ValueError, match="fitted with future covariates"):
        est.predict(WithCovariates(X, static=size))
    with pytest.raises(ValueError, match=r"future\[0\] covers 2 steps but Y\[0\] has 4"):
        Seq2SeqTransformer(**TINY).fit(WithCovariates(X, future=promo[:, :2]), Y)
    with pytest.raises(ValueError, match="future covariates feed the decoder of numeric"):
        Seq2SeqTransformer(**TINY).fit(WithCovariates(X, future=promo), ["ab"] * 40)
    vectors = WithCovariates(X[:, -1], static=size, future=promo)  # one-to-many
    assert np.shape(Seq2SeqTransformer(**TINY).fit(vectors, Y).predict(vectors)) == Y.shape


@pytest.mark.slow
def test_exports_take_the_covariates(tmp_path):
    import onnxruntime
    import tensorflow as tf

    X, size, promo, Y = store_data(30)
    X = X.astype(np.float32)
    size, promo = size.astype(np.float32), promo.astype(np.float32)
    Xc = WithCovariates(X, static=size, future=promo)
    est = Seq2SeqTransformer(**TINY, loss="gaussian", n_paths=0).fit(Xc, Y)  # exact std
    est.export(tmp_path / "s2s")
    serve = tf.saved_model.load(str(tmp_path / "s2s")).signatures["serving_default"]
    out = serve(values=tf.constant(X), lengths=tf.constant(np.full(30, 10, np.int32)),
                static=tf.constant(size), future=tf.constant(promo))
    mean, std = est.predict(Xc, return_std=True)
    np.testing.assert_allclose(out["prediction"].numpy(), mean, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(out["std"].numpy(), std, rtol=1e-5, atol=1e-5)
    lengths = np.random.RandomState(0).randint(3, 11, 30).astype(np.int32)
    ragged = WithCovariates([x[:t] for x, t in zip(X, lengths)], static=size)
    reg = RNNRegressor(**TINY).fit(ragged, Y[:, 0, 0])
    padded = np.where(np.arange(10)[None, :, None] < lengths[:, None, None], X, 0)
    reg.export(tmp_path / "reg.onnx", format="onnx")
    got = onnxruntime.InferenceSession(str(tmp_path / "reg.onnx")).run(
        None, {"values": padded, "lengths": lengths, "static": size})
    np.testing.assert_allclose(got[0], reg.predict(ragged), rtol=1e-5, atol=1e-5)


# -------------------------------------------------------------- from a long frame

def test_from_long_format_reads_static_and_future_columns():
    frame = pd.DataFrame({"store": [7, 7, 7, 3, 3], "day": [2, 0, 1, 0, 1],
                          "sales": [3.0, 1.0, 2.0, 5.0, 6.0], "size": [9, 9, 9, 4, 4],
                          "promo": [1, 0, 0, 1, 1]})
    horizon = pd.DataFrame({"store": [3, 7, 7, 3], "day": [3, 4, 3, 2],
                            "promo": [0, 1, 0, 1]})
    X = from_long_format(frame, "store", "day", static_columns=["size"],
                         future_frame=horizon)
    assert X.ids.tolist() == [7, 3]
    assert X.sequences.feature_names.tolist() == ["sales", "promo"]
    np.testing.assert_array_equal(X.sequences[0][:, 0], [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(X.static, [[9.0], [4.0]])
    assert X.static_names.tolist() == ["size"]
    np.testing.assert_array_equal(X.future[0][:, 0], [0.0, 1.0])  # days 3 and 4
    np.testing.assert_array_equal(X.future[1][:, 0], [1.0, 0.0])  # days 2 and 3
    assert isinstance(from_long_format(frame, "store", "day"), list)  # none asked for
    changed = frame.assign(size=[9, 8, 9, 4, 4])
    with pytest.raises(ValueError, match=r"static_columns \['size'\] vary within "
                                         "sequence id=7"):
        from_long_format(changed, "store", "day", static_columns=["size"])
    with pytest.raises(ValueError, match="future_frame has no rows for sequence id=3"):
        from_long_format(frame, "store", "day", future_frame=horizon[horizon.store == 7])
    with pytest.raises(ValueError, match="future_columns are read from future_frame"):
        from_long_format(frame, "store", "day", future_columns=["promo"])


def test_windows_split_future_columns_and_give_the_last_window():
    series = np.c_[np.arange(12.0), np.arange(12) % 3 == 0]
    windows = TimeSeriesWindows(lookback=4, horizon=2, target=0, future=1)
    X, Y = windows.split(series)
    assert len(X) == len(Y) == 7
    np.testing.assert_array_equal(X.sequences[0], series[:4])
    np.testing.assert_array_equal(X.future[0][:, 0], series[4:6, 1])
    np.testing.assert_array_equal(Y[0, :, 0], [4.0, 5.0])
    last = windows.last(series, future=[[1.0], [0.0]])
    np.testing.assert_array_equal(last.sequences[0], series[-4:])
    np.testing.assert_array_equal(last.future[0][:, 0], [1.0, 0.0])
    with pytest.raises(ValueError, match="pass their values over the horizon"):
        windows.last(series)
    with pytest.raises(ValueError, match="future=5 names a column past"):
        TimeSeriesWindows(4, 2, future=5).split(series)
