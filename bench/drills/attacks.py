"""Drill: the attacks of issue 13, replayed against a running `mailbot serve`.

The service runs as a child process in a temporary folder on free loopback ports, on its
defaults: no SECRET_KEY (so it makes its own), no trusted proxy, the house rules of
`rules/house.toml`. Each attack is a small function that does what the attacker (or the
careless operator) did and says whether it was blocked; one line per attack:

    .venv/bin/python -m bench.drills.attacks [--db sqlite|postgres] [--only NAME]

An attack is added with `@attack("what it tries")` on a function `(target) -> Verdict`.
The exit code is the number of attacks that were not blocked.
"""

from __future__ import annotations

import argparse
import contextlib
import email
import email.policy
import email.utils
import os
import re
import smtplib
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import httpx  # noqa: E402

from bench import lib  # noqa: E402

RULES = lib.ROOT / "rules" / "house.toml"
OLD_DEFAULT_KEY = "change-me-in-production"
APPROVER_NAMES = ("ingeborg", "cornelia", "angelika")


@dataclass
class Verdict:
    blocked: bool
    detail: str = ""


@dataclass
class Target:
    """The running service and what an operator of the drill may look at afterwards."""

    service: lib.Service
    db: lib.Db
    workdir: Path
    kind: str  # sqlite | postgres
    counter: list[int] = field(default_factory=lambda: [0])

    @property
    def web(self) -> str:
        return f"http://127.0.0.1:{self.service.web_port}"

    @property
    def admin_token(self) -> str:
        return self.service.env["ADMIN_TOKEN"]

    def http(self, **kwargs: Any) -> httpx.Client:
        return httpx.Client(base_url=self.web, timeout=10, **kwargs)

    def booking(self, days: int = 3, offset: int = 0) -> tuple[int, str]:
        """A fresh Pending booking made by mail; (its id, the requester's address)."""
        self.counter[0] += 1
        n = self.counter[0]
        start = datetime.now(UTC).date() + timedelta(days=40 + 9 * n + offset)
        request = lib.request_mail(9000 + n, start, start + timedelta(days=days - 1))
        before = self.db.scalar("SELECT count(*) FROM inbox_messages") or 0
        lib.send(self.service.smtp_port, [request])
        self.db.settle(before + 1, 30)
        row = self.db.rows("SELECT booking_id FROM inbox_messages ORDER BY id DESC LIMIT 1")[0]
        if row.booking_id is None:
            raise RuntimeError("the drill's own request made no booking")
        return int(row.booking_id), request.mail_from

    def booking_state(self, booking_id: int) -> tuple[str, date, date]:
        row = self.db.rows("SELECT state, start_date, end_date FROM bookings WHERE id = :id",
                           id=booking_id)[0]
        return str(row.state), _day(row.start_date), _day(row.end_date)

    def mails_to(self, address: str) -> list[email.message.EmailMessage]:
        found = []
        for path in self.service.sent_files():
            with path.open("rb") as handle:
                mail = email.message_from_binary_file(handle, policy=email.policy.default)
            if address in str(mail["To"]).lower():
                found.append(mail)
        return found


def _day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _text(mail: email.message.EmailMessage) -> str:
    return "\n".join(part.get_content() for part in mail.walk()
                     if part.get_content_maintype() == "text")


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    return found.group(1) if found else ""


ATTACKS: list[tuple[str, Callable[[Target], Verdict]]] = []


def attack(name: str) -> Callable[[Callable[[Target], Verdict]], Callable[[Target], Verdict]]:
    def register(run: Callable[[Target], Verdict]) -> Callable[[Target], Verdict]:
        ATTACKS.append((name, run))
        return run
    return register


def _refusal(run: subprocess.CompletedProcess[str]) -> str:
    """The one line a refused start prints, e.g. "SECRET_KEY: is too short: …"."""
    lines = [line for line in run.stderr.splitlines() if "configuration error" in line]
    return lines[-1].split("configuration error: ", 1)[1] if lines else run.stderr.strip()[-80:]


