"""The unlisted calendar: Pending and Confirmed stays of one month, nothing personal."""

from __future__ import annotations

import re
from datetime import date

import pytest

from mailbot.runtime import Runtime
from mailbot.web import links
from mailbot.web.app import create_app
from tests.support.browser import WebClient, act, book


@pytest.fixture
def client(rt: Runtime) -> WebClient:
    return WebClient(create_app(rt), rt.settings.base_url)


def test_month_shows_pending_and_confirmed_with_first_name_party_size_and_status(
        rt: Runtime, client: WebClient) -> None:
    pending, _ = book(rt, "anna@example.org", "Anna", date(2027, 8, 2), date(2027, 8, 6), 1,
                      "Geheime Notiz")
    confirmed, _ = book(rt, "bernd@example.org", "Bernd", date(2027, 8, 10), date(2027, 8, 12), 6)
    for key in ("ingeborg", "cornelia", "angelika"):
        act(rt, "approve", confirmed, key)
    denied, _ = book(rt, "carla@example.org", "Carla", date(2027, 8, 20), date(2027, 8, 22))
    act(rt, "deny", denied, "ingeborg", "Nein danke")
    canceled, link = book(rt, "dora@example.org", "Dora", date(2027, 8, 25), date(2027, 8, 26))
    act(rt, "cancel", canceled, "dora@example.org", None)

    page = client.get(links.calendar_url(rt) + "?monat=2027-08")
    assert page.status_code == 200
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page.text))
    assert "August 2027" in text
    assert "02.–06.08.2027 Ausstehend Anna · 1 Personen" in text  # BR-016
    assert "10.–12.08.2027 Bestätigt Bernd · 6 Personen" in text
    assert "Carla" not in text and "Dora" not in text
    assert "Geheime Notiz" not in text and "Nein danke" not in text
    assert "@" not in page.text


def test_calendar_is_noindex(rt: Runtime, client: WebClient) -> None:
    page = client.get(links.calendar_url(rt))
    assert page.headers["x-robots-tag"].startswith("noindex")
    assert '<meta name="robots" content="noindex' in page.text


def test_month_navigation_and_default_month(rt: Runtime, client: WebClient) -> None:
    book(rt, "anna@example.org", "Anna", date(2026, 12, 30), date(2027, 1, 2), 3)
    default = client.get(links.calendar_url(rt)).text
    assert "November 2026" in default  # the clock's month
    assert 'href="?monat=2026-10"' in default and 'href="?monat=2026-12"' in default
    december = client.get(links.calendar_url(rt) + "?monat=2026-12").text
    january = client.get(links.calendar_url(rt) + "?monat=2027-01").text
    assert "Anna" in december and "Anna" in january  # a stay across the new year is in both
    assert 'href="?monat=2027-02"' in january
    assert "November 2026" in client.get(links.calendar_url(rt) + "?monat=kaputt").text


def test_approver_colours_mark_who_said_yes(rt: Runtime, client: WebClient) -> None:
    booking_id, _ = book(rt, "ingeborg@example.org", "Ingeborg", date(2026, 12, 1), date(2026, 12, 3))
    act(rt, "approve", booking_id, "angelika")
    page = client.get(links.calendar_url(rt) + "?monat=2026-12").text
    assert 'class="card stay c-ingeborg"' in page  # an approver's own booking wears her colour
    assert '<span class="c-angelika"><span class="dot yes">' in page
    assert '<span class="c-cornelia"><span class="dot">' in page
    css = client.get("/stil.css").text
    assert ".c-ingeborg { --bar: #c0392b;" in css


def test_a_new_booking_shows_up_at_once(rt: Runtime, client: WebClient) -> None:
    url = links.calendar_url(rt) + "?monat=2026-12"
    assert "Anna" not in client.get(url).text  # rendered once, now kept
    booking_id, _ = book(rt, "anna@example.org", "Anna", date(2026, 12, 1), date(2026, 12, 3))
    assert "Anna" in client.get(url).text and "Ausstehend" in client.get(url).text
    for key in ("ingeborg", "cornelia", "angelika"):
        act(rt, "approve", booking_id, key)
    assert "Bestätigt" in client.get(url).text
    act(rt, "cancel", booking_id, "anna@example.org", "Krank", confirmed=True)
    assert "Anna" not in client.get(url).text
