"""Issue 16: the README's walkthrough, run exactly as written — every command of its shell
blocks, in order, in a fresh folder, against a real `mailbot serve` started with the
README's own command. Only the waiting a reader does between commands is the test's."""

from __future__ import annotations

import os
import re
import shlex
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.support.background import free_port, wait_until

pytestmark = pytest.mark.e2e

VENV = Path(sys.executable).parent.parent
_BLOCK = re.compile(r"^```(\w*)\n(.*?)^```$", re.S | re.M)


def _blocks() -> list[tuple[str, str]]:
    """(language, text) of every fenced block before the configuration section."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    return _BLOCK.findall(readme[:readme.index("## Configuration")])


def test_the_first_two_commands_are_set_up_and_tests_in_two_blocks() -> None:
    """Pasting the first block must not also run the test suite (and the other way round)."""
    shell = [text.strip() for lang, text in _blocks() if lang == "sh"]
    assert shell[0].splitlines() == [
        "python3 -m venv .venv && .venv/bin/pip install -q -e . && .venv/bin/mailbot serve"]
    assert shell[1].splitlines() == ["bash .ci/run"]


def _settled(database: Path) -> bool:
    """Nothing left to process or to send: what a reader waits for before the next step."""
    if not database.exists():
        return False
    with sqlite3.connect(database) as db:
        try:
            waiting = db.execute("SELECT count(*) FROM inbox_messages WHERE state = 'received'").fetchone()[0]
            sending = db.execute("SELECT count(*) FROM outbox_messages "
                                 "WHERE state IN ('queued', 'sending', 'retrying')").fetchone()[0]
        except sqlite3.OperationalError:
            return False
    return waiting == 0 and sending == 0


def test_readme_walkthrough_runs_as_written(tmp_path: Path) -> None:
    folder = tmp_path / "checkout"
    folder.mkdir()
    (folder / ".venv").symlink_to(VENV)  # the first block's install, already done
    (folder / "scripts").symlink_to(ROOT / "scripts")
    shell = [text.strip() for lang, text in _blocks() if lang == "sh"]
    serve = shell[0].split("&&")[-1].strip()
    assert serve == ".venv/bin/mailbot serve"
    web = free_port()
    keep = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR")}
    env = {**keep, "SMTP_LISTEN": f"127.0.0.1:{free_port()}", "WEB_LISTEN": f"127.0.0.1:{web}",
           "BASE_URL": f"http://127.0.0.1:{web}"}
    database = folder / "var" / "mailbot.sqlite3"
    server = subprocess.Popen(shlex.split(serve), cwd=folder, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    outputs: dict[str, str] = {}
    try:
        wait_until(lambda: _healthy(web), timeout=30, step=0.1)
        for block in shell[2:]:
            for command in block.splitlines():
                done = subprocess.run(["bash", "-c", command], cwd=folder, env=env,
                                      capture_output=True, text=True, timeout=60)
                assert done.returncode == 0, (command, done.stderr)
                assert "Traceback" not in done.stderr
                outputs[command] = done.stdout
                wait_until(lambda: _settled(database), timeout=30, step=0.1)
    finally:
        server.send_signal(signal.SIGTERM)
        _, errors = server.communicate(timeout=30)
    assert server.returncode == 0, errors.decode()[-2000:]

    # the README's example of `mailbot mail list` is what it prints: numbers, states,
    # recipients and dates (not the times, nor the subjects' words, which are the templates')
    shown = [text for lang, text in _blocks() if lang == ""][0]
    assert _columns(outputs[".venv/bin/mailbot mail list"]) == _columns(shown)
    # Ingeborg's mail, decoded, with whole links to her answer
    ingeborg = outputs[".venv/bin/mailbot mail show 2"]
    assert "To:         Ingeborg <" in ingeborg and "Subject:    Neue Buchungsanfrage" in ingeborg
    assert re.search(rf"http://127\.0\.0\.1:{web}/a/\S+/buchung/1/zustimmen\S*\n", ingeborg)
    # three yeses later, everybody was told: the booking is confirmed
    confirmed = outputs[".venv/bin/mailbot mail list -n 4"].splitlines()
    assert len(confirmed) == 4 and all("Buchung bestätigt (03.–07.08." in line for line in confirmed)
    assert {line.split("  an ")[1].split()[0] for line in confirmed} == \
        {"Anna", "Ingeborg", "Cornelia", "Angelika"}
    log = outputs[".venv/bin/mailbot log -n 12"].splitlines()
    assert len(log) == 12 and "booking_confirmed" in log[0]


def _columns(listing: str) -> list[tuple[str, ...]]:
    rows = [re.match(r"(#\d+) +\S+ \S+ +(\w+) +an (\w+) .*(\(.*\))$", line) for line in listing.splitlines()]
    assert all(rows), listing
    return [row.groups() for row in rows if row]


def _healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1) as response:
            return bool(response.status == 200)
    except OSError:
        time.sleep(0.1)
        return False
