"""The admin mail log behind ADMIN_TOKEN: login, the log with filters, one message's story,
raw source, resend of failed mail, and `mailbot log` on the terminal."""

from __future__ import annotations

import io
import json
import re
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from mailbot import maillog
from mailbot.inbound.inbox import store_raw
from mailbot.inbound.worker import process_pending
from mailbot.runtime import Runtime
from mailbot.store.tables import InboxMessage, OutboxMessage
from mailbot.web import admin
from mailbot.web.app import create_app
from tests.support.browser import WebClient, book

REQUEST = """\
From: Anna Beispiel <anna@example.org>
To: buchung@haus-betzenstein.de
Subject: Wochenende im Dezember
Message-ID: <anfrage-1@example.org>
Date: Mon, 23 Nov 2026 09:30:00 +0100
Content-Type: text/plain; charset=utf-8

Hallo,

wir würden gern vom 4. bis 6. Dezember 2026 mit 3 Personen kommen.

Viele Grüße
Anna

Am 20.11.2026 schrieb Buchungsbot:
> Alte <b>Nachricht</b>
"""


@pytest.fixture
def client(rt: Runtime) -> WebClient:
    return WebClient(create_app(rt), rt.settings.base_url)


def login(rt: Runtime, client: WebClient) -> None:
    page = client.get("/admin")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert token is not None
    done = client.post("/admin/anmelden", data={"csrf": token.group(1), "token": rt.settings.admin_token})
    assert done.status_code == 303


def inbound(rt: Runtime, raw: str, source_id: str, **fields: object) -> int:
    stored = store_raw(rt, raw.encode(), "pipe", source_id)
    with rt.store.transaction() as session:
        row = session.get(InboxMessage, stored.id)
        assert row is not None
        for name, value in fields.items():
            setattr(row, name, value)
    return stored.id


def test_admin_pages_need_the_token(rt: Runtime, client: WebClient) -> None:
    for url in ("/admin", "/admin/ein/1", "/admin/aus/1"):
        page = client.get(url)
        assert page.status_code == 401 and "Admin-Anmeldung" in page.text
    assert client.get("/admin/ein/1/roh").status_code == 401
    assert client.post("/admin/aus/1/erneut", data={}).status_code == 401
    wrong = client.submit("/admin", token="geraten")
    assert wrong.status_code == 401 and "Das Token stimmt nicht" in wrong.text
    assert rt.settings.admin_token not in client.get("/admin").text


def test_login_sets_a_strict_httponly_cookie_and_no_token_in_urls(rt: Runtime, client: WebClient) -> None:
    page = client.get("/admin")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert token is not None
    done = client.post("/admin/anmelden", data={"csrf": token.group(1), "token": rt.settings.admin_token})
    cookie = done.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie
    assert rt.settings.admin_token not in done.headers["set-cookie"]
    assert done.headers["location"] == "/admin"
    log = client.get("/admin")
    assert log.status_code == 200 and "Mail-Log" in log.text


def test_bearer_token_works_without_a_cookie(rt: Runtime, client: WebClient) -> None:
    headers = {"Authorization": f"Bearer {rt.settings.admin_token}"}
    assert client.get("/admin", headers=headers).status_code == 200
    assert client.get("/admin", headers={"Authorization": "Bearer falsch"}).status_code == 401


def test_a_forged_cookie_is_not_a_login(rt: Runtime, client: WebClient) -> None:
    client.cookies.set("mailbot_admin", "abc.def", path="/admin")
    assert client.get("/admin").status_code == 401


def test_the_story_of_one_inbound_request(rt: Runtime, client: WebClient) -> None:
    stored = store_raw(rt, REQUEST.encode(), "pipe", "anfrage-1")
    process_pending(rt)
    login(rt, client)

    log = client.get("/admin").text
    assert "anna@example.org" in log and "Wochenende im Dezember" in log
    story = client.get(f"/admin/ein/{stored.id}").text
    for step in ("1. Empfangen", "2. Verstanden als", "3. Entscheidung", "4. Verschickte Mails"):
        assert step in story
    with rt.store.reading() as session:
        row = session.get(InboxMessage, stored.id)
        assert row is not None
        sent = admin.story(session, row)
    assert sent, "the request caused mails"
    for mail in sent:
        assert f'href="/admin/aus/{mail.id}"' in story
    assert "<details><summary>Entfernter Text" in story
    assert "Alte &lt;b&gt;Nachricht&lt;/b&gt;" in story


