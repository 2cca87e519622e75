"""RNNRegressor's and Seq2SeqTransformer's losses: absolute error, Huber, quantiles
(intervals that never cross) and a Gaussian mean and standard deviation, calibrated on
heteroscedastic data."""

import pickle

import numpy as np
import pytest
from helpers import ragged

import skrnn
from skrnn import RNNRegressor

TINY = dict(units=4, epochs=2, batch_size=8, conv_filters=None, random_state=0)


pytestmark = pytest.mark.usefixtures("quiet_convergence")


def heteroscedastic(n, rng):
    """The next value is the sum of the last three plus noise whose scale grows with
    the last value's magnitude: an interval must widen and narrow with it."""
    X = rng.randn(n, 12, 1)
    scale = 0.2 + np.abs(X[:, -1, 0])
    return X, X[:, -3:, 0].sum(axis=1) + scale * rng.randn(n), scale


@pytest.mark.slow
@pytest.mark.parametrize("loss", ["quantile", "gaussian"])
def test_the_80_percent_interval_covers_80_percent_of_new_points(loss):
    rng = np.random.RandomState(0)
    X, y, _ = heteroscedastic(1200, rng)
    X_new, y_new, scale = heteroscedastic(600, rng)
    reg = RNNRegressor(units=16, epochs=60, loss=loss, conv_filters=None,
                       random_state=0).fit(X, y)
    if loss == "quantile":
        q = reg.predict_quantiles(X_new)
        assert q.shape == (600, 3) and (np.diff(q, axis=1) >= 0).all()
        low, high = q[:, 0], q[:, 2]
        width = high - low
        np.testing.assert_array_equal(reg.predict(X_new), q[:, 1])  # the median
    else:
        mean, std = reg.predict(X_new, return_std=True)
        low, high = mean - 1.2816 * std, mean + 1.2816 * std
        width = high - low
        np.testing.assert_array_equal(reg.predict(X_new), mean)
    covered = np.mean((y_new >= low) & (y_new <= high))
    assert 0.75 <= covered <= 0.85, covered
    # wide where the noise is (measured: 0.71 for the quantiles, 0.95 for the Gaussian)
    assert np.corrcoef(width, scale)[0, 1] > 0.6
    assert reg.score(X_new, y_new) > 0.5


@pytest.mark.parametrize("loss", ["absolute_error", "huber", "quantile", "gaussian"])
def test_shapes_multi_output_and_per_step(loss):
    X, _ = ragged(24)
    y = np.array([[x[:, 0].sum(), x[:, 1].max()] for x in X])
    reg = RNNRegressor(loss=loss, **TINY).fit(X, y)
    assert reg.predict(X).shape == (24, 2)
    steps = [x[:, 0] * 2 for x in X]
    per_step = RNNRegressor(loss=loss, return_sequences=True, **TINY).fit(X, steps)
    out = per_step.predict(X)
    assert [o.shape for o in out] == [(len(x),) for x in X]
    if loss == "quantile":
        assert reg.predict_quantiles(X).shape == (24, 2, 3)
        q = per_step.predict_quantiles(X)
        assert [a.shape for a in q] == [(len(x), 3) for x in X]
        assert all((np.diff(a, axis=-1) >= 0).all() for a in q)
    if loss == "gaussian":
        mean, std = reg.predict(X, return_std=True)
        assert mean.shape == std.shape == (24, 2) and (std > 0).all()


