"""Issue 13 against the real SMTP server: sender authentication on arrival (finding 3, with a
real DNS server on a loopback port and mail signed with real DKIM keys), STARTTLS with a
configured certificate, and bounded sessions (finding 8)."""

from __future__ import annotations

import dataclasses
import smtplib
import ssl
import time
from collections.abc import Iterator
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

import pytest
import trustme
from sqlalchemy import select

from mailbot.inbound import smtp, worker
from mailbot.runtime import Runtime
from mailbot.store.tables import InboxMessage
from tests.support.background import free_port, running, wait_for_port
from tests.support.dns import DkimKey, Zone, dkim_key, dns_server, publish_domain

pytestmark = pytest.mark.e2e

BOOKING = "buchung@haus-betzenstein.de"


def mail(sender: str = "Ingeborg <ingeborg@example.org>", body: str = "JA",
         headers: dict[str, str] | None = None) -> bytes:
    message = EmailMessage()
    for name, value in (headers or {}).items():
        message[name] = value
    message["From"] = sender
    message["To"] = BOOKING
    message["Subject"] = "Anfrage August"
    message["Date"] = "Mon, 23 Nov 2026 10:00:00 +0100"
    message["Message-ID"] = make_msgid(domain="example.org")
    message.set_content(body)
    return message.as_bytes().replace(b"\n", b"\r\n")


@pytest.fixture(scope="module")
def dns() -> Iterator[tuple[Zone, str, DkimKey]]:
    """example.org signs with DKIM, sends only from 192.0.2.1 (so not from the test's
    127.0.0.1) and asks for p=reject; evil.example signs with its own key."""
    with dns_server() as (zone, address):
        key = dkim_key("example.org")
        publish_domain(zone, key, spf="v=spf1 ip4:192.0.2.1 -all")
        publish_domain(zone, dkim_key("evil.example"), spf="v=spf1 ip4:127.0.0.1 -all",
                       dmarc="v=DMARC1; p=none")
        yield zone, address, key


def serve(rt: Runtime, **settings: str) -> int:
    port = free_port()
    rt.settings = dataclasses.replace(rt.settings, smtp_listen=f"127.0.0.1:{port}", **settings)
    return port


def send(port: int, raw: bytes, sender: str) -> None:
    with smtplib.SMTP("127.0.0.1", port, local_hostname="mx.example.org") as client:
        assert client.sendmail(sender, [BOOKING], raw) == {}


def handled(rt: Runtime) -> list[InboxMessage]:
    worker.process_pending(rt, conversation=lambda rt, session, message, *rest: None)
    with rt.store.reading() as session:
        return list(session.scalars(select(InboxMessage).order_by(InboxMessage.id)))


def test_finding3_spf_dkim_and_dmarc_are_checked_when_mail_arrives(
        rt: Runtime, dns: tuple[Zone, str, DkimKey]) -> None:
    zone, address, key = dns
    evil = dkim_key("evil.example")
    zone.publish(f"{evil.selector}._domainkey.evil.example", evil.public_txt)
    port = serve(rt, dns_server=address)
    with running(lambda stop: smtp.run(rt, stop)):
        wait_for_port(port)
        # signed by Ingeborg's domain: DKIM aligned with From, DMARC pass
        send(port, key.sign(mail()), "ingeborg@example.org")
        # the same From, unsigned, from an address example.org's SPF does not allow
        send(port, mail(), "ingeborg@example.org")
        # signed, but by another domain, with a self-written verdict above it
        forged = mail(headers={"Authentication-Results":
                               "haus-betzenstein.de; dkim=pass header.i=ingeborg@example.org; dmarc=pass"})
        send(port, evil.sign(forged), "mallory@evil.example")
        # the null sender of a bounce, unsigned
        send(port, mail(), "<>")
    signed, unsigned, other, bounce = handled(rt)
    assert signed.authenticated
    assert "dmarc=pass" in (signed.authentication_results or "")
    assert "example.org" in signed.interpretation["authentication"]
    assert not unsigned.authenticated
    assert "spf=fail" in (unsigned.authentication_results or "")
    assert "dmarc=fail" in (unsigned.authentication_results or "")
    assert unsigned.interpretation["authentication"].startswith("forged")  # DMARC failed for it
    assert not other.authenticated
    assert not bounce.authenticated and bounce.envelope_sender == ""
    assert "TXT _dmarc.example.org" in zone.queries  # asked the real server, not a stand-in


