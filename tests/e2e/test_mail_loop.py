"""The whole mail loop through a real `mailbot serve` process: people send mail over SMTP,
read what the service sends from its Maildir, and answer it the way a mail client does
(Reply-To, In-Reply-To, quoted text)."""

from __future__ import annotations

import os
import smtplib
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.support.background import free_port, wait_for_port, wait_until

pytestmark = pytest.mark.e2e

INGE, CONNY, GELI = "ingeborg@example.org", "cornelia@example.org", "angelika@example.org"
APPROVERS = (INGE, CONNY, GELI)
BOOKING = "buchung@haus-betzenstein.de"


@dataclass(frozen=True)
class Received:
    to: str
    kind: str
    subject: str
    message_id: str
    reply_to: str
    text: str


@dataclass
class Service:
    smtp_port: int
    maildir: Path
    database: Path

    def send(self, sender: str, body: str, *, subject: str = "Anfrage", name: str | None = None,
             to: str = BOOKING, answering: Received | None = None,
             headers: dict[str, str] | None = None) -> str:
        mail = EmailMessage()
        mail["From"] = formataddr((name, sender)) if name else sender
        mail["To"] = to
        mail["Subject"] = subject
        message_id = make_msgid(domain=sender.split("@")[1])
        mail["Message-ID"] = message_id
        if answering is not None:
            mail["In-Reply-To"] = answering.message_id
            mail["References"] = answering.message_id
            quoted = "\n".join(f"> {line}" for line in answering.text.splitlines())
            body = f"{body}\n\nAm 23.11.2026 um 10:00 schrieb Haus Betzenstein <{BOOKING}>:\n{quoted}\n"
        for key, value in (headers or {}).items():
            mail[key] = value
        mail.set_content(body)
        with smtplib.SMTP("127.0.0.1", self.smtp_port, timeout=10) as client:
            client.send_message(mail, from_addr=sender, to_addrs=[to])
        return message_id

    def reply(self, sender: str, to_mail: Received, body: str, **kwargs: object) -> str:
        kwargs.setdefault("to", to_mail.reply_to)
        return self.send(sender, body, subject=f"Re: {to_mail.subject}", answering=to_mail,
                         **kwargs)  # type: ignore[arg-type]

    def inbox_state(self, message_id: str) -> tuple[str, str | None]:
        """The admin's view of one inbound message: (state, reason) once handled."""
        def handled() -> tuple[str, str | None] | None:
            with sqlite3.connect(self.database) as db:
                row = db.execute("SELECT state, reason FROM inbox_messages WHERE message_id = ?",
                                 (message_id,)).fetchone()
            return (row[0], row[1]) if row and row[0] != "received" else None
        return wait_until(handled, timeout=30)  # type: ignore[return-value]

    def booking_state(self, first_name: str) -> str:
        with sqlite3.connect(self.database) as db:
            row = db.execute("SELECT state FROM bookings WHERE first_name = ? ORDER BY id DESC",
                             (first_name,)).fetchone()
        return str(row[0]) if row else "none"

    def mails(self) -> list[Received]:
        """Everything the service has written to its Maildir, oldest first."""
        files = [p for folder in ("new", "cur") for p in (self.maildir / folder).glob("*")]
        found = []
        for path in sorted(files, key=lambda p: (p.stat().st_mtime_ns, p.name)):
            parsed = message_from_bytes(path.read_bytes(), policy=policy.default)
            body = parsed.get_body(preferencelist=("plain",))
            found.append(Received(
                to=str(parsed["To"]).lower(), kind=str(parsed["X-Mailbot-Kind"]),
                subject=str(parsed["Subject"]), message_id=str(parsed["Message-ID"]),
                reply_to=str(parsed["Reply-To"]),
                text=body.get_content() if body is not None else ""))  # type: ignore[union-attr]
        return found

    def wait_for(self, to: str, kind: str, about: str = "") -> Received:
        """The newest mail of `kind` to `to` whose subject mentions `about`."""
        def arrived() -> list[Received]:
            return [m for m in self.mails() if m.to == to and m.kind == kind and about in m.subject]
        hits = wait_until(arrived, timeout=30)
        return hits[-1]  # type: ignore[index]

    def count(self, to: str | None = None, kind: str | None = None) -> int:
        return len([m for m in self.mails()
                    if (to is None or m.to == to) and (kind is None or m.kind == kind)])

    def settle(self, message_id: str) -> tuple[str, str | None]:
        """Wait until a message is handled and the mails it caused are written."""
        state = self.inbox_state(message_id)
        def written() -> bool:
            with sqlite3.connect(self.database) as db:
                left = db.execute("SELECT count(*) FROM outbox_messages WHERE state != 'sent'"
                                  ).fetchone()[0]
            return left == 0
        wait_until(written, timeout=30)
        return state


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    home = tmp_path_factory.mktemp("serve")
    smtp_port, web_port = free_port(), free_port()
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{home / 'mailbot.sqlite3'}",
        "SMTP_LISTEN": f"127.0.0.1:{smtp_port}",
        "WEB_LISTEN": f"127.0.0.1:{web_port}",
        "BASE_URL": f"http://127.0.0.1:{web_port}",
        "MAILDIR": str(home / "outbox"),
        "MAIL_TRANSPORT": "maildir",
        "RULES_FILE": str(ROOT / "rules" / "house.toml"),
        "SECRET_KEY": "e2e-" + uuid.uuid4().hex,
        "ADMIN_TOKEN": "admin-" + uuid.uuid4().hex,
    }
    log = open(home / "serve.log", "wb")  # noqa: SIM115 - closed below
    process = subprocess.Popen([sys.executable, "-m", "mailbot.cli", "serve"], cwd=home, env=env,
                               stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for_port(smtp_port, timeout=30)
        yield Service(smtp_port, home / "outbox", home / "mailbot.sqlite3")
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def stay(offset: int, days: int) -> tuple[str, date, date]:
    """German dates in the future, far enough apart per test that no two tests collide."""
    start = date.today() + timedelta(days=offset)
    end = start + timedelta(days=days - 1)
    return f"vom {start:%d.%m.%Y} bis {end:%d.%m.%Y}", start, end


def german(start: date, end: date) -> str:
    if start.year != end.year:
        return f"{start:%d.%m.%Y}–{end:%d.%m.%Y}"
    if start.month != end.month:
        return f"{start:%d.%m.}–{end:%d.%m.%Y}"
    return f"{start:%d.}–{end:%d.%m.%Y}"


def book(service: Service, requester: str, name: str, offset: int, days: int = 4,
         people: str = "zu viert") -> tuple[date, date]:
    text, start, end = stay(offset, days)
    sent = service.send(requester, f"Hallo,\nwir würden gern {text} {people} kommen.\n\n"
                                   f"Liebe Grüße\n{name}")
    assert service.settle(sent) == ("processed", "submitted")
    return start, end


def test_three_ja_confirm_the_booking_for_everyone(service: Service) -> None:
    start, end = book(service, "anna@example.net", "Anna", 20)
    submitted = service.wait_for(INGE, "request_submitted", german(start, end))
    assert submitted.subject == f"Neue Buchungsanfrage von Anna ({german(start, end)})"
    for approver in APPROVERS:
        ask = service.wait_for(approver, "request_submitted", german(start, end))
        assert service.settle(service.reply(approver, ask, "JA, gerne!")) == ("processed", "approved")
    for person in ("anna@example.net", *APPROVERS):
        confirmed = service.wait_for(person, "booking_confirmed", german(start, end))
        assert confirmed.subject == f"Buchung bestätigt ({german(start, end)})"
    assert service.booking_state("Anna") == "confirmed"


def _ask(service: Service, approver: str, start: date, end: date) -> Received:
    return service.wait_for(approver, "request_submitted", german(start, end))


def test_nein_with_reason_tells_all_four_frees_the_dates_and_reopen_asks_again(
        service: Service) -> None:
    start, end = book(service, "bea@example.net", "Bea", 40)
    ask = _ask(service, CONNY, start, end)
    assert service.settle(service.reply(CONNY, ask, "NEIN, weil wir da selbst im Haus sind.")) == (
        "processed", "denied")
    for person in ("bea@example.net", *APPROVERS):
        denied = service.wait_for(person, "booking_denied", german(start, end))
        assert "selbst im Haus" in denied.text
    assert service.booking_state("Bea") == "denied"
    # The dates are free again: someone else gets them.
    book(service, "carl@example.net", "Carl", 41, days=1, people="zu zweit")
    service.settle(service.send("carl@example.net", "Wir müssen leider absagen.\n\nCarl"))
    confirm = service.wait_for("carl@example.net", "question_confirm")
    service.settle(service.reply("carl@example.net", confirm, "JA"))
    assert service.booking_state("Carl") == "canceled"
    # Bea reopens; the approvers are asked again.
    denied = service.wait_for("bea@example.net", "booking_denied")
    assert service.settle(service.reply("bea@example.net", denied, "Bitte wieder öffnen.")) == (
        "processed", "reopened")
    for approver in APPROVERS:
        assert service.wait_for(approver, "booking_reopened", german(start, end))
    assert service.booking_state("Bea") == "pending"


def test_extend_resets_decisions_and_shorten_keeps_them(service: Service) -> None:
    start, end = book(service, "dora@example.net", "Dora", 60)
    service.settle(service.reply(INGE, _ask(service, INGE, start, end), "JA"))
    approved = service.wait_for("dora@example.net", "booking_approved")
    shorter = start + timedelta(days=1)
    state = service.settle(service.reply("dora@example.net", approved,
                                         f"Wir kommen doch erst ab dem {shorter:%d.%m.}"))
    assert state == ("processed", "edited")
    shortened = service.wait_for("dora@example.net", "booking_shortened")
    assert german(shorter, end) in shortened.subject
    assert "Antworten bleiben gültig" in shortened.text
    assert not [m for m in service.mails() if m.kind == "booking_extended" and m.to == INGE
                and "Dora" in m.text]

    later = end + timedelta(days=2)
    state = service.settle(service.reply("dora@example.net", shortened,
                                         f"Wir möchten doch bis zum {later:%d.%m.} bleiben"))
    assert state == ("processed", "edited")
    for approver in APPROVERS:
        assert service.wait_for(approver, "booking_extended", german(shorter, later))
    assert "noch einmal gefragt" in service.wait_for("dora@example.net", "edit_done").text


def test_cancel_of_a_confirmed_booking_needs_a_reason(service: Service) -> None:
    start, end = book(service, "emil@example.net", "Emil", 80)
    for approver in APPROVERS:
        service.settle(service.reply(approver, _ask(service, approver, start, end), "JA"))
    confirmed = service.wait_for("emil@example.net", "booking_confirmed")
    assert service.settle(service.reply("emil@example.net", confirmed, "STORNO")) == (
        "processed", "asked_cancel_reason")
    assert service.booking_state("Emil") == "confirmed"
    asked = service.wait_for("emil@example.net", "question_reason")
    service.settle(service.reply("emil@example.net", asked, "Das Auto ist kaputt."))
    confirm = service.wait_for("emil@example.net", "question_confirm")
    assert "Auto ist kaputt" in confirm.text
    assert service.settle(service.reply("emil@example.net", confirm, "JA")) == (
        "processed", "canceled")
    for person in ("emil@example.net", *APPROVERS):
        assert "Auto ist kaputt" in service.wait_for(person, "booking_canceled", german(start, end)).text
    assert service.booking_state("Emil") == "canceled"


def test_conflict_answer_names_the_other_booking(service: Service) -> None:
    start, end = book(service, "fritz@example.net", "Fritz", 100)
    text, _, _ = stay(101, 3)
    sent = service.send("gabi@example.net", f"Wir möchten {text} zu zweit kommen.\n\nGruß\nGabi")
    assert service.settle(sent) == ("rejected", "conflict")
    answer = service.wait_for("gabi@example.net", "rejected_conflict")
    assert "Fritz – Ausstehend" in answer.text
    assert "fritz@example.net" not in answer.text


def test_long_stay_is_asked_before_anyone_is_bothered(service: Service) -> None:
    text, start, end = stay(120, 12)
    sent = service.send("hans@example.net", f"Wir möchten {text} zu dritt kommen.\n\nGruß\nHans")
    assert service.settle(sent) == ("processed", "asked_long_stay")
    question = service.wait_for("hans@example.net", "question_long_stay")
    assert "12 Tage" in question.text
    assert not [m for m in service.mails() if german(start, end) in m.subject
                and m.kind == "request_submitted"]
    assert service.settle(service.reply("hans@example.net", question, "JA")) == (
        "processed", "submitted")
    for approver in APPROVERS:
        assert service.wait_for(approver, "request_submitted", german(start, end))


def test_missing_party_size_is_asked_and_then_completed(service: Service) -> None:
    text, start, end = stay(140, 3)
    sent = service.send("ida@example.net", f"Hallo, wir möchten {text} kommen.\n\nLG Ida")
    assert service.settle(sent) == ("processed", "asked_missing")
    question = service.wait_for("ida@example.net", "question_missing")
    assert "wie viele Personen" in question.text
    assert service.settle(service.reply("ida@example.net", question, "Wir sind zu fünft.")) == (
        "processed", "submitted")
    received = service.wait_for("ida@example.net", "request_received")
    assert "5 Personen" in received.text


def test_forged_approver_replies_change_nothing(service: Service) -> None:
    start, end = book(service, "jana@example.net", "Jana", 160)
    ask = _ask(service, INGE, start, end)
    # Right key, wrong sender.
    assert service.settle(service.reply("mallory@example.net", ask, "JA")) == (
        "rejected", "sender_mismatch")
    # Right sender, no key (sent to the plain address, only In-Reply-To).
    assert service.settle(service.reply(INGE, ask, "JA", to=BOOKING)) == ("rejected", "no_key")
    # Right sender, tampered key.
    local, _, domain = ask.reply_to.partition("@")
    key, _, sig = local.rpartition(".")
    tampered = f"{key}.{'b' if sig[0] == 'a' else 'a'}{sig[1:]}@{domain}"
    assert service.settle(service.reply(INGE, ask, "JA", to=tampered)) == ("rejected", "bad_key")
    assert service.booking_state("Jana") == "pending"
    assert service.count("jana@example.net", "booking_approved") == 0
    neutral = service.wait_for(INGE, "not_accepted")
    assert "nichts geändert" in neutral.text
    # The real reply still works afterwards.
    assert service.settle(service.reply(INGE, ask, "JA")) == ("processed", "approved")
    assert service.count("jana@example.net", "booking_approved") == 1
