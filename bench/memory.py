"""Memory and start-up benchmark: can `mailbot serve` live on a 256 MB VM?

 1. start `mailbot serve` (SQLite, Maildir) on a fresh database and time it until `/health`
    answers 200 (the first start includes creating the schema), with SMTP, web, the
    inbox and outbox workers and the scheduler running;
 2. send 1,000 messages over SMTP: 500 booking requests for distinct days, then 500 approver
    answers ("JA") to the request mails the service really wrote; wait until every one is
    processed and every resulting mail is written;
 3. read VmRSS (now) and VmHWM (peak) from /proc/<pid>/status;
 4. restart on the same database and time the start again (schema already there).

Targets: RSS below 150 MB after the 1,000 messages, start → healthy below 2 s.

    .venv/bin/python -m bench.memory              # print the figures
    .venv/bin/python -m bench.memory --record     # and write them into bench/RESULTS.md
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import urllib.request
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import lib  # noqa: E402

RSS_TARGET_MB = 150
START_TARGET_S = 2.0
SECTION = "## Memory and start-up"


def healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def timed_start(service: lib.Service, timeout: float = 60.0) -> tuple[float, float]:
    """Seconds from spawning the process until SMTP greets and /health answers 200, and the
    CPU seconds the process used for it (less dependent on what else the machine does)."""
    began = time.perf_counter()
    service.start(timeout)
    deadline = time.monotonic() + timeout
    while not healthy(service.web_port):
        if time.monotonic() > deadline:
            raise RuntimeError(f"/health did not answer within {timeout} s:\n{service.tail()}")
        time.sleep(0.01)
    return time.perf_counter() - began, lib.cpu_seconds(service.pid)


def memory(pid: int) -> dict[str, float]:
    """VmRSS and VmHWM in MB (MiB) of a running process."""
    values: dict[str, float] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0]) / 1024
    return values


def deliver(service: lib.Service, messages: list[lib.Outgoing]) -> int:
    deliveries = lib.send(service.smtp_port, messages, concurrency=8)
    accepted = sum(d.accepted for d in deliveries)
    if accepted != len(messages):
        raise RuntimeError(f"only {accepted} of {len(messages)} messages accepted")
    return accepted


def run(requests: int, answers: int) -> dict[str, Any]:
    today = datetime.now(ZoneInfo("Europe/Berlin")).date()
    with lib.workspace("memory") as workdir:
        db_handle = lib.database("sqlite", workdir)
        service = lib.Service(workdir, db_handle.url, "maildir")
        db = lib.Db(db_handle.url)
        try:
            first_start = timed_start(service)
            idle = memory(service.pid)

            days = [today + timedelta(days=2 + i) for i in range(requests)]
            deliver(service, [lib.request_mail(i, day, day) for i, day in enumerate(days)])
            if not db.settle(requests, timeout=600):
                raise RuntimeError("the requests were not all processed")
            asked = lib.read_sent(service, {"request_submitted"})
            if len(asked) < answers:
                raise RuntimeError(f"only {len(asked)} request mails to answer, {answers} wanted")
            deliver(service, [lib.approver_reply(m, "JA") for m in asked[:answers]])
            if not db.settle(requests + answers, timeout=600):
                raise RuntimeError("the answers were not all processed")
            loaded = memory(service.pid)
            inbox = dict(db.states("inbox_messages"))
            outbox = dict(db.states("outbox_messages"))
            service.stop()

            second_start = timed_start(service)
            restarted = memory(service.pid)
        finally:
            service.stop()
            db.close()
            db_handle.drop()
    return {
        "machine": lib.machine(),
        "messages": requests + answers,
        "inbox": inbox,
        "outbox": outbox,
        "start_fresh_s": round(first_start[0], 3),
        "start_fresh_cpu_s": round(first_start[1], 3),
        "start_migrated_s": round(second_start[0], 3),
        "start_migrated_cpu_s": round(second_start[1], 3),
        "rss_idle_mb": round(idle["VmRSS"], 1),
        "rss_after_mb": round(loaded["VmRSS"], 1),
        "hwm_mb": round(loaded["VmHWM"], 1),
        "rss_restart_mb": round(restarted["VmRSS"], 1),
        "load_average": " ".join(Path("/proc/loadavg").read_text().split()[:3]),
    }


def markdown(result: dict[str, Any]) -> str:
    m = result["machine"]
    ok_rss = result["hwm_mb"] < RSS_TARGET_MB
    ok_start = max(result["start_fresh_s"], result["start_migrated_s"]) < START_TARGET_S
    return "\n".join([
        SECTION,
        "",
        f"`.venv/bin/python -m bench.memory` on {m['date']} — `mailbot serve` with SQLite and the "
        "Maildir transport; SMTP, web, inbox and outbox workers and the scheduler running.",
        f"Machine: {m['nproc']} × {m['cpu']}, {m['memory']}, Python {m['python']}; load average "
        f"{result['load_average']} at the end (other work was running on the machine).",
        "",
        f"{result['messages']:,} messages over SMTP: booking requests for distinct days, then "
        "approver answers (JA) to the request mails the service wrote. Inbox afterwards: "
        f"{result['inbox']}; outbox: {result['outbox']}.",
        "",
        "| measure | value | target |",
        "|---|---|---|",
        f"| start → `/health` 200, fresh database (creates the schema) | {result['start_fresh_s']:.2f} s "
        f"(CPU {result['start_fresh_cpu_s']:.2f} s) | < {START_TARGET_S:.0f} s |",
        f"| start → `/health` 200, restart on the same database | {result['start_migrated_s']:.2f} s "
        f"(CPU {result['start_migrated_cpu_s']:.2f} s) | < {START_TARGET_S:.0f} s |",
        f"| RSS when idle after start | {result['rss_idle_mb']:.1f} MB | |",
        f"| RSS after the {result['messages']:,} messages | {result['rss_after_mb']:.1f} MB "
        f"| < {RSS_TARGET_MB} MB |",
        f"| peak RSS (VmHWM) during the run | {result['hwm_mb']:.1f} MB | < {RSS_TARGET_MB} MB |",
        f"| RSS after the restart | {result['rss_restart_mb']:.1f} MB | |",
        "",
        f"Verdict: memory {'within' if ok_rss else 'OVER'} target, start-up "
        f"{'within' if ok_start else 'OVER'} target. MB = MiB from /proc/<pid>/status.",
        "",
        *busy_note(result),
    ])


def busy_note(result: dict[str, Any]) -> list[str]:
    """When the machine was busier than its cores, say that wall-clock start-up is inflated."""
    load = float(result["load_average"].split()[0])
    cores = int(result["machine"]["nproc"])
    if load <= cores:
        return []
    return [f"The machine's load average was {load:.1f} on {cores} cores during this run, so the "
            "wall-clock start-up above includes waiting for a CPU; the process itself needed "
            f"{max(result['start_fresh_cpu_s'], result['start_migrated_cpu_s']):.2f} s of CPU to "
            "become healthy. Re-run on an idle machine before reading the start-up verdict.", ""]


def record(section: str, path: Path = lib.ROOT / "bench" / "RESULTS.md") -> None:
    """Replace this benchmark's section of RESULTS.md (or append it)."""
    text = path.read_text() if path.exists() else "# Benchmark results\n"
    start = text.find(SECTION)
    if start == -1:
        text = text.rstrip("\n") + "\n\n" + section
    else:
        following = text.find("\n## ", start + len(SECTION))
        rest = "" if following == -1 else "\n" + text[following + 1:]
        text = text[:start] + section + rest
    path.write_text(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--answers", type=int, default=500)
    parser.add_argument("--record", action="store_true", help="write the section of RESULTS.md")
    args = parser.parse_args(argv)
    result = run(args.requests, args.answers)
    print(json.dumps(result, indent=2, ensure_ascii=False))
    section = markdown(result)
    print(section)
    if args.record:
        record(section)
    ok = result["hwm_mb"] < RSS_TARGET_MB and \
        max(result["start_fresh_s"], result["start_migrated_s"]) < START_TARGET_S
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
