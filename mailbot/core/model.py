"""The booking and its parts: plain Python, no I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum


class State(StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    DENIED = "denied"
    CANCELED = "canceled"

    @property
    def blocks_dates(self) -> bool:
        return self in (State.PENDING, State.CONFIRMED)


class Verdict(StrEnum):
    NO_RESPONSE = "no_response"
    APPROVED = "approved"
    DENIED = "denied"


@dataclass
class Decision:
    approver: str  # approver key from the rules file
    verdict: Verdict = Verdict.NO_RESPONSE
    decided_at: datetime | None = None
    reason: str | None = None


@dataclass
class TimelineEvent:
    at: datetime
    actor: str  # "requester", an approver key, or "system"
    kind: str  # submitted, approved, denied, confirmed, shortened, extended, reopened, canceled
    old_start: date | None = None
    old_end: date | None = None
    new_start: date | None = None
    new_end: date | None = None
    note: str | None = None


RESET_KINDS = ("extended", "reopened")  # timeline kinds that start a new decision round
CHANGE_KINDS = ("denied", "extended", "shortened", "reopened", "canceled")


@dataclass
class Booking:
    requester_email: str
    first_name: str
    start: date
    end: date
    party_size: int
    description: str = ""
    state: State = State.PENDING
    created_at: datetime | None = None
    last_activity_at: datetime | None = None
    archived_at: datetime | None = None  # when it became Canceled
    id: int | None = None
    # SPEC §5 "Current": starts at 1, +1 whenever the decisions are reset (extend, reopen);
    # reply keys and action forms name the round they were sent in.
    decision_round: int = 1
    decisions: list[Decision] = field(default_factory=list)
    timeline: list[TimelineEvent] = field(default_factory=list)

    @property
    def total_days(self) -> int:
        """BR-001: whole days, inclusive end."""
        return (self.end - self.start).days + 1

    def is_past(self, today: date) -> bool:
        """BR-014: past once the end is before today."""
        return self.end < today

    def decision(self, approver: str) -> Decision:
        for decision in self.decisions:
            if decision.approver == approver:
                return decision
        decision = Decision(approver)
        self.decisions.append(decision)
        return decision

    def verdict(self, approver: str) -> Verdict:
        return self.decision(approver).verdict

    def approvers_with(self, verdict: Verdict) -> list[str]:
        return [d.approver for d in self.decisions if d.verdict == verdict]

    @property
    def denial(self) -> Decision | None:
        """The deny that moved the booking to Denied (the first one)."""
        denied = [d for d in self.decisions if d.verdict == Verdict.DENIED]
        return min(denied, key=lambda d: d.decided_at or datetime.min) if denied else None

    @property
    def expired(self) -> bool:
        """BR-028: canceled by the nightly cleanup, not by a person."""
        ended = [e for e in self.timeline if e.kind == "canceled"]
        return self.state == State.CANCELED and bool(ended) and ended[-1].actor == "system"

    def changes_since(self, decision_round: int) -> list[TimelineEvent]:
        """What happened to the booking since the start of `decision_round`: the resets and
        the denies, date changes and cancels in between, oldest first."""
        resets = [i for i, e in enumerate(self.timeline) if e.kind in RESET_KINDS]
        begin = resets[decision_round - 2] + 1 if 2 <= decision_round <= len(resets) + 1 else 0
        return [e for e in self.timeline[begin:] if e.kind in CHANGE_KINDS]

    def overlaps(self, start: date, end: date) -> bool:
        return self.start <= end and start <= self.end
