"""Replies in a booking's thread: approvers say JA or NEIN, the requester cancels, changes,
reopens or asks for the status; late and repeated actions are answered "Schon erledigt"."""

from __future__ import annotations

from datetime import date

import pytest

from mailbot.core.model import State, Verdict
from mailbot.runtime import Runtime
from mailbot.store.tables import InboxMessage
from tests.support.conversation import Mailbox

ANNA = "anna@example.net"
INGE, CONNY, GELI = "ingeborg@example.org", "cornelia@example.org", "angelika@example.org"
APPROVERS = (INGE, CONNY, GELI)


@pytest.fixture
def mail(rt: Runtime) -> Mailbox:
    return Mailbox(rt)


def request(mail: Mailbox, dates: str = "vom 3. bis 7. März 2027") -> int:
    row = mail.send(ANNA, f"Hallo,\nwir würden gern {dates} zu viert kommen.\n\nLG Anna")
    assert row.reason == "submitted", row.detail
    mail.new()
    return row.booking_id or 0


def approve_all(mail: Mailbox) -> None:
    for approver in APPROVERS:
        row = mail.reply(approver, mail.last(approver, "request_submitted"), "JA")
        assert row.reason == "approved", row.detail


def test_br003_three_ja_confirm_and_everyone_is_told(mail: Mailbox) -> None:
    booking_id = request(mail)
    approve_all(mail)
    assert mail.booking(booking_id).state == State.CONFIRMED
    confirmed = {m.to_address for m in mail.outbox(kind="booking_confirmed")}
    assert confirmed == {ANNA, *APPROVERS}
    assert len(mail.outbox(ANNA, "booking_approved")) == 2


def test_approving_twice_says_you_already_approved(mail: Mailbox) -> None:
    booking_id = request(mail)
    first = mail.reply(INGE, mail.last(INGE, "request_submitted"), "JA")
    again = mail.reply(INGE, mail.last(INGE, "request_submitted"), "Ja, passt!")
    assert first.reason == "approved"
    assert (again.state, again.reason) == ("rejected", "already_done")
    answer = mail.last(INGE, "already_done")
    assert answer.subject == "Schon erledigt (03.–07.03.2027)"
    assert "bereits zugestimmt" in answer.text_body
    assert mail.booking(booking_id).verdict("ingeborg") == Verdict.APPROVED


def test_br004_deny_with_reason_tells_all_four_and_frees_the_dates(mail: Mailbox) -> None:
    booking_id = request(mail)
    row = mail.reply(CONNY, mail.last(CONNY, "request_submitted"),
                     "NEIN, weil wir da selbst im Haus sind.\n\nConny")
    assert row.reason == "denied"
    booking = mail.booking(booking_id)
    assert booking.state == State.DENIED
    assert booking.decision("cornelia").reason == "weil wir da selbst im Haus sind."
    assert {m.to_address for m in mail.outbox(kind="booking_denied")} == {ANNA, *APPROVERS}
    other = mail.send("bernd@example.net", "Wir möchten vom 4. bis 6. März 2027 zu zweit kommen."
                                           "\n\nGruß\nBernd")
    assert other.reason == "submitted"


def test_br024_late_approval_after_a_deny_says_who_denied(mail: Mailbox) -> None:
    request(mail)
    mail.reply(CONNY, mail.last(CONNY, "request_submitted"), "NEIN, weil wir da selbst da sind.")
    late = mail.reply(GELI, mail.last(GELI, "request_submitted"), "JA")
    assert (late.state, late.reason) == ("rejected", "already_done")
    assert "Cornelia hat die Buchung bereits abgelehnt" in mail.last(GELI, "already_done").text_body


def test_deny_without_reason_asks_for_it_and_the_reply_completes_it(mail: Mailbox) -> None:
    booking_id = request(mail)
    row = mail.reply(INGE, mail.last(INGE, "request_submitted"), "NEIN")
    assert (row.state, row.reason) == ("processed", "asked_deny_reason")
    assert mail.booking(booking_id).state == State.PENDING
    question = mail.last(INGE, "question_reason")
    assert question.subject == "Begründung fehlt (03.–07.03.2027)"
    assert mail.outbox(ANNA, "booking_denied") == []

    again = mail.reply(INGE, question, "NEIN!")
    assert again.reason == "asked_deny_reason"
    assert mail.booking(booking_id).state == State.PENDING
    question = mail.last(INGE, "question_reason")
    answer = mail.reply(INGE, question, "Da ist der Dachdecker im Haus.\n\nInge")
    assert answer.reason == "denied"
    booking = mail.booking(booking_id)
    assert booking.state == State.DENIED
    assert booking.decision("ingeborg").reason == "Da ist der Dachdecker im Haus."
    assert "Dachdecker" in mail.last(ANNA, "booking_denied").text_body


