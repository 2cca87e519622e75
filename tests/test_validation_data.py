"""Fixed validation data (``fit(X, y, X_val=..., y_val=...)``) and its metadata routing."""


import numpy as np
import pytest
import sklearn
from helpers import ragged
from sklearn.metrics import log_loss, r2_score
from sklearn.model_selection import GridSearchCV, cross_validate
from sklearn.pipeline import Pipeline

from skrnn import RNNClassifier, RNNRegressor, Seq2SeqTransformer
from skrnn.preprocessing import SequenceScaler

FAST = dict(units=4, epochs=3, batch_size=8, conv_filters=None, random_state=0)


pytestmark = pytest.mark.usefixtures("quiet_convergence")


def split():
    X, y = ragged(40)
    X_val, y_val = ragged(15, seed=1)
    return X, y, X_val, y_val


def test_validation_data_is_evaluated_every_epoch_and_leaves_training_alone():
    X, y, X_val, y_val = split()
    plain = RNNClassifier(**FAST).fit(X, y)
    clf = RNNClassifier(**FAST).fit(X, y, X_val=X_val, y_val=y_val)
    # the training run is the same (nothing held out, the same batches) ...
    np.testing.assert_allclose(clf.history_["loss"], plain.history_["loss"], rtol=1e-6)
    # ... and the recorded validation loss and score are those of the final weights
    proba = clf.predict_proba(X_val)
    assert clf.history_["val_loss"][-1] == pytest.approx(
        log_loss(y_val, proba, labels=clf.classes_), rel=1e-4)
    assert clf.history_["val_score"][-1] == pytest.approx(clf.score(X_val, y_val))
    assert clf.best_epoch_ is None  # recorded, not monitored, without early_stopping


def test_with_early_stopping_the_validation_data_replaces_the_split():
    X, y, X_val, y_val = split()
    monitored = RNNClassifier(**{**FAST, "epochs": 6}, early_stopping=True,
                              n_iter_no_change=50).fit(X, y, X_val=X_val, y_val=y_val)
    recorded = RNNClassifier(**{**FAST, "epochs": 6}, n_iter_no_change=50).fit(
        X, y, X_val=X_val, y_val=y_val)
    # all 40 sequences trained in both (a split would have held 4 out)
    np.testing.assert_allclose(monitored.history_["loss"], recorded.history_["loss"],
                               rtol=1e-6)
    best = int(np.nanargmin(monitored.history_["val_loss"])) + 1
    assert monitored.best_epoch_ == best


def test_regressor_and_per_step_targets():
    X, y, X_val, _ = split()
    target = np.array([x[:, 0].mean() for x in X])
    target_val = np.array([x[:, 0].mean() for x in X_val])
    reg = RNNRegressor(**FAST).fit(X, target, X_val=X_val, y_val=target_val,
                                   sample_weight_val=np.ones(len(X_val)))
    assert reg.history_["val_score"][-1] == pytest.approx(
        r2_score(target_val, reg.predict(X_val)), rel=1e-4)
    steps = [np.cumsum(x[:, 0]) for x in X]
    steps_val = [np.cumsum(x[:, 0]) for x in X_val]
    tagger = RNNRegressor(**FAST, return_sequences=True).fit(X, steps, X_val=X_val,
                                                             y_val=steps_val)
    assert np.isfinite(tagger.history_["val_loss"]).all()


def test_class_weights_come_from_the_training_labels():
    X, y, X_val, y_val = split()
    one_class = np.full(len(X_val), y[0])
    balanced = RNNClassifier(**FAST, class_weight="balanced")
    plain = balanced.fit(X, y)._class_weights.copy()
    balanced.fit(X, y, X_val=X_val, y_val=one_class)
    np.testing.assert_array_equal(balanced._class_weights, plain)


def test_bad_validation_data_is_named():
    X, y, X_val, y_val = split()
    for kwargs, match in [
            (dict(X_val=X_val), "X_val and y_val go together"),
            (dict(y_val=y_val), "X_val and y_val go together"),
            (dict(X_val=X_val[:2], y_val=["pos", "maybe"]),
             r"In y_val: y contains labels \['maybe'\]"),
            (dict(X_val=[np.ones((3, 5))], y_val=["pos"]),
             "In X_val: X has 5 features per step"),
            (dict(X_val=X_val[:2], y_val=y_val[:2], sample_weight_val=[1.0, -1.0]),
             "In sample_weight_val: sample_weight is negative")]:
        clf = RNNClassifier(**FAST)
        with pytest.raises(ValueError, match=match):
            clf.fit(X, y, **kwargs)
        assert not hasattr(clf, "model_")  # a failed fit leaves nothing fitted


def test_seq2seq_validation_pairs():
    X = ["abc", "bca", "cab", "acb", "bac", "cba"] * 3
    Y = [x[::-1] for x in X]
    model = Seq2SeqTransformer(units=4, epochs=2, batch_size=8, random_state=0).fit(
        X, Y, X_val=["abc", "cab"], Y_val=["cba", "bac"])
    assert np.isfinite(model.history_["val_loss"]).all()
    with pytest.raises(ValueError, match="Y_val holds numeric targets but Y held tokens"):
        model.fit(X, Y, X_val=["abc"], Y_val=[np.ones((2, 1))])
    with pytest.raises(ValueError, match="X_val and Y_val go together"):
        model.fit(X, Y, Y_val=["cba"])


# ------------------------------------------------------------------ metadata routing
def test_routed_through_pipeline_grid_search_and_cross_validate():
    X, y, X_val, y_val = split()
    with sklearn.config_context(enable_metadata_routing=True):
        rnn = (RNNClassifier(**FAST)
               .set_fit_request(X_val=True, y_val=True, sample_weight=True)
               .set_score_request(sample_weight=True))
        # X_val goes through the scaler like X (scikit-learn's transform_input)
        pipe = Pipeline([("scale", SequenceScaler()), ("rnn", rnn)],
                        transform_input=["X_val"])
        pipe.fit(X, y, X_val=X_val, y_val=y_val, sample_weight=np.ones(len(X)))
        assert np.isfinite(pipe[-1].history_["val_loss"]).all()
        # a search passes the validation data whole to every candidate (it is not
        # sample-aligned with X: 15 sequences against 40)
        search = GridSearchCV(rnn, {"units": [3, 5]}, cv=2).fit(
            X, y, X_val=X_val, y_val=y_val, sample_weight=np.ones(len(X)))
        assert np.isfinite(search.best_estimator_.history_["val_loss"]).all()
        scores = cross_validate(rnn, X, y, cv=2, return_estimator=True,
                                params=dict(X_val=X_val, y_val=y_val,
                                            sample_weight=np.ones(len(X))))
        assert all(len(e.history_["val_loss"]) == 3 for e in scores["estimator"])
        assert all(np.isfinite(e.history_["val_loss"]).all() for e in scores["estimator"])
