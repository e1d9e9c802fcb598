"""The inbox worker: machine mail is recorded and never answered, bounces are tied to the
mail they return, and every other message reaches the conversation exactly once."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mailbot.inbound import inbox, worker
from mailbot.runtime import Cause, Runtime
from mailbot.store.tables import InboxMessage, OutboxMessage, Person
from mailbot.understand import Decoded, Interpretation, machine
from tests.conftest import Clock

CORPUS = Path(__file__).resolve().parents[1] / "corpus"


class Conversation:
    """Stands where `mailbot.conversation.handle` stands: records each call, answers nothing."""

    def __init__(self, fail: Callable[[InboxMessage], bool] = lambda row: False) -> None:
        self.calls: list[tuple[int, Decoded, Interpretation, Cause]] = []
        self.lock = threading.Lock()
        self.fail = fail

    def __call__(self, rt: Runtime, session: Session, message: InboxMessage, decoded: Decoded,
                 interpretation: Interpretation, cause: Cause) -> None:
        with self.lock:
            self.calls.append((message.id, decoded, interpretation, cause))
        # A change of its own in the same transaction, as the real conversation makes.
        session.add(Person(email=f"writer-{message.id}@example.net", link_id=f"l{message.id}",
                           created_at=rt.now()))
        session.flush()
        if self.fail(message):
            raise RuntimeError(f"conversation broke on #{message.id}")
        message.state, message.reason = "processed", "test"


def human(n: int = 1, subject: str = "Anfrage Sommer") -> bytes:
    return (f"From: Anna Beispiel <anna@example.net>\r\nTo: buchung@haus-betzenstein.de\r\n"
            f"Subject: {subject}\r\nMessage-ID: <human-{n}@example.net>\r\n"
            "Date: Mon, 23 Nov 2026 10:00:00 +0100\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
            "Hallo, wir möchten vom 3. bis 9. August 2027 mit 4 Personen kommen.\r\nAnna\r\n"
            ).encode()


def row(rt: Runtime, inbox_id: int) -> InboxMessage:
    with rt.store.reading() as session:
        found = session.get(InboxMessage, inbox_id)
    assert found is not None
    return found


def store(rt: Runtime, raw: bytes) -> int:
    return inbox.store_raw(rt, raw, "smtp").id


def sent_mail(rt: Runtime, message_id: str, to: str = "anna.kelller@gmail.com") -> int:
    now = rt.now()
    with rt.store.transaction() as session:
        mail = OutboxMessage(
            idempotency_key=f"mailbot-{message_id}", message_id=message_id, correlation_id="c0ffee",
            kind="request_received", to_address=to, reply_to="buchung+k.s@haus-betzenstein.de",
            subject="Deine Anfrage (03.–09.08.2027)", text_body="…", html_body="…", headers={},
            state="sent", attempts=1, next_attempt_at=now, created_at=now, sent_at=now, booking_id=7)
        session.add(mail)
        session.flush()
        return int(mail.id)


OUTLOOK_OUT_OF_OFFICE = (CORPUS / "222-unknown-abwesenheitsnotiz.eml").read_bytes()

GMAIL_VACATION = b"""\
Delivered-To: buchung@haus-betzenstein.de
From: Bernd Huber <bernd.huber@gmail.com>
To: buchung@haus-betzenstein.de
Subject: Re: Neue Buchungsanfrage (01.-05.08.2027)
Date: Tue, 24 Nov 2026 08:12:01 +0100
Message-ID: <CAH8=vacation-4711@mail.gmail.com>
In-Reply-To: <0d4c9a5e@haus-betzenstein.de>
X-Autoreply: yes
Precedence: bulk
Content-Type: text/plain; charset="UTF-8"

Ich bin bis zum 6. Dezember im Urlaub und lese meine Mails danach.
"""

OLD_STYLE_ABSENCE = b"""\
From: Ingeborg <ingeborg@example.org>
To: buchung@haus-betzenstein.de
Subject: Abwesenheitsnotiz: Neue Buchungsanfrage
Message-ID: <abs-1@example.org>
Content-Type: text/plain; charset="utf-8"

Ich bin vom 1. bis 10. Dezember nicht erreichbar.
"""

OUTLOOK_AUTO_PREFIX = b"""\
From: Angelika <angelika@example.org>
To: buchung@haus-betzenstein.de
Subject: Auto: Neue Buchungsanfrage (01.-05.08.2027)
Message-ID: <auto-1@example.org>
Content-Type: text/plain; charset="utf-8"

