"""BR-013: forgetting. A purged booking takes the personal data that came with it: its raw
inbound mails, its outbound mails (rendered bodies included), its conversations, and every
person who then has no booking and no open conversation left, with whatever still names
their address. Set-based statements; decisions and the timeline go by ON DELETE CASCADE.
Mail still on its way (inbound `received`, outbound not yet sent) is never touched."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import ColumnElement, delete, exists, func, or_, select
from sqlalchemy.orm import Session

from mailbot.core.model import State
from mailbot.store.tables import (
    Conversation,
    InboxMessage,
    OutboxMessage,
    Person,
    RateEvent,
    WaitingWish,
    bookings,
)

IN_FLIGHT_OUT = ("queued", "sending", "retrying")
RATE_WINDOW_DAYS = 2  # no limit looks further back than a day


@dataclass(frozen=True)
class Purged:
    canceled: int
    denied: int
    people: int


def purge(session: Session, archived_before: datetime, today: date, now: datetime,
          keep: Collection[str]) -> Purged:
    """Delete Canceled bookings archived before `archived_before` and Denied ones whose end
    is past, then forget the people left without a booking or an open conversation (except
    the addresses in `keep`: approvers and admins, whose rows carry their links)."""
    canceled = (bookings.c.state == State.CANCELED) & (bookings.c.archived_at < archived_before)
    denied = (bookings.c.state == State.DENIED) & (bookings.c.end_date < today)
    counts: dict[object, int] = {state: n for state, n in session.execute(
        select(bookings.c.state, func.count()).where(canceled | denied).group_by(bookings.c.state))}
    doomed = select(bookings.c.id).where(canceled | denied).scalar_subquery()
    session.execute(delete(InboxMessage).where(InboxMessage.booking_id.in_(doomed),
                                               InboxMessage.state != "received"))
    session.execute(delete(OutboxMessage).where(OutboxMessage.booking_id.in_(doomed),
                                                OutboxMessage.state.not_in(IN_FLIGHT_OUT)))
    session.execute(delete(Conversation).where(Conversation.booking_id.in_(doomed)))
    session.execute(delete(bookings).where(canceled | denied))
    forgotten = _forget_people(session, keep)
    session.execute(delete(RateEvent).where(RateEvent.at < now - timedelta(days=RATE_WINDOW_DAYS)))
    return Purged(int(counts.get(State.CANCELED, 0)), int(counts.get(State.DENIED, 0)), forgotten)


def _forget_people(session: Session, keep: Collection[str]) -> int:
    has_booking = exists().where(bookings.c.requester_email == Person.email)
    open_talk = exists().where(Conversation.participant == Person.email,
                               Conversation.awaiting.is_not(None))
    unread = exists().where(func.lower(InboxMessage.from_address) == Person.email,
                            InboxMessage.state == "received")
    waits = exists().where(WaitingWish.address == Person.email)  # asked to be told: keep
    query = select(Person.email).where(~has_booking, ~open_talk, ~unread, ~waits)
    if keep:
        query = query.where(Person.email.not_in(list(keep)))
    addresses = list(session.scalars(query))
    for start in range(0, len(addresses), 500):  # bound the size of each IN list
        chunk = addresses[start:start + 500]
        session.execute(delete(InboxMessage).where(func.lower(InboxMessage.from_address).in_(chunk),
                                                   InboxMessage.state != "received"))
        session.execute(delete(OutboxMessage).where(OutboxMessage.to_address.in_(chunk),
                                                    OutboxMessage.state.not_in(IN_FLIGHT_OUT)))
        session.execute(delete(Conversation).where(Conversation.participant.in_(chunk)))
        session.execute(delete(RateEvent).where(_names_any(chunk)))
        session.execute(delete(Person).where(Person.email.in_(chunk)))
    return len(addresses)


def _names_any(addresses: list[str]) -> ColumnElement[bool]:
    """Rate subjects are an address or carry one (`kind:address:matter`)."""
    return or_(*(RateEvent.subject.contains(address, autoescape=True) for address in addresses))
