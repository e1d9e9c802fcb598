"""SMTP sessions against the real server: a message is acknowledged only once it is stored."""

from __future__ import annotations

import asyncio
import dataclasses
import smtplib
from collections.abc import Iterator
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import make_msgid

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from mailbot.config import load_house
from mailbot.inbound import smtp, worker
from mailbot.runtime import Runtime
from mailbot.store.db import Store
from mailbot.store.tables import InboxMessage
from tests.support.background import free_port, running, wait_for_port, wait_until

pytestmark = pytest.mark.e2e


def message(to: str = "buchung@haus-betzenstein.de", subject: str = "Anfrage August",
            body: str = "Hallo, wir möchten vom 3. bis 9. August 2027 mit 4 Personen kommen.\nAnna",
            message_id: str | None = None) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = "Anna Beispiel <anna@example.net>"
    mail["To"] = to
    mail["Subject"] = subject
    mail["Message-ID"] = message_id or make_msgid(domain="example.net")
    mail.set_content(body)
    return mail


def wire(mail: EmailMessage) -> bytes:
    return mail.as_bytes(policy=SMTP_POLICY)


def with_port(rt: Runtime) -> int:
    port = free_port()
    rt.settings = dataclasses.replace(rt.settings, smtp_listen=f"127.0.0.1:{port}")
    return port


@pytest.fixture
def server(rt: Runtime) -> Iterator[int]:
    port = with_port(rt)
    with running(lambda stop: smtp.run(rt, stop)):
        wait_for_port(port)
        yield port


def stored(rt: Runtime) -> list[InboxMessage]:
    with rt.store.reading() as session:
        return list(session.scalars(select(InboxMessage).order_by(InboxMessage.id)))


def test_message_is_stored_before_the_250(rt: Runtime, server: int) -> None:
    mail = message()
    with smtplib.SMTP("127.0.0.1", server) as client:
        refused = client.send_message(mail, from_addr="anna@example.net",
                                      to_addrs=["buchung@haus-betzenstein.de"])
        assert refused == {}
        # Already committed when the 250 came back: nothing is written after the answer.
        rows = stored(rt)
    assert len(rows) == 1
    row = rows[0]
    assert row.state == "received"
    assert row.source == "smtp"
    assert row.message_id == mail["Message-ID"]
    assert row.from_address == "anna@example.net"
    assert row.subject == "Anfrage August"
    assert b"mit 4 Personen" in row.raw
    assert row.size == len(row.raw)
    assert row.correlation_id


def test_envelope_sender_peer_and_helo_are_kept_with_every_message(rt: Runtime, server: int) -> None:
    with smtplib.SMTP("127.0.0.1", server, local_hostname="mx.example.net") as client:
        client.sendmail("Bounces@Example.NET", ["buchung@haus-betzenstein.de"], wire(message()))
        # a bounce comes with the null sender
        client.sendmail("<>", ["buchung@haus-betzenstein.de"], wire(message(subject="Unzustellbar")))
    sender, bounce = stored(rt)
    assert (sender.envelope_sender, sender.peer_address, sender.helo_name) == (
        "Bounces@Example.NET", "127.0.0.1", "mx.example.net")
    assert bounce.envelope_sender == ""
    assert bounce.peer_address == "127.0.0.1"


def test_plus_addresses_and_any_case_of_the_booking_address_are_accepted(
        rt: Runtime, server: int) -> None:
    recipients = ["Buchung@Haus-Betzenstein.DE", "buchung+k3y.s1g@haus-betzenstein.de"]
    with smtplib.SMTP("127.0.0.1", server) as client:
        for to in recipients:
            assert client.send_message(message(to=to), from_addr="anna@example.net",
                                       to_addrs=[to]) == {}
    assert len(stored(rt)) == 2


@pytest.mark.parametrize("foreign", [
    "info@haus-betzenstein.de",             # another mailbox of our domain
    "buchung@example.com",                  # the booking local part elsewhere: a relay attempt
    "somebody@gmail.com",                   # plain relaying
    "buchungx+abc@haus-betzenstein.de",
])
def test_foreign_recipients_get_550_and_nothing_is_stored(
        rt: Runtime, server: int, foreign: str) -> None:
    with smtplib.SMTP("127.0.0.1", server) as client:
        client.ehlo()
        client.mail("spammer@example.net")
        code, answer = client.rcpt(foreign)
        assert code == 550
        assert b"5.1.1" in answer
        client.rset()
        with pytest.raises(smtplib.SMTPRecipientsRefused):
            client.sendmail("spammer@example.net", [foreign], wire(message(to=foreign)))
    assert stored(rt) == []


def test_only_the_booking_recipient_of_a_mixed_envelope_is_taken(rt: Runtime, server: int) -> None:
    with smtplib.SMTP("127.0.0.1", server) as client:
        refused = client.sendmail("anna@example.net",
                                  ["buchung@haus-betzenstein.de", "victim@example.org"],
                                  wire(message()))
    assert list(refused) == ["victim@example.org"]
    assert refused["victim@example.org"][0] == 550
    assert len(stored(rt)) == 1


