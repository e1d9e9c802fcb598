"""The shared harness of the benchmarks and drills.

- `Service` runs `mailbot serve` as a child process on free loopback ports, with a temporary
  SQLite file or a fresh PostgreSQL database (`database()`), and can kill -9 and restart it.
- `deliver_all` is an SMTP load generator on asyncio: N sessions, each reused for many
  messages, that retry 4xx answers and lost connections like a real MTA (with a compressed
  back-off) and remember when each 250 came and what it said ("queued as <correlation id>").
- `Slots` and the message builders make the realistic mix: new requests for distinct dates,
  approver replies to the mails the service really sent (read from its Maildir), status
  questions from requesters.
- `Db` reads the inbox and outbox tables and waits until both have settled.

Everything talks to 127.0.0.1 only, and every loop is bounded in count and time.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import heapq
import itertools
import json
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid, parseaddr
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = ROOT / ".venv" / "bin"
RULES = ROOT / "bench" / "house.toml"
PG_SERVER = os.environ.get("MAILBOT_BENCH_PG", "postgresql://postgres@127.0.0.1:5432")
MAIL_DOMAIN = "haus-betzenstein.de"
BOOKING_ADDRESS = f"buchung@{MAIL_DOMAIN}"
APPROVERS = (("Ingeborg", "ingeborg@example.org"), ("Cornelia", "cornelia@example.org"),
             ("Angelika", "angelika@example.org"))
SENDER_DOMAIN = "gaeste.example"


# ---------------------------------------------------------------- ports, processes, machine

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def smtp_answers(port: int, timeout: float = 1.0) -> bool:
    """A 220 greeting on the port (a listening socket alone is not enough)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
            sock.settimeout(timeout)
            return sock.recv(64).startswith(b"220")
    except OSError:
        return False


def machine() -> dict[str, str]:
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = "?"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem = f"{int(line.split()[1]) // 1024} MiB"
    except OSError:
        pass
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return {"nproc": str(os.cpu_count()), "cpu": model, "memory": mem, "loadavg_at_start": load,
            "python": sys.version.split()[0],
            "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")}


def exit_on_sigterm() -> None:
    """SIGTERM (e.g. from `timeout`) unwinds like Ctrl-C, so the service and the database
    are cleaned up."""
    def _raise(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, _raise)


def rss_kib(pid: int) -> int:
    """Resident memory of a process (0 when it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def postgres_cpu_seconds() -> float:
    """CPU time used so far by this machine's PostgreSQL server processes (all of them:
    the backends come and go, so take the difference of two readings over a quiet run)."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            name = stat.read_text().split("(", 1)[1].split(")", 1)[0]
        except (OSError, IndexError):
            continue
        if name.startswith("postgres"):
            total += cpu_seconds(int(stat.parent.name))
    return total


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


# ---------------------------------------------------------------- databases

@dataclass
class Database:
    url: str
    kind: str  # sqlite | postgres
    _cleanup: Any = None

    def drop(self) -> None:
        if self._cleanup is not None:
            self._cleanup()
            self._cleanup = None


def database(kind: str, workdir: Path) -> Database:
    """A fresh database: a SQLite file in `workdir`, or a new database on this machine's
    PostgreSQL (dropped by `Database.drop`). `mailbot serve` migrates it on start."""
    if kind == "sqlite":
        return Database(f"sqlite:///{workdir / 'mailbot.sqlite3'}", "sqlite")
    if kind != "postgres":
        raise ValueError(f"unknown database kind {kind!r}")
    import psycopg

    name = f"mailbot_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        for _ in range(30):  # the server may still be restarting after a drill
            try:
                with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True,
                                     connect_timeout=5) as conn:
                    conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                return
            except psycopg.OperationalError:
                time.sleep(1)

    return Database(f"{PG_SERVER}/{name}", "postgres", drop)


