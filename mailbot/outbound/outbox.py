"""Queue an email: rendered now, written as an `OutboxMessage` row in the caller's
transaction, sent later by the worker (rendered once, sent once — BR-022).

Each recipient writes in their own `Conversation` (one per person × booking); its key,
signed, is the plus-part of the Reply-To address, so an answer finds its thread.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from email.utils import format_datetime, formataddr
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from mailbot import tokens
from mailbot.core.model import Booking
from mailbot.outbound.render import Rendered, render
from mailbot.runtime import Cause, Runtime
from mailbot.store import queries
from mailbot.store.tables import Conversation, OutboxMessage, Person, bookings
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
    return _threads(session, {participant: (role, approver)}, booking_id, rt.now())[participant]


def _threads(session: Session, wanted: dict[str, tuple[str, str | None]],
             booking_id: int | None, now: datetime, new_booking: bool = False) -> dict[str, Conversation]:
    """`thread_for` for several participants (address → role, approver key): one query,
    one flush for those who have none yet. A booking created in this transaction has no
    threads yet: nothing to look up."""
    found: dict[str, Conversation] = {}
    if not new_booking:
        query = select(Conversation).where(Conversation.participant.in_(wanted))
        query = query.where(Conversation.booking_id.is_(None) if booking_id is None
                            else Conversation.booking_id == booking_id)
        for conversation in session.scalars(query.order_by(Conversation.id)):
            found.setdefault(conversation.participant, conversation)
    missing = [address for address in wanted if address not in found]
    if missing:
        for address in missing:
            role, approver = wanted[address]
            found[address] = Conversation(key=tokens.new_id(), participant=address, role=role,
                                          approver=approver, booking_id=booking_id,
                                          created_at=now, updated_at=now)
        session.add_all([found[address] for address in missing])
        session.flush()
    return found


def reply_address(rt: Runtime, conversation: Conversation, decision_round: int | None = None) -> str:
    """buchung+<key>[.<round>].<signature>@MAIL_DOMAIN"""
    token = links.reply_token(rt, conversation.key, decision_round)
    return f"{rt.settings.booking_local_part}+{token}@{rt.settings.mail_domain}"


def sender(rt: Runtime) -> str:
    return formataddr((rt.house.name, rt.settings.booking_address))


def _with_bookings(rt: Runtime, session: Session, addresses: set[str], requester: str | None
                   ) -> set[str]:
    """Who of `addresses` may have the calendar link: approvers and people with a booking
    (a query only for those that are neither an approver nor this booking's requester)."""
    known = {a for a in addresses if a == requester or rt.house.approver_for_address(a)}
    unsure = addresses - known
    if unsure:
        known |= set(session.scalars(select(bookings.c.requester_email).distinct()
                                     .where(bookings.c.requester_email.in_(unsure))))
    return known


def common_context(rt: Runtime, to: str, person: Person | None, booking_id: int | None,
                   booking: Booking | None, calendar: bool = False) -> dict[str, Any]:
    """What every template may use. Links a recipient does not have are None; the calendar
    only for approvers and people with a booking (SPEC §6)."""
    approver = rt.house.approver_for_address(to)
    link_id = person.link_id if person else None  # an approver's row exists (see queue_all)
    # requester links only for the booking's own requester
    own_link = link_id if booking is not None and booking.requester_email == to else None

    def requester_action(action: str) -> str | None:
        if own_link is None or booking_id is None:
            return None
        return links.requester_action_url(rt, own_link, booking_id, action)

    def approver_action(action: str) -> str | None:
        if approver is None or link_id is None or booking_id is None:
            return None
        return links.approver_action_url(rt, link_id, booking_id, action,
                                         booking.decision_round if booking else None)

    return {
        "house_name": rt.house.name,
        "approver_names": [a.name for a in rt.house.approvers],
        "recipient_name": approver.name if approver else (person.first_name if person else None),
        "is_approver": approver is not None,
        "is_requester": booking is not None and booking.requester_email == to,
        "booking": booking,
        # an approver sees their personal page only in mails about their own request
        "personal_url": links.person_url(rt, link_id)
        if link_id and (approver is None or own_link is not None) else None,
        "approver_url": links.approver_url(rt, link_id) if approver and link_id else None,
        "booking_url": links.booking_url(rt, own_link, booking_id)
        if own_link and booking_id is not None else None,
        "cancel_url": requester_action("cancel"),
        "reopen_url": requester_action("reopen"),
        "edit_url": requester_action("edit"),
        "approver_booking_url": links.approver_booking_url(rt, link_id, booking_id)
        if approver and link_id and booking_id is not None else None,
        "approve_url": approver_action("approve"),
        "deny_url": approver_action("deny"),
        "calendar_url": links.calendar_url(rt, booking.start if booking is not None else None)
        if calendar else None,
        "recover_url": links.recover_url(rt),
    }


@dataclass(frozen=True)
class Queued:
    """What was written to the outbox."""

    id: int
    kind: str
    to_address: str
    subject: str
    text_body: str
    html_body: str


@dataclass(frozen=True)
class Mail:
    """One email to queue. `context` is laid over the common values (see `common_context`);
    `in_reply_to` is the Message-ID we answer, `references` that message's own References
    (oldest first). Without `conversation`, the recipient's thread about the booking."""

    kind: str
    to: str
    context: dict[str, Any]
    conversation: Conversation | None = None
    in_reply_to: str | None = None
    references: Sequence[str] = ()
    attachments: Sequence[dict[str, str]] = ()  # {"filename", "content_type", "content"}


def queue(rt: Runtime, session: Session, kind: str, to: str, context: dict[str, Any], cause: Cause,
          booking_id: int | None = None, conversation: Conversation | None = None,
          in_reply_to: str | None = None, references: Sequence[str] = ()) -> Queued:
    """Render `kind` for `to` now and add it to the outbox in the caller's transaction."""
    mail = Mail(kind, to, context, conversation, in_reply_to, tuple(references))
    return queue_all(rt, session, [mail], cause, booking_id)[0]


# one INSERT … RETURNING for all rows, on the table: the rows are not needed as objects
_INSERT = insert(OutboxMessage.__table__).returning(OutboxMessage.__table__.c.id,
                                                    sort_by_parameter_order=True)


def queue_all(rt: Runtime, session: Session, mails: Sequence[Mail], cause: Cause,
              booking_id: int | None = None, new_booking: bool = False) -> list[Queued]:
    """Render each mail now and add them all to the outbox in the caller's transaction,
    with one query for the recipients, one for their threads and one insert.
    `new_booking`: the booking was created in this transaction."""
    targets = [(mail, mail.to.strip().lower()) for mail in mails]
    people = {p.email: p for p in session.scalars(
        select(Person).where(Person.email.in_({to for _, to in targets})))}
    booking = queries.booking(session, booking_id) if booking_id is not None else None
    now = rt.now()
    requester = booking.requester_email if booking is not None else None
    for _, to in targets:
        # the requester's and an approver's link must exist before the mail that carries it
        if to not in people and (to == requester or rt.house.approver_for_address(to)):
            people[to] = queries.person(session, to, now)
    booked = _with_bookings(rt, session, {to for _, to in targets}, requester)
    wanted: dict[str, tuple[str, str | None]] = {}
    for mail, to in targets:
        if mail.conversation is None:
            approver = rt.house.approver_for_address(to)
            role = ("approver" if approver else
                    "requester" if booking is not None and booking.requester_email == to else "other")
            wanted[to] = (role, approver.key if approver else None)
    threads = _threads(session, wanted, booking_id, now, new_booking) if wanted else {}
    rows = []
    for mail, to in targets:
        if mail.in_reply_to is None and cause.message_id and to == cause.sender:
            # what a message causes for its own sender answers it, in its thread
            mail = replace(mail, in_reply_to=cause.message_id, references=cause.references)
        conversation = mail.conversation or threads[to]
        rendered = render(mail.kind, {**common_context(rt, to, people.get(to), booking_id, booking,
                                                       to in booked), **mail.context})
        rows.append(_row(rt, mail, to, rendered, conversation, cause, now, booking_id,
                         booking.decision_round if booking is not None else None))
    ids = session.scalars(_INSERT, rows).all()
    return [Queued(id, row["kind"], row["to_address"], row["subject"], row["text_body"], row["html_body"])
            for id, row in zip(ids, rows, strict=True)]


def _row(rt: Runtime, mail: Mail, to: str, rendered: Rendered, conversation: Conversation,
         cause: Cause, now: datetime, booking_id: int | None, decision_round: int | None
         ) -> dict[str, Any]:
    token = uuid.uuid4().hex
    message_id = f"<{token}@{rt.settings.mail_domain}>"
    reply_to = reply_address(rt, conversation, decision_round)
    headers = {
        "From": sender(rt),
        "To": to,
        "Reply-To": reply_to,
        "Subject": rendered.subject,
        "Date": format_datetime(now),
        "Message-ID": message_id,
        "Auto-Submitted": "auto-replied" if mail.in_reply_to else "auto-generated",
        "X-Auto-Response-Suppress": "All",
        "X-Mailbot-Correlation": cause.correlation_id,
        "X-Mailbot-Kind": mail.kind,
    }
    if mail.in_reply_to:
        headers["In-Reply-To"] = mail.in_reply_to
        headers["References"] = " ".join([*mail.references, mail.in_reply_to])
    if conversation.updated_at != now:
        conversation.updated_at = now
    return dict(
        idempotency_key=f"mailbot-{token}",
        message_id=message_id,
        correlation_id=cause.correlation_id,
        kind=mail.kind,
        to_address=to,
        reply_to=reply_to,
        subject=rendered.subject,
        text_body=rendered.text,
        html_body=rendered.html,
        headers=headers,
        attachments=list(mail.attachments) or None,
        state=QUEUED,
        attempts=0,
        next_attempt_at=now,
        created_at=now,
        booking_id=booking_id if booking_id is not None else conversation.booking_id,
        conversation_id=conversation.id,
        inbox_id=cause.inbox_id,
    )