def test_br004_deny_of_a_confirmed_booking_needs_a_ja(mail: Mailbox) -> None:
    booking_id = request(mail)
    approve_all(mail)
    row = mail.reply(GELI, mail.last(GELI, "booking_confirmed"), "NEIN, weil das Dach undicht ist.")
    assert row.reason == "asked_deny_confirm"
    assert mail.booking(booking_id).state == State.CONFIRMED
    question = mail.last(GELI, "question_confirm")
    assert "wirklich ablehnen" in question.text_body and "Dach undicht" in question.text_body

    answer = mail.reply(GELI, question, "JA")
    assert answer.reason == "denied"
    booking = mail.booking(booking_id)
    assert booking.state == State.DENIED
    assert booking.decision("angelika").reason == "weil das Dach undicht ist."
    assert {m.to_address for m in mail.outbox(kind="booking_denied")} == {ANNA, *APPROVERS}


def test_br024_a_late_ja_to_the_request_mail_does_not_confirm_a_pending_deny(mail: Mailbox) -> None:
    booking_id = request(mail)
    first_request = mail.last(GELI, "request_submitted")
    approve_all(mail)
    mail.reply(GELI, mail.last(GELI, "booking_confirmed"), "NEIN, weil das Dach undicht ist.")
    late = mail.reply(GELI, first_request, "JA")  # an old answer to the request mail
    assert late.reason != "denied"
    assert mail.booking(booking_id).state == State.CONFIRMED
    assert mail.outbox(kind="booking_denied") == []
    assert "bestätigt" in mail.last(GELI).text_body  # "Schon erledigt: bereits bestätigt"


def test_deny_confirmation_answered_nein_changes_nothing(mail: Mailbox) -> None:
    booking_id = request(mail)
    approve_all(mail)
    mail.reply(GELI, mail.last(GELI, "booking_confirmed"), "NEIN, weil das Dach undicht ist.")
    answer = mail.reply(GELI, mail.last(GELI, "question_confirm"), "NEIN, doch nicht.")
    assert answer.reason == "confirmation_declined"
    assert mail.booking(booking_id).state == State.CONFIRMED
    assert "nichts geändert" in mail.last(GELI, "nothing_changed").text_body


def test_br006_requester_cancels_a_pending_booking_by_reply(mail: Mailbox) -> None:
    booking_id = request(mail)
    row = mail.reply(ANNA, mail.last(ANNA, "request_received"), "STORNO")
    assert row.reason == "canceled"
    assert mail.booking(booking_id).state == State.CANCELED
    assert {m.to_address for m in mail.outbox(kind="booking_canceled")} == {ANNA, *APPROVERS}


def test_br007_cancel_of_a_confirmed_booking_needs_reason_and_ja(mail: Mailbox) -> None:
    booking_id = request(mail)
    approve_all(mail)
    confirmed = mail.last(ANNA, "booking_confirmed")
    row = mail.reply(ANNA, confirmed, "Wir müssen leider stornieren.")
    assert row.reason == "asked_cancel_reason"
    asked = mail.last(ANNA, "question_reason")
    assert "Begründung" in asked.text_body
    row = mail.reply(ANNA, asked, "Meine Tochter ist krank geworden.")
    assert row.reason == "asked_cancel_confirm"
    assert mail.booking(booking_id).state == State.CONFIRMED
    confirm = mail.last(ANNA, "question_confirm")
    assert "wirklich stornieren" in confirm.text_body and "krank" in confirm.text_body
    row = mail.reply(ANNA, confirm, "JA")
    assert row.reason == "canceled"
    assert mail.booking(booking_id).state == State.CANCELED
    told = mail.outbox(kind="booking_canceled")
    assert {m.to_address for m in told} == {ANNA, *APPROVERS}
    assert "krank" in told[0].text_body


def test_br005_shortening_keeps_decisions_and_tells_the_requester(mail: Mailbox) -> None:
    booking_id = request(mail)
    mail.reply(INGE, mail.last(INGE, "request_submitted"), "JA")
    row = mail.reply(ANNA, mail.last(ANNA, "booking_approved"), "Wir kommen doch erst ab dem 4.3.")
    assert row.reason == "edited", row.detail
    booking = mail.booking(booking_id)
    assert (booking.start, booking.end) == (date(2027, 3, 4), date(2027, 3, 7))
    assert booking.verdict("ingeborg") == Verdict.APPROVED
    assert mail.last(ANNA, "booking_shortened").subject == "Buchung verkürzt (04.–07.03.2027)"
    assert mail.outbox(kind="booking_extended") == []