class Db:
    """Read-only views of the inbox and outbox tables, through the project's own Store."""

    def __init__(self, url: str) -> None:
        from mailbot.store.db import Store

        self.store = Store(url, pool_size=2)

    def rows(self, sql: str, **params: Any) -> list[Any]:
        from sqlalchemy import text

        from mailbot.store import DatabaseUnavailable

        for attempt in range(60):  # ride out a database restart
            try:
                with self.store.reading() as session:
                    return list(session.execute(text(sql), params))
            except DatabaseUnavailable:
                if attempt == 59:
                    raise
                time.sleep(1)
        raise AssertionError("unreachable")

    def scalar(self, sql: str, **params: Any) -> Any:
        rows = self.rows(sql, **params)
        return rows[0][0] if rows else None

    def states(self, table: str) -> Counter[str]:
        return Counter({state: n for state, n in
                        self.rows(f"SELECT state, count(*) FROM {table} GROUP BY state")})

    def inbox(self) -> list[Any]:
        return self.rows("SELECT id, message_id, correlation_id, source, state, reason, "
                         "received_at, processed_at, attempts, booking_id, size "
                         "FROM inbox_messages ORDER BY id")

    def outbox(self) -> list[Any]:
        return self.rows("SELECT id, idempotency_key, message_id, kind, to_address, state, "
                         "attempts, inbox_id, booking_id, created_at, sent_at, last_error, "
                         "provider_id FROM outbox_messages ORDER BY id")

    def settle(self, expected_inbox: int, timeout: float, outbox: bool = True,
               progress: bool = False) -> bool:
        """Wait until at least `expected_inbox` messages are stored and none is waiting to be
        processed (and, with `outbox`, nothing is waiting to be sent)."""
        deadline = time.monotonic() + timeout
        last = ""
        while time.monotonic() < deadline:
            inbox = self.states("inbox_messages")
            waiting = inbox.get("received", 0)
            sending = 0
            if outbox:
                box = self.states("outbox_messages")
                sending = sum(box.get(s, 0) for s in ("queued", "sending", "retrying"))
            status = f"inbox {dict(inbox)} outbox-waiting {sending}"
            if progress and status != last:
                print("   ", status, flush=True)
                last = status
            if sum(inbox.values()) >= expected_inbox and waiting == 0 and sending == 0:
                return True
            time.sleep(0.2)
        return False

    def close(self) -> None:
        self.store.dispose()


