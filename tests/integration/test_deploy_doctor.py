"""`mailbot doctor` as an operator runs it: every check against the real thing (SQLite and
PostgreSQL, an SMTP server, a Resend-compatible HTTP API, sockets), plain German, exit 1 when
something is wrong."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from mailbot.store.db import migrate
from tests.conftest import ROOT
from tests.support.background import free_port
from tests.support.resend_server import ResendServer


class _Sink:
    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:  # noqa: N802
        return "250 OK"


@pytest.fixture
def smtp_server() -> Iterator[int]:
    port = free_port()
    controller = Controller(_Sink(), hostname="127.0.0.1", port=port)
    controller.start()
    yield port
    controller.stop()


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    url = f"sqlite:///{tmp_path / 'mailbot.sqlite3'}"
    return {"DATABASE_URL": url, "RULES_FILE": str(ROOT / "rules" / "house.toml"),
            "MAILDIR": str(tmp_path / "outbox"), "MAIL_TRANSPORT": "maildir",
            "SMTP_LISTEN": f"127.0.0.1:{free_port()}", "WEB_LISTEN": f"127.0.0.1:{free_port()}",
            "SECRET_KEY": "a-long-random-secret-for-the-doctor-test",
            "ADMIN_TOKEN": "an-admin-token-for-the-doctor-test"}


def doctor(tmp_path: Path, env: dict[str, str]) -> tuple[int, str]:
    clean = {k: v for k, v in os.environ.items() if k not in env and k != "IMAP_URL"}
    result = subprocess.run([sys.executable, "-m", "mailbot.cli", "doctor"], cwd=tmp_path,
                            env={**clean, **env}, capture_output=True, text=True, timeout=60)
    return result.returncode, result.stdout + result.stderr


def _line(output: str, what: str) -> str:
    return next(line for line in output.splitlines() if f" {what}:" in line)


def test_doctor_on_a_fresh_install_asks_for_migrate_and_then_is_happy(tmp_path: Path,
                                                                        env: dict[str, str]) -> None:
    code, output = doctor(tmp_path, env)
    assert code == 1
    assert _line(output, "Datenbank").startswith("FEHLER")
    assert "mailbot migrate" in _line(output, "Datenbank")

    migrate(env["DATABASE_URL"])
    code, output = doctor(tmp_path, env)
    assert code == 0, output
    assert output.strip().endswith("Alles in Ordnung.")
    for what in ("Konfiguration", "Hausregeln", "Datenbank", "Migrationen", "Postausgang (maildir)",
                 "Posteingang (SMTP)", "Web"):
        assert _line(output, what).startswith("OK"), what


@pytest.mark.postgres
def test_doctor_checks_postgresql_and_its_migrations(tmp_path: Path, env: dict[str, str],
                                                     pg_url: str) -> None:
    env["DATABASE_URL"] = pg_url
    code, output = doctor(tmp_path, env)
    assert code == 0, output
    assert _line(output, "Migrationen").startswith("OK")


def test_doctor_says_when_the_database_is_not_reachable(tmp_path: Path, env: dict[str, str]) -> None:
    env["DATABASE_URL"] = f"postgresql://postgres:geheim123@127.0.0.1:{free_port()}/mailbot"
    code, output = doctor(tmp_path, env)
    assert code == 1
    line = _line(output, "Datenbank")
    assert line.startswith("FEHLER") and "nicht erreichbar" in line and "DATABASE_URL" in line
    assert "geheim123" not in output


def test_doctor_stops_at_a_wrong_setting_and_names_it(tmp_path: Path, env: dict[str, str]) -> None:
    env["MAIL_TRANSPORT"] = "brieftaube"
    code, output = doctor(tmp_path, env)
    assert code == 1
    assert "MAIL_TRANSPORT" in output and "maildir, smtp, resend, console" in output
    assert "Traceback" not in output


def test_doctor_names_a_missing_rules_file(tmp_path: Path, env: dict[str, str]) -> None:
    migrate(env["DATABASE_URL"])
    env["RULES_FILE"] = str(tmp_path / "fehlt.toml")
    code, output = doctor(tmp_path, env)
    assert code == 1
    assert "fehlt.toml gibt es nicht" in _line(output, "Hausregeln")


def test_doctor_finds_a_maildir_it_cannot_write(tmp_path: Path, env: dict[str, str]) -> None:
    migrate(env["DATABASE_URL"])
    (tmp_path / "eine-datei").write_text("kein Ordner")
    env["MAILDIR"] = str(tmp_path / "eine-datei" / "outbox")
    code, output = doctor(tmp_path, env)
    assert code == 1
    assert _line(output, "Postausgang (maildir)").startswith("FEHLER")
    assert "MAILDIR" in _line(output, "Postausgang (maildir)")


def test_doctor_talks_to_the_outbound_smtp_server(tmp_path: Path, env: dict[str, str],
                                                  smtp_server: int) -> None:
    migrate(env["DATABASE_URL"])
    env.update(MAIL_TRANSPORT="smtp", OUTBOUND_SMTP_URL=f"smtp://127.0.0.1:{smtp_server}")
    code, output = doctor(tmp_path, env)
    assert code == 0, output
    assert _line(output, "Postausgang (SMTP)").startswith("OK")


def test_doctor_reports_an_unreachable_smtp_relay_without_its_password(tmp_path: Path,
                                                                        env: dict[str, str]) -> None:
    migrate(env["DATABASE_URL"])
    env.update(MAIL_TRANSPORT="smtp",
               OUTBOUND_SMTP_URL=f"smtp://bot:streng-geheim@127.0.0.1:{free_port()}")
    code, output = doctor(tmp_path, env)
    assert code == 1
    assert "Verbindung abgelehnt" in _line(output, "Postausgang (SMTP)")
    assert "streng-geheim" not in output


def test_doctor_reaches_the_resend_api(tmp_path: Path, env: dict[str, str]) -> None:
    migrate(env["DATABASE_URL"])
    with ResendServer() as server:
        env.update(MAIL_TRANSPORT="resend", RESEND_API_KEY=server.api_key, RESEND_API_URL=server.url)
        code, output = doctor(tmp_path, env)
    assert code == 0, output
    assert _line(output, "Postausgang (Resend)").startswith("OK")
    assert server.api_key not in output

    env["RESEND_API_URL"] = f"http://127.0.0.1:{free_port()}"
    code, output = doctor(tmp_path, env)
    assert code == 1
    assert "nicht erreichbar" in _line(output, "Postausgang (Resend)")


def test_doctor_knows_a_running_smtp_listener_from_a_foreign_program(tmp_path: Path,
                                                                     env: dict[str, str],
                                                                     smtp_server: int) -> None:
    migrate(env["DATABASE_URL"])
    env["SMTP_LISTEN"] = f"127.0.0.1:{smtp_server}"  # an SMTP server already answers there
    code, output = doctor(tmp_path, env)
    assert code == 0, output
    assert "schon in Betrieb" in _line(output, "Posteingang (SMTP)")

    with socket.socket() as foreign:
        foreign.bind(("127.0.0.1", 0))
        foreign.listen()
        env["SMTP_LISTEN"] = f"127.0.0.1:{foreign.getsockname()[1]}"
        code, output = doctor(tmp_path, env)
    assert code == 1
    line = _line(output, "Posteingang (SMTP)")
    assert line.startswith("FEHLER") and "anderen Programm belegt" in line


def test_doctor_reports_an_imap_mailbox_it_cannot_reach(tmp_path: Path, env: dict[str, str]) -> None:
    migrate(env["DATABASE_URL"])
    env["IMAP_URL"] = f"imap://bot:pw-xyz@127.0.0.1:{free_port()}/INBOX"
    code, output = doctor(tmp_path, env)
    assert code == 1
    assert "nicht erreichbar" in _line(output, "Posteingang (IMAP)")
    assert "pw-xyz" not in output


def test_finding3_doctor_flags_a_public_smtp_listener_without_starttls(tmp_path: Path,
                                                                        env: dict[str, str]) -> None:
    migrate(env["DATABASE_URL"])
    env["SMTP_LISTEN"] = f"0.0.0.0:{free_port()}"
    code, output = doctor(tmp_path, env)
    assert code == 1
    assert "STARTTLS" in _line(output, "SMTP_TLS_CERT")


def test_finding3_doctor_flags_imap_without_a_trusted_authserv_id(tmp_path: Path,
                                                                   env: dict[str, str]) -> None:
    migrate(env["DATABASE_URL"])
    env["IMAP_URL"] = f"imap://bot:pw-xyz@127.0.0.1:{free_port()}/INBOX"
    code, output = doctor(tmp_path, env)
    assert code == 1
    assert "authserv-id" in _line(output, "TRUSTED_AUTHSERV_ID")
    env["TRUSTED_AUTHSERV_ID"] = "mx.example.net"
    assert not any(" TRUSTED_AUTHSERV_ID:" in line for line in doctor(tmp_path, env)[1].splitlines())
