"""Keras callbacks in skrnn's own training loop."""

import pickle

import keras
import numpy as np
import pytest
from helpers import ragged
from sklearn.model_selection import GridSearchCV

from skrnn import RNNClassifier, RNNRegressor, Seq2SeqTransformer

# 40 sequences in batches of 10: 4 updates an epoch; a constant rate unless a callback
# sets it
FAST = dict(units=4, epochs=3, batch_size=10, conv_filters=None, lr_schedule="constant",
            random_state=0)


pytestmark = pytest.mark.usefixtures("quiet_convergence")


class Recorder(keras.callbacks.Callback):
    """Counts every hook and keeps what it was given."""

    def __init__(self, stop_after_batch=None):
        super().__init__()
        self.calls, self.epoch_logs, self.stop_after_batch = [], [], stop_after_batch

    def on_train_begin(self, logs=None):
        self.calls.append("train_begin")
        self.had_optimizer = self.model.optimizer is not None

    def on_epoch_begin(self, epoch, logs=None):
        self.calls.append(f"epoch_begin {epoch}")

    def on_train_batch_begin(self, batch, logs=None):
        self.calls.append(f"batch_begin {batch}")

    def on_train_batch_end(self, batch, logs=None):
        self.calls.append(f"batch_end {batch}")
        self.batch_loss = logs["loss"]
        if batch == self.stop_after_batch:
            self.model.stop_training = True

    def on_epoch_end(self, epoch, logs=None):
        self.calls.append(f"epoch_end {epoch}")
        self.epoch_logs.append(dict(logs))

    def on_train_end(self, logs=None):
        self.calls.append("train_end")


def test_hooks_logs_and_model_as_in_keras_fit():
    X, y = ragged(40)
    X_val, y_val = ragged(10, seed=1)
    recorder = Recorder()
    clf = RNNClassifier(**FAST, callbacks=[recorder]).fit(X, y, X_val=X_val, y_val=y_val)
    per_epoch = lambda e: [f"epoch_begin {e}", *[f"{h} {b}" for b in range(4)  # noqa: E731
                                                 for h in ("batch_begin", "batch_end")],
                           f"epoch_end {e}"]
    assert recorder.calls == ["train_begin", *per_epoch(0), *per_epoch(1), *per_epoch(2),
                              "train_end"]
    assert set(recorder.epoch_logs[0]) == {"loss", "val_loss", "val_accuracy",
                                           "learning_rate"}
    for key in ("loss", "val_loss", "learning_rate"):
        assert [logs[key] for logs in recorder.epoch_logs] == pytest.approx(
            clf.history_[key])
    assert recorder.had_optimizer and np.isfinite(recorder.batch_loss)
    # detached afterwards: the estimator (and its callbacks) clone and pickle
    assert recorder.model is None and "optimizer" not in clf.model_.__dict__
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(clf)).predict(X), clf.predict(X))


def test_stop_training_from_a_batch_ends_the_fit():
    X, y = ragged(40)
    recorder = Recorder(stop_after_batch=1)
    clf = RNNClassifier(**FAST, callbacks=[recorder]).fit(X, y)
    assert clf.n_iter_ == 1 and recorder.calls[-3:] == ["batch_end 1", "epoch_end 0",
                                                        "train_end"]


def test_keras_early_stopping_restores_its_best_weights():
    X, y = ragged(40)
    # min_delta=10: no epoch after the first counts as an improvement
    stop = keras.callbacks.EarlyStopping(monitor="loss", patience=1, min_delta=10,
                                         restore_best_weights=True)
    clf = RNNClassifier(**{**FAST, "epochs": 10}, callbacks=[stop]).fit(X, y)
    one_epoch = RNNClassifier(**{**FAST, "epochs": 1}).fit(X, y)
    assert clf.n_iter_ == 2 and stop.stopped_epoch == 1
    np.testing.assert_allclose(clf.predict_proba(X), one_epoch.predict_proba(X), rtol=1e-5)


def test_callbacks_that_set_the_learning_rate():
    X, y = ragged(40)
    schedule = keras.callbacks.LearningRateScheduler(lambda epoch, lr: 0.01 / (epoch + 1))
    clf = RNNClassifier(**FAST, callbacks=[schedule]).fit(X, y)
    assert clf.history_["learning_rate"] == pytest.approx([0.01, 0.005, 0.01 / 3])
    plateau = keras.callbacks.ReduceLROnPlateau(monitor="loss", factor=0.5, patience=0,
                                                min_delta=10)
    clf = RNNClassifier(**FAST, callbacks=[plateau]).fit(X, y)
    assert clf.history_["learning_rate"] == pytest.approx([1e-3, 1e-3, 5e-4])


def test_checkpoint_csv_log_tensorboard_and_nan(tmp_path):
    X = [x for x in ragged(40)[0]]
    y = np.array([x[:, 0].mean() for x in X])
    callbacks = [keras.callbacks.ModelCheckpoint(str(tmp_path / "net.keras")),
                 keras.callbacks.CSVLogger(str(tmp_path / "log.csv")),
                 keras.callbacks.TerminateOnNaN()]
    if keras.backend.backend() == "tensorflow":
        callbacks.append(keras.callbacks.TensorBoard(log_dir=str(tmp_path / "tb")))
    reg = RNNRegressor(**FAST, callbacks=callbacks).fit(X, y)
    saved = keras.saving.load_model(tmp_path / "net.keras")
    assert [w.shape for w in saved.get_weights()] == [w.shape for w in
                                                      reg.model_.get_weights()]
    rows = (tmp_path / "log.csv").read_text().strip().splitlines()
    # (CSVLogger adds empty val_ columns of its own when the logs have none)
    assert {"epoch", "learning_rate", "loss"} <= set(rows[0].split(",")) and len(rows) == 4
    if keras.backend.backend() == "tensorflow":
        assert list((tmp_path / "tb").rglob("events.out.tfevents*"))


def test_refused_callbacks_and_what_is_not_one():
    X, y = ragged(10)
    with pytest.raises(TypeError, match=r"callbacks\[1\] is a str, not a keras"):
        RNNClassifier(**FAST, callbacks=[Recorder(), "early"]).fit(X, y)
    backup = keras.callbacks.BackupAndRestore
    with pytest.raises(ValueError, match=r"callbacks\[1\]: BackupAndRestore\(save_freq=5\) "
                                         "is not supported: skrnn backs a fit up at the "
                                         "end of every epoch"):
        RNNClassifier(**FAST, callbacks=[Recorder(), backup("/tmp/x", save_freq=5)]).fit(X, y)
    with pytest.raises(ValueError, match="callbacks holds 2 BackupAndRestore callbacks"):
        RNNClassifier(**FAST, callbacks=[backup("/tmp/x"), backup("/tmp/y")]).fit(X, y)


def test_grid_search_clones_the_callbacks_and_seq2seq_calls_them():
    X, y = ragged(40)
    stop = keras.callbacks.EarlyStopping(monitor="loss", patience=1, min_delta=10)
    search = GridSearchCV(RNNClassifier(**FAST, callbacks=[stop]), {"units": [3, 5]},
                          cv=2).fit(X, y)
    assert search.best_estimator_.n_iter_ == 2 and stop.model is None  # copies ran
    recorder = Recorder()
    words = ["abc", "bca", "cab", "acb"] * 4
    Seq2SeqTransformer(units=4, epochs=2, batch_size=8, callbacks=[recorder]).fit(
        words, [w[::-1] for w in words])
    assert recorder.calls.count("epoch_end 1") == 1 and recorder.calls[-1] == "train_end"
