"""Ten years of history cost what the first week did (issue 18): every list page asks the
database the same number of statements and reads the same number of rows however much
history lies behind it. History is written straight into the tables (past bookings with
their decisions and timeline, mails in and out), then grown fivefold; the pages are rendered
cold (each request its own query string, so the page cache never answers)."""

from __future__ import annotations

import html
import itertools
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import event, func, insert, select

from mailbot import maillog
from mailbot.runtime import Runtime
from mailbot.store import queries
from mailbot.store.tables import InboxMessage, OutboxMessage, bookings, decisions, timeline
from mailbot.web import links
from mailbot.web.app import create_app
from tests.support.bookings import approver_link
from tests.support.browser import WebClient, book

APPROVERS = ("ingeborg", "cornelia", "angelika")
OWN = "anna@example.org"


@dataclass
class Cost:
    statements: int = 0
    rows: int = 0


@contextmanager
def counted(rt: Runtime) -> Iterator[Cost]:
    """Statements sent and rows read back, on SQLite (a row factory counts each row fetched)
    and PostgreSQL (psycopg reads a whole result at once: its rowcount); the mail log's
    reads through the driver itself as they return."""
    cost = Cost()
    engine = rt.store.engine

    def before(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        cost.statements += 1
        if rt.store.is_sqlite:
            def count(_cursor: Any, row: tuple[Any, ...]) -> tuple[Any, ...]:
                cost.rows += 1
                return row
            cursor.row_factory = count

    def after(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        if not rt.store.is_sqlite and statement.lstrip().upper().startswith(("SELECT", "WITH")):
            cost.rows += max(cursor.rowcount, 0)

    read = maillog.Reader.rows

    def through_the_driver(reader: maillog.Reader, sql: str, params: Any) -> list[tuple[Any, ...]]:
        found = read(reader, sql, params)  # the mail log reads without SQLAlchemy
        cost.statements += 1
        cost.rows += len(found)
        return found

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    maillog.Reader.rows = through_the_driver  # type: ignore[method-assign]
    try:
        yield cost
    finally:
        maillog.Reader.rows = read  # type: ignore[method-assign]
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)


class History:
    """Past bookings (confirmed, denied, canceled; never overlapping), each with three
    decisions, its timeline and a few mails in and out; Anna asks for every fifth."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.day = rt.today() - timedelta(days=30)  # walking back in time
        self.numbers = itertools.count(1)

    def grow(self, count: int) -> None:
        with self.rt.store.transaction() as session:
            rows: dict[Any, list[dict[str, Any]]] = {decisions: [], timeline: [],
                                                    InboxMessage.__table__: [], OutboxMessage.__table__: []}
            for _ in range(count):
                n = next(self.numbers)
                start, end = self.day - timedelta(days=3), self.day - timedelta(days=1)
                self.day -= timedelta(days=4)
                at = datetime.combine(start - timedelta(days=20), datetime.min.time()).replace(
                    tzinfo=self.rt.now().tzinfo)
                state = ("confirmed", "denied", "canceled")[n % 3]
                who = OWN if n % 2 == 0 else f"gast{n}@example.org"
                booking_id = session.execute(insert(bookings).values(
                    requester_email=who, first_name="Anna" if who == OWN else "Gast", start_date=start,
                    end_date=end, party_size=2, description="", state=state, created_at=at,
                    last_activity_at=at + timedelta(days=1),
                    archived_at=at if state == "canceled" else None)).inserted_primary_key[0]
                rows[decisions] += [
                    {"booking_id": booking_id, "approver": key,
                     "verdict": "denied" if state == "denied" and key == "angelika" else "approved",
                     "decided_at": at + timedelta(hours=1)} for key in APPROVERS]
                rows[timeline] += [
                    {"booking_id": booking_id, "at": at, "actor": actor, "kind": kind}
                    for actor, kind in (("requester", "submitted"), ("ingeborg", "approved"),
                                        ("cornelia", "approved"))]
                for k in range(3):
                    correlation = uuid.uuid4().hex
                    rows[InboxMessage.__table__].append(dict(
                        source="smtp", source_id=f"h{n}.{k}", message_id=f"<h{n}.{k}@example.org>",
                        received_at=at + timedelta(minutes=k), raw=b"Subject: Hallo\r\n\r\nJA\r\n",
                        size=20, from_address=who, subject="Hallo",
                        state=("processed", "ignored", "rejected")[k], reason="test",
                        booking_id=booking_id, correlation_id=correlation, attempts=1,
                        processed_at=at + timedelta(minutes=k, seconds=1)))
                    rows[OutboxMessage.__table__].append(dict(
                        idempotency_key=f"k{n}.{k}", message_id=f"<o{n}.{k}@haus-betzenstein.de>",
                        correlation_id=correlation, kind="status", to_address=who, reply_to="x",
                        subject="Stand", text_body="Hallo", html_body="<p>Hallo</p>", headers={},
                        state="sent", attempts=1, next_attempt_at=at, created_at=at + timedelta(minutes=k),
                        sent_at=at, booking_id=booking_id))
            for table, values in rows.items():
                session.execute(insert(table), values)


def test_issue18_list_pages_cost_the_same_with_five_times_the_history(rt: Runtime) -> None:
    today = rt.today()
    # what is open now stays the same: two upcoming bookings, one of them Anna's
    _, link_id = book(rt, OWN, "Anna", today + timedelta(days=10), today + timedelta(days=12))
    book(rt, "bernd@example.org", "Bernd", today + timedelta(days=20), today + timedelta(days=22))
    client = WebClient(create_app(rt), rt.settings.base_url)
    admin = {"Authorization": f"Bearer {rt.settings.admin_token}"}
    past_day = (today - timedelta(days=40)).isoformat()
    month = f"{today + timedelta(days=10):%Y-%m}"
    pages = {
        "approver overview": (links.approver_url(rt, approver_link(rt, "ingeborg")), {}),
        "requester page": (links.person_url(rt, link_id), {}),
        "calendar": (f"{links.calendar_url(rt)}?monat={month}", {}),
        "calendar feed": (links.calendar_feed_url(rt), {}),
        "admin log": ("/admin", admin),
        "admin log by address": (f"/admin?adresse={OWN}", admin),
        "admin log by state": ("/admin?status=rejected", admin),
        "admin log by date": (f"/admin?von={past_day}&bis={past_day}", admin),
        "metrics": ("/metrics", admin),
    }
    serial = itertools.count()

    def costs() -> dict[str, tuple[int, int]]:
        found = {}
        for name, (url, headers) in pages.items():
            client.get(url, headers=headers)  # warm: imports, templates, statement cache
            with counted(rt) as cost:
                sep = "&" if "?" in url else "?"
                answer = client.get(f"{url}{sep}n={next(serial)}", headers=headers)
            assert answer.status_code == 200, name
            found[name] = (cost.statements, cost.rows)
        return found

    history = History(rt)
    history.grow(250)  # more than a page of everything: 250 bookings, 750 mails each way
    first = costs()
    history.grow(1000)  # five times the history
    later = costs()
    assert later == first

    assert first["admin log by state"][1] > 100  # full pages: this is paging, not a short list
    with rt.store.reading() as session:
        assert queries.earlier_bookings(session, OWN, today).next is not None


def _walk(client: WebClient, url: str, headers: dict[str, str], item: str, more: str) -> list[str]:
    """Every item of a paged list, following its "Ältere …" link to the end."""
    found: list[str] = []
    for _ in range(100):
        page = client.get(url, headers=headers)
        assert page.status_code == 200
        found += re.findall(item, page.text)
        following = re.search(rf'<a href="([^"]+)">{more}</a>', page.text)
        if following is None:
            return found
        url = html.unescape(following.group(1))
    raise AssertionError("more than 100 pages")


def test_issue18_older_pages_continue_where_the_last_ended(rt: Runtime) -> None:
    """Keyset paging: following "Ältere …" shows every entry exactly once, also where an
    inbound and an outbound mail share their second (the admin log merges both)."""
    today = rt.today()
    current, link_id = book(rt, OWN, "Anna", today + timedelta(days=10), today + timedelta(days=12))
    History(rt).grow(130)
    client = WebClient(create_app(rt), rt.settings.base_url)
    admin = {"Authorization": f"Bearer {rt.settings.admin_token}"}

    log = _walk(client, "/admin", admin, r'href="/admin/(ein|aus)/(\d+)"', "Ältere Nachrichten")
    with rt.store.reading() as session:
        inbound = session.scalar(select(func.count()).select_from(InboxMessage))
        outbound = session.scalar(select(func.count()).select_from(OutboxMessage))
    assert len(log) == len(set(log)) == inbound + outbound > 2 * 100

    # what is open now heads every page; the history below it never repeats
    mine = _walk(client, links.person_url(rt, link_id), {}, r'/buchung/(\d+)"', "Ältere Buchungen")
    earlier = [b for b in mine if b != str(current)]
    assert len(earlier) == len(set(earlier)) == 65 and str(current) in mine

    theirs = _walk(client, links.approver_url(rt, approver_link(rt, "ingeborg")), {},
                   r'/buchung/(\d+)"', "Ältere Buchungen")
    history = [b for b in theirs if b != str(current)]
    assert len(history) == len(set(history)) == 130 and str(current) in theirs


def test_issue18_recording_mail_keeps_rendered_pages_and_a_decision_renews_them(rt: Runtime) -> None:
    """The page cache is not emptied by every processed mail: a transaction that only
    records (a counted request, an answer queued) leaves the approver's rendered page alone;
    a decision, also one made by the inbox worker's relaxed commit, shows at once."""
    from mailbot import actions
    from mailbot.runtime import Cause

    booking_id, _ = book(rt, OWN, "Anna", rt.today() + timedelta(days=10), rt.today() + timedelta(days=12))
    client = WebClient(create_app(rt), rt.settings.base_url)
    url = links.approver_url(rt, approver_link(rt, "cornelia"))
    assert "Cornelia: Noch offen" in client.get(url).text.replace("</span>", "")

    with rt.store.transaction(durable=False) as session:  # what an ignored mail writes
        queries.count_use(session, "request", "someone@example.org", rt.now())
    with counted(rt) as cost:
        client.get(url)
    assert cost.statements == 0  # served as rendered

    with rt.store.transaction(durable=False) as session:
        actions.approve(rt, session, booking_id, "cornelia", Cause.new())
    assert "Cornelia: Zugestimmt" in client.get(url).text.replace("</span>", "")