def as_utc(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utc(value: Any) -> datetime:
    """`as_utc` for a value that is known to be there."""
    found = as_utc(value)
    if found is None:
        raise ValueError("no timestamp")
    return found


# ---------------------------------------------------------------- the service

class Service:
    """`mailbot serve` as a child process, on free loopback ports, logging to a file."""

    def __init__(self, workdir: Path, database_url: str, transport: str = "maildir",
                 env: dict[str, str] | None = None, rules: Path = RULES, workers: int = 0) -> None:
        self.workdir = workdir
        self.workers = workers  # extra `mailbot work` processes (PostgreSQL)
        self.worker_processes: list[subprocess.Popen[bytes]] = []
        self.maildir = workdir / "outbox"
        self.smtp_port = free_port()
        self.web_port = free_port()
        self.log_path = workdir / "serve.log"
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "MAIL"))},
            "DATABASE_URL": database_url,
            "SMTP_LISTEN": f"127.0.0.1:{self.smtp_port}",
            "WEB_LISTEN": f"127.0.0.1:{self.web_port}",
            "BASE_URL": f"http://127.0.0.1:{self.web_port}",
            "MAIL_DOMAIN": MAIL_DOMAIN,
            "BOOKING_ADDRESS": BOOKING_ADDRESS,
            "MAIL_TRANSPORT": transport,
            "MAILDIR": str(self.maildir),
            "RULES_FILE": str(rules),
            "SECRET_KEY": "bench-" + uuid.uuid4().hex,
            "ADMIN_TOKEN": "bench-admin-" + uuid.uuid4().hex,
            **(env or {}),
        }
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self, timeout: float = 60.0) -> None:
        log = self.log_path.open("ab")
        log.write(f"--- start {self.starts + 1} at {datetime.now(UTC).isoformat()}\n".encode())
        log.flush()
        self.process = subprocess.Popen([str(VENV_BIN / "mailbot"), "serve"], cwd=self.workdir,
                                        env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL)
        log.close()
        self.starts += 1
        deadline = time.monotonic() + timeout
        while not smtp_answers(self.smtp_port):
            if self.process.poll() is not None:
                raise RuntimeError(f"mailbot serve exited with {self.process.returncode}; "
                                   f"see {self.log_path}:\n{self.tail()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"mailbot serve did not answer SMTP within {timeout} s; "
                                   f"see {self.log_path}:\n{self.tail()}")
            time.sleep(0.05)
        while len(self.worker_processes) < self.workers:
            with self.log_path.open("ab") as log:
                self.worker_processes.append(subprocess.Popen(
                    [str(VENV_BIN / "mailbot"), "work"], cwd=self.workdir, env=self.env,
                    stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL))

    def pids(self) -> list[int]:
        """serve and its extra workers."""
        return [self.pid, *(p.pid for p in self.worker_processes if p.poll() is None)]

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill9(self) -> None:
        """kill -9 of serve and of its extra workers; `start` brings them all back."""
        for worker in self.worker_processes:
            worker.kill()
            worker.wait(10)
        self.worker_processes = []
        if self.alive():
            assert self.process is not None
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def stop(self, timeout: float = 20.0) -> None:
        for worker in self.worker_processes:
            worker.terminate()
        for worker in self.worker_processes:
            try:
                worker.wait(timeout)
            except subprocess.TimeoutExpired:
                worker.kill()
        self.worker_processes = []
        if not self.alive():
            return
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill9()

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def log_lines(self) -> list[dict[str, Any]]:
        """The JSON lines of the service log (other lines are skipped)."""
        found = []
        try:
            for line in self.log_path.read_text(errors="replace").splitlines():
                if line.startswith("{"):
                    with suppress(ValueError):
                        found.append(json.loads(line))
        except OSError:
            pass
        return found

    def sent_files(self) -> list[Path]:
        new = self.maildir / "new"
        return sorted(new.iterdir()) if new.is_dir() else []

    def __enter__(self) -> Service:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


@contextmanager
def workspace(prefix: str, keep: bool = False) -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix=f"mailbot-{prefix}-"))
    try:
        yield path
    finally:
        if not keep:
            shutil.rmtree(path, ignore_errors=True)


@contextmanager
def served(kind: str, prefix: str, transport: str = "maildir", env: dict[str, str] | None = None,
           keep: bool = False, workers: int = 0) -> Iterator[tuple[Service, Db]]:
    """A running service on a fresh database, and a reader of that database."""
    with workspace(prefix, keep) as workdir:
        db_handle = database(kind, workdir)
        service = Service(workdir, db_handle.url, transport, env, workers=workers)
        db: Db | None = None
        try:
            service.start()
            db = Db(db_handle.url)
            yield service, db
        finally:
            service.stop()
            if db is not None:
                db.close()
            db_handle.drop()
            if keep:
                print(f"   kept {workdir}")


# ---------------------------------------------------------------- SMTP client

@dataclass(frozen=True)
class Reply:
    code: int
    text: str

    def __str__(self) -> str:
        return f"{self.code} {self.text}"


_QUEUED_AS = re.compile(r"queued as (\S+)")


def wire(data: bytes) -> bytes:
    """CRLF line ends, dot-stuffing and the final dot: the DATA phase as it goes on the wire."""
    data = re.sub(rb"\r?\n", b"\r\n", data)
    if not data.endswith(b"\r\n"):
        data += b"\r\n"
    return re.sub(rb"(?m)^\.", b"..", data) + b".\r\n"


