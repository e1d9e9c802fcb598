"""The IMAP poller against a real Dovecot: store first, then move; once, through restarts."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from imapclient import IMAPClient
from sqlalchemy import select

from mailbot.config import load_house
from mailbot.inbound import imap, inbox
from mailbot.runtime import Runtime
from mailbot.store import DatabaseUnavailable
from mailbot.store.db import Store, migrate
from mailbot.store.tables import InboxMessage
from tests.support.background import free_port, running, wait_until
from tests.support.dovecot import Dovecot

pytestmark = pytest.mark.e2e
PROCESSED = "mailbot/verarbeitet"


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """The mailbox is what matters here; the inbox's database is tested on both elsewhere."""
    url = f"sqlite:///{tmp_path / 'mailbot.sqlite3'}"
    migrate(url)
    return url


@pytest.fixture
def dovecot() -> Iterator[Dovecot]:
    server = Dovecot()
    server.start()
    yield server
    server.close()


def mail(n: int) -> bytes:
    return (f"From: Anna <anna@example.net>\r\nTo: buchung@haus-betzenstein.de\r\n"
            f"Subject: Anfrage {n}\r\nMessage-ID: <imap-{n}@example.net>\r\n\r\n"
            f"Hallo, vom 3. bis 9. August 2027 mit {n} Personen.\r\nAnna\r\n").encode()


def client(server: Dovecot) -> IMAPClient:
    connection = IMAPClient("127.0.0.1", port=server.port, ssl=False, timeout=10)
    connection.login(server.user, server.password)
    return connection


def append(server: Dovecot, *raws: bytes) -> tuple[int, list[int]]:
    """APPEND to INBOX; returns UIDVALIDITY and the new UIDs."""
    with client(server) as connection:
        uidvalidity = int(connection.select_folder("INBOX")[b"UIDVALIDITY"])
        before = set(connection.search())
        for raw in raws:
            connection.append("INBOX", raw)
        return uidvalidity, sorted(set(connection.search()) - before)


def folder(server: Dovecot, name: str) -> list[bytes]:
    with client(server) as connection:
        if not connection.folder_exists(name):
            return []
        connection.select_folder(name, readonly=True)
        found = connection.fetch(connection.search(), ["BODY.PEEK[]"])
        return [bytes(found[uid][b"BODY[]"]) for uid in sorted(found)]


def stored(rt: Runtime) -> list[InboxMessage]:
    with rt.store.reading() as session:
        return list(session.scalars(select(InboxMessage).order_by(InboxMessage.id)))


def watching(rt: Runtime, server: Dovecot, **options: Any):  # type: ignore[no-untyped-def]
    rt.settings = dataclasses.replace(rt.settings, imap_url=server.url)
    options.setdefault("backoff", (0.2,))
    return running(lambda stop: imap.run(rt, stop, **options))


def test_mailbox_url_is_read_with_encoded_user_and_default_ports() -> None:
    box = imap.Mailbox.parse("imaps://buchung%40haus-betzenstein.de:p%3Ass@mail.example.net/Anfragen")
    assert (box.host, box.port, box.ssl, box.user, box.password, box.folder) == (
        "mail.example.net", 993, True, "buchung@haus-betzenstein.de", "p:ss", "Anfragen")
    assert imap.Mailbox.parse("imap://u:p@localhost").port == 143
    assert "p:ss" not in repr(box)


def test_each_message_is_stored_once_and_then_moved_to_the_processed_folder(
        rt: Runtime, dovecot: Dovecot) -> None:
    uidvalidity, uids = append(dovecot, mail(1), mail(2), mail(3))
    with watching(rt, dovecot, poll_seconds=3600):
        wait_until(lambda: len(folder(dovecot, PROCESSED)) == 3)
    rows = stored(rt)
    assert [row.source_id for row in rows] == [f"{uidvalidity}:{uid}" for uid in uids]
    assert {row.source for row in rows} == {"imap"}
    assert [row.subject for row in rows] == ["Anfrage 1", "Anfrage 2", "Anfrage 3"]
    assert folder(dovecot, "INBOX") == []
    assert folder(dovecot, PROCESSED) == [row.raw for row in rows]


def test_a_crash_between_store_and_move_stores_nothing_twice(rt: Runtime, dovecot: Dovecot) -> None:
    uidvalidity, [uid] = append(dovecot, mail(1))
    # The poller stored this message and died before it could move it.
    first = inbox.store_raw(rt, mail(1), "imap", f"{uidvalidity}:{uid}")
    with watching(rt, dovecot, poll_seconds=3600):
        wait_until(lambda: len(folder(dovecot, PROCESSED)) == 1)
    assert [row.id for row in stored(rt)] == [first.id]
    assert folder(dovecot, "INBOX") == []


def test_nothing_is_moved_while_the_database_is_unreachable(rt: Runtime, dovecot: Dovecot) -> None:
    append(dovecot, mail(1))
    closed = f"postgresql://postgres@127.0.0.1:{free_port()}/mailbot"
    down = Runtime(dataclasses.replace(rt.settings, database_url=closed),
                   load_house(rt.settings.rules_file), Store(closed), rt.clock)
    poller = imap.Poller(down, imap.Mailbox.parse(dovecot.url), threading.Event())
    connection = client(dovecot)
    try:
        with pytest.raises(DatabaseUnavailable):
            poller.sweep(connection, PROCESSED)
    finally:
        connection.logout()
        down.store.dispose()
    assert folder(dovecot, "INBOX") == [mail(1)]
    assert folder(dovecot, PROCESSED) == []


def test_idle_announces_a_new_message_without_waiting_for_a_poll(
        rt: Runtime, dovecot: Dovecot) -> None:
    append(dovecot, mail(1))
    # Polling is an hour away: only the server's IDLE notification can bring message 2 in.
    with watching(rt, dovecot, poll_seconds=3600, idle_seconds=3600):
        wait_until(lambda: len(folder(dovecot, PROCESSED)) == 1)
        append(dovecot, mail(2))
        wait_until(lambda: len(stored(rt)) == 2)
        wait_until(lambda: len(folder(dovecot, PROCESSED)) == 2)
    assert [row.subject for row in stored(rt)] == ["Anfrage 1", "Anfrage 2"]


def test_the_poller_reconnects_after_the_server_restarts(rt: Runtime, dovecot: Dovecot) -> None:
    append(dovecot, mail(1))
    with watching(rt, dovecot, poll_seconds=3600, idle_seconds=3600):
        wait_until(lambda: len(folder(dovecot, PROCESSED)) == 1)
        dovecot.restart()
        append(dovecot, mail(2))
        wait_until(lambda: len(folder(dovecot, PROCESSED)) == 2)
    # The old connection died with the server; only a new one could have seen message 2.
    assert [row.subject for row in stored(rt)] == ["Anfrage 1", "Anfrage 2"]


def test_a_server_without_idle_is_polled(rt: Runtime) -> None:
    server = Dovecot(capability="IMAP4rev1 LITERAL+ SASL-IR UIDPLUS MOVE")
    server.start()
    try:
        with client(server) as connection:
            assert not connection.has_capability("IDLE")
        append(server, mail(1))
        with watching(rt, server, poll_seconds=0.2, idle_seconds=3600):
            wait_until(lambda: len(folder(server, PROCESSED)) == 1)
            append(server, mail(2))
            wait_until(lambda: len(folder(server, PROCESSED)) == 2)
    finally:
        server.close()
    assert len(stored(rt)) == 2
