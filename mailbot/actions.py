"""The commands people give, each applied to the store inside the caller's transaction.

Every action takes the locks it needs, runs the pure rule in `core`, and writes the
notifications of what happened to the outbox in the same transaction. A rejection leaves
nothing changed and propagates as the named `Rejection`, so the caller can still record its
answer in the same transaction: the rules refuse before they change a booking, and a change
of dates, which the database itself may refuse (overlap), runs in a savepoint.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from mailbot.core import booking as rules
from mailbot.core.events import Event
from mailbot.core.model import Booking
from mailbot.core.rejections import Conflict, NotPermitted
from mailbot.outbound.notify import notify
from mailbot.runtime import Cause, Runtime
from mailbot.store import queries

T = TypeVar("T")


class UnknownBooking(NotPermitted):
    """The booking does not exist (or no longer does); answered like not permitted."""


def _guarded(rt: Runtime, session: Session, start: date, end: date, own: int | None,
             change: Callable[[], T]) -> T:
    """Run a change in a savepoint; an overlap the database catches becomes a Conflict."""
    try:
        with session.begin_nested():
            result = change()
            session.flush()
            return result
    except IntegrityError:
        for other in queries.blocking_overlaps(session, start, end, own):
            raise Conflict(other.first_name, other.state, other.start, other.end) from None
        raise


def _locked(session: Session, booking_id: int) -> Booking:
    found = queries.booking(session, booking_id, lock=True)
    if found is None:
        raise UnknownBooking("open")
    return found


def _own(rt: Runtime, session: Session, booking_id: int, requester: str) -> Booking:
    found = _locked(session, booking_id)
    if found.requester_email != requester.strip().lower():
        raise NotPermitted("requester")
    return found


def _approver_key(rt: Runtime, approver: str) -> str:
    try:
        return rt.house.approver(approver).key
    except KeyError:
        raise NotPermitted("approver") from None


def submit(rt: Runtime, session: Session, request: rules.Request, cause: Cause) -> Booking:
    """A new request (BR-029: date writers are serialized; the loser gets the Conflict)."""
    def change() -> tuple[Booking, list[Event]]:
        rt.store.lock_dates(session)
        others = queries.blocking_overlaps(session, request.start, request.end)
        created, events = rules.submit(request, rt.house, rt.today(), rt.now(), others)
        session.add(created)
        return created, events

    created, events = _guarded(rt, session, request.start, request.end, None, change)
    # unauthenticated mail never renames a person it only claims to be
    queries.person(session, created.requester_email, rt.now(), created.first_name,
                   rename=request.authenticated)
    notify(rt, session, events, cause)
    return created


def approve(rt: Runtime, session: Session, booking_id: int, approver: str, cause: Cause,
            decision_round: int | None = None) -> list[Event]:
    """`decision_round`: the round of the mail or form the JA answers (None: the current)."""
    key = _approver_key(rt, approver)

    def change() -> list[Event]:
        return rules.approve(_locked(session, booking_id), key, rt.house, rt.today(), rt.now(),
                             decision_round)

    return _apply(rt, session, cause, change)


def deny(rt: Runtime, session: Session, booking_id: int, approver: str, reason: str | None,
         cause: Cause, confirmed: bool = False, decision_round: int | None = None) -> list[Event]:
    key = _approver_key(rt, approver)

    def change() -> list[Event]:
        found = _locked(session, booking_id)
        return rules.deny(found, key, reason, rt.house, rt.today(), rt.now(), confirmed,
                          decision_round)

    return _apply(rt, session, cause, change)


def cancel(rt: Runtime, session: Session, booking_id: int, requester: str, reason: str | None,
           cause: Cause, confirmed: bool = False) -> list[Event]:
    def change() -> list[Event]:
        found = _own(rt, session, booking_id, requester)
        return rules.cancel(found, reason, rt.house, rt.today(), rt.now(), confirmed)

    return _apply(rt, session, cause, change)


def reopen(rt: Runtime, session: Session, booking_id: int, requester: str, cause: Cause,
           start: date | None = None, end: date | None = None, note: str | None = None
           ) -> list[Event]:
    def change() -> list[Event]:
        rt.store.lock_dates(session)
        found = _own(rt, session, booking_id, requester)
        s, e = start or found.start, end or found.end
        others = queries.blocking_overlaps(session, s, e, booking_id)
        return rules.reopen(found, rt.house, rt.today(), rt.now(), others, start, end, note)

    return _apply(rt, session, cause, change, start, end, booking_id, dates=True)


def edit(rt: Runtime, session: Session, booking_id: int, requester: str, cause: Cause,
         start: date | None = None, end: date | None = None, party_size: int | None = None,
         first_name: str | None = None, long_stay_confirmed: bool = False) -> list[Event]:
    def change() -> list[Event]:
        rt.store.lock_dates(session)
        found = _own(rt, session, booking_id, requester)
        s, e = start or found.start, end or found.end
        others = queries.blocking_overlaps(session, s, e, booking_id)
        return rules.edit(found, rt.house, rt.today(), rt.now(), others, start, end, party_size,
                          first_name, long_stay_confirmed)

    return _apply(rt, session, cause, change, start, end, booking_id, dates=True)


def _apply(rt: Runtime, session: Session, cause: Cause, change: Callable[[], list[Event]],
           start: date | None = None, end: date | None = None, own: int | None = None,
           dates: bool = False) -> list[Event]:
    """`dates`: the change may widen a date range, which the database may refuse (savepoint).
    Otherwise a rule raises its rejection before it changes anything, so none is needed."""
    events = _guarded(rt, session, start or date.min, end or date.max, own, change) if dates else change()
    notify(rt, session, events, cause)
    return events
