"""APScheduler inside `mailbot serve`, all times Europe/Berlin (the house's zone).

Several instances may share one database: a scheduled run is claimed by inserting a
`JobRun` row for its slot (unique on name and slot), and only the instance whose insert
succeeds runs it. On start every job's latest slot is caught up once if nobody claimed it
(the process was down at that time). The minute sweeps need no claim: they are idempotent.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from mailbot.jobs import jobs
from mailbot.logs import correlation
from mailbot.runtime import Runtime
from mailbot.store.tables import JobRun

log = logging.getLogger("mailbot.scheduler")


def _at(day: date, hour: int, minute: int, tz: tzinfo) -> datetime:
    return datetime.combine(day, time(hour, minute), tz)


def _daily_0001(now: datetime, tz: tzinfo) -> datetime:
    today = now.astimezone(tz).date()
    slot = _at(today, 0, 1, tz)
    return slot if slot <= now else _at(today - timedelta(days=1), 0, 1, tz)


def _monthly_first_0200(now: datetime, tz: tzinfo) -> datetime:
    first = now.astimezone(tz).date().replace(day=1)
    slot = _at(first, 2, 0, tz)
    return slot if slot <= now else _at((first - timedelta(days=1)).replace(day=1), 2, 0, tz)


def _sunday_0900(now: datetime, tz: tzinfo) -> datetime:
    today = now.astimezone(tz).date()
    sunday = today - timedelta(days=(today.weekday() + 1) % 7)
    slot = _at(sunday, 9, 0, tz)
    return slot if slot <= now else _at(sunday - timedelta(days=7), 9, 0, tz)


@dataclass(frozen=True)
class Schedule:
    run: Callable[[Runtime, datetime], str]
    cron: dict[str, Any]  # CronTrigger fields, in the house's zone
    latest: Callable[[datetime, tzinfo], datetime]  # the latest slot at or before a moment


SCHEDULED: dict[str, Schedule] = {
    "cleanup": Schedule(jobs.cleanup, {"hour": 0, "minute": 1}, _daily_0001),
    "purge": Schedule(jobs.purge, {"day": 1, "hour": 2, "minute": 0}, _monthly_first_0200),
    "digest": Schedule(jobs.digest, {"day_of_week": "sun", "hour": 9, "minute": 0}, _sunday_0900),
}
SWEEPS: dict[str, Callable[[Runtime, datetime], str]] = {
    "outbox-sweep": jobs.outbox_sweep,
    "inbox-sweep": jobs.inbox_sweep,
}


def latest_slot(name: str, now: datetime, tz: tzinfo) -> datetime:
    """The slot a run of `name` at `now` belongs to: the latest one at or before `now`."""
    return SCHEDULED[name].latest(now, tz)


def instance_name() -> str:
    return os.environ.get("FLY_ALLOC_ID") or f"{socket.gethostname()}:{os.getpid()}"


def claim(rt: Runtime, name: str, slot: datetime, instance: str) -> bool:
    """Insert the JobRun row for this slot; False when another instance already has it."""
    try:
        with rt.store.transaction() as session:
            session.add(JobRun(name=name, scheduled_for=slot, instance=instance,
                               started_at=rt.now()))
        return True
    except IntegrityError:
        return False


def _finish(rt: Runtime, name: str, slot: datetime, ok: bool, result: str) -> None:
    with rt.store.transaction() as session:
        row = session.scalars(select(JobRun).where(JobRun.name == name,
                                                   JobRun.scheduled_for == slot)).one()
        row.finished_at, row.ok, row.result = rt.now(), ok, result[:2000]


def run_slot(rt: Runtime, name: str, slot: datetime, instance: str | None = None) -> str | None:
    """Run the job for `slot` if this instance claims it; None when another one did or it failed."""
    instance = instance or instance_name()
    if not claim(rt, name, slot, instance):
        log.info("job already claimed", extra={"job": name, "slot": slot.isoformat()})
        return None
    ok, result = execute(rt, name, slot, instance, rt.now())
    return result if ok else None


def execute(rt: Runtime, name: str, slot: datetime, instance: str, now: datetime) -> tuple[bool, str]:
    """Run the job of a slot this instance has claimed, as of `now`, and record the outcome:
    (True, summary) or (False, the error)."""
    with correlation(f"job-{name}-{slot:%Y%m%d%H%M}"):
        log.info("job started", extra={"job": name, "slot": slot.isoformat(), "instance": instance})
        try:
            result = SCHEDULED[name].run(rt, now)
        except Exception as exc:
            log.exception("job failed", extra={"job": name, "slot": slot.isoformat()})
            error = f"{type(exc).__name__}: {exc}"
            _finish(rt, name, slot, False, error)
            return False, error
        _finish(rt, name, slot, True, result)
        log.info("job finished", extra={"job": name, "slot": slot.isoformat(), "result": result})
        return True, result


def previous_run(rt: Runtime, name: str, slot: datetime) -> JobRun | None:
    with rt.store.reading() as session:
        return session.scalars(select(JobRun).where(JobRun.name == name,
                                                    JobRun.scheduled_for == slot)).first()


def fire(rt: Runtime, name: str) -> str | None:
    """What the cron trigger calls: the slot is the latest one at this moment."""
    return run_slot(rt, name, latest_slot(name, rt.now(), rt.house.timezone))


def catch_up(rt: Runtime) -> dict[str, str | None]:
    """On start: run each job's latest slot once if no instance has claimed it yet."""
    now = rt.now()
    return {name: run_slot(rt, name, latest_slot(name, now, rt.house.timezone)) for name in SCHEDULED}


def sweep(rt: Runtime, name: str) -> None:
    try:
        result = SWEEPS[name](rt, rt.now())
    except Exception:
        log.exception("sweep failed", extra={"job": name})
        return
    log.debug("sweep done", extra={"job": name, "result": result})


async def run(rt: Runtime, stop: asyncio.Event) -> None:
    """Run the schedule in the caller's event loop until `stop` is set; job bodies run in
    the loop's worker threads."""
    from apscheduler.schedulers.asyncio import AsyncIOScheduler
    from apscheduler.triggers.cron import CronTrigger

    tz = rt.house.timezone
    scheduler = AsyncIOScheduler(event_loop=asyncio.get_running_loop(), timezone=tz)
    for name, schedule in SCHEDULED.items():
        scheduler.add_job(fire, CronTrigger(timezone=tz, **schedule.cron), args=(rt, name), id=name,
                          coalesce=True, max_instances=1, misfire_grace_time=3600)
    for name in SWEEPS:
        scheduler.add_job(sweep, CronTrigger(minute="*", timezone=tz), args=(rt, name), id=name,
                          coalesce=True, max_instances=1, misfire_grace_time=30)
    scheduler.start()
    log.info("scheduler started", extra={"jobs": [*SCHEDULED, *SWEEPS]})
    caught_up = asyncio.create_task(asyncio.to_thread(catch_up, rt))
    try:
        await stop.wait()
    finally:
        scheduler.shutdown(wait=False)
        await asyncio.gather(caught_up, return_exceptions=True)
