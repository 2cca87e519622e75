"""Training cases run identically on every Keras backend (used by test_backends.py).

Each case builds a model from a spec, sets initial weights drawn by NumPy from a fixed
seed (the same on every backend; Keras' seeded initialisers are not), and trains it with
skrnn's loop (SGD, gradient clipping, fixed batch order). The TensorFlow run in the test
process and the runs in subprocesses start from the same weights, so their final weights
must agree.

As a script:

- ``python tests/backend_cases.py OUT.npz`` trains every case, writes the final weights
  to ``OUT.npz`` and runs the estimator workflow checks of :func:`check_estimators`;
- ``... OUT.npz mirrored`` (TensorFlow, two logical CPU devices) trains the cases of
  ``UNDER_STRATEGY`` under ``MirroredStrategy``, then fits :func:`strategy_estimator`
  under it and pickles it to ``OUT.npz.pkl``;
- ``... OUT.npz data_parallel`` (JAX, the devices XLA_FLAGS simulates) trains every
  case under ``DataParallel``, runs :func:`check_estimators` (one device), and fits and
  pickles :func:`strategy_estimator` under ``DataParallel``;
- every mode also runs :func:`check_backup` (under its strategy), and the torch and
  JAX modes compare the fused recurrent kernels with Keras' loops
  (``fused_cases.compare_fused``, written to ``OUT.npz.fused.json``);
- ``python tests/backend_cases.py worker INDEX PORT0,PORT1 OUT`` is one worker of a
  two-worker ``MultiWorkerMirroredStrategy`` on localhost fitting
  :func:`strategy_estimator`; ``... OUT BACKUP_DIR [kill]`` fits
  :func:`backup_estimator` backed up to ``BACKUP_DIR`` (see :func:`_worker`).
"""

from __future__ import annotations

import json
import os
import pickle
import sys
import warnings

import numpy as np


def _ragged(rng, n, low, high, features=2):
    return [rng.randn(rng.randint(low, high + 1), features).astype("float32")
            for _ in range(n)]


def _cases():
    from skrnn.data import Seq2SeqSet, SupervisedSet
    from skrnn.models import ModelSpec
    from skrnn.models._seq2seq import Seq2SeqSpec

    rng = np.random.RandomState(0)

    def spec(**kw):
        base = dict(input_kind="numeric", n_features=2, vocabulary_size=None,
                    embedding_dim=4, cell="lstm", units=(6,), bidirectional=False,
                    dropout=0.0, recurrent_dropout=0.0, activation="tanh",
                    pooling="last", return_sequences=False, n_outputs=3, seed=0)
        base.update(kw)
        return ModelSpec(**base)

    def ones(x):
        return np.ones(len(x), np.float32)

    cases = {}
    x = _ragged(rng, 30, 3, 20)
    y = rng.randint(0, 3, 30)
    cases["masked_lstm"] = (spec(), "classification", SupervisedSet(
        x, [len(s) for s in x], y, ones(x), False), dict(batch_size=8))
    x = [rng.randn(6, 2).astype("float32") for _ in range(16)]
    cases["equal_gru_mean"] = (spec(cell="gru", pooling="mean", n_outputs=1),
                               "regression", SupervisedSet(
        x, [6] * 16, rng.randn(16, 1).astype("float32"), ones(x), False),
        dict(batch_size=8))
    x = _ragged(rng, 12, 5, 15)
    y = [rng.randn(len(s), 1).astype("float32") for s in x]
    cases["truncated_rnn_per_step"] = (
        spec(cell="rnn", return_sequences=True, n_outputs=1), "regression",
        SupervisedSet(x, [len(s) for s in x], y, [np.ones(len(s), np.float32) for s in x],
                      True), dict(batch_size=6, truncate_steps=4))
    x = _ragged(rng, 12, 5, 15)
    cases["truncated_lstm_last"] = (spec(n_outputs=2), "classification", SupervisedSet(
        x, [len(s) for s in x], rng.randint(0, 2, 12), ones(x), False),
        dict(batch_size=6, truncate_steps=4))
    tokens = [rng.randint(2, 9, rng.randint(2, 9)).astype("int32") for _ in range(16)]
    cases["tokens_bidirectional_attention"] = (
        spec(input_kind="tokens", n_features=None, vocabulary_size=9, cell="gru",
             bidirectional=True, pooling="attention", n_outputs=2), "classification",
        SupervisedSet(tokens, [len(t) for t in tokens], rng.randint(0, 2, 16),
                      ones(tokens), False), dict(batch_size=8))
    x = _ragged(rng, 8, 4, 9)
    cases["one_clipped_update"] = (spec(), "classification", SupervisedSet(
        x, [len(s) for s in x], rng.randint(0, 3, 8), ones(x), False),
        dict(batch_size=8, learning_rate=1.0, global_clipnorm=0.05))

    def s2s_spec(**kw):
        base = dict(source_kind="tokens", n_source_features=None,
                    source_vocabulary_size=9, target_kind="tokens",
                    target_vocabulary_size=8, n_target_features=None, embedding_dim=4,
                    cell="lstm", units=(6,), bidirectional=False, dropout=0.0,
                    attention="additive", seed=0)
        base.update(kw)
        return Seq2SeqSpec(**base)

    target = [rng.randint(2, 6, rng.randint(1, 6)).astype("int32") for _ in range(16)]
    cases["seq2seq_tokens_additive"] = (s2s_spec(), "classification", Seq2SeqSet(
        tokens, [len(t) for t in tokens], target, "tokens", 7, 6, "tokens"),
        dict(batch_size=8))
    x = _ragged(rng, 16, 3, 8)
    target = [rng.randn(rng.randint(1, 5), 1).astype("float32") for _ in range(16)]
    cases["seq2seq_numeric_dot_stop"] = (
        s2s_spec(source_kind="numeric", n_source_features=2, source_vocabulary_size=None,
                 target_kind="numeric", target_vocabulary_size=None, n_target_features=1,
                 cell="gru", attention="dot"), "regression_with_stop",
        Seq2SeqSet(x, [len(s) for s in x], target, "numeric", None, None, "numeric"),
        dict(batch_size=8))
    return cases


