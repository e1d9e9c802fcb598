"""More inbox workers on PostgreSQL: `mailbot work` processes beside the one that stores,
woken by LISTEN/NOTIFY, each message handled once however many of them race for it."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from mailbot.config import load_house
from mailbot.inbound import inbox
from mailbot.runtime import Runtime
from mailbot.store.db import Store
from mailbot.store.tables import InboxMessage, OutboxMessage
from tests.conftest import ROOT, make_settings
from tests.support.background import wait_until


def _request(n: int) -> bytes:
    """A complete request for its own two days, 30 to 210 days ahead."""
    start = date.today() + timedelta(days=30 + 3 * n)
    end = start + timedelta(days=1)
    return (f"From: Gast {n} <gast{n}@example.net>\r\nTo: buchung@haus-betzenstein.de\r\n"
            f"Subject: Anfrage {n}\r\nMessage-ID: <work-{n}@example.net>\r\n"
            "Date: Tue, 01 Dec 2026 10:00:00 +0100\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
            f"Hallo, wir möchten vom {start:%d.%m.%Y} bis zum {end:%d.%m.%Y} mit 2 Personen "
            f"kommen.\r\nGast {n}\r\n").encode()


def _runtime(url: str, tmp_path: Path) -> Runtime:
    settings = make_settings(url, tmp_path)
    return Runtime(settings, load_house(settings.rules_file), Store(settings.database_url))


@pytest.mark.postgres
def test_a_listener_hears_a_message_stored_by_another_connection(pg_url: str, tmp_path: Path) -> None:
    listening_rt, storing_rt = _runtime(pg_url, tmp_path), _runtime(pg_url, tmp_path)

    async def scenario() -> float:
        bell, stop = asyncio.Event(), asyncio.Event()
        task = asyncio.create_task(inbox.listen(listening_rt, bell, stop))
        await asyncio.wait_for(bell.wait(), 10)  # rung once when it starts listening
        bell.clear()
        started = time.monotonic()
        await asyncio.to_thread(inbox.store_raw, storing_rt, _request(1), "pipe")
        await asyncio.wait_for(bell.wait(), 10)
        heard = time.monotonic() - started
        stop.set()
        task.cancel()
        return heard

    try:
        assert asyncio.run(scenario()) < 10
    finally:
        listening_rt.store.dispose()
        storing_rt.store.dispose()


def _work(url: str, folder: Path, rules: Path = ROOT / "rules" / "house.toml"
          ) -> subprocess.Popen[bytes]:
    env = {**os.environ, "DATABASE_URL": url, "RULES_FILE": str(rules),
           "SECRET_KEY": "work-test-secret-0123456789abcdefghij", "MAILDIR": str(folder / "outbox")}
    return subprocess.Popen([sys.executable, "-m", "mailbot.cli", "work"], cwd=folder, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


@pytest.mark.postgres
def test_three_work_processes_handle_every_stored_request_once(pg_url: str, tmp_path: Path) -> None:
    rt = _runtime(pg_url, tmp_path)
    # 60 new requests at once: more than the house takes in an hour by default (finding 5)
    rules = tmp_path / "house.toml"
    rules.write_text((ROOT / "rules" / "house.toml").read_text("utf-8").replace(
        "new_requests_per_hour = 30", "new_requests_per_hour = 100"), "utf-8")
    workers = [_work(pg_url, tmp_path, rules) for _ in range(3)]
    try:
        ids = [inbox.store_raw(rt, _request(n), "pipe").id for n in range(60)]

        def states() -> Counter[str]:
            with rt.store.reading() as session:
                return Counter(session.scalars(select(InboxMessage.state)
                                               .where(InboxMessage.id.in_(ids))))

        assert wait_until(lambda: states()["processed"] == len(ids), timeout=60), states()
        with rt.store.reading() as session:
            mails = Counter((m.inbox_id, m.to_address) for m in session.scalars(select(OutboxMessage)))
        # every request: one acknowledgement to the guest and one mail to each approver, once
        assert len(mails) == len(ids) * 4
        assert set(mails.values()) == {1}
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        codes = [worker.wait(20) for worker in workers]
        rt.store.dispose()
    assert codes == [0, 0, 0]


def test_work_refuses_sqlite_with_a_reason(tmp_path: Path) -> None:
    process = _work(f"sqlite:///{tmp_path / 'mailbot.sqlite3'}", tmp_path)
    _, err = process.communicate(timeout=30)
    assert process.returncode == 78  # EX_CONFIG
    assert "PostgreSQL" in err.decode()
