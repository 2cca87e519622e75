"""The lecture's worked example: predicting next weekend's plan with a recurrence.

Every weekend we do one of three things — museum, movies, party — and the weather is
sunny or rainy. The rule: after a sunny weekend we do the same thing again; after a
rainy one we move on to the next activity of the cycle museum → movies → party →
museum. Next weekend's plan depends on last weekend's plan and weather: a recurrence.

Part 1 builds that recurrence by hand from one-hot vectors and three matrices, the way
the lecture does. Part 2 lets ``RNNClassifier(cell="rnn")`` learn the same rule from
generated weeks and checks that it predicts held-out weeks perfectly.

    python examples/weekend_plans.py
"""

from __future__ import annotations

import numpy as np

ACTIVITIES = ["museum", "movies", "party"]
WEATHER = ["sunny", "rainy"]

# One-hot vectors.
activity = {name: np.eye(3)[i] for i, name in enumerate(ACTIVITIES)}
weather = {name: np.eye(2)[i] for i, name in enumerate(WEATHER)}

# Activity matrix: stacks "the same activity" (identity) on top of "the next activity"
# (cyclic permutation), so A @ a = [same; next], a 6-vector.
SAME = np.eye(3)
NEXT = np.roll(np.eye(3), 1, axis=0)  # museum -> movies -> party -> museum
A = np.vstack([SAME, NEXT])
# Weather matrix: sunny lights up the "same" half, rainy the "next" half.
W = np.array([[1, 0], [1, 0], [1, 0], [0, 1], [0, 1], [0, 1]], dtype=float)
# Merge matrix: adds the two halves back into a 3-vector.
M = np.hstack([np.eye(3), np.eye(3)])


def step(x):
    """The non-linearity: 1 where both the activity and the weather agree."""
    return (x >= 1.5).astype(float)


def hand_built_next(last_activity: str, last_weather: str) -> str:
    """h = step(A a + W w); next = M h: the lecture's recurrence, one step."""
    h = step(A @ activity[last_activity] + W @ weather[last_weather])
    return ACTIVITIES[int(np.argmax(M @ h))]


def rule(last_activity: str, last_weather: str) -> str:
    i = ACTIVITIES.index(last_activity)
    return last_activity if last_weather == "sunny" else ACTIVITIES[(i + 1) % 3]


def generate_weeks(n_sequences: int, random_state=0):
    """Sequences of 2-10 weekends; each step is [activity one-hot, weather one-hot];
    the target is the following weekend's activity."""
    rng = np.random.RandomState(random_state)
    X, y = [], []
    for _ in range(n_sequences):
        plan = ACTIVITIES[rng.randint(3)]
        steps = []
        for _ in range(rng.randint(2, 11)):
            sky = WEATHER[rng.randint(2)]
            steps.append(np.r_[activity[plan], weather[sky]])
            plan = rule(plan, sky)
        X.append(np.array(steps))
        y.append(plan)
    return X, np.array(y)


def main(n_train: int = 1500, epochs: int = 40, verbose: int = 0) -> float:
    from skrnn import RNNClassifier

    print("Part 1: the hand-built recurrence")
    for a in ACTIVITIES:
        for w in WEATHER:
            predicted = hand_built_next(a, w)
            assert predicted == rule(a, w)
            print(f"  last weekend {a:>6} and {w:<5} -> next weekend {predicted}")

    print("Part 2: RNNClassifier(cell='rnn') learns the rule from generated weeks")
    X, y = generate_weeks(n_train, random_state=0)
    X_test, y_test = generate_weeks(500, random_state=1)
    clf = RNNClassifier(cell="rnn", units=8, epochs=epochs, learning_rate=0.02,
                        random_state=0, verbose=verbose).fit(X, y)
    accuracy = clf.score(X_test, y_test)
    majority = np.mean(y_test == max(set(y_test), key=list(y_test).count))
    print(f"  held-out accuracy {accuracy:.3f} (majority class {majority:.3f})")
    week = [np.r_[activity["movies"], weather["rainy"]]]
    print(f"  after a rainy movies weekend it predicts: {clf.predict([np.array(week)])[0]}")
    return accuracy


if __name__ == "__main__":
    main()
