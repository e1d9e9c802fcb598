"""Every labelled message in tests/corpus parses to its label (docs/parse-conventions.md)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from mailbot.understand import parse_message

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
TODAY = date(2026, 11, 23)
MESSAGES = sorted(CORPUS.glob("*.eml"))


@pytest.mark.parametrize("eml", MESSAGES, ids=[p.stem for p in MESSAGES])
def test_corpus_message_parses_to_its_label(eml: Path) -> None:
    label_file = eml.with_suffix(".json")
    if not label_file.exists():
        pytest.skip("label not written yet")
    expected = json.loads(label_file.read_text(encoding="utf-8"))
    got = parse_message(eml.read_bytes(), TODAY).as_json()
    # a label holds the six fields of the corpus format, and `ask` where it was labelled
    assert {key: got[key] for key in expected} == expected
