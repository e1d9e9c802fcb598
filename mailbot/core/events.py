"""What happened, as small values. The outbound side turns them into emails."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from mailbot.core.model import Booking, State


@dataclass(frozen=True)
class Event:
    booking: Booking


@dataclass(frozen=True)
class Submitted(Event):
    self_approved_by: str | None  # BR-015: the requester's own approver key


@dataclass(frozen=True)
class Approved(Event):
    """One approval that did not yet confirm the booking."""

    approver: str
    outstanding: tuple[str, ...]


@dataclass(frozen=True)
class Confirmed(Event):
    approver: str  # whose approval was the last one


@dataclass(frozen=True)
class Denied(Event):
    approver: str
    reason: str
    was_confirmed: bool


@dataclass(frozen=True)
class Shortened(Event):
    old_start: date
    old_end: date


@dataclass(frozen=True)
class Extended(Event):
    old_start: date
    old_end: date


@dataclass(frozen=True)
class DetailsChanged(Event):
    """Party size or first name changed: decisions kept, nobody told (BR-005, BR-025)."""


@dataclass(frozen=True)
class Reopened(Event):
    old_start: date
    old_end: date
    note: str | None = None  # the requester's own words, when they gave any


@dataclass(frozen=True)
class Canceled(Event):
    actor: str  # "requester" or "system"
    reason: str | None
    previous: State