def _run_cli(workdir: Path, command: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "ADMIN_TOKEN")}
    base.update({"DATABASE_URL": f"sqlite:///{workdir / 'other.sqlite3'}", "RULES_FILE": str(RULES),
                 "WEB_LISTEN": f"127.0.0.1:{lib.free_port()}",
                 "SMTP_LISTEN": f"127.0.0.1:{lib.free_port()}", **env})
    try:
        return subprocess.run([str(lib.VENV_BIN / "mailbot"), command], cwd=workdir, env=base,
                              capture_output=True, text=True, timeout=20)
    except subprocess.TimeoutExpired as exc:  # it started and ran: not refused
        return subprocess.CompletedProcess(exc.cmd, 0, "", "still running after 20 s")


# ---------------------------------------------------------------- finding 1: secrets

@attack("finding 1: forge approver links with the old default key")
def forged_approvals(t: Target) -> Verdict:
    booking_id, _ = t.booking()
    codes = []
    with t.http() as http:
        for key in (OLD_DEFAULT_KEY, t.service.env.get("SECRET_KEY") or OLD_DEFAULT_KEY):
            for name in APPROVER_NAMES:
                from mailbot import tokens

                path = f"/a/{tokens.sign(key, 'approver', name)}/buchung/{booking_id}/zustimmen"
                csrf = tokens.signature(key, "csrf", f"{path}|")
                codes.append(http.post(path, data={"csrf": csrf}).status_code)
    state = t.booking_state(booking_id)[0]
    return Verdict(state == "pending", f"3 forged POSTs answered {sorted(set(codes))}, booking {state}")


@attack("finding 1: start serve with SECRET_KEY=x")
def short_key(t: Target) -> Verdict:
    run = _run_cli(t.workdir, "serve", SECRET_KEY="x")
    return Verdict(run.returncode != 0 and "SECRET_KEY" in run.stderr, _refusal(run))


@attack("finding 1: start serve with the published example key")
def example_key(t: Target) -> Verdict:
    run = _run_cli(t.workdir, "serve", SECRET_KEY=OLD_DEFAULT_KEY)
    return Verdict(run.returncode != 0 and "SECRET_KEY" in run.stderr, _refusal(run))


@attack("finding 1: start serve with ADMIN_TOKEN=a")
def weak_admin_token(t: Target) -> Verdict:
    run = _run_cli(t.workdir, "serve", ADMIN_TOKEN="a")
    return Verdict(run.returncode != 0 and "ADMIN_TOKEN" in run.stderr, _refusal(run))


@attack("finding 1: doctor on an http BASE_URL with unsafe secrets")
def doctor_is_silent(t: Target) -> Verdict:
    run = _run_cli(t.workdir, "doctor", SECRET_KEY=OLD_DEFAULT_KEY, ADMIN_TOKEN="a",
                   BASE_URL="http://127.0.0.1:8000")
    errors = [line for line in run.stdout.splitlines() if line.startswith("FEHLER")
              and ("SECRET_KEY" in line or "ADMIN_TOKEN" in line)]
    return Verdict(run.returncode == 1 and len(errors) == 2, f"{len(errors)} FEHLER lines")


@attack("finding 1: read the key the service generated")
def key_file_readable(t: Target) -> Verdict:
    path = t.workdir / "var" / "secret_key"
    mode = path.stat().st_mode & 0o777 if path.exists() else None
    return Verdict(mode == 0o600, f"var/secret_key mode {oct(mode) if mode is not None else 'missing'}")


# ---------------------------------------------------------------- finding 4: edits

def _personal_link(t: Target, address: str) -> str:
    for mail in t.mails_to(address):
        found = re.search(r"https?://\S+?/p/[a-z0-9]+\.[a-z0-9]+", _text(mail))
        if found:
            return found.group(0)
    raise RuntimeError(f"no personal link in the mails to {address}")


