"""Drill: kill -9 of `mailbot serve` every few seconds during a burst.

Clients retry like a real MTA (4xx and lost connections are tried again, with back-off).
The kills go on until the inbox is worked through (or --max-kills), so they also land while
messages are being processed and mails are being written. Then the service runs undisturbed
until inbox and outbox are settled, and:
- every message that got a 250 is stored exactly once (its Message-ID once in the inbox),
  reached a final state, and was handled once (no recipient got the same kind of mail twice
  for one inbound message; one booking per request);
- every outbox row is sent within --outbox-wait seconds, and the Maildir holds exactly one
  file per sent row (the file is named by the idempotency key, so a second delivery would
  need a second key), and no two files carry the same Message-ID.

    .venv/bin/python -m bench.drills.kill9 --db postgres --messages 2000
"""

from __future__ import annotations

import argparse
import random
import sys
import threading
import time
from collections import Counter
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench import lib  # noqa: E402


def killer(service: lib.Service, stop: threading.Event, interval: float, max_kills: int,
           rng: random.Random, log: list[str]) -> None:
    """kill -9, start again at once; until `stop` or `max_kills`."""
    while not stop.is_set() and len(log) < max_kills:
        if stop.wait(interval * (0.5 + rng.random())):
            break
        service.kill9()
        log.append(f"{time.time():.3f}")
        for _ in range(5):
            try:
                service.start()
                break
            except RuntimeError:
                time.sleep(0.5)


def build(count: int, slots: lib.Slots, service: lib.Service, rng: random.Random
          ) -> list[lib.Outgoing]:
    """Mostly new requests (each writes four mails), with approver replies to the seed."""
    submitted = lib.read_sent(service, {"request_submitted"})
    rng.shuffle(submitted)
    out: list[lib.Outgoing] = []
    for n in range(count):
        if submitted and rng.random() < 0.3:
            out.append(lib.approver_reply(submitted.pop(), "JA", rng=rng))
        else:
            out.append(lib.request_mail(10_000 + n, *slots.next(), rng=rng))
    return out


