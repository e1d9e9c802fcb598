"""Click through the web view in a real headless Chromium at phone width (375 px), against
uvicorn on a free port: links taken from the mails in the outbox, every page screenshotted
into tests/artifacts/."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from mailbot.runtime import Runtime
from mailbot.web import links
from tests.conftest import Clock
from tests.support.browser import act, book, chromium, mailed_link, screenshot
from tests.support.browser import site as served_site

pytestmark = [pytest.mark.e2e, pytest.mark.browser]
PHONE = 375


@pytest.fixture
def site(tmp_path: Path, clock: Clock) -> Iterator[tuple[Runtime, str]]:
    """The app on a real port, its BASE_URL matching so mailed links point at it."""
    with served_site(tmp_path, clock) as running:
        yield running


@pytest.fixture
def page() -> Iterator[Any]:
    with chromium(PHONE) as opened:
        problems: list[str] = []
        opened.on("console", lambda m: problems.append(m.text)
                  if "Content Security Policy" in m.text or "Refused" in m.text else None)
        opened.problems = problems
        yield opened
    assert not problems, problems  # nothing the CSP had to block


def fits_the_phone(page: Any) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE
    for button in page.locator("button, .button").all():
        if button.is_visible():
            assert button.bounding_box()["height"] >= 44


def test_approve_from_an_email_link(site: tuple[Runtime, str], page: Any) -> None:
    rt, _ = site
    book(rt, "anna@example.org", "Anna", date(2026, 12, 4), date(2026, 12, 6), 3, "Wir bringen Kuchen mit")
    page.goto(mailed_link(rt, "ingeborg@example.org", "/zustimmen"))
    assert page.locator("h1").inner_text().startswith("Zustimmen: Anna")
    fits_the_phone(page)
    screenshot(page, "approve-link")
    page.get_by_role("button", name="Ja, ich stimme zu").click()
    page.wait_for_selector("text=Deine Zustimmung ist gespeichert", state="attached")
    assert "Noch offen: Cornelia, Angelika" in page.content()
    screenshot(page, "approve-done")
    page.get_by_role("link", name="Zur Übersicht").click()
    assert "Verlauf" in page.content() and "Anna" in page.content()
    screenshot(page, "approver-overview")


def test_deny_with_a_reason(site: tuple[Runtime, str], page: Any) -> None:
    rt, _ = site
    book(rt, "bernd@example.org", "Bernd", date(2026, 12, 10), date(2026, 12, 13), 5)
    page.goto(mailed_link(rt, "cornelia@example.org", "/ablehnen"))
    fits_the_phone(page)
    screenshot(page, "deny-form")
    page.get_by_label("Warum lehnst du ab?").fill("Da ist die Heizung in Reparatur.")
    page.get_by_role("button", name="Ablehnen").click()
    page.wait_for_selector("text=Du hast die Buchung abgelehnt", state="attached")
    assert "Abgelehnt" in page.content()
    screenshot(page, "deny-done")


def test_cancel_a_confirmed_booking(site: tuple[Runtime, str], page: Any) -> None:
    rt, _ = site
    booking_id, link_id = book(rt, "carla@example.org", "Carla", date(2026, 12, 18), date(2026, 12, 20), 2)
    for key in ("ingeborg", "cornelia", "angelika"):
        act(rt, "approve", booking_id, key)
    page.goto(links.booking_url(rt, link_id, booking_id))
    assert "Bestätigt" in page.content()
    screenshot(page, "requester-booking")
    page.get_by_role("link", name="Stornieren").click()
    assert "Achtung: Diese Buchung ist schon bestätigt" in page.content()
    fits_the_phone(page)
    screenshot(page, "cancel-confirmed-form")
    page.get_by_label("Warum stornierst du?").fill("Wir sind leider krank.")
    page.get_by_label("Ja, ich will die bestätigte Buchung stornieren.").check()
    page.get_by_role("button", name="Buchung stornieren").click()
    page.wait_for_selector("text=Die Buchung ist storniert", state="attached")
    assert "Benachrichtigt: du, Ingeborg, Cornelia, Angelika" in page.content()
    screenshot(page, "cancel-done")


def test_reopen_a_denied_booking(site: tuple[Runtime, str], page: Any) -> None:
    rt, _ = site
    booking_id, link_id = book(rt, "dora@example.org", "Dora", date(2027, 1, 8), date(2027, 1, 10), 4)
    act(rt, "deny", booking_id, "angelika", "Da sind wir selbst im Haus.")
    page.goto(links.person_url(rt, link_id))
    fits_the_phone(page)
    screenshot(page, "requester-overview")
    page.locator("a.card").first.click()
    page.get_by_role("link", name="Wieder öffnen").click()
    page.get_by_label("Anreise").fill("2027-01-15")
    page.get_by_label("Abreise").fill("2027-01-17")
    screenshot(page, "reopen-form")
    page.get_by_role("button", name="Wieder öffnen").click()
    page.wait_for_selector("text=Die Anfrage ist wieder offen", state="attached")
    assert "15.–17.01.2027" in page.content() and "Ausstehend" in page.content()
    screenshot(page, "reopen-done")


def test_calendar_month_view(site: tuple[Runtime, str], page: Any) -> None:
    rt, _ = site
    first, _ = book(rt, "anna@example.org", "Anna", date(2026, 12, 4), date(2026, 12, 6), 3)
    confirmed, _ = book(rt, "ingeborg@example.org", "Ingeborg", date(2026, 12, 23), date(2026, 12, 27), 8)
    for key in ("cornelia", "angelika"):
        act(rt, "approve", confirmed, key)
    act(rt, "approve", first, "cornelia")
    page.goto(links.calendar_url(rt))
    assert "November 2026" in page.content()
    page.get_by_role("link", name="Nächster Monat").click()
    assert page.locator("h1").inner_text() == "Dezember 2026"
    assert page.locator("td .bar").count() == 3 + 5
    text = page.inner_text("main")
    assert "Anna · 3 Personen" in text and "Ingeborg · 8 Personen" in text and "Bestätigt" in text
    colour = page.locator(".card.stay.c-ingeborg .dates").evaluate(
        "e => getComputedStyle(e.parentElement.parentElement).borderLeftColor")
    assert colour == "rgb(192, 57, 43)"  # Ingeborg's #c0392b from the rules file
    fits_the_phone(page)
    screenshot(page, "calendar-december")


def test_admin_log(site: tuple[Runtime, str], page: Any) -> None:
    rt, base = site
    book(rt, "anna@example.org", "Anna", date(2026, 12, 4), date(2026, 12, 6), 3)
    page.goto(f"{base}/admin")
    screenshot(page, "admin-login")
    page.get_by_label("Admin-Token").fill(rt.settings.admin_token)
    page.get_by_role("button", name="Anmelden").click()
    page.wait_for_selector("h1:has-text('Mail-Log')")
    assert rt.settings.admin_token not in page.url
    assert "ingeborg@example.org" in page.content()
    fits_the_phone(page)
    screenshot(page, "admin-log")
    page.get_by_label("Adresse").fill("anna")
    page.get_by_role("button", name="Filtern").click()
    assert "ingeborg@example.org" not in page.content() and "anna@example.org" in page.content()
    page.get_by_role("link", name="anna@example.org").first.click()
    assert "Ausgang #" in page.locator("h1").inner_text()
    screenshot(page, "admin-outbound")
