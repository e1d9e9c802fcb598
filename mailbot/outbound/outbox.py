"""Queue an email: rendered now, written as an `OutboxMessage` row in the caller's
transaction, sent later by the worker (rendered once, sent once — BR-022).

Each recipient writes in their own `Conversation` (one per person × booking); its key,
signed, is the plus-part of the Reply-To address, so an answer finds its thread.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from email.utils import format_datetime, formataddr
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailbot import tokens
from mailbot.runtime import Cause, Runtime
from mailbot.store import queries
from mailbot.store.tables import Conversation, OutboxMessage, Person
from mailbot.web import links

QUEUED = "queued"
SENDING = "sending"  # claimed by a worker; lease ends at next_attempt_at
RETRYING = "retrying"
SENT = "sent"
FAILED = "failed"


def thread_for(rt: Runtime, session: Session, participant: str, role: str,
               booking_id: int | None = None, approver: str | None = None) -> Conversation:
    """The one conversation of this person about this booking (or about no booking yet)."""
    participant = participant.strip().lower()
    query = select(Conversation).where(Conversation.participant == participant)
    query = query.where(Conversation.booking_id.is_(None) if booking_id is None
                        else Conversation.booking_id == booking_id)
    found = session.scalars(query.order_by(Conversation.id)).first()
    if found is not None:
        return found
    now = rt.now()
    conversation = Conversation(key=tokens.new_id(), participant=participant, role=role,
                                approver=approver, booking_id=booking_id, created_at=now,
                                updated_at=now)
    session.add(conversation)
    session.flush()
    return conversation


def reply_address(rt: Runtime, conversation: Conversation) -> str:
    """buchung+<key>.<signature>@MAIL_DOMAIN"""
    sig = tokens.signature(rt.settings.secret_key, "reply", conversation.key)
    return f"{rt.settings.booking_local_part}+{conversation.key}.{sig}@{rt.settings.mail_domain}"


def sender(rt: Runtime) -> str:
    return formataddr((rt.house.name, rt.settings.booking_address))


def common_context(rt: Runtime, session: Session, to: str, booking_id: int | None) -> dict[str, Any]:
    """What every template may use. Links a recipient does not have are None."""
    approver = rt.house.approver_for_address(to)
    person = session.scalars(select(Person).where(Person.email == to)).first()
    link_id = person.link_id if person else None
    booking = queries.booking(session, booking_id) if booking_id is not None else None
    # requester links only for the booking's own requester
    own_link = link_id if booking is not None and booking.requester_email == to else None

    def requester_action(action: str) -> str | None:
        if own_link is None or booking_id is None:
            return None
        return links.requester_action_url(rt, own_link, booking_id, action)

    def approver_action(action: str) -> str | None:
        if approver is None or booking_id is None:
            return None
        return links.approver_action_url(rt, approver.key, booking_id, action)

    return {
        "house_name": rt.house.name,
        "recipient_name": approver.name if approver else (person.first_name if person else None),
        "is_approver": approver is not None,
        "is_requester": booking is not None and booking.requester_email == to,
        "booking": booking,
        "personal_url": links.person_url(rt, link_id) if link_id else None,
        "approver_url": links.approver_url(rt, approver.key) if approver else None,
        "booking_url": links.booking_url(rt, own_link, booking_id)
        if own_link and booking_id is not None else None,
        "cancel_url": requester_action("cancel"),
        "reopen_url": requester_action("reopen"),
        "edit_url": requester_action("edit"),
        "approver_booking_url": links.approver_booking_url(rt, approver.key, booking_id)
        if approver and booking_id is not None else None,
        "approve_url": approver_action("approve"),
        "deny_url": approver_action("deny"),
        "calendar_url": links.calendar_url(rt),
        "recover_url": links.recover_url(rt),
    }


def queue(rt: Runtime, session: Session, kind: str, to: str, context: dict[str, Any], cause: Cause,
          booking_id: int | None = None, conversation: Conversation | None = None,
          in_reply_to: str | None = None, references: Sequence[str] = ()) -> OutboxMessage:
    """Render `kind` for `to` now and add it to the outbox in the caller's transaction.

    `context` is laid over the common values (see `common_context`). `in_reply_to` is the
    Message-ID we answer; `references` that message's own References (oldest first)."""
    from mailbot.outbound.render import render

    to = to.strip().lower()
    if conversation is None:
        approver = rt.house.approver_for_address(to)
        booking = queries.booking(session, booking_id) if booking_id is not None else None
        role = ("approver" if approver else
                "requester" if booking is not None and booking.requester_email == to else "other")
        conversation = thread_for(rt, session, to, role, booking_id, approver.key if approver else None)
    rendered = render(kind, {**common_context(rt, session, to, booking_id), **context})
    now = rt.now()
    token = uuid.uuid4().hex
    message_id = f"<{token}@{rt.settings.mail_domain}>"
    reply_to = reply_address(rt, conversation)
    headers = {
        "From": sender(rt),
        "To": to,
        "Reply-To": reply_to,
        "Subject": rendered.subject,
        "Date": format_datetime(now),
        "Message-ID": message_id,
        "Auto-Submitted": "auto-replied" if in_reply_to else "auto-generated",
        "X-Auto-Response-Suppress": "All",
        "X-Mailbot-Correlation": cause.correlation_id,
        "X-Mailbot-Kind": kind,
    }
    if in_reply_to:
        headers["In-Reply-To"] = in_reply_to
        headers["References"] = " ".join([*references, in_reply_to])
    conversation.updated_at = now
    row = OutboxMessage(
        idempotency_key=f"mailbot-{token}",
        message_id=message_id,
        correlation_id=cause.correlation_id,
        kind=kind,
        to_address=to,
        reply_to=reply_to,
        subject=rendered.subject,
        text_body=rendered.text,
        html_body=rendered.html,
        headers=headers,
        state=QUEUED,
        attempts=0,
        next_attempt_at=now,
        created_at=now,
        booking_id=booking_id if booking_id is not None else conversation.booking_id,
        conversation_id=conversation.id,
        inbox_id=cause.inbox_id,
    )
    session.add(row)
    session.flush()
    return row
