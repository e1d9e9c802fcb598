"""Answers that are not events: questions, rejections, help, status and link recovery.

Each answer is a template kind in templates/email/ plus the context it needs. A core
`Rejection` maps to one kind here; the German lives only in the templates.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy.orm import Session

from mailbot.core import rejections as rj
from mailbot.core.booking import add_months, free_windows
from mailbot.core.model import Booking, State, Verdict
from mailbot.outbound.render import state_label
from mailbot.runtime import Runtime
from mailbot.store import queries
from mailbot.understand.vocabulary import vocabulary

VERDICT_LABELS = {
    Verdict.NO_RESPONSE: "noch keine Antwort",
    Verdict.APPROVED: "hat zugestimmt",
    Verdict.DENIED: "hat abgelehnt",
}

# Answers limited to one per sender, kind (and subject matter) and day: loop safety.
LIMITED_PREFIXES = ("rejected_", "not_accepted", "help", "rate_limited", "already_done",
                    "no_booking", "use_thread")




def booking_view(rt: Runtime, booking: Booking) -> dict[str, Any]:
    """A booking as the status answer shows it: no addresses, decisions by first name."""
    decisions = []
    for approver in rt.house.approvers:
        decision = booking.decision(approver.key)
        decisions.append({"name": approver.name, "verdict": VERDICT_LABELS[decision.verdict],
                          "reason": decision.reason if decision.verdict == Verdict.DENIED else None})
    return {
        "id": booking.id,
        "first_name": booking.first_name,
        "start": booking.start,
        "end": booking.end,
        "total_days": booking.total_days,
        "party_size": booking.party_size,
        "state": state_label(booking),
        "decisions": decisions,
    }


def _already_done(rt: Runtime, rejection: rj.AlreadyDone) -> dict[str, Any]:
    detail, _, who = rejection.detail.partition(":")
    name = None
    if who:
        try:
            name = rt.house.approver(who).name
        except KeyError:
            name = who
    return {"action": rejection.action, "detail": detail, "denied_by_name": name,
            "state_label": state_label(rejection.booking.state),
            "current": booking_view(rt, rejection.booking)}


def changes(rt: Runtime, booking: Booking, decision_round: int) -> list[dict[str, Any]]:
    """What happened to the booking since `decision_round` began, for people to read."""
    found = []
    for event in booking.changes_since(decision_round):
        if event.actor == "requester":
            who = booking.first_name
        elif event.actor == "system":
            who = None
        else:
            try:
                who = rt.house.approver(event.actor).name
            except KeyError:
                who = None
        found.append({"kind": event.kind, "who": who, "old_start": event.old_start,
                      "old_end": event.old_end, "new_start": event.new_start,
                      "new_end": event.new_end})
    return found


def for_rejection(rt: Runtime, rejection: rj.Rejection) -> tuple[str, dict[str, Any]]:
    """The answer kind and context for a core rejection."""
    if isinstance(rejection, rj.Conflict):
        return "rejected_conflict", {"other_first_name": rejection.first_name,
                                     "other_state": state_label(rejection.state),
                                     "other_start": rejection.start, "other_end": rejection.end}
    if isinstance(rejection, rj.BeyondHorizon):
        return "rejected_beyond_horizon", {"start": rejection.start, "latest": rejection.latest,
                                           "months": rt.house.limits.future_horizon_months}
    if isinstance(rejection, rj.StartInPast):
        return "rejected_start_in_past", {"start": rejection.start}
    if isinstance(rejection, rj.EndBeforeStart):
        return "rejected_end_before_start", {"start": rejection.start, "end": rejection.end}
    if isinstance(rejection, rj.BookingInPast):
        return "rejected_booking_in_past", {"current": booking_view(rt, rejection.booking)}
    if isinstance(rejection, rj.NotAllowedNow):
        return "rejected_not_allowed_now", {"action": rejection.action,
                                            "state_label": state_label(rejection.booking.state),
                                            "current": booking_view(rt, rejection.booking)}
    if isinstance(rejection, rj.AlreadyDone):
        return "already_done", _already_done(rt, rejection)
    if isinstance(rejection, rj.Outdated):
        return "rejected_outdated", {
            "action": rejection.action, "current": booking_view(rt, rejection.booking),
            "changes": changes(rt, rejection.booking, rejection.decision_round)}
    if isinstance(rejection, rj.Invalid):
        return "rejected_invalid", {"field": rejection.field, "problem": rejection.problem,
                                    "limit": rejection.limit,
                                    "max_party_size": rt.house.limits.max_party_size}
    if isinstance(rejection, rj.ReasonRequired):
        return "rejected_reason_required", {"action": rejection.action}
    if isinstance(rejection, rj.NotPermitted):
        return "rejected_not_permitted", {"action": rejection.action,
                                          "approver_names": [a.name for a in rt.house.approvers]}
    return "rejected_not_permitted", {"action": rejection.code,
                                      "approver_names": [a.name for a in rt.house.approvers]}


def day_start(rt: Runtime) -> datetime:
    """Midnight of the house's today, as aware UTC: "per day" means per calendar day."""
    midnight = datetime.combine(rt.today(), time(0), tzinfo=rt.house.timezone)
    return midnight.astimezone(rt.now().tzinfo)


