"""BR-009: the weekly digest, Sunday 09:00 Europe/Berlin — one mail per approver listing
Pending bookings that approver has not answered, submitted at least five days ago (the day
of submission is day 0), not past, soonest start first; nothing when nothing waits."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from mailbot.jobs import run_job
from mailbot.runtime import Runtime
from mailbot.store.tables import OutboxMessage
from mailbot.web import links
from tests.conftest import Clock
from tests.support.bookings import approve, approver_link, berlin, book, deny, outbox

SUNDAY = berlin(2026, 11, 29, 9, 0)


def _digests(rt: Runtime) -> dict[str, OutboxMessage]:
    mails = [m for m in outbox(rt) if m.kind == "digest"]
    by_address = {m.to_address: m for m in mails}
    assert len(by_address) == len(mails), "one digest per approver"
    return by_address


def _names_in(mail: OutboxMessage, *names: str) -> list[str]:
    """The given first names in the order the digest lists them."""
    found = [(mail.text_body.find(f"{n}:"), n) for n in names if f"{n}:" in mail.text_body]
    return [n for _, n in sorted(found)]


def test_br009_digest_lists_waiting_requests_with_days_and_how_to_answer(rt: Runtime, clock: Clock
                                                                          ) -> None:
    booking = book(rt, "Anna", date(2026, 12, 18), date(2026, 12, 20), berlin(2026, 11, 23, 18),
                   party_size=3)
    clock.set(SUNDAY)

    summary = run_job(rt, "digest")

    assert summary.startswith("Erinnerung an 3 Freigebende verschickt")
    digests = _digests(rt)
    assert set(digests) == {a.email for a in rt.house.approvers}
    mail = digests["cornelia@example.org"]
    assert "Erinnerung" in mail.subject and "1 Anfrage" in mail.subject
    text = mail.text_body
    assert "Hallo Cornelia," in text
    assert "Anna: Fr–So, 18.–20.12.2026, 3 Personen" in text
    assert "wartet seit 6 Tagen" in text
    assert "JA" in text and "NEIN" in text
    assert links.approver_action_url(rt, approver_link(rt, "cornelia"), booking, "approve") in text
    assert links.approver_action_url(rt, approver_link(rt, "cornelia"), booking, "deny") in text
    assert "anna@familie.example" not in text and "anna@familie.example" not in mail.html_body
    assert links.approver_action_url(rt, approver_link(rt, "cornelia"), booking, "approve") in mail.html_body


def test_br009_only_approvers_who_have_not_answered_are_reminded(rt: Runtime) -> None:
    booking = book(rt, "Anna", date(2026, 12, 18), date(2026, 12, 20), berlin(2026, 11, 20, 10))
    approve(rt, booking, "ingeborg", berlin(2026, 11, 21, 10))

    run_job(rt, "digest", SUNDAY)

    assert set(_digests(rt)) == {"cornelia@example.org", "angelika@example.org"}


@pytest.mark.parametrize(("submitted", "listed"), [
    (berlin(2026, 11, 24, 0, 5), True),     # Tuesday is day 0, Sunday day 5
    (berlin(2026, 11, 24, 23, 55), True),   # late on day 0 counts as day 0 too
    (berlin(2026, 11, 25, 0, 5), False),    # Wednesday: only day 4 on Sunday
    (berlin(2026, 11, 23, 23, 30), True),   # day 6
], ids=["day5-early", "day5-late", "day4-just-after-midnight", "day6"])
def test_br009_submission_day_is_day_zero(rt: Runtime, submitted: datetime, listed: bool) -> None:
    book(rt, "Anna", date(2026, 12, 18), date(2026, 12, 20), submitted)

    summary = run_job(rt, "digest", SUNDAY)

    assert bool(_digests(rt)) is listed
    assert (summary == "Keine Erinnerung nötig") is not listed


def test_br009_day_four_is_not_reminded_even_when_utc_says_day_five(rt: Runtime) -> None:
    # 00:30 Berlin on Wednesday is still Tuesday in UTC
    book(rt, "Anna", date(2026, 12, 18), date(2026, 12, 20), berlin(2026, 11, 25, 0, 30))
    assert run_job(rt, "digest", SUNDAY) == "Keine Erinnerung nötig"
    assert _digests(rt) == {}


def test_br009_past_and_decided_bookings_are_not_listed(rt: Runtime) -> None:
    made = berlin(2026, 11, 16, 10)
    book(rt, "Past", date(2026, 11, 24), date(2026, 11, 28), made)  # ended yesterday, not cleaned yet
    denied = book(rt, "Denied", date(2026, 12, 10), date(2026, 12, 12), made)
    deny(rt, denied, "angelika", berlin(2026, 11, 17, 10))
    book(rt, "Today", date(2026, 11, 29), date(2026, 11, 29), made)  # ends today: not past

    run_job(rt, "digest", SUNDAY)

    for mail in _digests(rt).values():
        assert _names_in(mail, "Past", "Denied", "Today") == ["Today"]


def test_br009_soonest_start_first(rt: Runtime) -> None:
    made = berlin(2026, 11, 20, 10)
    book(rt, "Late", date(2027, 3, 1), date(2027, 3, 3), made)
    book(rt, "Soon", date(2026, 12, 1), date(2026, 12, 2), berlin(2026, 11, 22, 10))
    book(rt, "Middle", date(2027, 1, 5), date(2027, 1, 9), made)

    run_job(rt, "digest", SUNDAY)

    mail = _digests(rt)["angelika@example.org"]
    assert _names_in(mail, "Late", "Soon", "Middle") == ["Soon", "Middle", "Late"]
    assert "3 Anfragen" in mail.subject


def test_br009_nothing_is_sent_when_nothing_waits(rt: Runtime) -> None:
    book(rt, "Anna", date(2026, 12, 18), date(2026, 12, 20), berlin(2026, 11, 27, 10))  # day 2
    assert run_job(rt, "digest", SUNDAY) == "Keine Erinnerung nötig"
    assert outbox(rt) == []


def test_br009_a_self_approving_requester_is_not_reminded_of_their_own_request(rt: Runtime) -> None:
    book(rt, "Ingeborg", date(2026, 12, 18), date(2026, 12, 20), berlin(2026, 11, 20, 10),
         requester="ingeborg@example.org")
    run_job(rt, "digest", SUNDAY)
    assert set(_digests(rt)) == {"cornelia@example.org", "angelika@example.org"}


@pytest.mark.parametrize("switch_day", [date(2027, 3, 28), date(2026, 10, 25), date(2027, 10, 31)],
                         ids=str)
def test_br009_digest_on_a_dst_switch_sunday(rt: Runtime, switch_day: date) -> None:
    day0 = switch_day - timedelta(days=5)
    day0_late = switch_day - timedelta(days=4)
    book(rt, "Fuenf", switch_day + timedelta(days=10), switch_day + timedelta(days=12),
         berlin(day0.year, day0.month, day0.day, 23, 30))
    book(rt, "Vier", switch_day + timedelta(days=20), switch_day + timedelta(days=22),
         berlin(day0_late.year, day0_late.month, day0_late.day, 0, 30))

    run_job(rt, "digest", berlin(switch_day.year, switch_day.month, switch_day.day, 9, 0))

    mail = _digests(rt)["ingeborg@example.org"]
    assert _names_in(mail, "Fuenf", "Vier") == ["Fuenf"]
    assert "wartet seit 5 Tagen" in mail.text_body


def test_br009_digest_run_just_after_midnight_counts_the_new_day(rt: Runtime) -> None:
    book(rt, "Anna", date(2026, 12, 18), date(2026, 12, 20), berlin(2026, 11, 24, 12))
    assert run_job(rt, "digest", berlin(2026, 11, 28, 23, 59)) == "Keine Erinnerung nötig"
    assert run_job(rt, "digest", berlin(2026, 11, 29, 0, 1)).startswith("Erinnerung an 3")


def test_issue14_a_reply_to_a_digest_of_one_request_acts_on_it(rt: Runtime, clock: Clock) -> None:
    from mailbot.core.model import Verdict
    from tests.support.conversation import Mailbox

    booking = book(rt, "Anna", date(2026, 12, 18), date(2026, 12, 20), berlin(2026, 11, 20, 10))
    clock.set(SUNDAY)
    run_job(rt, "digest")
    mail = Mailbox(rt)
    row = mail.reply("cornelia@example.org", _digests(rt)["cornelia@example.org"], "JA")
    assert row.reason == "approved", row.detail
    assert mail.booking(booking).verdict("cornelia") == Verdict.APPROVED
    assert "Es fehlt noch: Ingeborg und Angelika." in mail.last(
        "cornelia@example.org", "approval_recorded").text_body


def test_issue14_a_reply_to_a_digest_of_several_asks_which_and_the_dates_pick_one(
        rt: Runtime, clock: Clock) -> None:
    from mailbot.core.model import Verdict
    from tests.support.conversation import Mailbox

    first = book(rt, "Anna", date(2026, 12, 18), date(2026, 12, 20), berlin(2026, 11, 20, 10))
    second = book(rt, "Bernd", date(2027, 1, 8), date(2027, 1, 10), berlin(2026, 11, 20, 11))
    clock.set(SUNDAY)
    run_job(rt, "digest")
    mail = Mailbox(rt)
    digest = _digests(rt)["angelika@example.org"]
    assert "z. B. „JA 18.–20.12.2026“" in digest.text_body
    row = mail.reply("angelika@example.org", digest, "JA")
    assert row.reason == "asked_which_booking", row.detail
    which = mail.last("angelika@example.org", "question_which_booking")
    assert "18.–20.12.2026" in which.text_body and "08.–10.01.2027" in which.text_body
    row = mail.reply("angelika@example.org", digest, "JA für den 8. bis 10. Januar")
    assert row.reason == "approved", row.detail
    assert mail.booking(second).verdict("angelika") == Verdict.APPROVED
    assert mail.booking(first).verdict("angelika") == Verdict.NO_RESPONSE
