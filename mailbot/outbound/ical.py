"""Calendar files (RFC 5545, built with `icalendar`): the all-day event a confirmation mail
carries, its cancellation, and the subscribable feed of the unlisted calendar.

One booking is one event with a stable UID (`buchung-<id>@MAIL_DOMAIN`); its SEQUENCE is the
number of timeline entries, which grows with every change, so a calendar program replaces
the older copy. Text comes from `templates/email/_event.txt.j2`."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from icalendar import Calendar, Event, vCalAddress, vText

from mailbot.core.model import Booking, State
from mailbot.outbound.render import blocks
from mailbot.runtime import Runtime

FILENAME = "buchung.ics"
CONTENT_TYPE = "text/calendar"
_STATUS = {State.PENDING: "TENTATIVE", State.CONFIRMED: "CONFIRMED"}


def uid(rt: Runtime, booking_id: int) -> str:
    return f"buchung-{booking_id}@{rt.settings.mail_domain}"


def event(rt: Runtime, booking: Booking, sequence: int, stamp: datetime, canceled: bool = False,
          feed: bool = False) -> Event:
    """The booking as an all-day event (DTEND is the day after the last day, RFC 5545)."""
    assert booking.id is not None
    text = blocks("_event.txt.j2", {"house_name": rt.house.name, "booking": booking,
                                    "canceled": canceled, "feed": feed}, ("summary", "description"))
    item = Event()
    item.add("uid", uid(rt, booking.id))
    item.add("sequence", sequence)
    item.add("dtstamp", stamp)
    item.add("dtstart", booking.start)
    item.add("dtend", booking.end + timedelta(days=1))
    item.add("summary", text["summary"])
    if text["description"]:
        item.add("description", text["description"])
    item.add("status", "CANCELLED" if canceled else _STATUS.get(booking.state, "CONFIRMED"))
    item.add("transp", "TRANSPARENT" if canceled else "OPAQUE")
    return item


def _calendar(rt: Runtime, method: str | None) -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", "-//mailbot//Buchungen//DE")
    calendar.add("version", "2.0")
    if method:
        calendar.add("method", method)
    return calendar


def invitation(rt: Runtime, booking: Booking, recipient: str, canceled: bool = False) -> dict[str, str]:
    """The attachment of a confirmation (METHOD:PUBLISH) or of the cancellation of a confirmed
    booking (METHOD:CANCEL, with organizer and the recipient as attendee, RFC 5546)."""
    calendar = _calendar(rt, "CANCEL" if canceled else "PUBLISH")
    item = event(rt, booking, len(booking.timeline), rt.now(), canceled=canceled)
    organizer = vCalAddress(f"mailto:{rt.settings.booking_address}")
    organizer.params["cn"] = vText(rt.house.name)
    item.add("organizer", organizer)
    if canceled:
        item.add("attendee", vCalAddress(f"mailto:{recipient}"))
    calendar.add_component(item)
    method = "CANCEL" if canceled else "PUBLISH"
    return {"filename": FILENAME, "content_type": f"{CONTENT_TYPE}; method={method}",
            "content": calendar.to_ical().decode("utf-8")}


def feed(rt: Runtime, entries: Iterable[tuple[Booking, int]]) -> bytes:
    """The subscribable calendar: Pending and Confirmed bookings with first name, party size
    and status; no addresses, no descriptions. `entries`: (booking, sequence)."""
    calendar = _calendar(rt, None)
    calendar.add("x-wr-calname", rt.house.name)
    calendar.add("x-wr-timezone", str(rt.house.timezone))
    calendar.add("refresh-interval", timedelta(hours=1), parameters={"value": "DURATION"})
    calendar.add("x-published-ttl", timedelta(hours=1))
    for booking, sequence in entries:
        stamp: Any = booking.last_activity_at or booking.created_at or rt.now()
        calendar.add_component(event(rt, booking, sequence, stamp, feed=True))
    return bytes(calendar.to_ical())
