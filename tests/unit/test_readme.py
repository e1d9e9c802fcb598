"""The README's first-request line must mean what the README says it means (the whole
walkthrough runs in tests/e2e/test_readme_walkthrough.py)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MAILBOT = Path(sys.executable).with_name("mailbot")


def _first_request_line() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(r"^printf .*\| \.venv/bin/mailbot ingest$", readme, re.MULTILINE)
    assert match, "the README shows the first request as a printf … | mailbot ingest line"
    return match.group(0)


def test_readme_first_request_is_understood_as_anna_for_four_in_august() -> None:
    printf = _first_request_line().rsplit("|", 1)[0]
    raw = subprocess.run(["bash", "-c", printf], capture_output=True, check=True).stdout
    result = subprocess.run([str(MAILBOT), "parse", "--today", "2026-11-23", "-"], input=raw,
                            capture_output=True, check=True)
    assert json.loads(result.stdout) == {
        "intent": "request", "start": "2027-08-03", "end": "2027-08-07", "party_size": 4,
        "first_name": "Anna", "comment": None, "ask": [], "machine": None,
        "reply": "Hallo, wir würden gern vom 3. bis 7. August zu viert kommen.\n\nLG Anna",
    }
