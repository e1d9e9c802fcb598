"""The schedule (SPEC §7): slots in Europe/Berlin across midnight and DST switches, one run
per slot however many instances share the database, and a missed slot caught up once."""

from __future__ import annotations

import asyncio
import dataclasses
import threading
from datetime import date, datetime

import pytest
from sqlalchemy import select

from mailbot.core.model import State
from mailbot.jobs import scheduler
from mailbot.runtime import Runtime
from mailbot.store.db import Store
from mailbot.store.tables import JobRun
from tests.conftest import Clock
from tests.support.bookings import BERLIN, berlin, book, load, outbox


def _runs(rt: Runtime) -> list[JobRun]:
    with rt.store.reading() as session:
        return list(session.scalars(select(JobRun).order_by(JobRun.id)).all())


@pytest.mark.parametrize(("name", "now", "slot"), [
    ("cleanup", berlin(2026, 11, 24, 0, 0), berlin(2026, 11, 23, 0, 1)),
    ("cleanup", berlin(2026, 11, 24, 0, 1), berlin(2026, 11, 24, 0, 1)),
    ("cleanup", berlin(2027, 3, 28, 3, 30), berlin(2027, 3, 28, 0, 1)),
    ("cleanup", berlin(2026, 10, 25, 0, 0, 30), berlin(2026, 10, 24, 0, 1)),
    ("purge", berlin(2026, 12, 1, 1, 59), berlin(2026, 11, 1, 2, 0)),
    ("purge", berlin(2027, 1, 1, 2, 0), berlin(2027, 1, 1, 2, 0)),
    ("purge", berlin(2027, 3, 31, 23, 0), berlin(2027, 3, 1, 2, 0)),
    ("digest", berlin(2026, 11, 29, 8, 59), berlin(2026, 11, 22, 9, 0)),
    ("digest", berlin(2026, 11, 29, 9, 0), berlin(2026, 11, 29, 9, 0)),
    ("digest", berlin(2026, 12, 2, 12, 0), berlin(2026, 11, 29, 9, 0)),
    ("digest", berlin(2027, 3, 28, 9, 0), berlin(2027, 3, 28, 9, 0)),
    ("digest", berlin(2026, 10, 25, 9, 30), berlin(2026, 10, 25, 9, 0)),
    ("digest", berlin(2027, 10, 31, 8, 0), berlin(2027, 10, 24, 9, 0)),
])
def test_latest_slot_is_counted_in_berlin_time(name: str, now: datetime, slot: datetime) -> None:
    assert scheduler.latest_slot(name, now, BERLIN) == slot


@pytest.mark.parametrize(("name", "after", "fires"), [
    ("digest", berlin(2027, 3, 27, 12, 0), berlin(2027, 3, 28, 9, 0)),
    ("digest", berlin(2026, 10, 24, 12, 0), berlin(2026, 10, 25, 9, 0)),
    ("digest", berlin(2027, 10, 30, 12, 0), berlin(2027, 10, 31, 9, 0)),
    ("cleanup", berlin(2027, 3, 27, 12, 0), berlin(2027, 3, 28, 0, 1)),
    ("cleanup", berlin(2027, 3, 28, 12, 0), berlin(2027, 3, 29, 0, 1)),
    ("cleanup", berlin(2026, 10, 25, 12, 0), berlin(2026, 10, 26, 0, 1)),
    ("purge", berlin(2027, 10, 31, 12, 0), berlin(2027, 11, 1, 2, 0)),
])
def test_cron_triggers_fire_at_berlin_wall_clock_time_across_dst(name: str, after: datetime,
                                                                 fires: datetime) -> None:
    from apscheduler.triggers.cron import CronTrigger

    trigger = CronTrigger(timezone=BERLIN, **scheduler.SCHEDULED[name].cron)
    fire = trigger.get_next_fire_time(None, after)
    assert fire == fires
    assert fire.utcoffset() == fires.utcoffset()


