"""The lecture's worked example: weekend plans from the weather forecast.

Every weekend we do one of three things, in the cycle museum → movies → party → museum.
If the forecast for the weekend is sunny we do the same as the weekend before; if it is
rainy we move on to the next activity of the cycle. The lecture's example: the forecast
is rain and last weekend was a party, so the network predicts the museum.

It is a recurrence: the *input* at weekend t is the forecast, the *state* carried from
weekend to weekend is what we did last (the lecture's "output fed as input in t+1").

Part 1 builds the lecture's network from its one-hot vectors and matrices and runs it
with ``skrnn.reference`` (the NumPy Elman network): ``W_xh`` is the weather matrix,
``W_hh`` feeds last weekend's activity through the activity matrix, and the lecture's
activation keeps only the entries where activity and weather agree. Part 2 lets
``RNNClassifier(cell="rnn")`` learn the same rule, one plan per weekend
(``return_sequences=True``), from nothing but the first weekend's plan and the
forecasts, and checks it on held-out sequences of weekends.

    python examples/weekend_plans.py
"""

from __future__ import annotations

import numpy as np

from skrnn.reference import ElmanParams, forward

ACTIVITIES = ["museum", "movies", "party"]
WEATHER = ["sunny", "rainy"]

# The lecture's one-hot vectors.
activity = {name: np.eye(3)[i] for i, name in enumerate(ACTIVITIES)}
weather = {name: np.eye(2)[i] for i, name in enumerate(WEATHER)}

# Activity matrix: "the same activity" (identity) stacked over "the next activity"
# (museum -> movies -> party -> museum), so A @ a = [same; next], a 6-vector.
# The lecture's example: A @ movies = [0 1 0 | 0 0 1].
SAME = np.eye(3)
NEXT = np.array([[0, 0, 1],
                 [1, 0, 0],
                 [0, 1, 0]], dtype=float)
ACTIVITY_MATRIX = np.vstack([SAME, NEXT])
# Weather matrix: the same vector for both halves; sunny lights up "same" (the same as
# last week), rainy lights up "next" (next week's activity).
WEATHER_MATRIX = np.array([[1, 0], [1, 0], [1, 0],
                           [0, 1], [0, 1], [0, 1]], dtype=float)
# Merge: adds the two halves back into a 3-vector (the lecture's [0+0, 0+1, 0+0]).
MERGE = np.hstack([np.eye(3), np.eye(3)])


def lecture_network() -> ElmanParams:
    """The lecture's recurrence as an Elman network (``skrnn.reference``).

    h_t = ReLU(W_xh x_t + W_hh h_{t-1} + b_h), ŷ_t = W_oh h_t with x_t the forecast,
    W_xh the weather matrix, W_hh = activity matrix · merge (last weekend's activity,
    read back out of the state, goes through the activity matrix), b_h = -1 (ReLU then
    keeps the single entry where both matrices voted: the lecture's "activation
    function") and W_oh = merge.
    """
    return ElmanParams(W_xh=WEATHER_MATRIX, W_hh=ACTIVITY_MATRIX @ MERGE,
                       b_h=-np.ones(6), W_oh=MERGE, b_o=np.zeros(3),
                       output="linear", activation="relu")


def initial_state(first: str) -> np.ndarray:
    """A state whose merged read-out is the activity of the weekend before."""
    return np.r_[activity[first], np.zeros(3)]


def lecture_walkthrough(last_activity="museum", forecast="rainy") -> dict:
    """The lecture's "Initial case", step by step: the vectors it shows."""
    from_activity = ACTIVITY_MATRIX @ activity[last_activity]
    from_weather = WEATHER_MATRIX @ weather[forecast]
    total = from_activity + from_weather
    h = np.maximum(total - 1.0, 0.0)
    return {"activity": from_activity, "weather": from_weather, "sum": total,
            "activation": h, "next": MERGE @ h}


def hand_built_plans(first: str, forecasts) -> list:
    """Run the lecture's network over a sequence of forecasts."""
    x = np.array([weather[w] for w in forecasts])
    _, _, y_hat = forward(lecture_network(), x, h0=initial_state(first))
    return [ACTIVITIES[int(np.argmax(y))] for y in y_hat]


def rule(last_activity: str, forecast: str) -> str:
    i = ACTIVITIES.index(last_activity)
    return last_activity if forecast == "sunny" else ACTIVITIES[(i + 1) % 3]


def generate_weekends(n_sequences: int, random_state=0):
    """Sequences of 2-10 weekends. Step t holds the forecast one-hot and, at the first
    step only, the one-hot of the weekend before the sequence (zeros afterwards: the
    network has to carry the plan itself). The targets are the plans, one per weekend."""
    rng = np.random.RandomState(random_state)
    X, y = [], []
    for _ in range(n_sequences):
        plan = ACTIVITIES[rng.randint(3)]
        steps, plans = [], []
        for t in range(rng.randint(2, 11)):
            sky = WEATHER[rng.randint(2)]
            steps.append(np.r_[weather[sky], activity[plan] if t == 0 else np.zeros(3)])
            plan = rule(plan, sky)
            plans.append(plan)
        X.append(np.array(steps))
        y.append(np.array(plans))
    return X, y


def main(n_train: int = 1500, verbose: int = 0) -> float:
    from skrnn import RNNClassifier

    print("Part 1: the lecture's network, built by hand")
    w = lecture_walkthrough("museum", "rainy")
    for name in ("activity", "weather", "sum", "activation", "next"):
        print(f"  {name:>10}: {w[name].astype(int).tolist()}")
    print(f"  last weekend museum, rain forecast -> {ACTIVITIES[int(np.argmax(w['next']))]}")
    print(f"  last weekend party, rain forecast  -> "
          f"{hand_built_plans('party', ['rainy'])[0]} (the lecture's example)")
    forecasts = ["sunny", "rainy", "rainy", "sunny", "rainy"]
    print(f"  five weekends from museum, forecasts {forecasts}:")
    print(f"    {hand_built_plans('museum', forecasts)}")

    print("Part 2: RNNClassifier(cell='rnn') learns the recurrence from generated weekends")
    X, y = generate_weekends(n_train, random_state=0)
    X_test, y_test = generate_weekends(500, random_state=1)
    clf = RNNClassifier(cell="rnn", units=16, return_sequences=True, learning_rate=0.01,
                        scaling=None, random_state=0, verbose=verbose).fit(X, y)
    accuracy = clf.score(X_test, y_test)
    flat = np.concatenate(y_test)
    majority = np.mean(flat == max(set(flat), key=list(flat).count))
    print(f"  held-out plan accuracy {accuracy:.3f} over {len(flat)} weekends "
          f"(majority class {majority:.3f}; {clf.n_iter_} epochs)")
    x = np.array([np.r_[weather["rainy"], activity["party"]]])
    print(f"  last weekend party, rain forecast -> it predicts: {clf.predict([x])[0][0]}")
    return accuracy


if __name__ == "__main__":
    main()