class SmtpSession:
    """A minimal SMTP client on asyncio streams: one session, many messages."""

    def __init__(self, host: str, port: int, timeout: float = 30.0) -> None:
        self.host, self.port, self.timeout = host, port, timeout
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def connect(self) -> None:
        self.reader, self.writer = await asyncio.wait_for(
            asyncio.open_connection(self.host, self.port, limit=1 << 20), self.timeout)
        greeting = await self._reply()
        if greeting.code != 220:
            raise ConnectionError(f"greeting {greeting}")
        reply = await self.command(b"EHLO load.bench.example")
        if reply.code != 250:
            raise ConnectionError(f"EHLO {reply}")

    async def _reply(self) -> Reply:
        assert self.reader is not None
        lines: list[str] = []
        while True:
            line = await asyncio.wait_for(self.reader.readline(), self.timeout)
            if not line:
                raise ConnectionError("connection closed by the server")
            text = line.decode("utf-8", "replace").rstrip("\r\n")
            lines.append(text[4:])
            if len(text) < 4 or text[3] != "-":
                return Reply(int(text[:3]), " ".join(lines))

    async def command(self, line: bytes) -> Reply:
        assert self.writer is not None
        self.writer.write(line + b"\r\n")
        await self.writer.drain()
        return await self._reply()

    async def send(self, mail_from: str, rcpts: Sequence[str], data: bytes) -> Reply:
        """One transaction; returns the answer that decides its fate."""
        reply = await self.command(f"MAIL FROM:<{mail_from}>".encode())
        if reply.code != 250:
            await self.command(b"RSET")
            return reply
        accepted = 0
        last = reply
        for rcpt in rcpts:
            last = await self.command(f"RCPT TO:<{rcpt}>".encode())
            if last.code in (250, 251):
                accepted += 1
            elif last.code == 452:  # too many recipients: deliver to those accepted
                break
        if accepted == 0:
            await self.command(b"RSET")
            return last
        reply = await self.command(b"DATA")
        if reply.code != 354:
            await self.command(b"RSET")
            return reply
        assert self.writer is not None
        self.writer.write(wire(data))
        await self.writer.drain()
        return await self._reply()

    async def close(self) -> None:
        if self.writer is None:
            return
        try:
            if not self.writer.is_closing():
                self.writer.write(b"QUIT\r\n")
                await asyncio.wait_for(self.writer.drain(), 1)
            self.writer.close()
            await asyncio.wait_for(self.writer.wait_closed(), 1)
        except (OSError, TimeoutError, ConnectionError):
            pass
        self.reader = self.writer = None


@dataclass
class Outgoing:
    """One message to submit: envelope, bytes, and what kind of traffic it is."""

    mail_from: str
    rcpts: list[str]
    data: bytes
    message_id: str | None
    kind: str
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass
class Delivery:
    outgoing: Outgoing
    attempts: int = 0
    answers: list[str] = field(default_factory=list)
    first_try_at: float | None = None
    accepted_at: float | None = None  # time.time() when the 250 arrived
    final: Reply | None = None

    @property
    def accepted(self) -> bool:
        return self.final is not None and self.final.code == 250

    @property
    def queued_as(self) -> str | None:
        if not self.accepted:
            return None
        assert self.final is not None
        found = _QUEUED_AS.search(self.final.text)
        return found.group(1) if found else None


@dataclass(frozen=True)
class RetryPolicy:
    """How a sending MTA treats 4xx answers and lost connections, with minutes made seconds."""

    delays: tuple[float, ...] = (0.1, 0.25, 0.5, 1.0, 2.0)
    max_attempts: int = 60
    session_timeout: float = 30.0

    def delay(self, attempt: int) -> float:
        base = self.delays[min(attempt - 1, len(self.delays) - 1)]
        return base * (0.75 + random.random() / 2)


