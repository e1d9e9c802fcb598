"""The booking rules of SPEC §3, proven on the pure core (no database)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from mailbot.config import load_house
from mailbot.core import booking as rules
from mailbot.core import events as ev
from mailbot.core.model import Booking, State, Verdict
from mailbot.core.rejections import (
    AlreadyDone,
    BeyondHorizon,
    BookingInPast,
    ConfirmationRequired,
    Conflict,
    EndBeforeStart,
    Invalid,
    NotAllowedNow,
    Outdated,
    ReasonRequired,
    StartInPast,
)
from tests.conftest import ROOT

HOUSE = load_house(ROOT / "rules" / "house.toml")
TODAY = date(2026, 11, 23)
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
ING, COR, ANG = (a.key for a in HOUSE.approvers)


def request(start: date = date(2027, 8, 3), end: date = date(2027, 8, 7), **kw: object) -> rules.Request:
    values: dict[str, object] = {"requester_email": "anna@example.org", "first_name": "Anna",
                                 "start": start, "end": end, "party_size": 4}
    values.update(kw)
    return rules.Request(**values)  # type: ignore[arg-type]


def submitted(start: date = date(2027, 8, 3), end: date = date(2027, 8, 7), **kw: object) -> Booking:
    booking, _ = rules.submit(request(start, end, **kw), HOUSE, TODAY, NOW, [])
    booking.id = 1
    return booking


def confirmed() -> Booking:
    booking = submitted()
    for key in (ING, COR, ANG):
        rules.approve(booking, key, HOUSE, TODAY, NOW)
    return booking


def test_br001_total_days_counts_the_end_day() -> None:
    assert submitted(date(2027, 8, 1), date(2027, 8, 5)).total_days == 5
    assert submitted(date(2027, 8, 1), date(2027, 8, 1)).total_days == 1


def test_br002_overlap_with_pending_is_a_conflict_naming_first_name_and_state() -> None:
    other = submitted()
    other.first_name = "Bernd"
    with pytest.raises(Conflict) as caught:
        rules.submit(request(date(2027, 8, 7), date(2027, 8, 9)), HOUSE, TODAY, NOW, [other])
    assert (caught.value.first_name, caught.value.state) == ("Bernd", State.PENDING)


def test_br002_adjacent_ranges_do_not_conflict() -> None:
    other = submitted(date(2027, 8, 3), date(2027, 8, 7))
    booking, _ = rules.submit(request(date(2027, 8, 8), date(2027, 8, 10)), HOUSE, TODAY, NOW, [other])
    assert booking.state == State.PENDING


def test_br002_denied_and_canceled_bookings_do_not_block() -> None:
    denied = submitted()
    rules.deny(denied, ING, "Wir sind selbst da", HOUSE, TODAY, NOW)
    canceled = submitted()
    rules.cancel(canceled, None, HOUSE, TODAY, NOW)
    booking, _ = rules.submit(request(), HOUSE, TODAY, NOW, [denied, canceled])
    assert booking.state == State.PENDING


def test_br003_confirmed_only_after_all_three_in_any_order() -> None:
    booking = submitted()
    first = rules.approve(booking, ANG, HOUSE, TODAY, NOW)
    assert isinstance(first[0], ev.Approved) and set(first[0].outstanding) == {ING, COR}
    rules.approve(booking, ING, HOUSE, TODAY, NOW)
    assert booking.state == State.PENDING
    last = rules.approve(booking, COR, HOUSE, TODAY, NOW)
    assert booking.state == State.CONFIRMED and isinstance(last[0], ev.Confirmed)


def test_br003_approving_twice_is_harmless_and_says_so() -> None:
    booking = submitted()
    rules.approve(booking, ING, HOUSE, TODAY, NOW)
    with pytest.raises(AlreadyDone) as caught:
        rules.approve(booking, ING, HOUSE, TODAY, NOW)
    assert caught.value.detail == "approved_by_you"
    assert booking.approvers_with(Verdict.APPROVED) == [ING]


def test_br004_deny_needs_a_reason() -> None:
    booking = submitted()
    with pytest.raises(ReasonRequired):
        rules.deny(booking, COR, "  ", HOUSE, TODAY, NOW)
    assert booking.state == State.PENDING


def test_br004_deny_moves_to_denied_and_frees_the_dates() -> None:
    booking = submitted()
    events = rules.deny(booking, COR, "Da ist Handwerkerbesuch", HOUSE, TODAY, NOW)
    assert booking.state == State.DENIED and not booking.state.blocks_dates
    assert isinstance(events[0], ev.Denied) and events[0].reason == "Da ist Handwerkerbesuch"


def test_br004_deny_of_confirmed_needs_explicit_confirmation() -> None:
    booking = confirmed()
    with pytest.raises(ConfirmationRequired) as caught:
        rules.deny(booking, ING, "Wasserschaden", HOUSE, TODAY, NOW)
    assert caught.value.action == "deny_confirmed" and booking.state == State.CONFIRMED
    events = rules.deny(booking, ING, "Wasserschaden", HOUSE, TODAY, NOW, confirmed=True)
    assert booking.state == State.DENIED and isinstance(events[0], ev.Denied) and events[0].was_confirmed


def test_br004_reopen_resets_decisions_and_returns_to_pending() -> None:
    booking = submitted()
    rules.approve(booking, ING, HOUSE, TODAY, NOW)
    rules.deny(booking, COR, "Passt nicht", HOUSE, TODAY, NOW)
    events = rules.reopen(booking, HOUSE, TODAY, NOW, [])
    assert booking.state == State.PENDING and isinstance(events[0], ev.Reopened)
    assert {d.verdict for d in booking.decisions} == {Verdict.NO_RESPONSE}


def test_br004_only_denied_bookings_can_be_reopened() -> None:
    with pytest.raises(AlreadyDone):
        rules.reopen(submitted(), HOUSE, TODAY, NOW, [])
    canceled = submitted()
    rules.cancel(canceled, None, HOUSE, TODAY, NOW)
    with pytest.raises(NotAllowedNow):
        rules.reopen(canceled, HOUSE, TODAY, NOW, [])


def test_br005_shortening_keeps_decisions_and_is_logged() -> None:
    booking = submitted()
    rules.approve(booking, ING, HOUSE, TODAY, NOW)
    events = rules.edit(booking, HOUSE, TODAY, NOW, [], start=date(2027, 8, 4))
    assert isinstance(events[0], ev.Shortened) and events[0].old_start == date(2027, 8, 3)
    assert booking.verdict(ING) == Verdict.APPROVED
    assert booking.timeline[-1].kind == "shortened"


def test_br005_extending_resets_decisions_and_logs_old_and_new() -> None:
    booking = submitted()
    rules.approve(booking, ING, HOUSE, TODAY, NOW)
    events = rules.edit(booking, HOUSE, TODAY, NOW, [], end=date(2027, 8, 9))
    assert isinstance(events[0], ev.Extended)
    assert booking.verdict(ING) == Verdict.NO_RESPONSE
    entry = booking.timeline[-1]
    assert (entry.kind, entry.old_end, entry.new_end) == ("extended", date(2027, 8, 7), date(2027, 8, 9))


def test_current_a_new_round_starts_when_decisions_reset_and_old_rounds_count_nothing() -> None:
    booking = submitted()
    assert booking.decision_round == 1
    rules.edit(booking, HOUSE, TODAY, NOW, [], start=date(2027, 8, 4))  # shortening keeps it
    assert booking.decision_round == 1
    rules.edit(booking, HOUSE, TODAY, NOW, [], end=date(2027, 8, 9))
    assert booking.decision_round == 2
    with pytest.raises(Outdated) as approving:
        rules.approve(booking, ING, HOUSE, TODAY, NOW, decision_round=1)
    with pytest.raises(Outdated):
        rules.deny(booking, COR, "Passt nicht", HOUSE, TODAY, NOW, decision_round=1)
    assert {d.verdict for d in booking.decisions} == {Verdict.NO_RESPONSE}
    assert [e.kind for e in approving.value.booking.changes_since(1)] == ["shortened", "extended"]
    rules.approve(booking, ING, HOUSE, TODAY, NOW, decision_round=2)
    rules.deny(booking, COR, "Passt nicht", HOUSE, TODAY, NOW, decision_round=2)
    rules.reopen(booking, HOUSE, TODAY, NOW, [])
    assert booking.decision_round == 3
    assert [e.kind for e in booking.changes_since(2)] == ["denied", "reopened"]
    assert [e.kind for e in booking.changes_since(1)] == ["shortened", "extended", "denied", "reopened"]


def test_br005_extending_into_another_booking_is_a_conflict() -> None:
    other = submitted(date(2027, 8, 8), date(2027, 8, 12))
    other.id, other.first_name = 2, "Bernd"
    booking = submitted()
    with pytest.raises(Conflict) as caught:
        rules.edit(booking, HOUSE, TODAY, NOW, [other], end=date(2027, 8, 9))
    assert caught.value.first_name == "Bernd" and booking.end == date(2027, 8, 7)


def test_br005_party_size_change_keeps_decisions_and_is_not_logged() -> None:
    booking = submitted()
    rules.approve(booking, ING, HOUSE, TODAY, NOW)
    entries = len(booking.timeline)
    events = rules.edit(booking, HOUSE, TODAY, NOW, [], party_size=6)
    assert isinstance(events[0], ev.DetailsChanged) and booking.party_size == 6
    assert booking.verdict(ING) == Verdict.APPROVED and len(booking.timeline) == entries


def test_br005_confirmed_booking_cannot_be_edited() -> None:
    with pytest.raises(NotAllowedNow):
        rules.edit(confirmed(), HOUSE, TODAY, NOW, [], end=date(2027, 8, 5))


def test_br006_cancel_pending_needs_no_reason() -> None:
    booking = submitted()
    events = rules.cancel(booking, None, HOUSE, TODAY, NOW)
    assert booking.state == State.CANCELED and booking.archived_at == NOW
    assert isinstance(events[0], ev.Canceled) and events[0].previous == State.PENDING


def test_br007_cancel_confirmed_needs_reason_and_confirmation() -> None:
    booking = confirmed()
    with pytest.raises(ReasonRequired):
        rules.cancel(booking, None, HOUSE, TODAY, NOW, confirmed=True)
    with pytest.raises(ConfirmationRequired) as caught:
        rules.cancel(booking, "Wir sind krank", HOUSE, TODAY, NOW)
    assert caught.value.action == "cancel_confirmed" and booking.state == State.CONFIRMED
    rules.cancel(booking, "Wir sind krank", HOUSE, TODAY, NOW, confirmed=True)
    assert booking.state == State.CANCELED


def test_br007_canceling_a_denied_booking_is_quiet_and_final() -> None:
    booking = submitted()
    rules.deny(booking, ING, "Nein", HOUSE, TODAY, NOW)
    events = rules.cancel(booking, None, HOUSE, TODAY, NOW)
    assert isinstance(events[0], ev.Canceled) and events[0].previous == State.DENIED
    with pytest.raises(AlreadyDone):
        rules.cancel(booking, None, HOUSE, TODAY, NOW)


@pytest.mark.parametrize("action", ["approve", "deny", "cancel", "reopen", "edit"])
def test_br014_past_bookings_are_read_only(action: str) -> None:
    booking = submitted(date(2026, 11, 25), date(2026, 11, 27))
    later = date(2026, 11, 28)
    calls = {
        "approve": lambda: rules.approve(booking, ING, HOUSE, later, NOW),
        "deny": lambda: rules.deny(booking, ING, "zu spät", HOUSE, later, NOW),
        "cancel": lambda: rules.cancel(booking, None, HOUSE, later, NOW),
        "reopen": lambda: rules.reopen(booking, HOUSE, later, NOW, []),
        "edit": lambda: rules.edit(booking, HOUSE, later, NOW, [], party_size=2),
    }
    with pytest.raises(BookingInPast):
        calls[action]()
    assert booking.state == State.PENDING


def test_br014_a_booking_ending_today_is_not_yet_past() -> None:
    booking = submitted(date(2026, 11, 25), date(2026, 11, 27))
    rules.approve(booking, ING, HOUSE, date(2026, 11, 27), NOW)
    assert booking.verdict(ING) == Verdict.APPROVED


def test_br015_self_approver_request_is_approved_automatically() -> None:
    ingeborg = HOUSE.approver(ING)
    booking, events = rules.submit(request(requester_email=ingeborg.email.upper()), HOUSE, TODAY, NOW, [])
    assert booking.verdict(ING) == Verdict.APPROVED
    assert isinstance(events[0], ev.Submitted) and events[0].self_approved_by == ING
    assert booking.state == State.PENDING  # the other two still decide


def test_br015_self_approver_may_still_deny_while_pending() -> None:
    booking, _ = rules.submit(request(requester_email=HOUSE.approver(ING).email), HOUSE, TODAY, NOW, [])
    rules.deny(booking, ING, "Doch nicht", HOUSE, TODAY, NOW)
    assert booking.state == State.DENIED


@pytest.mark.parametrize("size", [0, 11, -1])
def test_br017_party_size_outside_1_to_10_is_invalid(size: int) -> None:
    with pytest.raises(Invalid) as caught:
        rules.submit(request(party_size=size), HOUSE, TODAY, NOW, [])
    assert caught.value.field == "party_size"


@pytest.mark.parametrize("size", [1, 10])
def test_br017_party_size_bounds_are_allowed(size: int) -> None:
    assert submitted(party_size=size).party_size == size


def test_br018_reopen_fails_when_the_dates_are_taken_meanwhile() -> None:
    booking = submitted()
    rules.deny(booking, ING, "Nein", HOUSE, TODAY, NOW)
    other = submitted()
    other.id, other.first_name = 2, "Bernd"
    with pytest.raises(Conflict) as caught:
        rules.reopen(booking, HOUSE, TODAY, NOW, [other])
    assert caught.value.first_name == "Bernd" and booking.state == State.DENIED


def test_br018_reopen_with_new_free_dates_logs_old_and_new() -> None:
    booking = submitted()
    rules.deny(booking, ING, "Nein", HOUSE, TODAY, NOW)
    events = rules.reopen(booking, HOUSE, TODAY, NOW, [], date(2027, 9, 1), date(2027, 9, 4))
    assert isinstance(events[0], ev.Reopened) and events[0].old_start == date(2027, 8, 3)
    assert (booking.start, booking.end) == (date(2027, 9, 1), date(2027, 9, 4))


@pytest.mark.parametrize("name", ["Hans-Peter", "Zoë", "D'Artagnan", "Anna Lena", "Jörg"])
def test_br019_first_names_with_diacritics_hyphen_apostrophe_are_accepted(name: str) -> None:
    assert submitted(first_name=f"  {name} ").first_name == name


@pytest.mark.parametrize("name", ["", "   ", "Anna😀", "Anna\nBernd", "R2D2", "x" * 41, "<b>"])
def test_br019_bad_first_names_are_rejected(name: str) -> None:
    with pytest.raises(Invalid) as caught:
        rules.submit(request(first_name=name), HOUSE, TODAY, NOW, [])
    assert caught.value.field == "first_name"


@pytest.mark.parametrize("text", ["siehe https://x.de", "www.example.org", "mailto:a@b.de", "HTTP://X"])
def test_br020_links_in_description_and_reasons_are_rejected(text: str) -> None:
    with pytest.raises(Invalid) as caught:
        rules.submit(request(description=text), HOUSE, TODAY, NOW, [])
    assert caught.value.problem == "contains_link"
    booking = submitted()
    with pytest.raises(Invalid):
        rules.deny(booking, ING, text, HOUSE, TODAY, NOW)
    assert booking.state == State.PENDING


def test_br020_text_longer_than_500_characters_is_rejected() -> None:
    assert submitted(description="a" * 500).description == "a" * 500
    with pytest.raises(Invalid) as caught:
        rules.submit(request(description="a" * 501), HOUSE, TODAY, NOW, [])
    assert (caught.value.problem, caught.value.limit) == ("too_long", 500)


def test_br024_late_approval_after_a_deny_is_already_done_naming_who_denied() -> None:
    booking = submitted()
    rules.deny(booking, COR, "Nein", HOUSE, TODAY, NOW)
    with pytest.raises(AlreadyDone) as caught:
        rules.approve(booking, ING, HOUSE, TODAY, NOW + timedelta(seconds=1))
    assert caught.value.detail == f"denied_by:{COR}"


def test_br024_late_deny_after_another_deny_is_already_done() -> None:
    booking = submitted()
    rules.deny(booking, COR, "Nein", HOUSE, TODAY, NOW)
    with pytest.raises(AlreadyDone) as caught:
        rules.deny(booking, ANG, "Auch nein", HOUSE, TODAY, NOW)
    assert caught.value.detail == f"denied_by:{COR}"
    assert booking.decision(ANG).verdict == Verdict.NO_RESPONSE


def test_br024_approval_of_confirmed_booking_says_already_confirmed() -> None:
    booking = confirmed()
    with pytest.raises(AlreadyDone) as caught:
        rules.approve(booking, ING, HOUSE, TODAY, NOW)
    assert caught.value.detail == "confirmed"


def test_br025_first_name_may_change_without_reset_or_log() -> None:
    booking = confirmed()
    entries = len(booking.timeline)
    rules.edit(booking, HOUSE, TODAY, NOW, [], first_name="Annika")
    assert booking.first_name == "Annika" and booking.state == State.CONFIRMED
    assert len(booking.timeline) == entries


def test_br026_start_beyond_18_months_is_rejected() -> None:
    latest = date(2028, 5, 23)
    assert submitted(latest, latest).start == latest
    with pytest.raises(BeyondHorizon) as caught:
        rules.submit(request(latest + timedelta(days=1), latest + timedelta(days=2)), HOUSE, TODAY, NOW, [])
    assert caught.value.latest == latest


def test_br027_long_stay_needs_explicit_confirmation() -> None:
    with pytest.raises(ConfirmationRequired) as caught:
        rules.submit(request(date(2027, 8, 1), date(2027, 8, 8)), HOUSE, TODAY, NOW, [])
    assert (caught.value.action, caught.value.days) == ("long_stay", 8)
    booking, _ = rules.submit(request(date(2027, 8, 1), date(2027, 8, 8), long_stay_confirmed=True),
                              HOUSE, TODAY, NOW, [])
    assert booking.total_days == 8


def test_br027_seven_days_need_no_confirmation() -> None:
    assert submitted(date(2027, 8, 1), date(2027, 8, 7)).total_days == 7


def test_new_request_cannot_start_in_the_past_or_end_before_start() -> None:
    with pytest.raises(StartInPast):
        rules.submit(request(date(2026, 11, 22), date(2026, 11, 24)), HOUSE, TODAY, NOW, [])
    with pytest.raises(EndBeforeStart):
        rules.submit(request(date(2027, 8, 7), date(2027, 8, 3)), HOUSE, TODAY, NOW, [])
    assert submitted(TODAY, TODAY).start == TODAY


def _snapshot(booking: Booking) -> tuple[object, ...]:
    return (booking.state, booking.start, booking.end, booking.last_activity_at, booking.archived_at,
            [(d.approver, d.verdict, d.decided_at, d.reason) for d in booking.decisions],
            [(t.actor, t.kind, t.note) for t in booking.timeline])


def _denied() -> Booking:
    booking = submitted()
    rules.deny(booking, ING, "wir sind selbst da", HOUSE, TODAY, NOW)
    return booking


LATER = NOW + timedelta(hours=1)


@pytest.mark.parametrize("make, act", [
    (confirmed, lambda b: rules.approve(b, ING, HOUSE, TODAY, LATER)),
    (_denied, lambda b: rules.approve(b, COR, HOUSE, TODAY, LATER)),
    (submitted, lambda b: rules.deny(b, COR, "", HOUSE, TODAY, LATER)),
    (confirmed, lambda b: rules.deny(b, COR, "doch nicht", HOUSE, TODAY, LATER)),
    (_denied, lambda b: rules.deny(b, COR, "auch nicht", HOUSE, TODAY, LATER)),
    (confirmed, lambda b: rules.cancel(b, None, HOUSE, TODAY, LATER)),
    (confirmed, lambda b: rules.cancel(b, "krank", HOUSE, TODAY, LATER)),
    (submitted, lambda b: rules.cancel(b, "siehe www.example.org", HOUSE, TODAY, LATER)),
    (submitted, lambda b: rules.approve(b, ING, HOUSE, date(2027, 8, 8), LATER)),
], ids=["approve-confirmed", "approve-denied", "deny-no-reason", "deny-confirmed-unconfirmed",
        "deny-denied", "cancel-confirmed-no-reason", "cancel-confirmed-unconfirmed",
        "cancel-link-in-reason", "approve-past"])
def test_br024_a_refused_decision_or_cancel_changes_nothing(make: object, act: object) -> None:
    """The store applies these without a savepoint: a rule must refuse before it changes."""
    booking = make()  # type: ignore[operator]
    before = _snapshot(booking)
    with pytest.raises((AlreadyDone, ReasonRequired, ConfirmationRequired, Invalid, BookingInPast)):
        act(booking)  # type: ignore[operator]
    assert _snapshot(booking) == before


def test_issue16_free_windows_are_the_nearest_free_stays_of_the_same_length() -> None:
    taken = [(date(2027, 8, 10), date(2027, 8, 14)), (date(2027, 8, 17), date(2027, 8, 20))]
    found = rules.free_windows(4, date(2027, 8, 12), taken, TODAY, date(2028, 5, 23))
    # before: must end by the 9th; after: the gap 15.–16. is too short, so from the 21st
    assert found == [(date(2027, 8, 6), date(2027, 8, 9)), (date(2027, 8, 21), date(2027, 8, 24))]
    assert rules.free_windows(4, TODAY, [], TODAY, TODAY) == []
