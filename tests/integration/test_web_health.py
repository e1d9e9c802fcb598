"""`/health` and `/metrics`."""

from __future__ import annotations

from datetime import date, timedelta

from mailbot.inbound.inbox import store_raw
from mailbot.runtime import Runtime
from mailbot.store.db import Store
from mailbot.store.tables import InboxMessage, OutboxMessage
from mailbot.web.app import create_app
from tests.support.browser import WebClient, book

RAW = b"From: anna@example.org\r\nSubject: Hallo\r\nMessage-ID: <m-%d@example.org>\r\n\r\nHallo\r\n"


def test_health_is_ok_with_the_database(rt: Runtime) -> None:
    answer = WebClient(create_app(rt)).get("/health")
    assert answer.status_code == 200 and answer.text == "ok\n"


def test_health_is_503_in_german_when_the_database_is_down(rt: Runtime) -> None:
    down = Runtime(rt.settings, rt.house, Store("postgresql://postgres@127.0.0.1:9/nirgends"), rt.clock)
    client = WebClient(create_app(down))
    answer = client.get("/health")
    assert answer.status_code == 503 and "Datenbank nicht erreichbar" in answer.text
    page = client.get("/kalender/kaputt.kaputt")  # refused before the database is asked
    assert page.status_code == 403
    from mailbot.web import links

    calendar = client.get(links.calendar_url(down))
    assert calendar.status_code == 503 and "Datenbank ist gerade nicht erreichbar" in calendar.text


def test_metrics_counts_messages_latency_depth_and_retries(rt: Runtime) -> None:
    book(rt, "anna@example.org", "Anna", date(2026, 12, 1), date(2026, 12, 3))  # queues mails
    for number, (state, seconds) in enumerate((("processed", 0.2), ("processed", 3.0), ("ignored", 0.05))):
        stored = store_raw(rt, RAW % number, "pipe", f"m{number}")
        with rt.store.transaction() as session:
            row = session.get(InboxMessage, stored.id)
            assert row is not None
            row.state, row.processed_at = state, row.received_at + timedelta(seconds=seconds)
    store_raw(rt, RAW % 9, "pipe", "m9")  # still received
    with rt.store.transaction() as session:
        first = session.get(OutboxMessage, 1)
        assert first is not None
        first.state, first.attempts = "retrying", 3
    queued = 0
    with rt.store.reading() as session:
        queued = session.query(OutboxMessage).filter(OutboxMessage.state == "queued").count()

    answer = WebClient(create_app(rt)).get(
        "/metrics", headers={"Authorization": f"Bearer {rt.settings.admin_token}"})
    assert answer.headers["content-type"].startswith("text/plain; version=0.0.4")
    lines = set(answer.text.splitlines())
    assert 'mailbot_inbound_messages{state="processed"} 2' in lines
    assert 'mailbot_inbound_messages{state="ignored"} 1' in lines
    assert 'mailbot_inbound_messages{state="received"} 1' in lines
    assert f'mailbot_outbound_messages{{state="queued"}} {queued}' in lines
    assert 'mailbot_outbound_messages{state="retrying"} 1' in lines
    assert f"mailbot_outbox_depth {queued + 1}" in lines
    assert "mailbot_outbound_retries_total 2" in lines
    assert 'mailbot_inbound_processing_seconds_bucket{le="0.1"} 1' in lines
    assert 'mailbot_inbound_processing_seconds_bucket{le="0.25"} 2' in lines
    assert 'mailbot_inbound_processing_seconds_bucket{le="+Inf"} 3' in lines
    assert "mailbot_inbound_processing_seconds_count 3" in lines
    assert "# TYPE mailbot_inbound_processing_seconds histogram" in lines


def test_issue18_metrics_bookings_by_state_follow_every_change(rt: Runtime) -> None:
    """The bookings by state come from counters the database keeps: they follow a request,
    a confirmation, a denial, a cancellation and a purge exactly as a count would."""
    from sqlalchemy import delete, func, select

    from mailbot.store.tables import bookings
    from tests.support import bookings as history

    at = history.berlin(2026, 11, 2, 10)
    ids = [history.book(rt, name, date(2027, 3, day), date(2027, 3, day + 2), at)
           for name, day in (("Anna", 1), ("Ben", 5), ("Cleo", 10), ("Dora", 15))]
    history.confirm(rt, ids[0], at)
    history.deny(rt, ids[1], rt.house.approvers[0].key, at)
    history.cancel(rt, ids[2], at)
    with rt.store.transaction() as session:  # a purge removes rows in one statement
        session.execute(delete(bookings).where(bookings.c.id == ids[1]))

    def shown() -> dict[str, int]:
        answer = WebClient(create_app(rt)).get(
            "/metrics", headers={"Authorization": f"Bearer {rt.settings.admin_token}"})
        prefix = 'mailbot_bookings{state="'
        return {line[len(prefix):].split('"')[0]: int(line.split()[-1])
                for line in answer.text.splitlines() if line.startswith(prefix)}

    def counted() -> dict[str, int]:
        with rt.store.reading() as session:
            found = dict.fromkeys(("pending", "confirmed", "denied", "canceled"), 0)
            query = select(bookings.c.state, func.count()).group_by(bookings.c.state)
            for state, n in session.execute(query):
                found[str(state)] = int(n)
            return found

    assert shown() == counted() == {"pending": 1, "confirmed": 1, "denied": 0, "canceled": 1}
