"""Warnings that point at the user's code.

Every warning skrnn raises goes through :func:`warn`, which gives ``warnings.warn`` the
``stacklevel`` of the first frame outside the package (the line that called ``fit``,
``predict``, ``stream`` ...) however deep inside skrnn it is raised: a fixed stacklevel
names skrnn's own lines as soon as the call path changes. No imports beyond the standard
library (every layer reads this module).
"""

from __future__ import annotations

import os
import sys
import warnings

_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep


def caller_stacklevel() -> int:
    """The ``stacklevel`` (for a ``warnings.warn`` in the function that calls this one)
    of the frame just outside the outermost skrnn frame on the stack (1, the caller
    itself, when it is outside skrnn)."""
    frame, level, outermost = sys._getframe(1), 1, 0
    while frame is not None:
        if os.path.abspath(frame.f_code.co_filename).startswith(_PACKAGE):
            outermost = level
        frame, level = frame.f_back, level + 1
    return outermost + 1


def warn(message: str, category: type[Warning] = UserWarning) -> None:
    """``warnings.warn(message, category)`` naming the user's line."""
    warnings.warn(message, category, stacklevel=caller_stacklevel())
