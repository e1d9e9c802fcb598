"""bench/parse.py counts a wrong field that the parser asks about apart from a silent one."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

_MAIL = ("From: Anna Berger <anna@example.de>\nSubject: Anfrage\n"
         "Content-Type: text/plain; charset=utf-8\n\n{}\n\nLG Anna\n")
_LABEL = {"intent": "request", "party_size": 2, "first_name": "Anna", "comment": None}


def _write(folder: Path, name: str, body: str, start: str, end: str) -> None:
    (folder / f"{name}.eml").write_text(_MAIL.format(body), "utf-8")
    (folder / f"{name}.json").write_text(json.dumps({**_LABEL, "start": start, "end": end}),
                                         "utf-8")


def test_silent_misreads_are_wrong_fields_not_asked_about(tmp_path: Path) -> None:
    # read right; read wrong but asked about (two stays named); read wrong and silent
    _write(tmp_path, "001", "Wir kommen vom 3. bis 5. Juli, zu zweit.", "2027-07-03",
           "2027-07-05")
    _write(tmp_path, "002", "Wir kommen vom 3. bis 5. Juli oder vom 10. bis 12. Juli, zu zweit.",
           "2027-07-10", "2027-07-12")
    _write(tmp_path, "003", "Wir kommen vom 3. bis 5. Juli, zu zweit.", "2027-07-04",
           "2027-07-05")
    out = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "parse.py"), "--corpus", str(tmp_path),
         "--runs", "0", "--no-write"], check=True, capture_output=True, text=True).stdout
    assert "exact 33.3% (1/3), silent misreads 33.3% (1/3) (acted on 33.3% (1/3)), asked 1" in out
    assert "002: start, end (asked: start, end)" in out
    assert "003: start" in out
