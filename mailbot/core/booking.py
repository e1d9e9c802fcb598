"""Every state transition of a booking, with the business rules that guard it.

Pure functions over `Booking`: they change the booking in place and return the events
that happened, or raise a named `Rejection`. The store supplies the overlapping
bookings and the clock; nothing here does I/O.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from mailbot.config import House
from mailbot.core import events as ev
from mailbot.core.model import Booking, Decision, State, TimelineEvent, Verdict
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

_NAME = re.compile(r"^[^\W\d_](?:[^\W\d_]|[ '’\-])*$")
_LINK = re.compile(r"https?://|www\.|mailto:", re.IGNORECASE)
REQUESTER = "requester"
SYSTEM = "system"


@dataclass(frozen=True)
class Request:
    requester_email: str
    first_name: str
    start: date
    end: date
    party_size: int
    description: str = ""
    long_stay_confirmed: bool = False
    # the requester's authority is proven (authenticated From, reply key, personal link):
    # only then does an approver's own request carry her approval (BR-015)
    authenticated: bool = True


def add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def clean_first_name(name: str, house: House) -> str:
    """BR-019: letters incl. diacritics, space, hyphen, apostrophe; 1–40 characters."""
    name = name.strip()
    limit = house.limits.max_first_name_length
    if not name:
        raise Invalid("first_name", "empty")
    if len(name) > limit:
        raise Invalid("first_name", "too_long", limit)
    if not _NAME.match(name):
        raise Invalid("first_name", "bad_characters")
    return name


def clean_text(text: str | None, field: str, house: House) -> str:
    """BR-020: no links, at most 500 characters."""
    text = (text or "").strip()
    if _LINK.search(text):
        raise Invalid(field, "contains_link")
    if len(text) > house.limits.max_text_length:
        raise Invalid(field, "too_long", house.limits.max_text_length)
    return text


def check_party_size(size: int, house: House) -> int:
    """BR-017."""
    if size < 1:
        raise Invalid("party_size", "too_small", 1)
    if size > house.limits.max_party_size:
        raise Invalid("party_size", "too_large", house.limits.max_party_size)
    return size


def check_range(start: date, end: date, house: House, today: date, keeps_start: bool = False) -> None:
    """end ≥ start, start not in the past (unless an edit keeps it), BR-026 horizon."""
    if end < start:
        raise EndBeforeStart(start, end)
    if start < today and not keeps_start:
        raise StartInPast(start)
    latest = add_months(today, house.limits.future_horizon_months)
    if start > latest:
        raise BeyondHorizon(start, latest)


def check_free(start: date, end: date, others: Iterable[Booking], own_id: int | None = None) -> None:
    """BR-002: no overlap with a Pending or Confirmed booking; names the first one."""
    for other in sorted(others, key=lambda b: b.start):
        if other.id != own_id and other.state.blocks_dates and other.overlaps(start, end):
            raise Conflict(other.first_name, other.state, other.start, other.end)


def check_dates(start: date, end: date, house: House, today: date, others: Iterable[Booking],
                long_stay_confirmed: bool, own: Booking | None = None) -> None:
    """Every rule on a stay's dates, for a new request and an edit (`own`) alike: the range
    (an edit may keep a start that has passed), BR-002, and BR-027: a stay longer than
    7 days needs an explicit confirmation (an edit only when it makes the stay longer)."""
    check_range(start, end, house, today, keeps_start=own is not None and own.start == start)
    check_free(start, end, others, own.id if own is not None else None)
    days = (end - start).days + 1
    old_days = own.total_days if own is not None else 0
    if days > house.limits.long_stay_warn_days and days > old_days and not long_stay_confirmed:
        raise ConfirmationRequired("long_stay", own, days=days)


def _self_approve(booking: Booking, house: House, now: datetime) -> str | None:
    """BR-015: a requester who is an approver approves their own request."""
    approver = house.approver_for_address(booking.requester_email)
    if approver is None:
        return None
    decision = booking.decision(approver.key)
    decision.verdict, decision.decided_at = Verdict.APPROVED, now
    return approver.key


def _reset_decisions(booking: Booking, house: House, now: datetime) -> str | None:
    booking.decision_round += 1
    for approver in house.approvers:
        decision = booking.decision(approver.key)
        decision.verdict, decision.decided_at, decision.reason = Verdict.NO_RESPONSE, None, None
    return _self_approve(booking, house, now)


def _touch(booking: Booking, now: datetime, event: TimelineEvent) -> None:
    booking.timeline.append(event)
    booking.last_activity_at = now


def _guard_past(booking: Booking, today: date) -> None:
    if booking.is_past(today):
        raise BookingInPast(booking)


def _guard_round(booking: Booking, decision_round: int | None, action: str) -> None:
    """SPEC §5 "Current": a JA or NEIN to a mail (or form) of an older round changes nothing.
    A canceled booking is answered "Schon erledigt" instead."""
    if (decision_round is not None and decision_round < booking.decision_round
            and booking.state != State.CANCELED):
        raise Outdated(booking, action, decision_round)


def submit(
    request: Request, house: House, today: date, now: datetime, others: Iterable[Booking]
) -> tuple[Booking, list[ev.Event]]:
    """Create a Pending booking (BR-001/002/015/017/019/020/026/027)."""
    first_name = clean_first_name(request.first_name, house)
    party_size = check_party_size(request.party_size, house)
    description = clean_text(request.description, "description", house)
    check_dates(request.start, request.end, house, today, others, request.long_stay_confirmed)
    booking = Booking(
        requester_email=request.requester_email.strip().lower(),
        first_name=first_name,
        start=request.start,
        end=request.end,
        party_size=party_size,
        description=description,
        created_at=now,
        last_activity_at=now,
    )
    booking.decisions = [Decision(a.key) for a in house.approvers]
    self_approved = _self_approve(booking, house, now) if request.authenticated else None
    _touch(booking, now, TimelineEvent(now, REQUESTER, "submitted",
                                       new_start=booking.start, new_end=booking.end))
    return booking, [ev.Submitted(booking, self_approved)]


def _already_decided(booking: Booking, approver: str, action: str) -> AlreadyDone | None:
    if booking.state == State.CONFIRMED:
        return AlreadyDone(booking, action, "confirmed")
    if booking.state == State.CANCELED:
        return AlreadyDone(booking, action, "canceled")
    if booking.state == State.DENIED:
        denial = booking.denial
        who = denial.approver if denial else ""
        return AlreadyDone(booking, action, "denied_by_you" if who == approver else f"denied_by:{who}")
    return None


def approve(booking: Booking, approver: str, house: House, today: date, now: datetime,
            decision_round: int | None = None) -> list[ev.Event]:
    """BR-003: Confirmed once every approver approved; BR-024 late actions are already done;
    an approval of an older round counts for nothing."""
    _guard_past(booking, today)
    _guard_round(booking, decision_round, "approve")
    late = _already_decided(booking, approver, "approve")
    if late:
        raise late
    decision = booking.decision(approver)
    if decision.verdict == Verdict.APPROVED:
        raise AlreadyDone(booking, "approve", "approved_by_you")
    decision.verdict, decision.decided_at = Verdict.APPROVED, now
    _touch(booking, now, TimelineEvent(now, approver, "approved"))
    outstanding = tuple(a.key for a in house.approvers if booking.verdict(a.key) != Verdict.APPROVED)
    if outstanding:
        return [ev.Approved(booking, approver, outstanding)]
    booking.state = State.CONFIRMED
    _touch(booking, now, TimelineEvent(now, SYSTEM, "confirmed"))
    return [ev.Confirmed(booking, approver)]


def deny(booking: Booking, approver: str, reason: str | None, house: House, today: date,
         now: datetime, confirmed: bool = False, decision_round: int | None = None
         ) -> list[ev.Event]:
    """BR-004: any deny with a reason → Denied; a Confirmed booking needs a second confirm;
    a deny of an older round counts for nothing."""
    _guard_past(booking, today)
    _guard_round(booking, decision_round, "deny")
    was_confirmed = booking.state == State.CONFIRMED
    if not was_confirmed:
        late = _already_decided(booking, approver, "deny")
        if late:
            raise late
    text = clean_text(reason, "reason", house)
    if not text:
        raise ReasonRequired(booking, "deny")
    if was_confirmed and not confirmed:
        raise ConfirmationRequired("deny_confirmed", booking)
    decision = booking.decision(approver)
    decision.verdict, decision.decided_at, decision.reason = Verdict.DENIED, now, text
    booking.state = State.DENIED
    _touch(booking, now, TimelineEvent(now, approver, "denied", note=text))
    return [ev.Denied(booking, approver, text, was_confirmed)]


def cancel(booking: Booking, reason: str | None, house: House, today: date, now: datetime,
           confirmed: bool = False, actor: str = REQUESTER) -> list[ev.Event]:
    """BR-006/007: Pending without reason; Confirmed with reason and confirmation."""
    _guard_past(booking, today)
    if booking.state == State.CANCELED:
        raise AlreadyDone(booking, "cancel", "canceled")
    text = clean_text(reason, "reason", house) or None
    previous = booking.state
    if previous == State.CONFIRMED:
        if not text:
            raise ReasonRequired(booking, "cancel")
        if not confirmed:
            raise ConfirmationRequired("cancel_confirmed", booking)
    booking.state = State.CANCELED
    booking.archived_at = now
    _touch(booking, now, TimelineEvent(now, actor, "canceled", note=text))
    return [ev.Canceled(booking, actor, text, previous)]


def expire(booking: Booking, today: date, now: datetime) -> list[ev.Event]:
    """BR-028: a Pending booking whose end has passed is canceled by the system.

    The one transition allowed on a past booking; nobody is told (the event's actor is
    "system")."""
    if booking.state != State.PENDING or not booking.is_past(today):
        raise NotAllowedNow(booking, "expire")
    booking.state = State.CANCELED
    booking.archived_at = now
    _touch(booking, now, TimelineEvent(now, SYSTEM, "canceled"))
    return [ev.Canceled(booking, SYSTEM, None, State.PENDING)]


def reopen(booking: Booking, house: House, today: date, now: datetime, others: Iterable[Booking],
           start: date | None = None, end: date | None = None, note: str | None = None
           ) -> list[ev.Event]:
    """BR-004/BR-018: only a Denied booking; decisions reset; the dates must be free.
    `note`: the requester's words, shown to the approvers (BR-020 like a reason)."""
    _guard_past(booking, today)
    if booking.state in (State.PENDING, State.CONFIRMED):
        raise AlreadyDone(booking, "reopen", booking.state.value)
    if booking.state != State.DENIED:
        raise NotAllowedNow(booking, "reopen")
    new_start, new_end = start or booking.start, end or booking.end
    if (new_start, new_end) != (booking.start, booking.end):
        check_range(new_start, new_end, house, today)
    check_free(new_start, new_end, others, booking.id)
    text = clean_text(note, "reason", house) or None
    old_start, old_end = booking.start, booking.end
    booking.start, booking.end = new_start, new_end
    booking.state = State.PENDING
    _reset_decisions(booking, house, now)
    _touch(booking, now, TimelineEvent(now, REQUESTER, "reopened", old_start, old_end,
                                       new_start, new_end, note=text))
    return [ev.Reopened(booking, old_start, old_end, text)]


