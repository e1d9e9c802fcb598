"""kill -9 of `mailbot serve` during a burst of 500 messages from clients that retry like an
MTA: every message that got a 250 is processed exactly once, and no email is sent twice.
The checks are those of bench/drills/kill9.py, which prints each one."""

from __future__ import annotations

import pytest

from bench.drills import kill9

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]


@pytest.mark.parametrize("db", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_kill9_during_a_500_message_burst_loses_nothing_and_sends_nothing_twice(
        db: str, capsys: pytest.CaptureFixture[str]) -> None:
    code = kill9.main(["--db", db, "--messages", "500", "--interval", "2", "--max-kills", "8",
                       "--outbox-wait", "120", "--timeout", "600"])
    report = capsys.readouterr().out
    assert code == 0, report
    assert "[FAIL" not in report and "all checks passed" in report
