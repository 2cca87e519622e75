"""Batches prepared ahead of the step that needs them, in a background thread.

Gathering and padding a batch, and copying it to the device (:meth:`Step.stage`), are
host work that the device need not wait for: while the step trains on batch ``b`` the
thread prepares ``b + 1`` and ``b + 2`` (NumPy's copies and the backends' transfers
release the GIL). Order is kept, so training is exactly what it was without the thread.
"""

from __future__ import annotations

import queue
import threading

_DONE = object()


class _Failure:
    def __init__(self, error):
        self.error = error


def prefetch(make, items, depth: int = 2):
    """Yield ``make(item)`` for each of ``items`` in order, computed up to ``depth``
    items ahead in a daemon thread. An exception in ``make`` is raised here, at the item
    that raised it; closing the generator early (``break``) stops the thread."""
    ready: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(value) -> bool:
        while not stop.is_set():
            try:
                ready.put(value, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def work():
        try:
            for item in items:
                if not put(make(item)):
                    return
        except BaseException as error:  # handed to the consumer, raised there
            put(_Failure(error))
            return
        put(_DONE)

    thread = threading.Thread(target=work, name="skrnn-prefetch", daemon=True)
    thread.start()
    try:
        while True:
            value = ready.get()
            if value is _DONE:
                return
            if isinstance(value, _Failure):
                raise value.error
            yield value
    finally:
        stop.set()
        thread.join()
