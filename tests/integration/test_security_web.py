"""Issue 13, the web side: what an outsider or a careless operator could do against
`mailbot serve` on its defaults, each test named after the finding it closes."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from mailbot import tokens
from mailbot.config import Settings, load_house
from mailbot.core.model import State, Verdict
from mailbot.runtime import Runtime
from mailbot.store import queries
from mailbot.store.db import Store
from mailbot.web import links
from mailbot.web.app import create_app
from tests.conftest import ROOT, Clock
from tests.support.bookings import approver_link
from tests.support.browser import WebClient, book, snapshot

OLD_DEFAULT_KEY = "change-me-in-production"
DEC_1, DEC_5 = date(2026, 12, 1), date(2026, 12, 5)


@pytest.fixture
def client(rt: Runtime) -> WebClient:
    return WebClient(create_app(rt), rt.settings.base_url)


def _forged_approval(client: WebClient, key: str, approver: str, booking_id: int) -> int:
    """What the outsider did: sign the approver's public name and the form with a known key."""
    path = f"/a/{tokens.sign(key, 'approver', approver)}/buchung/{booking_id}/zustimmen"
    csrf = tokens.signature(key, "csrf", f"{path}|")
    return client.post(path, data={"csrf": csrf}).status_code


def test_finding1_default_key_cannot_confirm_booking(database_url: str, tmp_path: Path, clock: Clock,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    settings = Settings.from_env({"DATABASE_URL": database_url, "MAILDIR": str(tmp_path / "outbox"),
                                  "RULES_FILE": str(ROOT / "rules" / "house.toml")})
    stored = tmp_path / "var" / "secret_key"
    assert settings.secret_key != OLD_DEFAULT_KEY and len(settings.secret_key) >= 32
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    assert stored.read_text().strip() == settings.secret_key
    again = Settings.from_env({"DATABASE_URL": database_url})
    assert again.secret_key == settings.secret_key  # links stay valid across restarts

    rt = Runtime(settings, load_house(settings.rules_file), Store(database_url), clock)
    try:
        client = WebClient(create_app(rt), rt.settings.base_url)
        booking_id, _ = book(rt, "anna@example.org", "Anna", DEC_1, DEC_5)
        before = snapshot(rt)
        for approver in ("ingeborg", "cornelia", "angelika"):
            assert _forged_approval(client, OLD_DEFAULT_KEY, approver, booking_id) == 403
            # even whoever learns the key cannot sign a name: links sign a random id
            assert _forged_approval(client, settings.secret_key, approver, booking_id) == 403
        assert snapshot(rt) == before
        with rt.store.reading() as session:
            found = queries.booking(session, booking_id)
            assert found is not None and found.state == State.PENDING
            assert all(d.verdict == Verdict.NO_RESPONSE for d in found.decisions)
        # the approver's real link still works and carries no name
        link = links.approver_action_url(rt, approver_link(rt, "ingeborg"), booking_id, "approve")
        assert "ingeborg" not in link
        assert client.submit(link).status_code == 200
    finally:
        rt.store.dispose()


def _start(tmp_path: Path, command: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "ADMIN_TOKEN")}
    base.update({"DATABASE_URL": f"sqlite:///{tmp_path / 'm.sqlite3'}",
                 "RULES_FILE": str(ROOT / "rules" / "house.toml"), **env})
    return subprocess.run([sys.executable, "-m", "mailbot.cli", command], cwd=tmp_path, env=base,
                          capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("variable,value", [
    ("SECRET_KEY", "x"), ("SECRET_KEY", OLD_DEFAULT_KEY), ("SECRET_KEY", "a" * 40),
    ("ADMIN_TOKEN", "a"), ("ADMIN_TOKEN", "admin-token"),
])
def test_finding1_weak_secrets_stop_serve_naming_the_variable(tmp_path: Path, variable: str,
                                                              value: str) -> None:
    result = _start(tmp_path, "serve", **{variable: value})
    assert result.returncode != 0
    assert f"configuration error: {variable}:" in result.stderr
    assert len(value) < 8 or value not in result.stderr  # named, never echoed


def test_finding1_doctor_reports_every_unsafe_setting_as_an_error(tmp_path: Path) -> None:
    result = _start(tmp_path, "doctor", SECRET_KEY=OLD_DEFAULT_KEY, ADMIN_TOKEN="a",
                    BASE_URL="http://127.0.0.1:8000")
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert any(line.startswith("FEHLER") and "SECRET_KEY" in line and "Beispielwert" in line
               for line in lines), result.stdout
    assert any(line.startswith("FEHLER") and "ADMIN_TOKEN" in line and "zu kurz" in line
               for line in lines), result.stdout
    plain = _start(tmp_path, "doctor", BASE_URL="http://buchung.example.org")
    assert any(line.startswith("FEHLER") and "BASE_URL" in line for line in plain.stdout.splitlines())
