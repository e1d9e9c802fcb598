"""Every fixture of the shared real-mail folder keeps the outcome pinned in
tests/realmail/outcomes.json (issue 15), so nothing falls back: replies agree with their source
project (tests/realmail/replies.json), machine mail is recognised with its reason, human mail
is answered, and no file crashes, hangs or decodes headers to mojibake.

The folder is REALMAIL_DIR (default /work/shared/realmail); re-pin with
`.venv/bin/python bench/realmail.py --pin` after a reviewed improvement."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))

import realmail  # noqa: E402

PINNED = json.loads(realmail.PINNED.read_text("utf-8"))

pytestmark = pytest.mark.skipif(not realmail.REALMAIL.is_dir(),
                                reason=f"no real-mail fixtures at {realmail.REALMAIL}")


@pytest.fixture(scope="module")
def outcomes() -> dict[str, dict[str, str]]:
    return realmail.run()


def test_every_fixture_keeps_its_pinned_outcome(outcomes: dict[str, dict[str, str]]) -> None:
    changed = {key: (PINNED.get(key), got) for key, got in outcomes.items()
               if PINNED.get(key) != got}
    missing = sorted(set(PINNED) - set(outcomes))
    assert not changed and not missing, (changed, missing)


def test_german_and_english_replies_agree_and_lose_no_new_text(
        outcomes: dict[str, dict[str, str]]) -> None:
    replies = [e for e in outcomes.values() if e["kind"] == "reply" and e["language"] != "other"]
    agree = sum(e["outcome"] == "agree" for e in replies)
    assert len(replies) >= 140
    assert agree / len(replies) >= 0.97
    assert [e for e in replies if e["outcome"] == "lost"] == []


def test_every_machine_mail_is_recognised_and_no_human_mail_ignored(
        outcomes: dict[str, dict[str, str]]) -> None:
    machine = {k: e for k, e in outcomes.items() if e["kind"] == "machine"}
    human = {k: e for k, e in outcomes.items() if e["kind"] == "human"}
    assert len(machine) >= 800 and len(human) >= 15
    assert [k for k, e in machine.items() if e["outcome"] != "recognised"] == []
    assert [k for k, e in human.items() if e["outcome"] != "answered"] == []


def test_no_file_crashes_hangs_or_decodes_headers_to_mojibake(
        outcomes: dict[str, dict[str, str]]) -> None:
    bad = {k: e["outcome"] for k, e in outcomes.items()
           if e["outcome"] in ("crash", "slow", "mojibake")}
    assert bad == {}
