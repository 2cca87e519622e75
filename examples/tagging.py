"""Named-entity-style tagging: one label per word (many-to-many, same length).

    python examples/tagging.py          # about half a minute on 2 CPU cores

Generated sentences (``skrnn.datasets.make_entity_tagging``) where some names are a
person in one place of a sentence and a place in another ("Jordan said ..." vs
"... visited Jordan"). A bidirectional LSTM reads each word in its context; the baseline
tags every word with its most frequent training tag. Scored on held-out sentences: the
accuracy over all words and over the ambiguous names alone.
"""

from __future__ import annotations

import argparse
import os
from collections import Counter, defaultdict

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

from skrnn import RNNClassifier  # noqa: E402
from skrnn.datasets import _TAGGING, make_entity_tagging  # noqa: E402


def most_frequent_tag(sentences, tags):
    counts = defaultdict(Counter)
    for sentence, labels in zip(sentences, tags):
        for word, tag in zip(sentence, labels):
            counts[word][tag] += 1
    table = {word: c.most_common(1)[0][0] for word, c in counts.items()}
    return lambda sentence: [table.get(word, "O") for word in sentence]


def accuracies(sentences, truth, predicted):
    pairs = [(w, t, p) for s, ts, ps in zip(sentences, truth, predicted)
             for w, t, p in zip(s, ts, ps)]
    ambiguous = [(t, p) for w, t, p in pairs if w in _TAGGING["ambiguous"]]
    return (float(np.mean([t == p for _, t, p in pairs])),
            float(np.mean([t == p for t, p in ambiguous])))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--epochs", type=int, default=8)
    args = parser.parse_args(argv)
    X, y = make_entity_tagging(args.n, random_state=0)
    X_test, y_test = make_entity_tagging(500, random_state=1)
    baseline = most_frequent_tag(X, y)
    tagger = RNNClassifier(cell="lstm", units=32, bidirectional=True, return_sequences=True,
                           epochs=args.epochs, learning_rate=0.01, random_state=0).fit(X, y)
    results = {
        "most frequent tag per word": accuracies(X_test, y_test, map(baseline, X_test)),
        "RNNClassifier (bidirectional LSTM)": accuracies(X_test, y_test,
                                                         tagger.predict(X_test)),
    }
    print(f"{len(X)} training / {len(X_test)} held-out sentences; tag accuracy:")
    for name, (overall, ambiguous) in results.items():
        print(f"  {name:<36} all words {overall:.3f}   ambiguous names {ambiguous:.3f}")
    return results


if __name__ == "__main__":
    main()
