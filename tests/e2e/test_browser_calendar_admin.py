"""Issue 16 in a real headless Chromium at a phone's 375 px and a desktop's 1280 px: the
calendar opens at the booking's month from a mailed link, its month buttons are equally
wide, today is a circle, and it offers the feed; the admin pages speak German. Screenshots
go to tests/artifacts/ (calendar-month-375.png, admin-outbound-1280.png, …)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from mailbot.runtime import Runtime
from mailbot.store.tables import OutboxMessage
from tests.conftest import Clock
from tests.support.browser import book, chromium, confirm, mailed_link, screenshot
from tests.support.browser import site as served_site

pytestmark = [pytest.mark.e2e, pytest.mark.browser]
WIDTHS = (375, 1280)


@pytest.fixture
def site(tmp_path: Path, clock: Clock) -> Iterator[tuple[Runtime, str]]:
    with served_site(tmp_path, clock) as running:
        yield running


def _box(page: Any, selector: str) -> dict[str, float]:
    box = page.locator(selector).first.bounding_box()
    assert box is not None, selector
    return dict(box)


@pytest.mark.parametrize("width", WIDTHS)
def test_calendar_from_a_mail_opens_the_bookings_month(site: tuple[Runtime, str], width: int) -> None:
    rt, _ = site
    confirm(rt, book(rt, "anna@example.org", "Anna", date(2027, 3, 5), date(2027, 3, 8), 3)[0])
    book(rt, "bernd@example.org", "Bernd", date(2027, 3, 12), date(2027, 3, 14), 2)
    with chromium(width, 900) as page:
        page.goto(mailed_link(rt, "ingeborg@example.org", "/kalender/"))
        assert page.locator("h1").inner_text() == "März 2027"
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        previous, following = _box(page, ".month-nav a >> nth=0"), _box(page, ".month-nav a >> nth=1")
        assert abs(previous["width"] - following["width"]) < 0.5  # "‹ Feb" as wide as "Apr ›"
        assert previous["height"] >= 44 and following["height"] >= 44
        feed = page.get_by_role("link", name="abonnieren").get_attribute("href")
        assert feed.startswith("webcal://") and feed.endswith(".ics")
        screenshot(page, f"calendar-month-{width}")

        page.goto(mailed_link(rt, "ingeborg@example.org", "/kalender/").split("?")[0])  # this month
        assert page.locator("h1").inner_text() == "November 2026"
        today = _box(page, "td.today .num")
        assert abs(today["width"] - today["height"]) < 0.5  # a circle, not an oval
        assert page.locator("td.today .num").inner_text() == "23"
        radius = page.evaluate("getComputedStyle(document.querySelector('td.today .num')).borderRadius")
        assert radius == "50%"
        screenshot(page, f"calendar-today-{width}")


@pytest.mark.parametrize("width", WIDTHS)
def test_admin_pages_in_german(site: tuple[Runtime, str], width: int) -> None:
    rt, base = site
    confirm(rt, book(rt, "anna@example.org", "Anna", date(2026, 12, 4), date(2026, 12, 6), 3)[0])
    with rt.store.transaction() as session:
        for row in session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "booking_confirmed")):
            row.state = "sent"
    with chromium(width, 900) as page:
        page.goto(f"{base}/admin")
        page.get_by_label("Admin-Token").fill(rt.settings.admin_token)
        page.get_by_role("button", name="Anmelden").click()
        page.wait_for_selector("h1:has-text('Mail-Log')")
        text = page.locator("main").inner_text()
        assert "gesendet" in text and "wartet" in text and "Buchung bestätigt" in text
        assert not re.search(r"\b(sent|queued|booking_confirmed|request_submitted)\b", text)
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        screenshot(page, f"admin-log-{width}")
        page.get_by_label("Status").select_option(label="gesendet")
        page.get_by_role("button", name="Filtern").click()
        page.locator("table.log a").first.click()
        details = page.locator("main").inner_text()
        assert "Ausgang #" in details and ": gesendet" in details
        assert "Nächster Versuch" not in details and "buchung.ics" in details
        screenshot(page, f"admin-outbound-{width}")
