"""A fit backed up by ``keras.callbacks.BackupAndRestore`` resumes where it stopped.

The fits below run with dropout, early stopping on a validation split and the plateau
decay of the learning rate, so everything the loop carries between epochs (weights,
optimizer moments, dropout seeds, the shuffling stream, the best epoch and its weights,
the epochs waited, the decayed rate) must come back from the backup for the resumed fit
to end bit-identical to the uninterrupted one. JAX and PyTorch run the same round trip
in ``backend_cases.check_estimators``.
"""

import os
import signal
import subprocess
import sys
import textwrap
import warnings

import keras
import numpy as np
import pytest
from helpers import SUBPROCESS_ENV, assert_same_fit, backup_round_trip, free_ports, ragged
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import cross_validate

from skrnn import RNNClassifier, RNNRegressor, Seq2SeqTransformer

HERE = os.path.dirname(__file__)
CLASSIFIER = dict(units=6, epochs=7, dropout=0.2, early_stopping=True, n_iter_no_change=4,
                  learning_rate=0.2, batch_size=8, conv_filters=None, random_state=0)


pytestmark = pytest.mark.usefixtures("quiet_convergence")


@pytest.fixture(scope="module")
def whole():
    """The classifier's uninterrupted fit."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return classifier().fit(*data(classifier))


def classifier(**kw):
    return RNNClassifier(**{**CLASSIFIER, **kw})


def regressor(**kw):
    return RNNRegressor(**{**dict(units=4, epochs=6, n_iter_no_change=2, batch_size=8,
                                  random_state=0), **kw})


def seq2seq(**kw):
    return Seq2SeqTransformer(**{**dict(units=8, epochs=5, batch_size=8, random_state=0),
                                 **kw})


def data(make):
    if make is seq2seq:
        words = ["abc", "ba", "cab", "bca", "ab", "cc"] * 4
        return words, [w[::-1] for w in words]
    X, labels = ragged(48)
    return X, labels if make is classifier else np.array([x[:, 0].mean() for x in X])


@pytest.mark.parametrize("make", [classifier, regressor, seq2seq])
def test_a_failed_fit_resumes_to_the_uninterrupted_fit(make, tmp_path, request):
    X, y = data(make)
    whole = request.getfixturevalue("whole") if make is classifier else make().fit(X, y)
    if make is classifier:  # the state that must come back is there to come back
        assert len(set(whole.history_["learning_rate"])) > 1  # decayed on a plateau
        assert whole.best_epoch_ < whole.n_iter_  # early stopping restored the best
    resumed = backup_round_trip(make, X, y, str(tmp_path / "backup"), at=3)
    assert_same_fit(resumed, whole)
    assert resumed.history_["epoch"] == list(range(1, whole.n_iter_ + 1))


def test_without_the_backup_the_refit_starts_over(tmp_path):
    """The test above can fail: a refit that ignored the backup trains from epoch 1."""
    X, y = data(classifier)
    backup = str(tmp_path / "b")
    keep = keras.callbacks.BackupAndRestore(backup, delete_checkpoint=False)
    classifier(epochs=3, callbacks=[keep]).fit(X, y)
    assert os.listdir(backup) == ["skrnn-backup.npz"]  # kept after the fit
    # the same settings but epochs: the backup continues it (epochs may change)
    longer = classifier(epochs=5, callbacks=[keep]).fit(X, y)
    assert longer.history_["resumed"] == [{"epoch": 3}] and longer.n_iter_ == 5
    fresh = classifier(epochs=5).fit(X, y)
    assert fresh.history_["resumed"] == []
    assert_same_fit(longer, fresh)


def test_a_backup_of_another_fit_is_refused(tmp_path):
    X, y = data(classifier)
    backup = str(tmp_path / "b")
    keep = keras.callbacks.BackupAndRestore(backup, delete_checkpoint=False)
    classifier(epochs=2, callbacks=[keep]).fit(X, y)
    path = os.path.join(backup, "skrnn-backup.npz")
    before = open(path, "rb").read()
    other_settings = classifier(epochs=2, units=5, callbacks=[keep])
    with pytest.raises(ValueError, match=r"The backup in .* was made by a fit with other "
                                         "settings, data or starting epoch"):
        other_settings.fit(X, y)
    assert not hasattr(other_settings, "model_")
    with pytest.raises(ValueError, match="was made by a fit with other settings, data"):
        classifier(epochs=2, callbacks=[keep]).fit(X[:-1], y[:-1])
    assert open(path, "rb").read() == before  # never overwritten


def test_the_previous_backup_is_read_when_the_last_is_damaged(tmp_path, whole):
    X, y = data(classifier)
    backup = str(tmp_path / "b")
    double = keras.callbacks.BackupAndRestore(backup, double_checkpoint=True)

    class Fail(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            if epoch == 4:
                raise RuntimeError("killed")

    with pytest.raises(RuntimeError):
        classifier(callbacks=[double, Fail()]).fit(X, y)
    with open(os.path.join(backup, "skrnn-backup.npz"), "wb") as f:
        f.write(b"half a file")
    resumed = classifier(callbacks=[double]).fit(X, y)
    assert resumed.history_["resumed"] == [{"epoch": 3}]  # the one before the last
    assert_same_fit(resumed, whole)
    with pytest.raises(RuntimeError):  # without double_checkpoint: a clear error
        classifier(callbacks=[keras.callbacks.BackupAndRestore(backup), Fail()]).fit(X, y)
    with open(os.path.join(backup, "skrnn-backup.npz"), "wb") as f:
        f.write(b"half a file")
    with pytest.raises(ValueError, match="The backup of this fit cannot be read .*Delete "
                                         "the backup_dir"):
        classifier(callbacks=[keras.callbacks.BackupAndRestore(backup)]).fit(X, y)


def test_ctrl_c_keeps_the_backup(tmp_path, whole):
    X, y = data(classifier)
    backup = str(tmp_path / "b")

    class CtrlC(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch

        def on_train_batch_begin(self, batch, logs=None):
            if self.epoch == 2 and batch == 1:
                raise KeyboardInterrupt

    with pytest.warns(RuntimeWarning, match="interrupted"):
        stopped = classifier(callbacks=[keras.callbacks.BackupAndRestore(backup),
                                        CtrlC()]).fit(X, y)
    assert stopped.n_iter_ == 2 and os.path.exists(backup)
    resumed = classifier(callbacks=[keras.callbacks.BackupAndRestore(backup)]).fit(X, y)
    assert_same_fit(resumed, whole)


def test_cross_validation_with_a_backup_dir(tmp_path):
    """Clones fit one after another; each removes its backup when it ends."""
    X, y = data(classifier)
    backup = keras.callbacks.BackupAndRestore(str(tmp_path / "b"))
    fits = cross_validate(classifier(epochs=2, callbacks=[backup]), X, y, cv=2,
                          return_estimator=True)["estimator"]
    assert [f.history_["resumed"] for f in fits] == [[], []]
    assert not (tmp_path / "b").exists()


SCRIPT = textwrap.dedent("""
    import os, signal, sys, warnings
    warnings.simplefilter("ignore")
    import keras
    import numpy as np
    from helpers import ragged
    from skrnn import RNNClassifier

    class Kill(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            if epoch == 4:
                os.kill(os.getpid(), signal.SIGKILL)

    X, y = ragged(48)
    callbacks = [keras.callbacks.BackupAndRestore(sys.argv[1])]
    if sys.argv[3] == "kill":
        callbacks.append(Kill())
    clf = RNNClassifier(callbacks=callbacks, **{params}).fit(X, y)
    np.savez(sys.argv[2], *clf.model_.get_weights(),
             resumed=np.array([e["epoch"] for e in clf.history_["resumed"]]))
""")


@pytest.mark.slow
def test_a_killed_process_resumes_when_started_again(tmp_path, whole):
    """SIGKILL at the start of epoch 5: started again, the fit goes on from epoch 5 and
    ends with the weights of the fit that was never killed (computed here)."""
    script = tmp_path / "fit.py"
    script.write_text(SCRIPT.format(params=repr(CLASSIFIER)))
    env = {**SUBPROCESS_ENV, "KERAS_BACKEND": "tensorflow",
           "PYTHONPATH": HERE + os.pathsep + SUBPROCESS_ENV["PYTHONPATH"]}

    def run(mode):
        return subprocess.run([sys.executable, str(script), str(tmp_path / "b"),
                               str(tmp_path / "out.npz"), mode], env=env,
                              capture_output=True, text=True, timeout=300)

    killed = run("kill")
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-3000:]
    assert not (tmp_path / "out.npz").exists()
    again = run("resume")
    assert again.returncode == 0, again.stderr[-3000:]
    out = np.load(tmp_path / "out.npz")
    assert out["resumed"].tolist() == [4]
    for i, w in enumerate(whole.model_.get_weights()):
        np.testing.assert_allclose(out[f"arr_{i}"], w, rtol=1e-6, atol=1e-7)


@pytest.mark.slow
def test_a_lost_worker_and_the_restarted_cluster_resume(tmp_path):
    """Two-worker MultiWorkerMirroredStrategy: worker 1 is killed (SIGKILL) at the start
    of epoch 4, worker 0 then fails (its all-reduce loses its peer); both started again
    resume from the chief's backup and end with the weights of one-device training
    (without dropout, whose masks two workers draw otherwise than one device: the
    dropout seeds' backup under a strategy is checked under MirroredStrategy, in
    backend_cases.check_backup)."""
    from backend_cases import backup_estimator, strategy_data

    backup = str(tmp_path / "b")

    def cluster(*mode):
        ports = ",".join(str(p) for p in free_ports(2))
        workers = [subprocess.Popen(
            [sys.executable, os.path.join(HERE, "backend_cases.py"), "worker", str(i),
             ports, str(tmp_path / f"w{i}"), backup, *mode], cwd=tmp_path,
            env={**SUBPROCESS_ENV, "KERAS_BACKEND": "tensorflow"}, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True) for i in (0, 1)]
        ended = []
        for worker in workers:
            try:
                _, err = worker.communicate(timeout=240)
            except subprocess.TimeoutExpired:  # a survivor left waiting is stopped too
                worker.kill()
                _, err = worker.communicate()
            ended.append((worker.returncode, err[-3000:]))
        return ended

    (chief, chief_err), (lost, lost_err) = cluster("kill")
    assert lost == -signal.SIGKILL, lost_err
    assert chief != 0, chief_err
    assert os.path.exists(os.path.join(backup, "skrnn-backup.npz"))
    for code, err in cluster():
        assert code == 0, err
    assert not os.path.exists(backup)
    assert [np.load(tmp_path / f"w{i}.resumed.npy").tolist() for i in (0, 1)] == [[3], [3]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        one_device = backup_estimator(dropout=0.0).fit(*strategy_data()).model_.get_weights()
    ends = [np.load(tmp_path / f"w{i}.npz") for i in (0, 1)]
    for i, w in enumerate(one_device):
        np.testing.assert_array_equal(ends[0][f"arr_{i}"], ends[1][f"arr_{i}"])
        np.testing.assert_allclose(ends[0][f"arr_{i}"], w, rtol=1e-4, atol=1e-5)