def test_a_slot_runs_once_and_is_recorded(rt: Runtime, clock: Clock) -> None:
    booking = book(rt, "Anna", date(2026, 12, 4), date(2026, 12, 6), berlin(2026, 11, 23, 10))
    clock.set(berlin(2026, 12, 7, 0, 1, 2))
    slot = scheduler.latest_slot("cleanup", rt.now(), rt.house.timezone)

    assert scheduler.run_slot(rt, "cleanup", slot, "one") == "1 Buchung abgelaufen"
    assert scheduler.run_slot(rt, "cleanup", slot, "two") is None

    (run,) = _runs(rt)
    assert (run.name, run.scheduled_for, run.instance, run.ok) == ("cleanup", slot, "one", True)
    assert run.result == "1 Buchung abgelaufen" and run.finished_at is not None
    assert load(rt, booking).state == State.CANCELED


def test_a_missed_slot_is_caught_up_once_after_start(rt: Runtime, clock: Clock) -> None:
    book(rt, "Anna", date(2026, 12, 18), date(2026, 12, 20), berlin(2026, 11, 20, 10))
    clock.set(berlin(2026, 11, 30, 7, 15))  # down all Sunday, back on Monday morning

    first = scheduler.catch_up(rt)
    assert first["digest"] is not None and first["digest"].startswith("Erinnerung an 3")
    clock.advance(minutes=5)
    second = scheduler.catch_up(rt)  # a restart: nothing again

    assert second == {"cleanup": None, "purge": None, "digest": None}
    assert len([m for m in outbox(rt) if m.kind == "digest"]) == 3
    assert {(r.name, r.scheduled_for) for r in _runs(rt)} == {
        ("cleanup", berlin(2026, 11, 30, 0, 1)),
        ("purge", berlin(2026, 11, 1, 2, 0)),
        ("digest", berlin(2026, 11, 29, 9, 0)),
    }


def test_a_failing_job_is_recorded_and_not_rerun_by_another_instance(rt: Runtime, clock: Clock,
                                                                     monkeypatch: pytest.MonkeyPatch
                                                                     ) -> None:
    def broken(rt: Runtime, now: datetime) -> str:
        raise RuntimeError("transport down")

    monkeypatch.setitem(scheduler.SCHEDULED, "digest",
                        dataclasses.replace(scheduler.SCHEDULED["digest"], run=broken))
    slot = berlin(2026, 11, 29, 9, 0)
    assert scheduler.run_slot(rt, "digest", slot, "one") is None
    assert scheduler.run_slot(rt, "digest", slot, "two") is None
    (run,) = _runs(rt)
    assert run.ok is False and run.result == "RuntimeError: transport down"


@pytest.mark.postgres
def test_instances_racing_for_one_slot_run_it_once(pg_url: str, rt: Runtime) -> None:
    """Eight instances (own connection pools) claim the same digest slot at the same moment."""
    shared = dataclasses.replace(rt.settings, database_url=pg_url)
    fixed = berlin(2026, 11, 29, 9, 0, 1)
    runtimes = [Runtime(shared, rt.house, Store(pg_url), lambda: fixed) for _ in range(8)]
    book(runtimes[0], "Anna", date(2026, 12, 18), date(2026, 12, 20), berlin(2026, 11, 20, 10))
    start = threading.Barrier(len(runtimes))
    results: dict[int, str | None] = {}

    def instance(i: int) -> None:
        start.wait()
        results[i] = scheduler.fire(runtimes[i], "digest")

    threads = [threading.Thread(target=instance, args=(i,)) for i in range(len(runtimes))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        assert sum(r is not None for r in results.values()) == 1
        assert len([m for m in outbox(runtimes[0]) if m.kind == "digest"]) == 3
        assert len(_runs(runtimes[0])) == 1
    finally:
        for r in runtimes:
            r.store.dispose()


def test_scheduler_runs_inside_the_callers_event_loop_and_stops(rt: Runtime, clock: Clock) -> None:
    book(rt, "Anna", date(2026, 12, 4), date(2026, 12, 6), berlin(2026, 11, 23, 10))
    clock.set(berlin(2026, 12, 7, 6, 0))

    async def main() -> list[str]:
        stop = asyncio.Event()
        task = asyncio.create_task(scheduler.run(rt, stop))
        for _ in range(500):  # the catch-up runs in a worker thread
            if len(_runs(rt)) == 3 and all(r.finished_at for r in _runs(rt)):
                break
            await asyncio.sleep(0.02)
        stop.set()
        await asyncio.wait_for(task, 10)
        return [r.name for r in _runs(rt)]

    assert sorted(asyncio.run(main())) == ["cleanup", "digest", "purge"]
