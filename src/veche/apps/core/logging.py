"""Logs that hold no path, origin, address, name or text (Django's and gunicorn's alike).

What the server may write: that it started and stopped, that a worker was (re)started or
timed out, that a server error happened and in which code (the traceback's frames and
the exception's type). Never the request's path or query (an invitation secret, an
object id), an Origin or Referer, a client's or the server's address, a pseudonym, a
passphrase or a member's text. See docs/decisions/0075-logs-without-requests.md.

- Django: ``django.security.*`` (refused CSRF posts, bad Host headers, suspicious
  requests) and 4xx records of ``django.request`` are dropped; a 500's record keeps only
  "Internal Server Error" and its traceback.
- gunicorn (``veche.config.gunicorn``): no access log; its error log keeps only the
  messages in :data:`GUNICORN_KEPT`, and a refused request is one fixed line.
- Everything else that reaches a handler goes through :class:`RedactSecretsFilter` (no
  addresses; ``/join/<secret>``, ``/feeds/<secret>`` and bearer tokens redacted) and
  :class:`NoContentFormatter` (exception messages left out of tracebacks: they can quote
  data).
"""

from __future__ import annotations

import logging
import re
import traceback
from types import TracebackType

_JOIN_SECRET = re.compile(r"/join/[^/\s]+")
# A private feed's address holds its secret (veche.apps.api); an API token travels in a
# header no log line quotes, redacted all the same should a message ever hold one.
_FEED_SECRET = re.compile(r"/feeds/[^/\s]+")
_BEARER = re.compile(r"(?i)bearer\s+\S+")
# IPv4, and IPv6 written with at least two colons (so times like 12:30 are left alone).
_ADDRESS = re.compile(
    r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w.])"
    r"|(?<![\w:])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![\w:])"
)
CONTENT_LOGGERS = ("django.template", "django.db.backends")
# Loggers whose every record names what a visitor sent (a path, an Origin, a Host).
REQUEST_LOGGERS = ("django.security", "django.server")

# The messages gunicorn's error log may keep (by their beginning): the server's own life.
GUNICORN_KEPT = (
    "Starting gunicorn",
    "Using worker",
    "Booting worker",
    "Worker exiting",
    "Handling signal",
    "Shutting down",
    "WORKER TIMEOUT",
    "Worker (pid:",
    "Autorestarting worker",
    "graceful stop of workers",
    "Parent changed, shutting down",
    "Hang up",
    "Quick shutdown requested",
    "Reason: ",
    "Exception in worker process",
    "Unhandled exception in main loop",
    "Error handling request",
)
REFUSED_REQUEST = "A request was refused as malformed (what it held is not logged)."
WITHHELD = "A message was withheld from the log (it could hold what a visitor sent)."


def scrub(text: str) -> str:
    """Return ``text`` with addresses and invitation secrets replaced."""
    text = _JOIN_SECRET.sub("/join/<redacted>", text)
    text = _FEED_SECRET.sub("/feeds/<redacted>", text)
    text = _BEARER.sub("Bearer <redacted>", text)
    return _ADDRESS.sub("<address>", text)


class RedactSecretsFilter(logging.Filter):
    """Drop records that name requests; scrub addresses and secrets from the others."""

    def filter(self, record: logging.LogRecord) -> bool:
        # At DEBUG these carry page contexts and SQL parameters: members' texts.
        if record.name.startswith(CONTENT_LOGGERS + REQUEST_LOGGERS):
            return False
        # Django attaches the request to error records; drop it so no handler
        # can format headers (and with them, anything identifying) into the log.
        if hasattr(record, "request"):
            record.request = None
        if record.name == "django.request":
            # "Not Found: /path", "Forbidden: /path"…: what was asked says who asked.
            if record.levelno < logging.ERROR:
                return False
            record.msg, record.args = "Internal Server Error", None
            return True
        if record.name.startswith("gunicorn"):
            return _gunicorn(record)
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is still worth logging
            return True
        cleaned = scrub(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


def _gunicorn(record: logging.LogRecord) -> bool:
    if record.name == "gunicorn.access":
        return False
    try:
        message = record.getMessage()
    except Exception:
        message = str(record.msg)
    if message.startswith("Invalid request from"):
        record.msg, record.args = REFUSED_REQUEST, None
    elif message.startswith("Error handling request"):
        # "Error handling request GET /path": keep the traceback, not the request.
        record.msg, record.args = "Error handling a request", None
    elif message.startswith("Listening at"):
        record.msg, record.args = "Listening.", None
    elif message.startswith(GUNICORN_KEPT):
        record.msg, record.args = scrub(message), None
    else:
        record.msg, record.args = WITHHELD, None
        record.exc_info = None
        record.exc_text = None
    return True


ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]


class NoContentFormatter(logging.Formatter):
    """A formatter whose tracebacks show frames and exception types, not their messages."""

    def formatException(self, ei: ExcInfo | tuple[None, None, None]) -> str:
        if ei[1] is None:
            return ""
        exception = traceback.TracebackException(*ei)  # type: ignore[arg-type]
        return "".join(_frames_and_types(exception)).rstrip("\n")


def _frames_and_types(exception: traceback.TracebackException) -> list[str]:
    """Return the lines of a traceback, each exception shown by its type alone."""
    lines: list[str] = []
    if exception.__cause__ is not None:
        lines += _frames_and_types(exception.__cause__)
        lines.append("\nThe above exception was the direct cause of the following exception:\n\n")
    elif exception.__context__ is not None and not exception.__suppress_context__:
        lines += _frames_and_types(exception.__context__)
        lines.append("\nDuring handling of the above exception, another exception occurred:\n\n")
    lines.append("Traceback (most recent call last):\n")
    lines.extend(exception.stack.format())
    kind = exception.exc_type
    name = f"{kind.__module__}.{kind.__qualname__}" if kind is not None else "Exception"
    lines.append(f"{name} (its message is not logged)\n")
    return lines
