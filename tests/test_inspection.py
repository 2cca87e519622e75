"""skrnn.inspection: attributions over steps and channels, attention weights, and the
time-step permutation importance on ragged data."""

import copy
import subprocess
import sys

import numpy as np
import pytest
from scipy.stats import spearmanr

from skrnn import RNNClassifier, RNNRegressor, Seq2SeqTransformer
from skrnn.inspection import attention_weights, attributions

pytestmark = pytest.mark.xdist_group("inspection")

SMALL = dict(units=8, epochs=30, learning_rate=0.01, random_state=0)


def window_task(n=160, noise=0.05, seed=0, background=None):
    """Labels decided by steps 8-13 of channel 0 (+1 or -1 there); ``noise`` elsewhere
    (``background="signs"``: random +-1 everywhere else, so |x| says nothing)."""
    rng = np.random.RandomState(seed)
    X, y = [], rng.randint(0, 2, n)
    for label in y:
        length = rng.randint(20, 31)
        s = (rng.choice([-1.0, 1.0], size=(length, 2)) if background == "signs"
             else noise * rng.randn(length, 2))
        s[8:14, 0] = (1.0 if label else -1.0) + (0 if background else s[8:14, 0])
        X.append(s)
    return X, y


@pytest.fixture(scope="module")
def window_model():
    X, y = window_task()
    return RNNClassifier(**SMALL).fit(X, y), X  # the default LSTM-FCN front-end


def inside(scores, steps=slice(8, 14)):
    return sum(np.abs(a[steps]).sum() for a in scores) / sum(np.abs(a).sum() for a in scores)


def test_integrated_gradients_are_complete(window_model):
    """The scores of a sequence sum to f(x) - f(baseline) within 1 % (the default
    LSTM-FCN: ReLU and batch norm, 50 Gauss-Legendre points)."""
    clf, X = window_model
    X = X[:12]
    scores = attributions(clf, X)
    assert [s.shape for s in scores] == [x.shape for x in X]
    p = clf.predict_proba(X)
    p0 = clf.predict_proba([np.zeros_like(x) for x in X])
    k = p.argmax(1)
    gap = p[np.arange(len(X)), k] - p0[np.arange(len(X)), k]
    np.testing.assert_allclose([s.sum() for s in scores], gap, rtol=0.01, atol=1e-4)
    other = 1 - k  # any class, with a baseline of the user's
    base = [np.full_like(x, 0.3) for x in X]
    scores = attributions(clf, X, target=clf.classes_[other], baseline=base)
    gap = (p[np.arange(len(X)), other]
           - clf.predict_proba(base)[np.arange(len(X)), other])
    np.testing.assert_allclose([s.sum() for s in scores], gap, rtol=0.01, atol=1e-4)


@pytest.mark.parametrize("loss", ["squared_error", "quantile", "gaussian"])
def test_regressor_attributions_are_complete_in_the_targets_units(loss):
    rng = np.random.RandomState(0)
    X = [rng.randn(rng.randint(5, 15), 2) for _ in range(80)]
    y = 100 + 10 * np.array([s[:, 0].sum() for s in X])  # units far from standardised
    reg = RNNRegressor(units=6, epochs=5, conv_filters=None, loss=loss,
                       random_state=0).fit(X, y)
    zeros = [np.zeros_like(x) for x in X[:6]]
    if loss == "quantile":
        scores = attributions(reg, X[:6], quantile=0.9)
        gap = reg.predict_quantiles(X[:6])[:, -1] - reg.predict_quantiles(zeros)[:, -1]
    else:
        scores = attributions(reg, X[:6])
        gap = reg.predict(X[:6]) - reg.predict(zeros)
    np.testing.assert_allclose([s.sum() for s in scores], gap, rtol=0.01, atol=1e-3)


@pytest.mark.parametrize("method", ["integrated_gradients", "saliency", "occlusion"])
def test_attributions_fall_in_the_window_that_decides_the_label(window_model, method):
    clf, X = window_model
    assert clf.score(X, window_task()[1]) == 1.0
    scores = attributions(clf, X[:16], method=method, n_steps=16, window=3)
    assert inside(scores) >= 0.8, inside(scores)


def test_a_reinitialised_network_attributes_differently():
    """Adebayo et al. (2018)'s model-randomisation check: the trained network's
    attributions against the same network re-initialised (rank correlation of |scores|
    per sequence < 0.5). The background is random +-1 so that |x| cannot make the two
    agree."""
    X, y = window_task(n=200, background="signs")
    clf = RNNClassifier(**SMALL, conv_filters=(16, 16), conv_kernel_sizes=(5, 3)).fit(X, y)
    random = copy.deepcopy(clf)
    random._rebuild_network()  # the initial weights of the same specification
    random._step = None
    trained = attributions(clf, X[:16], n_steps=16)
    shuffled = attributions(random, X[:16], n_steps=16, target=clf.predict(X[:16]))
    rho = [spearmanr(np.abs(a).ravel(), np.abs(b).ravel())[0]
           for a, b in zip(trained, shuffled)]
    assert np.mean(rho) < 0.5, rho


def test_padding_neither_receives_nor_changes_an_attribution():
    rng = np.random.RandomState(1)
    X = [rng.randn(rng.randint(3, 25), 2) for _ in range(40)]
    y = np.array([s[:, 0].sum() > 0 for s in X])
    clf = RNNClassifier(units=6, epochs=2, conv_filters=(8,), conv_kernel_sizes=(3,),
                        random_state=0).fit(X, y)
    short, long = X[0][:4], X[1]
    together = attributions(clf, [short, long], n_steps=8)
    alone = attributions(clf, [short], n_steps=8)
    assert together[0].shape == (4, 2)
    np.testing.assert_allclose(together[0], alone[0], atol=1e-6)
    for method in ("saliency", "occlusion"):
        a = attributions(clf, [short, long], method=method)
        b = attributions(clf, [short], method=method, batch_size=1)
        np.testing.assert_allclose(a[0], b[0], atol=1e-6)


