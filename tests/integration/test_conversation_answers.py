"""Mail without a thread that is not a new request: status and cancel found by the sender's
address, link recovery (BR-021), and the answers to edits that need the booking's thread."""

from __future__ import annotations

import pytest

from mailbot.core.model import State
from mailbot.runtime import Runtime
from tests.support.conversation import Mailbox

ANNA, BERND = "anna@example.net", "bernd@example.net"
APPROVERS = ("ingeborg@example.org", "cornelia@example.org", "angelika@example.org")


@pytest.fixture
def mail(rt: Runtime) -> Mailbox:
    return Mailbox(rt)


def request(mail: Mailbox, dates: str = "vom 3. bis 7. März 2027") -> int:
    row = mail.send(ANNA, f"Hallo,\nwir würden gern {dates} zu viert kommen.\n\nLG Anna")
    assert row.reason == "submitted", row.detail
    return row.booking_id or 0


def test_status_as_a_new_mail_lists_the_senders_upcoming_bookings(mail: Mailbox) -> None:
    request(mail)
    request(mail, "vom 1. bis 4. Juni 2027")
    row = mail.send(ANNA, "Hallo, wie ist der Stand?\n\nLG Anna", subject="Stand?")
    assert row.reason == "status_sent"
    status = mail.last(ANNA, "status")
    assert "03.–07.03.2027" in status.text_body and "01.–04.06.2027" in status.text_body
    assert status.text_body.count("Status: Ausstehend") == 2


def test_status_from_an_unknown_address_says_nothing_was_found(mail: Mailbox) -> None:
    request(mail)
    row = mail.send(BERND, "Wie ist der Stand meiner Buchung?", subject="Frage")
    assert row.reason == "status_sent"
    status = mail.last(BERND, "status")
    assert "keine anstehenden Buchungen" in status.text_body
    assert "Anna" not in status.text_body


def test_cancel_as_a_new_mail_is_confirmed_by_a_reply(mail: Mailbox) -> None:
    booking_id = request(mail)
    row = mail.send(ANNA, "Wir müssen leider absagen.\n\nLG Anna", subject="Absage")
    assert row.reason == "asked_cancel_confirm"
    assert mail.booking(booking_id).state == State.PENDING
    question = mail.last(ANNA, "question_confirm")
    assert "wirklich stornieren" in question.text_body
    row = mail.reply(ANNA, question, "JA")
    assert row.reason == "canceled"
    assert mail.booking(booking_id).state == State.CANCELED
    assert {m.to_address for m in mail.outbox(kind="booking_canceled")} == {ANNA, *APPROVERS}


def test_cancel_with_several_bookings_asks_which_by_dates(mail: Mailbox) -> None:
    first = request(mail)
    second = request(mail, "vom 1. bis 4. Juni 2027")
    row = mail.send(ANNA, "Wir müssen leider absagen.\n\nLG Anna", subject="Absage")
    assert row.reason == "asked_which_booking"
    which = mail.last(ANNA, "question_which_booking")
    assert "03.–07.03.2027" in which.text_body and "01.–04.06.2027" in which.text_body
    row = mail.reply(ANNA, which, "Die vom 1.6. bis 4.6.2027 bitte.")
    assert row.reason == "asked_cancel_confirm", row.detail
    row = mail.reply(ANNA, mail.last(ANNA, "question_confirm"), "JA")
    assert row.reason == "canceled"
    assert mail.booking(second).state == State.CANCELED
    assert mail.booking(first).state == State.PENDING


def test_which_booking_answered_nein_calls_the_cancel_off(mail: Mailbox) -> None:
    first = request(mail)
    second = request(mail, "vom 1. bis 4. Juni 2027")
    mail.send(ANNA, "Wir müssen leider absagen.\n\nLG Anna", subject="Absage")
    row = mail.reply(ANNA, mail.last(ANNA, "question_which_booking"), "Nein, doch nicht.")
    assert row.reason == "confirmation_declined", row.detail
    assert "Deine Buchungen bleiben, wie sie sind." in mail.last(ANNA, "nothing_changed").text_body
    assert {mail.booking(first).state, mail.booking(second).state} == {State.PENDING}


def test_cancel_without_any_booking_says_so(mail: Mailbox) -> None:
    row = mail.send(BERND, "Ich möchte meine Buchung stornieren.", subject="Storno")
    assert (row.state, row.reason) == ("rejected", "no_booking")
    assert "keine anstehende Buchung" in mail.last(BERND, "no_booking").text_body


def test_edit_as_a_new_mail_points_to_the_thread_and_the_personal_link(mail: Mailbox) -> None:
    booking_id = request(mail)
    row = mail.send(ANNA, "Wir sind doch zu fünft.\n\nLG Anna", subject="Änderung")
    assert (row.state, row.reason) == ("rejected", "no_thread")
    answer = mail.last(ANNA, "use_thread")
    assert "/p/" in answer.text_body and "03.–07.03.2027" in answer.text_body
    assert mail.booking(booking_id).party_size == 4


def test_br021_link_recovery_reads_the_same_for_known_and_unknown_addresses(mail: Mailbox) -> None:
    request(mail)
    ask = "Hallo, ich finde meinen Link nicht mehr. Kannst du ihn nochmal schicken?"
    known = mail.send(ANNA, ask, subject="Link")
    unknown = mail.send(BERND, ask, subject="Link")
    assert known.reason == unknown.reason == "link_sent"
    to_anna, to_bernd = mail.last(ANNA, "link_recovery"), mail.last(BERND, "link_recovery")
    assert to_anna.subject == to_bernd.subject
    assert "/p/" in to_anna.text_body and "/p/" not in to_bernd.text_body
    first_line = "du hast nach deinem persönlichen Link gefragt."
    assert first_line in to_anna.text_body and first_line in to_bernd.text_body


def test_br021_link_recovery_cooldown_and_hourly_limit(mail: Mailbox, rt: Runtime) -> None:
    ask = "Schick mir bitte nochmal den Link."
    assert mail.send(ANNA, ask, subject="Link").reason == "link_sent"
    again = mail.send(ANNA, ask + " Danke!", subject="Link")
    assert (again.state, again.reason) == ("ignored", "recovery_cooldown")
    for _ in range(4):
        rt.clock.advance(seconds=61)  # type: ignore[attr-defined]
        assert mail.send(ANNA, ask, subject="Link").reason == "link_sent"
    rt.clock.advance(seconds=61)  # type: ignore[attr-defined]
    sixth = mail.send(ANNA, ask, subject="Link")
    assert (sixth.state, sixth.reason) == ("ignored", "recovery_rate_limited")
    assert len(mail.outbox(ANNA, "link_recovery")) == 5


def test_approver_asking_for_the_link_gets_the_overview(mail: Mailbox) -> None:
    row = mail.send(APPROVERS[0], "Schick mir bitte nochmal den Link.", subject="Link")
    assert row.reason == "link_sent"
    assert "/a/" in mail.last(APPROVERS[0], "link_recovery").text_body


def test_unfinished_request_can_be_called_off(mail: Mailbox) -> None:
    mail.send(ANNA, "Wir möchten vom 3. bis 7. März 2027 kommen.\n\nLG Anna")
    row = mail.reply(ANNA, mail.last(ANNA, "question_missing"), "Wir kommen doch nicht, sorry.")
    assert row.reason == "request_dropped", row.detail
    assert mail.outbox(kind="request_submitted") == []
