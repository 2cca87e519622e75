"""Streaming: a prediction after every new step, the recurrent state carried
(``est.stream()``; see docs/streaming.md)."""

from ._mixin import StreamMixin, why_not_streamable
from ._stream import Stream

__all__ = ["Stream", "StreamMixin", "why_not_streamable"]