def run(kind: str, messages: int, interval: float, max_kills: int, seed: int,
        timeout: float, concurrency: int = 16, keep: bool = False, outbox_wait: float = 120.0,
        wait_leases: bool = False, through_processing: bool = True, workers: int = 0) -> int:
    checks = lib.Checks(f"kill -9 drill on {kind}: {messages} messages, a kill every ~{interval} s"
                        + (f", serve and {workers} × mailbot work killed together" if workers else ""))
    rng = random.Random(seed)
    with lib.served(kind, f"kill9-{kind}", keep=keep, workers=workers) as (service, db):
        slots = lib.Slots()
        seeds = [lib.request_mail(n, *slots.next(), rng=rng) for n in range(max(messages // 10, 3))]
        lib.send(service.smtp_port, seeds, concurrency=concurrency)
        db.settle(len(seeds), timeout)
        mix = build(messages, slots, service, rng)
        kinds = Counter(m.kind for m in mix)
        checks.note(f"mix: {dict(kinds)} after {len(seeds)} seed requests")

        stop = threading.Event()
        kills: list[str] = []
        thread = threading.Thread(target=killer, args=(service, stop, interval, max_kills, rng, kills),
                                  daemon=True)
        started = time.time()
        thread.start()
        deliveries = lib.send(service.smtp_port, mix, concurrency=concurrency,
                              policy=lib.RetryPolicy(max_attempts=200), time_limit=timeout)
        if through_processing:  # go on killing while the inbox is being worked through
            ends = time.monotonic() + timeout
            while (thread.is_alive() and time.monotonic() < ends
                   and db.states("inbox_messages").get("received", 0) > 0):
                time.sleep(0.5)
        stop.set()
        thread.join(60)
        if not service.alive():
            service.start()
        checks.note(f"{len(kills)} kills in {time.time() - started:.1f} s; the service was started "
                    f"{service.starts} times; {sum(d.attempts - 1 for d in deliveries)} client retries")
        settled = db.settle(len(seeds) + messages, timeout, outbox=False)
        checks.check(settled, "the inbox settled after the last kill",
                     f"inbox {dict(db.states('inbox_messages'))}")
        last_kill = time.time()
        if wait_leases:
            lease_end = db.scalar("SELECT max(next_attempt_at) FROM outbox_messages WHERE state = 'sending'")
            if lease_end is not None:
                outbox_wait = max(outbox_wait, lib.utc(lease_end).timestamp() - time.time() + 30)
        drained = db.settle(len(seeds) + messages, outbox_wait, outbox=True)
        stranded = db.rows("SELECT count(*), min(next_attempt_at), max(next_attempt_at) "
                           "FROM outbox_messages WHERE state = 'sending'")[0]
        checks.check(drained, f"the outbox drained within {outbox_wait:.0f} s after the last kill",
                     f"outbox {dict(db.states('outbox_messages'))}"
                     + (f"; {stranded[0]} rows claimed by a killed process wait for their lease "
                        f"to end ({lib.utc(stranded[1]):%H:%M:%S}–{lib.utc(stranded[2]):%H:%M:%S} "
                        f"UTC, now {time.strftime('%H:%M:%S', time.gmtime(last_kill))})"
                        if stranded[0] else ""))
        failures = verify(checks, db, service, deliveries, len(seeds))
        if failures and keep:
            print(f"   work directory kept: {service.workdir}")
    return checks.exit_code()


def verify(checks: lib.Checks, db: lib.Db, service: lib.Service, deliveries: list[lib.Delivery],
           seeds: int) -> int:
    accepted = [d for d in deliveries if d.accepted]
    checks.check(len(accepted) == len(deliveries), "every message was finally accepted (250)",
                 f"{len(accepted)}/{len(deliveries)}; not: "
                 f"{Counter(str(d.final) for d in deliveries if not d.accepted).most_common(3)}")
    inbox = db.inbox()
    by_message_id = Counter(row.message_id for row in inbox)
    doubles = [m for m, n in by_message_id.items() if n > 1]
    checks.check(not doubles, "no Message-ID stored twice", f"{len(doubles)} stored twice")
    stored = set(by_message_id)
    lost = [d.outgoing.message_id for d in accepted if d.outgoing.message_id not in stored]
    checks.check(not lost, "every acknowledged message is in the inbox", f"{len(lost)} missing")
    by_correlation = {row.correlation_id: row for row in inbox}
    unknown = [d for d in accepted if d.queued_as not in by_correlation]
    checks.check(not unknown, "every 250's queue id names an inbox row", f"{len(unknown)} do not")
    states = Counter(row.state for row in inbox)
    checks.check(states.get("received", 0) == 0 and states.get("failed", 0) == 0,
                 "every stored message reached a final state without failing", str(dict(states)))
    reprocessed = [row.id for row in inbox if (row.attempts or 0) > 1]
    checks.note(f"{len(reprocessed)} messages needed more than one counted attempt (an attempt "
                f"cut off by a kill commits nothing, not even its count, and is simply run again)")
    twice = lib.duplicate_outcomes(db)
    checks.check(not twice, "no inbound message was handled twice (same recipient and kind)",
                 f"{len(twice)} doubles, e.g. {twice[:3]}")
    requests = sum(1 for d in accepted if d.outgoing.kind == "request") + seeds
    bookings = db.scalar("SELECT count(*) FROM bookings")
    checks.check(bookings == requests, "exactly one booking per request", f"{bookings} for {requests}")

    outbox = db.outbox()
    out_states = Counter(row.state for row in outbox)
    checks.check(not out_states.get("failed"), "no outbox row failed", str(dict(out_states)))
    files = service.sent_files()
    names = Counter(path.name for path in files)
    keys = {row.idempotency_key for row in outbox if row.state == "sent"}
    # a row still "sending" (its claimer was killed) may already have its file: not a second one
    maybe = {row.idempotency_key for row in outbox if row.state == "sending"}
    names = Counter(name for name in names if name not in maybe)
    files = [path for path in files if path.name not in maybe]
    checks.check(set(names) == keys and len(files) == len(keys),
                 "the Maildir holds exactly one file per sent row",
                 f"{len(files)} files, {len(keys)} sent rows, {len(set(names) - keys)} unknown files, "
                 f"{len(keys - set(names))} rows without a file")
    message_ids = Counter(mail.message_id for mail in lib.read_sent(service))
    doubled = [m for m, n in message_ids.items() if n > 1]
    checks.check(not doubled, "no Message-ID was delivered twice", f"{len(doubled)} twice")
    leftovers = list((service.maildir / "tmp").iterdir()) if (service.maildir / "tmp").is_dir() else []
    checks.note(f"{len(leftovers)} half-written files in Maildir tmp/ (killed mid-write; never delivered)")
    return len(checks.failed)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", default="postgres", choices=("sqlite", "postgres"))
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--interval", type=float, default=3.0, help="seconds between kills (±50%%)")
    parser.add_argument("--max-kills", type=int, default=60)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--timeout", type=float, default=900.0)
    parser.add_argument("--seed", type=int, default=9)
    parser.add_argument("--outbox-wait", type=float, default=120.0,
                        help="seconds the outbox may take to drain after the last kill")
    parser.add_argument("--wait-leases", action="store_true",
                        help="also wait for the leases of rows a killed process had claimed")
    parser.add_argument("--only-while-sending", action="store_true",
                        help="stop killing once every message is acknowledged (default: go on "
                             "until the inbox is processed)")
    parser.add_argument("--workers", type=int, default=0,
                        help="extra `mailbot work` processes, killed with serve (PostgreSQL)")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args(argv)
    lib.exit_on_sigterm()
    return run(args.db, args.messages, args.interval, args.max_kills, args.seed, args.timeout,
               args.concurrency, args.keep, args.outbox_wait, args.wait_leases,
               not args.only_while_sending, args.workers)


if __name__ == "__main__":
    sys.exit(main())
