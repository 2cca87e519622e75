"""Tagged JSON for what skrnn saves: Python values and arrays in, refused if unknown.

Plain JSON values stay as they are; everything else is an object whose first key is a
tag (``{"__tuple__": [...]}``, ``{"__array__": "a3"}`` naming an array kept beside the
JSON, ``{"__spec__": "ModelSpec", "fields": {...}}``, ...). Decoding accepts the tags
below with exactly their keys, and nothing else.
"""

from __future__ import annotations

import dataclasses

import numpy as np

#: The keys of each tagged JSON object.
_TAGS = {"__array__": {"__array__"}, "__objects__": {"__objects__", "shape"},
         "__tuple__": {"__tuple__"}, "__dict__": {"__dict__"},
         "__history__": {"__history__"}, "__vocabulary__": {"__vocabulary__", "min_frequency"},
         "__label_encoder__": {"__label_encoder__"},
         "__random_state__": {"__random_state__"}, "__spec__": {"__spec__", "fields"},
         "__keras__": {"__keras__"}}
#: The Keras objects a parameter may hold: optimizers and learning-rate schedules.
_KERAS_MODULES = ("keras.optimizers", "keras.optimizers.schedules")


class SavingError(ValueError):
    """A file that is not a valid skrnn estimator file."""


def _specs():
    from ..models import ModelSpec
    from ..models._seq2seq import Seq2SeqSpec

    return {"ModelSpec": ModelSpec, "Seq2SeqSpec": Seq2SeqSpec}


class Encoder:
    """Python values to tagged JSON; arrays go to ``self.arrays``."""

    def __init__(self):
        self.arrays = {}

    def array(self, value, where: str):
        value = np.asarray(value)
        if value.dtype == object:
            return {"__objects__": [self(v, where) for v in value.tolist()],
                    "shape": list(value.shape)}
        name = f"a{len(self.arrays)}"
        self.arrays[name] = value
        return {"__array__": name}

    def __call__(self, value, where: str):
        from sklearn.preprocessing import LabelEncoder

        from .._history import History
        from ..data import Vocabulary

        if value is None or isinstance(value, (bool, str)):
            return value
        if isinstance(value, (int, float, np.integer, np.floating, np.bool_)):
            return value.item() if isinstance(value, np.generic) else value
        if isinstance(value, np.ndarray):
            return self.array(value, where)
        if isinstance(value, tuple):
            return {"__tuple__": [self(v, where) for v in value]}
        if isinstance(value, list):
            return [self(v, where) for v in value]
        if isinstance(value, History):
            return {"__history__": {k: self(v, where) for k, v in value.items()}}
        if isinstance(value, dict):
            return {"__dict__": [[self(k, where), self(v, where)] for k, v in value.items()]}
        if isinstance(value, Vocabulary):
            return {"__vocabulary__": [self(t, where) for t in value.tokens_],
                    "min_frequency": int(value.min_frequency)}
        if isinstance(value, LabelEncoder):
            return {"__label_encoder__": self.array(value.classes_, where)}
        if isinstance(value, np.random.RandomState):
            kind, keys, pos, has_gauss, gauss = value.get_state()
            return {"__random_state__": [kind, self.array(keys, where), pos, has_gauss,
                                         gauss]}
        if dataclasses.is_dataclass(value) and type(value).__name__ in _specs():
            return {"__spec__": type(value).__name__,
                    "fields": {f.name: self(getattr(value, f.name), where)
                               for f in dataclasses.fields(value)}}
        if hasattr(value, "get_config"):  # an optimizer or a learning-rate schedule
            import keras

            return {"__keras__": keras.saving.serialize_keras_object(value)}
        raise TypeError(f"{where} holds a {type(value).__name__}, which skrnn cannot save "
                        "without pickle.")


