"""The `mailbot` command. Heavy modules are imported inside each command, so
`mailbot parse` starts fast."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from mailbot.runtime import Runtime

EX_TEMPFAIL = 75  # sendmail's "try again later": the MTA keeps the message and retries


def _read(path: str) -> bytes:
    return sys.stdin.buffer.read() if path in ("-", "") else Path(path).read_bytes()


def _runtime() -> Runtime:
    from mailbot.config import ConfigError, Settings
    from mailbot.runtime import Runtime

    try:
        return Runtime.from_settings(Settings.from_env())
    except ConfigError as exc:
        sys.exit(f"mailbot: configuration error: {exc}")


def cmd_parse(args: argparse.Namespace) -> int:
    from mailbot.understand import parse_message

    today = args.today or datetime.now(ZoneInfo("Europe/Berlin")).date()
    result = parse_message(_read(args.file), today)
    print(json.dumps(result.as_json(), ensure_ascii=False))
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from mailbot.serve import serve

    return serve(_runtime())


def cmd_work(args: argparse.Namespace) -> int:
    from mailbot.serve import work

    return work(_runtime())


def cmd_ingest(args: argparse.Namespace) -> int:
    from mailbot.inbound.ingest import ingest
    from mailbot.store.db import DatabaseUnavailable

    raw = _read(args.file or "-")
    try:
        return ingest(_runtime(), raw)
    except DatabaseUnavailable as exc:
        print(f"mailbot: database unavailable, try again later: {exc}", file=sys.stderr)
        return EX_TEMPFAIL


def cmd_migrate(args: argparse.Namespace) -> int:
    from mailbot.config import Settings
    from mailbot.store.db import migrate

    migrate(Settings.from_env().database_url)
    print("Datenbank ist auf dem neuesten Stand.")
    return 0


def cmd_jobs(args: argparse.Namespace) -> int:
    from mailbot.jobs import run_job

    now = datetime.fromisoformat(args.now) if args.now else None
    if now is not None and now.tzinfo is None:
        now = now.replace(tzinfo=ZoneInfo("Europe/Berlin"))
    print(run_job(_runtime(), args.name, now))
    return 0


def cmd_log(args: argparse.Namespace) -> int:
    from mailbot.web.maillog import print_log

    return print_log(_runtime(), follow=args.follow, as_json=args.json)


def cmd_doctor(args: argparse.Namespace) -> int:
    from mailbot.doctor import doctor

    return doctor()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mailbot", description="Email-first booking agent")
    commands = parser.add_subparsers(dest="command", required=True)

    parse = commands.add_parser("parse", help="understand one email and print JSON")
    parse.add_argument("--today", type=date.fromisoformat, help="YYYY-MM-DD (default: today)")
    parse.add_argument("file", help="the .eml file, or - for stdin")
    parse.set_defaults(run=cmd_parse)

    commands.add_parser("serve", help="run SMTP, web, workers and scheduler").set_defaults(run=cmd_serve)

    commands.add_parser("work", help="run one more inbox worker (PostgreSQL)").set_defaults(
        run=cmd_work)

    ingest = commands.add_parser("ingest", help="store one message from a file or stdin")
    ingest.add_argument("file", nargs="?", default="-")
    ingest.set_defaults(run=cmd_ingest)

    commands.add_parser("migrate", help="bring the database schema up to date").set_defaults(
        run=cmd_migrate)

    jobs = commands.add_parser("jobs", help="scheduled jobs")
    jobs_commands = jobs.add_subparsers(dest="jobs_command", required=True)
    run = jobs_commands.add_parser("run", help="run one job once")
    run.add_argument("name")
    run.add_argument("--now", help="ISO datetime (default: now; Europe/Berlin if no zone)")
    run.set_defaults(run=cmd_jobs)

    log = commands.add_parser("log", help="the mail log")
    log.add_argument("--follow", action="store_true")
    log.add_argument("--json", action="store_true")
    log.set_defaults(run=cmd_log)

    commands.add_parser("doctor", help="check configuration and connections").set_defaults(
        run=cmd_doctor)

    args = parser.parse_args(argv)
    return int(args.run(args))


if __name__ == "__main__":
    sys.exit(main())
