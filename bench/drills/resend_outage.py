"""Drill: the Resend API misbehaves for a minute, then recovers.

`mailbot serve` sends through its Resend transport (the real SDK) to the Resend-compatible
server of tests/support/resend_server.py, started here on loopback. While requests arrive
over SMTP, the server answers 500 for the first third of OUTAGE, 429 with Retry-After for the
second, and for the last third accepts each mail but answers only after the client's
timeout. Then it is healthy again. Mail that used up its retries during the outage stays
`failed`, visible in the mail log, until the admin's resend puts it back in the queue — the
drill does exactly that, as an operator would. Then:
- every outbox row is delivered exactly once: one stored delivery per idempotency key, and
  each row's provider id is that delivery's id (a timed-out send that did arrive is not
  delivered again);
- the retries followed BR-022: 2 s, 4 s, 8 s after a failure (longer when Retry-After says
  so), at most three retries before `failed`;
- every failure is in the service log with its correlation id and outbox id, and the failed
  rows were listed by `mailbot log --json`.

    .venv/bin/python -m bench.drills.resend_outage --outage 60 --rate 2
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from datetime import datetime
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench import lib  # noqa: E402
from tests.support.resend_server import ResendServer  # noqa: E402

DELAYS = (2.0, 4.0, 8.0)  # BR-022, rules/house.toml outbox_retry_delays
CLIENT_TIMEOUT = 10.0  # mailbot.outbound.worker.TIMEOUT


def faults(server: ResendServer, outage: float, log: list[str]) -> None:
    third = outage / 3
    server.fail_for(third, status=500)
    log.append(f"{lib_now()} 500 for {third:.0f} s")
    time.sleep(third)
    server.fail_for(third, status=429, retry_after=3)
    log.append(f"{lib_now()} 429 (Retry-After: 3) for {third:.0f} s")
    time.sleep(third)
    server.hang_for(third, CLIENT_TIMEOUT + 2)
    log.append(f"{lib_now()} accepted but answered after {CLIENT_TIMEOUT + 2:.0f} s, for {third:.0f} s")
    time.sleep(third)
    server.heal()
    log.append(f"{lib_now()} healthy")


def lib_now() -> str:
    return time.strftime("%H:%M:%S", time.gmtime())


def attempts_by_row(lines: list[dict[str, Any]]) -> dict[int, list[tuple[float, int, str]]]:
    """(time, attempt, outcome) per outbox id, from the service's JSON log."""
    found: dict[int, list[tuple[float, int, str]]] = defaultdict(list)
    for line in lines:
        if line.get("logger") != "mailbot.outbound" or "outbox_id" not in line or "attempt" not in line:
            continue
        at = datetime.fromisoformat(line["time"]).timestamp()
        outcome = str(line.get("outbox_state", "sent"))
        found[int(line["outbox_id"])].append((at, int(line["attempt"]), outcome))
    return found


def check_backoff(checks: lib.Checks, history: dict[int, list[tuple[float, int, str]]]) -> None:
    """Between a failed attempt being logged and the next one being logged lies at least the
    BR-022 delay for that attempt (the next attempt may itself take up to the timeout)."""
    too_soon: list[tuple[int, int, float]] = []
    too_many: list[int] = []
    gaps: dict[int, list[float]] = defaultdict(list)
    for outbox_id, events in history.items():
        events.sort()
        for (t0, attempt, outcome), (t1, next_attempt, _) in zip(events, events[1:], strict=False):
            if outcome not in ("retrying",) or next_attempt != attempt + 1:
                continue  # a resend by the admin starts again at attempt 1
            gap = t1 - t0
            gaps[attempt].append(gap)
            if gap < DELAYS[min(attempt - 1, len(DELAYS) - 1)] - 0.2:
                too_soon.append((outbox_id, attempt, round(gap, 2)))
        run = 0
        for _, attempt, _ in events:
            run = attempt
            if run > len(DELAYS) + 1:
                too_many.append(outbox_id)
    summary = {a: f"min {min(g):.1f} s, median {sorted(g)[len(g) // 2]:.1f} s, n={len(g)}"
               for a, g in sorted(gaps.items())}
    checks.note(f"gap after a failed attempt, by attempt number: {summary}")
    checks.check(bool(gaps) and not too_soon, "retries waited 2 s, 4 s, 8 s (or Retry-After) as BR-022 says",
                 f"{len(too_soon)} too soon, e.g. {too_soon[:3]}")
    checks.check(not too_many, "no row was tried more than 1 + 3 times before failing",
                 f"{len(too_many)} rows, e.g. {too_many[:3]}")