@attack("finding 4: change the end of a stay to 2099 on the web")
def edit_to_2099(t: Target) -> Verdict:
    booking_id, address = t.booking()
    before = t.booking_state(booking_id)
    url = f"{_personal_link(t, address)}/buchung/{booking_id}/aendern"
    with t.http() as http:
        form = http.get(url)
        answer = http.post(url, data={"csrf": _csrf(form.text), "abreise": "2099-12-31",
                                      "anreise": before[1].isoformat()})
    after = t.booking_state(booking_id)
    return Verdict(after == before, f"HTTP {answer.status_code}, end {after[2]}")


# ---------------------------------------------------------------- finding 6: purge

@attack("finding 6: find a purged person in the database")
def purge_leaves_data(t: Target) -> Verdict:
    from sqlalchemy import MetaData, select

    booking_id, address = t.booking()
    mine = [m for m in lib.read_sent(t.service, {"request_submitted"})
            if m.to == "cornelia@example.org" and m.subject.endswith(_range(t, booking_id))]
    before = t.db.scalar("SELECT count(*) FROM inbox_messages") or 0
    lib.send(t.service.smtp_port, [lib.approver_reply(mine[-1], "NEIN", "weil wir selbst da sind")])
    t.db.settle(before + 1, 30)
    end = t.booking_state(booking_id)[2]
    run = subprocess.run([str(lib.VENV_BIN / "mailbot"), "jobs", "run", "purge", "--now",
                          f"{end + timedelta(days=40):%Y-%m-01}T02:00"], cwd=t.workdir,
                         env=t.service.env, capture_output=True, text=True, timeout=60)
    hits = []
    meta = MetaData()
    meta.reflect(t.db.store.engine)
    with t.db.store.engine.connect() as connection:
        for table in meta.sorted_tables:
            for row in connection.execute(select(table)):
                for column, value in zip(table.columns, row, strict=True):
                    text = bytes(value).decode("utf-8", "replace") \
                        if isinstance(value, bytes | memoryview) else str(value)
                    if address in text.lower():
                        hits.append(f"{table.name}.{column.name}")
    return Verdict(not hits and run.returncode == 0,
                   f"purge: {run.stdout.strip() or run.stderr.strip()[-60:]}; "
                   f"address found in {sorted(set(hits)) or 'no table'}")


def _range(t: Target, booking_id: int) -> str:
    _, start, end = t.booking_state(booking_id)
    from mailbot.outbound.render import date_range

    return f"({date_range(start, end)})"


# ---------------------------------------------------------------- finding 8: the rest

@attack("finding 8: a stranger who wrote once gets the calendar link")
def calendar_for_strangers(t: Target) -> Verdict:
    stranger = f"fremd.{t.counter[0]}@{lib.SENDER_DOMAIN}"
    out = lib._outgoing(lib._mail("Fremd", stranger, lib.BOOKING_ADDRESS, "Hallo",
                                  "Hallo, wer seid ihr eigentlich?\n"), "other")
    before = t.db.scalar("SELECT count(*) FROM inbox_messages") or 0
    lib.send(t.service.smtp_port, [out])
    t.db.settle(before + 1, 30)
    mails = t.mails_to(stranger)
    leaked = [m for m in mails if "/kalender/" in m.as_string()]
    return Verdict(bool(mails) and not leaked, f"{len(mails)} answer(s), {len(leaked)} with the calendar")


@attack("finding 8: replay the admin cookie after logout")
def admin_cookie_replay(t: Target) -> Verdict:
    cookies = []
    for _ in range(2):
        with t.http() as http:
            form = http.get("/admin")
            http.post("/admin/anmelden", data={"csrf": _csrf(form.text), "token": t.admin_token})
            cookies.append(http.cookies.get("mailbot_admin"))
            page = http.get("/admin")
            http.post("/admin/abmelden", data={"csrf": _csrf(page.text.split("abmelden")[1])})
    with t.http(cookies={"mailbot_admin": cookies[0] or ""}) as replay:
        status = replay.get("/admin").status_code
    return Verdict(status == 401 and cookies[0] != cookies[1],
                   f"cookies differ: {cookies[0] != cookies[1]}, replay after logout: {status}")


