"""Scheduled jobs (SPEC §7) and `mailbot jobs run NAME [--now ISO]`."""

from __future__ import annotations

from datetime import datetime

from mailbot.runtime import Runtime

NAMES = ("cleanup", "purge", "digest", "outbox-sweep", "inbox-sweep")
_WEEKDAYS = ("Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag")


def run_job(rt: Runtime, name: str, now: datetime | None = None) -> str:
    """Run the body of one job as of `now` (default: the runtime's clock); a one-line summary.

    `now` is the job's clock only: it decides what is due (which bookings are past, which
    requests wait long enough), while what the job writes — mails, timestamps — carries the
    real time. No slot is claimed: see `run_once`."""
    from mailbot.jobs import scheduler

    jobs = {**{n: s.run for n, s in scheduler.SCHEDULED.items()}, **scheduler.SWEEPS}
    if name not in jobs:
        raise ValueError(f"unknown job {name!r}")
    now = rt.now() if now is None else (now if now.tzinfo else now.replace(tzinfo=rt.house.timezone))
    return jobs[name](rt, now)


def run_once(rt: Runtime, name: str, now: datetime | None = None) -> str:
    """`mailbot jobs run`: run the slot that is due at `now` (default: now) unless some
    instance already ran it, as the scheduler would; say which slot and why nothing happened.
    The sweeps have no slots and always run."""
    from mailbot.jobs import scheduler
    from mailbot.outbound.render import day

    if name in scheduler.SWEEPS:
        return run_job(rt, name, now)
    tz = rt.house.timezone
    moment = (rt.now() if now is None else now).astimezone(tz)
    slot = scheduler.latest_slot(name, moment, tz).astimezone(tz)
    when = f"{_WEEKDAYS[slot.weekday()]}, {day(slot.date())} {slot:%H:%M}"
    note = "" if slot.date() == moment.date() else \
        f"Heute ({_WEEKDAYS[moment.weekday()]}) ist kein Termin für {name}; letzter Termin: {when}. "
    instance = f"manual:{scheduler.instance_name()}"
    if not scheduler.claim(rt, name, slot, instance):
        earlier = scheduler.previous_run(rt, name, slot)
        result = earlier.result if earlier and earlier.result else "noch nicht fertig"
        return f"{note}Nichts zu tun: {name} für {when} lief schon ({result})."
    ok, result = scheduler.execute(rt, name, slot, instance, moment)
    if not ok:
        raise RuntimeError(f"{name} für {when} ist fehlgeschlagen: {result}")
    return f"{note}{result}"