def test_oversized_message_is_refused_with_552(rt: Runtime) -> None:
    rt.house = dataclasses.replace(rt.house, limits=dataclasses.replace(rt.house.limits,
                                                                         max_message_bytes=2_000))
    port = with_port(rt)
    with running(lambda stop: smtp.run(rt, stop)):
        wait_for_port(port)
        big = message(body="Viel Text.\n" * 400)
        with smtplib.SMTP("127.0.0.1", port) as client:
            client.ehlo()
            # A client that announces the size (smtplib does) is refused at MAIL FROM ...
            with pytest.raises(smtplib.SMTPSenderRefused) as announced:
                client.sendmail("anna@example.net", ["buchung@haus-betzenstein.de"], wire(big))
            assert announced.value.smtp_code == 552
        with smtplib.SMTP("127.0.0.1", port) as client:
            client.ehlo()
            # ... and one that does not is refused after DATA.
            client.esmtp_features.pop("size", None)
            with pytest.raises(smtplib.SMTPDataError) as sent:
                client.sendmail("anna@example.net", ["buchung@haus-betzenstein.de"], wire(big))
            assert sent.value.smtp_code == 552
            assert client.send_message(message(), from_addr="anna@example.net",
                                       to_addrs=["buchung@haus-betzenstein.de"]) == {}
    assert [row.subject for row in stored(rt)] == ["Anfrage August"]


def test_database_unreachable_answers_451_so_the_sender_retries(rt: Runtime) -> None:
    closed = free_port()  # nothing listens here
    down = Runtime(dataclasses.replace(rt.settings, smtp_listen=f"127.0.0.1:{free_port()}",
                                       database_url=f"postgresql://postgres@127.0.0.1:{closed}/x"),
                   load_house(rt.settings.rules_file),
                   Store(f"postgresql://postgres@127.0.0.1:{closed}/x"), rt.clock)
    port = int(down.settings.smtp_listen.rsplit(":", 1)[1])
    try:
        with running(lambda stop: smtp.run(down, stop)):
            wait_for_port(port)
            with smtplib.SMTP("127.0.0.1", port) as client, \
                    pytest.raises(smtplib.SMTPDataError) as refused:
                client.send_message(message(), from_addr="anna@example.net",
                                    to_addrs=["buchung@haus-betzenstein.de"])
    finally:
        down.store.dispose()
    assert refused.value.smtp_code == 451
    assert b"4.3.0" in refused.value.smtp_error


def test_duplicate_message_id_is_accepted_but_stored_once(rt: Runtime, server: int) -> None:
    mail = message(message_id="<dup-1@example.net>")
    with smtplib.SMTP("127.0.0.1", server) as client:
        assert client.send_message(mail, from_addr="anna@example.net",
                                   to_addrs=["buchung@haus-betzenstein.de"]) == {}
        # The same message again (a sender retrying after a lost 250), with other trace headers.
        mail["X-Retry"] = "1"
        assert client.send_message(mail, from_addr="anna@example.net",
                                   to_addrs=["buchung@haus-betzenstein.de"]) == {}
    rows = stored(rt)
    assert [row.message_id for row in rows] == ["<dup-1@example.net>"]


def test_worker_in_the_same_process_is_woken_by_an_arrival_not_by_its_sweep(rt: Runtime) -> None:
    handled: list[int] = []

    def conversation(rt: Runtime, session: Session, message: InboxMessage, *rest: object) -> None:
        handled.append(message.id)
        message.state = "processed"

    port = with_port(rt)

    async def service(stop: asyncio.Event) -> None:
        # The sweep is an hour away: only the arrival itself can start the work.
        await asyncio.gather(smtp.run(rt, stop),
                             worker.run(rt, stop, sweep_seconds=3600, conversation=conversation))

    with running(service):
        wait_for_port(port)
        with smtplib.SMTP("127.0.0.1", port) as client:
            client.send_message(message(), from_addr="anna@example.net",
                                to_addrs=["buchung@haus-betzenstein.de"])
        wait_until(lambda: handled)
    [row] = stored(rt)
    assert handled == [row.id]
    assert row.state == "processed"


def test_a_request_from_the_null_sender_is_ignored_as_a_bounce(rt: Runtime, server: int) -> None:
    """Issue 15: in SMTP mode the envelope sender was discarded, so `MAIL FROM:<>`, the surest
    bounce signal, was never seen; a bounce that reads like a request got an answer."""
    with smtplib.SMTP("127.0.0.1", server) as client:
        client.sendmail("<>", ["buchung@haus-betzenstein.de"], wire(message()))
    worker.process_pending(rt)
    (row,) = stored(rt)
    assert (row.state, row.reason) == ("ignored", "bounce")
    assert "empty envelope sender" in (row.detail or "")
