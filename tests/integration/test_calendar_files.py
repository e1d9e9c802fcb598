"""Issue 16, calendar files: a confirmation carries an .ics (RFC 5545, all-day, stable UID,
SEQUENCE that grows with every change, METHOD:CANCEL when a confirmed stay is called off),
and the unlisted calendar has a subscribable feed (same token; Pending and Confirmed only,
first name, party size and status, no addresses). Everything is read back with `icalendar`
and with a second parser, `vobject`."""

from __future__ import annotations

import base64
import email
from datetime import date
from email import policy
from email.message import EmailMessage

import icalendar
import pytest
import vobject
from sqlalchemy import select

from mailbot.outbound.transports import Outgoing, ResendTransport, build_message
from mailbot.runtime import Runtime
from mailbot.store.tables import OutboxMessage
from mailbot.web import links
from mailbot.web.app import create_app
from tests.support.browser import WebClient, act, book
from tests.support.resend_server import ResendServer

APPROVERS = ("ingeborg", "cornelia", "angelika")


def _mails(rt: Runtime, kind: str) -> list[OutboxMessage]:
    with rt.store.reading() as session:
        return list(session.scalars(select(OutboxMessage).where(OutboxMessage.kind == kind)
                                    .order_by(OutboxMessage.id)))


def _ics_part(row: OutboxMessage) -> tuple[str, str]:
    """(Content-Type, text) of the calendar attachment, read from the message as sent."""
    message = email.message_from_bytes(build_message(Outgoing.of(row)), policy=policy.default)
    assert isinstance(message, EmailMessage)
    (part,) = [p for p in message.iter_attachments() if p.get_content_type() == "text/calendar"]
    assert part.get_filename() == "buchung.ics"
    # the text and HTML bodies are still there, as alternatives
    assert message.get_body(preferencelist=("plain",)) is not None
    assert message.get_body(preferencelist=("html",)) is not None
    return str(part["Content-Type"]), part.get_content()


def _both(text: str) -> tuple[icalendar.Event, object]:
    calendar = icalendar.Calendar.from_ical(text)
    (event,) = calendar.walk("VEVENT")
    other = vobject.readOne(text)
    return event, other


def _confirmed(rt: Runtime, start: date = date(2027, 8, 3), end: date = date(2027, 8, 7)) -> int:
    booking_id, _ = book(rt, "anna@example.org", "Anna", start, end, 4)
    for key in APPROVERS:
        act(rt, "approve", booking_id, key)
    return booking_id


def test_a_confirmation_carries_an_all_day_ics_for_everyone(rt: Runtime) -> None:
    booking_id = _confirmed(rt)
    confirmations = _mails(rt, "booking_confirmed")
    assert len(confirmations) == 4
    uids = set()
    for row in confirmations:
        content_type, text = _ics_part(row)
        assert "method=PUBLISH" in content_type.replace('"', "")
        assert "\r\n" in text  # RFC 5545 lines end in CRLF
        event, other = _both(text)
        assert icalendar.Calendar.from_ical(text)["METHOD"] == "PUBLISH"
        assert event["DTSTART"].dt == date(2027, 8, 3) and event["DTEND"].dt == date(2027, 8, 8)
        assert str(event["SUMMARY"]) == "Haus Betzenstein: Anna, 4 Personen"
        assert str(event["STATUS"]) == "CONFIRMED"
        uids.add(str(event["UID"]))
        # the second parser reads the same event
        vevent = other.vevent  # type: ignore[attr-defined]
        assert vevent.dtstart.value == date(2027, 8, 3) and vevent.dtend.value == date(2027, 8, 8)
        assert vevent.uid.value == str(event["UID"])
        assert int(vevent.sequence.value) == int(event["SEQUENCE"])
        assert "anna@example.org" not in text or row.to_address == "anna@example.org"
    assert uids == {f"buchung-{booking_id}@{rt.settings.mail_domain}"}
    # no other mail of that booking has a calendar file
    with rt.store.reading() as session:
        others = session.scalars(select(OutboxMessage).where(OutboxMessage.kind != "booking_confirmed"))
        assert all(not m.attachments for m in others)


@pytest.mark.parametrize("how", ["cancel", "deny"])
def test_calling_off_a_confirmed_stay_sends_method_cancel_with_the_same_uid(rt: Runtime, how: str) -> None:
    booking_id = _confirmed(rt)
    _, first = _ics_part(_mails(rt, "booking_confirmed")[0])
    confirmed, _ = _both(first)
    if how == "cancel":
        act(rt, "cancel", booking_id, "anna@example.org", "Wir sind krank", confirmed=True)
        kind = "booking_canceled"
    else:
        act(rt, "deny", booking_id, "cornelia", "Dach wird repariert", confirmed=True)
        kind = "booking_denied"
    mails = _mails(rt, kind)
    assert len(mails) == 4
    for row in mails:
        content_type, text = _ics_part(row)
        assert "method=CANCEL" in content_type.replace('"', "")
        event, other = _both(text)
        assert icalendar.Calendar.from_ical(text)["METHOD"] == "CANCEL"
        assert str(event["UID"]) == str(confirmed["UID"])
        assert int(event["SEQUENCE"]) > int(confirmed["SEQUENCE"])
        assert str(event["STATUS"]) == "CANCELLED"
        assert other.vevent.status.value == "CANCELLED"  # type: ignore[attr-defined]
        assert str(event["ATTENDEE"]) == f"mailto:{row.to_address}"  # only the recipient's own


