"""SPEC §5 "Bounded": a conversation that only bounces answers back and forth is stopped.

A message that replies to one of our answers continues a chain: that answer was caused by a
message, which may itself have replied to an earlier answer of ours, and so on. When the
last `loop_answers` links of the chain, all within `loop_window_minutes`, changed nothing
(a status, a question, help, a rejection), the message is not answered. The chain follows
Message-IDs, not addresses, so a partner who answers from a new address each time is
caught as well."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailbot.runtime import Runtime
from mailbot.store.tables import InboxMessage, OutboxMessage
from mailbot.understand import mime

# outcomes that changed a booking: a chain through one of them is a real conversation
CHANGED = frozenset({"submitted", "approved", "denied", "canceled", "edited", "reopened"})


def _replied_to(raw: bytes) -> str | None:
    found = mime.message_ids(mime.split_part(raw[:200_000]).get("in-reply-to", ""))
    return found[0] if found else None


def answers_in_a_row(rt: Runtime, session: Session, in_reply_to: str | None) -> int:
    """How many of our answers in a row, none of them after a change, this reply continues
    (counted up to `loop_answers`, within `loop_window_minutes`)."""
    limits = rt.house.limits
    since = rt.now() - timedelta(minutes=limits.loop_window_minutes)
    count, message_id, seen = 0, in_reply_to, set()
    while message_id and count < limits.loop_answers and message_id not in seen:
        seen.add(message_id)
        ours = session.scalars(select(OutboxMessage).where(
            OutboxMessage.message_id == message_id).limit(1)).first()
        if ours is None or ours.inbox_id is None or ours.created_at < since:
            break
        cause = session.get(InboxMessage, ours.inbox_id)
        if cause is None or cause.reason in CHANGED:
            break
        count += 1
        message_id = _replied_to(cause.raw)
    return count
