"""`mailbot jobs run NAME [--now ISO-DATETIME]` as an operator types it."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from pathlib import Path

from mailbot.config import Settings, load_house
from mailbot.core.model import State
from mailbot.runtime import Runtime
from mailbot.store.db import Store, migrate
from tests.conftest import ROOT
from tests.support.bookings import berlin, book, load, outbox_count


def _mailbot(tmp_path: Path, url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": url, "RULES_FILE": str(ROOT / "rules" / "house.toml"),
           "MAILDIR": str(tmp_path / "outbox"), "MAIL_TRANSPORT": "maildir"}
    return subprocess.run([sys.executable, "-m", "mailbot.cli", *args], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=60)


def test_jobs_run_cleanup_at_a_given_berlin_time(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'mailbot.sqlite3'}"
    migrate(url)
    house = load_house(ROOT / "rules" / "house.toml")
    runtime = Runtime(Settings(database_url=url), house, Store(url))
    booking = book(runtime, "Anna", date(2026, 12, 4), date(2026, 12, 6), berlin(2026, 11, 23, 10))

    before = _mailbot(tmp_path, url, "jobs", "run", "cleanup", "--now", "2026-12-06T23:59")
    after = _mailbot(tmp_path, url, "jobs", "run", "cleanup", "--now", "2026-12-07T00:01")

    assert (before.returncode, before.stdout.strip()) == (0, "Keine Buchung abgelaufen")
    assert (after.returncode, after.stdout.strip()) == (0, "1 Buchung abgelaufen")
    assert load(runtime, booking).state == State.CANCELED
    assert outbox_count(runtime) == 0
    runtime.store.dispose()


def test_jobs_run_with_an_unknown_name_says_which_names_exist(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'mailbot.sqlite3'}"
    result = _mailbot(tmp_path, url, "jobs", "run", "aufraeumen")
    assert result.returncode == 64  # EX_USAGE
    assert "unbekannter Job" in result.stderr
    for name in ("cleanup", "purge", "digest", "outbox-sweep", "inbox-sweep"):
        assert name in result.stderr
