"""The transports deliver the rendered rows as real messages: maildir files, an SMTP
session against a real aiosmtpd server, the console; and the worker loop picks up new mail."""

from __future__ import annotations

import asyncio
import dataclasses
import io
import mailbox
import threading
from collections.abc import Iterator
from datetime import date
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from sqlalchemy import select

from mailbot import actions
from mailbot.core import booking as rules
from mailbot.outbound import worker
from mailbot.outbound.transports import ConsoleTransport, MaildirTransport, Outgoing, SmtpTransport
from mailbot.runtime import Cause, Runtime
from mailbot.store.tables import OutboxMessage
from tests.support.background import free_port, running, wait_until
from tests.support.resend_server import ResendServer


def request_booking(rt: Runtime, who: str = "anna@example.com", start: date = date(2027, 8, 1)) -> None:
    with rt.store.transaction() as session:
        request = rules.Request(who, "Jörg", start, start.replace(day=start.day + 4), 3, "Grüße & Küsse")
        actions.submit(rt, session, request, Cause.new())


def rows(rt: Runtime) -> list[OutboxMessage]:
    with rt.store.reading() as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def parts(message: EmailMessage) -> tuple[str, str]:
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None and html is not None
    # SMTP carries CRLF line ends; the content is the same
    return text.get_content().replace("\r\n", "\n"), html.get_content().replace("\r\n", "\n")


def test_maildir_is_the_default_and_writes_one_readable_file_per_mail(rt: Runtime) -> None:
    request_booking(rt)
    assert worker.send_due(rt) == 4
    folder = Path(rt.settings.maildir)
    assert {p.name for p in folder.iterdir()} >= {"tmp", "new", "cur"}
    box = mailbox.Maildir(folder, factory=None, create=False)
    assert len(box) == 4
    by_id = {r.message_id: r for r in rows(rt)}
    for key in box.iterkeys():
        raw = box.get_bytes(key)
        message = message_from_bytes(raw, policy=policy.default)
        assert isinstance(message, EmailMessage)
        row = by_id[message["Message-ID"]]
        assert key == row.idempotency_key == row.provider_id and row.state == "sent"
        assert message.get_content_type() == "multipart/alternative"
        assert message["Subject"] == row.subject
        assert row.subject in {"Neue Buchungsanfrage von Jörg (01.–05.08.2027)",
                               "Anfrage erhalten (01.–05.08.2027)"}
        assert message["To"] == row.to_address and message["Reply-To"] == row.reply_to
        assert message["Auto-Submitted"] == "auto-generated"
        assert message["X-Mailbot-Correlation"] == row.correlation_id
        text, html = parts(message)
        assert text == row.text_body and html == row.html_body
        assert "Jörg" in text and "Grüße &amp; Küsse" in html


def test_maildir_writing_the_same_mail_twice_leaves_one_file(rt: Runtime) -> None:
    request_booking(rt)
    transport = MaildirTransport(rt.settings.maildir)
    first = rows(rt)[0]
    # the worker sent it, then died before recording that: the lease runs out, it is sent again
    transport.send(Outgoing.of(first))
    worker.send_due(rt, transport=transport)
    box = mailbox.Maildir(rt.settings.maildir, create=False)
    assert len(box) == 4
    # also when a mail reader has already moved it to cur/ with flags
    name = first.idempotency_key
    (Path(rt.settings.maildir) / "new" / name).rename(Path(rt.settings.maildir) / "cur" / f"{name}:2,S")
    transport.send(Outgoing.of(first))
    assert len(mailbox.Maildir(rt.settings.maildir, create=False)) == 4


def test_a_house_name_with_umlauts_and_a_broken_subject_still_make_a_clean_message(rt: Runtime) -> None:
    request_booking(rt)
    row = Outgoing.of(rows(rt)[0])
    subject = "Anfrage\r\nBcc: fremd@example.net"
    row = dataclasses.replace(row, subject=subject, headers={
        **row.headers, "Subject": subject, "From": "Häuschen am Sée <buchung@haus-betzenstein.de>"})
    MaildirTransport(rt.settings.maildir).send(row)
    box = mailbox.Maildir(rt.settings.maildir, factory=None, create=False)
    message = message_from_bytes(box.get_bytes(next(box.iterkeys())), policy=policy.default)
    assert message["From"].addresses[0].display_name == "Häuschen am Sée"
    assert message["From"].addresses[0].addr_spec == "buchung@haus-betzenstein.de"
    assert message["Subject"] == "Anfrage Bcc: fremd@example.net"  # one line, no header of its own
    assert message["Bcc"] is None


def test_bodies_arrive_exactly_as_rendered_in_short_quoted_printable_lines(rt: Runtime) -> None:
    request_booking(rt)
    text = ("Grüße aus dem Häuschen – 3 = drei €\n" + "Sehr lange Zeile ohne Umbruch " * 12
            + "\nLeerzeichen am Ende   \n\tTab am Anfang\n.Punkt am Anfang\nFrom Anfang\n")
    html = "<p>" + "Schöne Tage im Haus, " * 20 + "</p>\n<p>a=b &amp; ä</p>\n"
    row = dataclasses.replace(Outgoing.of(rows(rt)[0]), text_body=text, html_body=html)
    MaildirTransport(rt.settings.maildir).send(row)
    box = mailbox.Maildir(rt.settings.maildir, factory=None, create=False)
    data = box.get_bytes(next(box.iterkeys()))
    assert max(len(line) for line in data.split(b"\n")) <= 78
    assert parts(message_from_bytes(data, policy=policy.default)) == (text, html)