@attack("finding 8: read /metrics without a token")
def public_metrics(t: Target) -> Verdict:
    with t.http() as http:
        answer = http.get("/metrics")
    return Verdict(answer.status_code == 401 and "mailbot_" not in answer.text, f"HTTP {answer.status_code}")


@attack("finding 8: booking id 99999999999999999999999")
def huge_booking_id(t: Target) -> Verdict:
    t.booking()  # so that Ingeborg has a mail with her link in it
    link = next(found.group(0) for mail in t.mails_to("ingeborg@example.org")
                if (found := re.search(r"https?://\S+?/a/[a-z0-9]+\.[a-z0-9]+", _text(mail))))
    token = link.rsplit("/", 1)[1]
    with t.http() as http:
        answer = http.get(f"{link}/buchung/99999999999999999999999/zustimmen")
    logged = token in t.service.log_path.read_text(errors="replace")
    return Verdict(answer.status_code == 404 and not logged,
                   f"HTTP {answer.status_code}, her token in the log: {logged}")


@attack("finding 8: 50 half-open connections")
def half_open(t: Target) -> Verdict:
    idle = []
    for n in range(50):
        conn = socket.create_connection(("127.0.0.1", t.service.web_port))
        conn.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n" if n % 2 else b"")
        idle.append(conn)
    started = time.monotonic()
    with t.http() as http:
        health = http.get("/health").status_code
    answered = time.monotonic() - started
    time.sleep(11)
    closed = 0
    for conn in idle:
        conn.settimeout(2)
        try:
            closed += conn.recv(1024) == b""
        except ConnectionResetError:
            closed += 1
        except TimeoutError:
            pass  # still open
        conn.close()
    return Verdict(health == 200 and answered < 1 and closed == 50,
                   f"/health {health} in {answered * 1000:.0f} ms meanwhile, {closed}/50 closed after 11 s")


@attack("finding 8: one request with an endless header")
def endless_header(t: Target) -> Verdict:
    with socket.create_connection(("127.0.0.1", t.service.web_port)) as conn:
        conn.settimeout(5)
        conn.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")
        sent = 0
        try:
            for n in range(10_000):  # up to 10 MB of headers
                conn.sendall(f"X-Pad-{n}: {'a' * 1000}\r\n".encode())
                sent += 1
        except (BrokenPipeError, ConnectionResetError):
            pass
        answer = conn.recv(100).split(b"\r\n", 1)[0].decode(errors="replace")
    return Verdict(answer.startswith("HTTP/1.1 400") and sent < 10_000,
                   f"{answer or 'closed'} after about {sent} KB")


# ---------------------------------------------------------------- mail: findings 2, 3, 5, 8

def _mail_bytes(sender: str, body: str | bytes, subject: str = "Anfrage",
                content_type: str = "text/plain; charset=utf-8", extra: str = "",
                in_reply_to: str | None = None, to: str = lib.BOOKING_ADDRESS) -> bytes:
    head = (f"{extra}From: {sender}\r\nTo: {to}\r\nSubject: {subject}\r\n"
            f"Message-ID: <{uuid.uuid4().hex}@{lib.SENDER_DOMAIN}>\r\n"
            f"Date: {email.utils.format_datetime(datetime.now(UTC))}\r\n"
            + (f"In-Reply-To: {in_reply_to}\r\n" if in_reply_to else "")
            + f"MIME-Version: 1.0\r\nContent-Type: {content_type}\r\n\r\n")
    return head.encode() + (body.encode() if isinstance(body, str) else body)


