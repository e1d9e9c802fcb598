"""The mail log: every inbound and outbound message as one time-ordered list, for the
admin page and for `mailbot log [-n N] [--address A] [--booking ID] [--follow] [--json]`."""

from __future__ import annotations

import heapq
import json
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from itertools import islice
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from mailbot.runtime import Runtime
from mailbot.store.queries import older_than
from mailbot.store.tables import InboxMessage, OutboxMessage

INBOUND_STATES = ("received", "processed", "ignored", "rejected", "failed")
OUTBOUND_STATES = ("queued", "sending", "sent", "retrying", "failed", "bounced")
UNSETTLED = {"received", "queued", "sending", "retrying"}


@dataclass(frozen=True)
class Entry:
    direction: str  # "in" or "out"
    id: int
    at: datetime
    address: str | None
    subject: str | None
    state: str
    note: str | None  # inbound: the named reason; outbound: the kind and the last error
    correlation_id: str
    booking_id: int | None
    kind: str | None = None  # outbound: the mail's kind, its attempts and last error
    attempts: int = 0
    error: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {"direction": self.direction, "id": self.id, "at": self.at.isoformat(),
                "address": self.address, "subject": self.subject, "state": self.state,
                "note": self.note, "correlation_id": self.correlation_id,
                "booking_id": self.booking_id}

    def line(self, zone: ZoneInfo) -> str:
        arrow = "←" if self.direction == "in" else "→"
        label = "IN " if self.direction == "in" else "OUT"
        parts = [f"{self.at.astimezone(zone):%Y-%m-%d %H:%M:%S}", f"{label} #{self.id:<5}",
                 f"{self.state:<9}", f"{arrow} {self.address or '?'}", repr(self.subject or "")]
        if self.note:
            parts.append(f"[{self.note}]")
        return "  ".join(parts)


@dataclass(frozen=True)
class Filters:
    address: str | None = None  # a whole address matches exactly, anything else as a part
    state: str | None = None
    first: date | None = None  # house calendar days, inclusive
    last: date | None = None
    direction: str | None = None  # "in", "out" or None for both
    booking_id: int | None = None


def _bounds(rt: Runtime, filters: Filters) -> tuple[datetime | None, datetime | None]:
    zone = rt.house.timezone
    since = (datetime.combine(filters.first, clock_time(), zone) if filters.first else None)
    until = (datetime.combine(filters.last + timedelta(days=1), clock_time(), zone)
             if filters.last else None)
    return since, until


def _filtered(query: Any, rt: Runtime, filters: Filters, after: int,
              only: Sequence[int] | None, id_: Any, address: Any, state: Any, at: Any,
              booking: Any, before: tuple[datetime, int] | None = None) -> Any:
    """The filters (address, state, date range, booking) on one direction of the log;
    `before` = (time, id) of the last entry of the previous page, newest first."""
    since, until = _bounds(rt, filters)
    wanted = (filters.address or "").strip().lower()
    if wanted and "@" in wanted and " " not in wanted:
        query = query.where(address == wanted)  # stored lower-cased: the index answers
    elif wanted:
        query = query.where(address.ilike(f"%{wanted}%"))
    if filters.booking_id is not None:
        query = query.where(booking == filters.booking_id)
    if before is not None:
        query = query.where(older_than((at, id_), before))
    if filters.state:
        query = query.where(state == filters.state)
    if since:
        query = query.where(at >= since)
    if until:
        query = query.where(at < until)
    if after:
        query = query.where(id_ > after)
    if only is not None:
        query = query.where(id_.in_(only))
    return query


def inbound(session: Session, rt: Runtime, filters: Filters, limit: int, after: int = 0,
            only: Sequence[int] | None = None, before: tuple[datetime, int] | None = None
            ) -> list[Entry]:
    """Newest first."""
    query = select(InboxMessage.id, InboxMessage.received_at, InboxMessage.from_address,
                   InboxMessage.subject, InboxMessage.state, InboxMessage.reason,
                   InboxMessage.correlation_id, InboxMessage.booking_id)
    query = _filtered(query, rt, filters, after, only, InboxMessage.id, InboxMessage.from_address,
                      InboxMessage.state, InboxMessage.received_at, InboxMessage.booking_id, before)
    rows = session.execute(query.order_by(InboxMessage.received_at.desc(), InboxMessage.id.desc())
                           .limit(limit)).all()
    return [Entry("in", r.id, r.received_at, r.from_address, r.subject, r.state, r.reason,
                  r.correlation_id, r.booking_id) for r in rows]


def _outbound_note(kind: str, error: str | None, attempts: int) -> str:
    note = kind if attempts <= 1 else f"{kind}, {attempts} Versuche"
    return f"{note}: {error}" if error else note


def outbound(session: Session, rt: Runtime, filters: Filters, limit: int, after: int = 0,
             only: Sequence[int] | None = None, before: tuple[datetime, int] | None = None
             ) -> list[Entry]:
    """Newest first."""
    query = select(OutboxMessage.id, OutboxMessage.created_at, OutboxMessage.to_address,
                   OutboxMessage.subject, OutboxMessage.state, OutboxMessage.kind,
                   OutboxMessage.last_error, OutboxMessage.attempts, OutboxMessage.correlation_id,
                   OutboxMessage.booking_id)
    query = _filtered(query, rt, filters, after, only, OutboxMessage.id, OutboxMessage.to_address,
                      OutboxMessage.state, OutboxMessage.created_at, OutboxMessage.booking_id, before)
    rows = session.execute(query.order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())
                           .limit(limit)).all()
    return [Entry("out", r.id, r.created_at, r.to_address, r.subject, r.state,
                  _outbound_note(r.kind, r.last_error, r.attempts), r.correlation_id, r.booking_id,
                  r.kind, r.attempts, r.last_error)
            for r in rows]