def test_tokens_tagging_and_what_is_passed_in():
    rng = np.random.RandomState(0)
    docs = [list(rng.choice(list("abcd"), rng.randint(3, 9))) for _ in range(60)]
    labels = ["a" in d[:2] for d in docs]
    clf = RNNClassifier(units=6, epochs=3, random_state=0).fit(docs, labels)
    kept = copy.deepcopy(docs[:4])
    for method in ("integrated_gradients", "saliency", "occlusion"):
        scores = attributions(clf, docs[:4], method=method, n_steps=8, window=2)
        assert [s.shape for s in scores] == [(len(d),) for d in docs[:4]]
    assert docs[:4] == kept
    # tagging: row t explains the output at step t; a forward network never looks ahead
    X = [rng.randn(rng.randint(4, 9), 2) for _ in range(40)]
    tags = [(x[:, 0] > 0).astype(int) for x in X]
    tagger = RNNClassifier(units=6, epochs=2, return_sequences=True,
                           random_state=0).fit(X, tags)
    X_before = [x.copy() for x in X[:3]]
    scores = attributions(tagger, X[:3], n_steps=8)
    assert [s.shape for s in scores] == [(len(x), len(x), 2) for x in X[:3]]
    for s in scores:
        assert np.abs(s[np.triu_indices(len(s), 1)]).max() < 1e-7  # future steps: 0
        assert np.abs(np.diagonal(s, axis1=0, axis2=1)).sum() > 0
    for a, b in zip(X[:3], X_before):
        np.testing.assert_array_equal(a, b)


def test_bad_requests_are_named():
    X, y = window_task(n=30)
    clf = RNNClassifier(units=4, epochs=1, conv_filters=None, random_state=0).fit(X, y)
    with pytest.raises(ValueError, match="method must be one of"):
        attributions(clf, X[:2], method="shap")
    with pytest.raises(ValueError, match="target 7 is not among the classes"):
        attributions(clf, X[:2], target=7)
    with pytest.raises(ValueError, match=r"baseline\[0\] has shape \(3, 2\)"):
        attributions(clf, X[:1], baseline=[np.zeros((3, 2))])
    with pytest.raises(ValueError, match="n_steps must be a positive integer"):
        attributions(clf, X[:1], n_steps=0)
    with pytest.raises(ValueError, match="contains NaN"):
        attributions(clf, [np.full((4, 2), np.nan)])
    with pytest.raises(TypeError, match="explains a fitted RNNClassifier"):
        attributions(object(), X[:1])
    with pytest.raises(ValueError, match="pooling='attention'"):
        attention_weights(clf, X[:1])


def test_attention_weights_of_pooling_and_of_a_seq2seq_decoder():
    X, y = window_task(n=120)
    clf = RNNClassifier(units=8, epochs=20, pooling="attention", conv_filters=None,
                        learning_rate=0.01, random_state=0).fit(X, y)
    weights = attention_weights(clf, X[:10])
    assert [w.shape for w in weights] == [(len(x),) for x in X[:10]]
    np.testing.assert_allclose([w.sum() for w in weights], 1.0, rtol=1e-5)
    # reversing a string: writing output t reads source T-1-t most
    rng = np.random.RandomState(0)
    src = ["".join(rng.choice(list("abcde"), rng.randint(3, 7))) for _ in range(300)]
    s2s = Seq2SeqTransformer(units=24, epochs=60, attention="dot", learning_rate=0.01,
                             random_state=0).fit(src, [s[::-1] for s in src])
    out = s2s.predict(src[:20])
    weights = attention_weights(s2s, src[:20])
    right = [w.argmax(1) == np.arange(len(s))[::-1] for w, s, o in
             zip(weights, src[:20], out) if w.shape == (len(s), len(s))]
    assert len(right) >= 15 and np.mean(np.concatenate(right)) > 0.8


BACKEND_SCRIPT = """
import sys, numpy as np, skrnn
from skrnn.inspection import attributions
est = skrnn.load(sys.argv[1])
X = list(np.load(sys.argv[2], allow_pickle=False)["X"])
out = {m: np.concatenate([a.ravel() for a in attributions(est, X, method=m, n_steps=8)])
       for m in ("integrated_gradients", "saliency", "occlusion")}
np.savez(sys.argv[3], **out)
"""


@pytest.mark.slow
def test_every_backend_attributes_the_same(tmp_path):
    from helpers import SUBPROCESS_ENV

    X, y = window_task(n=40)
    RNNClassifier(units=6, epochs=2, conv_filters=(8,), conv_kernel_sizes=(3,),
                  random_state=0).fit(X, y).save(tmp_path / "m.skrnn")
    np.savez(tmp_path / "x.npz", X=np.stack([x[:20] for x in X[:3]]))
    (tmp_path / "run.py").write_text(BACKEND_SCRIPT)
    results = {}
    for backend in ("tensorflow", "jax", "torch"):
        done = subprocess.run([sys.executable, str(tmp_path / "run.py"),
                               str(tmp_path / "m.skrnn"), str(tmp_path / "x.npz"),
                               str(tmp_path / f"{backend}.npz")],
                              env={**SUBPROCESS_ENV, "KERAS_BACKEND": backend},
                              capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr[-3000:]
        results[backend] = dict(np.load(tmp_path / f"{backend}.npz"))
    for backend in ("jax", "torch"):
        for key, value in results["tensorflow"].items():
            np.testing.assert_allclose(results[backend][key], value, atol=1e-5,
                                       err_msg=f"{backend} {key}")