async def deliver_all(port: int, messages: Sequence[Outgoing], concurrency: int = 16,
                      rate: float | None = None, policy: RetryPolicy = RetryPolicy(),
                      time_limit: float = 600.0, host: str = "127.0.0.1") -> list[Delivery]:
    """Submit every message with `concurrency` reused sessions; with `rate`, open-loop at
    that many messages per second. A message ends accepted (250), refused (5xx) or given up
    (attempts or `time_limit` used up)."""
    deliveries = [Delivery(m) for m in messages]
    start = time.monotonic()
    deadline = start + time_limit
    due: list[tuple[float, int, int]] = []  # (due time, sequence, index)
    sequence = itertools.count()
    for index in range(len(deliveries)):
        at = start + (index / rate if rate else 0.0)
        heapq.heappush(due, (at, next(sequence), index))
    pending = len(deliveries)
    wake = asyncio.Event()

    def finish(delivery: Delivery, reply: Reply) -> None:
        nonlocal pending
        delivery.final = reply
        if reply.code == 250:
            delivery.accepted_at = time.time()
        pending -= 1
        wake.set()

    def again(delivery: Delivery, index: int, reason: str) -> None:
        if delivery.attempts >= policy.max_attempts or time.monotonic() > deadline:
            finish(delivery, Reply(0, f"given up after {delivery.attempts} attempts: {reason}"))
            return
        heapq.heappush(due, (time.monotonic() + policy.delay(delivery.attempts),
                             next(sequence), index))
        wake.set()

    async def worker() -> None:
        session: SmtpSession | None = None
        try:
            while pending > 0 and time.monotonic() < deadline + policy.session_timeout:
                if not due or due[0][0] > time.monotonic():
                    wait = 0.05 if not due else min(0.05, due[0][0] - time.monotonic())
                    wake.clear()
                    with suppress(TimeoutError):
                        await asyncio.wait_for(wake.wait(), max(wait, 0.001))
                    continue
                _, _, index = heapq.heappop(due)
                delivery = deliveries[index]
                delivery.attempts += 1
                if delivery.first_try_at is None:
                    delivery.first_try_at = time.time()
                out = delivery.outgoing
                try:
                    if session is None:
                        session = SmtpSession(host, port, policy.session_timeout)
                        await session.connect()
                    reply = await session.send(out.mail_from, out.rcpts, out.data)
                except (OSError, ConnectionError, TimeoutError, ValueError) as exc:
                    delivery.answers.append(f"connection: {type(exc).__name__}: {exc}"[:200])
                    if session is not None:
                        await session.close()
                    session = None
                    again(delivery, index, "connection lost")
                    continue
                delivery.answers.append(str(reply)[:200])
                if reply.code == 250 or reply.code >= 500:
                    finish(delivery, reply)
                else:
                    if reply.code == 421:
                        await session.close()
                        session = None
                    again(delivery, index, str(reply))
        finally:
            if session is not None:
                await session.close()

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    for delivery in deliveries:  # the time limit ran out with these still waiting
        if delivery.final is None:
            delivery.final = Reply(0, "time limit")
    return deliveries


def send(port: int, messages: Sequence[Outgoing], **kwargs: Any) -> list[Delivery]:
    return asyncio.run(deliver_all(port, messages, **kwargs))


# ---------------------------------------------------------------- the realistic mix

FIRST_NAMES = ("Anna", "Bernd", "Carla", "Dieter", "Elke", "Frank", "Gabi", "Heiko", "Iris",
               "Jörg", "Karin", "Lutz", "Maren", "Nils", "Olga", "Paul", "Rita", "Sven",
               "Tanja", "Uwe", "Vera", "Willi", "Yvonne", "Zoë", "Jürgen", "Bärbel")
SIGN_OFFS = ("Viele Grüße", "LG", "Liebe Grüße", "Danke und viele Grüße", "Bis bald")


class Slots:
    """Distinct, non-overlapping stays far enough ahead: slot i starts 60 + 4·i days from
    today and lasts 2–3 days, so no two requests ever conflict."""

    def __init__(self, today: date | None = None, first: int = 0) -> None:
        self.today = today or datetime.now(UTC).date()
        self.counter = itertools.count(first)

    def next(self) -> tuple[date, date]:
        i = next(self.counter)
        start = self.today + timedelta(days=60 + 4 * i)
        return start, start + timedelta(days=1 + i % 2)


def ascii_name(name: str) -> str:
    for umlaut, plain in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss"), ("ë", "e")):
        name = name.lower().replace(umlaut, plain)
    return name


