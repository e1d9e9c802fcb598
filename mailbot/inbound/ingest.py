"""The pipe edge for an MTA (`mailbot ingest < message.eml`): exit 0 once stored.

`DatabaseUnavailable` propagates; the CLI turns it into exit 75 (EX_TEMPFAIL), so the MTA
keeps the message and tries again."""

from __future__ import annotations

import sys

from mailbot.inbound import inbox
from mailbot.runtime import Runtime

EX_OK = 0
EX_DATAERR = 65  # the MTA bounces the message to its sender


def ingest(rt: Runtime, raw: bytes) -> int:
    if not raw.strip():
        print("mailbot: empty message, nothing stored", file=sys.stderr)
        return EX_DATAERR
    if len(raw) > rt.house.limits.max_message_bytes:
        print(f"mailbot: message of {len(raw)} bytes is larger than the limit of "
              f"{rt.house.limits.max_message_bytes}", file=sys.stderr)
        return EX_DATAERR
    inbox.store_raw(rt, raw, "pipe", inbox.content_id(raw))
    return EX_OK