def edit(booking: Booking, house: House, today: date, now: datetime, others: Iterable[Booking],
         start: date | None = None, end: date | None = None, party_size: int | None = None,
         first_name: str | None = None, long_stay_confirmed: bool = False) -> list[ev.Event]:
    """BR-005 date edits and party size while Pending; BR-025 first name at any time.
    New dates obey every rule a new request obeys (`check_stay`, BR-002)."""
    _guard_past(booking, today)
    changes_booking = (start, end, party_size) != (None, None, None)
    if booking.state == State.CANCELED or changes_booking and booking.state != State.PENDING:
        raise NotAllowedNow(booking, "edit")
    events: list[ev.Event] = []
    if first_name is not None:
        booking.first_name = clean_first_name(first_name, house)
    if party_size is not None:
        booking.party_size = check_party_size(party_size, house)
    new_start, new_end = start or booking.start, end or booking.end
    old_start, old_end = booking.start, booking.end
    if (new_start, new_end) != (old_start, old_end):
        check_dates(new_start, new_end, house, today, others, long_stay_confirmed, booking)
        extends = new_start < old_start or new_end > old_end
        booking.start, booking.end = new_start, new_end
        kind = "extended" if extends else "shortened"
        _touch(booking, now, TimelineEvent(now, REQUESTER, kind, old_start, old_end,
                                           new_start, new_end))
        if extends:
            _reset_decisions(booking, house, now)
            events.append(ev.Extended(booking, old_start, old_end))
        else:
            events.append(ev.Shortened(booking, old_start, old_end))
    elif first_name is not None or party_size is not None:
        booking.last_activity_at = now
        events.append(ev.DetailsChanged(booking))
    return events


def free_windows(days: int, start: date, taken: Iterable[tuple[date, date]], earliest: date,
                 latest: date, reach: int = 120) -> list[tuple[date, date]]:
    """The nearest free stays of `days` days starting before and after `start` (issue 16:
    the conflict answer proposes them, and no example ever names a booked slot). `earliest`
    and `latest` bound the first day (today, BR-026 horizon)."""
    blocked = sorted(taken)

    def free(first: date) -> bool:
        last = first + timedelta(days=days - 1)
        return all(b_end < first or last < b_start for b_start, b_end in blocked)

    found: list[tuple[date, date]] = []
    for step in (-1, 1):
        first = start + timedelta(days=step)
        for _ in range(reach):
            if not earliest <= first <= latest:
                break
            if free(first):
                found.append((first, first + timedelta(days=days - 1)))
                break
            first += timedelta(days=step)
    return found