def _berlin_now() -> str:
    return format_datetime(datetime.now(UTC))


def _mail(from_name: str, from_address: str, to: str, subject: str, text: str,
          html: str | None = None, in_reply_to: str | None = None, mailer: str | None = None
          ) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = formataddr((from_name, from_address))
    mail["To"] = to
    mail["Subject"] = subject
    mail["Date"] = _berlin_now()
    mail["Message-ID"] = make_msgid(idstring=uuid.uuid4().hex[:12], domain=from_address.split("@")[1])
    if in_reply_to:
        mail["In-Reply-To"] = in_reply_to
        mail["References"] = in_reply_to
    if mailer:
        mail["X-Mailer"] = mailer
    mail["MIME-Version"] = "1.0"
    mail.set_content(text, cte="quoted-printable")
    if html is not None:
        mail.add_alternative(html, subtype="html", cte="quoted-printable")
    return mail


def _outgoing(mail: EmailMessage, kind: str, **meta: Any) -> Outgoing:
    sender = parseaddr(str(mail["From"]))[1]
    rcpt = parseaddr(str(mail["To"]))[1]
    return Outgoing(sender, [rcpt], mail.as_bytes(policy=email.policy.SMTP),
                    str(mail["Message-ID"]), kind, meta)


def request_mail(n: int, start: date, end: date, rng: random.Random | None = None) -> Outgoing:
    """A new, complete booking request from a distinct sender (Gmail-like MIME)."""
    rng = rng or random.Random(n)
    name = FIRST_NAMES[n % len(FIRST_NAMES)]
    address = f"{ascii_name(name)}.{n}@{SENDER_DOMAIN}"
    party = rng.randint(1, 8)
    openings = (
        f"wir würden gerne vom {start:%d.%m.%Y} bis {end:%d.%m.%Y} ins Haus kommen. "
        f"Wir sind {party} Personen.",
        f"ich möchte das Haus vom {start:%d.%m.%Y} bis zum {end:%d.%m.%Y} für {party} Personen buchen.",
        f"geht das Haus vom {start:%d.%m.%Y} bis {end:%d.%m.%Y}? Wir wären {party} Personen.",
    )
    body = f"Hallo zusammen,\n\n{rng.choice(openings)}\n\n{rng.choice(SIGN_OFFS)}\n{name}\n"
    html = "<html><body>" + "".join(f"<div>{line or '<br>'}</div>" for line in body.splitlines()) + \
        "</body></html>"
    subject = rng.choice(("Buchungsanfrage", "Anfrage Haus", f"Haus im {start:%B}", "Wochenende im Haus"))
    mail = _mail(name, address, BOOKING_ADDRESS, subject, body, html, mailer=None)
    return _outgoing(mail, "request", start=start.isoformat(), end=end.isoformat(), party=party,
                     name=name)


@dataclass(frozen=True)
class SentMail:
    """A mail the service really sent, as read from its Maildir."""

    path: Path
    kind: str
    to: str
    reply_to: str
    message_id: str
    subject: str
    correlation: str


def read_sent(source: Service | Path, kinds: Iterable[str] | None = None) -> list[SentMail]:
    """The mails a service (or a Maildir) holds, of the given kinds."""
    wanted = set(kinds) if kinds else None
    found = []
    files = source.sent_files() if isinstance(source, Service) else sorted((source / "new").iterdir())
    for path in files:
        with path.open("rb") as handle:
            headers = email.message_from_binary_file(handle, policy=email.policy.default)
        kind = str(headers.get("X-Mailbot-Kind", ""))
        if wanted is not None and kind not in wanted:
            continue
        found.append(SentMail(path, kind, parseaddr(str(headers["To"]))[1].lower(),
                              parseaddr(str(headers.get("Reply-To", "")))[1],
                              str(headers["Message-ID"]), str(headers["Subject"]),
                              str(headers.get("X-Mailbot-Correlation", ""))))
    return found