def _deliver(t: Target, raw: bytes, mail_from: str = "mallory@evil.example",
             rcpt: str = lib.BOOKING_ADDRESS, timeout: float = 60) -> Any:
    """One message over SMTP; waits until it is handled and returns its inbox row."""
    before = t.db.scalar("SELECT count(*) FROM inbox_messages") or 0
    with smtplib.SMTP("127.0.0.1", t.service.smtp_port, timeout=120) as client:
        client.sendmail(mail_from, [rcpt], raw)
    t.db.settle(before + 1, timeout, outbox=False)
    return t.db.rows("SELECT id, state, reason, booking_id, from_address, detail FROM inbox_messages "
                     "ORDER BY id DESC LIMIT 1")[0]


def _costly(t: Target, raw: bytes) -> Verdict:
    """Send one hostile mail and measure the service meanwhile: CPU seconds, extra memory
    (peak resident minus before) and the slowest /health answer."""
    pid = t.service.pid
    cpu, rss = lib.cpu_seconds(pid), lib.rss_kib(pid)
    peak, slowest, stop = [rss], [0.0], threading.Event()

    def watch() -> None:
        with t.http() as http:
            while not stop.is_set():
                started = time.monotonic()
                with contextlib.suppress(httpx.HTTPError):  # a timeout is the slowest answer
                    http.get("/health")
                slowest[0] = max(slowest[0], time.monotonic() - started)
                peak[0] = max(peak[0], lib.rss_kib(pid))
                time.sleep(0.05)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        row = _deliver(t, raw, timeout=120)
        time.sleep(0.3)
    finally:
        stop.set()
        watcher.join()
    spent, extra = lib.cpu_seconds(pid) - cpu, (peak[0] - rss) / 1024
    return Verdict(spent < 2 and extra < 100 and slowest[0] < 1 and row.state != "received",
                   f"{len(raw) / 1e6:.1f} MB: {spent:.2f} s CPU, +{extra:.0f} MB, /health ≤ "
                   f"{slowest[0] * 1000:.0f} ms, inbox {row.state}")


@attack("finding 2: 9.6 MB mail of '1.' lines")
def lines_of_one(t: Target) -> Verdict:
    return _costly(t, _mail_bytes("mallory@evil.example", b"1.\r\n" * 2_400_000))


@attack("finding 2: 9.5 MB mail of 'a ' lines")
def lines_of_a(t: Target) -> Verdict:
    return _costly(t, _mail_bytes("mallory@evil.example", b"a \r\n" * 2_375_000))


@attack("finding 2: 240,000 MIME parts")
def many_parts(t: Target) -> Verdict:
    body = b"--b\r\nContent-Type: text/plain\r\n\r\nx\r\n" * 240_000 + b"--b--\r\n"
    return _costly(t, _mail_bytes("mallory@evil.example", body, content_type='multipart/mixed; boundary="b"'))


@attack("finding 2: 9.5 MB of HTML")
def big_html(t: Target) -> Verdict:
    body = b"<html><body>" + b"<div>Hallo <b>x</b></div>\r\n" * 360_000 + b"</body></html>"
    return _costly(t, _mail_bytes("mallory@evil.example", body, content_type="text/html; charset=utf-8"))


def _request_text(days_ahead: int, name: str) -> str:
    start = datetime.now(UTC).date() + timedelta(days=days_ahead)
    end = start + timedelta(days=2)
    return f"Hallo,\nwir kommen vom {start:%d.%m.%Y} bis {end:%d.%m.%Y} zu zweit.\n\nLG {name}\n"


@attack("finding 3: a new mail From: Ingeborg (no key, not authenticated) books with her approval")
def approver_without_key(t: Target) -> Verdict:
    row = _deliver(t, _mail_bytes("Ingeborg <ingeborg@example.org>", _request_text(300, "Ingeborg")),
                   "ingeborg@example.org")
    if row.booking_id is None:
        return Verdict(True, f"no booking ({row.reason})")
    verdict = t.db.scalar("SELECT verdict FROM decisions WHERE booking_id = :b AND approver = 'ingeborg'",
                          b=row.booking_id)
    return Verdict(verdict == "no_response", f"booking #{row.booking_id}, Ingeborg's decision: {verdict}")


