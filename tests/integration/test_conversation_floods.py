"""Finding 5 (SPEC §5 "Bounded"): floods and loops. New requests by mail are limited per hour
house-wide, answers per recipient and day (status answers too), and a conversation that only
bounces answers back and forth is stopped — also when the partner writes from a new address
each time. The limits live in rules/house.toml."""

from __future__ import annotations

import dataclasses

import pytest

from mailbot.runtime import Runtime
from tests.conftest import Clock
from tests.support.conversation import Mailbox

HANS = "hans@example.net"
LOOP = "Danke. Wie ist der Status?"


@pytest.fixture
def mail(rt: Runtime) -> Mailbox:
    return Mailbox(rt)


def limits(rt: Runtime, **values: int) -> None:
    rt.house = dataclasses.replace(rt.house, limits=dataclasses.replace(rt.house.limits, **values))


def request(mail: Mailbox, sender: str, day: int = 3) -> str:
    return mail.send(sender, f"Hallo,\nwir kommen vom {day}. bis {day + 2}. März 2027 zu zweit.\n\nLG Hans"
                     ).reason or ""


def test_finding5_new_requests_per_hour_are_limited_house_wide(mail: Mailbox, rt: Runtime,
                                                               clock: Clock) -> None:
    limits(rt, new_requests_per_hour=3)
    reasons = [request(mail, f"fremd{n}@example.net", day=1 + 3 * n) for n in range(5)]
    assert reasons == ["submitted"] * 3 + ["house_busy"] * 2
    assert mail.outbox(to="fremd4@example.net") == []  # a flood's senders are not answered
    assert len(mail.outbox(kind="request_submitted")) == 3 * 3
    clock.advance(minutes=61)
    assert request(mail, "fremd9@example.net", day=20) == "submitted"


def test_finding5_answers_per_recipient_and_day_include_status_answers(mail: Mailbox,
                                                                       rt: Runtime) -> None:
    assert request(mail, HANS) == "submitted"
    for _ in range(rt.house.limits.answers_per_recipient_per_day + 5):
        mail.send(HANS, "Hallo, wie ist der Stand meiner Anfrage?\n\nHans", subject="Status")
    assert len(mail.outbox(to=HANS, kind="status")) == rt.house.limits.answers_per_recipient_per_day


def test_finding5_a_partner_answering_danke_status_does_not_loop(mail: Mailbox, rt: Runtime) -> None:
    assert request(mail, HANS) == "submitted"
    last = mail.last(HANS, "request_received")
    rounds = []
    for _ in range(20):
        row = mail.reply(HANS, last, LOOP)
        rounds.append(row.reason)
        answers = [m for m in mail.outbox(to=HANS) if m.id > last.id]
        if not answers:
            break
        last = answers[-1]
    assert rounds.count("status_sent") == rt.house.limits.loop_answers
    assert rounds[-1] == "answer_loop"
    assert len(mail.outbox(to=HANS, kind="status")) == rt.house.limits.loop_answers


def test_finding5_a_partner_writing_from_a_new_address_each_time_does_not_loop(
        mail: Mailbox, rt: Runtime) -> None:
    assert request(mail, HANS) == "submitted"
    last = mail.last(HANS, "request_received")
    answered = 0
    for n in range(25):
        sender = f"partner{n}@example.net"
        row = mail.reply(sender, last, LOOP)
        answers = mail.outbox(to=sender)
        if not answers:
            assert row.reason == "answer_loop", row.detail
            break
        answered += 1
        last = answers[-1]
    assert answered <= rt.house.limits.loop_answers


def test_finding5_a_loop_silences_answers_but_a_real_cancel_still_counts(mail: Mailbox,
                                                                          rt: Runtime) -> None:
    """Four answers that changed nothing do not take the requester's authority away: her
    next reply that really cancels is carried out, only the chatter is not answered."""
    assert request(mail, HANS) == "submitted"
    last = mail.last(HANS, "request_received")
    for _ in range(rt.house.limits.loop_answers):
        mail.reply(HANS, last, LOOP)
        last = mail.outbox(to=HANS)[-1]
    assert mail.reply(HANS, last, LOOP).reason == "answer_loop"
    row = mail.reply(HANS, last, "Wir sagen ab, bitte stornieren.\n\nHans")
    assert row.reason == "canceled", row.detail
    assert mail.outbox(kind="booking_canceled", to="ingeborg@example.org")
