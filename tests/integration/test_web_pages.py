"""The requester's and the approvers' pages and the action links from the emails,
over HTTP against the app, on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import select, update

from mailbot.core.model import State, Verdict
from mailbot.runtime import Runtime
from mailbot.store import queries
from mailbot.store.tables import OutboxMessage, bookings
from mailbot.web import links
from mailbot.web.app import create_app
from tests.support.bookings import approver_link
from tests.support.browser import WebClient, act, book, snapshot

DEC_1, DEC_5 = date(2026, 12, 1), date(2026, 12, 5)
APPROVERS = ("ingeborg", "cornelia", "angelika")
ADDRESS = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")


@pytest.fixture
def client(rt: Runtime) -> WebClient:
    return WebClient(create_app(rt), rt.settings.base_url)


def state_of(rt: Runtime, booking_id: int) -> State:
    with rt.store.reading() as session:
        found = queries.booking(session, booking_id)
        assert found is not None
        return found.state


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_requester_page_shows_own_bookings_decisions_and_timeline(rt: Runtime, client: WebClient) -> None:
    booking_id, link_id = book(rt, "anna@example.org", "Anna", DEC_1, DEC_5, 4, "Mit Hund")
    book(rt, "bernd@example.org", "Bernd", date(2026, 12, 10), date(2026, 12, 12), 2)
    act(rt, "approve", booking_id, "ingeborg")

    overview = client.get(links.person_url(rt, link_id))
    assert overview.status_code == 200
    assert "01.–05.12.2026" in overview.text and "4 Personen" in overview.text
    assert "Bernd" not in overview.text

    page = text_of(client.get(links.booking_url(rt, link_id, booking_id)).text)
    assert "Ausstehend" in page and "Mit Hund" in page
    assert "Ingeborg : Zugestimmt" in page and "Cornelia : Noch offen" in page
    assert "Du hast angefragt" in page and "Ingeborg hat zugestimmt" in page


def test_requester_cannot_open_someone_elses_booking(rt: Runtime, client: WebClient) -> None:
    _, anna = book(rt, "anna@example.org", "Anna", DEC_1, DEC_5)
    bernds, _ = book(rt, "bernd@example.org", "Bernd", date(2026, 12, 10), date(2026, 12, 12))
    before = snapshot(rt)

    assert client.get(links.booking_url(rt, anna, bernds)).status_code == 403
    assert client.get(links.requester_action_url(rt, anna, bernds, "cancel")).status_code == 403
    assert client.post(links.requester_action_url(rt, anna, bernds, "cancel"),
                       data={"csrf": "x"}).status_code == 403
    assert snapshot(rt) == before


def test_br023_approver_sees_outstanding_and_history_newest_activity_first(
        rt: Runtime, client: WebClient, clock) -> None:  # type: ignore[no-untyped-def]
    first, _ = book(rt, "anna@example.org", "Anna", DEC_1, DEC_5)
    clock.advance(hours=1)
    second, _ = book(rt, "bernd@example.org", "Bernd", date(2026, 12, 10), date(2026, 12, 12))
    clock.advance(hours=1)
    decided, _ = book(rt, "carla@example.org", "Carla", date(2026, 12, 20), date(2026, 12, 22))
    act(rt, "approve", decided, "ingeborg")
    clock.advance(hours=1)
    denied, _ = book(rt, "dora@example.org", "Dora", date(2027, 1, 10), date(2027, 1, 12))
    act(rt, "deny", denied, "cornelia", "Da renovieren wir")
    clock.advance(hours=1)
    act(rt, "approve", first, "cornelia")  # Anna's booking has the newest activity now

    page = client.get(links.approver_url(rt, approver_link(rt, "ingeborg"))).text
    outstanding, history = page.split("Verlauf", 1)
    assert outstanding.index("Anna") < outstanding.index("Bernd")
    assert "Carla" not in outstanding and "Dora" not in outstanding
    assert "Carla" in history and "Dora" not in history
    cornelia = client.get(links.approver_url(rt, approver_link(rt, "cornelia"))).text.split("Verlauf", 1)[1]
    assert "Dora" in cornelia and "Abgelehnt" in cornelia


def test_opening_any_action_link_changes_nothing(rt: Runtime, client: WebClient) -> None:
    pending, anna = book(rt, "anna@example.org", "Anna", DEC_1, DEC_5)
    confirmed, bernd = book(rt, "bernd@example.org", "Bernd", date(2026, 12, 10), date(2026, 12, 12))
    for key in APPROVERS:
        act(rt, "approve", confirmed, key)
    denied, carla = book(rt, "carla@example.org", "Carla", date(2026, 12, 20), date(2026, 12, 22))
    act(rt, "deny", denied, "angelika", "Belegt")
    before = snapshot(rt)

    urls = []
    for booking_id, link_id in ((pending, anna), (confirmed, bernd), (denied, carla)):
        urls += [links.requester_action_url(rt, link_id, booking_id, a) for a in ("cancel", "reopen", "edit")]
        urls += [links.approver_action_url(rt, approver_link(rt, k), booking_id, a) for k in APPROVERS
                 for a in ("approve", "deny")]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        if f"/buchung/{confirmed}/zustimmen" in url:  # issue 14 (14): no second "Ja"
            assert "Du hast dieser Anfrage schon zugestimmt" in response.text
            assert "Ja, ich stimme zu" not in response.text
        else:
            assert "<form method=\"post\"" in response.text
        assert client.request("HEAD", url).status_code == 200, url
    assert snapshot(rt) == before
    assert state_of(rt, pending) == State.PENDING


def test_approve_from_the_email_link_needs_the_button(rt: Runtime, client: WebClient) -> None:
    booking_id, _ = book(rt, "anna@example.org", "Anna", DEC_1, DEC_5)
    url = links.approver_action_url(rt, approver_link(rt, "ingeborg"), booking_id, "approve")
    before = snapshot(rt)

    assert client.post(url, data={}).status_code == 403  # no CSRF token: a forged form
    other = links.approver_action_url(rt, approver_link(rt, "cornelia"), booking_id, "approve")
    token = re.search(r'name="csrf" value="([^"]+)"', client.get(other).text)
    assert token is not None
    assert client.post(url, data={"csrf": token.group(1)}).status_code == 403  # another form's token
    assert snapshot(rt) == before

    done = client.submit(url)
    assert done.status_code == 200
    assert "Deine Zustimmung ist gespeichert" in done.text.replace("deine", "Deine")
    assert "Noch offen: Cornelia, Angelika" in done.text
    with rt.store.reading() as session:
        found = queries.booking(session, booking_id)
        assert found is not None and found.verdict("ingeborg") == Verdict.APPROVED


def test_br003_last_approval_confirms(rt: Runtime, client: WebClient) -> None:
    booking_id, _ = book(rt, "anna@example.org", "Anna", DEC_1, DEC_5)
    act(rt, "approve", booking_id, "ingeborg")
    act(rt, "approve", booking_id, "cornelia")
    done = client.submit(links.approver_action_url(rt, approver_link(rt, "angelika"), booking_id, "approve"))
    assert "die Buchung ist bestätigt" in done.text
    assert state_of(rt, booking_id) == State.CONFIRMED


def test_br024_late_approve_is_already_done_with_the_state(rt: Runtime, client: WebClient) -> None:
    booking_id, _ = book(rt, "anna@example.org", "Anna", DEC_1, DEC_5)
    url = links.approver_action_url(rt, approver_link(rt, "ingeborg"), booking_id, "approve")
    page = client.get(url)
    act(rt, "deny", booking_id, "cornelia", "Da sind wir selbst dort")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert token is not None
    late = client.post(url, data={"csrf": token.group(1)})
    assert "Schon erledigt" in late.text
    assert "Cornelia hat die Buchung bereits abgelehnt" in late.text
    again = client.submit(links.approver_action_url(rt, approver_link(rt, "cornelia"), booking_id, "deny"),
                          grund="Nochmal")
    assert "Schon erledigt" in again.text and "Du hast diese Buchung schon abgelehnt" in again.text


def test_approving_twice_is_harmless_and_says_so(rt: Runtime, client: WebClient) -> None:
    booking_id, _ = book(rt, "anna@example.org", "Anna", DEC_1, DEC_5)
    url = links.approver_action_url(rt, approver_link(rt, "ingeborg"), booking_id, "approve")
    form = client.get(url)  # a second tab, opened before the first approval
    client.submit(url)
    before = snapshot(rt)
    # issue 14 (14): the form no longer offers "Ja, ich stimme zu" once she approved
    again = client.get(url)
    assert "schon zugestimmt" in again.text and "Ja, ich stimme zu" not in again.text
    csrf = form.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    late = client.post(url, data={"csrf": csrf})
    assert "Schon erledigt" in late.text and "schon zugestimmt" in late.text
    assert snapshot(rt) == before


def test_br004_deny_needs_a_reason(rt: Runtime, client: WebClient) -> None:
    booking_id, _ = book(rt, "anna@example.org", "Anna", DEC_1, DEC_5)
    url = links.approver_action_url(rt, approver_link(rt, "ingeborg"), booking_id, "deny")
    before = snapshot(rt)
    empty = client.submit(url, grund="  ")
    assert empty.status_code == 422 and "warum du ablehnst" in empty.text
    assert snapshot(rt) == before
    done = client.submit(url, grund="Da ist Handwerkerwoche")
    assert "Du hast die Buchung abgelehnt" in done.text
    assert state_of(rt, booking_id) == State.DENIED


def test_br004_deny_of_confirmed_needs_the_explicit_warning_ticked(rt: Runtime, client: WebClient) -> None:
    booking_id, _ = book(rt, "anna@example.org", "Anna", DEC_1, DEC_5)
    for key in APPROVERS:
        act(rt, "approve", booking_id, key)
    url = links.approver_action_url(rt, approver_link(rt, "cornelia"), booking_id, "deny")
    form = client.get(url).text
    assert "Achtung: Diese Buchung ist schon bestätigt" in form and 'name="bestaetigt"' in form

    unticked = client.submit(url, grund="Wasserschaden")
    assert unticked.status_code == 422 and "ausdrücklich" in unticked.text
    assert state_of(rt, booking_id) == State.CONFIRMED
    done = client.submit(url, grund="Wasserschaden", bestaetigt="ja")
    assert "Du hast die Buchung abgelehnt" in done.text
    assert state_of(rt, booking_id) == State.DENIED


def test_br006_cancel_pending_says_who_was_told(rt: Runtime, client: WebClient) -> None:
    booking_id, link_id = book(rt, "anna@example.org", "Anna", DEC_1, DEC_5)
    done = client.submit(links.requester_action_url(rt, link_id, booking_id, "cancel"))
    assert "Die Buchung ist storniert" in done.text
    assert "Benachrichtigt: du, Ingeborg, Cornelia, Angelika" in done.text
    assert state_of(rt, booking_id) == State.CANCELED


def test_br007_cancel_of_confirmed_needs_reason_and_confirmation(rt: Runtime, client: WebClient) -> None:
    booking_id, link_id = book(rt, "anna@example.org", "Anna", DEC_1, DEC_5)
    for key in APPROVERS:
        act(rt, "approve", booking_id, key)
    url = links.requester_action_url(rt, link_id, booking_id, "cancel")
    assert "Achtung: Diese Buchung ist schon bestätigt" in client.get(url).text

    assert client.submit(url, bestaetigt="ja").status_code == 422
    assert client.submit(url, grund="Krank").status_code == 422
    assert state_of(rt, booking_id) == State.CONFIRMED
    done = client.submit(url, grund="Krank", bestaetigt="ja")
    assert "Die Buchung ist storniert" in done.text
    assert state_of(rt, booking_id) == State.CANCELED


def test_reopen_a_denied_booking_asks_everyone_again(rt: Runtime, client: WebClient) -> None:
    booking_id, link_id = book(rt, "anna@example.org", "Anna", DEC_1, DEC_5)
    act(rt, "deny", booking_id, "ingeborg", "Geht nicht")
    done = client.submit(links.requester_action_url(rt, link_id, booking_id, "reopen"),
                         anreise="2026-12-02", abreise="2026-12-06")
    assert "Die Anfrage ist wieder offen" in done.text
    with rt.store.reading() as session:
        found = queries.booking(session, booking_id)
        assert found is not None and found.state == State.PENDING
        assert (found.start, found.end) == (date(2026, 12, 2), date(2026, 12, 6))
        assert found.approvers_with(Verdict.NO_RESPONSE) == list(APPROVERS)


def test_br018_reopen_into_taken_dates_names_first_name_and_status(rt: Runtime, client: WebClient) -> None:
    booking_id, link_id = book(rt, "anna@example.org", "Anna", DEC_1, DEC_5)
    act(rt, "deny", booking_id, "ingeborg", "Geht nicht")
    book(rt, "bernd@example.org", "Bernd", date(2026, 12, 3), date(2026, 12, 4))
    before = snapshot(rt)
    answer = client.submit(links.requester_action_url(rt, link_id, booking_id, "reopen"))
    assert "Das ging leider nicht" in answer.text
    assert "Bernd – Ausstehend" in answer.text
    assert "bernd@" not in answer.text
    assert snapshot(rt) == before


def test_br005_change_dates_shorten_keeps_and_extend_resets(rt: Runtime, client: WebClient) -> None:
    booking_id, link_id = book(rt, "anna@example.org", "Anna", DEC_1, DEC_5, 3)
    act(rt, "approve", booking_id, "ingeborg")
    url = links.requester_action_url(rt, link_id, booking_id, "edit")

    short = client.submit(url, anreise="2026-12-02", abreise="2026-12-04", personen="3")
    assert "Verkürzt" in short.text and "Zustimmungen bleiben" in short.text
    longer = client.submit(url, anreise="2026-12-02", abreise="2026-12-08", personen="5")
    assert "noch einmal gefragt" in longer.text
    with rt.store.reading() as session:
        found = queries.booking(session, booking_id)
        assert found is not None and (found.end, found.party_size) == (date(2026, 12, 8), 5)
        assert found.verdict("ingeborg") == Verdict.NO_RESPONSE

    broken = client.submit(url, anreise="morgen", abreise="2026-12-08")
    assert broken.status_code == 422 and "gültiges Datum" in broken.text


def test_br014_past_booking_is_read_only(rt: Runtime, client: WebClient, clock) -> None:  # type: ignore[no-untyped-def]
    booking_id, link_id = book(rt, "anna@example.org", "Anna", DEC_1, DEC_5)
    clock.advance(days=13)  # 2026-12-06
    page = client.get(links.booking_url(rt, link_id, booking_id)).text
    assert "in der Vergangenheit" in page and "/stornieren" not in page
    answer = client.submit(links.requester_action_url(rt, link_id, booking_id, "cancel"))
    assert "Vergangene Buchungen lassen sich nicht mehr ändern" in answer.text
    assert state_of(rt, booking_id) == State.PENDING


def test_script_and_html_in_names_descriptions_and_reasons_render_inert(
        rt: Runtime, client: WebClient) -> None:
    attack = '<script>alert(1)</script><img src=x onerror=alert(2)>"\''
    booking_id, link_id = book(rt, "anna@example.org", "Anna", DEC_1, DEC_5, 2, attack)
    act(rt, "deny", booking_id, "ingeborg", attack)
    with rt.store.transaction() as session:  # a first name that slipped past validation
        session.execute(update(bookings).where(bookings.c.id == booking_id)
                        .values(first_name='<b onmouseover="x()">Eve</b>'))
    pages = [links.person_url(rt, link_id), links.booking_url(rt, link_id, booking_id),
             links.requester_action_url(rt, link_id, booking_id, "reopen"),
             links.approver_url(rt, approver_link(rt, "ingeborg")),
             links.approver_booking_url(rt, approver_link(rt, "ingeborg"), booking_id),
             links.approver_action_url(rt, approver_link(rt, "cornelia"), booking_id, "deny")]
    for url in pages:
        html = client.get(url).text
        assert "<script>" not in html and "<img" not in html and "<b onmouseover" not in html, url
        assert "&lt;b onmouseover=" in html, url
    page = client.get(links.booking_url(rt, link_id, booking_id)).text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


@pytest.mark.parametrize("mangle", ["tampered", "truncated", "foreign", "empty-signature"])
def test_bad_tokens_are_refused_and_change_nothing(rt: Runtime, client: WebClient, mangle: str) -> None:
    booking_id, link_id = book(rt, "anna@example.org", "Anna", DEC_1, DEC_5)
    person = links.person_token(rt, link_id)
    approver = links.approver_token(rt, approver_link(rt, "ingeborg"))
    calendar = links.calendar_token(rt)

    def bad(token: str, foreign: str) -> str:
        return {"tampered": token[:-1] + ("a" if token[-1] != "a" else "b"),
                "truncated": token[: len(token) - 5], "foreign": foreign,
                "empty-signature": token.split(".")[0] + "."}[mangle]

    before = snapshot(rt)
    urls = [f"/p/{bad(person, approver)}", f"/p/{bad(person, calendar)}/buchung/{booking_id}",
            f"/a/{bad(approver, person)}", f"/a/{bad(approver, calendar)}/buchung/{booking_id}",
            f"/kalender/{bad(calendar, approver)}"]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 403, url
        assert "Dieser Link ist ungültig" in response.text
    for url in (f"/p/{bad(person, approver)}/buchung/{booking_id}/stornieren",
                f"/a/{bad(approver, person)}/buchung/{booking_id}/zustimmen"):
        assert client.get(url).status_code == 403
        assert client.post(url, data={"csrf": "x", "grund": "x", "bestaetigt": "ja"}).status_code == 403
    assert snapshot(rt) == before


def test_security_headers_on_every_response(rt: Runtime, client: WebClient) -> None:
    booking_id, link_id = book(rt, "anna@example.org", "Anna", DEC_1, DEC_5)
    for url in ("/", "/link", "/nirgends", links.person_url(rt, link_id), "/p/kaputt", "/health",
                "/stil.css", links.calendar_url(rt)):
        headers = client.get(url).headers
        csp = headers["content-security-policy"]
        for part in ("default-src 'none'", "style-src 'self'", "form-action 'self'",
                     "frame-ancestors 'none'", "base-uri 'none'"):
            assert part in csp, url
        assert headers["referrer-policy"] == "no-referrer"
        assert headers["x-content-type-options"] == "nosniff"
        assert "strict-transport-security" not in headers
    assert "Nicht gefunden" in client.get("/nirgends").text


def test_hsts_when_served_over_https(rt: Runtime) -> None:
    from dataclasses import replace

    secure = Runtime(replace(rt.settings, base_url="https://buchung.example.org"), rt.house, rt.store,
                     rt.clock)
    headers = WebClient(create_app(secure), "https://buchung.example.org").get("/").headers
    assert headers["strict-transport-security"].startswith("max-age=")


def test_no_email_address_on_any_page_but_the_admins(rt: Runtime, client: WebClient) -> None:
    booking_id, link_id = book(rt, "anna@example.org", "Anna", DEC_1, DEC_5, 2, "Bis bald")
    act(rt, "approve", booking_id, "ingeborg")
    pages = [links.person_url(rt, link_id), links.booking_url(rt, link_id, booking_id),
             links.calendar_url(rt) + "?monat=2026-12", links.approver_url(rt, approver_link(rt, "cornelia")),
             links.approver_booking_url(rt, approver_link(rt, "cornelia"), booking_id)]
    pages += [links.requester_action_url(rt, link_id, booking_id, a) for a in ("cancel", "edit")]
    cornelia = approver_link(rt, "cornelia")
    pages += [links.approver_action_url(rt, cornelia, booking_id, a) for a in ("approve", "deny")]
    for url in pages:
        assert not ADDRESS.findall(client.get(url).text), url
    done = client.submit(links.approver_action_url(rt, approver_link(rt, "cornelia"), booking_id, "approve"))
    assert not ADDRESS.findall(done.text)


def test_actions_from_the_web_queue_the_mails(rt: Runtime, client: WebClient) -> None:
    booking_id, link_id = book(rt, "anna@example.org", "Anna", DEC_1, DEC_5)
    with rt.store.reading() as session:
        before = len(session.scalars(select(OutboxMessage)).all())
    client.submit(links.requester_action_url(rt, link_id, booking_id, "cancel"))
    with rt.store.reading() as session:
        after = session.scalars(select(OutboxMessage).where(OutboxMessage.id > before)).all()
    assert {m.to_address for m in after} == {"anna@example.org", "ingeborg@example.org",
                                            "cornelia@example.org", "angelika@example.org"}


def test_current_a_form_of_an_older_round_changes_nothing_and_says_what_changed(
        rt: Runtime, client: WebClient) -> None:
    """SPEC §5 "Current" for web forms: the link of the first mail, after an extension."""
    booking_id, _ = book(rt, "anna@example.org", "Anna", DEC_1, DEC_5)
    old_link = links.approver_action_url(rt, approver_link(rt, "cornelia"), booking_id,
                                         "approve", 1)
    opened = client.get(old_link)  # opened before the change, sent after it
    act(rt, "edit", booking_id, "anna@example.org", end=date(2026, 12, 7))
    csrf = opened.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    before = snapshot(rt)
    late = client.post(old_link, data={"csrf": csrf, "runde": "1"})
    assert "zählt deshalb nicht" in late.text
    assert "Anna hat die Buchung von 01.–05.12.2026 auf 01.–07.12.2026 verlängert." in late.text
    assert snapshot(rt) == before
    # the old link opened now tells what changed and asks about the current request
    fresh = client.get(old_link)
    assert "Seit deiner Mail hat sich die Anfrage geändert" in fresh.text
    assert 'name="runde" value="2"' in fresh.text
    client.submit(old_link)
    with rt.store.reading() as session:
        found = queries.booking(session, booking_id)
        assert found is not None and found.verdict("cornelia") == Verdict.APPROVED
