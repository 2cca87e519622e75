import math

import numpy as np
import pytest

from skrnn.datasets import make_addition, make_dates, make_reversal
from skrnn.metrics import corpus_bleu, exact_match, token_accuracy


def test_exact_match_and_token_accuracy():
    assert exact_match(["2026-11-25", "abc"], ["2026-11-25", "abd"]) == 0.5
    assert exact_match([["a", "b"]], [["a", "b", "c"]]) == 0.0
    assert token_accuracy(["abcd", "xy"], ["abzd", "x"]) == pytest.approx(4 / 6)
    with pytest.raises(ValueError, match="y_true has 2 sequences but y_pred has 1"):
        exact_match(["a", "b"], ["a"])


def test_corpus_bleu_hand_computed():
    ref, hyp = [list("abcdef")], [list("abcdeg")]
    assert corpus_bleu(ref, hyp, max_n=2) == pytest.approx(math.sqrt(5 / 6 * 4 / 5))
    short = corpus_bleu([list("abcdef")], [list("abc")], max_n=1)
    assert short == pytest.approx(math.exp(1 - 6 / 3))  # precision 1, brevity penalty
    assert corpus_bleu(["the cat"], ["the cat"]) == 1.0
    assert corpus_bleu([["x", "y"]], [["z"]]) == 0.0


def test_seq2seq_generators_are_seeded_and_correct():
    src, tgt = make_dates(200, random_state=0)
    assert (src, tgt) == make_dates(200, random_state=0)
    assert len(set(len(s) for s in src)) > 3  # several formats
    import datetime

    for t in tgt:
        datetime.date.fromisoformat(t)
    src, tgt = make_addition(100, digits=3, random_state=0)
    for s, t in zip(src, tgt):
        a, b = s.split("+")
        assert int(a) + int(b) == int(t) and int(a) < 1000
    src, tgt = make_reversal(50, random_state=0)
    assert all(t == s[::-1] and 3 <= len(s) <= 12 for s, t in zip(src, tgt))


def test_sequence_mse_aligns_lengths_and_checks_pairs():
    from skrnn.metrics import sequence_mse

    truth = [np.array([[1.0], [2.0], [3.0]]), np.array([[0.0]])]
    # shorter: extended with its last value; longer: cut
    pred = [np.array([[1.0], [2.0]]), np.array([[1.0], [5.0]])]
    assert sequence_mse(truth, pred) == pytest.approx(np.mean([1 / 3, 1.0]))
    with pytest.raises(ValueError, match="y_true has 2 sequences but y_pred has 1"):
        sequence_mse(truth, pred[:1])
