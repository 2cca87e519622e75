"""Seq2SeqTransformer (issue 4, in progress): workflows that already work."""

import pickle

import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV

from skrnn import Seq2SeqTransformer
from skrnn.datasets import make_reversal

FAST = dict(units=16, epochs=12, learning_rate=0.01, random_state=0)


@pytest.fixture(scope="module")
def reversal():
    src, tgt = make_reversal(800, 3, 5, alphabet="abcd", random_state=0)
    model = Seq2SeqTransformer(**FAST).fit(src, tgt)
    return model, src, tgt


def test_strings_in_strings_out_and_learns(reversal):
    model, src, tgt = reversal
    test_src, test_tgt = make_reversal(100, 3, 5, alphabet="abcd", random_state=1)
    pred = model.predict(test_src)
    assert all(isinstance(p, str) for p in pred)
    assert model.score(test_src, test_tgt) > 0.5
    assert model.transform(test_src[:3]) == pred[:3]
    assert model.predict(["abzz"])[0] is not None  # unseen characters: OOV, no error


def test_beam_width_one_equals_greedy_and_beam_decodes(reversal):
    model, src, _ = reversal
    greedy = model.predict(src[:30])
    try:
        assert model.set_params(decoding="beam", beam_width=1).predict(src[:30]) == greedy
        assert len(model.set_params(beam_width=3).predict(src[:5])) == 5
    finally:
        model.set_params(decoding="greedy", beam_width=4)


def test_pickle_round_trip_identical(reversal):
    model, src, _ = reversal
    restored = pickle.loads(pickle.dumps(model))
    assert restored.predict(src[:40]) == model.predict(src[:40])


def test_token_lists_and_one_to_many_and_numeric_horizon():
    X = [["x", "y"], ["y"], ["x", "x", "y"]] * 10
    Y = [["B", "A"], ["A"], ["C"]] * 10
    out = Seq2SeqTransformer(units=8, epochs=2, random_state=0).fit(X, Y).predict(X[:3])
    assert all(isinstance(o, list) for o in out)
    vectors = np.random.RandomState(0).randn(30, 4)
    words = ["ab", "ba", "abc"] * 10
    one_to_many = Seq2SeqTransformer(units=8, epochs=2, random_state=0).fit(vectors, words)
    assert all(isinstance(o, str) for o in one_to_many.predict(vectors[:4]))
    rng = np.random.RandomState(0)
    past = [rng.randn(rng.randint(5, 9), 2) for _ in range(30)]
    future = [np.tile(p[-1:, :1], (3, 1)) for p in past]  # 3-step horizon, 1 feature
    forecaster = Seq2SeqTransformer(units=8, epochs=2, random_state=0).fit(past, future)
    pred = forecaster.predict(past[:4])
    assert [p.shape for p in pred] == [(3, 1)] * 4
    assert forecaster.score(past, future) <= 0


def test_gridsearch_with_the_score_method():
    src, tgt = make_reversal(120, 3, 4, alphabet="ab", random_state=0)
    grid = GridSearchCV(Seq2SeqTransformer(epochs=2, random_state=0),
                        {"units": [4, 8]}, cv=2).fit(src, tgt)
    assert grid.best_params_["units"] in (4, 8)


@pytest.mark.parametrize("X, Y, exc, match", [
    (["ab"], None, ValueError, "requires Y"),
    (["ab", "cd"], ["ba"], ValueError, "X has 2 sequences but Y has 1"),
    (["ab", ""], ["ba", "x"], ValueError, r"X\[1\] is an empty string"),
    (["ab", "c"], ["ba", ""], ValueError, r"Y\[1\] is an empty string"),
    ([np.array([[1.0], [np.nan]])], [np.ones((2, 1))], ValueError, "NaN or infinity"),
    (["ab", ["c", "d"]], ["x", "y"], TypeError, "mixes strings"),
])
def test_bad_input(X, Y, exc, match):
    with pytest.raises(exc, match=match):
        Seq2SeqTransformer(units=4, epochs=1).fit(X, Y)


def test_invalid_parameters():
    for params, match in [({"attention": "luong"}, "attention must be"),
                          ({"decoding": "sample"}, "decoding must be"),
                          ({"beam_width": 0}, "beam_width must be")]:
        with pytest.raises(ValueError, match=match):
            Seq2SeqTransformer(**params).fit(["ab"], ["ba"])
