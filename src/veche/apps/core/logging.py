"""Logging filter that keeps invitation secrets and members' texts out of the logs."""

from __future__ import annotations

import logging
import re

_JOIN_SECRET = re.compile(r"/join/[^/\s]+")
CONTENT_LOGGERS = ("django.template", "django.db.backends")


class RedactSecretsFilter(logging.Filter):
    """Replace ``/join/<secret>`` with ``/join/<redacted>`` in every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        # At DEBUG these carry page contexts and SQL parameters: members' texts.
        if record.name.startswith(CONTENT_LOGGERS):
            return False
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is still worth logging
            return True
        if "/join/" in message:
            record.msg = _JOIN_SECRET.sub("/join/<redacted>", message)
            record.args = None
        # Django attaches the request to error records; drop it so no handler
        # can format headers (and with them, anything identifying) into the log.
        if hasattr(record, "request"):
            record.request = None
        return True