I am out of the office until Monday.
"""

MAILING_LIST = b"""\
From: Verein Freunde der Fraenkischen Schweiz <news@fraenkische-schweiz.example>
To: buchung@haus-betzenstein.de
Subject: Newsletter Dezember: Termine im Advent
Message-ID: <news-2026-12@fraenkische-schweiz.example>
List-Id: Freunde der Fraenkischen Schweiz <freunde.fraenkische-schweiz.example>
List-Unsubscribe: <mailto:leave@fraenkische-schweiz.example>
Content-Type: text/plain; charset="utf-8"

Am 5. und 6. Dezember ist Adventsmarkt, alle 4 Personen des Vorstands sind da.
"""


def postfix_dsn(returned_id: str) -> bytes:
    return f"""\
Return-Path: <>
Received: from mx.haus-betzenstein.de (localhost [127.0.0.1])
\tby mx.haus-betzenstein.de (Postfix) id 3F1A2E656; Mon, 23 Nov 2026 10:17:45 +0100 (CET)
Date: Mon, 23 Nov 2026 10:17:45 +0100 (CET)
From: MAILER-DAEMON@mx.haus-betzenstein.de (Mail Delivery System)
Subject: Undelivered Mail Returned to Sender
To: buchung@haus-betzenstein.de
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
\tboundary="3F1A2E656.1795425465/mx.haus-betzenstein.de"
Message-Id: <20261123091745.3F1A2E656@mx.haus-betzenstein.de>

This is a MIME-encapsulated message.

--3F1A2E656.1795425465/mx.haus-betzenstein.de
Content-Description: Notification
Content-Type: text/plain; charset=us-ascii

This is the mail system at host mx.haus-betzenstein.de.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients.

<anna.kelller@gmail.com>: host gmail-smtp-in.l.google.com[142.250.27.27] said:
    550-5.1.1 The email account that you tried to reach does not exist.

--3F1A2E656.1795425465/mx.haus-betzenstein.de
Content-Description: Delivery report
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.haus-betzenstein.de
X-Postfix-Queue-ID: 3F1A2E656
X-Postfix-Sender: rfc822; buchung@haus-betzenstein.de
Arrival-Date: Mon, 23 Nov 2026 10:17:43 +0100 (CET)

Final-Recipient: rfc822; anna.kelller@gmail.com
Original-Recipient: rfc822;anna.kelller@gmail.com
Action: failed
Status: 5.1.1
Remote-MTA: dns; gmail-smtp-in.l.google.com
Diagnostic-Code: smtp; 550-5.1.1 The email account that you tried to reach does
    not exist.

--3F1A2E656.1795425465/mx.haus-betzenstein.de
Content-Description: Undelivered Message Headers
Content-Type: text/rfc822-headers

Return-Path: <buchung@haus-betzenstein.de>
From: Haus Betzenstein <buchung@haus-betzenstein.de>
To: anna.kelller@gmail.com
Subject: Deine Anfrage (03.-09.08.2027)
Message-ID: {returned_id}
Auto-Submitted: auto-generated

