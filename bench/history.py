"""Ten years of history against the first week: the same code on a database holding one
week of a house's history and on one holding ten years, measured alternately in one run.

Seeding writes a synthetic history straight into fresh PostgreSQL databases with COPY
(about 6,000 bookings, 400 people, 150,000 inbound mails with raw bodies and 400,000
outbound mails at --scale 1; consistent with every constraint: no two blocking bookings
overlap, every decision, timeline event, thread and mail belongs to its booking), after
`mailbot migrate`, so the counters and indexes are those of the real schema.

Then, per round and per database: the cost of one message in this process (a request, an
approver's JA), the jobs (digest, cleanup), `mailbot serve` with every page a person sees
(sequentially for p50/p99, each request with its own query string so the page cache never
answers; then --clients connections with wrk, cold and from the page cache), serve's memory
after the pages, `mailbot log -n 50` (the first screen) as a process of its own and, in the
first round, `mailbot log --json` to the last line (time and peak memory). Prints one table:
empty, full and the ratio full/empty.

    .venv/bin/python bench/history.py --scale 0.1          # while developing
    .venv/bin/python bench/history.py                      # ten years, a few minutes to seed
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import lib  # noqa: E402
from bench.web import COLD, _wrk_numbers  # noqa: E402

BERLIN = ZoneInfo("Europe/Berlin")
APPROVER_KEYS = ("ingeborg", "cornelia", "angelika")
APPROVER_MAIL = dict(zip(APPROVER_KEYS, (a for _, a in lib.APPROVERS), strict=True))
APPROVER_NAME = dict(zip(APPROVER_KEYS, (n for n, _ in lib.APPROVERS), strict=True))
FULL_DAYS, FIRST_WEEK = 3650, 7
FUTURE_DAYS = 50  # seeded bookings reach this far ahead; the measured requests start later
OWN = 0  # the person whose page is measured (books about twice as often as the others)
NAMES = ("Anna", "Bernd", "Carla", "Dieter", "Elke", "Frank", "Gabi", "Heiko", "Iris", "Jonas",
         "Katrin", "Lars", "Maren", "Nils", "Olga", "Paul", "Renate", "Stefan", "Tanja", "Uwe",
         "Vera", "Werner", "Yvonne", "Zoe", "Jürgen", "Ömer", "Sören", "Bärbel")


# ---------------------------------------------------------------- the synthetic history

@dataclass
class Booking:
    id: int
    person: int
    start: date
    end: date
    state: str
    created: datetime
    events: list[tuple[datetime, str, str]] = field(default_factory=list)  # (at, actor, kind)
    verdicts: dict[str, tuple[str, datetime | None]] = field(default_factory=dict)
    threads: dict[str, int] = field(default_factory=dict)  # participant address -> conversation id

    @property
    def last(self) -> datetime:
        return max(at for at, _, _ in self.events)


@dataclass
class Seeded:
    url: str
    days: int
    bookings: int
    inbound: int
    outbound: int
    seconds: float
    own_link: str  # link id of the person whose page is measured
    own_address: str
    busy_month: str  # YYYY-MM of the calendar page measured
    some_day: date  # the admin log filtered by this day


def _at(day: date, rng: random.Random) -> datetime:
    return datetime(day.year, day.month, day.day, 7, tzinfo=BERLIN).astimezone(UTC) + \
        timedelta(seconds=rng.randint(0, 14 * 3600))


def plan(days: int, scale: float, rng: random.Random, now: datetime) -> tuple[list[str], list[Booking]]:
    """People and bookings of `days` days of history up to now (and FUTURE_DAYS ahead)."""
    today = now.astimezone(BERLIN).date()
    first = today - timedelta(days=days)
    wanted = max(3, round(6000 * scale * days / FULL_DAYS))
    people = [f"{lib.ascii_name(NAMES[n % len(NAMES)])}.{n}@{lib.SENDER_DOMAIN}"
              for n in range(max(3, min(round(400 * scale), wanted)))]
    weights = [2.0 if n == OWN else 1.0 for n in range(len(people))]
    spans: list[tuple[date, date, bool]] = []  # (start, end, blocking)
    day = first
    while day <= today + timedelta(days=FUTURE_DAYS):  # confirmed or pending: never overlapping
        end = day + timedelta(days=rng.randint(1, 5))
        if rng.random() < min(1.0, scale * 1.2):
            spans.append((day, end, True))
        day = end + timedelta(days=rng.randint(1, 4))
    while len(spans) < wanted:  # denied and canceled ones may lie anywhere
        start = first + timedelta(days=rng.randint(0, days + FUTURE_DAYS))
        spans.append((start, start + timedelta(days=rng.randint(0, 6)), False))
    spans.sort()
    found: list[Booking] = []
    for number, (start, end, blocking) in enumerate(spans, start=1):
        if blocking:
            state = "confirmed" if end < today or rng.random() < 0.6 else "pending"
        else:
            state = "denied" if rng.random() < 0.4 else "canceled"
        earliest = max(_at(start, rng) - timedelta(days=rng.randint(5, 120)), now - timedelta(days=days))
        created = min(earliest, now - timedelta(hours=rng.randint(2, 72)))
        booking = Booking(number, rng.choices(range(len(people)), weights)[0], start, end, state, created)
        booking.events.append((created, "requester", "submitted"))
        clock = created

        def later() -> datetime:
            nonlocal clock
            clock = min(clock + timedelta(minutes=rng.randint(5, 3 * 24 * 60)), now - timedelta(minutes=5))
            return clock

        keys = list(APPROVER_KEYS)
        rng.shuffle(keys)
        if state == "confirmed":
            for key in keys:
                booking.verdicts[key] = ("approved", later())
                booking.events.append((clock, key, "approved"))
            booking.events.append((clock, "system", "confirmed"))
        elif state == "pending":
            for key in keys[:rng.randint(0, 2)]:
                booking.verdicts[key] = ("approved", later())
                booking.events.append((clock, key, "approved"))
        elif state == "denied":
            for key in keys[:rng.randint(0, 2)]:
                booking.verdicts[key] = ("approved", later())
                booking.events.append((clock, key, "approved"))
            denier = keys[-1]
            booking.verdicts[denier] = ("denied", later())
            booking.events.append((clock, denier, "denied"))
        else:
            for key in keys[:rng.randint(0, 3)]:
                booking.verdicts[key] = ("approved", later())
                booking.events.append((clock, key, "approved"))
            booking.events.append((later(), "requester", "canceled"))
        found.append(booking)
    return people, found


TEXT_REQUEST = ("Hallo zusammen,\n\nwir würden gerne vom {start:%d.%m.%Y} bis {end:%d.%m.%Y} ins Haus "
                "kommen. Wir sind {party} Personen und bringen den Hund mit, falls das geht.\n"
                "Die Kinder freuen sich schon sehr auf den Garten und den See.\n\nViele Grüße\n{name}\n")
TEXT_REPLY = ("{verdict}\n\n{name}\n\nAm {day:%d.%m.%Y} um 10:12 schrieb Haus Betzenstein "
              "<buchung@haus-betzenstein.de>:\n> Hallo {name},\n> {first} möchte vom {start:%d.%m.} bis "
              "{end:%d.%m.%Y} ins Haus.\n> Antworte mit JA oder NEIN und einem Grund.\n> Danke!\n")
INBOUND_KINDS = (  # (what, state, reason, weight) of the mails beyond request and decisions
    ("status", "processed", "status", 5), ("thanks", "ignored", "thanks", 4),
    ("auto_reply", "ignored", "auto_reply", 2), ("conflict", "rejected", "rejected_conflict", 1),
    ("help", "processed", "help", 1))
OUTBOUND_KINDS = {"request": "request_submitted", "decision": "booking_approved", "status": "status",
                  "thanks": "help", "auto_reply": "help", "conflict": "rejected_conflict",
                  "help": "help"}


def _raw(what: str, sender: str, name: str, b: Booking, at: datetime, message_id: str,
         verdict: str = "JA") -> bytes:
    first = NAMES[b.person % len(NAMES)]
    if what == "request":
        body = TEXT_REQUEST.format(start=b.start, end=b.end, party=2 + b.id % 6, name=name)
        subject = f"Buchungsanfrage {b.start:%B}"
    elif what == "decision":
        body = TEXT_REPLY.format(verdict=verdict, name=name, day=at, first=first, start=b.start, end=b.end)
        subject = f"AW: Neue Buchungsanfrage ({b.start:%d.%m.}–{b.end:%d.%m.%Y})"
    else:
        body = (f"Hallo,\n\n{'wie ist der Stand?' if what == 'status' else 'Super, danke!'}\n\n"
                f"{name}\n\n> Buchung ({b.start:%d.%m.}–{b.end:%d.%m.%Y})\n" * 2)
        subject = f"Re: Buchung ({b.start:%d.%m.}–{b.end:%d.%m.%Y})"
    head = (f"Return-Path: <{sender}>\r\nReceived: from mail.gaeste.example (mail.gaeste.example "
            f"[192.0.2.10]) by mx.haus-betzenstein.de with ESMTPS; {at:%a, %d %b %Y %H:%M:%S} +0000\r\n"
            f"DKIM-Signature: v=1; a=rsa-sha256; d=gaeste.example; s=mail; b={'x' * 340}\r\n"
            f"From: {name} <{sender}>\r\nTo: buchung@haus-betzenstein.de\r\nSubject: {subject}\r\n"
            f"Date: {at:%a, %d %b %Y %H:%M:%S} +0000\r\nMessage-ID: {message_id}\r\n"
            f"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
            f"Content-Transfer-Encoding: 8bit\r\n\r\n")
    return (head + body.replace("\n", "\r\n")).encode()


def _outbound_bodies(kind: str, name: str, b: Booking) -> tuple[str, str, str]:
    span = f"{b.start:%d.%m.}–{b.end:%d.%m.%Y}"
    subject = {"request_submitted": f"Neue Buchungsanfrage ({span})",
               "booking_approved": f"Zustimmung ({span})", "status": f"So steht deine Buchung ({span})",
               "help": "So funktioniert die Buchung", "rejected_conflict": f"Leider belegt ({span})",
               "request_received": f"Deine Anfrage ist da ({span})",
               "booking_confirmed": f"Buchung bestätigt ({span})"}.get(kind, kind)
    text = (f"Hallo {name},\n\n{subject}.\n\nZeitraum: {span}\nPersonen: {2 + b.id % 6} Personen\n"
            f"Status: {b.state}\n\nDeine Übersicht: https://haus-betzenstein.de/p/{'x' * 40}\n"
            f"Kalender: https://haus-betzenstein.de/kalender/{'y' * 40}\n\nViele Grüße\nHaus Betzenstein\n")
    html = ("<!doctype html><html><head><meta charset=\"utf-8\"><meta name=\"color-scheme\" "
            "content=\"light dark\"></head><body style=\"font-family:sans-serif;line-height:1.5\">"
            + "".join(f"<p style=\"margin:0 0 12px\">{line}</p>" for line in text.splitlines() if line)
            + "<p><a href=\"https://haus-betzenstein.de/a/zzz\" style=\"padding:8px 14px;border:1px "
            "solid #888;border-radius:6px\">Zustimmen</a></p></body></html>")
    return subject, text, html


def seed(url: str, days: int, scale: float, seed_value: int = 18) -> Seeded:
    """Migrate a fresh database and fill it with `days` days of history by COPY."""
    import psycopg

    from mailbot.jobs.scheduler import SCHEDULED, latest_slot
    from mailbot.store.db import migrate

    began = time.perf_counter()
    migrate(url)
    rng = random.Random(seed_value)
    now = datetime.now(UTC)
    people, plan_bookings = plan(days, scale, rng, now)
    names = [NAMES[n % len(NAMES)] for n in range(len(people))]
    links = [f"{rng.getrandbits(80):020x}" for _ in people]
    conversation_id = 0
    conversations: list[tuple[Any, ...]] = []
    for b in plan_bookings:
        for address, role, key in ((people[b.person], "requester", None),
                                   *((APPROVER_MAIL[k], "approver", k) for k in APPROVER_KEYS)):
            conversation_id += 1
            b.threads[address] = conversation_id
            conversations.append((conversation_id, f"{rng.getrandbits(80):020x}", address, role, key,
                                  b.id, None, None, b.created, b.last))
    # the inbound mails: a request, each decision, then status questions, thanks, auto-replies …
    target_in = round(150_000 * scale * days / FULL_DAYS)
    per_booking = max(1.0, target_in * 0.95 / max(1, len(plan_bookings)))
    extra_kinds = [k for k in INBOUND_KINDS for _ in range(k[3])]
    mails: list[tuple[datetime, Booking | None, str, str, str, str, str]] = []
    for b in plan_bookings:
        requester = people[b.person]
        mails.append((b.created, b, requester, names[b.person], "request", "processed", "submitted"))
        for key, (verdict, at) in b.verdicts.items():
            if at is not None:
                mails.append((at, b, APPROVER_MAIL[key], APPROVER_NAME[key], "decision", "processed",
                              "approved" if verdict == "approved" else "denied"))
        extra = max(0, round(rng.gauss(per_booking, 2)) - 1 - len(b.verdicts))
        for _ in range(extra):
            what, state, reason, _ = rng.choice(extra_kinds)
            at = min(b.created + timedelta(minutes=rng.randint(1, max(2, int((b.last - b.created)
                                                                      .total_seconds() // 60) + 4320))),
                     now - timedelta(minutes=1))
            by_approver = rng.random() < 0.3
            key = rng.choice(APPROVER_KEYS)
            mails.append((at, b, APPROVER_MAIL[key] if by_approver else requester,
                          APPROVER_NAME[key] if by_approver else names[b.person], what, state, reason))
    while len(mails) < target_in:  # strangers: help answers, spam
        at = now - timedelta(minutes=rng.randint(1, days * 24 * 60))
        n = rng.randrange(10_000)
        mails.append((at, None, f"fremd.{n}@{lib.SENDER_DOMAIN}", "Fremd", "help", "processed", "help"))
    mails.sort(key=lambda m: m[0])
    out_ratio = 2.75  # about 400,000 outbound to 150,000 inbound (strangers get one answer)
    with psycopg.connect(lib.PG_SERVER + "/" + url.rsplit("/", 1)[1]) as conn:
        with conn.cursor() as cur:
            with cur.copy("COPY people (id, email, link_id, first_name, created_at) FROM STDIN") as copy:
                for n, address in enumerate(people):
                    copy.write_row((n + 1, address, links[n], names[n], now - timedelta(days=days + 1)))
            with cur.copy("COPY bookings (id, requester_email, first_name, start_date, end_date, "
                          "party_size, description, state, created_at, last_activity_at, archived_at) "
                          "FROM STDIN") as copy:
                for b in plan_bookings:
                    copy.write_row((b.id, people[b.person], names[b.person], b.start, b.end,
                                    2 + b.id % 6, "Wir freuen uns aufs Haus!", b.state, b.created, b.last,
                                    b.last if b.state == "canceled" else None))
            with cur.copy("COPY decisions (booking_id, approver, verdict, decided_at, reason) "
                          "FROM STDIN") as copy:
                for b in plan_bookings:
                    for key in APPROVER_KEYS:
                        verdict, at = b.verdicts.get(key, ("no_response", None))
                        copy.write_row((b.id, key, verdict, at,
                                        "Da sind wir selbst im Haus" if verdict == "denied" else None))
            with cur.copy("COPY timeline_events (booking_id, at, actor, kind, note) FROM STDIN") as copy:
                for b in plan_bookings:
                    for at, actor, kind in b.events:
                        copy.write_row((b.id, at, actor, kind,
                                        "Da sind wir selbst im Haus" if kind == "denied" else None))
            with cur.copy("COPY conversations (id, key, participant, role, approver, booking_id, "
                          "awaiting, draft, created_at, updated_at) FROM STDIN") as copy:
                for row in conversations:
                    copy.write_row(row)
            outbound: list[tuple[Any, ...]] = []
            with cur.copy("COPY inbox_messages (id, source, source_id, message_id, received_at, raw, "
                          "size, from_address, subject, envelope_sender, peer_address, helo_name, "
                          "state, reason, detail, interpretation, reply_text, removed_text, booking_id, "
                          "conversation_id, correlation_id, attempts, processed_at) FROM STDIN") as copy:
                for number, (at, b, sender, name, what, state, reason) in enumerate(mails, start=1):
                    message_id = f"<h{number}.{rng.getrandbits(40):x}@{lib.SENDER_DOMAIN}>"
                    correlation = uuid.UUID(int=rng.getrandbits(128)).hex
                    done = at + timedelta(milliseconds=rng.randint(20, 1500))
                    if b is None:
                        b_fake = Booking(0, 0, at.date(), at.date(), "none", at)
                        raw = _raw("help", sender, name, b_fake, at, message_id)
                    else:
                        raw = _raw(what, sender, name, b, at, message_id,
                                   "JA" if reason != "denied" else "NEIN, weil wir selbst da sind")
                    thread = b.threads.get(sender) if b is not None else None
                    interpretation = json.dumps({"intent": what, "start": None, "end": None,
                                                 "party_size": None, "vague": False})
                    copy.write_row((number, "smtp", hashlib.sha256(raw).hexdigest(), message_id, at, raw,
                                    len(raw), sender, f"Mail {what}", sender, "192.0.2.10",
                                    "mail.gaeste.example", state, reason,
                                    f"understood as: {what}\n→ {state}: {reason}", interpretation,
                                    what, None, b.id if b else None, thread, correlation, 1, done))
                    recipients = [sender] if b is None else [people[b.person]] + [
                        APPROVER_MAIL[k] for k in APPROVER_KEYS]
                    count = 1 if b is None else min(4, 1 + sum(rng.random() < (out_ratio - 1) / 3
                                                               for _ in range(3)))
                    kind = OUTBOUND_KINDS[what]
                    for to in recipients[:count]:
                        outbound.append((done, b, to, kind, correlation, number,
                                         b.threads.get(to) if b is not None else None))
            with cur.copy("COPY outbox_messages (id, idempotency_key, message_id, correlation_id, kind, "
                          "to_address, reply_to, subject, text_body, html_body, headers, state, "
                          "attempts, next_attempt_at, last_error, provider_id, claimed_by, created_at, "
                          "sent_at, booking_id, conversation_id, inbox_id) FROM STDIN") as copy:
                blank = Booking(0, 0, now.date(), now.date(), "none", now)
                for number, (at, b, to, kind, correlation, inbox_id, thread) in enumerate(outbound, 1):
                    token = uuid.UUID(int=rng.getrandbits(128)).hex
                    subject, text, html = _outbound_bodies(kind, to.split("@")[0], b or blank)
                    roll = rng.random()
                    state, attempts, error = (("failed", 4, "SMTP 550 mailbox unavailable") if roll < 0.005
                                              else ("bounced", 1, "bounced: 5.1.1 user unknown")
                                              if roll < 0.015 else ("sent", 2 if roll < 0.03 else 1, None))
                    message_id = f"<{token}@haus-betzenstein.de>"
                    headers = json.dumps({"From": "Haus Betzenstein <buchung@haus-betzenstein.de>",
                                          "To": to, "Subject": subject, "Message-ID": message_id,
                                          "Auto-Submitted": "auto-replied",
                                          "X-Mailbot-Correlation": correlation, "X-Mailbot-Kind": kind})
                    copy.write_row((number, f"mailbot-{token}", message_id, correlation, kind, to,
                                    f"buchung+{token[:16]}.abcdefgh@haus-betzenstein.de", subject, text,
                                    html, headers, state, attempts, at, error,
                                    None if state == "failed" else f"re_{token[:20]}", None, at,
                                    None if state == "failed" else at + timedelta(seconds=1),
                                    b.id if b else None, thread, inbox_id))
            with cur.copy("COPY rate_events (kind, subject, at) FROM STDIN") as copy:
                for at, _, sender, _, what, _, _ in mails:
                    if what == "request":
                        copy.write_row(("request", sender, at))
            with cur.copy("COPY job_runs (name, scheduled_for, instance, started_at, finished_at, "
                          "result, ok) FROM STDIN") as copy:
                # every job's latest slot has run (else `serve` would catch up on start, and a
                # purge would thin the ten years out before they are measured)
                latest = {name: latest_slot(name, now, BERLIN) for name in SCHEDULED}
                for name, at in latest.items():
                    copy.write_row((name, at, "bench", at, at, "erledigt", True))
                for back in range(1, days + 1):
                    day = now.astimezone(BERLIN).date() - timedelta(days=back)
                    at = datetime(day.year, day.month, day.day, 0, 1, tzinfo=BERLIN).astimezone(UTC)
                    if at != latest["cleanup"]:
                        copy.write_row(("cleanup", at, "bench", at, at, "Keine Buchung abgelaufen", True))
            for table in ("people", "bookings", "decisions", "timeline_events", "conversations",
                          "inbox_messages", "outbox_messages", "rate_events", "job_runs"):
                cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                            f"(SELECT coalesce(max(id), 0) + 1 FROM {table}), false)")
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE")
    busiest = max((b for b in plan_bookings if b.state in ("confirmed", "pending")
                   and b.start <= now.date() + timedelta(days=FUTURE_DAYS)), key=lambda b: b.start)
    middle = mails[len(mails) // 2][0].astimezone(BERLIN).date() if mails else now.date()
    return Seeded(url, days, len(plan_bookings), len(mails), len(outbound), time.perf_counter() - began,
                  links[OWN], people[OWN], f"{busiest.start:%Y-%m}", middle)


# ---------------------------------------------------------------- measuring

@dataclass
class Samples:
    values: dict[str, list[float]] = field(default_factory=dict)

    def add(self, what: str, value: float) -> None:
        self.values.setdefault(what, []).append(value)


def settings_for(service: lib.Service) -> Any:
    from mailbot.config import Settings

    return Settings.from_env({k: v for k, v in service.env.items() if k.isupper()})


def _get(client: Any, url: str, headers: dict[str, str], cold: bool = True) -> float:
    """One request; `cold`: with a query string of its own, so the page cache never answers."""
    sep = "&" if "?" in url else "?"
    began = time.perf_counter()
    response = client.get(f"{url}{sep}n={time.perf_counter_ns()}" if cold else url, headers=headers)
    took = (time.perf_counter() - began) * 1000
    if response.status_code != 200:
        raise RuntimeError(f"{url}: {response.status_code} {response.text[:200]}")
    return took


def pages(service: lib.Service, seeded: Seeded, samples: Samples, count: int, clients: int,
          seconds: int) -> None:
    import httpx

    from mailbot.runtime import Runtime
    from mailbot.store import queries
    from mailbot.web import links

    rt = Runtime.from_settings(settings_for(service))
    with rt.store.transaction() as session:  # made on first use, as a mail to her would
        ingeborg = queries.approver_link_id(session, rt.house.approver("ingeborg"), rt.now())
    base = service.env["BASE_URL"]
    admin = {"Authorization": f"Bearer {service.env['ADMIN_TOKEN']}"}
    day = seeded.some_day.isoformat()
    urls: list[tuple[str, str, dict[str, str]]] = [
        ("approver overview", links.approver_url(rt, ingeborg), {}),
        ("requester page", links.person_url(rt, seeded.own_link), {}),
        ("calendar, busy month", f"{links.calendar_url(rt)}?monat={seeded.busy_month}", {}),
        ("admin log, first page", f"{base}/admin", admin),
        ("admin log by address", f"{base}/admin?adresse={seeded.own_address}", admin),
        ("admin log by state", f"{base}/admin?status=rejected", admin),
        ("admin log by date", f"{base}/admin?von={day}&bis={day}", admin),
        ("/metrics", f"{base}/metrics", admin),
    ]
    rt.store.dispose()
    with httpx.Client(timeout=30) as client:
        for what, url, headers in urls:
            for _ in range(3):  # warm up
                _get(client, url, headers)
            sizes = len(client.get(url, headers=headers).content)
            samples.add(f"{what}|bytes", sizes)
            for _ in range(count):
                samples.add(f"{what}|seq", _get(client, url, headers))
    cached = {"approver overview", "requester page", "calendar, busy month"}
    for what, url, headers in urls:
        for cold in (True, False) if what in cached else (True,):
            p99 = concurrent(url, headers, clients, seconds, cold=cold)
            samples.add(f"{what}|{'conc' if cold else 'cached'}", p99)


def concurrent(url: str, headers: dict[str, str], clients: int, seconds: int, cold: bool) -> float:
    """p99 in ms of `clients` connections asking one after another for `seconds`, measured
    by wrk (a C client, so the client's own GIL adds nothing); cold: each request with a
    query string of its own. Without wrk (Debian package `wrk`): Python threads."""
    if shutil.which("wrk"):
        script = []
        if cold:
            lua = Path(tempfile.mkstemp(suffix=".lua")[1])
            lua.write_text(COLD)
            script = ["-s", str(lua)]
        out = subprocess.run(["wrk", "-t1", f"-c{clients}", f"-d{seconds}s", "--timeout", "5s", "--latency",
                              *(a for k, v in headers.items() for a in ("-H", f"{k}: {v}")), *script, url],
                             capture_output=True, text=True)
        if "requests in" not in out.stdout:
            raise RuntimeError(f"wrk failed ({out.returncode}): {out.stdout}{out.stderr}")
        _, _, _, p99, errors = _wrk_numbers(out.stdout)
        if errors:
            raise RuntimeError(f"{url}: {errors} errors\n{out.stdout}")
        return p99
    import httpx

    found: list[float] = []
    deadline = time.monotonic() + seconds

    def one_client() -> None:
        with httpx.Client(timeout=30) as client:
            while time.monotonic() < deadline:
                found.append(_get(client, url, headers, cold))

    threads = [threading.Thread(target=one_client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return lib.percentile(found, 99)


def per_message(service: lib.Service, samples: Samples, first_slot: int, count: int) -> None:
    """A request and an approver's JA, each stored and processed alone in this process
    (serve is not running, so nothing else takes them)."""
    from mailbot.inbound import inbox, worker
    from mailbot.jobs import jobs
    from mailbot.outbound import worker as outbox_worker
    from mailbot.runtime import Runtime

    rt = Runtime.from_settings(settings_for(service))
    slots = lib.Slots(first=first_slot)
    rng = random.Random(first_slot)
    maildir = Path(service.env["MAILDIR"])
    seen = {p.name for p in (maildir / "new").iterdir()} if (maildir / "new").is_dir() else set()
    for n in range(count + 2):
        mail = lib.request_mail(first_slot * 10 + n, *slots.next(), rng=rng)
        inbox.store_raw(rt, mail.data, "smtp")
        began = time.perf_counter()
        worker.process_pending(rt, limit=1)
        if n >= 2:  # the first ones warm up imports and templates
            samples.add("processing a request|seq", (time.perf_counter() - began) * 1000)
    while outbox_worker.send_due(rt, limit=500):
        pass
    asks = [m for m in lib.read_sent(maildir, {"request_submitted"}) if m.path.name not in seen]
    first_asks: dict[str, lib.SentMail] = {}
    for ask in asks:
        first_asks.setdefault(ask.correlation, ask)
    for n, ask in enumerate(first_asks.values()):
        inbox.store_raw(rt, lib.approver_reply(ask, rng=rng).data, "smtp")
        began = time.perf_counter()
        worker.process_pending(rt, limit=1)
        if n >= 2:
            samples.add("processing an approver reply|seq", (time.perf_counter() - began) * 1000)
    while outbox_worker.send_due(rt, limit=500):
        pass
    now = rt.now()
    for name, job in (("job: digest", jobs.digest), ("job: cleanup", jobs.cleanup)):
        for _ in range(3):
            began = time.perf_counter()
            job(rt, now)
            samples.add(f"{name}|seq", (time.perf_counter() - began) * 1000)
    rt.store.dispose()


def log_run(service: lib.Service, samples: Samples, what: str, *args: str) -> None:
    """`mailbot log ARGS` as a process of its own under /usr/bin/time: wall time and the
    peak memory of the program itself."""
    began = time.perf_counter()
    done = subprocess.run(["/usr/bin/time", "-f", "%M", str(lib.VENV_BIN / "mailbot"), "log", *args],
                          env=dict(service.env), cwd=service.workdir, capture_output=True)
    took = (time.perf_counter() - began) * 1000
    lines = done.stdout.count(b"\n")
    if done.returncode != 0 or lines < 1:
        raise RuntimeError(f"mailbot log: exit {done.returncode}, {lines} lines, {done.stderr!r}")
    samples.add(f"{what}|seq", took)
    samples.add(f"{what}|rss", int(done.stderr.decode().strip().splitlines()[-1]) / 1024)
    samples.add(f"{what}|lines", lines)


def measure(seeded: Seeded, workdir: Path, samples: Samples, round_no: int, count: int,
            clients: int, messages: int, seconds: int) -> None:
    service = lib.Service(workdir, seeded.url)
    for part in ("tmp", "new", "cur"):
        (workdir / "outbox" / part).mkdir(parents=True, exist_ok=True)
    per_message(service, samples, 300 + round_no * 2 * (messages + 2) + (0 if seeded.days < 30 else 1000),
                messages)
    service.start()
    try:
        pages(service, seeded, samples, count, clients, seconds)
        samples.add("serve RSS after the pages|rss", lib.rss_kib(service.pid) / 1024)
    finally:
        service.stop()
    log_run(service, samples, "mailbot log, first screen (-n 50)", "-n", "50")
    if round_no == 0:
        log_run(service, samples, "mailbot log, every line", "--json")


def _fmt(value: float, unit: str) -> str:
    if unit == "MB":
        return f"{value:.0f} MB"
    if unit == "KB":
        return f"{value / 1024:.0f} KB"
    if unit == "lines":
        return f"{value:,.0f} lines"
    return f"{value:.0f} ms" if value >= 100 else f"{value:.1f} ms"


def table(empty: Samples, full: Samples) -> list[str]:
    rows = ["| what | empty (first week) | full (ten years) | full/empty |", "|---|---|---|---|"]
    names = list(dict.fromkeys(k.split("|")[0] for k in full.values))
    for name in names:
        cells: list[tuple[str, str]] = []
        ratio = ""
        for kind, unit, show in (("seq", "ms", "p50 {} / p99 {}"), ("conc", "ms", "p99 {} at 4 clients"),
                                 ("cached", "ms", "p99 {} at 4 clients from the page cache"),
                                 ("rss", "MB", "{}"), ("bytes", "KB", "{}"), ("lines", "lines", "{}")):
            e, f = empty.values.get(f"{name}|{kind}"), full.values.get(f"{name}|{kind}")
            if not e or not f:
                continue
            if kind == "seq" and "every line" in name:  # one run: its time
                cells.append((_fmt(max(e), unit), _fmt(max(f), unit)))
            elif kind == "seq":
                ep50, fp50 = lib.percentile(e, 50), lib.percentile(f, 50)
                cells.append((show.format(_fmt(ep50, unit), _fmt(lib.percentile(e, 99), unit)),
                              show.format(_fmt(fp50, unit), _fmt(lib.percentile(f, 99), unit))))
                ratio = f"{fp50 / ep50:.2f}×"
            elif kind in ("conc", "cached"):  # each sample is one run's p99: the worst run
                cells.append((show.format(_fmt(max(e), unit)), show.format(_fmt(max(f), unit))))
            else:
                em, fm = max(e), max(f)
                cells.append((show.format(_fmt(em, unit)), show.format(_fmt(fm, unit))))
                if kind == "rss" and (not ratio or "every line" in name):  # memory, not time
                    ratio = f"{fm / em:.2f}× memory"
        rows.append(f"| {name} | {'; '.join(c[0] for c in cells)} | {'; '.join(c[1] for c in cells)} "
                    f"| {ratio} |")
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="1 = ten years of a busy house")
    parser.add_argument("--rounds", type=int, default=2, help="empty and full, alternately")
    parser.add_argument("--samples", type=int, default=40, help="sequential requests per page")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--seconds", type=int, default=5, help="of wrk per page and client count")
    parser.add_argument("--messages", type=int, default=10, help="requests and replies per round")
    parser.add_argument("--full-url", help="an already seeded ten-year database (kept)")
    parser.add_argument("--keep", action="store_true", help="keep the databases, print their URLs")
    args = parser.parse_args(argv)
    lib.exit_on_sigterm()
    info = lib.machine()
    print(f"history bench: scale {args.scale}, {args.rounds} rounds; {info}", flush=True)
    handles: list[lib.Database] = []
    with lib.workspace("history") as workdir:
        try:
            seeded: dict[str, Seeded] = {}
            for name, days in (("empty", FIRST_WEEK), ("full", FULL_DAYS)):
                if name == "full" and args.full_url:
                    seeded[name] = json.loads(Path(args.full_url).read_text(), object_hook=_revive)
                    print(f"  {name}: reusing {seeded[name].url}", flush=True)
                    continue
                handle = lib.database("postgres", workdir)
                handles.append(handle)
                seeded[name] = seed(handle.url, days, args.scale)
                s = seeded[name]
                print(f"  {name}: seeded {s.bookings} bookings, {s.inbound} inbound and {s.outbound} "
                      f"outbound mails in {s.seconds:.0f} s", flush=True)
                if args.keep and name == "full":
                    path = workdir.parent / f"history-full-{args.scale}.json"
                    path.write_text(json.dumps(_plain(s)))
                    handle._cleanup = None
                    print(f"  kept: --full-url {path}", flush=True)
            samples = {"empty": Samples(), "full": Samples()}
            for round_no in range(args.rounds):
                for name in ("empty", "full"):
                    began = time.perf_counter()
                    measure(seeded[name], workdir / f"{name}-{round_no}", samples[name], round_no,
                            args.samples, args.clients, args.messages, args.seconds)
                    print(f"  round {round_no + 1}, {name}: measured in "
                          f"{time.perf_counter() - began:.0f} s", flush=True)
                    left = _bookings(seeded[name].url)
                    if left < seeded[name].bookings:
                        raise RuntimeError(f"{name}: {seeded[name].bookings - left} bookings vanished "
                                           f"while measuring (a job ran?)")
            print()
            for line in table(samples["empty"], samples["full"]):
                print(line)
        finally:
            for handle in handles:
                handle.drop()
    return 0


def _bookings(url: str) -> int:
    import psycopg

    with psycopg.connect(url) as conn:
        return int(conn.execute("SELECT count(*) FROM bookings").fetchone()[0])  # type: ignore[index]


def _plain(s: Seeded) -> dict[str, Any]:
    return {**s.__dict__, "some_day": s.some_day.isoformat()}


def _revive(data: dict[str, Any]) -> Any:
    if "own_link" in data:
        return Seeded(**{**data, "some_day": date.fromisoformat(data["some_day"])})
    return data


if __name__ == "__main__":
    sys.exit(main())
