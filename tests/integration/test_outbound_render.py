"""Rendering: German dates in one place, every event mail in text and HTML, user text escaped."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from jinja2 import UndefinedError
from markupsafe import escape

from mailbot.core.model import Booking
from mailbot.outbound.render import TEMPLATES, date_range, environment, party, render


@pytest.mark.parametrize(("start", "end", "written"), [
    (date(2026, 8, 1), date(2026, 8, 5), "01.–05.08.2026"),
    (date(2026, 7, 28), date(2026, 8, 2), "28.07.–02.08.2026"),
    (date(2026, 12, 30), date(2027, 1, 2), "30.12.2026–02.01.2027"),
    (date(2026, 8, 5), date(2026, 8, 5), "05.08.2026"),
])
def test_german_date_ranges(start: date, end: date, written: str) -> None:
    assert date_range(start, end) == written


def test_br016_party_size_is_always_personen() -> None:
    assert party(1) == "1 Personen"
    assert party(7) == "7 Personen"


EVIL = "<script>alert(1)</script>"


def context(booking: Booking, **extra: Any) -> dict[str, Any]:
    return {
        "house_name": "Haus Betzenstein", "recipient_name": "Ingeborg", "is_approver": True,
        "is_requester": False, "booking": booking, "personal_url": "http://127.0.0.1:8000/p/x.y",
        "approver_url": "http://127.0.0.1:8000/a/x.y", "booking_url": "http://127.0.0.1:8000/p/x.y/buchung/1",
        "cancel_url": "http://127.0.0.1:8000/c", "reopen_url": "http://127.0.0.1:8000/r", "edit_url": None,
        "approver_booking_url": "http://127.0.0.1:8000/ab", "approve_url": "http://127.0.0.1:8000/ok",
        "deny_url": "http://127.0.0.1:8000/no", "calendar_url": "http://127.0.0.1:8000/kalender/x.y",
        "recover_url": "http://127.0.0.1:8000/link",
        "approver_names": ["Ingeborg", "Cornelia", "Angelika"], **extra,
    }


OLD = {"old_start": date(2026, 12, 1), "old_end": date(2026, 12, 3)}
KINDS: dict[str, tuple[dict[str, Any], str]] = {
    "request_submitted": ({"self_approver_name": None},
                          f"Neue Buchungsanfrage von Anna{EVIL} (30.12.2026–02.01.2027)"),
    "request_received": ({"self_approved": False, "confirm_own": False,
                          "deciders": ["Ingeborg", "Cornelia", "Angelika"]},
                         "Anfrage erhalten (30.12.2026–02.01.2027)"),
    "booking_approved": ({"approver_name": "Ingeborg", "outstanding_names": ["Cornelia"]},
                         "Ingeborg hat zugestimmt (30.12.2026–02.01.2027)"),
    "booking_confirmed": ({"approver_names": ["Ingeborg", "Cornelia", "Angelika"]},
                          "Buchung bestätigt (30.12.2026–02.01.2027)"),
    "booking_denied": ({"approver_name": "Cornelia", "reason": EVIL, "was_confirmed": False,
                        "denied_by_you": False}, "Cornelia hat abgelehnt (30.12.2026–02.01.2027)"),
    "booking_shortened": (OLD, "Buchung verkürzt (30.12.2026–02.01.2027)"),
    "booking_extended": (OLD, f"Anna{EVIL} hat die Buchung geändert – bitte neu entscheiden "
                                "(30.12.2026–02.01.2027)"),
    "booking_reopened": ({**OLD, "dates_changed": True, "note": EVIL, "deciders": ["Ingeborg"]},
                         f"Anna{EVIL} fragt noch einmal an – bitte entscheiden "
                         "(30.12.2026–02.01.2027)"),
    "booking_canceled": ({"reason": EVIL, "was_confirmed": True, "told_approvers": ["Ingeborg"]},
                         "Buchung storniert (30.12.2026–02.01.2027)"),
    "booking_canceled_denied": ({}, "Buchung storniert (30.12.2026–02.01.2027)"),
}


def evil_booking() -> Booking:
    return Booking("anna@example.com", f"Anna{EVIL}", date(2026, 12, 30), date(2027, 1, 2), 1,
                   description=f"Wir bringen {EVIL} mit")


@pytest.mark.parametrize("kind", sorted(KINDS))
@pytest.mark.parametrize("is_requester", [False, True])
def test_every_event_mail_renders_subject_text_and_html(kind: str, is_requester: bool) -> None:
    extra, subject = KINDS[kind]
    if kind == "booking_reopened" and is_requester:
        subject = "Anfrage wieder geöffnet (30.12.2026–02.01.2027)"
    mail = render(kind, context(evil_booking(), **extra, is_requester=is_requester))
    assert mail.subject == subject
    assert mail.text.startswith("Hallo Ingeborg,")
    assert "Haus Betzenstein" in mail.text
    assert mail.html.lstrip().startswith("<!DOCTYPE html>")
    assert f"<title>{escape(subject)}</title>" in mail.html
    # user text is escaped in HTML, plain in text
    assert "<script>" not in mail.html
    # the mails that show no user text
    if kind != "booking_shortened" and not (kind == "booking_reopened" and is_requester):
        assert "&lt;script&gt;" in mail.html and f"Anna{EVIL}" in mail.text
    # dark mode: the client may pick the scheme; no forced backgrounds or images
    assert "color-scheme: light dark" in mail.html
    assert "background" not in mail.html and "url(" not in mail.html


def test_the_details_show_dates_days_and_br016_party_size() -> None:
    mail = render("request_submitted", context(evil_booking(), self_approver_name=None))
    assert "30.12.2026–02.01.2027 (4 Tage)" in mail.text
    assert "1 Personen" in mail.text and "1 Personen" in mail.html


def test_a_missing_value_is_an_error_not_an_empty_gap() -> None:
    with pytest.raises(UndefinedError):
        render("booking_approved", context(evil_booking(), approver_name="Ingeborg"))


def test_every_template_in_the_folder_has_a_subject_and_both_parts() -> None:
    env = environment()
    kinds = sorted(p.name[: -len(".txt.j2")] for p in TEMPLATES.glob("*.txt.j2")
                   if not p.name.startswith("_"))
    assert set(KINDS) <= set(kinds)
    for kind in kinds:
        assert (TEMPLATES / f"{kind}.html.j2").exists(), kind
        assert "subject" in env.get_template(f"{kind}.txt.j2").blocks, kind
