"""BR-022 through the real Resend SDK against a local Resend-compatible server that fails:
retries after 2 s, 4 s, 8 s (on the test's clock), the same content every time, every
message delivered exactly once, and a message that never got through stays visible."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from mailbot import actions
from mailbot.core import booking as rules
from mailbot.outbound import worker
from mailbot.outbound.transports import ResendTransport
from mailbot.runtime import Cause, Runtime
from mailbot.store.tables import OutboxMessage
from tests.conftest import Clock
from tests.support.resend_server import ResendServer

pytestmark = pytest.mark.e2e
CLIENT_TIMEOUT = 0.5


@pytest.fixture
def server() -> Iterator[ResendServer]:
    with ResendServer() as running:
        yield running


@pytest.fixture
def transport(server: ResendServer) -> ResendTransport:
    return ResendTransport(server.api_key, server.url, timeout=CLIENT_TIMEOUT)


def request_booking(rt: Runtime) -> None:
    """A request: four mails queued (three approvers, one acknowledgement)."""
    with rt.store.transaction() as session:
        request = rules.Request("anna@example.com", "Anna", date(2027, 12, 30), date(2028, 1, 2), 1)
        actions.submit(rt, session, request, Cause.new())


def rows(rt: Runtime) -> list[OutboxMessage]:
    with rt.store.reading() as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def test_mails_arrive_through_the_sdk_with_everything_recorded(
        rt: Runtime, server: ResendServer, transport: ResendTransport) -> None:
    request_booking(rt)
    assert worker.send_due(rt, transport=transport) == 4
    sent = rows(rt)
    assert {m.state for m in sent} == {"sent"}
    by_key = {d.idempotency_key: d for d in server.deliveries}
    assert len(by_key) == 4
    for row in sent:
        delivery = by_key[row.idempotency_key]
        assert row.provider_id == delivery.id and row.sent_at == rt.now()
        assert delivery.body["to"] == [row.to_address]
        assert delivery.body["subject"] == row.subject
        assert delivery.body["reply_to"] == row.reply_to
        assert delivery.body["text"] == row.text_body and delivery.body["html"] == row.html_body
        assert delivery.body["headers"]["Message-ID"] == row.message_id
        assert delivery.body["headers"]["Auto-Submitted"] == "auto-generated"
        assert delivery.body["from"] == "Haus Betzenstein <buchung@haus-betzenstein.de>"
    assert "(30.12.2027–02.01.2028)" in sent[0].subject


def test_br022_server_errors_are_retried_after_2_4_8_seconds_then_delivered_once(
        rt: Runtime, clock: Clock, server: ResendServer, transport: ResendTransport) -> None:
    request_booking(rt)
    started = clock()
    server.fail_next(4 * 3, status=500)  # every message fails three times
    waits = []
    for expected_wait in (2, 4, 8):
        assert worker.send_due(rt, transport=transport) == 4
        states = rows(rt)
        assert {m.state for m in states} == {"retrying"}
        assert {m.next_attempt_at - clock() for m in states} == {timedelta(seconds=expected_wait)}
        assert all("500" in (m.last_error or "") for m in states)
        # nothing is due before its time
        clock.advance(seconds=expected_wait - 1)
        assert worker.send_due(rt, transport=transport) == 0
        clock.advance(seconds=1)
        waits.append(expected_wait)
    assert worker.send_due(rt, transport=transport) == 4
    done = rows(rt)
    assert {m.state for m in done} == {"sent"}
    assert {m.attempts for m in done} == {4}
    assert clock() - started == timedelta(seconds=sum(waits))
    assert len(server.deliveries) == 4
    assert server.answers.count(500) == 12


def test_br022_rate_limit_waits_at_least_the_schedule_or_the_retry_after(
        rt: Runtime, clock: Clock, server: ResendServer, transport: ResendTransport) -> None:
    request_booking(rt)
    server.fail_next(4, status=429, retry_after=1)
    worker.send_due(rt, transport=transport)
    assert {m.next_attempt_at - clock() for m in rows(rt)} == {timedelta(seconds=2)}
    clock.advance(seconds=2)
    server.fail_next(4, status=429, retry_after=30)
    worker.send_due(rt, transport=transport)
    assert {m.next_attempt_at - clock() for m in rows(rt)} == {timedelta(seconds=30)}
    clock.advance(seconds=29)
    assert worker.send_due(rt, transport=transport) == 0
    clock.advance(seconds=1)
    assert worker.send_due(rt, transport=transport) == 4
    assert {m.state for m in rows(rt)} == {"sent"}
    assert len(server.deliveries) == 4


def test_br022_a_timeout_after_the_server_took_the_mail_never_delivers_twice(
        rt: Runtime, clock: Clock, server: ResendServer, transport: ResendTransport) -> None:
    request_booking(rt)
    server.hang_next(2, seconds=CLIENT_TIMEOUT * 4)
    worker.send_due(rt, transport=transport)
    states = sorted(m.state for m in rows(rt))
    assert states == ["retrying", "retrying", "sent", "sent"]
    timed_out = [m for m in rows(rt) if m.state == "retrying"]
    assert all("imed out" in (m.last_error or "") for m in timed_out)
    # the server already holds them: the retry must not make a second delivery
    assert len(server.deliveries) == 4
    clock.advance(seconds=2)
    assert worker.send_due(rt, transport=transport) == 2
    final = rows(rt)
    assert {m.state for m in final} == {"sent"}
    assert len(server.deliveries) == 4
    ids = {d.idempotency_key: d.id for d in server.deliveries}
    assert all(m.provider_id == ids[m.idempotency_key] for m in final)


def test_br022_a_mail_that_never_gets_through_stays_failed_and_can_be_sent_again(
        rt: Runtime, clock: Clock, server: ResendServer, transport: ResendTransport,
        caplog: pytest.LogCaptureFixture) -> None:
    request_booking(rt)
    server.fail_next(1000, status=503)
    caplog.set_level(logging.WARNING, logger="mailbot.outbound")
    for wait in (2, 4, 8, 0):
        worker.send_due(rt, transport=transport)
        clock.advance(seconds=wait)
    failed = rows(rt)
    assert {m.state for m in failed} == {"failed"}
    assert {m.attempts for m in failed} == {4}
    assert all("503" in (m.last_error or "") for m in failed)
    clock.advance(hours=1)
    assert worker.send_due(rt, transport=transport) == 0  # failed is final until the admin acts
    # every failure is logged with its correlation id (4 messages × 4 attempts)
    records = [r for r in caplog.records if r.name == "mailbot.outbound"]
    assert len(records) == 16
    assert {r.__dict__["correlation_id"] for r in records} == {m.correlation_id for m in failed}
    assert sum(r.levelno == logging.ERROR for r in records) == 4

    server.heal()
    first = failed[0]
    assert worker.resend(rt, first.id) is True
    assert worker.resend(rt, first.id) is False  # already queued again
    assert worker.send_due(rt, transport=transport) == 1
    after = {m.id: m for m in rows(rt)}
    assert after[first.id].state == "sent"
    assert after[first.id].text_body == first.text_body  # never re-rendered
    assert [m.state for m in after.values()].count("failed") == 3
    assert len(server.deliveries) == 1


def test_a_refused_message_fails_at_once(rt: Runtime, server: ResendServer) -> None:
    request_booking(rt)
    wrong_key = ResendTransport("re_wrong", server.url, timeout=CLIENT_TIMEOUT)
    worker.send_due(rt, transport=wrong_key)
    refused = rows(rt)
    assert {m.state for m in refused} == {"failed"}
    assert {m.attempts for m in refused} == {1}
    assert server.deliveries == []


def test_mail_transport_resend_is_chosen_by_settings(rt: Runtime, server: ResendServer) -> None:
    rt.settings = dataclasses.replace(rt.settings, mail_transport="resend",
                                      resend_api_key=server.api_key, resend_api_url=server.url)
    request_booking(rt)
    assert worker.send_due(rt) == 4
    assert {m.state for m in rows(rt)} == {"sent"}
    assert len(server.deliveries) == 4
    assert {d.headers["Authorization"] for d in server.deliveries} == {f"Bearer {server.api_key}"}
