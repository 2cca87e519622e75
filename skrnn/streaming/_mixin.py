"""``est.stream()``: what can stream, and the method the estimators inherit."""

from __future__ import annotations

import pickle

from .. import data as sd


def why_not_streamable(est) -> str | None:
    """Why ``est`` cannot stream exactly (a sentence naming the parameter), or None."""
    if getattr(est, "_spec", None) is not None and getattr(est._spec, "bidirectional", False):
        return ("bidirectional=True: the backward direction reads every step from the "
                "end, so each new step would change all of them; stream a "
                "unidirectional model")
    if hasattr(est, "_decoder_step"):
        if est._source_kind == "vector":
            return ("the source is one vector per sample (one-to-many): there are no "
                    "steps to stream")
        if sd.fitted_covariates(est).future is not None:
            return ("future covariates: each forecast reads covariates over a horizon "
                    "that moves with every update; predict on the prefix instead")
        return None
    if getattr(est, "_scaling", None) == "sequence":
        return ("scaling='sequence': each prefix is z-normalised by its own mean and "
                "standard deviation, which change with every step; refit with "
                "scaling='feature' (or None) to stream")
    return None


class StreamMixin:
    """``est.stream()`` for the three estimators."""

    def stream(self):
        """A set of live series, empty at first: feed each one new steps as they
        arrive with :meth:`Stream.update` and get the answer after every step, at a
        cost that does not grow with the history (the recurrent state is carried).

        The outputs equal what ``predict`` / ``predict_proba`` give on each series'
        whole prefix (to float32 rounding). The stream holds a snapshot of the fitted
        estimator: fitting it again later does not change the stream.

        Raises
        ------
        ValueError
            For a model whose answers on a prefix cannot be carried step by step:
            ``bidirectional=True``, ``scaling="sequence"``; a Seq2SeqTransformer of
            vectors or with future covariates.
        """
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(self)
        why = why_not_streamable(self)
        if why is not None:
            raise ValueError(f"{type(self).__name__} cannot stream exactly: {why}.")
        if getattr(self, "_step", None) is not None:
            self._step.sync_to_model()
        return pickle.loads(pickle.dumps(self))._new_stream()

    def _new_stream(self):
        """A stream of this estimator itself (no snapshot): what a loaded file's
        stream is built on."""
        from ._stream import Stream

        return Stream(self)

    def _why_not_streamable(self):
        return why_not_streamable(self)