def test_a_pending_cancel_has_no_calendar_file(rt: Runtime) -> None:
    booking_id, _ = book(rt, "anna@example.org", "Anna", date(2027, 8, 3), date(2027, 8, 7))
    act(rt, "cancel", booking_id, "anna@example.org", None)
    assert all(not m.attachments for m in _mails(rt, "booking_canceled"))


def test_the_feed_lists_pending_and_confirmed_without_addresses(rt: Runtime) -> None:
    client = WebClient(create_app(rt), rt.settings.base_url)
    pending, _ = book(rt, "anna@example.org", "Anna", date(2027, 8, 2), date(2027, 8, 6), 1,
                      "Geheime Notiz")
    confirmed = _confirmed(rt, date(2027, 8, 10), date(2027, 8, 12))
    denied, _ = book(rt, "carla@example.org", "Carla", date(2027, 8, 20), date(2027, 8, 22))
    act(rt, "deny", denied, "ingeborg", "Nein danke")

    response = client.get(links.calendar_feed_url(rt))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/calendar")
    assert response.headers["x-robots-tag"].startswith("noindex")
    text = response.text
    events = {str(e["UID"]): e for e in icalendar.Calendar.from_ical(text).walk("VEVENT")}
    domain = rt.settings.mail_domain
    assert set(events) == {f"buchung-{pending}@{domain}", f"buchung-{confirmed}@{domain}"}
    anna, bernd = events[f"buchung-{pending}@{domain}"], events[f"buchung-{confirmed}@{domain}"]
    assert str(anna["SUMMARY"]) == "Anna, 1 Personen (Ausstehend)" and str(anna["STATUS"]) == "TENTATIVE"
    assert str(bernd["SUMMARY"]) == "Anna, 4 Personen (Bestätigt)" and str(bernd["STATUS"]) == "CONFIRMED"
    assert anna["DTSTART"].dt == date(2027, 8, 2) and anna["DTEND"].dt == date(2027, 8, 7)
    assert "example.org" not in text and "Geheime" not in text and "Nein danke" not in text
    assert "ORGANIZER" not in text and "ATTENDEE" not in text
    parsed = vobject.readOne(text)
    assert sorted(e.summary.value for e in parsed.vevent_list) == [  # type: ignore[attr-defined]
        "Anna, 1 Personen (Ausstehend)", "Anna, 4 Personen (Bestätigt)"]
    # the feed's SEQUENCE is the one the confirmation mail carried
    _, mailed = _ics_part(_mails(rt, "booking_confirmed")[0])
    assert int(bernd["SEQUENCE"]) == int(icalendar.Calendar.from_ical(mailed).walk("VEVENT")[0]["SEQUENCE"])


def test_the_feed_needs_the_calendar_token(rt: Runtime) -> None:
    client = WebClient(create_app(rt), rt.settings.base_url)
    assert client.get("/kalender/all.falsch.ics").status_code == 403
    other = links.calendar_feed_url(rt).replace("/kalender/", "/kalender/x")
    assert client.get(other).status_code == 403


def test_links_in_mails_open_the_calendar_at_the_bookings_month(rt: Runtime) -> None:
    book(rt, "anna@example.org", "Anna", date(2027, 8, 3), date(2027, 8, 7))
    for row in _mails(rt, "request_submitted"):
        assert f"{links.calendar_url(rt)}?monat=2027-08" in row.text_body


def test_resend_gets_the_calendar_file_as_an_attachment(rt: Runtime) -> None:
    """The same file reaches Resend's API (here its local stand-in) as an attachment."""
    _confirmed(rt)
    row = _mails(rt, "booking_confirmed")[0]
    with ResendServer() as server:
        ResendTransport(server.api_key, server.url).send(Outgoing.of(row))
        (delivery,) = server.deliveries
    (attachment,) = delivery.body["attachments"]
    assert attachment["filename"] == "buchung.ics"
    assert attachment["content_type"].startswith("text/calendar")
    text = base64.b64decode(attachment["content"]).decode("utf-8")
    assert text == _ics_part(row)[1]
    event, _ = _both(text)
    assert event["DTSTART"].dt == date(2027, 8, 3)


def test_confirmed_again_after_a_reopen_has_a_higher_sequence_than_the_cancel(rt: Runtime) -> None:
    """A calendar program keeps the newest copy of one UID: confirm, cancel by deny, reopen
    with new dates, confirm again — each file outranks the one before."""
    booking_id = _confirmed(rt)
    act(rt, "deny", booking_id, "cornelia", "Dach wird repariert", confirmed=True)
    act(rt, "reopen", booking_id, "anna@example.org", start=date(2027, 8, 10), end=date(2027, 8, 12))
    for key in APPROVERS:
        act(rt, "approve", booking_id, key)
    files = [_ics_part(row)[1] for row in _mails(rt, "booking_confirmed")[::4]]
    files.insert(1, _ics_part(_mails(rt, "booking_denied")[0])[1])
    events = [_both(text)[0] for text in files]
    assert [str(e["STATUS"]) for e in events] == ["CONFIRMED", "CANCELLED", "CONFIRMED"]
    assert len({str(e["UID"]) for e in events}) == 1
    sequences = [int(e["SEQUENCE"]) for e in events]
    assert sequences == sorted(sequences) and len(set(sequences)) == 3
    assert events[-1]["DTSTART"].dt == date(2027, 8, 10) and events[-1]["DTEND"].dt == date(2027, 8, 13)
