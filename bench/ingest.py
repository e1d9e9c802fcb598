"""Ingest benchmark: how many messages `mailbot serve` fully processes per second, and how
long a message waits between its 250 and its committed outcome.

For each database (SQLite, PostgreSQL) on a fresh service:
 1. seed: requests for distinct dates, so approvers and requesters have real mails to answer;
 2. fixed rate: the realistic mix at RATE msg/s for RATE_SECONDS (the p99 target);
 3. burst: MESSAGES of the mix from CONCURRENCY SMTP sessions as fast as they are accepted.
The mix is new requests for distinct dates, approver replies (JA, some NEIN with a reason)
to the `request_submitted` mails the service really wrote, and status questions in the
thread of the requester's acknowledgement.

"Processed" means the inbox worker committed the outcome (booking changed, outbox rows
written): InboxMessage.processed_at. Latency is processed_at minus the moment the client
read the 250. The raw SMTP accept ceiling of this machine is Postfix's smtp-source against
smtp-sink.

    .venv/bin/python -m bench.ingest                    # both databases, defaults
    .venv/bin/python -m bench.ingest --db postgres --messages 5000 --profile
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import shutil
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import lib  # noqa: E402

MIX = {"request": 0.50, "approver": 0.35, "status": 0.15}
NEIN_SHARE = 0.1
OUT = lib.ROOT / "var" / "bench"


# ---------------------------------------------------------------- the SMTP ceiling

def smtp_ceiling(messages: int = 20000, sessions: int = 20, size: int = 2000) -> dict[str, Any]:
    """Postfix's smtp-source against smtp-sink on loopback: what this machine's SMTP
    plumbing accepts per second with no application behind it."""
    source, sink = shutil.which("smtp-source", path="/usr/sbin"), shutil.which("smtp-sink", path="/usr/sbin")
    if not source or not sink:
        return {"error": "smtp-source/smtp-sink missing: apt-get install -y postfix"}
    port = lib.free_port()
    sink_proc = subprocess.Popen([sink, "-u", "nobody", f"127.0.0.1:{port}", "256"],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while not lib.smtp_answers(port) and time.monotonic() < deadline:
            time.sleep(0.05)
        started = time.perf_counter()
        subprocess.run([source, "-s", str(sessions), "-m", str(messages), "-l", str(size),
                        "-f", f"bench@{lib.SENDER_DOMAIN}", "-t", lib.BOOKING_ADDRESS,
                        f"127.0.0.1:{port}"], check=True, timeout=300,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        elapsed = time.perf_counter() - started
    finally:
        sink_proc.terminate()
        sink_proc.wait(5)
    return {"messages": messages, "sessions": sessions, "bytes": size,
            "seconds": round(elapsed, 2), "msg_per_s": round(messages / elapsed, 1)}


# ---------------------------------------------------------------- the mix

@dataclass
class Pool:
    """Mails the service sent that the mix can answer; each used a bounded number of times."""

    submitted: list[lib.SentMail]
    acks: list[lib.SentMail]
    status_uses: int = 2

    @staticmethod
    def read(service: lib.Service, used: set[str]) -> Pool:
        sent = lib.read_sent(service, {"request_submitted", "request_received"})
        submitted = [m for m in sent if m.kind == "request_submitted" and m.message_id not in used]
        acks = [m for m in sent if m.kind == "request_received"]
        return Pool(submitted, acks)


def build_mix(count: int, slots: lib.Slots, pool: Pool, rng: random.Random, first: int,
              used: set[str], status_count: Counter[str]) -> list[lib.Outgoing]:
    """`count` messages in the MIX proportions (fewer replies if the pool is short)."""
    submitted = list(pool.submitted)
    rng.shuffle(submitted)
    acks = list(pool.acks)
    rng.shuffle(acks)
    out: list[lib.Outgoing] = []
    n = first
    for _ in range(count):
        roll = rng.random()
        if roll < MIX["approver"] and submitted:
            mail = submitted.pop()
            used.add(mail.message_id)
            if rng.random() < NEIN_SHARE:
                out.append(lib.approver_reply(mail, "NEIN", "weil wir da selbst im Haus sind", rng))
            else:
                out.append(lib.approver_reply(mail, "JA", rng=rng))
            continue
        if roll < MIX["approver"] + MIX["status"] and acks:
            mail = acks.pop()
            status_count[mail.message_id] += 1
            if status_count[mail.message_id] < pool.status_uses:
                acks.insert(0, mail)
            out.append(lib.status_mail(mail, rng))
            continue
        out.append(lib.request_mail(n, *slots.next(), rng=rng))
        n += 1
    return out


def seeds_needed(total: int) -> int:
    return math.ceil(max(total * MIX["approver"] / 3, total * MIX["status"] / 2) * 1.1) + 10


# ---------------------------------------------------------------- measuring one run

def measure(deliveries: list[lib.Delivery], db: lib.Db, started: float) -> dict[str, Any]:
    """Join the client's 250s with the inbox rows by correlation id."""
    rows = lib.inbox_by_correlation(db)
    latencies: list[float] = []
    by_kind: dict[str, list[float]] = {}
    states: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    kinds: Counter[str] = Counter()
    processed_at: list[float] = []
    unmatched = 0
    for delivery in deliveries:
        kinds[delivery.outgoing.kind] += 1
        row = rows.get(delivery.queued_as or "")
        if row is None:
            unmatched += 1
            continue
        states[row.state] += 1
        if row.reason:
            reasons[row.reason] += 1
        done = lib.as_utc(row.processed_at)
        if done is not None and delivery.accepted_at is not None:
            processed_at.append(done.timestamp())
            latencies.append((done.timestamp() - delivery.accepted_at) * 1000)
            by_kind.setdefault(delivery.outgoing.kind, []).append(latencies[-1])
    accepted = [d for d in deliveries if d.accepted]
    last_250 = max((d.accepted_at or 0 for d in accepted), default=started)
    last_done = max(processed_at, default=started)
    result = {
        "sent": len(deliveries),
        "accepted": len(accepted),
        "not_accepted": Counter(str(d.final) for d in deliveries if not d.accepted).most_common(5),
        "retries": sum(d.attempts - 1 for d in deliveries),
        "mix": dict(kinds),
        "inbox_states": dict(states),
        "reasons": dict(reasons.most_common(8)),
        "unmatched_250": unmatched,
        "accept_per_s": round(len(accepted) / max(last_250 - started, 1e-9), 1),
        "processed_per_s": round(len(processed_at) / max(last_done - started, 1e-9), 1),
        "seconds_to_processed": round(last_done - started, 2),
        "latency": lib.latency_summary(latencies),
        "latency_by_kind": {kind: lib.latency_summary(values) for kind, values in sorted(by_kind.items())},
    }
    return result