def test_rejected_and_failed_messages_show_reason_and_interpretation(rt: Runtime, client: WebClient) -> None:
    rejected = inbound(rt, REQUEST.replace("anfrage-1", "anfrage-2"), "m2", state="rejected",
                       reason="conflict", detail="Überschneidung mit Bernd – Bestätigt",
                       interpretation={"intent": "request", "start": "2026-12-04", "party_size": 3},
                       processed_at=rt.now() + timedelta(seconds=2))
    failed = inbound(rt, REQUEST.replace("anfrage-1", "anfrage-3"), "m3", state="failed",
                     reason="error", detail="KeyError: 'x'")
    login(rt, client)
    page = client.get(f"/admin/ein/{rejected}").text
    assert "conflict" in page and "Überschneidung mit Bernd – Bestätigt" in page
    assert "intent" in page and "2026-12-04" in page
    assert "KeyError" in client.get(f"/admin/ein/{failed}").text
    only_failed = client.get("/admin?status=failed&richtung=in").text
    assert f"/admin/ein/{failed}" in only_failed and f"/admin/ein/{rejected}" not in only_failed


def test_filters_by_address_state_and_date(rt: Runtime, client: WebClient, clock) -> None:  # type: ignore[no-untyped-def]
    book(rt, "anna@example.org", "Anna", date(2026, 12, 1), date(2026, 12, 3))
    clock.advance(days=2)
    book(rt, "bernd@example.org", "Bernd", date(2026, 12, 10), date(2026, 12, 12))
    login(rt, client)
    by_address = client.get("/admin?adresse=anna").text
    assert "anna@example.org" in by_address and "bernd@example.org" not in by_address
    late = client.get("/admin?von=2026-11-25").text
    assert "bernd@example.org" in late and "anna@example.org" not in late
    early = client.get("/admin?bis=2026-11-23").text
    assert "anna@example.org" in early and "bernd@example.org" not in early
    assert "Keine Nachrichten" in client.get("/admin?status=bounced").text


def test_raw_source_is_plain_text(rt: Runtime, client: WebClient) -> None:
    message = inbound(rt, REQUEST.replace("Alte", "<script>alert(1)</script>"), "raw-1")
    login(rt, client)
    raw = client.get(f"/admin/ein/{message}/roh")
    assert raw.headers["content-type"].startswith("text/plain")
    assert raw.headers["x-content-type-options"] == "nosniff"
    assert "<script>alert(1)</script>" in raw.text and "Message-ID: <anfrage-1@example.org>" in raw.text


def test_resend_puts_a_failed_mail_back_in_the_queue(rt: Runtime, client: WebClient) -> None:
    book(rt, "anna@example.org", "Anna", date(2026, 12, 1), date(2026, 12, 3))
    with rt.store.transaction() as session:
        mail = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).first()
        assert mail is not None
        mail.state, mail.attempts, mail.last_error = "failed", 4, "550 mailbox unavailable"
        mail_id = mail.id
    login(rt, client)
    page = client.get(f"/admin/aus/{mail_id}").text
    assert "550 mailbox unavailable" in page and "Erneut senden" in page
    assert client.post(f"/admin/aus/{mail_id}/erneut", data={"csrf": "falsch"}).status_code == 403
    done = client.submit(f"/admin/aus/{mail_id}")
    assert done.status_code == 303
    assert "Erneut in die Warteschlange gestellt" in client.get(done.headers["location"]).text
    with rt.store.reading() as session:
        again = session.get(OutboxMessage, mail_id)
        assert again is not None and again.state == "queued"
    assert "Erneut senden" not in client.get(f"/admin/aus/{mail_id}").text


def test_logout_ends_the_session(rt: Runtime, client: WebClient) -> None:
    login(rt, client)
    assert client.submit("/admin").status_code == 303  # the page's one POST form: log out
    assert client.get("/admin").status_code == 401


def _reader(rt: Runtime) -> maillog.Reader:
    """What `mailbot log` reads with: a driver connection of its own."""
    return maillog.connect(rt.settings.database_url)


def _log(rt: Runtime, **options: Any) -> int:
    return maillog.print_log(_reader(rt), rt.house.timezone, **options)


