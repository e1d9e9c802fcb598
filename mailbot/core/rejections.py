"""Every reason the core refuses an action, as a named value.

Each carries what a German answer needs; `code` names the template that answers it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import ClassVar

from mailbot.core.model import Booking, State


@dataclass
class Rejection(Exception):
    code: ClassVar[str] = "rejected"

    def __post_init__(self) -> None:
        Exception.__init__(self, self.code)


@dataclass
class Conflict(Rejection):
    """BR-002/BR-018/BR-029: the dates overlap a Pending or Confirmed booking."""

    code: ClassVar[str] = "conflict"
    first_name: str
    state: State
    start: date
    end: date


@dataclass
class StartInPast(Rejection):
    code: ClassVar[str] = "start_in_past"
    start: date


@dataclass
class EndBeforeStart(Rejection):
    code: ClassVar[str] = "end_before_start"
    start: date
    end: date


@dataclass
class BeyondHorizon(Rejection):
    """BR-026."""

    code: ClassVar[str] = "beyond_horizon"
    start: date
    latest: date


@dataclass
class BookingInPast(Rejection):
    """BR-014: past bookings are read-only."""

    code: ClassVar[str] = "booking_in_past"
    booking: Booking


@dataclass
class NotAllowedNow(Rejection):
    """The action does not exist in the booking's state (e.g. edit a Confirmed booking)."""

    code: ClassVar[str] = "not_allowed_now"
    booking: Booking
    action: str


@dataclass
class AlreadyDone(Rejection):
    """BR-024 / BR-010: a late or repeated action; `detail` says what happened before."""

    code: ClassVar[str] = "already_done"
    booking: Booking
    action: str
    detail: str  # approved_by_you, denied_by:<key>, confirmed, canceled, pending, denied_by_you


@dataclass
class Outdated(Rejection):
    """SPEC §5 "Current": the JA or NEIN answers a mail (or form) of an older decision round;
    the booking changed since (extended, reopened) and the approvers were asked again."""

    code: ClassVar[str] = "outdated"
    booking: Booking
    action: str
    decision_round: int  # the round the action was given in


@dataclass
class NotPermitted(Rejection):
    """The actor may not act on this booking (not the requester / not an approver)."""

    code: ClassVar[str] = "not_permitted"
    action: str


@dataclass
class Invalid(Rejection):
    """BR-016/017/019/020 validation. `field` is party_size, first_name, description or reason."""

    code: ClassVar[str] = "invalid"
    field: str
    problem: str  # too_small, too_large, empty, too_long, bad_characters, contains_link
    limit: int | None = None


@dataclass
class ReasonRequired(Rejection):
    """BR-004/BR-007: a deny, or the cancel of a Confirmed booking, needs a reason."""

    code: ClassVar[str] = "reason_required"
    booking: Booking
    action: str


@dataclass
class ConfirmationRequired(Rejection):
    """BR-027 long stay, BR-004 deny of Confirmed, BR-007 cancel of Confirmed."""

    code: ClassVar[str] = "confirmation_required"
    action: str  # long_stay, deny_confirmed, cancel_confirmed
    booking: Booking | None = None
    days: int | None = None
