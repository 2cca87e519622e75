"""Streaming: a prediction after every new step, the recurrent state carried
(``est.stream()``; see docs/streaming.md)."""

from ._stream import Stream, StreamMixin, why_not_streamable

__all__ = ["Stream", "StreamMixin", "why_not_streamable"]
