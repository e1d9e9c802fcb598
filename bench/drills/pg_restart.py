"""Drill: this machine's PostgreSQL goes away during load and comes back.

Requests arrive at a steady rate from MTA-like clients. After a few seconds the cluster is
stopped (`pg_ctlcluster 15 main stop -m fast`), kept down for OUTAGE seconds while a probe
session checks that SMTP answers 451 (try again later), then started again. The service is
never touched. Then:
- the SMTP edge answered 4xx while the database was away, never 250 and never 5xx;
- every message that got a 250 is stored once and processed once, and every request made
  exactly one booking; the outbox drained;
- the same service process is still running and a message sent after the outage is
  processed (it recovered by itself).

Only the local cluster is touched, and only for OUTAGE seconds.

    .venv/bin/python -m bench.drills.pg_restart --messages 1200 --rate 40 --outage 4
"""

from __future__ import annotations

import argparse
import asyncio
import random
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench import lib  # noqa: E402

CLUSTER = ("15", "main")


def stamp() -> str:
    return time.strftime("%H:%M:%S", time.gmtime()) + f".{int(time.time() * 1000) % 1000:03d}"


def pg(action: str) -> None:
    command = ["pg_ctlcluster", *CLUSTER, action]
    if action == "stop":
        command += ["-m", "fast"]
    subprocess.run(command, check=True, timeout=60, stdout=subprocess.DEVNULL)


def pg_ready(timeout: float = 60.0) -> bool:
    import psycopg

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with psycopg.connect(f"{lib.PG_SERVER}/postgres", connect_timeout=2) as conn:
                conn.execute("SELECT 1")
            return True
        except psycopg.Error:
            time.sleep(0.25)
    return False


async def probe(port: int, message: lib.Outgoing) -> lib.Reply:
    """One attempt, no retry: what a sending MTA is told right now."""
    session = lib.SmtpSession("127.0.0.1", port, timeout=15)
    try:
        await session.connect()
        return await session.send(message.mail_from, message.rcpts, message.data)
    except (OSError, ConnectionError, TimeoutError) as exc:
        return lib.Reply(0, f"connection: {exc}")
    finally:
        await session.close()


def outage(port: int, after: float, seconds: float, dry: bool, probes: list[tuple[float, str]],
           probe_messages: list[lib.Outgoing], rng: random.Random, log: list[str],
           first_slot: int) -> None:
    time.sleep(after)
    if dry:  # the load and every check but the outage itself (the smoke test)
        log.append("dry run: the database stays up")
        return
    log.append(f"database stopped at {stamp()}")
    pg("stop")
    try:
        ends = time.monotonic() + seconds
        n = 0
        while time.monotonic() < ends:
            message = lib.request_mail(900_000 + n, *lib.Slots(first=first_slot + n).next(), rng=rng)
            n += 1
            probe_messages.append(message)
            reply = asyncio.run(probe(port, message))
            probes.append((time.time(), str(reply)))
            time.sleep(0.3)
    finally:
        pg("start")
        log.append(f"database started at {stamp()}; answering: {pg_ready()} at {stamp()}")


def run(messages: int, rate: float, after: float, seconds: float, seed: int, timeout: float,
        keep: bool = False, dry: bool = False) -> int:
    checks = lib.Checks(f"PostgreSQL restart drill: {messages} requests at {rate}/s, "
                        f"database away for {seconds} s")
    rng = random.Random(seed)
    with lib.served("postgres", "pgrestart", keep=keep) as (service, db):
        pid = service.pid
        slots = lib.Slots()
        load = [lib.request_mail(n, *slots.next(), rng=rng) for n in range(messages)]
        probes: list[tuple[float, str]] = []
        probe_messages: list[lib.Outgoing] = []
        log: list[str] = []
        thread = threading.Thread(target=outage, args=(service.smtp_port, after, seconds, dry, probes,
                                                       probe_messages, rng, log, messages + 100),
                                  daemon=True)
        thread.start()
        deliveries = lib.send(service.smtp_port, load, concurrency=8, rate=rate,
                              policy=lib.RetryPolicy(max_attempts=300), time_limit=timeout)
        thread.join(120)
        for line in log:
            checks.note(line)
        answers = Counter(reply.split(" ", 1)[0] for _, reply in probes)
        checks.note(f"probe answers while the database was away: {dict(answers)}")
        checks.check(dry or bool(probes) and all(r.startswith("451") for _, r in probes),
                     "SMTP answered 451 to every probe while the database was away",
                     f"{[r for _, r in probes if not r.startswith('451')][:3]}")
        during = Counter(a.split(" ", 1)[0] for d in deliveries for a in d.answers[:-1])
        checks.note(f"answers the load clients got before their final one: {dict(during)}")
        checks.check(not any(code.startswith("5") for code in during),
                     "no load message was refused with 5xx on the way")

        # the probes' messages were told to try later: a real MTA does, so do we
        retried = lib.send(service.smtp_port, probe_messages, concurrency=4,
                           policy=lib.RetryPolicy(max_attempts=100), time_limit=timeout)
        everything = deliveries + retried
        accepted = [d for d in everything if d.accepted]
        checks.check(len(accepted) == len(everything), "every message was finally accepted",
                     f"{len(accepted)}/{len(everything)}: "
                     f"{Counter(str(d.final) for d in everything if not d.accepted).most_common(3)}")
        settled = db.settle(len(everything), timeout, outbox=True)
        checks.check(settled, "inbox and outbox settled",
                     f"inbox {dict(db.states('inbox_messages'))}, "
                     f"outbox {dict(db.states('outbox_messages'))}")
        inbox = db.inbox()
        ids = Counter(row.message_id for row in inbox)
        lost = [d for d in accepted if ids.get(d.outgoing.message_id, 0) != 1]
        checks.check(not lost, "every acknowledged message is stored exactly once", f"{len(lost)} not")
        states = Counter(row.state for row in inbox)
        checks.check(set(states) <= {"processed"}, "every message was processed", str(dict(states)))
        checks.check(not lib.duplicate_outcomes(db), "no message was handled twice")
        bookings = db.scalar("SELECT count(*) FROM bookings")
        checks.check(bookings == len(accepted), "exactly one booking per request",
                     f"{bookings} for {len(accepted)}")
        checks.check(service.alive() and service.pid == pid and service.starts == 1,
                     "the same service process ran throughout (it recovered by itself)")
        after_msg = lib.request_mail(990_000, *slots.next(), rng=rng)
        final = lib.send(service.smtp_port, [after_msg], policy=lib.RetryPolicy(max_attempts=3))
        checks.check(final[0].accepted and db.settle(len(everything) + 1, 30, outbox=False),
                     "a message sent after the outage was accepted and processed at once",
                     str(final[0].final))
        errors = [line for line in service.log_lines() if str(line.get("level", "")).lower() == "error"]
        checks.note(f"{len(errors)} error lines in the service log; first: "
                    f"{[e.get('message') for e in errors[:3]]}")
    return checks.exit_code()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=1200)
    parser.add_argument("--rate", type=float, default=40.0)
    parser.add_argument("--after", type=float, default=8.0, help="seconds of load before the stop")
    parser.add_argument("--outage", type=float, default=4.0, help="seconds the database is away")
    parser.add_argument("--timeout", type=float, default=600.0)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args(argv)
    lib.exit_on_sigterm()
    return run(args.messages, args.rate, args.after, args.outage, args.seed, args.timeout, args.keep)


if __name__ == "__main__":
    sys.exit(main())