def approver_reply(mail: SentMail, verdict: str = "JA", reason: str = "",
                   rng: random.Random | None = None, from_address: str | None = None) -> Outgoing:
    """An approver answers a `request_submitted` mail from their mail program, quoting it."""
    rng = rng or random.Random()
    name = next((n for n, a in APPROVERS if a == mail.to), "Ingeborg")
    top = verdict if not reason else f"{verdict}, {reason}"
    if verdict == "JA":
        top = rng.choice(("JA", "Ja, passt!", "JA\n\nGruß", "ja"))
    quoted = (f"\n\nAm {datetime.now(UTC):%d.%m.%Y} um 10:12 schrieb Haus Betzenstein "
              f"<{BOOKING_ADDRESS}>:\n> Hallo {name},\n> {mail.subject}\n> Antworte mit JA oder NEIN.\n")
    body = f"{top}\n\n{name}{quoted}"
    out = _mail(name, from_address or mail.to, mail.reply_to, f"AW: {mail.subject}", body,
                in_reply_to=mail.message_id, mailer="Microsoft Outlook 16.0")
    return _outgoing(out, "approve" if verdict == "JA" else "deny", answered=mail.message_id,
                     approver=name)


def status_mail(mail: SentMail, rng: random.Random | None = None) -> Outgoing:
    """A requester asks in the thread of their acknowledgement how things stand."""
    rng = rng or random.Random()
    question = rng.choice(("wie ist der Stand meiner Anfrage?", "gibt es schon eine Entscheidung?",
                           "haben schon alle zugestimmt?"))
    name = mail.to.split(".")[0].capitalize()
    body = f"Hallo,\n\n{question}\n\nDanke\n{name}\n\n> {mail.subject}\n"
    out = _mail(name, mail.to, mail.reply_to, f"Re: {mail.subject}", body,
                in_reply_to=mail.message_id)
    return _outgoing(out, "status", answered=mail.message_id)


# ---------------------------------------------------------------- figures

def percentile(values: Sequence[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def latency_summary(values_ms: Sequence[float]) -> dict[str, float]:
    if not values_ms:
        return {"n": 0}
    return {"n": len(values_ms), "p50_ms": round(percentile(values_ms, 50), 1),
            "p90_ms": round(percentile(values_ms, 90), 1),
            "p99_ms": round(percentile(values_ms, 99), 1),
            "max_ms": round(max(values_ms), 1), "mean_ms": round(statistics.fmean(values_ms), 1)}


class Checks:
    """What a drill checked: each line printed, any failure makes the exit code non-zero."""

    def __init__(self, title: str) -> None:
        self.title = title
        self.failed: list[str] = []
        print(f"== {title}", flush=True)

    def check(self, ok: bool, what: str, detail: str = "") -> bool:
        mark = "ok  " if ok else "FAIL"
        print(f"  [{mark}] {what}" + (f" — {detail}" if detail else ""), flush=True)
        if not ok:
            self.failed.append(what)
        return ok

    def note(self, what: str) -> None:
        print(f"  [info] {what}", flush=True)

    def exit_code(self) -> int:
        if self.failed:
            print(f"== {self.title}: {len(self.failed)} check(s) FAILED", flush=True)
            return 1
        print(f"== {self.title}: all checks passed", flush=True)
        return 0


def inbox_by_correlation(db: Db) -> dict[str, Any]:
    return {row.correlation_id: row for row in db.inbox()}


def duplicate_outcomes(db: Db) -> list[tuple[Any, ...]]:
    """(inbox id, recipient, kind) that were queued more than once: one message processed
    twice would show here."""
    return [tuple(r) for r in db.rows(
        "SELECT inbox_id, to_address, kind, count(*) FROM outbox_messages "
        "WHERE inbox_id IS NOT NULL GROUP BY inbox_id, to_address, kind HAVING count(*) > 1")]


def dump_json(path: Path | None, data: dict[str, Any]) -> None:
    text = json.dumps(data, indent=2, default=str, ensure_ascii=False)
    if path is not None:
        path.write_text(text + "\n")
