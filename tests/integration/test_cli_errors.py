"""Issue 16, "rough edges": every error of the `mailbot` command is one line on stderr and a
sysexits(3) code, never a traceback; `mailbot log` stops quietly when its reader does;
`mailbot jobs run --now` simulates the clock for the job only and runs a slot once."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import insert, select

from mailbot.config import Settings, load_house
from mailbot.runtime import Runtime
from mailbot.store.db import Store, migrate
from mailbot.store.tables import InboxMessage, OutboxMessage
from tests.conftest import ROOT
from tests.support.bookings import book

BERLIN = ZoneInfo("Europe/Berlin")


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'mailbot.sqlite3'}",
            "RULES_FILE": str(ROOT / "rules" / "house.toml"), "MAILDIR": str(tmp_path / "outbox"),
            "MAIL_TRANSPORT": "maildir", **extra}


def _mailbot(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mailbot.cli", *args], cwd=tmp_path,
                          env=_env(tmp_path, **env), capture_output=True, text=True, timeout=60)


def _one_line_error(result: subprocess.CompletedProcess[str], code: int) -> str:
    assert result.returncode == code, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("mailbot: "), result.stderr
    return lines[0]


@pytest.mark.parametrize("command", ["parse", "ingest"])
def test_a_missing_file_is_one_line_and_ex_noinput(tmp_path: Path, command: str) -> None:
    line = _one_line_error(_mailbot(tmp_path, command, "gibt-es-nicht.eml"), 66)
    assert "gibt-es-nicht.eml" in line


def test_wrong_arguments_are_one_line_and_ex_usage(tmp_path: Path) -> None:
    assert "unbekannter Job" in _one_line_error(_mailbot(tmp_path, "jobs", "run", "aufraeumen"), 64)
    assert "2026-13-45" in _one_line_error(
        _mailbot(tmp_path, "jobs", "run", "digest", "--now", "2026-13-45"), 64)
    _one_line_error(_mailbot(tmp_path, "log", "-n", "null"), 64)
    _one_line_error(_mailbot(tmp_path, "log", "-n", "0"), 64)
    _one_line_error(_mailbot(tmp_path, "bestellen"), 64)


def test_showing_a_mail_that_does_not_exist_is_one_line(tmp_path: Path) -> None:
    migrate(f"sqlite:///{tmp_path / 'mailbot.sqlite3'}")
    assert "#99" in _one_line_error(_mailbot(tmp_path, "mail", "show", "99"), 66)
    listing = _mailbot(tmp_path, "mail", "list")
    assert (listing.returncode, listing.stdout) == (0, "Noch keine ausgehenden Mails.\n")


@pytest.mark.parametrize(("command", "code"), [
    (("migrate",), 69), (("log", "-n", "1"), 69), (("mail", "list"), 69),
    (("jobs", "run", "digest"), 69), (("ingest", "/etc/hostname"), 75)])
def test_an_unreachable_database_is_one_line(tmp_path: Path, command: tuple[str, ...], code: int) -> None:
    """EX_UNAVAILABLE, and EX_TEMPFAIL for `ingest`, whose MTA then keeps the message."""
    line = _one_line_error(_mailbot(tmp_path, *command, DATABASE_URL="postgresql://nobody@127.0.0.1:1/x"),
                           code)
    assert "database unavailable" in line


def test_a_missing_rules_file_is_one_line_and_ex_config(tmp_path: Path) -> None:
    line = _one_line_error(_mailbot(tmp_path, "log", RULES_FILE=str(tmp_path / "fehlt.toml")), 78)
    assert "RULES_FILE" in line


def test_mailbot_log_into_head_stops_quietly(tmp_path: Path) -> None:
    """`mailbot log | head` ended in a BrokenPipeError traceback."""
    url = f"sqlite:///{tmp_path / 'mailbot.sqlite3'}"
    migrate(url)
    store = Store(url)
    now = datetime.now(UTC)
    with store.transaction() as session:  # far more than a pipe buffer of log lines
        session.execute(insert(InboxMessage), [
            dict(source="pipe", source_id=f"s{i}", message_id=f"<m{i}@example.org>", received_at=now,
                 raw=b"x", size=1, from_address=f"gast{i}@example.org", subject="Haus " * 10,
                 state="processed", correlation_id=f"c{i}", attempts=1) for i in range(3000)])
    store.dispose()
    result = subprocess.run(f"{sys.executable} -m mailbot.cli log | head -n 3", shell=True,
                            cwd=tmp_path, env=_env(tmp_path), capture_output=True, text=True,
                            timeout=60)
    assert len(result.stdout.splitlines()) == 3
    assert result.stderr == ""


def _next_sunday_nine(after: datetime, at_least_days: int) -> datetime:
    day = (after + timedelta(days=at_least_days)).astimezone(BERLIN).date()
    day += timedelta(days=(6 - day.weekday()) % 7)
    return datetime(day.year, day.month, day.day, 9, 0, tzinfo=BERLIN)


def test_jobs_run_now_simulates_the_clock_for_the_job_only(tmp_path: Path) -> None:
    """`--now <future>`: the digest is computed as of that Sunday, but its mails are queued
    (and due) now and the log shows the real time; a second run of that slot does nothing
    and says so; a run on another day says which slot it belongs to."""
    url = f"sqlite:///{tmp_path / 'mailbot.sqlite3'}"
    migrate(url)
    rt = Runtime(Settings(database_url=url), load_house(ROOT / "rules" / "house.toml"), Store(url))
    real = datetime.now(UTC)
    sunday = _next_sunday_nine(real, 6)
    start = sunday.date() + timedelta(days=10)
    book(rt, "Anna", start, start + timedelta(days=2), real)

    first = _mailbot(tmp_path, "jobs", "run", "digest", "--now", f"{sunday:%Y-%m-%dT%H:%M}")
    second = _mailbot(tmp_path, "jobs", "run", "digest", "--now", f"{sunday:%Y-%m-%dT%H:%M}")
    monday = sunday + timedelta(days=1)
    third = _mailbot(tmp_path, "jobs", "run", "digest", "--now", f"{monday:%Y-%m-%dT%H:%M}")

    assert first.returncode == 0 and first.stdout.startswith("Erinnerung an 3"), first
    assert second.returncode == 0 and second.stdout.startswith("Nichts zu tun: digest für Sonntag")
    assert "lief schon (Erinnerung an 3" in second.stdout
    assert third.returncode == 0 and third.stdout.startswith("Heute (Montag) ist kein Termin für digest")
    assert "lief schon" in third.stdout
    with rt.store.reading() as session:
        mails = session.scalars(select(OutboxMessage)).all()
    assert len(mails) == 3  # not queued twice
    after = datetime.now(UTC)
    for mail in mails:
        assert real <= mail.created_at <= after and mail.next_attempt_at <= after
    log = _mailbot(tmp_path, "log", "-n", "1")
    assert log.stdout.startswith(f"{mails[-1].created_at.astimezone(BERLIN):%Y-%m-%d}")
    rt.store.dispose()
