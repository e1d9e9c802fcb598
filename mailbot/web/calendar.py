"""The unlisted calendar: a month of Pending and Confirmed bookings with first name,
party size, status and the approvers' colours; nothing personal beyond that."""

from __future__ import annotations

import calendar as months
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response

from mailbot.core.model import Booking, State
from mailbot.outbound import ical
from mailbot.runtime import Runtime
from mailbot.store.queries import BLOCKING, CARD_COLUMNS, Card, blocking_between, cards
from mailbot.store.tables import bookings, timeline
from mailbot.web import guard, links
from mailbot.web.context import web

NOINDEX = {"X-Robots-Tag": "noindex, nofollow"}
FEED_DAYS_BACK = 365  # the feed reaches a year into the past: bounded however long the house runs


@dataclass(frozen=True)
class Stay(Card):
    """What the calendar may show of a booking; deliberately no address, no description."""

    accent: str = "none"  # key of the approver who asked (their colour class)


def month_of(value: str | None, today: date) -> date:
    """`?monat=2027-08` → 2027-08-01; anything else → this month."""
    if value and len(value) == 7 and value[4] == "-" and value[:4].isdigit() and value[5:].isdigit():
        year, month = int(value[:4]), int(value[5:])
        if 2000 <= year <= 2200 and 1 <= month <= 12:
            return date(year, month, 1)
    return today.replace(day=1)


def stays(rt: Runtime, session: Session, first: date, last: date) -> list[Stay]:
    rows = session.execute(select(*CARD_COLUMNS, bookings.c.requester_email)
                           .where(blocking_between(session, first, last))
                           .order_by(bookings.c.start_date)).all()
    found: list[Stay] = []
    for card, row in zip(cards(rows), rows, strict=True):
        asker = rt.house.approver_for_address(row.requester_email)
        found.append(Stay(**vars(card), accent=asker.key if asker else "none"))
    return found


def weeks(first: date, entries: list[Stay]) -> list[list[tuple[date, list[Stay]]]]:
    """Monday-first weeks covering the month, each day with the stays on it."""
    last = first.replace(day=months.monthrange(first.year, first.month)[1])
    day = first - timedelta(days=first.weekday())
    grid: list[list[tuple[date, list[Stay]]]] = []
    while day <= last:
        week = []
        for _ in range(7):
            week.append((day, [s for s in entries if s.start <= day <= s.end]))
            day += timedelta(days=1)
        grid.append(week)
    return grid


def page(request: Request) -> Response:
    w = web(request)
    guard.check_calendar(w.rt, request.path_params["token"])
    today = w.rt.today()
    first = month_of(request.query_params.get("monat"), today)
    last = first.replace(day=months.monthrange(first.year, first.month)[1])
    with w.rt.store.reading() as session:
        entries = stays(w.rt, session, first, last)
    previous = (first - timedelta(days=1)).replace(day=1)
    following = last + timedelta(days=1)
    return w.views.page("calendar.html.j2", headers=NOINDEX, first=first, today=today,
                        weeks=weeks(first, entries), stays=entries,
                        feed_url=links.calendar_feed_url(w.rt),
                        previous=f"{previous:%Y-%m}", following=f"{following:%Y-%m}",
                        previous_month=previous.month, following_month=following.month)


def feed_entries(session: Session, since: date) -> list[tuple[Booking, int]]:
    """Pending and Confirmed bookings ending on or after `since`, each with its SEQUENCE
    (the number of its timeline entries), without addresses or descriptions."""
    # counted per booking shown, not over the whole timeline of every year
    changes = (select(func.count()).where(timeline.c.booking_id == bookings.c.id)
               .correlate(bookings).scalar_subquery())
    rows = session.execute(
        select(bookings.c.id, bookings.c.first_name, bookings.c.start_date, bookings.c.end_date,
               bookings.c.party_size, bookings.c.state, bookings.c.created_at,
               bookings.c.last_activity_at, changes.label("sequence"))
        .where(bookings.c.state.in_(BLOCKING), bookings.c.end_date >= since)
        .order_by(bookings.c.start_date, bookings.c.id)).all()
    return [(Booking("", row.first_name, row.start_date, row.end_date, row.party_size,
                     state=State(row.state), created_at=row.created_at,
                     last_activity_at=row.last_activity_at, id=row.id), int(row.sequence))
            for row in rows]


def feed(request: Request) -> Response:
    """The subscribable iCalendar feed of the unlisted calendar (same token)."""
    w = web(request)
    guard.check_calendar(w.rt, request.path_params["token"])
    with w.rt.store.reading() as session:
        entries = feed_entries(session, w.rt.today() - timedelta(days=FEED_DAYS_BACK))
    return Response(ical.feed(w.rt, entries), media_type="text/calendar; charset=utf-8",
                    headers={**NOINDEX, "Content-Disposition": 'inline; filename="kalender.ics"'})
