"""BR-028: Pending bookings whose end has passed are canceled by the system at 00:01
Europe/Berlin, silently. Run through `run_job` as `mailbot jobs run cleanup --now …` does."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from mailbot.core import booking as rules
from mailbot.core.model import State
from mailbot.core.rejections import BookingInPast
from mailbot.jobs import run_job
from mailbot.runtime import Runtime
from mailbot.store import queries
from tests.conftest import Clock
from tests.support.bookings import berlin, book, confirm, deny, load, outbox_count

# (the last day of the booking, the DST switch day that follows it)
DST_DAYS = [date(2027, 3, 28), date(2026, 10, 25), date(2027, 10, 31)]


def test_br028_past_pending_is_canceled_by_the_system_without_any_mail(rt: Runtime, clock: Clock
                                                                         ) -> None:
    booking = book(rt, "Anna", date(2026, 12, 4), date(2026, 12, 6), berlin(2026, 11, 23, 10))
    clock.set(berlin(2026, 12, 7, 0, 1))

    assert run_job(rt, "cleanup") == "1 Buchung abgelaufen"

    expired = load(rt, booking)
    assert expired is not None and expired.state == State.CANCELED
    assert expired.archived_at == berlin(2026, 12, 7, 0, 1)
    last = expired.timeline[-1]
    assert (last.actor, last.kind) == ("system", "canceled")
    assert outbox_count(rt) == 0


def test_br028_the_last_evening_of_a_stay_is_not_past_yet(rt: Runtime) -> None:
    booking = book(rt, "Anna", date(2026, 12, 4), date(2026, 12, 6), berlin(2026, 11, 23, 10))

    assert run_job(rt, "cleanup", berlin(2026, 12, 6, 23, 59)) == "Keine Buchung abgelaufen"

    still = load(rt, booking)
    assert still is not None and still.state == State.PENDING


@pytest.mark.parametrize("switch_day", DST_DAYS, ids=str)
def test_br028_on_a_dst_switch_day_a_stay_ending_the_day_before_expires_after_midnight(
        rt: Runtime, switch_day: date) -> None:
    last_day = switch_day - timedelta(days=1)
    booking = book(rt, "Bernd", last_day - timedelta(days=2), last_day,
                   berlin(last_day.year, last_day.month, 1, 12))

    assert run_job(rt, "cleanup", berlin(last_day.year, last_day.month, last_day.day, 23, 59)) \
        == "Keine Buchung abgelaufen"
    # 00:30 Berlin is still the previous day in UTC: the Berlin calendar decides
    assert run_job(rt, "cleanup", berlin(switch_day.year, switch_day.month, switch_day.day, 0, 30)) \
        == "1 Buchung abgelaufen"

    expired = load(rt, booking)
    assert expired is not None and expired.state == State.CANCELED
    assert outbox_count(rt) == 0


@pytest.mark.parametrize("switch_day", DST_DAYS, ids=str)
def test_br028_a_stay_ending_on_the_dst_switch_day_expires_the_next_night(rt: Runtime,
                                                                            switch_day: date) -> None:
    booking = book(rt, "Clara", switch_day - timedelta(days=3), switch_day,
                   berlin(switch_day.year, switch_day.month, 1, 12))
    y, m, d = switch_day.year, switch_day.month, switch_day.day

    # late evening of the 23- or 25-hour day: UTC is already, or still, elsewhere
    assert run_job(rt, "cleanup", berlin(y, m, d, 23, 59)) == "Keine Buchung abgelaufen"
    after = switch_day + timedelta(days=1)
    assert run_job(rt, "cleanup", berlin(after.year, after.month, after.day, 0, 1)) \
        == "1 Buchung abgelaufen"
    expired = load(rt, booking)
    assert expired is not None and expired.state == State.CANCELED


def test_br028_only_pending_bookings_expire(rt: Runtime) -> None:
    made = berlin(2026, 11, 23, 10)
    pending = book(rt, "Anna", date(2026, 12, 1), date(2026, 12, 3), made)
    confirmed = book(rt, "Bernd", date(2026, 12, 4), date(2026, 12, 6), made)
    confirm(rt, confirmed, made)
    denied = book(rt, "Clara", date(2026, 12, 7), date(2026, 12, 9), made)
    deny(rt, denied, "cornelia", made)
    future = book(rt, "Dora", date(2026, 12, 20), date(2026, 12, 22), made)

    assert run_job(rt, "cleanup", berlin(2026, 12, 15, 0, 1)) == "1 Buchung abgelaufen"

    states = {b: load(rt, b).state for b in (pending, confirmed, denied, future)}
    assert states == {pending: State.CANCELED, confirmed: State.CONFIRMED,
                      denied: State.DENIED, future: State.PENDING}
    assert outbox_count(rt) == 0


def test_br028_running_cleanup_twice_changes_nothing_more(rt: Runtime) -> None:
    booking = book(rt, "Anna", date(2026, 12, 4), date(2026, 12, 6), berlin(2026, 11, 23, 10))
    assert run_job(rt, "cleanup", berlin(2026, 12, 7, 0, 1)) == "1 Buchung abgelaufen"
    assert run_job(rt, "cleanup", berlin(2026, 12, 7, 0, 2)) == "Keine Buchung abgelaufen"
    expired = load(rt, booking)
    assert expired is not None and [e.kind for e in expired.timeline].count("canceled") == 1


def test_br014_people_still_cannot_cancel_a_past_booking(rt: Runtime) -> None:
    booking = book(rt, "Anna", date(2026, 12, 4), date(2026, 12, 6), berlin(2026, 11, 23, 10))
    now = berlin(2026, 12, 7, 0, 0, 30)  # past, and the nightly cleanup has not run yet
    with rt.store.transaction() as session:
        found = queries.booking(session, booking, lock=True)
        assert found is not None
        with pytest.raises(BookingInPast):
            rules.cancel(found, None, rt.house, now.date(), now)
