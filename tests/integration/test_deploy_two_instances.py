"""Two `mailbot serve` processes on one PostgreSQL database: every scheduled job runs exactly
once. Both start after the slots have passed (as after a deploy), so both try to catch the
missed runs up at the same moment; one claims each slot, the other skips it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import select

from mailbot.config import Settings, load_house
from mailbot.core.model import State
from mailbot.jobs.scheduler import SCHEDULED
from mailbot.runtime import Runtime
from mailbot.store.db import Store
from mailbot.store.tables import JobRun, OutboxMessage
from tests.conftest import ROOT
from tests.support.background import free_port, wait_until
from tests.support.bookings import BERLIN, book, deny, load

pytestmark = pytest.mark.postgres


def _clear_of_slot_boundaries(margin: float = 90.0) -> None:
    """Wait until no job is due within `margin` seconds, so only the catch-up can run."""
    while True:
        now = datetime.now(BERLIN)
        due = [CronTrigger(timezone=BERLIN, **s.cron).get_next_fire_time(None, now)
               for s in SCHEDULED.values()]
        soonest = min(d for d in due if d is not None)
        if (soonest - now).total_seconds() > margin:
            return
        time.sleep((soonest - now).total_seconds() + 2)


def _serve(tmp_path: Path, name: str, url: str, secret: str) -> tuple[subprocess.Popen[bytes], int, Path]:
    web = free_port()
    folder = tmp_path / name
    folder.mkdir()
    env = {**os.environ, "DATABASE_URL": url, "RULES_FILE": str(ROOT / "rules" / "house.toml"),
           "SMTP_LISTEN": f"127.0.0.1:{free_port()}", "WEB_LISTEN": f"127.0.0.1:{web}",
           "MAIL_TRANSPORT": "maildir", "MAILDIR": str(folder / "outbox"), "SECRET_KEY": secret,
           "LOG_LEVEL": "INFO"}
    env.pop("IMAP_URL", None)
    log = folder / "log.jsonl"
    process = subprocess.Popen([sys.executable, "-m", "mailbot.cli", "serve"], cwd=folder, env=env,
                               stdout=subprocess.DEVNULL, stderr=log.open("wb"))
    return process, web, log


def _healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def _events(log: Path) -> list[dict[str, Any]]:
    lines = log.read_text(errors="replace").splitlines()
    return [json.loads(line) for line in lines if line.startswith("{")]


def _decided(log: Path) -> set[str]:
    """The jobs this instance either ran to the end or found already claimed."""
    return {e["job"] for e in _events(log)
            if e.get("message") in ("job finished", "job already claimed", "job failed")}


def test_two_serve_processes_run_each_scheduled_job_once(tmp_path: Path, pg_url: str) -> None:
    secret = "shared-secret-of-both-instances-0123456789"
    rt = Runtime(Settings(database_url=pg_url, secret_key=secret),
                 load_house(ROOT / "rules" / "house.toml"), Store(pg_url))
    _clear_of_slot_boundaries()
    now = datetime.now(BERLIN)
    today = now.date()
    weeks_ago = now - timedelta(days=20)
    expired = book(rt, "Abgelaufen", today - timedelta(days=12), today - timedelta(days=10), weeks_ago)
    denied = book(rt, "Abgelehnt", today - timedelta(days=9), today - timedelta(days=8), weeks_ago)
    deny(rt, denied, "cornelia", weeks_ago)
    book(rt, "Wartet", today + timedelta(days=30), today + timedelta(days=32), now - timedelta(days=9))

    instances = [_serve(tmp_path, name, pg_url, secret) for name in ("a", "b")]
    try:
        for _, web, _ in instances:
            wait_until(lambda web=web: _healthy(web), timeout=60)
        for _, _, log in instances:
            wait_until(lambda log=log: _decided(log) == set(SCHEDULED), timeout=60)
        wait_until(lambda: len(list((tmp_path / "a" / "outbox" / "new").glob("*")))
                   + len(list((tmp_path / "b" / "outbox" / "new").glob("*"))) >= 3, timeout=60)
    finally:
        for process, _, _ in instances:
            process.send_signal(signal.SIGTERM)
        for process, _, _ in instances:
            process.wait(timeout=30)

    with rt.store.reading() as session:
        runs = session.scalars(select(JobRun)).all()
        digests = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "digest")).all()
    assert Counter(r.name for r in runs) == {"cleanup": 1, "purge": 1, "digest": 1}
    assert all(r.ok for r in runs)
    events = [e for _, _, log in instances for e in _events(log)]
    finished = Counter(e["job"] for e in events if e.get("message") == "job finished")
    skipped = Counter(e["job"] for e in events if e.get("message") == "job already claimed")
    assert finished == {"cleanup": 1, "purge": 1, "digest": 1}
    assert skipped == {"cleanup": 1, "purge": 1, "digest": 1}

    assert sorted(m.to_address for m in digests) == sorted(a.email for a in rt.house.approvers)
    delivered = [p for name in ("a", "b") for p in (tmp_path / name / "outbox" / "new").glob("*")]
    assert len([p for p in delivered if b"X-Mailbot-Kind: digest" in p.read_bytes()]) == 3
    gone = load(rt, expired)
    assert gone is not None and gone.state == State.CANCELED
    assert [e.kind for e in gone.timeline].count("canceled") == 1
    assert load(rt, denied) is None
    rt.store.dispose()
