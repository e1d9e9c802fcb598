"""The benchmark and drill scripts of bench/ run end to end on tiny inputs, so they cannot
rot unnoticed. Nothing here is timed; the figures live in bench/RESULTS.md."""

from __future__ import annotations

import argparse
import random

import pytest

from bench import hotpath, ingest, lib
from bench.drills import fuzz, kill9, one_booking_storm, pg_restart, resend_outage

pytestmark = pytest.mark.e2e


def test_the_load_generator_retries_like_an_mta_until_the_service_answers() -> None:
    port = lib.free_port()
    message = lib.request_mail(1, *lib.Slots().next())
    # nobody listens on the port: every attempt is a refused connection, retried, then given up
    [delivery] = lib.send(port, [message], policy=lib.RetryPolicy(delays=(0.01,), max_attempts=3))
    assert not delivery.accepted
    assert delivery.attempts == 3
    assert all(answer.startswith("connection") for answer in delivery.answers)


def test_wire_format_dot_stuffs_and_ends_with_a_lone_dot() -> None:
    assert lib.wire(b"a\n.b\n") == b"a\r\n..b\r\n.\r\n"


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_ingest_processes_the_realistic_mix_and_joins_every_250_to_its_outcome(kind: str) -> None:
    args = argparse.Namespace(seed=1, rate=4.0, rate_seconds=1.0, messages=8, max_seeds=6,
                              concurrency=4, timeout=120.0, profile=False, keep=False, workers=1)
    results = ingest.bench_database(kind, args)
    for phase in ("seed", "fixed_rate", "burst"):
        got = results[phase]
        assert got["accepted"] == got["sent"] > 0
        assert got["settled"] and got["drained"]
        assert got["unmatched_250"] == 0
        assert got["latency"]["n"] == got["sent"]
    assert results["burst"]["mix"].keys() <= {"request", "approve", "deny", "status"}
    assert results["service_errors"] == 0


def test_hotpath_measures_each_kind_and_shows_the_statements_of_a_reply(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert hotpath.main(["--db", "sqlite", "--messages", "6", "--sql", "reply"]) == 0
    out = capsys.readouterr().out
    for kind, handled in (("request", 6), ("reply", 5), ("status", 6)):  # one reply is shown
        assert f"sqlite {kind}: stored {handled + (kind == 'reply')} messages one by one" in out
        assert f"sqlite {kind}: {handled} messages," in out
        assert f"sqlite {kind}: sent " in out
    shown = out.split("sqlite reply: the statements of one message", 1)[1]
    assert "UPDATE decisions SET verdict" in shown  # the approval itself


def test_the_profile_summary_reads_collapsed_stacks(tmp_path) -> None:  # type: ignore[no-untyped-def]
    raw = tmp_path / "p.txt"
    raw.write_text("run (threading.py:1);handle (/x/mailbot/inbound/worker.py:3) 3\n"
                   "run (threading.py:1);send (/x/mailbot/outbound/transports.py:9) 1\n")
    summary = ingest.summarize_profile(raw)
    assert summary["samples"] == 4
    assert summary["self_pct"][0] == ("handle (mailbot/inbound/worker.py)", 75.0)


def test_kill9_drill_loses_nothing_acknowledged(capsys: pytest.CaptureFixture[str]) -> None:
    kill9.run("sqlite", messages=30, interval=1.0, max_kills=2, seed=1, timeout=300,
              concurrency=4, outbox_wait=30)
    out = capsys.readouterr().out
    assert "kills in" in out
    failed = [line for line in out.splitlines() if "[FAIL]" in line]
    # a row claimed by a killed process waits for its lease: a delay, reported, not a loss
    assert [line for line in failed if "the outbox drained" not in line] == []


@pytest.mark.postgres
def test_pg_restart_drill_checks_hold_without_the_outage() -> None:
    # the real outage stops this machine's cluster, which other tests share: not in the suite
    assert pg_restart.run(messages=6, rate=6.0, after=0.2, seconds=0.5, seed=1, timeout=120,
                          dry=True) == 0


def test_fuzz_drill_records_every_hostile_message_with_a_reason() -> None:
    assert fuzz.run("sqlite", count=40, seed=2, rss_limit_mib=1024, timeout=300, keep=False) == 0


def test_every_fuzz_generator_makes_bytes() -> None:
    rng = random.Random(0)
    for make, _ in fuzz.GENERATORS:
        message = fuzz.long_line(rng, 1, size=10000) if make is fuzz.long_line else make(rng, 1)
        assert isinstance(message.data, bytes) and message.data


@pytest.mark.postgres
def test_one_booking_storm_gives_one_outcome() -> None:
    assert one_booking_storm.run("postgres", replies=12, shares=[1.0, 0.0], seed=1, timeout=120,
                                 keep=False) == 0


def test_resend_outage_drill_delivers_each_mail_once() -> None:
    assert resend_outage.run("sqlite", outage=3.0, rate=1.0, seed=1, timeout=300, keep=False) == 0


@pytest.mark.postgres
def test_history_seeds_both_databases_and_prints_every_row(capsys: pytest.CaptureFixture[str]) -> None:
    from bench import history

    assert history.main(["--scale", "0.01", "--rounds", "1", "--samples", "3", "--messages", "2",
                         "--clients", "2", "--seconds", "1"]) == 0
    out = capsys.readouterr().out
    assert "full: seeded 60 bookings" in out
    for row in ("| processing a request |", "| approver overview |", "| admin log by address |",
                "| /metrics |", "| serve RSS after the pages |", "| mailbot log, every line |"):
        assert row in out