@attack("finding 3: a mail from Anna's address signed 'LG Mallory' renames her")
def rename_anna(t: Target) -> Verdict:
    booking_id, address = t.booking()
    name = t.db.scalar("SELECT first_name FROM people WHERE email = :e", e=address)
    _deliver(t, _mail_bytes(address, _request_text(320, "Mallory")), address)
    after = t.db.scalar("SELECT first_name FROM people WHERE email = :e", e=address)
    return Verdict(after == name, f"stored first name {name!r} → {after!r}")


@attack("finding 3: a self-written dmarc=pass above the real dmarc=fail")
def forged_authentication_results(t: Target) -> Verdict:
    extra = ("Authentication-Results: mx.haus-betzenstein.de; dkim=pass header.i=ingeborg@example.org;"
             " dmarc=pass header.from=example.org\r\n"
             "Authentication-Results: mx.upstream.example; dmarc=fail header.from=example.org\r\n")
    row = _deliver(t, _mail_bytes("Ingeborg <ingeborg@example.org>", _request_text(340, "Ingeborg"),
                                  extra=extra), "ingeborg@example.org")
    approved = t.db.scalar("SELECT count(*) FROM decisions WHERE booking_id = :b AND approver = 'ingeborg' "
                           "AND verdict = 'approved'", b=row.booking_id or -1)
    return Verdict(not approved, f"{row.state} {row.reason}, Ingeborg approved: {bool(approved)}")


@attack("finding 3: STARTTLS with SMTP_TLS_CERT and SMTP_TLS_KEY set")
def starttls(t: Target) -> Verdict:
    import ssl

    import trustme

    authority = trustme.CA()
    issued = authority.issue_cert("127.0.0.1")
    (t.workdir / "tls").mkdir(exist_ok=True)
    cert, key = t.workdir / "tls" / "cert.pem", t.workdir / "tls" / "key.pem"
    issued.private_key_and_cert_chain_pem.write_to_path(str(cert))
    issued.private_key_pem.write_to_path(str(key))
    env = {"SMTP_TLS_CERT": str(cert), "SMTP_TLS_KEY": str(key), "SECRET_KEY": "",
           "DATABASE_URL": f"sqlite:///{t.workdir / 'tls.sqlite3'}"}
    service = lib.Service(t.workdir / "tls", env["DATABASE_URL"], env=env, rules=RULES)
    context = ssl.create_default_context()
    authority.configure_trust(context)
    with service, smtplib.SMTP("127.0.0.1", service.smtp_port, timeout=10) as client:
        client.ehlo()
        offered = client.has_extn("starttls")
        code = client.starttls(context=context)[0] if offered else 454
    return Verdict(code == 220, f"STARTTLS offered: {offered}, answer {code}")


@attack("finding 5: 30 status mails in a victim's name")
def status_flood(t: Target) -> Verdict:
    _, victim = t.booking()
    before = len(t.mails_to(victim))
    for _ in range(30):
        _deliver(t, _mail_bytes(victim, "Hallo, wie ist der Stand?\n", subject="Status"), victim)
    t.db.settle(0, 30)
    answers = len(t.mails_to(victim)) - before
    return Verdict(answers <= 10, f"{answers} answers to the victim")


def _reply_chain(t: Target, senders: Callable[[int], str], rounds: int) -> Verdict:
    _, requester = t.booking()
    t.db.settle(0, 30)
    last = lib.read_sent(t.service, {"request_received"})
    last_mail = next(m for m in reversed(last) if m.to == requester)
    answered = 0
    for n in range(rounds):
        sender = senders(n) or requester
        raw = _mail_bytes(sender, "Danke. Wie ist der Status?\n", subject=f"Re: {last_mail.subject}",
                          in_reply_to=last_mail.message_id, to=last_mail.reply_to)
        known = {m.path for m in lib.read_sent(t.service)}
        _deliver(t, raw, sender, rcpt=last_mail.reply_to)
        t.db.settle(0, 30)
        fresh = [m for m in lib.read_sent(t.service) if m.path not in known and m.to == sender]
        if not fresh:
            break
        answered += 1
        last_mail = fresh[-1]
    return Verdict(answered < rounds, f"answered {answered} of {rounds} rounds")


