"""Fingerprints of a fixed set of fits: a digest of the weights and predictions each
gives, to check that a restructuring changed no number.

Run it on the commit before a change and on the change, on the same machine and
backend, and compare the two outputs line by line (``diff``)::

    KERAS_BACKEND=tensorflow python bench/fingerprints.py > before-tf.txt
    KERAS_BACKEND=jax python bench/fingerprints.py > before-jax.txt
    KERAS_BACKEND=torch python bench/fingerprints.py > before-torch.txt

Cases: the three estimators on ragged numeric data, tokens, truncated BPTT, a warm
start, ``partial_fit``, fixed validation data, a quantile loss, a backup resumed after
a fit stopped part-way, and a save/load round trip. Each line is
``case sha256(weights) sha256(predictions)``.
"""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
import warnings

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
warnings.simplefilter("ignore")


def _digest(arrays) -> str:
    h = hashlib.sha256()
    for a in arrays:
        a = np.asarray(a)
        if a.dtype == object:
            h.update(repr(a.tolist()).encode())
        else:
            h.update(str(a.dtype).encode() + str(a.shape).encode())
            h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()[:16]


def _weights(est):
    if getattr(est, "_step", None) is not None:
        est._step.sync_to_model()
    return [np.asarray(v.numpy()) for v in est.model_.variables]


def _flat(pred):
    if isinstance(pred, tuple):
        return [x for p in pred for x in _flat(p)]
    if isinstance(pred, list):
        return [np.asarray(p) if not isinstance(p, str) else np.array([p], object)
                for p in pred]
    return [np.asarray(pred)]


def cases():
    from keras.callbacks import BackupAndRestore

    from skrnn import RNNClassifier, RNNRegressor, Seq2SeqTransformer

    rng = np.random.RandomState(0)
    X = [rng.randn(rng.randint(4, 12), 2).astype("float32") for _ in range(40)]
    y = np.array([int(s[:, 0].sum() > 0) for s in X])
    yr = np.array([s[:, 1].mean() for s in X])
    tokens = [list(rng.choice(list("abcde"), rng.randint(3, 9))) for _ in range(40)]
    yt = np.array([int(t.count("a") > 1) for t in tokens])
    tags = [(s[:, 0] > 0).astype(int) for s in X]
    small = dict(units=6, epochs=3, random_state=0, batch_size=8)

    def c(name, est, fit, pred):
        return name, est, fit, pred

    yield c("classifier-ragged", RNNClassifier(conv_filters=(4,), conv_kernel_sizes=3,
                                               **small),
            lambda e: e.fit(X, y), lambda e: e.predict_proba(X))
    yield c("classifier-tokens", RNNClassifier(**small), lambda e: e.fit(tokens, yt),
            lambda e: e.predict_proba(tokens))
    yield c("classifier-tagging", RNNClassifier(return_sequences=True, cell="gru", **small),
            lambda e: e.fit(X, tags), lambda e: e.predict_proba(X))
    yield c("classifier-early-stopping",
            RNNClassifier(early_stopping=True, conv_filters=None, **small),
            lambda e: e.fit(X, y), lambda e: e.predict_proba(X))
    yield c("classifier-validation-data", RNNClassifier(conv_filters=None, **small),
            lambda e: e.fit(X[:30], y[:30], X_val=X[30:], y_val=y[30:]),
            lambda e: e.predict_proba(X))
    yield c("regressor-ragged", RNNRegressor(**small), lambda e: e.fit(X, yr),
            lambda e: e.predict(X))
    yield c("regressor-quantile", RNNRegressor(loss="quantile", **small),
            lambda e: e.fit(X, yr), lambda e: e.predict_quantiles(X))
    yield c("regressor-truncated", RNNRegressor(truncate_steps=4, cell="rnn", **small),
            lambda e: e.fit(X, yr), lambda e: e.predict(X))

    def warm(e):
        e.fit(X, yr)
        e.set_params(epochs=2)
        return e.fit(X, yr)

    yield c("regressor-warm-start", RNNRegressor(warm_start=True, **small), warm,
            lambda e: e.predict(X))

    def partial(e):
        for _ in range(3):
            e.partial_fit(X, y, classes=[0, 1])
        return e

    yield c("classifier-partial-fit", RNNClassifier(**small), partial,
            lambda e: e.predict_proba(X))

    def resumed(e):
        directory = tempfile.mkdtemp()

        class Stop(Exception):
            pass

        import keras

        class Kill(keras.callbacks.Callback):
            def on_epoch_end(self, epoch, logs=None):
                if epoch == 1:
                    raise Stop

        e.set_params(callbacks=[BackupAndRestore(directory), Kill()])
        try:
            e.fit(X, yr)
        except Stop:
            pass
        e.set_params(callbacks=[BackupAndRestore(directory)])
        return e.fit(X, yr)

    yield c("regressor-backup-resume", RNNRegressor(**small), resumed,
            lambda e: e.predict(X))

    def saved(e):
        import skrnn

        e.fit(X, y)
        path = os.path.join(tempfile.mkdtemp(), "m.skrnn")
        e.save(path)
        return skrnn.load(path)

    yield c("classifier-save-load", RNNClassifier(**small), saved,
            lambda e: e.predict_proba(X))

    src = ["".join(rng.choice(list("abc"), rng.randint(2, 6))) for _ in range(40)]
    tgt = [s[::-1] for s in src]
    s2s = dict(units=8, epochs=3, random_state=0, batch_size=8, embedding_dim=6)
    yield c("seq2seq-strings", Seq2SeqTransformer(**s2s), lambda e: e.fit(src, tgt),
            lambda e: e.predict(src))
    series = [rng.randn(10, 1).astype("float32").cumsum(0) for _ in range(40)]
    Xs = [s[:7] for s in series]
    Ys = [s[7:] for s in series]
    yield c("seq2seq-numeric-gaussian", Seq2SeqTransformer(loss="gaussian", n_paths=5,
                                                           **s2s),
            lambda e: e.fit(Xs, Ys), lambda e: e.predict(Xs, return_std=True))

    def s2s_warm(e):
        e.fit(Xs, Ys)
        return e.fit(Xs, Ys)

    yield c("seq2seq-warm-start", Seq2SeqTransformer(warm_start=True, early_stopping=True,
                                                     **s2s),
            s2s_warm, lambda e: e.predict(Xs))


def main(selected=()):
    import keras

    print(f"# backend {keras.backend.backend()}", flush=True)
    for name, est, fit, pred in cases():
        if selected and name not in selected:
            continue
        est = fit(est)
        print(f"{name} {_digest(_weights(est))} {_digest(_flat(pred(est)))}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