def test_br005_extending_resets_decisions_and_asks_the_approvers_again(mail: Mailbox) -> None:
    booking_id = request(mail)
    mail.reply(INGE, mail.last(INGE, "request_submitted"), "JA")
    row = mail.reply(ANNA, mail.last(ANNA, "request_received"), "Wir möchten doch bis zum 9.3. bleiben")
    assert row.reason == "edited", row.detail
    booking = mail.booking(booking_id)
    assert booking.end == date(2027, 3, 9)
    assert booking.verdict("ingeborg") == Verdict.NO_RESPONSE
    assert {m.to_address for m in mail.outbox(kind="booking_extended")} == set(APPROVERS)
    assert "noch einmal gefragt" in mail.last(ANNA, "edit_done").text_body


def test_party_size_change_is_confirmed_to_the_requester(mail: Mailbox) -> None:
    booking_id = request(mail)
    row = mail.reply(ANNA, mail.last(ANNA, "request_received"), "Wir sind doch zu fünft.")
    assert row.reason == "edited"
    assert mail.booking(booking_id).party_size == 5
    assert "5 Personen" in mail.last(ANNA, "edit_done").text_body


DOUBTFUL_EDIT = "Wir kommen erst am 4. März, am Samstag muss Paul noch arbeiten."


def doubtful_edit(mail: Mailbox) -> tuple[int, InboxMessage]:
    """Anna's booking 03.–07.03.2027 and her edit read with doubt: (booking id, the edit's row)."""
    booking_id = request(mail)
    return booking_id, mail.reply(ANNA, mail.last(ANNA, "request_received"), DOUBTFUL_EDIT)


def test_an_edit_read_with_doubt_is_asked_first_and_ja_makes_it(mail: Mailbox) -> None:
    """When the parser asks: "am Samstag" in a clause about someone's work is no sure end."""
    booking_id, row = doubtful_edit(mail)
    assert (row.state, row.reason) == ("processed", "asked_check"), row.detail
    question = mail.last(ANNA, "question_check")
    assert question.subject == "Stimmt das so? (03.–07.03.2027)"
    assert "Bevor ich deine Buchung ändere" in question.text_body
    assert "Wann:      Do–Sa, 04.–06.03.2027  ← richtig?" in question.text_body
    assert "Wer:" not in question.text_body
    booking = mail.booking(booking_id)
    assert (booking.start, booking.end) == (date(2027, 3, 3), date(2027, 3, 7))  # unchanged

    answer = mail.reply(ANNA, question, "JA")
    assert answer.reason == "edited", answer.detail
    booking = mail.booking(booking_id)
    assert (booking.start, booking.end) == (date(2027, 3, 4), date(2027, 3, 6))


def test_an_edit_read_with_doubt_is_corrected_by_the_answer(mail: Mailbox) -> None:
    booking_id, _ = doubtful_edit(mail)
    answer = mail.reply(ANNA, mail.last(ANNA, "question_check"),
                        "Nein, wir kommen am 4.3. und bleiben bis zum 7.3.")
    assert answer.reason == "edited", answer.detail
    booking = mail.booking(booking_id)
    assert (booking.start, booking.end) == (date(2027, 3, 4), date(2027, 3, 7))


def test_an_edit_read_with_doubt_answered_in_its_own_words(mail: Mailbox) -> None:
    booking_id, _ = doubtful_edit(mail)
    no = mail.reply(ANNA, mail.last(ANNA, "question_check"), "Stimmt so nicht.")
    assert no.reason == "confirmation_declined", no.detail
    assert "ich habe nichts geändert" in mail.last(ANNA, "nothing_changed").text_body
    assert (mail.booking(booking_id).start, mail.booking(booking_id).end) == (
        date(2027, 3, 3), date(2027, 3, 7))
    mail.reply(ANNA, mail.last(ANNA, "request_received"), DOUBTFUL_EDIT)
    yes = mail.reply(ANNA, mail.last(ANNA, "question_check"), "Richtig!")
    assert yes.reason == "edited", yes.detail
    assert mail.booking(booking_id).end == date(2027, 3, 6)


def test_a_reopen_with_new_dates_read_with_doubt_is_asked_first(mail: Mailbox) -> None:
    booking_id = request(mail)
    mail.reply(CONNY, mail.last(CONNY, "request_submitted"), "NEIN, weil wir selbst da sind.")
    row = mail.reply(ANNA, mail.last(ANNA, "booking_denied"),
                     "Bitte wieder öffnen, diesmal vom 10. bis 12. März. Am Sonntag ist "
                     "der Kaminkehrer da.")
    assert (row.state, row.reason) == ("processed", "asked_check"), row.detail
    assert "Bevor ich deine Anfrage wieder öffne" in mail.last(ANNA, "question_check").text_body
    assert mail.booking(booking_id).state == State.DENIED
    answer = mail.reply(ANNA, mail.last(ANNA, "question_check"), "Ja, genau.")
    assert answer.reason == "reopened", answer.detail
    booking = mail.booking(booking_id)
    assert (booking.state, booking.start, booking.end) == (
        State.PENDING, date(2027, 3, 10), date(2027, 3, 12))


