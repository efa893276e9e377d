"""Structured, PII-safe logging for the app's logger.

In Lambda every line printed goes to CloudWatch Logs, where people with far broader access
than the sales team's data warrants can read it, and where it is kept for weeks. So the app's
log lines are JSON objects (one per line, queryable with CloudWatch Logs Insights), phone
numbers in any message are masked, and exceptions are logged by type and code location only:
an exception's *message* often carries the input that caused it (a phone number, a name, a
Twilio error quoting the number), so it is never written.
"""

from __future__ import annotations

import json
import logging
import re
import traceback
from typing import Any

from chalicelib.phone import mask

# E.164 as stored everywhere (+ and 7 to 15 digits). Numbers in other forms never reach a log
# line from our code: they are normalised at the edge before anything else sees them.
_E164 = re.compile(r"\+[1-9]\d{6,14}")


def mask_phones(text: str) -> str:
    """Replace every E.164 number in `text` by its masked form (country code, last 2 digits)."""
    return _E164.sub(lambda m: mask(m.group(0)), text)


def _safe_trace(record: logging.LogRecord) -> list[str]:
    """Where an exception came from, without its message: file, line and function per frame."""
    if not record.exc_info or record.exc_info[2] is None:
        return []
    return [
        f"{frame.filename}:{frame.lineno} in {frame.name}"
        for frame in traceback.extract_tb(record.exc_info[2])
    ]


class JsonFormatter(logging.Formatter):
    """One JSON object per record. A message that already is a JSON object (the request line)
    is merged as is; any other message goes under "msg". Phones are masked in both."""

    def format(self, record: logging.LogRecord) -> str:
        text = mask_phones(record.getMessage())
        payload: dict[str, Any] = {}
        if text.startswith("{"):
            try:
                parsed = json.loads(text)
            except ValueError:
                parsed = None
            if isinstance(parsed, dict):
                payload.update(parsed)
        if not payload:
            payload["msg"] = text
        payload.setdefault("level", record.levelname)
        payload.setdefault("logger", record.name)
        if record.exc_info and record.exc_info[0] is not None:
            payload["error"] = record.exc_info[0].__name__
            payload["trace"] = _safe_trace(record)
        return json.dumps(payload, separators=(",", ":"), default=str)


def configure(logger: logging.Logger) -> None:
    """Give every handler of `logger` the JSON formatter; add a stdout handler if it has none.

    Chalice attaches its own stdout handler to the app logger (with `propagate = False`), so
    formatting there, rather than on the root logger, is what reaches CloudWatch.
    """
    if not logger.handlers:
        import sys

        logger.addHandler(logging.StreamHandler(sys.stdout))
        logger.propagate = False
    for handler in logger.handlers:
        handler.setFormatter(JsonFormatter())
