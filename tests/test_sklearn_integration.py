"""Composition with scikit-learn: clone, Pipeline, GridSearchCV, CV, pickling."""

import pickle

import joblib
import numpy as np
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline

from skrnn import RNNClassifier, RNNRegressor
from skrnn.preprocessing import SequenceScaler


def data(n=48, seed=0):
    rng = np.random.RandomState(seed)
    X = [rng.randn(rng.randint(3, 10), 2) * 50 + 200 for _ in range(n)]
    y = np.array([int(s[:, 0].mean() > 200) for s in X])
    return X, y


def test_pipeline_with_sequence_scaler_and_gridsearch_n_jobs_2():
    X, y = data()
    pipe = make_pipeline(SequenceScaler(), RNNClassifier(units=4, epochs=2, random_state=0))
    grid = GridSearchCV(pipe, {"rnnclassifier__units": [3, 5]}, cv=2, n_jobs=2)
    grid.fit(X, y)
    assert grid.best_params_["rnnclassifier__units"] in (3, 5)
    assert grid.predict(X).shape == (48,)
    assert 0 <= grid.score(X, y) <= 1


def test_cross_val_score_on_3d_regression():
    rng = np.random.RandomState(0)
    X = rng.randn(40, 5, 1)
    y = X[:, -1, 0]
    scores = cross_val_score(RNNRegressor(units=4, epochs=2, random_state=0), X, y, cv=3)
    assert scores.shape == (3,)


def test_clone_keeps_params_drops_fit():
    X, y = data()
    clf = RNNClassifier(units=(4, 3), epochs=1, random_state=0).fit(X, y)
    c = clone(clf)
    assert c.get_params() == clf.get_params()
    assert not hasattr(c, "model_")


def test_pickle_and_joblib_round_trips_give_identical_predictions(tmp_path):
    X, y = data()
    for est in [RNNClassifier(units=4, epochs=2, pooling="attention", random_state=0),
                RNNRegressor(units=4, epochs=2, return_sequences=True, random_state=0)]:
        target = y if not est.return_sequences else [np.arange(len(s)) for s in X]
        est.fit(X, target)
        before = est.predict(X)
        restored = pickle.loads(pickle.dumps(est))
        path = tmp_path / "est.joblib"
        joblib.dump(est, path)
        from_joblib = joblib.load(path)
        for other in (restored, from_joblib):
            after = other.predict(X)
            if est.return_sequences:
                for a, b in zip(before, after):
                    np.testing.assert_array_equal(a, b)
            else:
                np.testing.assert_array_equal(before, after)


def test_pickled_estimator_keeps_training_with_warm_start():
    X, y = data()
    clf = RNNClassifier(units=4, epochs=1, warm_start=True, random_state=0).fit(X, y)
    again = pickle.loads(pickle.dumps(clf)).fit(X, y)
    assert again.n_iter_ == 2 and len(again.history_["loss"]) == 2


def test_pickle_in_a_fresh_process(tmp_path):
    """The custom layers must be registered when a new interpreter unpickles."""
    import subprocess
    import sys

    X, y = data()
    clf = RNNClassifier(units=4, epochs=1, pooling="attention", random_state=0).fit(X, y)
    path = tmp_path / "clf.pkl"
    path.write_bytes(pickle.dumps(clf))
    np.save(tmp_path / "x.npy", np.stack([s[:3] for s in X]))
    expected = clf.predict_proba(np.stack([s[:3] for s in X]))
    code = (f"import pickle, numpy as np; c = pickle.loads(open({str(path)!r}, 'rb').read());"
            f"print(repr(c.predict_proba(np.load({str(tmp_path / 'x.npy')!r})).tolist()))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    np.testing.assert_array_equal(np.array(eval(out.stdout.strip().splitlines()[-1])),
                                  expected)


def test_sequence_scaler_on_ragged_and_3d_inputs():
    X, _ = data()
    out = SequenceScaler().fit_transform(X)
    steps = np.concatenate(out)
    np.testing.assert_allclose(steps.mean(axis=0), 0, atol=1e-6)
    np.testing.assert_allclose(steps.std(axis=0), 1, atol=1e-6)
    assert [len(o) for o in out] == [len(s) for s in X]
    X3 = np.random.RandomState(0).randn(5, 4, 3) * 7 + 2
    sc = SequenceScaler().fit(X3)
    t = sc.transform(X3)
    assert t.shape == X3.shape
    np.testing.assert_allclose(sc.inverse_transform(t), X3)
