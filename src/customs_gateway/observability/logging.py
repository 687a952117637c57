"""Structured logs: one JSON object per line, with the request id, and never a secret.

``configure_logging()`` installs one stdout handler on the root logger with :class:`JsonFormatter`
and :class:`RedactingFilter`; every ``logging.getLogger(...)`` in the gateway then writes JSON.
Fields passed as ``extra={...}`` become top-level keys (the guard logs ``authority``, ``endpoint``,
``outcome``, ``duration_ms``, ``attempt``; the operation observer ``operation``, ``duration_ms``,
``outcome``, ``error_codes``).

Secrets are kept out twice: by construction (settings hold ``SecretStr``, error messages carry no
credentials) and here, as a last line: values under known secret names (``Authorization``,
``sign``, ``app_secret``, tokens, cookies…) are replaced wherever they appear in ``extra``, and
``Bearer …`` / ``sign=…``-shaped text is masked in messages and tracebacks.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import re
import sys
from collections.abc import Mapping
from typing import IO, Any

import orjson

from .background import BackgroundHandler
from .request_id import current_request_id

__all__ = [
    "REDACTED",
    "JsonFormatter",
    "RedactingFilter",
    "configure_logging",
    "is_secret_name",
    "redact",
    "redact_text",
]

REDACTED = "[REDACTED]"
_SECRET_NAMES = frozenset(
    {
        "authorization",
        "proxy_authorization",
        "sign",
        "signature",
        "secret",
        "app_secret",
        "client_secret",
        "password",
        "token",
        "access_token",
        "refresh_token",
        "id_token",
        "api_key",
        "apikey",
        "x_api_key",
        "cookie",
        "set_cookie",
    }
)
_SECRET_SUFFIXES = ("_secret", "_token", "_password")
_NAMES = (
    r"authorization|sign|signature|(?:app|client)[_-]?secret|secret|password"
    r"|(?:access|refresh|id)[_-]?token|token|api[_-]?key"
)
_KEY_VALUE = re.compile(rf"(?i)\b({_NAMES})(\\?[\"']?\s*[:=]\s*\\?[\"']?)(?!\[REDACTED\])[^\s\"'&,;}}\]\\]+")
_SCHEME = re.compile(r"(?i)\b(bearer|basic)\s+(?!\[REDACTED\])[A-Za-z0-9._~+/=-]+")
# Set on a record by RedactingFilter once it has masked it: the formatter then need not mask it again.
_REDACTED_MARK = "_customs_gateway_redacted"
# The masked extra fields, as the filter found them: the formatter writes them without a second
# walk over the record's attributes.
_EXTRAS = "_customs_gateway_extras"
_STANDARD_ATTRS = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {
    "message",
    "asctime",
    _REDACTED_MARK,
    _EXTRAS,
}
_HANDLER_NAME = "customs_gateway.json"
_MEMO_CHARS = 256  # shorter texts (labels, routes, ids: the same few recur on every line) are memoized


@functools.lru_cache(maxsize=1024)  # field names: the same few on every line (bounded, pure)
def is_secret_name(name: str) -> bool:
    normal = name.lower().replace("-", "_")
    return normal in _SECRET_NAMES or normal.endswith(_SECRET_SUFFIXES)


def redact_text(text: str) -> str:
    """Mask ``Bearer xyz``, ``sign=abc``, ``"client_secret": "…"`` and the like in free text."""
    if len(text) <= _MEMO_CHARS:
        return _redact_short(text)
    return _redact(text)


def _redact(text: str) -> str:
    return _KEY_VALUE.sub(rf"\1\2{REDACTED}", _SCHEME.sub(rf"\1 {REDACTED}", text))


# Every log line masks each of its values; an upstream line's five are the same few texts
# ("KGD", "ok", a route...) line after line, and two regular-expression passes per value were a
# visible part of a request's CPU. Bounded, and keyed by the text only: the answer is a pure
# function of it.
_redact_short = functools.lru_cache(maxsize=4096)(_redact)


def redact(value: Any) -> Any:
    """``value`` with every entry under a secret name masked, recursively; text is masked too."""
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, Mapping):
        return {str(key): REDACTED if is_secret_name(str(key)) else redact(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [redact(item) for item in value]
    return value


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    return {key: value for key, value in record.__dict__.items() if key not in _STANDARD_ATTRS}


class RedactingFilter(logging.Filter):
    """Masks secrets in a record in place and stamps ``request_id`` on it; for any handler.

    On the handler (not a logger) so it also sees records that propagate up from child loggers.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, _REDACTED_MARK, False):
            return True  # a second handler with this filter: already done
        record.msg = redact_text(record.getMessage())
        record.args = None
        masked = {key: REDACTED if is_secret_name(key) else redact(value) for key, value in _extras(record).items()}
        record.__dict__.update(masked)
        if getattr(record, "request_id", None) is None:
            record.request_id = current_request_id()
        setattr(record, _EXTRAS, masked)
        setattr(record, _REDACTED_MARK, True)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per record: ``ts``, ``level``, ``logger``, ``message``, ``request_id``, extras."""

    def format(self, record: logging.LogRecord) -> str:
        # Masked by RedactingFilter already (the handler configure_logging installs has both),
        # unless this formatter serves a handler without it: then it masks on its own.
        done = getattr(record, _REDACTED_MARK, False)
        message = record.getMessage()
        line: dict[str, Any] = {
            "ts": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": message if done else redact_text(message),
        }
        request_id = getattr(record, "request_id", None) or current_request_id()
        if request_id is not None:
            line["request_id"] = request_id
        extras = getattr(record, _EXTRAS, None) if done else None
        for key, value in (_extras(record) if extras is None else extras).items():
            if key != "request_id":
                line[key] = value if done else REDACTED if is_secret_name(key) else redact(value)
        if record.exc_info:
            line["exc"] = redact_text(self.formatException(record.exc_info))
        elif record.exc_text:
            line["exc"] = redact_text(record.exc_text)
        return orjson.dumps(line, default=repr).decode()


def configure_logging(
    level: int | str = logging.INFO, stream: IO[str] | None = None, *, background: bool = False
) -> logging.Handler:
    """Send all logging to ``stream`` (stdout by default) as JSON lines; idempotent.

    Call once at startup (the CLI does, before creating the app); calling it again replaces our
    handler instead of adding a second one, so tests can point it at a buffer. ``background``:
    lines are masked, formatted and written by a thread of their own
    (:class:`~.background.BackgroundHandler`; the server does this), not by the caller.
    """
    root = logging.getLogger()
    for existing in [h for h in root.handlers if h.get_name() == _HANDLER_NAME]:
        root.removeHandler(existing)
        if isinstance(existing, BackgroundHandler):
            existing.close()  # writes what it holds, stops its thread
    writer = logging.StreamHandler(stream if stream is not None else sys.stdout)
    writer.setFormatter(JsonFormatter())
    writer.addFilter(RedactingFilter())
    handler: logging.Handler = BackgroundHandler(writer) if background else writer
    handler.set_name(_HANDLER_NAME)
    root.addHandler(handler)
    root.setLevel(level)
    # A line holds the fields above, never the caller's file and line, thread or process: the
    # records need not collect them (the logging module's documented switches). findCaller's
    # walk up the stack alone was a good part of writing a line, and a request writes several
    # (one per upstream call, its operation, its audit), the last ones before it is answered.
    logging._srcfile = None  # documented in the logging HOWTO, "Optimization"
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    # Our upstream line (customs_gateway.upstream) already records every exchange with authority,
    # endpoint route, outcome and duration; httpx's own INFO line would double each one and write
    # the full URL, ids and query strings included.
    for chatty in ("httpx", "httpcore"):
        logging.getLogger(chatty).setLevel(max(logging.WARNING, root.level))
    return handler
