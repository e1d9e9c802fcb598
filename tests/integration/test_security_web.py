"""Issue 13, the web side: what an outsider or a careless operator could do against
`mailbot serve` on its defaults, each test named after the finding it closes."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import stat
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import httpx
import pytest

from mailbot import tokens
from mailbot.config import Settings, load_house
from mailbot.core.model import State, Verdict
from mailbot.runtime import Runtime
from mailbot.store import queries
from mailbot.store.db import Store
from mailbot.web import links
from mailbot.web.app import create_app
from tests.conftest import ROOT, Clock
from tests.support.background import free_port, running, wait_for_port
from tests.support.bookings import approver_link
from tests.support.browser import WebClient, book, snapshot

OLD_DEFAULT_KEY = "change-me-in-production"
DEC_1, DEC_5 = date(2026, 12, 1), date(2026, 12, 5)


@pytest.fixture
def client(rt: Runtime) -> WebClient:
    return WebClient(create_app(rt), rt.settings.base_url)


def _forged_approval(client: WebClient, key: str, approver: str, booking_id: int) -> int:
    """What the outsider did: sign the approver's public name and the form with a known key."""
    path = f"/a/{tokens.sign(key, 'approver', approver)}/buchung/{booking_id}/zustimmen"
    csrf = tokens.signature(key, "csrf", f"{path}|")
    return client.post(path, data={"csrf": csrf}).status_code


