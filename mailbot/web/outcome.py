"""Running one action from a page: the action layer inside one transaction, and what the
result page needs afterwards (the booking as it is now, the events or the rejection)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy.orm import Session

from mailbot.actions import UnknownBooking
from mailbot.core.events import Event
from mailbot.core.model import Booking
from mailbot.core.rejections import ConfirmationRequired, Invalid, ReasonRequired, Rejection
from mailbot.runtime import Cause, Runtime
from mailbot.store import queries

# Rejections that mean "fill in the form again" rather than "this cannot happen".
FORM_PROBLEMS = (ReasonRequired, ConfirmationRequired, Invalid)


class FormError(Exception):
    """The form itself is unreadable (a date that is no date); nothing was tried."""

    code = "form"

    def __init__(self, field: str) -> None:
        super().__init__(field)
        self.field = field


@dataclass
class Outcome:
    booking: Booking | None
    events: list[Event] = field(default_factory=list)
    rejection: Rejection | None = None

    @property
    def needs_form(self) -> bool:
        return isinstance(self.rejection, FORM_PROBLEMS)


def perform(rt: Runtime, booking_id: int, act: Callable[[Session, Cause], list[Event]]) -> Outcome:
    """Run `act` in one write transaction; a rejection changes nothing and is returned."""
    cause = Cause.new()

    def work(session: Session) -> Outcome:
        try:
            events = act(session, cause)
        except UnknownBooking:
            return Outcome(None, rejection=UnknownBooking("open"))
        except Rejection as rejection:
            return Outcome(queries.booking(session, booking_id), rejection=rejection)
        return Outcome(queries.booking(session, booking_id), events)

    return rt.store.run(work)


def text_field(form: Mapping[str, object], name: str) -> str | None:
    value = form.get(name)
    return value.strip() if isinstance(value, str) and value.strip() else None


def date_field(form: Mapping[str, object], name: str) -> date | None:
    value = text_field(form, name)
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise FormError(name) from None


def int_field(form: Mapping[str, object], name: str) -> int | None:
    value = text_field(form, name)
    if value is None:
        return None
    if not value.isdigit() or len(value) > 4:
        raise FormError(name)
    return int(value)


def ticked(form: Mapping[str, object], name: str) -> bool:
    return form.get(name) == "ja"
