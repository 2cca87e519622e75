"""The examples run (at their own, small sizes) and reach what they claim."""

import importlib.util
import pathlib

import numpy as np
import pytest

EXAMPLES = pathlib.Path(__file__).resolve().parents[1] / "examples"


def load(name):
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_weekend_plans_lecture_vectors_hand_built_network_and_rnn():
    ex = load("weekend_plans")
    # The lecture's slides, number for number.
    np.testing.assert_array_equal(ex.ACTIVITY_MATRIX @ ex.activity["movies"],
                                  [0, 1, 0, 0, 0, 1])
    np.testing.assert_array_equal(ex.WEATHER_MATRIX @ ex.weather["sunny"], [1, 1, 1, 0, 0, 0])
    np.testing.assert_array_equal(ex.WEATHER_MATRIX @ ex.weather["rainy"], [0, 0, 0, 1, 1, 1])
    w = ex.lecture_walkthrough("museum", "rainy")
    np.testing.assert_array_equal(w["sum"], [1, 0, 0, 1, 2, 1])
    np.testing.assert_array_equal(w["activation"], [0, 0, 0, 0, 1, 0])
    np.testing.assert_array_equal(w["next"], [0, 1, 0])
    assert ex.hand_built_plans("party", ["rainy"]) == ["museum"]
    # The hand-built Elman network follows the rule over whole sequences.
    X, y = ex.generate_weekends(50, random_state=3)
    for x, plans in zip(X, y):
        first = ex.ACTIVITIES[int(np.argmax(x[0, 2:]))]
        forecasts = [ex.WEATHER[int(np.argmax(step[:2]))] for step in x]
        assert ex.hand_built_plans(first, forecasts) == list(plans)
    assert ex.main(n_train=600) == 1.0


def test_quickstart_data_and_baseline_helpers():
    ex = load("quickstart")
    X, y = ex.make_bursts(20)
    assert len(X) == 20 and set(y) <= {"burst", "calm"}
    assert ex.summary_features(X).shape == (20, 12)


def test_seq2seq_tasks_smoke(capsys):
    ex = load("seq2seq_tasks")
    ex.main(["dates", "--n", "64", "--n-test", "16", "--max-epochs", "1"])
    out = capsys.readouterr().out
    assert "dates: exact match" in out and "beam (width 4)" in out


def test_forecasting_smoke(capsys):
    ex = load("forecasting")
    X_train, Y_train, X_test, Y_test = ex.make_sets(ex.load_airline())
    assert X_train.shape == (85, 24, 1) and Y_test.shape == (13, 12, 1)
    results = ex.main(["--epochs", "1"])
    assert set(results) == {"last value", "seasonal naive", "RNNRegressor (GRU)",
                            "Seq2SeqTransformer (GRU)"}
    assert results["seasonal naive"] < results["last value"]
    assert "seasonal naive" in capsys.readouterr().out


def test_co2_backtest_smoke(capsys):
    ex = load("co2_backtest")
    series = ex.load_co2()
    assert len(series) == 526 and series.notna().all()
    assert ex.origins_of(series, 3) == [490, 502, 514]
    scores = ex.main(["--origins", "1", "--epochs", "2"])
    assert set(scores) == {"seasonal naive", "ETS", "ARIMA (1,1,1)(0,1,1)12",
                           "Seq2SeqTransformer, calendar", "RNNRegressor"}
    assert all(0 <= s["coverage"] <= 1 and s["width"] > 0 for s in scores.values())
    assert scores["ETS"]["mae"] < scores["seasonal naive"]["mae"]
    assert "Seq2SeqTransformer, calendar" in capsys.readouterr().out


def test_timeseries_classification_smoke(capsys):
    ex = load("timeseries_classification")
    X, y = ex.load("japanese_vowels", "train")
    assert len(X) == 270 and X[0].shape[1] == 12 and len({len(x) for x in X}) > 1
    assert ex.summary_features(X[:3]).shape == (3, 72)
    scores = ex.main(["--epochs", "1", "1", "--units", "4", "--cap-epochs", "1"])
    assert scores["basic_motions"]["majority class"] == 0.25
    assert "RNNClassifier() defaults" in scores["japanese_vowels"]
    assert set(scores["gunpoint"]) == {"RNNClassifier() defaults", "LSTM-FCN recipe"}
    bench = importlib.util.spec_from_file_location(
        "bench_ucr", EXAMPLES.parent / "bench" / "bench_ucr.py")
    module = importlib.util.module_from_spec(bench)
    bench.loader.exec_module(module)
    assert module.RECIPE == ex.RECIPE  # the example shows the benchmark's recipe
    assert "lengths 7-29" in capsys.readouterr().out  # ragged, fed as they are


