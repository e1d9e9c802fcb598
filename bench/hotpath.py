"""The inbox worker's hot path in isolation, per kind of message: N booking requests are
stored and worked through by `process_pending` in this process, with no SMTP; the outbox
worker sends what they caused to a Maildir; then the approvers answer those requests
(JA, one in ten NEIN) and the requesters ask how things stand, each kind measured alone.

Prints wall and CPU time per message, SQL statements per message, and (with --profile)
the top functions for the kind given by --profile; then the cost per mail sent. These
per-message costs bound what `mailbot serve` can process.

    .venv/bin/python -m bench.hotpath --db postgres --messages 300 --profile request
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import random
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import event  # noqa: E402
from sqlalchemy.engine import Engine  # noqa: E402

from bench import lib  # noqa: E402

KINDS = ("request", "reply", "status")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", default="postgres", choices=("postgres", "sqlite"))
    parser.add_argument("--messages", type=int, default=300, help="per kind")
    parser.add_argument("--profile", choices=KINDS, help="cProfile the processing of this kind")
    parser.add_argument("--sql", choices=KINDS, help="print the statements of one message of this kind")
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
        maildir = workdir / "outbox"
        try:
            migrate(database.url)
            settings = Settings.from_env({"DATABASE_URL": database.url, "MAIL_DOMAIN": lib.MAIL_DOMAIN,
                                          "BOOKING_ADDRESS": lib.BOOKING_ADDRESS,
                                          "RULES_FILE": str(lib.RULES), "MAILDIR": str(maildir),
                                          "SECRET_KEY": "hotpath-secret-key-0123456789abcdef"})
            rt = Runtime.from_settings(settings)
            statements, showing = 0, False

            @event.listens_for(Engine, "before_cursor_execute")  # every engine of the store
            def _count(_conn: object, _cursor: object, sql: str, *_: object) -> None:
                nonlocal statements
                statements += 1
                if showing:
                    print(f"  [{statements}] {' '.join(sql.split())[:160]}")

            def measure(kind: str, mails: list[lib.Outgoing]) -> None:
                nonlocal statements, showing
                wall, cpu, pg = time.perf_counter(), time.process_time(), lib.postgres_cpu_seconds()
                for mail in mails:
                    inbox.store_raw(rt, mail.data, "smtp")
                wall, cpu, pg = (time.perf_counter() - wall, time.process_time() - cpu,
                                 lib.postgres_cpu_seconds() - pg)
                print(f"{args.db} {kind}: stored {len(mails)} messages one by one, "
                      f"{wall / len(mails) * 1000:.2f} ms wall and {cpu / len(mails) * 1000:.2f} ms CPU "
                      f"per message" + (f", PostgreSQL {pg / len(mails) * 1000:.2f} ms CPU"
                                        if args.db == "postgres" else ""))
                if args.sql == kind:
                    print(f"{args.db} {kind}: the statements of one message")
                    showing = True
                    worker.process_pending(rt, limit=1)
                    showing = False
                    mails = mails[1:]
                profile = cProfile.Profile() if args.profile == kind else None
                statements, done = 0, 0
                wall, cpu = time.perf_counter(), time.process_time()
                if profile:
                    profile.enable()
                while done < len(mails):
                    done += worker.process_pending(rt, limit=len(mails) - done) or 0
                if profile:
                    profile.disable()
                wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
                print(f"{args.db} {kind}: {done} messages, {wall / done * 1000:.2f} ms wall and "
                      f"{cpu / done * 1000:.2f} ms CPU per message ({done / wall:.0f} msg/s), "
                      f"{statements / done:.1f} statements per message")
                if profile:
                    pstats.Stats(profile).sort_stats(args.sort).print_stats(args.top)
                send(kind)

            def send(kind: str) -> None:
                # what sending the mails they caused to the Maildir costs (MIME, file, fsync, records)
                wall, cpu, sent = time.perf_counter(), time.process_time(), 0
                while batch := outbox_worker.send_due(rt, limit=100):
                    sent += batch
                wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
                print(f"{args.db} {kind}: sent {sent} mails to the Maildir, {wall / sent * 1000:.2f} ms "
                      f"wall and {cpu / sent * 1000:.2f} ms CPU per mail")

            slots, rng = lib.Slots(), random.Random(7)
            warm = [lib.request_mail(n, *slots.next()) for n in range(20)]
            for mail in warm:  # warm up: imports, template compilation
                inbox.store_raw(rt, mail.data, "smtp")
            worker.process_pending(rt, limit=len(warm))
            outbox_worker.send_due(rt, limit=1000)

            used = {m.correlation for m in lib.read_sent(maildir)}  # the warm-up's mails
            measure("request", [lib.request_mail(n, *slots.next(), rng=rng)
                                for n in range(20, 20 + args.messages)])
            # one approver per request, so each reply is a first decision, not "already done"
            first_asks = {}
            for mail in lib.read_sent(maildir, {"request_submitted"}):
                first_asks.setdefault(mail.correlation, mail)
            replies = [lib.approver_reply(m, *(("NEIN", "weil wir selbst da sind") if rng.random() < 0.1
                                              else ("JA",)), rng=rng)
                       for c, m in first_asks.items() if c not in used][:args.messages]
            measure("reply", replies)
            acks = [m for m in lib.read_sent(maildir, {"request_received"}) if m.correlation not in used]
            measure("status", [lib.status_mail(m, rng) for m in acks[:args.messages]])
            rt.store.dispose()
        finally:
            database.drop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
