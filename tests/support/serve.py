"""A real `mailbot serve` process for end-to-end tests: people send mail over SMTP, read what
the service writes to its Maildir, answer it the way a mail client does (Reply-To,
In-Reply-To, quoted text), and look at its database and CLI the way an admin would."""

from __future__ import annotations

import os
import smtplib
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from pathlib import Path

from tests.conftest import ROOT
from tests.support.background import free_port, wait_for_port, wait_until

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
    in_reply_to: str = ""
    html: str = ""


@dataclass
class Service:
    smtp_port: int
    maildir: Path
    database: Path
    web_port: int = 0
    env: dict[str, str] = field(default_factory=dict)
    home: Path = Path(".")

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
            html = parsed.get_body(preferencelist=("html",))
            found.append(Received(
                to=str(parsed["To"]).lower(), kind=str(parsed["X-Mailbot-Kind"]),
                subject=str(parsed["Subject"]), message_id=str(parsed["Message-ID"]),
                reply_to=str(parsed["Reply-To"]),
                text=body.get_content() if body is not None else "",  # type: ignore[union-attr]
                in_reply_to=str(parsed["In-Reply-To"] or ""),
                html=html.get_content() if html is not None else ""))  # type: ignore[union-attr]
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


    def sql(self, query: str, *args: object) -> list[tuple[object, ...]]:
        with sqlite3.connect(self.database) as db:
            return list(db.execute(query, args).fetchall())

    def verdict(self, first_name: str, approver: str) -> str:
        rows = self.sql("SELECT d.verdict FROM decisions d JOIN bookings b ON b.id = d.booking_id"
                        " WHERE b.first_name = ? AND d.approver = ? ORDER BY b.id DESC",
                        first_name, approver)
        return str(rows[0][0]) if rows else "none"

    def cli(self, *args: str) -> str:
        """One `mailbot` command against this service's database and settings."""
        done = subprocess.run([sys.executable, "-m", "mailbot.cli", *args], cwd=self.home,
                              env=self.env, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        return done.stdout


@contextmanager
def serving(home: Path) -> Iterator[Service]:
    """A real `mailbot serve` on its embedded defaults (SQLite, maildir) in `home`."""
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
        wait_for_port(web_port, timeout=30)
        yield Service(smtp_port, home / "outbox", home / "mailbot.sqlite3", web_port, env, home)
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
