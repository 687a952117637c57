"""Log lines written by a thread of their own, so the event loop only hands records over.

A request writes several lines (one per upstream call, its operation, its audit), most of them
after its last upstream answer, on the way to its response: masking, JSON and the write cost
~35 µs a line on the event loop's thread, in the request's latency. The standard library's
``QueueHandler`` and ``QueueListener`` move that work to a thread: :class:`BackgroundHandler`
stamps the request id (a contextvar: unknown in another thread) and queues the record as it is
(the stock ``prepare`` would format it in the caller's thread, the work this avoids); the
listener's thread runs the real handler (``RedactingFilter``, ``JsonFormatter``, the stream).
Lines keep their order (one queue, one thread) and their timestamps (taken when the record is
made).

``flush()`` queues a marker and waits until the thread reaches it: every line queued before it
is written;
``close()`` writes what is queued and stops the thread; ``logging.shutdown`` (run at interpreter
exit) calls it, so a process that exits normally loses no line. One that a signal ends does not
run it: uvicorn, once shut down, re-raises the SIGTERM it caught. So the app, as it stops, calls
:func:`write_inline`: what is queued is written, and the last lines (its own, uvicorn's) are
written by their caller. A process killed outright loses what was queued and not yet written
(microseconds' worth).
"""

from __future__ import annotations

import logging
import queue
import threading
from logging.handlers import QueueHandler, QueueListener

from .request_id import current_request_id

__all__ = ["BackgroundHandler", "write_inline"]

_WAIT_S = 5.0  # the longest flush() waits for the thread


class _Listener(QueueListener):
    """The standard listener, which also sets the events ``flush()`` queues."""

    def handle(self, record: logging.LogRecord | threading.Event) -> None:
        if isinstance(record, threading.Event):
            record.set()
        else:
            super().handle(record)


class BackgroundHandler(QueueHandler):
    """Hands records to ``target`` in a listener thread (see the module docstring)."""

    def __init__(self, target: logging.Handler) -> None:
        super().__init__(queue.SimpleQueue())  # in C: a put costs a fraction of queue.Queue's
        self.target = target
        self._listener: _Listener | None = _Listener(self.queue, target)
        self._listener.start()

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        """The record as it is, with the caller's request id: the target masks and formats it."""
        if getattr(record, "request_id", None) is None:
            record.request_id = current_request_id()
        return record

    def emit(self, record: logging.LogRecord) -> None:
        if self._listener is None:  # written inline: the process is stopping
            self.target.handle(self.prepare(record))
        else:
            super().emit(record)

    def flush(self) -> None:
        """Wait until every record queued so far is written."""
        if self._listener is not None:
            written = threading.Event()
            self.queue.put_nowait(written)
            written.wait(_WAIT_S)
        self.target.flush()

    def write_inline(self) -> None:
        """Write what is queued, stop the thread, and from now on write in the caller's thread."""
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.stop()

    def close(self) -> None:
        self.write_inline()
        self.target.close()
        super().close()


def write_inline(logger: logging.Logger | None = None) -> None:
    """Every :class:`BackgroundHandler` of ``logger`` (the root by default) writes what it holds
    and, from now on, writes in the caller's thread: for a process about to stop."""
    for handler in (logger or logging.getLogger()).handlers:
        if isinstance(handler, BackgroundHandler):
            handler.write_inline()
