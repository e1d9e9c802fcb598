"""The `mailbot` command. Heavy modules are imported inside each command, so
`mailbot parse` starts fast.

Every error a user can cause is one line on stderr and a sysexits(3) code, never a
traceback: a `CliError` carries both; `main` turns the rest into such lines."""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from mailbot.config import House, Settings
    from mailbot.runtime import Runtime

# sysexits(3)
EX_USAGE = 64  # wrong arguments
EX_NOINPUT = 66  # the input file cannot be read
EX_UNAVAILABLE = 69  # a service we need is not there
EX_SOFTWARE = 70  # our fault
EX_TEMPFAIL = 75  # sendmail's "try again later": the MTA keeps the message and retries
EX_CONFIG = 78  # the configuration is wrong


class CliError(Exception):
    """One line for stderr and the exit code that goes with it."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise CliError(f"{message} (see {self.prog} --help)", EX_USAGE)


def _read(path: str) -> bytes:
    if path in ("-", ""):
        return sys.stdin.buffer.read()
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise CliError(f"cannot read {path}: {exc.strerror or exc}", EX_NOINPUT) from None


def _settings(signs: bool = True) -> Settings:
    """`signs`: the command signs links or reply addresses, so SECRET_KEY must be sound (and
    is made when unset). `ingest` and `migrate` sign nothing: an MTA's pipe, running where
    it may not write, never bounces a mail over the key."""
    from mailbot.config import ConfigError, Settings

    try:
        return Settings.from_env(strict=signs)
    except ConfigError as exc:
        raise CliError(f"configuration error: {exc}", EX_CONFIG) from None


def _runtime(signs: bool = True) -> Runtime:
    from mailbot.config import ConfigError
    from mailbot.runtime import Runtime

    try:
        return Runtime.from_settings(_settings(signs))
    except ConfigError as exc:
        raise CliError(f"configuration error: {exc}", EX_CONFIG) from None


def _house(settings: Settings) -> House:
    from mailbot.config import ConfigError, load_house

    try:
        return load_house(settings.rules_file)
    except ConfigError as exc:
        raise CliError(f"configuration error: {exc}", EX_CONFIG) from None


def cmd_parse(args: argparse.Namespace) -> int:
    from mailbot.understand import parse_message

    today = args.today or datetime.now(ZoneInfo("Europe/Berlin")).date()
    result = parse_message(_read(args.file), today, _settings())
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
    from mailbot.store import DatabaseUnavailable

    raw = _read(args.file or "-")
    try:
        return ingest(_runtime(signs=False), raw)
    except DatabaseUnavailable as exc:
        raise CliError(f"database unavailable, try again later: {exc}", EX_TEMPFAIL) from None


def cmd_migrate(args: argparse.Namespace) -> int:
    from mailbot.store.db import migrate

    migrate(_settings(signs=False).database_url)
    print("Datenbank ist auf dem neuesten Stand.")
    return 0


def _moment(value: str) -> datetime:
    """--now: an ISO date-time; without a zone it is the house's time (Europe/Berlin)."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO date-time: {value!r} "
                                         "(e.g. 2026-11-29T09:00)") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo("Europe/Berlin"))


def cmd_jobs(args: argparse.Namespace) -> int:
    from mailbot.jobs import NAMES, run_once

    if args.name not in NAMES:
        raise CliError(f"unbekannter Job {args.name!r} – bekannt sind: {', '.join(NAMES)}", EX_USAGE)
    print(run_once(_runtime(), args.name, args.now))
    return 0


def cmd_log(args: argparse.Namespace) -> int:
    # the driver alone, no SQLAlchemy and no Runtime: the first screen comes at once
    from mailbot import maillog

    if args.number is not None and args.number < 1:
        raise CliError("-n needs a number of at least 1", EX_USAGE)
    settings = _settings()
    zone = _house(settings).timezone
    return maillog.print_log(maillog.connect(settings.database_url), zone, follow=args.follow,
                             as_json=args.json, limit=args.number,
                             filters=maillog.Filters(address=args.address, booking_id=args.booking))


def cmd_mail_list(args: argparse.Namespace) -> int:
    from mailbot.outbound.reader import list_mails

    if args.number < 1:
        raise CliError("-n needs a number of at least 1", EX_USAGE)
    return list_mails(_runtime(), sys.stdout, args.number)


def cmd_mail_show(args: argparse.Namespace) -> int:
    from mailbot.outbound.reader import NoSuchMail, show_mail

    try:
        return show_mail(_runtime(), args.id, sys.stdout, raw=args.raw)
    except NoSuchMail as exc:
        raise CliError(str(exc), EX_NOINPUT) from None


def cmd_doctor(args: argparse.Namespace) -> int:
    from mailbot.doctor import doctor

    return doctor()


def main(argv: list[str] | None = None) -> int:
    """Run one command; every failure a user can cause ends as one line and an exit code."""
    try:
        return _dispatch(argv)
    except CliError as exc:
        _say(str(exc))
        return exc.code
    except BrokenPipeError:
        # the reader went away (`mailbot log | head`): stop quietly; Python would complain
        # again when it flushes stdout at exit, so point stdout at nothing first
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        if _unreachable(exc):
            _say(f"database unavailable: {getattr(exc, 'orig', None) or exc}")
            return EX_UNAVAILABLE
        _say(f"internal error: {type(exc).__name__}: {exc}")  # a bug: still one line
        return EX_SOFTWARE


def _unreachable(exc: Exception) -> bool:
    """The database is away (not imported by `parse`, which starts fast without it)."""
    store, sql = sys.modules.get("mailbot.store"), sys.modules.get("sqlalchemy.exc")
    return (store is not None and isinstance(exc, store.DatabaseUnavailable)
            or sql is not None and isinstance(exc, sql.OperationalError))


def _say(line: str) -> None:
    print(f"mailbot: {' '.join(line.split())}", file=sys.stderr)


def _dispatch(argv: list[str] | None) -> int:
    parser = _Parser(prog="mailbot", description="Email-first booking agent")
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
    run.add_argument("--now", type=_moment,
                     help="run as if it were this ISO date-time (Europe/Berlin if no zone); "
                          "mails are queued and logged at the real time")
    run.set_defaults(run=cmd_jobs)

    log = commands.add_parser("log", help="the mail log, newest first")
    log.add_argument("-n", dest="number", type=int, metavar="N", help="only the newest N entries")
    log.add_argument("--address", help="only mail from or to this address")
    log.add_argument("--booking", type=int, metavar="ID", help="only mail about this booking")
    log.add_argument("--follow", action="store_true",
                     help="show the newest entries oldest first, then new ones as they come")
    log.add_argument("--json", action="store_true")
    log.set_defaults(run=cmd_log)

    mail = commands.add_parser("mail", help="read the outgoing mails")
    mail_commands = mail.add_subparsers(dest="mail_command", required=True)
    listing = mail_commands.add_parser("list", help="the newest outgoing mails, newest first")
    listing.add_argument("-n", dest="number", type=int, default=20, metavar="N")
    listing.set_defaults(run=cmd_mail_list)
    show = mail_commands.add_parser("show", help="one outgoing mail, decoded")
    show.add_argument("id", type=int, metavar="N", help="its number in `mailbot mail list`")
    show.add_argument("--raw", action="store_true", help="the whole message as sent (RFC 5322)")
    show.set_defaults(run=cmd_mail_show)

    commands.add_parser("doctor", help="check configuration and connections").set_defaults(
        run=cmd_doctor)

    args = parser.parse_args(argv)
    return int(args.run(args))


if __name__ == "__main__":
    sys.exit(main())