def _order(entry: Entry) -> tuple[datetime, bool, int]:
    return (entry.at, entry.direction == "out", entry.id)


Start = tuple[datetime, str, int]  # the last entry shown: (time, direction, id)
_NO_ID = 2**62


def entries(session: Session, rt: Runtime, filters: Filters = Filters(), limit: int = 200,
            start: Start | None = None) -> tuple[list[Entry], Start | None]:
    """Newest first, both directions merged (or one, with `filters.direction`), after
    `start`; and where the next page starts (None on the last one). Inbound sorts before
    outbound at the same time, so the next page takes, at the time of `start`, every
    inbound row (when `start` is outbound) or the lower ids of its own direction."""
    before_in = before_out = None
    if start is not None:
        at, direction, ident = start
        before_in = (at, _NO_ID if direction == "out" else ident)
        before_out = (at, ident if direction == "out" else 0)
    found: list[Entry] = []
    if filters.direction in (None, "in"):
        found += inbound(session, rt, filters, limit + 1, before=before_in)
    if filters.direction in (None, "out"):
        found += outbound(session, rt, filters, limit + 1, before=before_out)
    found.sort(key=_order, reverse=True)
    if len(found) <= limit:
        return found, None
    last = found[limit - 1]
    return found[:limit], (last.at, last.direction, last.id)


def stream(rt: Runtime, filters: Filters = Filters(), batch: int = 500) -> Iterator[Entry]:
    """Every entry, newest first, read a page at a time (keyset paging, one short read
    transaction per page), so the first lines come at once and memory stays flat."""

    def pages(read: Any) -> Iterator[Entry]:
        before: tuple[datetime, int] | None = None
        while True:
            with rt.store.reading() as session:
                page = read(session, rt, filters, batch, before=before)
            yield from page
            if len(page) < batch:
                return
            before = (page[-1].at, page[-1].id)

    directions = [read for name, read in (("in", inbound), ("out", outbound))
                  if filters.direction in (None, name)]
    return heapq.merge(*(pages(read) for read in directions), key=_order, reverse=True)


def story(session: Session, message: InboxMessage) -> list[OutboxMessage]:
    """The mails one inbound message caused: tied by inbox id or by correlation id."""
    query = select(OutboxMessage).where(or_(OutboxMessage.inbox_id == message.id,
                                            OutboxMessage.correlation_id == message.correlation_id))
    return list(session.scalars(query.order_by(OutboxMessage.id)))


def print_log(rt: Runtime, follow: bool, as_json: bool, out: TextIO | None = None,
              poll_seconds: float = 1.0, rounds: int | None = None, limit: int | None = None,
              filters: Filters = Filters()) -> int:
    """`mailbot log`: one line per message in or out, newest first (at most `limit`);
    --follow shows the newest `limit` (default 10) oldest first, like `tail -f`, then polls
    for new messages and for state changes of unsettled ones (queued → sent, received →
    processed)."""
    out = out or sys.stdout
    zone = rt.house.timezone

    def show(entry: Entry) -> None:
        out.write((json.dumps(entry.as_json(), ensure_ascii=False) if as_json else entry.line(zone))
                  + "\n")

    if not follow:
        # pages no larger than asked for: `-n 50` reads 51 rows a direction, not 500
        batch = min(500, limit + 1) if limit else 500
        for n, entry in enumerate(islice(stream(rt, filters, batch), limit), start=1):
            show(entry)
            if n % 100 == 1:
                out.flush()  # the first screen at once, even into a pipe
        out.flush()
        return 0
    found = list(islice(stream(rt, filters, min(500, (limit or 10) + 1)), limit or 10))
    with rt.store.reading() as session:  # everything up to here is old, shown or not
        last_in = session.scalar(select(func.max(InboxMessage.id))) or 0
        last_out = session.scalar(select(func.max(OutboxMessage.id))) or 0
    found.reverse()
    for entry in found:
        show(entry)
    out.flush()
    watching = {(e.direction, e.id): e.state for e in found if e.state in UNSETTLED}
    done = 0
    try:
        while rounds is None or done < rounds:
            time.sleep(poll_seconds)
            done += 1
            with rt.store.reading() as session:
                fresh = (inbound(session, rt, filters, 10_000, after=last_in)
                         + outbound(session, rt, filters, 10_000, after=last_out))
                changed = _changed(session, rt, watching)
            for entry in sorted(changed + fresh, key=_order):
                show(entry)
                key = (entry.direction, entry.id)
                if entry.state in UNSETTLED:
                    watching[key] = entry.state
                else:
                    watching.pop(key, None)
                if entry.direction == "in":
                    last_in = max(last_in, entry.id)
                else:
                    last_out = max(last_out, entry.id)
            out.flush()
    except KeyboardInterrupt:
        pass
    return 0


def _changed(session: Session, rt: Runtime, watching: dict[tuple[str, int], str]) -> list[Entry]:
    ids_in = [i for d, i in watching if d == "in"]
    ids_out = [i for d, i in watching if d == "out"]
    found = (inbound(session, rt, Filters(), len(ids_in), only=ids_in) if ids_in else [])
    found += (outbound(session, rt, Filters(), len(ids_out), only=ids_out) if ids_out else [])
    return [e for e in found if watching.get((e.direction, e.id)) != e.state]