def test_levels_errors_and_a_changed_parameter_after_fit(tmp_path):
    X, _ = ragged(24)
    y = np.array([x[:, 0].sum() for x in X])
    reg = RNNRegressor(loss="quantile", quantiles=[0.05, 0.95], **TINY).fit(X, y)
    np.testing.assert_array_equal(reg.quantiles_, [0.05, 0.5, 0.95])  # the median added
    before = reg.predict_quantiles(X)
    reg.set_params(loss="gaussian", quantiles=(0.3,))  # the fitted loss still reads
    np.testing.assert_array_equal(reg.set_params(loss="quantile").predict_quantiles(X),
                                  before)
    reg.save(tmp_path / "q.skrnn")
    np.testing.assert_array_equal(skrnn.load(tmp_path / "q.skrnn").predict_quantiles(X),
                                  before)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(reg)).predict_quantiles(X),
                                  before)
    with pytest.raises(ValueError, match="return_std=True needs loss='gaussian'"):
        reg.predict(X, return_std=True)
    with pytest.raises(ValueError, match="predict_quantiles needs loss='quantile'"):
        RNNRegressor(**TINY).fit(X, y).predict_quantiles(X)
    for bad in ([0.5, 0.1], [0.0, 0.5], [1.2], []):
        with pytest.raises(ValueError, match="quantiles must be increasing levels"):
            RNNRegressor(loss="quantile", quantiles=bad, **TINY).fit(X, y)
    with pytest.raises(ValueError, match="loss"):
        RNNRegressor(loss="poisson", **TINY).fit(X, y)


