"""BR-013: the monthly purge deletes Canceled bookings archived more than a year ago and
Denied bookings whose end is past; past Confirmed bookings are kept forever."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from mailbot.jobs import run_job
from mailbot.runtime import Runtime
from mailbot.store.tables import decisions, timeline
from tests.conftest import Clock
from tests.support.bookings import berlin, book, cancel, confirm, deny, load, outbox_count


def _rows(rt: Runtime, booking_id: int) -> int:
    with rt.store.reading() as session:
        return sum(int(session.scalar(select(func.count()).select_from(t)
                                      .where(t.c.booking_id == booking_id)) or 0)
                   for t in (decisions, timeline))


def test_br013_purge_keeps_past_confirmed_bookings_forever(rt: Runtime, clock: Clock) -> None:
    made = berlin(2026, 11, 23, 10)
    stay = book(rt, "Anna", date(2026, 12, 24), date(2026, 12, 27), made)
    confirm(rt, stay, made)

    clock.set(berlin(2036, 12, 1, 2, 0))  # ten years later
    assert run_job(rt, "purge") == "Keine Buchung gelöscht"

    kept = load(rt, stay)
    assert kept is not None and kept.first_name == "Anna" and kept.state.value == "confirmed"


def test_br013_canceled_bookings_go_once_archived_more_than_a_year(rt: Runtime) -> None:
    made = berlin(2026, 11, 23, 10)
    booking = book(rt, "Bernd", date(2027, 2, 1), date(2027, 2, 3), made)
    canceled_at = berlin(2026, 12, 1, 12, 0)
    cancel(rt, booking, canceled_at)
    limit = timedelta(days=rt.house.limits.purge_canceled_after_days)

    assert run_job(rt, "purge", canceled_at + limit) == "Keine Buchung gelöscht"
    assert load(rt, booking) is not None

    assert run_job(rt, "purge", canceled_at + limit + timedelta(seconds=1)) \
        == "1 Buchung gelöscht (1 storniert, 0 abgelehnt)"
    assert load(rt, booking) is None
    assert _rows(rt, booking) == 0  # decisions and timeline go with it


def test_br013_denied_bookings_go_once_their_end_is_past(rt: Runtime) -> None:
    made = berlin(2026, 11, 23, 10)
    booking = book(rt, "Clara", date(2026, 12, 10), date(2026, 12, 12), made)
    deny(rt, booking, "angelika", made)

    assert run_job(rt, "purge", berlin(2026, 12, 12, 23, 59)) == "Keine Buchung gelöscht"
    assert run_job(rt, "purge", berlin(2026, 12, 13, 0, 0)) \
        == "1 Buchung gelöscht (0 storniert, 1 abgelehnt)"
    assert load(rt, booking) is None
    assert _rows(rt, booking) == 0


def test_br013_pending_and_future_bookings_are_left_alone(rt: Runtime) -> None:
    made = berlin(2026, 11, 23, 10)
    pending = book(rt, "Dora", date(2026, 12, 1), date(2026, 12, 2), made)
    future_denied = book(rt, "Emil", date(2027, 6, 1), date(2027, 6, 2), made)
    deny(rt, future_denied, "ingeborg", made)
    recent_cancel = book(rt, "Frida", date(2027, 6, 10), date(2027, 6, 12), made)
    cancel(rt, recent_cancel, berlin(2027, 1, 2))

    assert run_job(rt, "purge", berlin(2027, 2, 1, 2, 0)) == "Keine Buchung gelöscht"
    assert all(load(rt, b) is not None for b in (pending, future_denied, recent_cancel))
    assert outbox_count(rt) == 0


@pytest.mark.parametrize("switch_day", [date(2027, 3, 28), date(2026, 10, 25), date(2027, 10, 31)],
                         ids=str)
def test_br013_on_a_dst_switch_day_the_berlin_calendar_decides_what_is_past(
        rt: Runtime, switch_day: date) -> None:
    day_before = switch_day - timedelta(days=1)
    made = berlin(day_before.year, day_before.month, 1, 12)
    ended = book(rt, "Gerd", day_before - timedelta(days=1), day_before, made)
    deny(rt, ended, "cornelia", made)
    ends_today = book(rt, "Hanna", switch_day - timedelta(days=1), switch_day, made)
    deny(rt, ends_today, "cornelia", made)

    y, m, d = switch_day.year, switch_day.month, switch_day.day
    # 00:30 Berlin on the switch day is still the day before in UTC
    assert run_job(rt, "purge", berlin(y, m, d, 0, 30)) \
        == "1 Buchung gelöscht (0 storniert, 1 abgelehnt)"
    assert load(rt, ended) is None
    assert load(rt, ends_today) is not None
    after = switch_day + timedelta(days=1)
    assert run_job(rt, "purge", berlin(after.year, after.month, after.day, 0, 0, 1)) \
        == "1 Buchung gelöscht (0 storniert, 1 abgelehnt)"
    assert load(rt, ends_today) is None