def test_mailbot_log_prints_one_line_per_message_newest_first(rt: Runtime, clock) -> None:  # type: ignore[no-untyped-def]
    inbound(rt, REQUEST, "log-1", state="processed", reason="request")
    clock.advance(minutes=1)
    booking_id, _ = book(rt, "bernd@example.org", "Bernd", date(2026, 12, 10), date(2026, 12, 12))
    out = io.StringIO()
    assert _log(rt, follow=False, as_json=False, out=out) == 0
    lines = out.getvalue().splitlines()
    assert "IN " in lines[-1] and "processed" in lines[-1] and "anna@example.org" in lines[-1]
    assert all("OUT" in line for line in lines[:-1]) and len(lines) > 1

    out = io.StringIO()
    _log(rt, follow=False, as_json=True, out=out)
    records = [json.loads(line) for line in out.getvalue().splitlines()]
    assert records[-1]["direction"] == "in" and records[-1]["state"] == "processed"
    assert {r["direction"] for r in records[:-1]} == {"out"}
    assert [r["at"] for r in records] == sorted((r["at"] for r in records), reverse=True)

    out = io.StringIO()  # -n 2: the two newest
    _log(rt, follow=False, as_json=True, out=out, limit=2)
    assert [json.loads(line) for line in out.getvalue().splitlines()] == records[:2]

    out = io.StringIO()  # --address: exactly that address, whatever its case
    _log(rt, follow=False, as_json=True, out=out,
                      filters=maillog.Filters(address="Anna@Example.org"))
    assert [json.loads(line)["id"] for line in out.getvalue().splitlines()] == [records[-1]["id"]]

    out = io.StringIO()  # --booking: the mails about that booking
    _log(rt, follow=False, as_json=True, out=out,
                      filters=maillog.Filters(booking_id=booking_id))
    about = [json.loads(line) for line in out.getvalue().splitlines()]
    assert about == records[:-1] and {r["booking_id"] for r in about} == {booking_id}


def test_mailbot_log_streams_page_by_page_newest_first(rt: Runtime, clock) -> None:  # type: ignore[no-untyped-def]
    """Issue 16/18: the log is read a page at a time, both directions merged by time."""
    for n in range(7):
        inbound(rt, REQUEST.replace("anfrage-1", f"anfrage-s{n}"), f"stream-{n}")
        clock.advance(seconds=30)
    book(rt, "bernd@example.org", "Bernd", date(2026, 12, 10), date(2026, 12, 12))
    everything = list(maillog.stream(_reader(rt), rt.house.timezone, batch=1000))
    paged = list(maillog.stream(_reader(rt), rt.house.timezone, batch=2))
    assert paged == everything and len(everything) == 7 + 4
    assert [e.at for e in paged] == sorted((e.at for e in paged), reverse=True)


def test_mailbot_log_follow_shows_new_messages_and_state_changes(rt: Runtime) -> None:
    book(rt, "anna@example.org", "Anna", date(2026, 12, 1), date(2026, 12, 3))
    with rt.store.reading() as session:
        first = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).first()
        assert first is not None

    class Changing(io.StringIO):
        """Between polls, a mail is sent and a new one arrives, as the workers would do."""

        def flush(self) -> None:
            if not getattr(self, "changed", False):
                self.changed = True
                with rt.store.transaction() as session:
                    row = session.get(OutboxMessage, first.id)
                    assert row is not None
                    row.state = "sent"
                inbound(rt, REQUEST, "follow-1")

    out = Changing()
    _log(rt, follow=True, as_json=True, out=out, poll_seconds=0, rounds=1)
    records = [json.loads(line) for line in out.getvalue().splitlines()]
    before, after = records[:-2], records[-2:]
    assert {(r["direction"], r["state"]) for r in before} == {("out", "queued")}
    assert {(r["direction"], r["id"], r["state"]) for r in after} == {
        ("out", first.id, "sent"), ("in", after[0]["id"] if after[0]["direction"] == "in"
                                    else after[1]["id"], "received")}


def test_admin_pages_say_states_and_kinds_in_german(rt: Runtime, client: WebClient) -> None:
    """Issue 16: no "sent", "processed", "booking_reopened" inside a German page, and a sent
    mail has no "Nächster Versuch"."""
    inbound(rt, REQUEST, "german-1", state="processed", reason="request")
    book(rt, "bernd@example.org", "Bernd", date(2026, 12, 10), date(2026, 12, 12))
    with rt.store.transaction() as session:
        sent = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).first()
        assert sent is not None
        sent.state, sent_id = "sent", sent.id
    login(rt, client)
    log = client.get("/admin").text
    assert ">gesendet<" in log and ">verarbeitet<" in log and ">wartet<" in log
    assert "Neue Anfrage an Freigebende" in log
    assert not re.search(r">(sent|processed|queued|request_submitted)<", log)
    page = client.get(f"/admin/aus/{sent_id}").text
    assert "gesendet" in page and "Nächster Versuch" not in page
    waiting = client.get(f"/admin/aus/{sent_id + 1}").text
    assert "wartet" in waiting and "Nächster Versuch" in waiting


def test_every_mail_kind_has_a_german_name_on_the_admin_page() -> None:
    from tests.conftest import ROOT

    words = (ROOT / "templates" / "web" / "_mail_words.html.j2").read_text(encoding="utf-8")
    kinds = [p.name.removesuffix(".txt.j2") for p in (ROOT / "templates" / "email").glob("*.txt.j2")
             if not p.name.startswith("_")]
    assert [k for k in kinds if f'"{k}":' not in words] == []