def outbox_kinds(db: lib.Db, since_inbox: int) -> dict[str, int]:
    return {kind: n for kind, n in db.rows(
        "SELECT kind, count(*) FROM outbox_messages WHERE inbox_id > :i GROUP BY kind "
        "ORDER BY count(*) DESC", i=since_inbox)}


def run_phase(name: str, service: lib.Service, db: lib.Db, messages: list[lib.Outgoing],
              concurrency: int, rate: float | None, profile: Path | None,
              settle_timeout: float) -> dict[str, Any]:
    before_inbox = db.scalar("SELECT coalesce(max(id), 0) FROM inbox_messages") or 0
    expected = (db.scalar("SELECT count(*) FROM inbox_messages") or 0) + len(messages)
    spies = []
    if profile is not None:  # serve, then each `mailbot work` (see `_process_file`)
        for old in _worker_files(profile):
            old.unlink()
        spies = [start_profile(pid, _process_file(profile, i)) for i, pid in enumerate(service.pids())]
    pids = service.pids()
    cpu_before = [lib.cpu_seconds(pid) for pid in pids]
    pg_before, client_before = lib.postgres_cpu_seconds(), time.process_time()
    started = time.time()
    deliveries = lib.send(service.smtp_port, messages, concurrency=concurrency, rate=rate,
                          time_limit=settle_timeout)
    send_seconds = time.time() - started
    settled = db.settle(expected, settle_timeout, outbox=False)
    processed_seconds = time.time() - started
    cpu_each = [lib.cpu_seconds(pid) - before for pid, before in zip(pids, cpu_before, strict=True)]
    cpu_processed = sum(cpu_each)
    pg_cpu, client_cpu = lib.postgres_cpu_seconds() - pg_before, time.process_time() - client_before
    drained = db.settle(expected, settle_timeout, outbox=True)
    drained_seconds = time.time() - started
    for spy in spies:
        stop_profile(spy)
    result = measure(deliveries, db, started)
    result.update({
        "phase": name, "concurrency": concurrency, "rate": rate,
        "settled": settled, "drained": drained,
        "send_seconds": round(send_seconds, 2),
        "outbox_drained_seconds": round(drained_seconds, 2),
        "end_to_end_incl_sending_per_s": round(len(messages) / drained_seconds, 1),
        "server_cpu_ms_per_msg": round(cpu_processed / max(len(messages), 1) * 1000, 2),
        # how busy each process was until everything was processed: serve, then each `work`
        # (1.0 = one core all the time; one Python process does not get far beyond it)
        "server_cores_busy": [round(cpu / processed_seconds, 2) for cpu in cpu_each],
        "postgres_cores_busy": round(pg_cpu / processed_seconds, 2),
        # the same span: PostgreSQL's processes (SQLite: ~0) and this load generator
        "postgres_cpu_ms_per_msg": round(pg_cpu / max(len(messages), 1) * 1000, 2),
        "client_cpu_ms_per_msg": round(client_cpu / max(len(messages), 1) * 1000, 2),
        "server_rss_mib": round(sum(lib.rss_kib(pid) for pid in service.pids()) / 1024, 1),
        "outbox_rows": outbox_kinds(db, before_inbox),
    })
    print(f"  {name}: {result['accepted']}/{result['sent']} accepted, "
          f"{result['processed_per_s']} msg/s processed (accept {result['accept_per_s']}/s), "
          f"latency {result['latency']}, processed in {processed_seconds:.1f}s", flush=True)
    return result


