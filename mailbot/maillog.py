"""The mail log: every inbound and outbound message as one time-ordered list, for the
admin page and for `mailbot log [-n N] [--address A] [--booking ID] [--follow] [--json]`.

Read with the database driver itself (psycopg or sqlite3), not SQLAlchemy: `mailbot log`
imports neither SQLAlchemy nor the web stack, so its first screen comes in a fraction of
the time. The admin page reads through the driver connection of its read transaction."""

from __future__ import annotations

import heapq
import json
import sqlite3
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from itertools import islice
from typing import Any, NamedTuple, TextIO
from zoneinfo import ZoneInfo

from mailbot.store import DatabaseUnavailable

INBOUND_STATES = ("received", "processed", "ignored", "rejected", "failed")
OUTBOUND_STATES = ("queued", "sending", "sent", "retrying", "failed", "bounced")
UNSETTLED = {"received", "queued", "sending", "retrying"}


class Entry(NamedTuple):  # a tuple: a page makes hundreds of them
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


class Reader:
    """A driver connection (psycopg or sqlite3) and how to speak to it: statements are
    written with %s, times are aware UTC as the store's `UTCDateTime` keeps them."""

    def __init__(self, connection: Any) -> None:
        self.connection = connection
        self.sqlite = isinstance(connection, sqlite3.Connection)

    def rows(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        try:
            cursor = self.connection.cursor()
            cursor.execute(sql.replace("%s", "?") if self.sqlite else sql, params)
            return list(cursor.fetchall())
        except Exception as exc:
            _unavailable(exc)
            raise

    def param(self, moment: datetime) -> Any:
        """SQLite: the text SQLAlchemy stores (UTC, always with microseconds), so that
        comparing the text compares the times."""
        moment = moment.astimezone(UTC)
        return f"{moment:%Y-%m-%d %H:%M:%S.%f}" if self.sqlite else moment

    def moment(self, value: Any) -> datetime:
        if isinstance(value, str):
            return datetime.fromisoformat(value).replace(tzinfo=UTC)
        return value.astimezone(UTC)


def _unavailable(exc: Exception) -> None:
    """The driver's "cannot reach the database" raised as the store says it."""
    psycopg = sys.modules.get("psycopg")  # never imported for SQLite
    if isinstance(exc, sqlite3.OperationalError) or (
            psycopg is not None and isinstance(exc, psycopg.OperationalError)):
        raise DatabaseUnavailable(str(exc)) from exc


def connect(url: str) -> Reader:
    """A connection of its own for DATABASE_URL (`mailbot log`), every statement its own
    snapshot: a long log holds no transaction open."""
    scheme, _, rest = url.partition("://")
    try:
        if scheme.startswith("sqlite"):
            path = rest[1:].partition("?")[0]  # sqlite:///relative, sqlite:////absolute
            return Reader(sqlite3.connect(path or ":memory:", timeout=30, isolation_level=None))
        import psycopg

        return Reader(psycopg.connect(f"postgresql://{rest}", autocommit=True, connect_timeout=5))
    except Exception as exc:
        _unavailable(exc)
        raise


@dataclass(frozen=True)
class _Side:
    """One direction of the log: its table and the columns an entry is made of."""

    direction: str
    table: str
    at: str
    address: str
    columns: str


_IN = _Side("in", "inbox_messages", "received_at", "from_address",
            "id, received_at, from_address, subject, state, reason, correlation_id, booking_id")
_OUT = _Side("out", "outbox_messages", "created_at", "to_address",
             "id, created_at, to_address, subject, state, correlation_id, booking_id, kind, attempts, "
             "last_error")


def _read(reader: Reader, side: _Side, zone: ZoneInfo, filters: Filters, limit: int, after: int,
          only: Sequence[int] | None, before: tuple[datetime, int] | None) -> list[tuple[Any, ...]]:
    """Rows of one direction, newest first, with the filters (address, state, date range,
    booking); `before` = (time, id) of the last entry of the previous page. Each filter is
    one index range: `(time, id)`, `(address, time, id)` or `(state, time, id)`."""
    where: list[str] = []
    params: list[Any] = []
    wanted = (filters.address or "").strip().lower()
    if wanted and "@" in wanted and " " not in wanted:
        where.append(f"{side.address} = %s")  # stored lower-cased: the index answers
        params.append(wanted)
    elif wanted:
        where.append(f"lower({side.address}) LIKE %s")
        params.append(f"%{wanted}%")
    if filters.booking_id is not None:
        where.append("booking_id = %s")
        params.append(filters.booking_id)
    if before is not None:
        where.append(f"({side.at}, id) < (%s, %s)")
        params += [reader.param(before[0]), before[1]]
    if filters.state:
        where.append("state = %s")
        params.append(filters.state)
    if filters.first:
        where.append(f"{side.at} >= %s")
        params.append(reader.param(datetime.combine(filters.first, clock_time(), zone)))
    if filters.last:
        where.append(f"{side.at} < %s")
        params.append(reader.param(datetime.combine(filters.last + timedelta(days=1), clock_time(), zone)))
    if after:
        where.append("id > %s")
        params.append(after)
    if only is not None:
        where.append(f"id IN ({', '.join(['%s'] * len(only))})")
        params += only
    sql = (f"SELECT {side.columns} FROM {side.table}"
           f"{' WHERE ' + ' AND '.join(where) if where else ''}"
           f" ORDER BY {side.at} DESC, id DESC LIMIT %s")
    return reader.rows(sql, [*params, limit])


def inbound(reader: Reader, zone: ZoneInfo, filters: Filters, limit: int, after: int = 0,
            only: Sequence[int] | None = None, before: tuple[datetime, int] | None = None
            ) -> list[Entry]:
    """Newest first."""
    moment = reader.moment
    return [Entry("in", id_, moment(at), address, subject, state, reason, correlation, booking)
            for id_, at, address, subject, state, reason, correlation, booking
            in _read(reader, _IN, zone, filters, limit, after, only, before)]


def _outbound_note(kind: str, error: str | None, attempts: int) -> str:
    note = kind if attempts <= 1 else f"{kind}, {attempts} Versuche"
    return f"{note}: {error}" if error else note


def outbound(reader: Reader, zone: ZoneInfo, filters: Filters, limit: int, after: int = 0,
             only: Sequence[int] | None = None, before: tuple[datetime, int] | None = None
             ) -> list[Entry]:
    """Newest first."""
    moment = reader.moment
    return [Entry("out", id_, moment(at), address, subject, state,
                  _outbound_note(kind, error, attempts), correlation, booking, kind, attempts, error)
            for id_, at, address, subject, state, correlation, booking, kind, attempts, error
            in _read(reader, _OUT, zone, filters, limit, after, only, before)]


def _order(entry: Entry) -> tuple[datetime, bool, int]:
    return (entry.at, entry.direction == "out", entry.id)


Start = tuple[datetime, str, int]  # the last entry shown: (time, direction, id)
_NO_ID = 2**62


def entries(reader: Reader, zone: ZoneInfo, filters: Filters = Filters(), limit: int = 200,
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
        found += inbound(reader, zone, filters, limit + 1, before=before_in)
    if filters.direction in (None, "out"):
        found += outbound(reader, zone, filters, limit + 1, before=before_out)
    found.sort(key=_order, reverse=True)
    if len(found) <= limit:
        return found, None
    last = found[limit - 1]
    return found[:limit], (last.at, last.direction, last.id)


def stream(reader: Reader, zone: ZoneInfo, filters: Filters = Filters(), batch: int = 500
           ) -> Iterator[Entry]:
    """Every entry, newest first, read a page at a time (keyset paging, one statement per
    page), so the first lines come at once and memory stays flat."""

    def pages(read: Any) -> Iterator[Entry]:
        before: tuple[datetime, int] | None = None
        while True:
            page = read(reader, zone, filters, batch, before=before)
            yield from page
            if len(page) < batch:
                return
            before = (page[-1].at, page[-1].id)

    directions = [read for name, read in (("in", inbound), ("out", outbound))
                  if filters.direction in (None, name)]
    return heapq.merge(*(pages(read) for read in directions), key=_order, reverse=True)


def print_log(reader: Reader, zone: ZoneInfo, follow: bool, as_json: bool, out: TextIO | None = None,
              poll_seconds: float = 1.0, rounds: int | None = None, limit: int | None = None,
              filters: Filters = Filters()) -> int:
    """`mailbot log`: one line per message in or out, newest first (at most `limit`);
    --follow shows the newest `limit` (default 10) oldest first, like `tail -f`, then polls
    for new messages and for state changes of unsettled ones (queued → sent, received →
    processed)."""
    out = out or sys.stdout

    def show(entry: Entry) -> None:
        out.write((json.dumps(entry.as_json(), ensure_ascii=False) if as_json else entry.line(zone))
                  + "\n")

    if not follow:
        # pages no larger than asked for: `-n 50` reads 51 rows a direction, not 500
        batch = min(500, limit + 1) if limit else 500
        for n, entry in enumerate(islice(stream(reader, zone, filters, batch), limit), start=1):
            show(entry)
            if n % 100 == 1:
                out.flush()  # the first screen at once, even into a pipe
        out.flush()
        return 0
    found = list(islice(stream(reader, zone, filters, min(500, (limit or 10) + 1)), limit or 10))
    # everything up to here is old, shown or not
    last_in = reader.rows("SELECT max(id) FROM inbox_messages", [])[0][0] or 0
    last_out = reader.rows("SELECT max(id) FROM outbox_messages", [])[0][0] or 0
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
            fresh = (inbound(reader, zone, filters, 10_000, after=last_in)
                     + outbound(reader, zone, filters, 10_000, after=last_out))
            for entry in sorted(_changed(reader, zone, watching) + fresh, key=_order):
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


def _changed(reader: Reader, zone: ZoneInfo, watching: dict[tuple[str, int], str]) -> list[Entry]:
    ids_in = [i for d, i in watching if d == "in"]
    ids_out = [i for d, i in watching if d == "out"]
    found = (inbound(reader, zone, Filters(), len(ids_in), only=ids_in) if ids_in else [])
    found += (outbound(reader, zone, Filters(), len(ids_out), only=ids_out) if ids_out else [])
    return [e for e in found if watching.get((e.direction, e.id)) != e.state]