def limited(kind: str) -> bool:
    return kind.startswith(LIMITED_PREFIXES)


def answered_today(rt: Runtime, session: Session, key: str) -> bool:
    """Loop safety: has this answer (`kind:sender[:matter]`) already gone out today?"""
    used = queries.count_recent(session, "answer", key, day_start(rt))
    return used >= rt.house.limits.help_answers_per_day


def record_answer(rt: Runtime, session: Session, key: str) -> None:
    queries.count_use(session, "answer", key, rt.now())


def recipient_allowed(rt: Runtime, session: Session, address: str) -> bool:
    """SPEC §5 "Bounded": so many answers to one address a day, of every kind (status too);
    counts this one when it may go out."""
    used = queries.count_recent(session, "answer_to", address, day_start(rt))
    if used >= rt.house.limits.answers_per_recipient_per_day:
        return False
    queries.count_use(session, "answer_to", address, rt.now())
    return True


HOUSE = "house"  # the subject of house-wide counters


def house_busy(rt: Runtime, session: Session) -> int | None:
    """New requests by mail in the last hour, house-wide, when there are too many for one
    more (a flood from many addresses); otherwise counts this one and says None."""
    used = queries.count_recent(session, "house_request", HOUSE, within_hour(rt))
    if used >= rt.house.limits.new_requests_per_hour:
        return used
    queries.count_use(session, "house_request", HOUSE, rt.now())
    return None


def upcoming(bookings: list[Booking], today: date) -> list[Booking]:
    """A person's bookings that still matter: not past, not canceled; soonest first."""
    live = [b for b in bookings if b.end >= today and b.state != State.CANCELED]
    return sorted(live, key=lambda b: b.start)


def matching(bookings: list[Booking], start: date | None, end: date | None) -> list[Booking]:
    """The bookings a message's dates point at (overlap with the named days)."""
    if start is None and end is None:
        return bookings
    first, last = start or end, end or start
    assert first is not None and last is not None
    return [b for b in bookings if b.overlaps(first, last)]


def within_hour(rt: Runtime) -> datetime:
    return rt.now() - timedelta(hours=1)


def free_near(rt: Runtime, session: Session, start: date, end: date,
              exclude: int | None = None) -> list[dict[str, date]]:
    """Free stays as long as start–end, the nearest before and after it (issue 16); only
    days from today up to the horizon (BR-026)."""
    today = rt.today()
    days = max(1, min((end - start).days + 1, 60))
    latest = add_months(today, rt.house.limits.future_horizon_months)
    aim = min(max(start, today), latest)
    around = timedelta(days=130 + days)
    taken = [(b.start, b.end) for b in queries.blocking_overlaps(session, aim - around,
                                                                 aim + around, exclude)]
    return [{"start": s, "end": e}
            for s, e in free_windows(days, aim, taken, today, latest)]


_VAGUE_DAY = {"anfang": 3, "mitte": 14, "ende": 24}


def example_stay(rt: Runtime, session: Session, vague: str | None) -> dict[str, date]:
    """A free four-day stay to show as an example, in the month a vague phrase names
    ("Mitte Juli" → mid-July), else about a month ahead; never a booked slot."""
    today = rt.today()
    aim = today + timedelta(days=30)
    words = (vague or "").lower().split()
    months = vocabulary().months
    month = next((months[w] for w in words if w in months), None)
    if month is not None:
        year = today.year + (1 if month < today.month else 0)
        aim = date(year, month, next((_VAGUE_DAY[w] for w in words if w in _VAGUE_DAY), 10))
        aim = max(aim, today + timedelta(days=1))
    found = free_near(rt, session, aim - timedelta(days=1), aim + timedelta(days=2))
    after = [f for f in found if f["start"] >= aim] or found
    return after[0] if after else {"start": aim, "end": aim + timedelta(days=3)}