@attack("finding 5: a partner answering 'Danke. Wie ist der Status?'")
def thanks_status_loop(t: Target) -> Verdict:
    return _reply_chain(t, lambda n: "", 20)


@attack("finding 5: the same partner from a new address each time")
def new_address_loop(t: Target) -> Verdict:
    return _reply_chain(t, lambda n: f"partner{n}.{t.counter[0]}@{lib.SENDER_DOMAIN}", 25)


@attack("finding 8: From: with 20 addresses")
def twenty_senders(t: Target) -> Verdict:
    senders = ", ".join(f"p{n}@{lib.SENDER_DOMAIN}" for n in range(20))
    row = _deliver(t, _mail_bytes(senders, _request_text(500, "Gast")))
    return Verdict(row.booking_id is None and row.reason == "several_senders",
                   f"{row.state} {row.reason}")


@attack("finding 8: From: ingeborg@example.org <evil@…> in the admin log and the answer")
def display_name_address(t: Target) -> Verdict:
    evil = f"evil.{t.counter[0]}@{lib.SENDER_DOMAIN}"
    row = _deliver(t, _mail_bytes(f"ingeborg@example.org <{evil}>", _request_text(520, "Eve")), evil)
    t.db.settle(0, 30)
    answered = bool(t.mails_to(evil))
    return Verdict(row.from_address == evil and answered,
                   f"admin log shows {'the real sender' if row.from_address == evil else row.from_address}, "
                   f"answer to the real sender: {answered}")


def _tight_service(t: Target, name: str) -> lib.Service:
    """A second service whose SMTP limits are short enough to wait for."""
    rules = t.workdir / f"{name}.toml"
    rules.write_text(RULES.read_text("utf-8").replace("smtp_session_seconds = 600",
                                                      "smtp_session_seconds = 5"), "utf-8")
    (t.workdir / name).mkdir(exist_ok=True)
    url = f"sqlite:///{t.workdir / (name + '.sqlite3')}"
    return lib.Service(t.workdir / name, url, env={"SECRET_KEY": "", "DATABASE_URL": url}, rules=rules)


@attack("finding 8: keep an SMTP session open with NOOP")
def noop_forever(t: Target) -> Verdict:
    with _tight_service(t, "noop") as service, \
            smtplib.SMTP("127.0.0.1", service.smtp_port, timeout=10) as client:
        started = time.monotonic()
        try:
            while time.monotonic() - started < 30:
                if client.noop()[0] != 250:
                    break
                time.sleep(0.5)
        except smtplib.SMTPServerDisconnected:
            pass
        held = time.monotonic() - started
    return Verdict(held < 10, f"session closed after {held:.1f} s (cap 5 s in this service)")


@attack("finding 8: 30,000 RCPT in one session")
def many_recipients(t: Target) -> Verdict:
    with smtplib.SMTP("127.0.0.1", t.service.smtp_port, timeout=30) as client:
        client.ehlo()
        client.mail("mallory@evil.example")
        accepted = 0
        for n in range(30_000):
            code = client.rcpt(f"buchung+{n}@{lib.MAIL_DOMAIN}")[0]
            if code != 250:
                break
            accepted += 1
        client.rset()
    return Verdict(accepted <= 100, f"{accepted} accepted, then {code}")


