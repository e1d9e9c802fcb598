"""The inbox worker's hot path in isolation: N booking requests are stored, then
`process_pending` works them through in this process, with no SMTP; then the outbox worker
sends the mails they caused to a Maildir.

Prints wall and CPU time per message, SQL statements per message, and (with --profile)
the top functions; then the cost per mail sent. These per-message costs bound what
`mailbot serve` can process.

    .venv/bin/python -m bench.hotpath --db postgres --messages 300 --profile
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import event  # noqa: E402

from bench import lib  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", default="postgres", choices=("postgres", "sqlite"))
    parser.add_argument("--messages", type=int, default=300)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--sort", default="cumulative", help="pstats order: cumulative, tottime, …")
    args = parser.parse_args(argv)

    from mailbot.config import Settings
    from mailbot.inbound import inbox, worker
    from mailbot.outbound import worker as outbox_worker
    from mailbot.runtime import Runtime
    from mailbot.store.db import migrate

    with lib.workspace("hotpath") as workdir:
        database = lib.database(args.db, workdir)
        try:
            migrate(database.url)
            settings = Settings.from_env({"DATABASE_URL": database.url, "MAIL_DOMAIN": lib.MAIL_DOMAIN,
                                          "BOOKING_ADDRESS": lib.BOOKING_ADDRESS,
                                          "RULES_FILE": str(lib.RULES),
                                          "MAILDIR": str(workdir / "outbox"),
                                          "SECRET_KEY": "hotpath-secret-key-0123456789abcdef"})
            rt = Runtime.from_settings(settings)
            slots = lib.Slots()
            for n in range(args.messages + 20):
                start, end = slots.next()
                inbox.store_raw(rt, lib.request_mail(n, start, end).data, "smtp")
            worker.process_pending(rt, limit=20)  # warm up: imports, template compilation

            statements = 0

            @event.listens_for(rt.store.engine, "before_cursor_execute")
            def _count(*_: object) -> None:
                nonlocal statements
                statements += 1

            profile = cProfile.Profile() if args.profile else None
            wall, cpu = time.perf_counter(), time.process_time()
            if profile:
                profile.enable()
            done = 0
            while done < args.messages:
                done += worker.process_pending(rt, limit=args.messages - done) or 0
            if profile:
                profile.disable()
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            print(f"{args.db}: {done} requests, {wall / done * 1000:.2f} ms wall and "
                  f"{cpu / done * 1000:.2f} ms CPU per message ({done / wall:.0f} msg/s), "
                  f"{statements / done:.1f} statements per message")
            if profile:
                pstats.Stats(profile).sort_stats(args.sort).print_stats(args.top)
            # then what sending those mails to the Maildir costs (MIME, file, fsync, records)
            wall, cpu, sent = time.perf_counter(), time.process_time(), 0
            while batch := outbox_worker.send_due(rt, limit=100):
                sent += batch
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            print(f"{args.db}: sent {sent} mails to the Maildir, {wall / sent * 1000:.2f} ms wall and "
                  f"{cpu / sent * 1000:.2f} ms CPU per mail")
            rt.store.dispose()
        finally:
            database.drop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
