"""Issue 16 over real SMTP against a real `mailbot serve` (the fixtures of test_mail_loop):
a requester refused for a conflict answers "Sag Bescheid, wenn frei wird" and gets one mail
when a NEIN frees the dates; a confirmation arrives with its calendar file."""

from __future__ import annotations

from email import message_from_bytes, policy

import icalendar

from tests.e2e.test_mail_loop import (  # noqa: F401 - `service` is the module's fixture
    APPROVERS,
    INGE,
    Service,
    book,
    german,
    service,
    stay,
)


def test_a_waiting_wish_is_told_once_when_a_nein_frees_the_dates(service: Service) -> None:  # noqa: F811
    start, end = book(service, "dora@example.net", "Dora", 130)
    text, _, _ = stay(131, 2)
    refused = service.send("emil@example.net", f"Hallo,\nwir würden gern {text} zu zweit kommen.\n\nEmil")
    assert service.settle(refused) == ("rejected", "conflict")
    answer = service.wait_for("emil@example.net", "rejected_conflict")
    assert "Sag Bescheid, wenn frei wird" in answer.text
    wish = service.reply("emil@example.net", answer, "Schade! Sag Bescheid, wenn frei wird.")
    assert service.settle(wish) == ("processed", "wish_noted")
    assert service.count("emil@example.net", "wish_free") == 0

    ask = service.wait_for(INGE, "request_submitted", german(start, end))
    assert service.settle(service.reply(INGE, ask, "NEIN, weil wir selbst da sind")) == \
        ("processed", "denied")
    news = service.wait_for("emil@example.net", "wish_free")
    assert german(*stay(131, 2)[1:]) in news.subject
    # a second NEIN-free moment brings no second mail: the wish was told once
    assert service.count("emil@example.net", "wish_free") == 1


def test_a_confirmation_arrives_with_its_calendar_file(service: Service) -> None:  # noqa: F811
    start, end = book(service, "fritz@example.net", "Fritz", 150, days=3)
    for approver in APPROVERS:
        ask = service.wait_for(approver, "request_submitted", german(start, end))
        assert service.settle(service.reply(approver, ask, "JA")) == ("processed", "approved")
    service.wait_for("fritz@example.net", "booking_confirmed", german(start, end))
    files = [p for folder in ("new", "cur") for p in (service.maildir / folder).glob("*")]
    for path in files:
        message = message_from_bytes(path.read_bytes(), policy=policy.default)
        if message["X-Mailbot-Kind"] == "booking_confirmed" and message["To"] == "fritz@example.net":
            (part,) = [p for p in message.iter_attachments() if p.get_content_type() == "text/calendar"]
            (event,) = icalendar.Calendar.from_ical(part.get_content()).walk("VEVENT")
            assert event["DTSTART"].dt == start and (event["DTEND"].dt - end).days == 1
            break
    else:
        raise AssertionError("no confirmation to fritz in the Maildir")
