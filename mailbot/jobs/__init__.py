"""Scheduled jobs (SPEC §7) and `mailbot jobs run NAME [--now ISO]`."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

from mailbot.runtime import Runtime

NAMES = ("cleanup", "purge", "digest", "outbox-sweep", "inbox-sweep")


def run_job(rt: Runtime, name: str, now: datetime | None = None) -> str:
    """Run one job once as of `now` (default: the runtime's clock); a one-line summary.

    With `now`, everything the job does (dates, timestamps, rows it writes) sees that time.
    A manual run claims no slot: it runs even if the scheduler already ran that slot."""
    from mailbot.jobs import scheduler

    jobs = {**{n: s.run for n, s in scheduler.SCHEDULED.items()}, **scheduler.SWEEPS}
    if name not in jobs:
        raise SystemExit(f"mailbot: unbekannter Job {name!r} – bekannt sind: {', '.join(NAMES)}")
    if now is not None:
        if now.tzinfo is None:
            now = now.replace(tzinfo=rt.house.timezone)
        fixed = now.astimezone(UTC)
        rt = dataclasses.replace(rt, clock=lambda: fixed)
    return jobs[name](rt, rt.now())