# last of the mail attacks: it uses up the hour's new requests of the house
@attack("finding 5: 200 new requests from 200 addresses")
def request_flood(t: Target) -> Verdict:
    before = t.db.scalar("SELECT count(*) FROM bookings") or 0
    mails = [lib._outgoing(lib._mail("Gast", f"flut{n}@{lib.SENDER_DOMAIN}", lib.BOOKING_ADDRESS,
                                     "Anfrage", _request_text(400 + 3 * n, "Gast")), "request")
             for n in range(200)]
    inbox = t.db.scalar("SELECT count(*) FROM inbox_messages") or 0
    lib.send(t.service.smtp_port, mails)
    t.db.settle(inbox + 200, 120, outbox=False)
    made = (t.db.scalar("SELECT count(*) FROM bookings") or 0) - before
    busy = t.db.scalar("SELECT count(*) FROM inbox_messages WHERE reason = 'house_busy'")
    return Verdict(made <= 30, f"{made} bookings made, {busy} requests refused as house_busy")


# ---------------------------------------------------------------- finding 7: client address
# (last: the flood uses up this address's form limit for an hour)

@attack("finding 7: 40 admin-login guesses with a rotating X-Forwarded-For")
def rotating_forwarded_for(t: Target) -> Verdict:
    with t.http() as http:
        codes = [http.post("/admin/anmelden", data={"token": "geraten"},
                           headers={"X-Forwarded-For": f"198.51.{i}.{i}",
                                    "Fly-Client-IP": f"203.0.113.{i}"}).status_code
                 for i in range(40)]
    return Verdict(429 in codes, f"first 429 after {codes.index(429) if 429 in codes else 40} guesses")


@attack("finding 7: behind a trusted proxy, 31 POSTs lock the admin out")
def proxy_locks_everyone_out(t: Target) -> Verdict:
    env = {"FORWARDED_ALLOW_IPS": "127.0.0.1", "CLIENT_IP_HEADER": "Fly-Client-IP",
           "SECRET_KEY": "", "DATABASE_URL": f"sqlite:///{t.workdir / 'proxy.sqlite3'}"}
    (t.workdir / "proxy").mkdir(exist_ok=True)
    service = lib.Service(t.workdir / "proxy", env["DATABASE_URL"], env=env, rules=RULES)
    with service, httpx.Client(base_url=f"http://127.0.0.1:{service.web_port}", timeout=10) as http:
        flood = [http.post("/admin/anmelden", data={"token": "x"},
                           headers={"Fly-Client-IP": "198.51.100.66"}).status_code
                 for _ in range(31)]
        admin = http.get("/admin", headers={"Fly-Client-IP": "198.51.100.1"})
        page = http.post("/admin/anmelden", headers={"Fly-Client-IP": "198.51.100.1"},
                         data={"csrf": _csrf(admin.text), "token": service.env["ADMIN_TOKEN"]})
    return Verdict(flood[-1] == 429 and page.status_code == 303,
                   f"attacker's 31st POST {flood[-1]}, the admin's login {page.status_code}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--only", help="run the attacks whose name contains this text")
    args = parser.parse_args()
    not_blocked = 0
    with lib.workspace("attacks") as workdir:
        handle = lib.database(args.db, workdir)
        service = lib.Service(workdir, handle.url, env={"SECRET_KEY": ""}, rules=RULES)
        db: lib.Db | None = None
        try:
            service.start()
            db = lib.Db(handle.url)
            target = Target(service, db, workdir, args.db)
            print(f"mailbot serve on {args.db}, its defaults; {len(ATTACKS)} attacks", flush=True)
            for name, run in ATTACKS:
                if args.only and args.only not in name:
                    continue
                try:
                    verdict = run(target)
                except Exception as exc:  # an attack that breaks the drill is not a pass
                    verdict = Verdict(False, f"drill error: {type(exc).__name__}: {exc}"[:160])
                not_blocked += not verdict.blocked
                mark = "blocked    " if verdict.blocked else "NOT BLOCKED"
                print(f"{mark}  {name}  ({verdict.detail})", flush=True)
        finally:
            service.stop()
            if db is not None:
                db.close()
            handle.drop()
    print(f"{not_blocked} attack(s) not blocked", flush=True)
    return not_blocked


if __name__ == "__main__":
    sys.exit(main())
