"""Structured logs: one JSON object per line on stderr.

A correlation id follows an inbound message to the outbox rows and sends it causes: set it
with `correlation(cid)` around the work (or pass `extra={"correlation_id": …}`), and every
line logged inside carries it. Email addresses in a line are masked; bodies and secrets are
never logged in the first place.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

_correlation: ContextVar[str | None] = ContextVar("mailbot_correlation_id", default=None)
_ADDRESS = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
# a signed value as `tokens.sign` writes it (`<value>.<16 base32 characters>`)
_TOKEN = re.compile(r"[A-Za-z0-9_.-]{3,}\.[A-Za-z2-7]{16}(?![A-Za-z0-9])")
_SECRET_KEYS = ("password", "secret", "token", "api_key", "apikey", "authorization", "body", "raw")
# Attributes every LogRecord has; anything else on a record came from `extra`.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime",
                                                                          "taskName"}


def current_correlation() -> str | None:
    return _correlation.get()


@contextmanager
def correlation(correlation_id: str | None) -> Iterator[None]:
    """Every line logged inside (this thread or task) carries `correlation_id`."""
    token = _correlation.set(correlation_id)
    try:
        yield
    finally:
        _correlation.reset(token)


def mask(address: str | None) -> str | None:
    """ingeborg@example.org → i…@example.org#1f3a9c (the hash tells two addresses apart)."""
    if not address:
        return address
    local, _, domain = address.strip().lower().rpartition("@")
    digest = hashlib.sha256(address.strip().lower().encode()).hexdigest()[:6]
    return f"{local[:1]}…@{domain}#{digest}" if local else f"…#{digest}"


def redact(text: str) -> str:
    """Mask every address and every signed token (links, reply keys) in a free text."""
    return _ADDRESS.sub(lambda m: mask(m.group(0)) or "", _TOKEN.sub("[token]", text))


def _clean(key: str, value: Any) -> Any:
    if any(word in key.lower() for word in _SECRET_KEYS):
        return "[redacted]"
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, (int, float, bool)) or value is None:
        return value
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_clean(key, v) for v in value]
    if isinstance(value, dict):
        return {str(k): _clean(str(k), v) for k, v in value.items()}
    return redact(str(value))


class JsonFormatter(logging.Formatter):
    """One line: time, level, logger, message, correlation_id and the `extra` fields."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        cid = getattr(record, "correlation_id", None) or _correlation.get()
        if cid:
            line["correlation_id"] = cid
        for key, value in vars(record).items():
            if key not in _STANDARD and key != "correlation_id" and not key.startswith("_"):
                line[key] = _clean(key, value)
        if record.exc_info and record.exc_info[0] is not None:
            line["error"] = record.exc_info[0].__name__
            line["traceback"] = redact(self.formatException(record.exc_info))
        return json.dumps(line, ensure_ascii=False, default=str)


def setup_logging(level: str | int | None = None) -> None:
    """JSON lines on stderr for the whole process (LOG_LEVEL, default INFO)."""
    chosen = level if level is not None else os.environ.get("LOG_LEVEL", "INFO")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(chosen.upper() if isinstance(chosen, str) else chosen)
    for noisy in ("apscheduler", "alembic", "uvicorn.access", "mail.log"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
