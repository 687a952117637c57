"""Log lines written by a thread of their own, so the event loop only hands records over.

A request writes several lines (one per upstream call, its operation, its audit), most of them
after its last upstream answer, on the way to its response: masking, JSON and the write cost
~35 µs a line on the event loop's thread, in the request's latency. :class:`BackgroundHandler`
stamps the request id (a contextvar: unknown in another thread) and queues the record; its
writer thread runs the real handler (``RedactingFilter``, ``JsonFormatter``, the stream) while
the event loop waits for sockets. Lines keep their order (one queue, one writer) and their
timestamps (taken when the record is made).

``flush()`` waits until every line queued before it is written; ``close()`` writes what is
queued and stops the writer. ``logging.shutdown`` (registered by the logging module, run at
interpreter exit) does both, so a process that exits normally loses no line. One that a signal
ends does not run it: uvicorn, once shut down, re-raises the SIGTERM it caught. So the app, as
it stops, calls :func:`write_inline`: what is queued is written, and the last lines (its own,
uvicorn's) are written by their caller. A process killed outright loses what was queued and not
yet written (microseconds' worth).
"""

from __future__ import annotations

import logging
import queue
import threading

from .request_id import current_request_id

__all__ = ["BackgroundHandler", "write_inline"]

_STOP = object()
_WAIT_S = 5.0  # the longest flush() or close() waits for the writer


class BackgroundHandler(logging.Handler):
    """Hands records to ``target`` in a writer thread (see the module docstring)."""

    def __init__(self, target: logging.Handler) -> None:
        super().__init__()
        self.target = target
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._inline = False
        self._writer = threading.Thread(target=self._write, name="customs-gateway-log", daemon=True)
        self._writer.start()

    def emit(self, record: logging.LogRecord) -> None:
        if getattr(record, "request_id", None) is None:
            record.request_id = current_request_id()
        if self._inline:
            self.target.handle(record)
        else:
            self._queue.put(record)

    def write_inline(self) -> None:
        """Write what is queued, stop the writer, and from now on write in the caller's thread."""
        self._stop_writer()
        self._inline = True

    def flush(self) -> None:
        """Wait until every record queued so far is written (at most a few seconds)."""
        if self._writer.is_alive():
            written = threading.Event()
            self._queue.put(written)
            written.wait(_WAIT_S)
        self.target.flush()

    def close(self) -> None:
        self._stop_writer()
        self.target.close()
        super().close()

    def _stop_writer(self) -> None:
        if self._writer.is_alive():
            self._queue.put(_STOP)
            self._writer.join(_WAIT_S)

    def _write(self) -> None:
        while True:
            item = self._queue.get()
            if item is _STOP:
                return
            if isinstance(item, threading.Event):
                item.set()
            elif isinstance(item, logging.LogRecord):
                self.target.handle(item)  # its filters, its formatter; errors via its handleError


def write_inline(logger: logging.Logger | None = None) -> None:
    """Every :class:`BackgroundHandler` of ``logger`` (the root by default) writes what it holds
    and, from now on, writes in the caller's thread: for a process about to stop."""
    for handler in (logger or logging.getLogger()).handlers:
        if isinstance(handler, BackgroundHandler):
            handler.write_inline()
