"""Link recovery (BR-010, BR-012, BR-021): the same answer for every address; the link
is mailed only to known addresses and within the limits."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from mailbot.runtime import Runtime
from mailbot.store.tables import OutboxMessage
from mailbot.web import links
from mailbot.web.app import create_app
from tests.support.bookings import approver_link
from tests.support.browser import WebClient, book


@pytest.fixture
def client(rt: Runtime) -> WebClient:
    return WebClient(create_app(rt), rt.settings.base_url)


def recovery_mails(rt: Runtime) -> list[OutboxMessage]:
    with rt.store.reading() as session:
        return list(session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "link_recovery")))


def test_br010_known_address_gets_its_same_link_again(rt: Runtime, client: WebClient) -> None:
    _, link_id = book(rt, "anna@example.org", "Anna", date(2026, 12, 1), date(2026, 12, 3))
    answer = client.submit("/link", adresse=" Anna@Example.org ")
    assert answer.status_code == 200 and "Wenn wir diese Adresse kennen" in answer.text
    [mail] = recovery_mails(rt)
    assert mail.to_address == "anna@example.org"
    assert links.person_url(rt, link_id) in mail.text_body


def test_br021_unknown_address_gets_the_same_answer_and_no_mail(rt: Runtime, clock) -> None:  # type: ignore[no-untyped-def]
    book(rt, "anna@example.org", "Anna", date(2026, 12, 1), date(2026, 12, 3))
    app = create_app(rt)
    known = WebClient(app, ip="198.51.100.1").submit("/link", adresse="anna@example.org")
    unknown = WebClient(app, ip="198.51.100.2").submit("/link", adresse="niemand@example.org")
    assert known.status_code == unknown.status_code == 200
    assert known.text == unknown.text
    assert [m.to_address for m in recovery_mails(rt)] == ["anna@example.org"]


def test_approver_gets_the_overview_link(rt: Runtime, client: WebClient) -> None:
    client.submit("/link", adresse="cornelia@example.org")
    [mail] = recovery_mails(rt)
    assert links.approver_url(rt, approver_link(rt, "cornelia")) in mail.text_body


def test_br021_one_minute_cooldown_per_ip(rt: Runtime, client: WebClient, clock) -> None:  # type: ignore[no-untyped-def]
    client.submit("/link", adresse="a@example.org")
    again = client.submit("/link", adresse="b@example.org")
    assert again.status_code == 429 and "warte eine Minute" in again.text
    clock.advance(seconds=61)
    assert client.submit("/link", adresse="b@example.org").status_code == 200


def test_br021_cooldown_per_address_sends_nothing_but_answers_the_same(rt: Runtime, clock) -> None:  # type: ignore[no-untyped-def]
    book(rt, "anna@example.org", "Anna", date(2026, 12, 1), date(2026, 12, 3))
    app = create_app(rt)
    first = WebClient(app, ip="198.51.100.1").submit("/link", adresse="anna@example.org")
    second = WebClient(app, ip="198.51.100.2").submit("/link", adresse="anna@example.org")
    assert first.text == second.text
    assert len(recovery_mails(rt)) == 1


def test_br012_five_recoveries_an_hour_per_address(rt: Runtime, clock) -> None:  # type: ignore[no-untyped-def]
    book(rt, "anna@example.org", "Anna", date(2026, 12, 1), date(2026, 12, 3))
    app = create_app(rt)
    for attempt in range(7):
        answer = WebClient(app, ip=f"198.51.100.{attempt + 1}").submit("/link", adresse="anna@example.org")
        assert answer.status_code == 200
        clock.advance(seconds=61)
    assert len(recovery_mails(rt)) == 5
    clock.advance(hours=1)
    WebClient(app, ip="198.51.100.99").submit("/link", adresse="anna@example.org")
    assert len(recovery_mails(rt)) == 6


def test_br012_thirty_form_posts_an_hour_per_ip(rt: Runtime, client: WebClient, clock) -> None:  # type: ignore[no-untyped-def]
    for _ in range(30):
        assert client.submit("/link", adresse="x@example.org").status_code == 200
        clock.advance(seconds=61)
    blocked = client.submit("/link", adresse="x@example.org")
    assert blocked.status_code == 429 and "zu viele Anfragen" in blocked.text
    assert WebClient(client.app, ip="192.0.2.50").submit("/link", adresse="x@example.org").status_code == 200


def test_empty_address_asks_again(rt: Runtime, client: WebClient) -> None:
    answer = client.submit("/link", adresse="  ")
    assert answer.status_code == 422 and "Bitte gib deine Mail-Adresse ein" in answer.text
