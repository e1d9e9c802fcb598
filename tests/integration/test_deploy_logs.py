"""Structured logs: one JSON object per line, a correlation id that follows an inbound
message to the mails it causes, and no addresses in the clear, bodies or secrets."""

from __future__ import annotations

import io
import json
import logging
import os
import signal
import smtplib
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from mailbot.logs import correlation, mask, setup_logging
from tests.conftest import ROOT
from tests.support.background import free_port, wait_for_port, wait_until


@pytest.fixture
def lines(monkeypatch: pytest.MonkeyPatch) -> Iterator[io.StringIO]:
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    stream = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stream)
    setup_logging("DEBUG")
    yield stream
    root.handlers[:] = saved[0]
    root.setLevel(saved[1])


def _parsed(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_each_event_is_one_json_line_with_its_fields(lines: io.StringIO) -> None:
    log = logging.getLogger("mailbot.test")
    log.info("outbox row sent", extra={"outbox_id": 7, "kind": "digest", "attempt": 1})
    log.warning("zwei\nZeilen")

    first, second = _parsed(lines)
    assert first["message"] == "outbox row sent" and first["level"] == "info"
    assert first["logger"] == "mailbot.test"
    assert (first["outbox_id"], first["kind"], first["attempt"]) == (7, "digest", 1)
    assert first["time"].endswith("+00:00")
    assert second["message"] == "zwei\nZeilen" and len(lines.getvalue().splitlines()) == 2


def test_the_correlation_id_comes_from_the_context_or_the_call(lines: io.StringIO) -> None:
    log = logging.getLogger("mailbot.test")
    with correlation("abc123"):
        log.info("inside")
        log.info("explicit wins", extra={"correlation_id": "other"})
    log.info("outside")

    inside, explicit, outside = _parsed(lines)
    assert inside["correlation_id"] == "abc123"
    assert explicit["correlation_id"] == "other"
    assert "correlation_id" not in outside


def test_addresses_are_masked_and_secrets_never_written(lines: io.StringIO) -> None:
    log = logging.getLogger("mailbot.test")
    log.info("mail from anna.berger@example.org refused",
             extra={"to": "ingeborg@example.org", "api_key": "re_live_123", "body": "Hallo Oma",
                    "recipients": ["cornelia@example.org"]})
    try:
        raise ValueError("bad address angelika@example.org")
    except ValueError:
        log.exception("failed")

    text = lines.getvalue()
    for clear in ("anna.berger@example.org", "ingeborg@example.org", "cornelia@example.org",
                  "angelika@example.org", "re_live_123", "Hallo Oma"):
        assert clear not in text
    first, failed = _parsed(lines)
    assert mask("anna.berger@example.org") in first["message"]
    assert first["to"] == mask("ingeborg@example.org")
    assert failed["error"] == "ValueError"


def test_masked_addresses_stay_distinguishable() -> None:
    assert mask("anna@example.org") != mask("arno@example.org")
    assert mask("Anna@Example.org") == mask("anna@example.org")
    assert (mask("anna@example.org") or "").endswith("@example.org#" + (mask("anna@example.org")
                                                                     or "").rsplit("#", 1)[1])


SECRET, ADMIN = "secret-value-not-for-logs-0123456789", "admin-token-not-for-logs-0123456789"


@pytest.fixture(scope="module")
def served_log(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    """The log of `mailbot serve` that took one booking request by SMTP and sent its four
    mails (acknowledgement and three approver requests). Every line must be JSON."""
    tmp_path = tmp_path_factory.mktemp("serve-log")
    smtp, web = free_port(), free_port()
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'mailbot.sqlite3'}",
           "RULES_FILE": str(ROOT / "rules" / "house.toml"), "SMTP_LISTEN": f"127.0.0.1:{smtp}",
           "WEB_LISTEN": f"127.0.0.1:{web}", "MAIL_TRANSPORT": "maildir",
           "MAILDIR": str(tmp_path / "outbox"), "SECRET_KEY": SECRET, "ADMIN_TOKEN": ADMIN,
           "LOG_LEVEL": "DEBUG"}
    env.pop("IMAP_URL", None)
    log_path = tmp_path / "serve.log"
    with log_path.open("wb") as log_file:
        process = subprocess.Popen([sys.executable, "-m", "mailbot.cli", "serve"], cwd=tmp_path,
                                   env=env, stdout=log_file, stderr=subprocess.STDOUT)
    try:
        wait_for_port(smtp, timeout=60)
        body = "Hallo, wir würden gern vom 3. bis 7. August 2027 zu viert kommen.\r\n\r\nLG Anna\r\n"
        message = (f"From: Anna Berger <anna.berger@example.org>\r\nTo: buchung@haus-betzenstein.de\r\n"
                   f"Subject: Haus im August\r\nMessage-ID: <log-test-1@example.org>\r\n"
                   f"Content-Type: text/plain; charset=utf-8\r\n\r\n{body}").encode()
        with smtplib.SMTP("127.0.0.1", smtp, timeout=30) as client:
            client.sendmail("anna.berger@example.org", ["buchung@haus-betzenstein.de"], message)
        new = tmp_path / "outbox" / "new"
        wait_until(lambda: new.is_dir() and len(list(new.iterdir())) >= 4, timeout=60)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
    text = log_path.read_text()
    for clear in ("anna.berger@example.org", "ingeborg@example.org", "wir würden gern", SECRET, ADMIN):
        assert clear not in text, clear
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_serve_logs_only_json_lines_without_addresses_bodies_or_secrets(
        served_log: list[dict[str, Any]]) -> None:
    assert served_log
    assert all({"time", "level", "logger", "message"} <= set(e) for e in served_log)


def test_a_request_by_smtp_leaves_one_correlation_id_from_inbox_to_sent_mails(
        served_log: list[dict[str, Any]]) -> None:
    received = [e for e in served_log if e.get("correlation_id") and "inbound" in e["logger"]]
    assert received, "the inbound side logs the message with its correlation id"
    cid = received[0]["correlation_id"]
    sent = [e for e in served_log if e.get("correlation_id") == cid and "outbound" in e["logger"]]
    assert len(sent) >= 4, "each of the four mails it caused is logged with the same id"