def test_finding3_starttls_is_offered_with_a_configured_certificate(
        rt: Runtime, tmp_path: Path) -> None:
    authority = trustme.CA()
    certificate = authority.issue_cert("127.0.0.1", "localhost")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    certificate.private_key_and_cert_chain_pem.write_to_path(str(cert))
    certificate.private_key_pem.write_to_path(str(key))
    port = serve(rt, smtp_tls_cert=str(cert), smtp_tls_key=str(key))
    client_context = ssl.create_default_context()
    authority.configure_trust(client_context)
    with running(lambda stop: smtp.run(rt, stop)):
        wait_for_port(port)
        with smtplib.SMTP("127.0.0.1", port) as client:
            client.ehlo()
            assert client.has_extn("starttls")
            code, _ = client.starttls(context=client_context)
            assert code == 220
            client.ehlo()
            assert client.sock is not None
            assert client.sock.version() in ("TLSv1.2", "TLSv1.3")  # type: ignore[attr-defined]
            assert client.sendmail("anna@example.net", [BOOKING],
                                   mail("Anna <anna@example.net>", "Hallo")) == {}
    [row] = handled(rt)
    assert b"Hallo" in row.raw


def test_without_a_certificate_no_starttls_is_offered(rt: Runtime) -> None:
    port = serve(rt)
    with running(lambda stop: smtp.run(rt, stop)):
        wait_for_port(port)
        with smtplib.SMTP("127.0.0.1", port) as client:
            client.ehlo()
            assert not client.has_extn("starttls")


@pytest.fixture
def tight(rt: Runtime) -> Iterator[int]:
    rt.house = dataclasses.replace(rt.house, limits=dataclasses.replace(
        rt.house.limits, smtp_idle_seconds=1, smtp_session_seconds=3, smtp_recipients_per_session=5))
    port = serve(rt)
    with running(lambda stop: smtp.run(rt, stop)):
        wait_for_port(port)
        yield port


def test_finding8_an_idle_smtp_session_is_closed(tight: int) -> None:
    with smtplib.SMTP("127.0.0.1", tight) as client:
        client.ehlo()
        time.sleep(1.5)
        with pytest.raises(smtplib.SMTPServerDisconnected):
            client.noop()


def test_finding8_noop_does_not_keep_a_session_alive_forever(tight: int) -> None:
    started = time.monotonic()
    with smtplib.SMTP("127.0.0.1", tight) as client:
        client.ehlo()
        with pytest.raises(smtplib.SMTPServerDisconnected):  # or a 421 the client turns into it
            while time.monotonic() - started < 10:
                code, _ = client.noop()
                if code == 421:
                    raise smtplib.SMTPServerDisconnected("421")
                time.sleep(0.3)
    assert 2.5 < time.monotonic() - started < 5


def test_finding8_recipients_per_session_are_limited(rt: Runtime, tight: int) -> None:
    with smtplib.SMTP("127.0.0.1", tight) as client:
        client.ehlo()
        client.mail("anna@example.net")
        answers = [client.rcpt(f"buchung+{n}@haus-betzenstein.de")[0] for n in range(8)]
        client.rset()
        client.mail("anna@example.net")
        later = client.rcpt(BOOKING)[0]
    assert answers == [250] * 5 + [452] * 3
    assert later == 452  # counted per session, not per message


@pytest.mark.parametrize("body", [b"", b".\r\n", b"X\r\n", b"a\r\n.b\r\n..\r\n", b"\r\n" * 3])
def test_data_is_read_to_the_lone_dot_and_dot_unstuffed(rt: Runtime, body: bytes) -> None:
    """DATA is read in large pieces (finding 2); the edges of the end marker still hold."""
    port = serve(rt)
    head = b"From: anna@example.net\r\nSubject: x\r\nMessage-ID: <d%d@example.net>\r\n\r\n" % len(body)
    with running(lambda stop: smtp.run(rt, stop)):
        wait_for_port(port)
        with smtplib.SMTP("127.0.0.1", port) as client:
            assert client.sendmail("anna@example.net", [BOOKING], head + body) == {}
            assert client.noop()[0] == 250  # the session goes on after the message
    [row] = handled(rt)
    assert row.raw == head + body