def test_tagging_smoke_and_generator():
    from skrnn.datasets import make_entity_tagging

    X, y = make_entity_tagging(50, random_state=0)
    assert all(len(s) == len(t) for s, t in zip(X, y))
    assert {t for ts in y for t in ts} == {"PER", "LOC", "ORG", "O"}
    assert make_entity_tagging(5, random_state=3) == make_entity_tagging(5, random_state=3)
    ex = load("tagging")
    results = ex.main(["--n", "100", "--epochs", "1"])
    overall, ambiguous = results["most frequent tag per word"]
    assert overall > ambiguous  # names in both slots are what a word lookup gets wrong


def test_ecg_smoke_and_generator():
    from skrnn.datasets import make_ecg_like

    X, y = make_ecg_like(20, random_state=0)
    assert sorted(set(y)) == ["af", "normal"] and (y == "af").sum() == 10
    assert all(100 <= len(x) < 200 and x.ndim == 1 for x in X)
    np.testing.assert_array_equal(make_ecg_like(3, random_state=2)[0][0],
                                  make_ecg_like(3, random_state=2)[0][0])
    ex = load("ecg_classification")
    scores = ex.main(["--n", "60", "--epochs", "1"])
    assert scores["majority class"] == 0.5


def test_review_sentiment_smoke_and_corpus():
    ex = load("review_sentiment")
    texts, labels = ex.load_reviews()
    assert len(texts) > 15_000 and set(labels) == {"pos", "neg"}
    assert len(set(texts)) > 0.99 * len(texts)  # duplicates dropped (cutting may re-merge)
    assert max(map(len, texts)) == ex.MAX_CHARS
    assert ex.summary_features(["好！", "差?"]).shape == (2, 6)
    scores = ex.main(["--n-train", "200", "--n-test", "100", "--epochs", "1"])
    assert len(scores) == 4 and 0.4 < scores["majority class"] < 0.6


def test_one_to_many_smoke_and_generators():
    from skrnn.datasets import make_number_words, make_trajectories

    X, Y = make_number_words(10_000, random_state=0)
    assert len({tuple(x) for x in X}) == 10_000  # distinct numbers
    words = {int("".join(map(str, x))): y for x, y in zip(X, Y)}
    assert words[3042] == ["three", "thousand", "and", "forty", "two"]
    assert words[0] == ["zero"] and words[1000] == ["one", "thousand"]
    assert words[919] == ["nine", "hundred", "and", "nineteen"]
    with pytest.raises(ValueError, match="between 1 and 10000"):
        make_number_words(10_001)
    X, Y = make_trajectories(50, random_state=0)
    assert X.shape == (50, 5) and all(y.shape[1] == 2 for y in Y)
    assert all((y[:-1, 1] > 0).all() and y[-1, 1] <= 0 for y in Y)  # ends on landing
    assert len({len(y) for y in Y}) > 3
    ex = load("one_to_many")
    scores = ex.main(["--n", "100", "--epochs", "1"])
    assert scores["words"]["nearest training number"][0] == 0.0  # unseen numbers
    assert set(scores["paths"]) == {"mean training path", "nearest training launch",
                                    "Seq2SeqTransformer (GRU)"}


def test_streaming_smoke(capsys):
    ex = load("streaming")
    first, second = ex.main(["--n-train", "60", "--n-test", "12", "--epochs", "1",
                             "--steps", "30"])
    out = capsys.readouterr().out
    assert "accuracy after seeing a fraction" in out and "settles" in out
    assert len(first["settled"]) == 12 and ((first["settled"] > 0)
                                            & (first["settled"] <= 1)).all()
    # carried state and re-prediction give the same forecasts
    np.testing.assert_allclose(second["streamed"], second["again"], atol=1e-4)


def test_explain_and_calibrate_smoke(capsys, tmp_path):
    ex = load("explain_and_calibrate")
    result = ex.main(["--epochs", "2", "--n-train", "200", "--n-cal", "100",
                      "--n-test", "100", "--review-epochs", "1",
                      "--figures", str(tmp_path)])
    out = capsys.readouterr().out
    assert "GunPoint" in out and "coverage" in out
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "attributions-series.svg", "attributions-text.svg", "conformal.svg",
        "reliability.svg"]
    g = result["gunpoint"]
    assert g["ig"].shape == (150, 1) and np.isfinite(g["ig"]).all()
    for m in result["reviews"]["models"].values():
        assert 0 <= m["ECE after"] <= 1 and 1 <= m["mean set size"] <= 2