# The cases also run under a strategy (fewer: each costs compile time).
UNDER_STRATEGY = ("masked_lstm", "truncated_lstm_last", "one_clipped_update",
                  "seq2seq_tokens_additive")


def train_cases(strategy=None, names=None) -> dict:
    """``{name: [initial weights, final weights, history]}`` after two epochs of each
    case (of those in ``names``)."""
    import keras

    from skrnn import training
    from skrnn.models import build_model
    from skrnn.models._seq2seq import Seq2SeqSpec, build_seq2seq

    results = {}
    for seed, (name, (spec, task, data, kw)) in enumerate(_cases().items()):
        if names is not None and name not in names:
            continue
        seq2seq = isinstance(spec, Seq2SeqSpec)
        with training.strategy_scope(strategy):
            model = build_seq2seq(spec)["train"] if seq2seq else build_model(spec)
        rng = np.random.RandomState(seed)
        model.set_weights([rng.uniform(-0.3, 0.3, w.shape).astype(w.dtype)
                           for w in model.get_weights()])
        start = model.get_weights()
        clipping = dict(global_clipnorm=kw.get("global_clipnorm", 1.0))
        optimizer = keras.optimizers.SGD(learning_rate=kw.get("learning_rate", 0.1))
        step = training.make_step(model, optimizer, task, data.per_step, clipping,
                                  seq2seq=seq2seq, strategy=strategy)
        history = training.new_history()
        loop = training.LoopSettings(epochs=1 if "clipped" in name else 2,
                                     batch_size=kw["batch_size"],
                                     truncate_steps=kw.get("truncate_steps"))
        training.run_epochs(step, data, loop, rng=np.random.RandomState(1),
                            history=history)
        results[name] = [start, model.get_weights(), history]
    return results


def flatten(results, which: int) -> dict:
    return {f"{name}/{i}": w for name, r in results.items() for i, w in enumerate(r[which])}