class Recorder:
    """An aiosmtpd handler that keeps what it receives; some recipients are refused."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []
        self.sessions = 0
        self.refuse: dict[str, str] = {}

    async def handle_EHLO(self, server: SMTP, session: Session, envelope: Envelope, hostname: str,
                          responses: list[str]) -> list[str]:
        self.sessions += 1
        session.host_name = hostname
        return responses

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope, address: str,
                          rcpt_options: list[str]) -> str:
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        assert isinstance(envelope.content, bytes)
        self.messages.append((str(envelope.mail_from), list(envelope.rcpt_tos), envelope.content))
        return "250 2.0.0 queued"


def _authenticate(server: SMTP, session: Session, envelope: Envelope, mechanism: str,
                  auth_data: Any) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (b"bot", b"geheim")
    return AuthResult(success=ok)


@pytest.fixture
def smtp_sink() -> Iterator[tuple[Recorder, int]]:
    recorder = Recorder()
    port = free_port()
    controller = Controller(recorder, hostname="127.0.0.1", port=port, authenticator=_authenticate,
                            auth_require_tls=False)
    controller.start()
    yield recorder, port
    controller.stop()


def test_smtp_transport_relays_every_mail_over_one_session(rt: Runtime, smtp_sink: tuple[Recorder, int]
                                                           ) -> None:
    recorder, port = smtp_sink
    rt.settings = dataclasses.replace(rt.settings, mail_transport="smtp",
                                      outbound_smtp_url=f"smtp://bot:geheim@127.0.0.1:{port}")
    request_booking(rt)
    assert worker.send_due(rt) == 4
    assert {r.state for r in rows(rt)} == {"sent"}
    assert len(recorder.messages) == 4 and recorder.sessions == 1
    by_id = {r.message_id: r for r in rows(rt)}
    for mail_from, rcpt_tos, raw in recorder.messages:
        message = message_from_bytes(raw, policy=policy.default)
        assert isinstance(message, EmailMessage)
        row = by_id[message["Message-ID"]]
        assert mail_from == "buchung@haus-betzenstein.de" and rcpt_tos == [row.to_address]
        assert parts(message) == (row.text_body, row.html_body)
        assert message["Subject"] == row.subject


def test_smtp_refusals_fail_at_once_and_temporary_ones_are_retried(
        rt: Runtime, smtp_sink: tuple[Recorder, int]) -> None:
    recorder, port = smtp_sink
    recorder.refuse = {"ingeborg@example.org": "550 5.1.1 no such user",
                       "cornelia@example.org": "451 4.3.0 try again later"}
    request_booking(rt)
    transport = SmtpTransport(f"smtp://bot:geheim@127.0.0.1:{port}", "buchung@haus-betzenstein.de")
    worker.send_due(rt, transport=transport)
    transport.close()
    states = {r.to_address: (r.state, r.last_error) for r in rows(rt)}
    assert states["ingeborg@example.org"][0] == "failed" and "550" in str(states["ingeborg@example.org"][1])
    assert states["cornelia@example.org"][0] == "retrying" and "451" in str(states["cornelia@example.org"][1])
    assert states["angelika@example.org"][0] == "sent" and states["anna@example.com"][0] == "sent"


def test_console_transport_prints_the_message(rt: Runtime) -> None:
    request_booking(rt)
    out = io.StringIO()
    worker.send_due(rt, transport=ConsoleTransport(out))
    printed = out.getvalue()
    assert printed.count("Auto-Submitted: auto-generated") == 4
    subjects = [line for line in printed.splitlines() if line.startswith("Subject:")]
    assert len(subjects) == 4 and all("=?utf-8?" in line for line in subjects)  # encoded words


def test_the_running_worker_sends_new_mail_promptly(rt: Runtime) -> None:
    with running(lambda stop: worker.run(rt, stop)):
        request_booking(rt)
        wait_until(lambda: len(mailbox.Maildir(rt.settings.maildir, create=True)) == 4)
        request_booking(rt, who="berta@example.com", start=date(2027, 9, 1))
        wait_until(lambda: len(mailbox.Maildir(rt.settings.maildir, create=True)) == 8)
    assert {r.state for r in rows(rt)} == {"sent"}


def test_workers_side_by_side_send_each_mail_once(rt: Runtime) -> None:
    for month in range(1, 11):
        request_booking(rt, who=f"gast{month}@example.com", start=date(2027, month, 1))
    total = len(rows(rt))
    with ResendServer() as server:
        from mailbot.outbound.transports import ResendTransport

        transport = ResendTransport(server.api_key, server.url, timeout=5)
        errors: list[BaseException] = []

        def drain() -> None:
            try:
                while worker.send_due(rt, limit=3, transport=transport):
                    pass
            except BaseException as exc:  # reported below
                errors.append(exc)

        threads = [threading.Thread(target=drain) for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        # each row was posted once: no second request, not merely deduplicated
        assert len(server.answers) == total == len(server.deliveries)
    assert {r.state for r in rows(rt)} == {"sent"}


def test_the_worker_loop_ends_when_asked_to_stop(rt: Runtime) -> None:
    stop = asyncio.Event()
    stop.set()
    asyncio.run(worker.run(rt, stop))  # returns at once when asked to stop


def test_a_restarted_instance_sends_the_mails_it_had_in_hand_at_once_and_once(rt: Runtime) -> None:
    request_booking(rt)
    claimed = worker._claim(rt, 100, worker.TIMEOUT)  # the process dies right after this claim
    assert len(claimed) == 4 and {r.state for r in rows(rt)} == {"sending"}
    assert worker.send_due(rt) == 0  # another worker must not touch rows whose lease runs
    assert worker.take_back_claims(rt) == 4  # the restarted instance, before its first round
    assert worker.send_due(rt) == 4
    assert {r.state for r in rows(rt)} == {"sent"}
    assert len(mailbox.Maildir(Path(rt.settings.maildir), factory=None, create=False)) == 4