class Decoder:
    """Tagged JSON back to Python values, refusing anything else."""

    def __init__(self, arrays):
        self.arrays, self.used = arrays, set()

    def array(self, value, where):
        if isinstance(value, dict) and set(value) == {"__array__"}:
            name = value["__array__"]
            if name not in self.arrays:
                raise SavingError(f"{where}: array {name!r} is not in arrays.npz.")
            self.used.add(name)
            return self.arrays[name]
        if isinstance(value, dict) and set(value) == {"__objects__", "shape"}:
            items = [self(v, where) for v in value["__objects__"]]
            out = np.empty(len(items), dtype=object)
            out[:] = items
            return out.reshape(value["shape"])
        raise SavingError(f"{where}: expected an array, found {str(value)[:80]}.")

    def __call__(self, value, where: str):
        if value is None or isinstance(value, (bool, str, int, float)):
            return value
        if isinstance(value, list):
            return [self(v, where) for v in value]
        if not isinstance(value, dict) or len(value) == 0:
            raise SavingError(f"{where}: unexpected value {str(value)[:80]}.")
        tag = next(iter(value))
        if set(value) != _TAGS.get(tag):
            raise SavingError(f"{where}: unknown or malformed tag {tag!r}.")
        if tag in ("__array__", "__objects__"):
            return self.array(value, where)
        body = value[tag]
        if tag == "__tuple__" and isinstance(body, list):
            return tuple(self(v, where) for v in body)
        if tag == "__dict__" and isinstance(body, list) and all(
                isinstance(p, list) and len(p) == 2 for p in body):
            return {self._key(k, where): self(v, where) for k, v in body}
        if tag == "__history__" and isinstance(body, dict):
            from .._history import EPOCH_KEYS, EVENT_KEYS, History

            if not set(body) <= set(EPOCH_KEYS) | set(EVENT_KEYS):
                raise SavingError(f"{where}: unknown history keys "
                                  f"{sorted(set(body) - set(EPOCH_KEYS) - set(EVENT_KEYS))}.")
            return History({k: self(v, where) for k, v in body.items()})
        if tag == "__vocabulary__" and isinstance(body, list):
            from ..data import Vocabulary

            if not isinstance(value["min_frequency"], int):
                raise SavingError(f"{where}: min_frequency {value['min_frequency']!r}.")
            vocabulary = Vocabulary(value["min_frequency"])
            vocabulary.tokens_ = [self._key(t, where) for t in body]
            vocabulary.index_ = {t: i + 2 for i, t in enumerate(vocabulary.tokens_)}
            return vocabulary
        if tag == "__label_encoder__":
            from sklearn.preprocessing import LabelEncoder

            encoder = LabelEncoder()
            encoder.classes_ = self.array(body, where)
            return encoder
        if tag == "__random_state__" and isinstance(body, list) and len(body) == 5:
            rng = np.random.RandomState()
            kind, keys, *rest = body
            try:
                rng.set_state((kind, np.asarray(self.array(keys, where), np.uint32), *rest))
            except (TypeError, ValueError) as exc:
                raise SavingError(f"{where}: not a random state ({exc}).") from exc
            return rng
        if tag == "__spec__":
            return self._spec(value, where)
        if tag == "__keras__":
            return self._keras(body, where)
        raise SavingError(f"{where}: unknown or malformed tag {tag!r}.")

    @staticmethod
    def _keras(config, where):
        """An optimizer or a learning-rate schedule, of Keras' own classes only."""
        import keras

        if not (isinstance(config, dict) and config.get("module") in _KERAS_MODULES):
            module = config.get("module") if isinstance(config, dict) else None
            raise SavingError(f"{where}: a Keras object from {module!r}; only optimizers "
                              "and learning-rate schedules of Keras are loaded.")
        try:
            value = keras.saving.deserialize_keras_object(config, safe_mode=True)
        except Exception as exc:
            raise SavingError(f"{where}: cannot load the Keras object ({exc}).") from exc
        if not isinstance(value, (keras.optimizers.Optimizer,
                                  keras.optimizers.schedules.LearningRateSchedule)):
            raise SavingError(f"{where}: a {type(value).__name__} is neither an optimizer "
                              "nor a learning-rate schedule.")
        return value

    def _key(self, value, where):
        key = self(value, where)
        if isinstance(key, (list, dict, np.ndarray)):
            raise SavingError(f"{where}: {type(key).__name__} where a token or key belongs.")
        return key

    def _spec(self, value, where):
        """A ModelSpec / Seq2SeqSpec, every field of the type its builder expects."""
        cls = _specs().get(value["__spec__"])
        fields = value.get("fields")
        if cls is None or not isinstance(fields, dict):
            raise SavingError(f"{where}: unknown specification {value['__spec__']!r}.")
        known = {f.name for f in dataclasses.fields(cls)}
        required = {f.name for f in dataclasses.fields(cls)
                    if f.default is dataclasses.MISSING
                    and f.default_factory is dataclasses.MISSING}
        if not required <= set(fields) <= known:  # later fields have defaults
            raise SavingError(f"{where}: the specification's fields differ: unknown "
                              f"{sorted(set(fields) - known)}, missing "
                              f"{sorted(required - set(fields))}.")
        decoded = {k: self(v, where) for k, v in fields.items()}
        for name, v in decoded.items():
            ok = (v is None or isinstance(v, (bool, int, float, str))
                  or (isinstance(v, tuple) and all(isinstance(i, int) and not isinstance(
                      i, bool) and i > 0 for i in v)))
            if not ok:
                raise SavingError(f"{where}: specification field {name} = {v!r}.")
        return cls(**decoded)