# ---------------------------------------------------------------- profiling

def start_profile(pid: int, path: Path) -> subprocess.Popen[bytes]:
    spy = shutil.which("py-spy") or str(lib.VENV_BIN / "py-spy")
    path.parent.mkdir(parents=True, exist_ok=True)
    gil = ["--gil"] if os.environ.get("BENCH_PROFILE_GIL") else []  # only the GIL holder
    return subprocess.Popen([spy, "record", "--pid", str(pid), "--rate", "250", "--nonblocking", *gil,
                             "--format", "raw", "--output", str(path)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def stop_profile(spy: subprocess.Popen[bytes]) -> None:
    spy.send_signal(2)  # SIGINT: py-spy writes what it has and exits
    try:
        spy.wait(30)
    except subprocess.TimeoutExpired:
        spy.kill()


def _process_file(path: Path, index: int) -> Path:
    """profile-<db>.txt for serve, profile-<db>.worker-<n>.txt for the n-th `mailbot work`."""
    return path if index == 0 else path.with_name(f"{path.stem}.worker-{index}{path.suffix}")


def _worker_files(path: Path) -> list[Path]:
    return sorted(path.parent.glob(f"{path.stem}.worker-*{path.suffix}"))


def summarize_profile(path: Path, top: int = 25) -> dict[str, Any]:
    """Collapsed stacks of serve and its workers (see `_process_file`) → share of samples
    per function: self (on top of the stack) and inclusive (anywhere on it). Idle threads
    are not sampled by py-spy."""
    if not path.exists():
        return {"error": f"no profile at {path}"}
    files = [path, *_worker_files(path)]
    total = 0
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    module: Counter[str] = Counter()
    lines = [line for file in files for line in file.read_text(errors="replace").splitlines()]
    for line in lines:
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        total += count
        frames = [_frame(f) for f in stack.split(";")]
        frames = [f for f in frames if f]
        if not frames:
            continue
        own[frames[-1]] += count
        for frame in set(frames):
            inclusive[frame] += count
        for frame in set(_area(f) for f in frames):
            module[frame] += count
    if total == 0:
        return {"error": "empty profile"}

    def share(counter: Counter[str]) -> list[tuple[str, float]]:
        return [(name, round(100 * n / total, 1)) for name, n in counter.most_common(top)]

    return {"samples": total, "self_pct": share(own), "inclusive_pct": share(inclusive),
            "area_inclusive_pct": share(module),
            "stages_pct_per_process": {file.name: stages(file) for file in files}}


_STAGES = (  # (bucket, a piece of a frame that puts a stack there); the first match wins
    ("process: rendering mail", "render (render.py"),
    ("process: understanding", "mailbot/understand/"),
    ("process: queueing mail (database)", "queue_all ("),
    ("process: psycopg", "psycopg/"),
    ("process: SQLAlchemy", "sqlalchemy/"),
    ("process: other", "process_pending ("),
    ("send: MIME", "build_message ("),
    ("send: Maildir file", "MaildirTransport.send ("),
    ("send: claiming and recording", "send_due ("),
    ("SMTP: storing", "store_raw ("),
    ("SMTP: aiosmtpd", "aiosmtpd/"),
    ("event loop", "asyncio/"),
)


def stages(path: Path) -> dict[str, float]:
    """Share of one process's samples per stage of the mail's way (see `_STAGES`)."""
    counts: Counter[str] = Counter()
    total = 0
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not count_text.isdigit():
            continue
        total += int(count_text)
        bucket = next((name for name, frame in _STAGES
                       if ("process:" not in name or "process_pending" in stack) and frame in stack),
                      "other")
        counts[bucket] += int(count_text)
    return {name: round(100 * n / max(total, 1), 1) for name, n in counts.most_common()}


def _frame(raw: str) -> str:
    # "function (path/to/file.py:123)" → "function (file.py)" with a short path
    name, _, where = raw.partition(" (")
    where = where.rstrip(")").rsplit(":", 1)[0]
    for marker in ("site-packages/", "/mailbot/", "python3.11/"):
        if marker in where:
            where = ("mailbot/" if marker == "/mailbot/" else "") + where.split(marker, 1)[1]
            break
    return f"{name} ({where})" if where else name


def _area(frame: str) -> str:
    """A coarse bucket for a frame: mailbot/<package>, or the third-party library."""
    where = frame.rpartition(" (")[2].rstrip(")")
    if where.startswith("mailbot/"):
        parts = where.split("/")
        return "/".join(parts[:2]) if len(parts) > 2 else where
    return where.split("/", 1)[0] if "/" in where else where


# ---------------------------------------------------------------- one database

def bench_database(kind: str, args: argparse.Namespace) -> dict[str, Any]:
    rng = random.Random(args.seed)
    print(f"[{kind}] starting mailbot serve on a fresh database", flush=True)
    rate_count = int(args.rate * args.rate_seconds)
    total = rate_count + args.messages
    workers = args.workers if kind == "postgres" else 0
    with lib.served(kind, f"ingest-{kind}", keep=args.keep, workers=workers) as (service, db):
        slots = lib.Slots()
        seeds = min(seeds_needed(total), args.max_seeds)
        print(f"[{kind}] seeding {seeds} requests", flush=True)
        seed_messages = [lib.request_mail(i, *slots.next(), rng=rng) for i in range(seeds)]
        seed = run_phase("seed", service, db, seed_messages, args.concurrency, None, None,
                         args.timeout)
        used: set[str] = set()
        status_count: Counter[str] = Counter()
        pool = Pool.read(service, used)
        print(f"[{kind}] pool: {len(pool.submitted)} approver mails, {len(pool.acks)} acknowledgements",
              flush=True)
        results: dict[str, Any] = {"seed": seed}
        next_n = seeds
        if rate_count:
            mix = build_mix(rate_count, slots, pool, rng, next_n, used, status_count)
            next_n += len(mix)
            print(f"[{kind}] fixed rate: {len(mix)} messages at {args.rate}/s", flush=True)
            profile = OUT / f"profile-{kind}-fixed-rate.txt" if args.profile else None
            results["fixed_rate"] = run_phase("fixed_rate", service, db, mix,
                                              max(4, int(args.rate // 5)), args.rate, profile,
                                              args.timeout)
            if profile is not None:
                results["fixed_rate"]["profile"] = summarize_profile(profile)
            pool = Pool.read(service, used)
        if args.messages:
            mix = build_mix(args.messages, slots, pool, rng, next_n, used, status_count)
            profile = OUT / f"profile-{kind}.txt" if args.profile else None
            print(f"[{kind}] burst: {len(mix)} messages from {args.concurrency} sessions", flush=True)
            results["burst"] = run_phase("burst", service, db, mix, args.concurrency, None,
                                         profile, args.timeout)
            if profile is not None:
                results["profile"] = summarize_profile(profile)
                results["profile"]["file"] = str(profile)
        errors = [line for line in service.log_lines()
                  if str(line.get("level", "")).lower() in ("error", "critical")]
        results["service_errors"] = len(errors)
        results["service_error_examples"] = [e.get("message") for e in errors[:5]]
        return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", default="sqlite,postgres", help="comma list: sqlite, postgres")
    parser.add_argument("--messages", type=int, default=3000, help="burst size (0: no burst)")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--workers", type=int, default=0,
                        help="extra `mailbot work` processes beside serve (PostgreSQL only)")
    parser.add_argument("--rate", type=float, default=50.0, help="fixed-rate run, msg/s")
    parser.add_argument("--rate-seconds", type=float, default=30.0, help="0: no fixed-rate run")
    parser.add_argument("--max-seeds", type=int, default=2000)
    parser.add_argument("--timeout", type=float, default=600.0, help="bound per phase, seconds")
    parser.add_argument("--ceiling", action=argparse.BooleanOptionalAction, default=True,
                        help="measure smtp-source → smtp-sink")
    parser.add_argument("--profile", action="store_true", help="py-spy during the fixed rate and the burst")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    parser.add_argument("--json", type=Path, help="write all figures here")
    args = parser.parse_args(argv)
    lib.exit_on_sigterm()

    report: dict[str, Any] = {"machine": lib.machine(), "command": " ".join(sys.argv)}
    print(f"machine: {report['machine']}", flush=True)
    if args.ceiling:
        report["smtp_ceiling"] = smtp_ceiling()
        print(f"smtp-source → smtp-sink: {report['smtp_ceiling']}", flush=True)
    ok = True
    for kind in [k.strip() for k in args.db.split(",") if k.strip()]:
        results = bench_database(kind, args)
        report[kind] = results
        burst = results.get("burst")
        ceiling = report.get("smtp_ceiling", {}).get("msg_per_s")
        if burst and ceiling:
            burst["ratio_to_smtp_ceiling"] = round(burst["processed_per_s"] / ceiling, 3)
        for phase in ("seed", "fixed_rate", "burst"):
            got = results.get(phase)
            if got and (got["accepted"] != got["sent"] or not got["settled"]):
                ok = False
                print(f"[{kind}] {phase}: not every message was accepted and processed", flush=True)
    print(json.dumps(report, indent=2, default=str, ensure_ascii=False))
    if args.json:
        lib.dump_json(args.json, report)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
