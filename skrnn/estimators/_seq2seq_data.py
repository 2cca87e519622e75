"""What a Seq2SeqTransformer reads and writes: its sources, targets and covariates
encoded as the network takes them (the vocabularies, the scalings), its fixed validation
pairs, and a batch of sources decoded back into outputs."""

from __future__ import annotations

from numbers import Integral

import numpy as np

from .. import data as sd
from ._inputs import errors_named
from ._transaction import check_finite_outputs


class Seq2SeqData:
    """The reading and decoding half of :class:`~skrnn.Seq2SeqTransformer`."""

    def _validation_pairs(self, X_val, Y_val):
        """``fit``'s fixed validation pairs, read with what it learned from X and Y."""
        if X_val is None:
            raise ValueError("X_val and Y_val go together: pass both, or neither to "
                             "validate on a validation_fraction of the training pairs.")
        X_val, static, future = sd.split_covariates(X_val)
        s_kind, s_data, t_kind, t_data, _, n = sd.read_pairs(X_val, Y_val, "X_val", "Y_val")
        if t_kind != self._target_kind:
            raise ValueError(f"Y_val holds {t_kind} targets but Y held {self._target_kind}.")
        with errors_named("X_val / Y_val"):
            self._check_covariates(static, future, s_kind, False, t_data)
            return self._pair_set(s_kind, s_data, t_data, n, static, future)

    def _check_covariates(self, static, future, s_kind, reset, targets=None):
        """Covariates as the network takes them (learning their scaling on ``reset``):
        static ones beside numeric sources, future ones over every target step."""
        if reset:
            if static is not None and s_kind == "tokens":
                raise ValueError("static covariates go with numeric sources (appended to "
                                 "every step) or vectors, not with tokens.")
            if future is not None and self._target_kind == "tokens":
                raise ValueError("future covariates feed the decoder of numeric targets "
                                 "(forecasting), not of tokens.")
            self._covariates = sd.CovariateScaling.learn(static, future).stats
        else:
            sd.fitted_covariates(self).check(static, future, "Seq2SeqTransformer")
        for i, (f, t) in enumerate(zip(future or (), targets.values if targets else ())):
            if len(f) < len(t):
                raise ValueError(f"future[{i}] covers {len(f)} steps but Y[{i}] has "
                                 f"{len(t)}: the decoder reads the future covariates of "
                                 "every step it predicts.")

    def _pair_set(self, s_kind, s_data, t_data, n, static, future):
        """Encoded pairs cut into teacher-forcing batches."""
        source = self._encode_source(s_kind, s_data, static)
        if future is not None:
            future = sd.fitted_covariates(self).future_steps(future)
        return sd.Seq2SeqSet(source, self._source_lengths(s_kind, s_data, n),
                             self._encode_target(t_data), self._target_kind, self._start,
                             self._end, s_kind, future=future)

    def _encode_source(self, kind, data, static=None):
        """Token ids or values (static covariates appended, standardised)."""
        rows = None if static is None else sd.fitted_covariates(self).static_rows(static)
        if kind == "vector":
            if self._source_kind != "vector":
                raise ValueError(f"X holds one vector per sample but the model was fitted "
                                 f"on {self._source_kind} sequences.")
            if len(data[0]) != self._n_source_features:
                raise ValueError(f"X has {len(data[0])} features, but Seq2SeqTransformer "
                                 f"is expecting {self._n_source_features} features.")
            return data if rows is None else list(np.concatenate([data, rows], axis=1))
        if kind != self._source_kind:
            raise ValueError(f"X holds {kind} sequences but the model was fitted on "
                             f"{self._source_kind}.")
        if kind == "tokens":
            return [self.source_vocabulary_.encode(s) for s in data.values]
        if data.n_features != self._n_source_features:
            raise ValueError(f"X has {data.n_features} features per step, but "
                             f"Seq2SeqTransformer is expecting {self._n_source_features}.")
        return data.values if rows is None else sd.append_static(data.values, rows)

    @staticmethod
    def _source_lengths(kind, data, n):
        return np.ones(n, dtype=np.int64) if kind == "vector" else data.lengths

    def _encode_target(self, data):
        if self._target_kind == "tokens":
            return [self.target_vocabulary_.encode(t) for t in data.values]
        if data.values[0].shape[1] != len(self._y_mean):
            raise ValueError("Y has a different number of features than in the first fit.")
        return [((t - self._y_mean) / self._y_scale).astype(np.float32) for t in data.values]

    def _decode_length(self) -> int:
        """Steps decoded at most: the fitted horizon, or the longest output allowed."""
        if self._target_kind == "tokens":
            return self.max_output_length_
        return self.max_output_length or self._numeric_horizon or self.max_output_length_

    def _path_count(self) -> int:
        """Sample paths drawn for the spread over a fixed horizon: ``n_paths``, or 0
        for targets of their own lengths and losses without a distribution."""
        if (self._numeric_horizon is None
                or self._fitted_loss_name() not in ("quantile", "gaussian")):
            return 0
        return int(self.n_paths)

    def _path_seed(self) -> int:
        """The paths' draws repeat: seeded by an int ``random_state``, else by 0."""
        return self.random_state if isinstance(self.random_state, Integral) else 0

    def _paths(self, X):
        """Standardised sample paths per source, ``(n_paths, T, F)``, or None (no
        paths, see :meth:`_path_count`)."""
        if not self._path_count():
            return None
        return self._decoded(X, paths=(self._path_count(), self._sample,
                                       np.random.RandomState(self._path_seed())))

    def _decode_batch(self, source, lengths, idx, future=None, paths=None):
        """Decoded outputs of the sources ``idx``; ``paths=(n, sample, rng)``: ``n``
        sample paths per source instead, each step drawn by ``sample(raw, rng)`` and fed
        back, returned as ``(len(idx), n, steps, F)`` standardised values."""
        import keras

        if self._source_kind == "vector":
            src = np.stack([source[i] for i in idx]).astype(np.float32)
            mask = np.ones((len(idx), 1), bool)
        else:
            src, mask = sd.pad_batch(source, idx, lengths, dtype=source[idx[0]].dtype)
        if paths is not None:  # every source repeated n times, sampled step by step
            src, mask = np.repeat(src, paths[0], axis=0), np.repeat(mask, paths[0], axis=0)
        encoder, _ = self._compiled_models()
        # flatten: an encoder with one output (a GRU's state from a vector) returns a tensor
        encoded = [keras.ops.convert_to_numpy(t)
                   for t in keras.tree.flatten(encoder([src, mask]))]
        memory, states = ((encoded[0], encoded[1:]) if self._source_kind != "vector"
                          else (None, encoded))
        return self._decode_encoded(memory, mask, states, idx, future, paths)

    def _attention_over_source(self, X) -> list:
        """For every source of ``X``: the decoder's attention over the source while it
        writes its own output, ``(T_out, T_src)`` (row ``t``: the weights that wrote
        output ``t``). The output decoded by ``predict`` is fed back step by step
        (teacher forcing with the model's own output), which reproduces the states of
        its decoding exactly."""
        import keras

        from ..models._seq2seq import _n_states

        if self.attention is None or self._source_kind == "vector":
            raise ValueError("attention weights need a Seq2SeqTransformer fitted with "
                             "attention='additive' or 'dot' on sequences.")
        decoded = self._decoded(X)
        X, static, future = sd.split_covariates(X)
        if future is not None:
            raise ValueError("attention weights are not available with future covariates.")
        kind, data, _ = sd.read_pairs_side(X, "X")
        self._check_covariates(static, future, kind, False)
        source = self._encode_source(kind, data, static)
        lengths = self._source_lengths(kind, data, len(source))
        if self._target_kind == "tokens":
            ids = [self.target_vocabulary_.encode(list(d)) for d in decoded]
            previous = [np.array([self._start] + list(i[:-1] if len(i) else []), np.int32)
                        for i in ids]
        else:
            points = [np.asarray(self._split(d)[0], np.float32) for d in decoded]
            previous = [np.concatenate([np.zeros((1, p.shape[1]), np.float32), p[:-1]])
                        for p in points]
        layers = {layer.name: layer for layer in self.model_.layers}
        embed = layers.get("target_embedding") or layers["target_values"]
        spec = self._spec
        decoders = [layers[f"decoder_{spec.cell}_{i}"]
                    for i in range(len(spec.decoder_units))]
        per_layer = _n_states(spec.cell)
        result = [None] * len(source)
        for idx in sd.bucket_batches(lengths, int(self.batch_size)):
            src, mask = sd.pad_batch(source, idx, lengths, dtype=source[idx[0]].dtype)
            out_lengths = np.array([len(previous[i]) for i in idx])
            tgt, tmask = sd.pad_batch([previous[i] for i in idx], np.arange(len(idx)),
                                      out_lengths, dtype=previous[idx[0]].dtype)
            encoded = keras.tree.flatten(self._encoder([src, mask]))
            memory, states = encoded[0], encoded[1:]
            h = embed(tgt)
            for i, layer in enumerate(decoders):
                initial = states[i * per_layer:(i + 1) * per_layer]
                h = layer(h, mask=tmask, initial_state=initial)[0]
            _, scores = layers["attention"]([h, memory], mask=[tmask, mask],
                                            return_attention_scores=True)
            scores = keras.ops.convert_to_numpy(scores)
            for j, i in enumerate(idx):
                result[i] = scores[j, :out_lengths[j], :lengths[i]].astype(np.float64)
        return result

    def _compiled_models(self):
        """The encoder and the one-step decoder, compiled once per model."""
        from ..models._decoding import compiled

        if getattr(self, "_inference", None) is None:
            self._inference = (compiled(self._encoder), compiled(self._decoder_step))
        return self._inference

    def _decode_encoded(self, memory, mask, states, idx, future=None, paths=None):
        """Outputs decoded from encoded sources (:meth:`_decode_batch`; a stream's
        carried encoder states): ``memory`` (the encoder's outputs, None without
        attention), the source ``mask`` and the decoder's initial ``states``, one row per
        source of ``idx`` (repeated ``paths[0]`` times with ``paths``)."""
        from ..models._decoding import decode_encoded

        future = None if future is None else future[idx]
        point, drawn = (lambda raw: self._split(raw)[0]), []
        if paths is not None:
            n_paths, sample, rng = paths
            future = None if future is None else np.repeat(future, n_paths, axis=0)

            def point(raw):
                drawn.append(sample(raw, rng))
                return drawn[-1]
        numeric = self._target_kind != "tokens"
        horizon = self._numeric_horizon
        out, lens = decode_encoded(
            self._compiled_models()[1], memory, mask,
            states, len(states[0]), max_length=self._decode_length(), future=future,
            n_features=len(self._y_mean) if numeric else None,
            stop_early=horizon is None, start_id=self._start, end_id=self._end,
            beam_width=int(self.beam_width) if self.decoding == "beam" else 1,
            length_penalty=self.length_penalty,
            check=lambda rows: check_finite_outputs(
                self, rows, idx if paths is None else np.repeat(idx, paths[0])),
            point=point)
        if paths is not None:
            return np.stack(drawn, axis=1).reshape(len(idx), paths[0], len(drawn), -1)
        if numeric:
            values = [row[:n] for row, n in zip(out, lens)]
            check_finite_outputs(self, values, idx)
            return values
        vocab = self.target_vocabulary_.tokens_
        outs = []
        for row, length in zip(out, lens):
            toks = [vocab[t - 2] if 2 <= t < self._end else "" for t in row[:length]]
            outs.append("".join(toks) if self._target_strings else toks)
        return outs