--3F1A2E656.1795425465/mx.haus-betzenstein.de--
""".replace("\n", "\r\n").encode()


@pytest.mark.parametrize(("raw", "reason", "evidence"), [
    (OUTLOOK_OUT_OF_OFFICE, machine.AUTO_REPLY, "Auto-Submitted: auto-replied"),
    (GMAIL_VACATION, machine.AUTO_REPLY, "X-Autoreply: yes"),
    (OLD_STYLE_ABSENCE, machine.AUTO_REPLY, "Abwesenheitsnotiz"),
    (OUTLOOK_AUTO_PREFIX, machine.AUTO_REPLY, "Auto: Neue"),
    (MAILING_LIST, machine.LIST, "List-Id: Freunde"),
    ((CORPUS / "229-unknown-unzustellbar.eml").read_bytes(), machine.BOUNCE, "MAILER-DAEMON"),
], ids=["outlook-out-of-office", "gmail-vacation", "subject-only-absence", "outlook-auto-prefix",
        "mailing-list", "plain-text-bounce"])
def test_machine_mail_is_recorded_with_its_reason_and_never_answered(
        rt: Runtime, raw: bytes, reason: str, evidence: str) -> None:
    conversation = Conversation()
    inbox_id = store(rt, raw)
    assert worker.process_pending(rt, conversation=conversation) == 1
    recorded = row(rt, inbox_id)
    assert (recorded.state, recorded.reason) == ("ignored", reason)
    assert evidence.lower() in (recorded.detail or "").lower()
    assert recorded.processed_at == rt.now()
    assert conversation.calls == []
    with rt.store.reading() as session:
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_postfix_bounce_marks_our_outbox_message_bounced(rt: Runtime) -> None:
    ours = sent_mail(rt, "<5e1f0c2a9b7d4e3f@haus-betzenstein.de>")
    other = sent_mail(rt, "<other@haus-betzenstein.de>", to="bernd@example.net")
    inbox_id = store(rt, postfix_dsn("<5e1f0c2a9b7d4e3f@haus-betzenstein.de>"))
    conversation = Conversation()
    worker.process_pending(rt, conversation=conversation)
    recorded = row(rt, inbox_id)
    assert (recorded.state, recorded.reason) == ("ignored", "bounce")
    assert f"outbox #{ours}" in (recorded.detail or "")
    assert recorded.booking_id == 7
    with rt.store.reading() as session:
        bounced = session.get(OutboxMessage, ours)
        untouched = session.get(OutboxMessage, other)
    assert bounced is not None and bounced.state == "bounced"
    assert "5.1.1" in (bounced.last_error or "")
    assert "anna.kelller@gmail.com" in (bounced.last_error or "")
    assert untouched is not None and untouched.state == "sent"
    assert conversation.calls == []


def test_bounce_of_mail_we_never_sent_is_still_only_logged(rt: Runtime) -> None:
    inbox_id = store(rt, postfix_dsn("<someone-else@example.com>"))
    worker.process_pending(rt, conversation=Conversation())
    recorded = row(rt, inbox_id)
    assert (recorded.state, recorded.reason) == ("ignored", "bounce")
    assert "not one of ours" in (recorded.detail or "")


@pytest.mark.parametrize("headers", [
    "From: Haus Betzenstein <buchung@haus-betzenstein.de>\r\nMessage-ID: <own-1@example.net>\r\n",
    "From: Anna <anna@example.net>\r\nX-Mailbot-Correlation: 0123456789abcdef\r\n"
    "Message-ID: <own-2@example.net>\r\n",
    "From: Anna <anna@example.net>\r\nMessage-ID: <echo-1@haus-betzenstein.de>\r\n",
], ids=["from-us", "correlation-header", "our-message-id"])
def test_our_own_mail_coming_back_is_never_answered(rt: Runtime, headers: str) -> None:
    sent_mail(rt, "<echo-1@haus-betzenstein.de>")
    raw = (headers + "To: buchung@haus-betzenstein.de\r\nSubject: Neue Buchungsanfrage\r\n\r\n"
           "Bitte antworte mit JA.\r\n").encode()
    conversation = Conversation()
    inbox_id = store(rt, raw)
    worker.process_pending(rt, conversation=conversation)
    assert (row(rt, inbox_id).state, row(rt, inbox_id).reason) == ("ignored", "own")
    assert conversation.calls == []


def test_mail_loop_is_stopped(rt: Runtime) -> None:
    hops = "".join(f"Received: from relay{i}.example.net by relay{i + 1}.example.net; "
                   "Mon, 23 Nov 2026 10:00:00 +0100\r\n" for i in range(26))
    inbox_id = store(rt, hops.encode() + human(9))
    conversation = Conversation()
    worker.process_pending(rt, conversation=conversation)
    recorded = row(rt, inbox_id)
    assert (recorded.state, recorded.reason) == ("ignored", "loop")
    assert "26 Received" in (recorded.detail or "")
    assert conversation.calls == []


def test_a_person_writing_reaches_the_conversation_with_what_was_understood(rt: Runtime) -> None:
    conversation = Conversation()
    inbox_id = store(rt, human(1))
    assert worker.process_pending(rt, conversation=conversation) == 1
    [(called_id, decoded, interpretation, cause)] = conversation.calls
    assert called_id == inbox_id
    assert decoded.from_address == "anna@example.net"
    assert interpretation.intent == "request"
    assert interpretation.party_size == 4
    assert cause == Cause(row(rt, inbox_id).correlation_id, inbox_id)
    recorded = row(rt, inbox_id)
    assert recorded.state == "processed"
    assert recorded.interpretation is not None
    assert recorded.interpretation["start"] == "2027-08-03"
    assert recorded.attempts == 1
    assert worker.process_pending(rt, conversation=conversation) == 0
    assert len(conversation.calls) == 1


def test_a_crash_while_handling_leaves_nothing_half_done_and_the_message_is_tried_again(
        rt: Runtime) -> None:
    broken_once: set[int] = set()

    def first_time(message: InboxMessage) -> bool:
        if message.id in broken_once:
            return False
        broken_once.add(message.id)
        return True

    conversation = Conversation(fail=first_time)
    inbox_id = store(rt, human(1))
    assert worker.process_pending(rt, conversation=conversation) == 0
    recorded = row(rt, inbox_id)
    assert recorded.state == "received"
    assert recorded.attempts == 1
    assert "conversation broke" in (recorded.detail or "")
    with rt.store.reading() as session:  # the conversation's own write was rolled back
        assert session.scalar(select(func.count()).select_from(Person)) == 0

    assert worker.process_pending(rt, conversation=conversation) == 1
    assert row(rt, inbox_id).state == "processed"
    with rt.store.reading() as session:
        assert session.scalar(select(func.count()).select_from(Person)) == 1


def test_a_message_that_keeps_failing_ends_failed_after_three_attempts_not_dropped(
        rt: Runtime) -> None:
    conversation = Conversation(fail=lambda message: True)
    inbox_id = store(rt, human(1))
    fine_id = store(rt, human(2))
    for _ in range(worker.MAX_ATTEMPTS):
        worker.process_pending(rt, conversation=Conversation(fail=lambda m: m.id == inbox_id))
    recorded = row(rt, inbox_id)
    assert (recorded.state, recorded.reason, recorded.attempts) == ("failed", "processing_failed", 3)
    assert "RuntimeError: conversation broke" in (recorded.detail or "")
    assert row(rt, fine_id).state == "processed"
    assert worker.process_pending(rt, conversation=conversation) == 0
    assert conversation.calls == []


# a worker process that dies inside the handling of one message, as the kernel's OOM killer
# ends it: no Python code runs after it, no rollback handler, no counting afterwards
_KILLED = """
import os, sys
from datetime import UTC, datetime
from mailbot.config import Settings, load_house
from mailbot.inbound import worker
from mailbot.runtime import Runtime
from mailbot.store.db import Store
settings = Settings(database_url=sys.argv[1], rules_file=sys.argv[2])
now = datetime.fromisoformat(sys.argv[3])
rt = Runtime(settings, load_house(settings.rules_file), Store(settings.database_url), lambda: now)
worker.process_pending(rt, conversation=lambda *args: os._exit(137))
"""


def test_finding2_a_message_that_kills_its_worker_is_failed_after_three_starts(
        rt: Runtime, clock: Clock) -> None:
    inbox_id = store(rt, human(1))
    for start in range(1, worker.MAX_ATTEMPTS + 1):
        killed = subprocess.run([sys.executable, "-c", _KILLED, rt.settings.database_url,
                                 rt.settings.rules_file, clock().isoformat()], capture_output=True,
                                timeout=60)
        assert killed.returncode == 137, killed.stderr
        assert (row(rt, inbox_id).state, row(rt, inbox_id).attempts) == ("received", start)
        # the restarted service leaves it alone while the dead worker's lease lasts
        assert worker.process_pending(rt, conversation=Conversation()) == 0
        clock.advance(seconds=worker.LEASE.total_seconds())
    # the next worker does not start it again: it is set aside for the admin
    conversation = Conversation()
    worker.process_pending(rt, conversation=conversation)
    recorded = row(rt, inbox_id)
    assert (recorded.state, recorded.reason, recorded.attempts) == ("failed", "processing_failed", 3)
    assert conversation.calls == []


def test_concurrent_workers_handle_every_message_exactly_once(rt: Runtime) -> None:
    ids = [store(rt, human(n)) for n in range(40)]
    conversation = Conversation()
    errors: list[BaseException] = []

    def work() -> None:
        try:
            while worker.process_pending(rt, limit=3, conversation=conversation):
                pass
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert errors == []
    handled = Counter(call[0] for call in conversation.calls)
    assert sorted(handled) == ids
    assert set(handled.values()) == {1}
    with rt.store.reading() as session:
        states = session.scalars(select(InboxMessage.state)).all()
        people = session.scalar(select(func.count()).select_from(Person))
    assert set(states) == {"processed"}
    assert people == 40


def test_mail_from_the_null_sender_is_a_bounce_however_it_reads(rt: Runtime) -> None:
    """SMTP `MAIL FROM:<>` is the surest bounce signal (issue 15): a message sent with it is
    ignored as a bounce even when its headers and text look like a person's request; the same
    message from a real envelope sender reaches the conversation."""
    raw = human(7)
    bounced = inbox.store_raw(rt, raw, "smtp", envelope=inbox.Envelope(""))
    conversation = Conversation()
    worker.process_pending(rt, conversation=conversation)
    recorded = row(rt, bounced.id)
    assert (recorded.state, recorded.reason) == ("ignored", "bounce")
    assert "empty envelope sender" in (recorded.detail or "")
    assert conversation.calls == []
    person = inbox.store_raw(rt, human(8), "smtp", envelope=inbox.Envelope("anna@example.org"))
    worker.process_pending(rt, conversation=conversation)
    assert row(rt, person.id).state != "ignored" and len(conversation.calls) == 1
