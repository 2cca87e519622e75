import numpy as np
import pandas as pd
import pytest

from skrnn.data import (
    SequenceList,
    Vocabulary,
    bucket_batches,
    check_step_targets,
    from_long_format,
    is_tabular,
    pad_batch,
    to_sequences,
)


def test_3d_array_is_copied_to_float32():
    X = np.arange(24, dtype=np.float64).reshape(2, 4, 3)
    seq = to_sequences(X)
    assert seq.layout == "array" and seq.n_features == 3
    assert seq.lengths.tolist() == [4, 4]
    seq.values[0][0, 0] = 99
    assert X[0, 0, 0] == 0  # never modified


def test_ragged_lists_of_2d_and_1d():
    seq = to_sequences([np.ones((3, 2)), np.zeros((5, 2))])
    assert seq.lengths.tolist() == [3, 5] and seq.n_features == 2
    seq1 = to_sequences([np.ones(3), np.zeros(7)])
    assert seq1.n_features == 1 and seq1.values[1].shape == (7, 1)


def test_tokens_auto_and_int_tokens_explicit():
    seq = to_sequences([["the", "cat"], ["a", "dog", "ran"]])
    assert seq.kind == "tokens" and seq.lengths.tolist() == [2, 3]
    ints = to_sequences([[3, 1, 4], [1, 5]], input_type="tokens")
    assert ints.kind == "tokens"
    assert to_sequences([[3, 1, 4], [1, 5]]).kind == "numeric"


def test_tabular_detection():
    assert is_tabular(np.zeros((3, 4)))
    assert is_tabular(pd.DataFrame(np.zeros((3, 4))))
    assert is_tabular([[1.0, 2.0], [3.0, 4.0]])
    assert not is_tabular([[1.0, 2.0], [3.0]])
    assert not is_tabular(np.zeros((3, 4, 1)))
    assert not is_tabular(np.array([["a", "b"], ["c", "d"]]))
    assert not is_tabular(np.zeros((3, 4)), input_type="tokens")


@pytest.mark.parametrize(
    "X, match",
    [
        ([np.ones((3, 2)), np.ones((0, 2))], r"X\[1\] is a zero-length sequence"),
        ([np.ones((3, 2)), np.ones((3, 3))], r"X\[1\] has 3 features per step"),
        ([np.ones(3), np.array([1.0, np.nan])], r"NaN or infinity in sample 1"),
        ([np.ones(3), np.array([1.0, np.inf])], r"NaN or infinity in sample 1"),
        ([], r"X is empty"),
        (np.zeros((0, 3, 2)), r"X is empty"),
        (np.zeros(5), r"1-D array"),
        ([["a", "b"], []], r"X\[1\] is a zero-length sequence"),
        ([np.ones((2, 2, 2))], r"X\[0\] has 3 dimensions"),
    ],
)
def test_value_errors_name_the_sample(X, match):
    with pytest.raises(ValueError, match=match):
        to_sequences(X)


@pytest.mark.parametrize(
    "X, match",
    [
        ([np.ones(3), ["a", "b"]], r"X\[1\] holds strings"),
        ([["a", "b"], ["c", 1.5]], r"X\[1\]\[1\] is 1.5"),
        ([["a", {"x": 1}]], r"X\[0\]\[1\]"),
        ([np.ones(2), object()], r"X\[1\] is neither a numeric sequence"),
        ("just a string", r"single string"),
        ([["a", "b"], "cd"], r"X\[1\] is a single string"),
    ],
)
def test_type_errors_name_the_sample(X, match):
    with pytest.raises(TypeError, match=match):
        to_sequences(X)


def test_vocabulary_frequency_order_and_oov():
    vocab = Vocabulary().fit([np.array(["b", "a", "b"], dtype=object), ["c", "a", "b"]])
    assert vocab.tokens_ == ["b", "a", "c"]
    assert len(vocab) == 5
    assert vocab.encode(["b", "zzz", "c"]).tolist() == [2, 1, 4]


def test_bucket_batches_cover_every_index_once_and_group_lengths():
    rng = np.random.RandomState(0)
    lengths = rng.randint(1, 500, size=1000)
    batches = bucket_batches(lengths, 32, np.random.RandomState(1))
    flat = np.concatenate(batches)
    assert sorted(flat.tolist()) == list(range(1000))
    # padded steps with bucketing are far fewer than with random batches
    waste = sum(lengths[b].max() * len(b) - lengths[b].sum() for b in batches)
    perm = np.random.RandomState(2).permutation(1000)
    rand = [perm[i:i + 32] for i in range(0, 1000, 32)]
    waste_random = sum(lengths[b].max() * len(b) - lengths[b].sum() for b in rand)
    assert waste < 0.1 * waste_random
    # a different epoch (rng state) gives different batches
    again = bucket_batches(lengths, 32, np.random.RandomState(3))
    assert any(not np.array_equal(a, b) for a, b in zip(batches, again))


def test_pad_batch_pads_to_batch_max_with_mask():
    values = [np.ones((2, 1)), np.ones((5, 1)), np.ones((3, 1))]
    x, mask = pad_batch(values, np.array([0, 2]), np.array([2, 5, 3]))
    assert x.shape == (2, 3, 1)
    assert mask.tolist() == [[True, True, False], [True, True, True]]
    assert x[0, 2, 0] == 0


def test_step_targets_length_mismatch():
    with pytest.raises(ValueError, match=r"y\[1\] has 2 step targets but sequence 1 has 3"):
        check_step_targets([["a"], ["b", "c"]], np.array([1, 3]), numeric=False)
    with pytest.raises(ValueError, match="X has 2 sequences but y has 1"):
        check_step_targets([[1.0]], np.array([1, 3]), numeric=True)
    with pytest.raises(ValueError, match="NaN or infinity in sample 0"):
        check_step_targets([[np.nan]], np.array([1]), numeric=True)


def test_from_long_format_orders_steps_and_keeps_ids():
    df = pd.DataFrame({
        "id": ["b", "a", "b", "a", "b"],
        "t": [2, 0, 0, 1, 1],
        "x1": [3.0, 10.0, 1.0, 11.0, 2.0],
        "x2": [0.3, 1.0, 0.1, 1.1, 0.2],
    })
    X = from_long_format(df, "id", "t")
    assert isinstance(X, SequenceList)
    assert list(X.ids) == ["b", "a"]
    assert list(X.feature_names) == ["x1", "x2"]
    np.testing.assert_array_equal(X[0][:, 0], [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(X[1][:, 1], [1.0, 1.1])


def test_from_long_format_errors():
    df = pd.DataFrame({"id": [1, 1], "t": [0, 0], "x": [1.0, 2.0]})
    with pytest.raises(ValueError, match="repeated values in 't'"):
        from_long_format(df, "id", "t")
    with pytest.raises(ValueError, match="time_column='time' is not a column"):
        from_long_format(df, "id", "time")
    with pytest.raises(TypeError, match="DataFrame"):
        from_long_format(np.zeros((2, 2)), "id", "t")