def test_finding1_default_key_cannot_confirm_booking(database_url: str, tmp_path: Path, clock: Clock,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    settings = Settings.from_env({"DATABASE_URL": database_url, "MAILDIR": str(tmp_path / "outbox"),
                                  "RULES_FILE": str(ROOT / "rules" / "house.toml")})
    stored = tmp_path / "var" / "secret_key"
    assert settings.secret_key != OLD_DEFAULT_KEY and len(settings.secret_key) >= 32
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    assert stored.read_text().strip() == settings.secret_key
    again = Settings.from_env({"DATABASE_URL": database_url})
    assert again.secret_key == settings.secret_key  # links stay valid across restarts

    rt = Runtime(settings, load_house(settings.rules_file), Store(database_url), clock)
    try:
        client = WebClient(create_app(rt), rt.settings.base_url)
        booking_id, _ = book(rt, "anna@example.org", "Anna", DEC_1, DEC_5)
        before = snapshot(rt)
        for approver in ("ingeborg", "cornelia", "angelika"):
            assert _forged_approval(client, OLD_DEFAULT_KEY, approver, booking_id) == 403
            # even whoever learns the key cannot sign a name: links sign a random id
            assert _forged_approval(client, settings.secret_key, approver, booking_id) == 403
        assert snapshot(rt) == before
        with rt.store.reading() as session:
            found = queries.booking(session, booking_id)
            assert found is not None and found.state == State.PENDING
            assert all(d.verdict == Verdict.NO_RESPONSE for d in found.decisions)
        # the approver's real link still works and carries no name
        link = links.approver_action_url(rt, approver_link(rt, "ingeborg"), booking_id, "approve")
        assert "ingeborg" not in link
        assert client.submit(link).status_code == 200
    finally:
        rt.store.dispose()


def _start(tmp_path: Path, command: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "ADMIN_TOKEN")}
    base.update({"DATABASE_URL": f"sqlite:///{tmp_path / 'm.sqlite3'}",
                 "RULES_FILE": str(ROOT / "rules" / "house.toml"), **env})
    return subprocess.run([sys.executable, "-m", "mailbot.cli", command], cwd=tmp_path, env=base,
                          capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("variable,value", [
    ("SECRET_KEY", "x"), ("SECRET_KEY", OLD_DEFAULT_KEY), ("SECRET_KEY", "a" * 40),
    ("ADMIN_TOKEN", "a"), ("ADMIN_TOKEN", "admin-token"),
])
def test_finding1_weak_secrets_stop_serve_naming_the_variable(tmp_path: Path, variable: str,
                                                              value: str) -> None:
    result = _start(tmp_path, "serve", **{variable: value})
    assert result.returncode != 0
    assert f"configuration error: {variable}:" in result.stderr
    assert len(value) < 8 or value not in result.stderr  # named, never echoed


def test_finding1_doctor_reports_every_unsafe_setting_as_an_error(tmp_path: Path) -> None:
    result = _start(tmp_path, "doctor", SECRET_KEY=OLD_DEFAULT_KEY, ADMIN_TOKEN="a",
                    BASE_URL="http://127.0.0.1:8000")
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert any(line.startswith("FEHLER") and "SECRET_KEY" in line and "Beispielwert" in line
               for line in lines), result.stdout
    assert any(line.startswith("FEHLER") and "ADMIN_TOKEN" in line and "zu kurz" in line
               for line in lines), result.stdout
    plain = _start(tmp_path, "doctor", BASE_URL="http://buchung.example.org")
    assert any(line.startswith("FEHLER") and "BASE_URL" in line for line in plain.stdout.splitlines())
    assert not (tmp_path / "var" / "secret_key").exists()  # the doctor changes nothing


def _dates(rt: Runtime, booking_id: int) -> tuple[date, date, State]:
    with rt.store.reading() as session:
        found = queries.booking(session, booking_id)
        assert found is not None
        return found.start, found.end, found.state


def test_finding4_web_date_change_obeys_every_rule_of_a_new_request(rt: Runtime,
                                                                    client: WebClient) -> None:
    booking_id, link_id = book(rt, "anna@example.org", "Anna", DEC_1, DEC_5)
    book(rt, "bernd@example.org", "Bernd", date(2026, 11, 25), date(2026, 11, 27))
    url = links.requester_action_url(rt, link_id, booking_id, "edit")
    before = snapshot(rt)

    refused = {
        "2099 end (BR-027 long stay)": ({"abreise": "2099-12-31"}, "bitte bestätige den langen"),
        "2099 start (BR-026)": ({"anreise": "2099-01-01", "abreise": "2099-01-03"},
                                "So weit im Voraus"),
        "end before start": ({"anreise": "2026-12-04", "abreise": "2026-12-02"}, "vor der Anreise"),
        "start in the past": ({"anreise": "2026-11-20"}, "Vergangenheit"),
        "start into Bernd (BR-002)": ({"anreise": "2026-11-27"}, "Bernd"),
    }
    for what, (fields, german) in refused.items():
        page = client.submit(url, **fields)
        assert german in page.text, what
        assert "Erledigt" not in page.text, what
        assert _dates(rt, booking_id)[:2] == (DEC_1, DEC_5), what
    assert snapshot(rt)[:3] == before[:3]  # bookings, decisions, timeline untouched

    # the long stay is possible with the explicit tick the form now asks for
    ask = client.submit(url, abreise="2026-12-09")
    assert ask.status_code == 422 and 'name="bestaetigt"' in ask.text and "9 Tage" in ask.text
    done = client.submit(url, abreise="2026-12-09", bestaetigt="ja")
    assert done.status_code == 200
    assert _dates(rt, booking_id) == (DEC_1, date(2026, 12, 9), State.PENDING)


def test_finding4_mail_date_change_obeys_every_rule_of_a_new_request(rt: Runtime) -> None:
    from tests.support.conversation import Mailbox

    mail = Mailbox(rt)
    anna = "anna@example.net"
    row = mail.send(anna, "Hallo,\nwir würden gern vom 3. bis 7. März 2027 zu viert kommen.\n\nLG Anna")
    booking_id = row.booking_id or 0
    thread = mail.last(anna, "request_received")

    far = mail.reply(anna, thread, "Wir möchten doch bis zum 31.12.2099 bleiben.")
    assert far.reason == "asked_long_stay", far.detail
    assert _dates(rt, booking_id)[:2] == (date(2027, 3, 3), date(2027, 3, 7))
    question = mail.last(anna, "question_long_stay")
    assert "ändere ich deine Buchung" in question.text_body

    late = mail.reply(anna, thread, "Wir kommen doch erst vom 1. bis 3.1.2029.")
    assert late.state == "rejected" and late.reason == "beyond_horizon", late.detail
    assert _dates(rt, booking_id)[:2] == (date(2027, 3, 3), date(2027, 3, 7))

    ok = mail.reply(anna, mail.last(anna, "question_long_stay"), "Wir möchten doch bis zum 12.3. bleiben")
    assert ok.reason == "asked_long_stay", ok.detail
    yes = mail.reply(anna, mail.last(anna, "question_long_stay"), "JA")
    assert yes.reason == "edited", yes.detail
    assert _dates(rt, booking_id) == (date(2027, 3, 3), date(2027, 3, 12), State.PENDING)


def _everywhere(rt: Runtime, *needles: str) -> list[str]:
    """Every text, JSON or binary value of every table of the database that contains one of
    the needles (case-insensitive): the tables as the database has them, not as the code
    thinks."""
    from sqlalchemy import MetaData, select

    found = []
    meta = MetaData()
    meta.reflect(rt.store.engine)
    with rt.store.engine.connect() as connection:
        for table in meta.sorted_tables:
            for row in connection.execute(select(table)):
                for column, value in zip(table.columns, row, strict=True):
                    binary = isinstance(value, bytes | memoryview)
                    text = bytes(value).decode("utf-8", "replace") if binary else str(value)
                    hits = [n for n in needles if n.lower() in text.lower()]
                    if hits:
                        found.append(f"{table.name}.{column.name}: {hits}")
    return found


def test_finding6_purge_leaves_nothing_of_the_person_in_the_database(rt: Runtime, clock: Clock) -> None:
    from mailbot.jobs import run_job
    from mailbot.outbound.worker import send_due
    from tests.support.conversation import Mailbox

    mail = Mailbox(rt)
    wiebke, bernd = "wiebke.zwetschke@example.net", "bernd.kowalczyk@example.net"
    first = mail.send(wiebke, "Hallo,\nwir würden gern vom 10. bis 12. Dezember zu dritt kommen.\n\n"
                              "LG Wiebke", name="Wiebke Zwetschke")
    assert first.reason == "submitted", first.detail
    mail.reply("cornelia@example.org", mail.last("cornelia@example.org", "request_submitted"),
               "NEIN, weil wir da selbst im Haus sind.")
    mail.send(wiebke, "Wie ist der Stand meiner Anfrage?", subject="Status")
    mail.send(wiebke, "Hallo, was kostet das eigentlich?", subject="Frage")
    client = WebClient(create_app(rt), rt.settings.base_url)
    client.submit("/link", adresse=wiebke)
    other = mail.send(bernd, "Hallo,\nwir kommen gern vom 20. bis 22. Dezember zu zweit.\n\n"
                             "Gruß Bernd", name="Bernd Kowalczyk")
    assert other.reason == "submitted", other.detail
    assert _everywhere(rt, wiebke, "Wiebke", "Zwetschke")  # the search does find her before
    while send_due(rt):  # the mails went out long before the purge (to the test's maildir)
        pass

    clock.set(datetime(2027, 1, 1, 1, 0, tzinfo=UTC))  # the monthly purge after her end
    assert run_job(rt, "purge") == "1 Buchung gelöscht (0 storniert, 1 abgelehnt)"

    assert _everywhere(rt, wiebke, "Wiebke", "Zwetschke") == []
    assert _everywhere(rt, bernd, "Kowalczyk")  # nobody else was forgotten
    with rt.store.reading() as session:
        assert queries.bookings_of(session, bernd)


@contextlib.contextmanager
def _web_on_a_port(rt: Runtime, **settings: str) -> Iterator[str]:
    """The web view as `mailbot serve` runs it (uvicorn with our configuration); its URL."""
    from mailbot.web.app import serve

    port = free_port()
    rt.settings = dataclasses.replace(rt.settings, web_listen=f"127.0.0.1:{port}", **settings)
    with running(lambda stop: serve(rt, stop)):
        wait_for_port(port)
        yield f"http://127.0.0.1:{port}"


def _login_attempts(base: str, n: int, headers: Callable[[int], dict[str, str]]) -> list[int]:
    with httpx.Client(base_url=base, timeout=10) as http:
        return [http.post("/admin/anmelden", data={"token": "geraten"}, headers=headers(i)).status_code
                for i in range(n)]


def test_finding7_rotating_forwarded_for_does_not_dodge_the_limit(rt: Runtime) -> None:
    limit = rt.house.limits.web_requests_per_hour
    with _web_on_a_port(rt) as base:
        codes = _login_attempts(base, limit + 5, lambda i: {"X-Forwarded-For": f"198.51.100.{i}",
                                                            "Fly-Client-IP": f"203.0.113.{i}"})
    assert 429 not in codes[:limit] and set(codes[limit:]) == {429}


def test_finding7_behind_a_trusted_proxy_two_clients_are_limited_separately(rt: Runtime) -> None:
    limit = rt.house.limits.web_requests_per_hour
    with _web_on_a_port(rt, forwarded_allow_ips="127.0.0.1", client_ip_header="Fly-Client-IP") as base:
        first = _login_attempts(base, limit + 1, lambda i: {"Fly-Client-IP": "198.51.100.1"})
        second = _login_attempts(base, 3, lambda i: {"Fly-Client-IP": "198.51.100.2"})
    assert first[-1] == 429 and 429 not in first[:limit]
    assert 429 not in second  # the other client (the real admin, say) is not locked out


def test_finding7_forwarded_for_behind_a_trusted_proxy_counts_the_hop_the_proxy_saw(rt: Runtime) -> None:
    limit = rt.house.limits.web_requests_per_hour
    with _web_on_a_port(rt, forwarded_allow_ips="127.0.0.1/32") as base:
        # the client prepends whatever it likes; the proxy appends the address it saw
        codes = _login_attempts(base, limit + 2,
                                lambda i: {"X-Forwarded-For": f"10.0.0.{i}, 198.51.100.9"})
        other = _login_attempts(base, 1, lambda i: {"X-Forwarded-For": "198.51.100.10"})
    assert set(codes[limit:]) == {429} and other != [429]


def test_finding8_calendar_link_only_for_people_with_a_booking_and_approvers(rt: Runtime) -> None:
    from tests.support.conversation import Mailbox

    mail = Mailbox(rt)
    mail.send("fremd@example.net", "Hallo, wer ist da?", subject="Hallo")
    assert mail.outbox("fremd@example.net")  # the stranger got a help answer
    conflict_free = mail.send("anna@example.net", "Hallo,\nwir würden gern vom 3. bis 7. März 2027 "
                                                  "zu viert kommen.\n\nLG Anna")
    assert conflict_free.reason == "submitted"
    loser = mail.send("mallory@example.net", "Hallo,\nwir würden gern vom 4. bis 6. März 2027 zu "
                                             "zweit kommen.\n\nMallory")
    assert loser.reason == "conflict", loser.detail
    for to in ("fremd@example.net", "mallory@example.net"):
        for sent in mail.outbox(to):
            assert "/kalender/" not in sent.text_body + sent.html_body, (to, sent.kind)
    for to in ("anna@example.net", "ingeborg@example.org", "cornelia@example.org"):
        assert all("/kalender/" in m.text_body and "/kalender/" in m.html_body
                   for m in mail.outbox(to)), to


def _admin_login(rt: Runtime, client: WebClient) -> str:
    assert client.submit("/admin", token=rt.settings.admin_token).status_code == 303
    assert "Mail-Log" in client.get("/admin").text
    cookie = client.cookies.get("mailbot_admin")
    assert cookie
    return cookie


def test_finding8_admin_login_is_a_random_session_that_logout_ends(rt: Runtime) -> None:
    first, second = (WebClient(create_app(rt), rt.settings.base_url) for _ in range(2))
    one, two = _admin_login(rt, first), _admin_login(rt, second)
    assert one != two  # a new random session per login

    page = first.get("/admin")
    csrf = _csrf(page.text, "/admin/abmelden")
    assert first.post("/admin/abmelden", data={"csrf": csrf}).status_code == 303
    replay = WebClient(create_app(rt), rt.settings.base_url)
    replay.cookies.set("mailbot_admin", one)
    assert replay.get("/admin").status_code == 401  # the stolen cookie died with the logout
    assert second.get("/admin").status_code == 200  # the other login lives on


def _csrf(html: str, action: str) -> str:
    import re

    found = re.search(rf'action="{re.escape(action)}"[^>]*>\s*<input type="hidden" name="csrf" '
                      r'value="([^"]+)"', html)
    assert found, f"no form for {action}"
    return found.group(1)


def test_finding8_metrics_need_the_admin_token(rt: Runtime, client: WebClient) -> None:
    anonymous = client.get("/metrics")
    assert anonymous.status_code == 401 and "mailbot_" not in anonymous.text
    bearer = client.get("/metrics", headers={"Authorization": f"Bearer {rt.settings.admin_token}"})
    assert bearer.status_code == 200 and "mailbot_bookings" in bearer.text
    _admin_login(rt, client)
    assert "mailbot_bookings" in client.get("/metrics").text


def test_finding8_huge_booking_id_is_a_friendly_404_and_no_log_carries_a_token(
        rt: Runtime, client: WebClient, caplog: pytest.LogCaptureFixture) -> None:
    import logging

    from mailbot.logs import JsonFormatter

    booking_id, link_id = book(rt, "anna@example.org", "Anna", DEC_1, DEC_5)
    approver = links.approver_url(rt, approver_link(rt, "ingeborg"))
    person = links.person_url(rt, link_id)
    huge = "99999999999999999999999"
    with caplog.at_level(logging.DEBUG):
        for url in (f"{approver}/buchung/{huge}", f"{approver}/buchung/{huge}/zustimmen",
                    f"{person}/buchung/{huge}", f"{person}/buchung/{huge}/stornieren",
                    f"/admin/ein/{huge}"):
            page = client.get(url)
            assert page.status_code == 404 and "Nicht gefunden" in page.text, url
        logging.getLogger("mailbot.web").error("page failed: GET %s", f"{approver}/buchung/1")
    secrets = (links.approver_token(rt, approver_link(rt, "ingeborg")), links.person_token(rt, link_id))
    lines = [JsonFormatter().format(record) for record in caplog.records]
    assert lines and not [line for line in lines if any(s in line for s in secrets)]


def test_finding8_half_open_connections_are_closed_and_do_not_hold_the_server(rt: Runtime) -> None:
    import socket
    import time

    from mailbot.web.app import serve

    port = free_port()
    rt.settings = dataclasses.replace(rt.settings, web_listen=f"127.0.0.1:{port}")
    with running(lambda stop: serve(rt, stop, read_seconds=1.0)):
        wait_for_port(port)
        idle = []
        for n in range(50):
            conn = socket.create_connection(("127.0.0.1", port))
            conn.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n" if n % 2 else b"")  # never finished
            idle.append(conn)
        started = time.monotonic()
        assert httpx.get(f"http://127.0.0.1:{port}/health", timeout=5).status_code == 200
        assert time.monotonic() - started < 1.0
        time.sleep(1.5)
        closed = 0
        for conn in idle:
            conn.settimeout(2)
            try:
                closed += conn.recv(1024) == b""
            except ConnectionResetError:
                closed += 1
            conn.close()
    assert closed == 50


def test_finding1_an_approvers_link_id_is_made_once_when_two_workers_meet(rt: Runtime) -> None:
    import threading

    ingeborg = rt.house.approver("ingeborg")
    first_inserted = threading.Event()
    seen: list[str] = []

    def first() -> None:
        with rt.store.transaction() as session:
            seen.append(queries.approver_link_id(session, ingeborg, rt.now()))
            first_inserted.set()
            threading.Event().wait(0.5)  # the other worker arrives before this commits

    def second() -> None:
        first_inserted.wait(5)
        with rt.store.transaction() as session:
            seen.append(queries.approver_link_id(session, ingeborg, rt.now()))

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert len(seen) == 2 and seen[0] == seen[1]


def test_finding8_an_endless_request_head_is_refused(rt: Runtime) -> None:
    import socket

    with _web_on_a_port(rt) as base:
        port = int(base.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port)) as conn:
            conn.settimeout(5)
            conn.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")
            try:
                for n in range(200):  # 200 headers of 1 KB: far more than any link or cookie
                    conn.sendall(f"X-Pad-{n}: {'a' * 1024}\r\n".encode())
            except (BrokenPipeError, ConnectionResetError):
                pass
            answer = conn.recv(200)
        assert answer.startswith(b"HTTP/1.1 400"), answer
        assert httpx.get(f"{base}/health", timeout=5).status_code == 200


