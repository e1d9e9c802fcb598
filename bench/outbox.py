"""Outbox drain benchmark: how many queued mails per second the worker sends.

For each database (SQLite, PostgreSQL) and each target — the local Resend-compatible
server (tests/support/resend_server.py, through the real Resend SDK) and a local SMTP
sink (aiosmtpd), each in a child process as a real provider would be — it queues MESSAGES
mails through the real actions (requests for distinct dates: three approver mails and one
acknowledgement each, rendered once), then times `worker.send_due(rt, limit=100)` until
the outbox is empty, and checks that every row is `sent` and arrived exactly once.
Target: ≥ 200 messages/s. Loopback only, bounded.

    .venv/bin/python -m bench.outbox                       # both databases, both targets
    .venv/bin/python -m bench.outbox --db sqlite --target smtp --messages 4000
"""

from __future__ import annotations

import argparse
import json
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import lib  # noqa: E402

TARGET_RATE = 200.0


class _Sink:
    """An SMTP server that takes everything and counts it."""

    def __init__(self) -> None:
        self.received = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.received += 1
        return "250 2.0.0 queued"


def serve_target(kind: str, port: int) -> None:
    """Child process: run a target on `port` until stdin closes, then print what it got.
    The target runs in its own process, as a real provider would, not in the worker's."""
    if kind == "resend":
        from tests.support.resend_server import ResendServer

        server = ResendServer(api_key="re_bench", port=port).start()
        sys.stdin.read()
        deliveries = server.deliveries
        server.stop()
        result = {"received": len(deliveries), "keys": len({d.idempotency_key for d in deliveries})}
    else:
        from aiosmtpd.controller import Controller

        sink = _Sink()
        controller = Controller(sink, hostname="127.0.0.1", port=port)
        controller.start()
        sys.stdin.read()
        controller.stop()
        result = {"received": sink.received, "keys": sink.received}
    print(json.dumps(result), flush=True)


@contextmanager
def target(kind: str) -> Iterator[tuple[Any, Callable[[], dict[str, int]]]]:
    """(transport, finish) for a target running in a child process; finish() stops it and
    returns what it received."""
    from mailbot.outbound.transports import ResendTransport, SmtpTransport, Transport

    port = lib.free_port()
    child = subprocess.Popen([sys.executable, "-m", "bench.outbox", "--serve", kind, str(port)],
                             cwd=lib.ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    transport: Transport
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or child.poll() is not None:
                    raise RuntimeError(f"{kind} target did not start") from None
                time.sleep(0.05)
        if kind == "resend":
            transport = ResendTransport("re_bench", f"http://127.0.0.1:{port}")
        else:
            transport = SmtpTransport(f"smtp://127.0.0.1:{port}", lib.BOOKING_ADDRESS)

        def finish() -> dict[str, int]:
            transport.close()
            out, _ = child.communicate("", timeout=60)
            return dict(json.loads(out.strip().splitlines()[-1]))

        yield transport, finish
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()


def seed(rt: Any, messages: int) -> float:
    """Queue about `messages` mails (4 per request); returns the seconds it took."""
    from mailbot import actions
    from mailbot.core import booking as rules
    from mailbot.runtime import Cause

    requests = max(1, messages // 4)
    first = rt.today() + timedelta(days=2)
    started = time.perf_counter()
    for batch in range(0, requests, 50):
        with rt.store.transaction() as session:
            for i in range(batch, min(batch + 50, requests)):
                day = first + timedelta(days=2 * i)
                request = rules.Request(f"gast{i}@{lib.SENDER_DOMAIN}", "Gast", day, day, 2)
                actions.submit(rt, session, request, Cause.new())
    return time.perf_counter() - started


def run_one(db_kind: str, target_kind: str, messages: int) -> dict[str, Any]:
    from sqlalchemy import func, select

    from mailbot.config import Settings, load_house
    from mailbot.outbound import worker
    from mailbot.runtime import Runtime
    from mailbot.store.db import Store, migrate
    from mailbot.store.tables import OutboxMessage

    with lib.workspace(f"bench-outbox-{db_kind}-{target_kind}") as workdir:
        database = lib.database(db_kind, workdir)
        try:
            migrate(database.url)
            settings = Settings(database_url=database.url, rules_file=str(lib.RULES),
                                maildir=str(workdir / "outbox"), mail_domain=lib.MAIL_DOMAIN,
                                booking_address=lib.BOOKING_ADDRESS)
            rt = Runtime(settings, load_house(lib.RULES), Store(database.url),
                         lambda: datetime.now(UTC))
            queue_seconds = seed(rt, messages)
            with rt.store.reading() as session:
                queued = int(session.scalar(select(func.count()).select_from(OutboxMessage)) or 0)
            with target(target_kind) as (transport, finish):
                started = time.perf_counter()
                deadline = started + 600
                while worker.send_due(rt, limit=100, transport=transport):
                    if time.perf_counter() > deadline:
                        raise RuntimeError("drain took longer than 10 minutes")
                seconds = time.perf_counter() - started
                got = finish()
            with rt.store.reading() as session:
                states = dict(session.execute(select(OutboxMessage.state, func.count())
                                              .group_by(OutboxMessage.state)).all())
            rt.store.dispose()
        finally:
            database.drop()
    return {
        "db": db_kind, "target": target_kind, "messages": queued,
        "queue_per_s": round(queued / queue_seconds, 1), "drain_seconds": round(seconds, 3),
        "drain_per_s": round(queued / seconds, 1), "arrived": got["received"], "states": states,
        "ok": states == {"sent": queued} and got["received"] == got["keys"] == queued,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--target", choices=("resend", "smtp", "both"), default="both")
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--serve", nargs=2, metavar=("TARGET", "PORT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        serve_target(args.serve[0], int(args.serve[1]))
        return 0
    dbs = ("sqlite", "postgres") if args.db == "both" else (args.db,)
    targets = ("resend", "smtp") if args.target == "both" else (args.target,)
    results = [run_one(db, t, args.messages) for db in dbs for t in targets]
    print(json.dumps({"machine": lib.machine(), "date": date.today().isoformat(),
                      "results": results}, indent=2))
    print("\n| database | target | messages | drain msg/s | queue msg/s | exactly once |")
    print("|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r['db']} | {r['target']} | {r['messages']} | {r['drain_per_s']} | "
              f"{r['queue_per_s']} | {'yes' if r['ok'] else 'NO'} |")
    slow = [r for r in results if r["drain_per_s"] < TARGET_RATE or not r["ok"]]
    return 1 if slow else 0


if __name__ == "__main__":
    raise SystemExit(main())
