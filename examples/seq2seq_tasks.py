"""Sequence-to-sequence with Seq2SeqTransformer: date translation and 3-digit addition.

    python examples/seq2seq_tasks.py dates        # "25 November 2026" -> "2026-11-25"
    python examples/seq2seq_tasks.py addition     # "123+45" -> "168", with and without attention

Each task trains one epoch at a time (``warm_start``) until the held-out exact-match
rate reaches the target or the epoch budget runs out, and prints epochs, time, and the
exact match of greedy and beam decoding. The numbers recorded in docs/benchmarks.md
come from these runs.
"""

from __future__ import annotations

import argparse
import os
import time
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from sklearn.exceptions import ConvergenceWarning  # noqa: E402

from skrnn import Seq2SeqTransformer  # noqa: E402
from skrnn.datasets import make_addition, make_dates  # noqa: E402
from skrnn.metrics import exact_match, token_accuracy  # noqa: E402


def train_until(model, X, Y, X_test, Y_test, target, max_epochs, label):
    start = time.perf_counter()
    score = 0.0
    for epoch in range(1, max_epochs + 1):
        with warnings.catch_warnings():  # one epoch per fit, on purpose
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(X, Y)
        pred = model.predict(X_test)
        score = exact_match(Y_test, pred)
        print(f"  [{label}] epoch {epoch:3d}  loss {model.history_['loss'][-1]:.4f}  "
              f"held-out exact match {score:.4f}  token accuracy "
              f"{token_accuracy(Y_test, pred):.4f}  {time.perf_counter() - start:6.0f}s",
              flush=True)
        if score >= target:
            break
    return epoch, time.perf_counter() - start, score


def report_beam(model, X_test, Y_test, label):
    start = time.perf_counter()
    greedy = exact_match(Y_test, model.predict(X_test))
    t_greedy = time.perf_counter() - start
    model.set_params(decoding="beam", beam_width=4)
    start = time.perf_counter()
    beam = exact_match(Y_test, model.predict(X_test))
    t_beam = time.perf_counter() - start
    model.set_params(decoding="greedy")
    print(f"  [{label}] greedy exact match {greedy:.4f} ({t_greedy:.1f}s), "
          f"beam (width 4) {beam:.4f} ({t_beam:.1f}s)", flush=True)


def dates(args):
    X, Y = make_dates(args.n or 20_000, random_state=0)
    X_test, Y_test = make_dates(args.n_test, random_state=1)
    print("examples:", list(zip(X[:3], Y[:3])))
    # The defaults (LSTM(64) encoder-decoder, additive attention, Adam 3e-3 with
    # global_clipnorm=1.0, batches of 64); epochs=1 with warm_start only to score the
    # held-out pairs after every epoch.
    model = Seq2SeqTransformer(epochs=1, warm_start=True, random_state=0)
    epochs, seconds, score = train_until(model, X, Y, X_test, Y_test, 0.99,
                                         args.max_epochs, "dates")
    print(f"dates: exact match {score:.4f} after {epochs} epochs, {seconds:.0f}s")
    report_beam(model, X_test, Y_test, "dates")
    print("7 March 2001 ->", model.predict(["7 March 2001"])[0])


def addition(args):
    X, Y = make_addition(args.n or 50_000, digits=3, random_state=0)
    X_test, Y_test = make_addition(args.n_test, digits=3, random_state=1)
    choices = {"both": ("additive", None), "additive": ("additive",), "dot": ("dot",),
               "none": (None,)}
    for attention in choices[args.attention]:
        label = f"attention={attention}"
        # The defaults (Adam 3e-3, global_clipnorm=1.0) and the task's size: 128 units.
        model = Seq2SeqTransformer(units=128, attention=attention, epochs=1,
                                   warm_start=True, random_state=0)
        epochs, seconds, score = train_until(model, X, Y, X_test, Y_test, 0.99,
                                             args.max_epochs, label)
        print(f"addition, {label}: exact match {score:.4f} after {epochs} epochs, "
              f"{seconds:.0f}s", flush=True)
        report_beam(model, X_test, Y_test, label)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("task", choices=["dates", "addition"])
    p.add_argument("--n", type=int, default=None, help="training pairs")
    p.add_argument("--n-test", type=int, default=2_000, help="held-out pairs")
    p.add_argument("--max-epochs", type=int, default=60)
    p.add_argument("--attention", choices=["both", "additive", "dot", "none"],
                   default="both", help="addition: which models to train")
    args = p.parse_args(argv)
    {"dates": dates, "addition": addition}[args.task](args)


if __name__ == "__main__":
    main()