def test_finding1_the_mta_pipe_never_bounces_over_the_key(tmp_path: Path) -> None:
    from mailbot.store.db import migrate

    migrate(f"sqlite:///{tmp_path / 'm.sqlite3'}")
    mail = (b"From: Anna <anna@example.org>\r\nTo: buchung@haus-betzenstein.de\r\nSubject: Hallo\r\n"
            b"Message-ID: <pipe-1@example.org>\r\n\r\nHallo\r\n")
    for env in ({}, {"SECRET_KEY": "x"}):  # ingest signs nothing: it stores, serve refuses later
        base = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "ADMIN_TOKEN")}
        result = subprocess.run([sys.executable, "-m", "mailbot.cli", "ingest"], input=mail,
                                cwd=tmp_path, capture_output=True, timeout=60,
                                env={**base, "DATABASE_URL": f"sqlite:///{tmp_path / 'm.sqlite3'}",
                                     "RULES_FILE": str(ROOT / "rules" / "house.toml"), **env})
        assert result.returncode == 0, result.stderr
    assert not (tmp_path / "var").exists()  # nothing written where the MTA runs it


def test_finding7_an_ipv6_client_cannot_dodge_the_limit_within_its_64(rt: Runtime) -> None:
    app = create_app(rt)
    limit = rt.house.limits.web_requests_per_hour
    codes = [WebClient(app, rt.settings.base_url, ip=f"2001:db8:1:2::{n:x}")
             .post("/admin/anmelden", data={"token": "geraten"}).status_code for n in range(limit + 2)]
    assert set(codes[limit:]) == {429}
    other = WebClient(app, rt.settings.base_url, ip="2001:db8:1:3::1")  # another household
    assert other.post("/admin/anmelden", data={"token": "geraten"}).status_code != 429