def test_edit_of_a_confirmed_booking_is_not_allowed_now(mail: Mailbox) -> None:
    booking_id = request(mail)
    approve_all(mail)
    row = mail.reply(ANNA, mail.last(ANNA, "booking_confirmed"), "Wir sind doch zu fünft.")
    assert (row.state, row.reason) == ("rejected", "not_allowed_now")
    assert "bestätigte Buchung lässt sich nicht mehr ändern" in mail.last(
        ANNA, "rejected_not_allowed_now").text_body
    assert mail.booking(booking_id).party_size == 4


def test_br018_reopen_after_deny_asks_everyone_again(mail: Mailbox) -> None:
    booking_id = request(mail)
    mail.reply(CONNY, mail.last(CONNY, "request_submitted"), "NEIN, weil wir selbst da sind.")
    row = mail.reply(ANNA, mail.last(ANNA, "booking_denied"), "Bitte wieder öffnen, wir haben "
                                                              "das mit Conny geklärt.")
    assert row.reason == "reopened", row.detail
    booking = mail.booking(booking_id)
    assert booking.state == State.PENDING
    assert booking.verdict("cornelia") == Verdict.NO_RESPONSE
    # issue 14 (6): the requester hears it too, the approvers read why in her own words
    assert {m.to_address for m in mail.outbox(kind="booking_reopened")} == {ANNA, *APPROVERS}
    assert "deine Anfrage ist wieder offen" in mail.last(ANNA, "booking_reopened").text_body
    assert "„Bitte wieder öffnen, wir haben das mit Conny geklärt.“" in mail.last(
        INGE, "booking_reopened").text_body


def test_br018_reopen_into_taken_dates_names_the_other_booking(mail: Mailbox) -> None:
    booking_id = request(mail)
    mail.reply(CONNY, mail.last(CONNY, "request_submitted"), "NEIN, weil wir selbst da sind.")
    mail.send("bernd@example.net", "Wir möchten vom 5. bis 6. März 2027 zu zweit kommen.\n\nGruß\nBernd")
    row = mail.reply(ANNA, mail.last(ANNA, "booking_denied"), "Bitte wieder öffnen.")
    assert (row.state, row.reason) == ("rejected", "conflict")
    assert "Bernd – Ausstehend" in mail.last(ANNA, "rejected_conflict").text_body
    assert mail.booking(booking_id).state == State.DENIED


def test_status_in_the_thread_lists_each_approvers_decision(mail: Mailbox) -> None:
    request(mail)
    mail.reply(INGE, mail.last(INGE, "request_submitted"), "JA")
    row = mail.reply(ANNA, mail.last(ANNA, "booking_approved"), "Wie ist der Stand?")
    assert row.reason == "status_sent"
    status = mail.last(ANNA, "status")
    assert status.subject == "Stand der Buchung (03.–07.03.2027)"
    assert "Status: Ausstehend" in status.text_body
    assert "Ingeborg: hat zugestimmt" in status.text_body
    assert "Cornelia: noch keine Antwort" in status.text_body


def test_approver_cannot_cancel_and_requester_cannot_approve(mail: Mailbox) -> None:
    booking_id = request(mail)
    row = mail.reply(INGE, mail.last(INGE, "request_submitted"), "STORNO")
    assert (row.state, row.reason) == ("rejected", "not_permitted")
    assert "nur die Person, die sie angefragt hat" in mail.last(INGE, "rejected_not_permitted").text_body
    row = mail.reply(ANNA, mail.last(ANNA, "request_received"), "NEIN, weil ich es mir anders "
                                                                "überlegt habe")
    assert (row.state, row.reason) == ("rejected", "not_permitted")
    assert mail.booking(booking_id).state == State.PENDING


def test_br014_past_booking_is_read_only(mail: Mailbox, rt: Runtime) -> None:
    from datetime import UTC, datetime

    booking_id = request(mail, "vom 1. bis 2. Dezember 2026")
    rt.clock.set(datetime(2026, 12, 5, 9, 0, tzinfo=UTC))  # type: ignore[attr-defined]
    row = mail.reply(INGE, mail.last(INGE, "request_submitted"), "JA")
    assert (row.state, row.reason) == ("rejected", "booking_in_past")
    assert "Vergangenheit" in mail.last(INGE, "rejected_booking_in_past").text_body
    assert mail.booking(booking_id).verdict("ingeborg") == Verdict.NO_RESPONSE
