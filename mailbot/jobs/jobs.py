"""The scheduled jobs (SPEC §7), each a plain function of (runtime, now) that returns a
one-line summary. Times are the house's (Europe/Berlin); `now` is aware."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailbot import tokens
from mailbot.config import Approver
from mailbot.core import booking as rules
from mailbot.core.model import Booking, State, Verdict
from mailbot.outbound import waiting
from mailbot.runtime import Cause, Runtime
from mailbot.store import purge as purging
from mailbot.store import queries
from mailbot.store.tables import Conversation, bookings
from mailbot.web import links

log = logging.getLogger("mailbot.jobs")


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _today(rt: Runtime, now: datetime) -> date:
    return now.astimezone(rt.house.timezone).date()


def cleanup(rt: Runtime, now: datetime) -> str:
    """BR-028: Pending bookings whose end has passed become Canceled, silently; waiting
    wishes for dates that have come are dropped."""
    today = _today(rt, now)

    def work(session: Session) -> list[int]:
        query = (select(Booking)
                 .where(bookings.c.state == State.PENDING, bookings.c.end_date < today)
                 .order_by(bookings.c.id)
                 .with_for_update().execution_options(populate_existing=True))
        expired: list[int] = []
        for booking in session.scalars(query).all():
            rules.expire(booking, today, rt.now())  # nobody is told: no outbox row
            expired.append(booking.id or 0)
        # an expired stay lies in the past: it frees no date anyone still waits for; wishes
        # whose dates have come are dropped (one can no longer ask for them)
        waiting.drop_past(session, today)
        return expired

    expired = rt.store.run(work)
    if expired:
        log.info("expired past pending bookings", extra={"job": "cleanup", "bookings": expired})
    return f"{_count(len(expired), 'Buchung', 'Buchungen')} abgelaufen" if expired \
        else "Keine Buchung abgelaufen"


def purge(rt: Runtime, now: datetime) -> str:
    """BR-013: delete Canceled bookings archived long ago and past Denied ones, with the
    personal data that came with them (see `store.purge`). Past Confirmed bookings stay."""
    archived_before = now - timedelta(days=rt.house.limits.purge_canceled_after_days)
    keep = {a for approver in rt.house.approvers for a in approver.addresses}
    keep |= rt.house.admin_addresses

    def work(session: Session) -> purging.Purged:
        return purging.purge(session, archived_before, _today(rt, now), rt.now(), keep)

    done = rt.store.run(work)
    if not done.canceled + done.denied + done.people:
        return "Keine Buchung gelöscht"
    log.info("purged old bookings", extra={"job": "purge", "canceled": done.canceled,
                                           "denied": done.denied, "people": done.people})
    return (f"{_count(done.canceled + done.denied, 'Buchung', 'Buchungen')} gelöscht "
            f"({done.canceled} storniert, {done.denied} abgelehnt)")


@dataclass(frozen=True)
class DigestItem:
    booking: Booking
    days_waiting: int
    booking_url: str
    approve_url: str
    deny_url: str


def digest_items(rt: Runtime, session: Session, approver: Approver, now: datetime) -> list[DigestItem]:
    """BR-009: Pending, this approver still NoResponse, waiting ≥ 5 days (the day of the
    request is day 0, counted in Berlin calendar days), not past; soonest start first."""
    tz = rt.house.timezone
    today = _today(rt, now)
    query = select(Booking).where(bookings.c.state == State.PENDING, bookings.c.end_date >= today)
    items = []
    link_id = ""
    for booking in session.scalars(query).all():
        if booking.verdict(approver.key) != Verdict.NO_RESPONSE or booking.created_at is None:
            continue
        waiting = (today - booking.created_at.astimezone(tz).date()).days
        if waiting < rt.house.limits.digest_min_age_days:
            continue
        assert booking.id is not None
        link_id = link_id or queries.approver_link_id(session, approver, now)
        items.append(DigestItem(
            booking, waiting,
            links.approver_booking_url(rt, link_id, booking.id),
            links.approver_action_url(rt, link_id, booking.id, "approve", booking.decision_round),
            links.approver_action_url(rt, link_id, booking.id, "deny", booking.decision_round),
        ))
    return sorted(items, key=lambda item: (item.booking.start, item.booking.id or 0))


def digest(rt: Runtime, now: datetime) -> str:
    """BR-009: one reminder per approver with waiting requests; none when nothing waits."""
    from mailbot.outbound import outbox

    cause = Cause.new()

    def work(session: Session) -> dict[str, int]:
        sent: dict[str, int] = {}
        for approver in rt.house.approvers:
            items = digest_items(rt, session, approver, now)
            if not items:
                continue
            context: dict[str, Any] = {"items": items, "count": len(items),
                                       "min_age": rt.house.limits.digest_min_age_days}
            # a reply to the digest acts on the request it means (conversation.which)
            # (a conversation per digest: a reply to last week's acts on last week's list)
            thread = Conversation(key=tokens.new_id(), participant=approver.email,
                                  role="approver", approver=approver.key, created_at=rt.now(),
                                  updated_at=rt.now(), awaiting="which:decide",
                                  draft={"ids": [item.booking.id for item in items]})
            session.add(thread)
            session.flush()
            outbox.queue(rt, session, "digest", approver.email, context, cause,
                         conversation=thread)
            sent[approver.key] = len(items)
        return sent

    sent = rt.store.run(work)
    if not sent:
        return "Keine Erinnerung nötig"
    log.info("digest queued", extra={"job": "digest", "correlation_id": cause.correlation_id,
                                     "approvers": sent})
    return (f"Erinnerung an {_count(len(sent), 'Freigebende', 'Freigebende')} verschickt "
            f"({', '.join(f'{key}: {n}' for key, n in sent.items())})")


def _number(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def outbox_sweep(rt: Runtime, now: datetime) -> str:
    """Send (or retry) every outbox row that is due."""
    from mailbot.outbound.worker import send_due

    n = _number(send_due(rt))
    return "Postausgang geprüft" if n is None else f"Postausgang: {_count(n, 'Mail', 'Mails')} verschickt"


def inbox_sweep(rt: Runtime, now: datetime) -> str:
    """Pick up every inbound message not processed yet (e.g. after a crash)."""
    from mailbot.inbound.worker import process_pending

    n = _number(process_pending(rt))
    return "Posteingang geprüft" if n is None \
        else f"Posteingang: {_count(n, 'Nachricht', 'Nachrichten')} verarbeitet"
