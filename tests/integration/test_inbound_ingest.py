"""The durable inbox and the pipe command an MTA calls (`mailbot ingest`)."""

from __future__ import annotations

import os
import subprocess
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from pathlib import Path

import pytest
from sqlalchemy import func, select

from mailbot.inbound import inbox
from mailbot.runtime import Runtime
from mailbot.store.tables import InboxMessage
from tests.support.background import free_port

ROOT = Path(__file__).resolve().parents[2]


def raw_message(message_id: str = "<pipe-1@example.net>",
                subject: str = "=?utf-8?q?Buchung_f=C3=BCr_Ostern?=") -> bytes:
    mail = EmailMessage()
    mail["From"] = '"Jörg Müller" <Joerg.Mueller@Example.NET>'
    mail["To"] = "buchung@haus-betzenstein.de"
    mail["Subject"] = subject
    mail["Message-ID"] = message_id
    mail.set_content("Hallo, Ostern 2027 für 5 Personen?\nJörg")
    return mail.as_bytes(policy=SMTP_POLICY)


def count(rt: Runtime) -> int:
    with rt.store.reading() as session:
        return int(session.scalar(select(func.count()).select_from(InboxMessage)) or 0)


def mailbot_ingest(url: str, raw: bytes, rules: str) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "DATABASE_URL": url, "RULES_FILE": rules}
    return subprocess.run([str(ROOT / ".venv/bin/mailbot"), "ingest"], input=raw, env=env,
                          capture_output=True, timeout=60, cwd=ROOT)


def test_store_raw_keeps_the_bytes_and_the_header_summary(rt: Runtime) -> None:
    raw = raw_message()
    result = inbox.store_raw(rt, raw, "pipe", inbox.content_id(raw))
    assert not result.duplicate
    with rt.store.reading() as session:
        row = session.get(InboxMessage, result.id)
    assert row is not None
    assert row.raw == raw
    assert row.state == "received"
    assert row.source_id == inbox.content_id(raw)
    assert row.message_id == "<pipe-1@example.net>"
    assert row.from_address == "joerg.mueller@example.net"
    assert row.subject == "Buchung für Ostern"
    assert row.received_at == rt.now()
    assert row.correlation_id == result.correlation_id


@pytest.mark.parametrize(("return_path", "sender"), [
    (b"Return-Path: <Anna@Example.NET>\r\n", "Anna@Example.NET"),
    (b"Return-Path: <>\r\n", ""),  # a bounce
    (b"", None),  # delivered without one
])
def test_pipe_and_imap_keep_the_return_path_as_envelope_sender(
        rt: Runtime, return_path: bytes, sender: str | None) -> None:
    raw = return_path + raw_message()
    result = inbox.store_raw(rt, raw, "imap", "7:1")
    with rt.store.reading() as session:
        row = session.get(InboxMessage, result.id)
    assert row is not None
    assert (row.envelope_sender, row.peer_address, row.helo_name) == (sender, None, None)


def test_same_message_id_from_another_path_is_a_duplicate(rt: Runtime) -> None:
    first = inbox.store_raw(rt, raw_message(), "smtp")
    again = inbox.store_raw(rt, raw_message() + b"\r\n", "imap", "17:4")
    assert again.duplicate
    assert again.id == first.id
    assert count(rt) == 1


def test_same_source_id_is_a_duplicate_even_without_message_id(rt: Runtime) -> None:
    raw = b"From: a@example.net\r\nSubject: ohne Kennung\r\n\r\nHallo\r\n"
    first = inbox.store_raw(rt, raw, "imap", "99:1")
    assert not first.duplicate
    assert inbox.store_raw(rt, raw, "imap", "99:1").duplicate
    assert not inbox.store_raw(rt, raw.replace(b"Hallo", b"Hallo!"), "imap", "99:2").duplicate
    assert count(rt) == 2


def test_garbage_is_still_stored(rt: Runtime) -> None:
    raw = b"\xff\xfe not a mail at all \x00\r\n"
    result = inbox.store_raw(rt, raw, "pipe")
    with rt.store.reading() as session:
        row = session.get(InboxMessage, result.id)
    assert row is not None and row.raw == raw
    assert row.message_id is None


def test_pipe_ingest_exits_0_once_stored_and_again_for_a_duplicate(rt: Runtime) -> None:
    raw = raw_message("<pipe-cli@example.net>")
    first = mailbot_ingest(rt.settings.database_url, raw, rt.settings.rules_file)
    assert first.returncode == 0, first.stderr
    assert count(rt) == 1
    second = mailbot_ingest(rt.settings.database_url, raw, rt.settings.rules_file)
    assert second.returncode == 0, second.stderr
    assert count(rt) == 1
    with rt.store.reading() as session:
        row = session.scalars(select(InboxMessage)).one()
    assert (row.source, row.message_id, row.raw) == ("pipe", "<pipe-cli@example.net>", raw)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_pipe_ingest_exits_75_when_the_database_is_unreachable(rt: Runtime) -> None:
    down = f"postgresql://postgres@127.0.0.1:{free_port()}/mailbot"
    result = mailbot_ingest(down, raw_message(), rt.settings.rules_file)
    assert result.returncode == 75
    assert b"try again later" in result.stderr