def test_exported_quantiles_and_std(tmp_path):
    """In the SavedModel and in the ONNX file (whose runtime has float32 Softplus only:
    the transforms run in float32, as predict's do)."""
    import onnxruntime
    import tensorflow as tf

    X = np.random.RandomState(0).randn(30, 8, 2).astype(np.float32)
    y = X[:, -1, 0] * 3
    for loss, key in (("quantile", "quantiles"), ("gaussian", "std")):
        reg = RNNRegressor(loss=loss, **TINY).fit(X, y)
        reg.export(tmp_path / loss)
        serve = tf.saved_model.load(str(tmp_path / loss)).signatures["serving_default"]
        out = serve(values=tf.constant(X), lengths=tf.constant(np.full(30, 8, np.int32)))
        want = (reg.predict_quantiles(X) if loss == "quantile"
                else reg.predict(X, return_std=True)[1])
        np.testing.assert_allclose(out[key].numpy(), want, rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(out["prediction"].numpy(), reg.predict(X), rtol=1e-5,
                                   atol=1e-5)
        reg.export(tmp_path / f"{loss}.onnx", format="onnx")
        session = onnxruntime.InferenceSession(str(tmp_path / f"{loss}.onnx"))
        names = [o.name for o in session.get_outputs()]
        got = dict(zip(names, session.run(None, {"values": X, "lengths": np.full(
            30, 8, np.int32)})))
        np.testing.assert_allclose(got[key], want, rtol=1e-5, atol=1e-5)


# ------------------------------------------------------------ Seq2SeqTransformer

def random_walks(n, rng):
    """Eight steps of a random walk, then the next six, relative to the last seen: the
    spread of the future grows as the square root of the steps ahead."""
    path = np.cumsum(rng.randn(n, 14), axis=1)
    return path[:, :8, None] - path[:, 7:8, None], path[:, 8:, None] - path[:, 7:8, None]


@pytest.mark.slow
def test_seq2seq_sample_paths_widen_intervals_with_the_horizon(tmp_path):
    """The decoder's own quantiles are one step ahead (given the path before): over six
    steps of a random walk they under-cover more and more. Sample paths carry the
    uncertainty forward: the 80 % interval covers 80 % at every step."""
    import tensorflow as tf

    X, Y = random_walks(600, np.random.RandomState(0))
    est = skrnn.Seq2SeqTransformer(units=16, epochs=30, attention=None, loss="quantile",
                                   random_state=0).fit(X[:400], Y[:400])
    q = np.array(est.predict_quantiles(X[400:]))
    assert q.shape == (200, 6, 1, 3) and (np.diff(q, axis=-1) >= 0).all()
    covered = ((Y[400:] >= q[..., 0]) & (Y[400:] <= q[..., 2])).mean(axis=(0, 2))
    assert (0.7 <= covered).all() and (covered <= 0.9).all()  # measured 0.74 - 0.81
    width = (q[..., 2] - q[..., 0]).mean(axis=(0, 2))
    assert width[-1] > 2 * width[0]  # measured 2.43 -> 6.10 (true: 2.56 -> 6.28)
    np.testing.assert_array_equal(np.array(est.predict_quantiles(X[400:])), q)  # seeded
    one_step = np.array(est.set_params(n_paths=0).predict_quantiles(X[400:]))
    covered = ((Y[400:] >= one_step[..., 0]) & (Y[400:] <= one_step[..., 2])).mean()
    assert covered < 0.65  # measured 0.59: 0.76 at the first step, 0.38 at the sixth
    np.testing.assert_array_equal(np.array(est.predict(X[400:])), one_step[..., 1])
    est.set_params(n_paths=200).export(tmp_path / "s2s")  # paths in the graph too
    serve = tf.saved_model.load(str(tmp_path / "s2s")).signatures["serving_default"]
    out = serve(values=tf.constant(X[400:].astype(np.float32)),
                lengths=tf.constant(np.full(200, 8, np.int32)))
    served = out["quantiles"].numpy()  # its own random draws: the same spread
    assert (np.diff(served, axis=-1) >= 0).all()
    np.testing.assert_allclose((served[..., 2] - served[..., 0]).mean(axis=(0, 2)),
                               width, rtol=0.05)
    np.testing.assert_allclose(out["prediction"].numpy(), one_step[..., 1], rtol=1e-5,
                               atol=1e-5)


@pytest.mark.parametrize("loss", ["absolute_error", "huber", "quantile", "gaussian"])
def test_seq2seq_losses_on_ragged_targets_round_trip(loss, tmp_path):
    """Targets of their own lengths (the stop flag learned beside the loss's columns),
    read back the same after save / load and pickling."""
    rng = np.random.RandomState(1)
    X, _ = ragged(n=16, f=2, lo=3, hi=6)
    Y = [rng.randn(rng.randint(1, 4), 2) for _ in range(16)]
    est = skrnn.Seq2SeqTransformer(units=4, epochs=2, batch_size=8, embedding_dim=4,
                                   loss=loss, random_state=0).fit(X, Y)
    point = est.predict(X)
    assert all(p.ndim == 2 and p.shape[1] == 2 for p in point)
    est.save(tmp_path / "e.skrnn")
    for other in (skrnn.load(tmp_path / "e.skrnn"), pickle.loads(pickle.dumps(est))):
        for a, b in zip(other.predict(X), point):
            np.testing.assert_array_equal(a, b)
    if loss == "quantile":
        q = est.predict_quantiles(X)
        assert [a.shape for a in q] == [p.shape + (3,) for p in point]
        for a, p in zip(q, point):
            np.testing.assert_array_equal(a[..., 1], p)
    elif loss == "gaussian":
        mean, std = est.predict(X, return_std=True)
        assert all((s > 0).all() and s.shape == m.shape for m, s in zip(mean, std))
    est.set_params(warm_start=True, loss="squared_error")
    if loss in ("quantile", "gaussian"):  # other outputs: another network
        with pytest.raises(ValueError, match="warm_start / partial_fit continue"):
            est.fit(X, Y)
        np.testing.assert_array_equal(est.predict(X)[0], point[0])  # failed fit: untouched
    else:  # the same network, trained on by the new loss
        assert est.fit(X, Y)._loss_task() == "regression_with_stop"


def test_seq2seq_token_targets_refuse_a_regression_loss():
    with pytest.raises(ValueError, match="loss='huber' is for numeric targets"):
        skrnn.Seq2SeqTransformer(loss="huber", epochs=1).fit(["ab", "cd"], ["x", "y"])
    est = skrnn.Seq2SeqTransformer(units=4, epochs=1, embedding_dim=4)
    with pytest.raises(ValueError, match="return_std=True needs loss='gaussian'"):
        est.fit(["ab", "cd"], ["x", "y"]).predict(["ab"], return_std=True)


def _heteroscedastic(n, seed):
    """Windows whose next value's noise scale is set by the window's last value."""
    rng = np.random.RandomState(seed)
    X = rng.randn(n, 12, 1)
    y = X[:, -3:, 0].sum(1) * 0.5 + (0.1 + 0.6 * np.abs(X[:, -1, 0])) * rng.randn(n)
    return X, y


@pytest.mark.slow
def test_default_intervals_are_honest_on_heteroscedastic_data():
    """Nominal 80 % intervals cover 0.77-0.83 of 2,000 new targets at the default
    training settings: the Gaussian's spread calibrated on the 20 % of sequences held
    out (interval_calibration="auto"; without it they are too narrow); the quantile
    head as trained (and calibrated on request)."""
    import warnings

    from scipy.stats import norm

    X_new, y_new = _heteroscedastic(2000, 99)

    def coverage(reg):
        if reg.loss == "gaussian":
            mean, std = reg.predict(X_new, return_std=True)
            low, high = mean - norm.ppf(0.9) * std, mean + norm.ppf(0.9) * std
        else:
            q = reg.predict_quantiles(X_new)
            low, high = q[:, 0], q[:, -1]
        return np.mean((low <= y_new) & (y_new <= high))

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        X, y = _heteroscedastic(600, 0)
        plain = RNNRegressor(loss="gaussian", units=16, random_state=0,
                             interval_calibration=None).fit(X, y)
        gaussian = RNNRegressor(loss="gaussian", units=16, random_state=0).fit(X, y)
        X, y = _heteroscedastic(3000, 0)
        quantile = RNNRegressor(loss="quantile", units=16, random_state=0).fit(X, y)
        X, y = _heteroscedastic(1000, 0)
        asked = RNNRegressor(loss="quantile", units=16, random_state=0,
                             interval_calibration=0.2).fit(X, y)
    assert plain.interval_calibration_ is None and coverage(plain) < 0.75
    assert gaussian.interval_calibration_.shape == (1,)
    assert 0.77 <= coverage(gaussian) <= 0.83
    assert quantile.interval_calibration_ is None
    assert 0.77 <= coverage(quantile) <= 0.83
    assert asked.interval_calibration_.shape == (1, 3)
    assert asked.interval_calibration_[0, 1] == 1  # the median is not moved
    assert 0.77 <= coverage(asked) <= 0.83


def test_interval_calibration_is_kept_by_every_door_and_dropped_by_partial_fit(tmp_path):
    import skrnn

    rng = np.random.RandomState(0)
    X = [rng.randn(rng.randint(4, 9), 2) for _ in range(120)]
    y = np.array([s[:, 0].sum() for s in X]) + rng.randn(120)
    reg = RNNRegressor(loss="gaussian", units=4, epochs=3, conv_filters=None,
                       random_state=0).fit(X, y)
    assert reg.interval_calibration_.shape == (1,)  # 24 of 120 held out
    mean, std = reg.predict(X[:5], return_std=True)
    adjust = reg.interval_calibration_.copy()
    reg.interval_calibration_ = None
    np.testing.assert_allclose(reg.predict(X[:5], return_std=True)[1] * adjust[0], std,
                               rtol=1e-6)
    reg.interval_calibration_ = adjust
    reg.save(tmp_path / "r.skrnn")
    loaded = skrnn.load(tmp_path / "r.skrnn")
    np.testing.assert_array_equal(loaded.interval_calibration_, adjust)
    np.testing.assert_allclose(loaded.predict(X[:5], return_std=True)[1], std, rtol=1e-6)
    stream = reg.stream()
    _, streamed = stream.update(list(range(5)), X[:5], every_step=False, return_std=True)
    np.testing.assert_allclose(np.ravel(streamed), std, rtol=1e-4)
    few = RNNRegressor(loss="gaussian", units=4, epochs=1, conv_filters=None,
                       random_state=0).fit(X[:60], y[:60])
    assert few.interval_calibration_ is None  # 12 held out: too few, none kept out
    reg.partial_fit(X, y)
    assert reg.interval_calibration_ is None
