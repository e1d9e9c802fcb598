"""Issue 16: templates/ and rules/ live beside the package in the repository, yet a plain
wheel works too. The wheel is built from the repository's files, installed into a fresh
venv outside the checkout, and that install handles one request from a folder that has no
templates/ or rules/: the acknowledgement lands in the Maildir."""

from __future__ import annotations

import email
import shutil
import subprocess
import sys
from email import policy
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.e2e

REQUEST = (b"From: Anna Berger <anna@example.org>\r\nTo: buchung@haus-betzenstein.de\r\n"
           b"Subject: Haus im August\r\nMessage-ID: <wheel-1@example.org>\r\n"
           b"Content-Type: text/plain; charset=utf-8\r\n\r\n"
           b"Hallo, wir w\xc3\xbcrden gern vom 3. bis 7. August zu viert kommen.\r\n\r\nLG Anna\r\n")


def _run(*args: str | Path, cwd: Path, **kwargs: object) -> subprocess.CompletedProcess[bytes]:
    done = subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, timeout=300, **kwargs)  # type: ignore[call-overload]
    assert done.returncode == 0, (args, done.stdout[-2000:], done.stderr[-2000:])
    return done  # type: ignore[no-any-return]


def test_a_wheel_installed_outside_the_checkout_answers_a_request(tmp_path: Path) -> None:
    source = tmp_path / "source"  # only what git tracks, as a clone would have it
    files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True)
    for name in files.stdout.decode().split("\0"):
        if name and (ROOT / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, source / name)
    pip = Path(sys.executable).with_name("pip")
    _run(pip, "wheel", "-q", "--no-deps", "-w", tmp_path / "dist", source, cwd=tmp_path)
    (wheel,) = (tmp_path / "dist").glob("mailbot-*.whl")
    venv = tmp_path / "venv"
    _run(sys.executable, "-m", "venv", venv, cwd=tmp_path)
    _run(venv / "bin" / "pip", "install", "-q", wheel, cwd=tmp_path)
    shutil.rmtree(source)  # nothing of the checkout is left to lean on

    home = tmp_path / "house"
    home.mkdir()
    mailbot = venv / "bin" / "mailbot"
    _run(mailbot, "migrate", cwd=home)
    _run(mailbot, "ingest", cwd=home, input=REQUEST)
    assert b"1 Nachricht" in _run(mailbot, "jobs", "run", "inbox-sweep", cwd=home).stdout
    assert b"4 Mails" in _run(mailbot, "jobs", "run", "outbox-sweep", cwd=home).stdout

    mails = [email.message_from_bytes(path.read_bytes(), policy=policy.default)
             for path in (home / "var" / "outbox" / "new").iterdir()]
    kinds = sorted((str(m["X-Mailbot-Kind"]), str(m["To"])) for m in mails)
    assert kinds == [("request_received", "anna@example.org"),
                     *sorted(("request_submitted", str(a.email)) for a in _approvers(mailbot, home))]
    (ack,) = [m for m in mails if m["To"] == "anna@example.org"]
    assert "(03.–07.08." in ack["Subject"]
    text = ack.get_body(preferencelist=("plain",)).get_content()
    assert "Anna" in text and "http://127.0.0.1:8000/p/" in text  # rendered from the shipped templates


def _approvers(mailbot: Path, home: Path) -> list[object]:
    """The approvers of the rules file the installed package ships."""
    python = mailbot.with_name("python")
    found = _run(python, "-c", "from mailbot.config import load_house; "
                 "print(' '.join(a.email for a in load_house('rules/house.toml').approvers))", cwd=home)
    return [type("Approver", (), {"email": e}) for e in found.stdout.decode().split()]
