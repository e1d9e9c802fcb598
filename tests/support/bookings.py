"""Bookings made through the core rules at a chosen moment, stored without any mail, so a
test can set up weeks of history in a few lines. Times are Europe/Berlin."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from mailbot.core import booking as rules
from mailbot.core.model import Booking
from mailbot.runtime import Runtime
from mailbot.store import queries
from mailbot.store.tables import OutboxMessage

BERLIN = ZoneInfo("Europe/Berlin")


def berlin(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
           ) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=BERLIN)


def _today(at: datetime) -> date:
    return at.astimezone(BERLIN).date()


def book(rt: Runtime, first_name: str, start: date, end: date, at: datetime,
         requester: str | None = None, party_size: int = 4) -> int:
    """A request submitted at `at` (the core's checks apply as of that moment)."""
    request = rules.Request(requester or f"{first_name.lower()}@familie.example", first_name,
                            start, end, party_size, long_stay_confirmed=True)
    with rt.store.transaction() as session:
        others = queries.blocking_overlaps(session, start, end)
        booking, _ = rules.submit(request, rt.house, _today(at), at, others)
        session.add(booking)
        session.flush()
        assert booking.id is not None
        return booking.id


def approve(rt: Runtime, booking_id: int, approver: str, at: datetime) -> None:
    with rt.store.transaction() as session:
        found = queries.booking(session, booking_id, lock=True)
        assert found is not None
        rules.approve(found, approver, rt.house, _today(at), at)


def deny(rt: Runtime, booking_id: int, approver: str, at: datetime, reason: str = "wir sind da") -> None:
    with rt.store.transaction() as session:
        found = queries.booking(session, booking_id, lock=True)
        assert found is not None
        rules.deny(found, approver, reason, rt.house, _today(at), at)


def cancel(rt: Runtime, booking_id: int, at: datetime) -> None:
    with rt.store.transaction() as session:
        found = queries.booking(session, booking_id, lock=True)
        assert found is not None
        rules.cancel(found, None, rt.house, _today(at), at)


def confirm(rt: Runtime, booking_id: int, at: datetime) -> None:
    for approver in rt.house.approvers:
        with rt.store.transaction() as session:
            found = queries.booking(session, booking_id)
            assert found is not None
            if found.verdict(approver.key).value == "approved":
                continue
        approve(rt, booking_id, approver.key, at)


def load(rt: Runtime, booking_id: int) -> Booking | None:
    with rt.store.reading() as session:
        return queries.booking(session, booking_id)


def outbox(rt: Runtime) -> list[OutboxMessage]:
    with rt.store.reading() as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all())


def outbox_count(rt: Runtime) -> int:
    with rt.store.reading() as session:
        return int(session.scalar(select(func.count()).select_from(OutboxMessage)) or 0)


def approver_link(rt: Runtime, key: str) -> str:
    """The link id an approver's links sign (made on first use, as a mail to them would)."""
    with rt.store.transaction() as session:
        return queries.approver_link_id(session, rt.house.approver(key), rt.now())