def check_estimators():
    """The estimator workflows on the active backend (assertions)."""
    from sklearn.base import clone

    from skrnn import RNNClassifier, RNNRegressor, Seq2SeqTransformer

    rng = np.random.RandomState(0)
    X = _ragged(rng, 64, 3, 8)
    y = np.array([s[:, 0].sum() > 0 for s in X]).astype(int)
    clf = RNNClassifier(units=8, epochs=4, learning_rate=0.02, early_stopping=True,
                        n_iter_no_change=5, random_state=0).fit(X, y)
    assert np.isfinite(clf.history_["val_loss"]).all()
    proba = clf.predict_proba(X)
    import keras

    if keras.backend.backend() == "jax":  # a small ragged fit: no compile per length
        assert {view for _, view in clf._step._functions} == {"masked"}, clf._step._functions
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_allclose(restored.predict_proba(X), proba, rtol=1e-6, atol=1e-7)
    clf.set_params(warm_start=True, epochs=1).fit(X, y)  # continues, same step
    assert clf.n_iter_ == 5

    X_bad = [rng.randn(6, 1) for _ in range(64)]
    X_bad[40] = np.full((6, 1), 1e19)  # the relu recurrence overflows float32 here
    y_bad = rng.randn(64)
    diverging = RNNRegressor(cell="rnn", activation="relu", units=4, epochs=3, batch_size=8,
                             scaling=None, conv_filters=None, random_state=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        bad = clone(diverging).fit(X_bad, y_bad)
    assert any("Non-finite" in str(w.message) for w in caught), caught
    assert bad.n_iter_ == 1 and all(np.isfinite(w).all() for w in bad.model_.get_weights())
    if keras.backend.backend() == "torch":  # deciding on the device (a GPU's way): the same
        from skrnn.training._torch import TorchStep

        TorchStep.defer_checks = True
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                deferred = clone(diverging).fit(X_bad, y_bad)
        finally:
            TorchStep.defer_checks = False
        assert deferred.n_iter_ == 1
        assert deferred.history_["non_finite"] == bad.history_["non_finite"]
        for a, b in zip(deferred.model_.get_weights(), bad.model_.get_weights()):
            np.testing.assert_array_equal(a, b)

    s2s = Seq2SeqTransformer(units=8, epochs=2, random_state=0, decoding="beam",
                             beam_width=2).fit(["abc", "ba", "cab"] * 5, ["cba", "ab", "bac"] * 5)
    assert all(isinstance(p, str) for p in s2s.predict(["abc", "zz"]))


def check_held():
    """The training set held on the device (``skrnn/training/_resident.py``; forced, as a
    CPU has no accelerator) trains to the same weights, bit for bit, as batches padded on
    the host: numeric sequences with one target each (equal-length batches among them)
    and token sequences tagged step by step. Without an accelerator nothing is held."""
    from skrnn import RNNClassifier, RNNRegressor
    from skrnn.training import _resident
    from skrnn.training._step import Step

    rng = np.random.RandomState(1)
    X = _ragged(rng, 48, 3, 6)
    words = [list(rng.choice(list("abcd"), rng.randint(2, 7))) for _ in range(40)]
    fits = [(RNNRegressor(units=4, epochs=2, batch_size=8, random_state=0),
             X, [s[:, 0].sum() for s in X]),
            (RNNClassifier(units=4, epochs=2, batch_size=8, return_sequences=True,
                           bidirectional=True, random_state=0),
             words, [[w == "a" for w in s] for s in words])]
    for estimator, inputs, targets in fits:
        host = clone_fit(estimator, inputs, targets)
        assert _resident.HELD == {"sets": 0, "batches": 0}, _resident.HELD
        Step.keep_on_device = True
        try:
            held = clone_fit(estimator, inputs, targets)
        finally:
            Step.keep_on_device = None
        assert _resident.HELD["sets"] == 1, _resident.HELD  # once per fit
        assert _resident.HELD["batches"] == 2 * -(-len(inputs) // 8), _resident.HELD
        _resident.HELD.update(sets=0, batches=0)
        for a, b in zip(host.model_.get_weights(), held.model_.get_weights()):
            np.testing.assert_array_equal(a, b)


def clone_fit(estimator, X, y):
    from sklearn.base import clone

    return clone(estimator).fit(X, y)


def backup_estimator(strategy=None, **kw):
    """What :func:`check_backup` and test_backup's lost worker fit: dropout, early
    stopping on a split and the plateau decay, over 6 epochs."""
    from skrnn import RNNClassifier

    params = dict(units=6, epochs=6, dropout=0.2, early_stopping=True, n_iter_no_change=4,
                  learning_rate=0.2, batch_size=8, conv_filters=None, random_state=0)
    return RNNClassifier(**{**params, **kw}, strategy=strategy)


def check_backup(strategy=None):
    """A fit that failed after epoch 3 resumes from its ``BackupAndRestore`` backup to
    the weights and history of the uninterrupted fit, bit for bit (assertions)."""
    import tempfile

    from helpers import assert_same_fit, backup_round_trip

    X, y = strategy_data()

    def make(**kw):
        return backup_estimator(strategy, **kw)

    with warnings.catch_warnings(), tempfile.TemporaryDirectory() as folder:
        warnings.simplefilter("ignore")
        assert_same_fit(backup_round_trip(make, X, y, folder + "/b", at=3), make().fit(X, y))


def strategy_data():
    rng = np.random.RandomState(3)
    X = _ragged(rng, 40, 3, 10)
    return X, np.array([s[:, 0].sum() > 0 for s in X]).astype(int)


def strategy_estimator(strategy):
    """Truncated BPTT and early stopping under ``strategy`` (None: one device)."""
    from skrnn import RNNClassifier

    X, y = strategy_data()
    return RNNClassifier(units=6, epochs=3, batch_size=8, optimizer="sgd",
                         learning_rate=0.1, global_clipnorm=0.5, truncate_steps=4,
                         early_stopping=True, n_iter_no_change=3, random_state=0,
                         strategy=strategy).fit(X, y)


def _worker(index, ports, out, backup_dir=None, kill=None):
    """One worker; with ``backup_dir``, :func:`backup_estimator` (without dropout) backed
    up there, and with ``kill``, worker 1 kills itself (SIGKILL) at the start of epoch 4."""
    import json
    import os

    os.environ["TF_CONFIG"] = json.dumps({
        "cluster": {"worker": [f"localhost:{p}" for p in ports.split(",")]},
        "task": {"type": "worker", "index": int(index)}})
    if backup_dir is None:
        clf = strategy_estimator("multi_worker")
    else:
        import signal

        import keras

        class Kill(keras.callbacks.Callback):
            def on_epoch_begin(self, epoch, logs=None):
                if kill and int(index) == 1 and epoch == 3:
                    os.kill(os.getpid(), signal.SIGKILL)

        warnings.simplefilter("ignore")
        clf = backup_estimator("multi_worker", dropout=0.0, callbacks=[
            keras.callbacks.BackupAndRestore(backup_dir), Kill()]).fit(*strategy_data())
        np.save(out + ".resumed.npy", [e["epoch"] for e in clf.history_["resumed"]])
    np.savez(out, *clf.model_.get_weights())
    if int(index) == 0 and backup_dir is None:  # the chief returns the fitted estimator
        with open(out + ".pkl", "wb") as f:
            pickle.dump(clf, f)


def _strategy(mode):
    if mode == "mirrored":
        import tensorflow as tf

        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
        return tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    import keras

    return keras.distribution.DataParallel()


if __name__ == "__main__":
    if sys.argv[1] == "worker":
        _worker(*sys.argv[2:])
        sys.exit(0)
    out, mode = sys.argv[1], (sys.argv[2] if len(sys.argv) > 2 else None)
    strategy = _strategy(mode) if mode else None
    names = UNDER_STRATEGY if mode == "mirrored" else None
    np.savez(out, **flatten(train_cases(strategy, names), 1))
    if mode != "mirrored":
        from fused_cases import compare_fused

        # JAX on a CPU has no fused kernel: its pure-JAX twin stands in (the cases only:
        # training every case through it too cost a minute of the suite's budget).
        if mode == "data_parallel":
            os.environ["SKRNN_FUSED_KERNELS"] = "reference"
        with open(out + ".fused.json", "w") as f:
            json.dump(compare_fused(), f)
        check_estimators()
        check_held()
    check_backup(strategy)
    if strategy is not None:
        with open(out + ".pkl", "wb") as f:
            pickle.dump(strategy_estimator(strategy), f)
    print("backend cases ok")
