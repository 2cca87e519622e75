"""One home for how a model's seed becomes its layers' seeds.

A model built from ``seed`` gives its initializers ``seed, seed + 1, ...``, at most
``SEEDS_PER_MODEL`` of them; the estimators draw ``seed`` so that the range stays within
the int32 seeds Keras accepts.
"""

from __future__ import annotations

SEEDS_PER_MODEL = 10_000


def layer_seeds(seed: int):
    """The seeds of one model's initializers, in the order the builder asks for them."""
    return iter(range(seed, seed + SEEDS_PER_MODEL))


def draw_model_seed(rng) -> int:
    """A model seed from an estimator's random stream (``numpy.random.RandomState``)."""
    return int(rng.randint(0, 2**31 - 1 - SEEDS_PER_MODEL))