def run(kind: str, outage: float, rate: float, seed: int, timeout: float, keep: bool) -> int:
    checks = lib.Checks(f"Resend outage drill on {kind}: {outage:.0f} s of 500/429/timeouts, "
                        f"requests at {rate}/s")
    rng = random.Random(seed)
    with ResendServer(api_key="re_bench_key") as server:
        env = {"RESEND_API_KEY": server.api_key, "RESEND_API_URL": server.url}
        with lib.served(kind, f"resend-{kind}", transport="resend", env=env, keep=keep) as (service, db):
            log: list[str] = []
            slots = lib.Slots()
            count = max(int(outage * rate), 3)
            mix = [lib.request_mail(n, *slots.next(), rng=rng) for n in range(count)]
            fault_thread = threading.Thread(target=faults, args=(server, outage, log), daemon=True)
            fault_thread.start()
            deliveries = lib.send(service.smtp_port, mix, concurrency=4, rate=rate, time_limit=timeout)
            fault_thread.join(outage + 30)
            for line in log:
                checks.note(line)
            checks.check(all(d.accepted for d in deliveries), "every request was accepted over SMTP")
            settled = db.settle(len(mix), timeout, outbox=True)  # retries run out or succeed
            states = db.states("outbox_messages")
            checks.note(f"after the outage: outbox {dict(states)}; server answers "
                        f"{dict(Counter(server.answers))}")
            checks.check(settled, "the outbox settled (every row sent or failed, none stuck)")
            failed_ids = [r.id for r in db.rows("SELECT id FROM outbox_messages WHERE state = 'failed'")]
            log_json = subprocess.run([str(lib.VENV_BIN / "mailbot"), "log", "--json"], cwd=service.workdir,
                                      env=service.env, capture_output=True, text=True, timeout=120)
            listed = [json.loads(line) for line in log_json.stdout.splitlines() if line.startswith("{")]
            listed_failed = {e.get("id") for e in listed if e.get("direction") == "out"
                             and e.get("state") == "failed"}
            checks.check(set(failed_ids) <= listed_failed,
                         "`mailbot log --json` lists every failed mail",
                         f"{len(failed_ids)} failed, {len(listed_failed)} listed as failed")
            service_log = service.log_lines()
            logged_failures = {int(line["outbox_id"]) for line in service_log
                               if line.get("outbox_state") == "failed" and line.get("correlation_id")}
            checks.check(set(failed_ids) <= logged_failures,
                         "every failed mail is in the service log with its correlation id",
                         f"{len(set(failed_ids) - logged_failures)} missing")
            checks.note(f"{len(failed_ids)} mails failed for good during the outage; the admin resends them")
            if failed_ids:
                resend_all(service, failed_ids)
            settled = db.settle(len(mix), timeout, outbox=True)
            checks.check(settled and set(db.states("outbox_messages")) <= {"sent"},
                         "after the admin's resend every outbox row is sent",
                         str(dict(db.states("outbox_messages"))))
            outbox = db.outbox()
            stored = server.deliveries
            per_key = Counter(d.idempotency_key for d in stored)
            doubles = [k for k, n in per_key.items() if n > 1 or k is None]
            checks.check(not doubles, "the Resend server stored each idempotency key once",
                         f"{len(doubles)} keys twice")
            keys = {row.idempotency_key for row in outbox}
            checks.check(set(per_key) == keys, "exactly the outbox rows were delivered, each once",
                         f"{len(stored)} deliveries for {len(keys)} rows; "
                         f"{len(keys - set(per_key))} never delivered, {len(set(per_key) - keys)} unknown")
            ids = {d.idempotency_key: d.id for d in stored}
            wrong = [row.id for row in outbox if row.state == "sent" and ids.get(row.idempotency_key) !=
                     row.provider_id]
            checks.check(not wrong, "each sent row records the id Resend gave its delivery",
                         f"{len(wrong)} differ (a late answer's delivery recorded under another id)")
            check_backoff(checks, attempts_by_row(service.log_lines()))
    return checks.exit_code()


def resend_all(service: lib.Service, ids: list[int]) -> None:
    """The admin's resend button for each failed mail (mailbot.outbound.worker.resend)."""
    code = ("import sys\nfrom mailbot.config import Settings\nfrom mailbot.runtime import Runtime\n"
            "from mailbot.outbound.worker import resend\n"
            "rt = Runtime.from_settings(Settings.from_env())\n"
            "print(sum(resend(rt, int(i)) for i in sys.argv[1:]))\n")
    subprocess.run([str(lib.VENV_BIN / "python"), "-c", code, *map(str, ids)], cwd=service.workdir,
                   env=service.env, check=True, timeout=120, stdout=subprocess.DEVNULL)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", default="postgres", choices=("sqlite", "postgres"))
    parser.add_argument("--outage", type=float, default=60.0, help="seconds")
    parser.add_argument("--rate", type=float, default=2.0, help="requests per second during it")
    parser.add_argument("--timeout", type=float, default=600.0)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args(argv)
    lib.exit_on_sigterm()
    return run(args.db, args.outage, args.rate, args.seed, args.timeout, args.keep)


if __name__ == "__main__":
    sys.exit(main())
