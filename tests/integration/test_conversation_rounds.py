"""SPEC §5 "Current": a reply key names the decision round of its booking; a JA or NEIN to a
mail of an older round changes nothing and the sender is told what changed, with the current
request to decide on."""

from __future__ import annotations

import pytest

from mailbot.core.model import State, Verdict
from mailbot.runtime import Runtime
from tests.support.conversation import Mailbox

HANS = "hans@example.net"
INGE, CONNY, GELI = "ingeborg@example.org", "cornelia@example.org", "angelika@example.org"


@pytest.fixture
def mail(rt: Runtime) -> Mailbox:
    return Mailbox(rt)


def request(mail: Mailbox) -> int:
    row = mail.send(HANS, "Hallo,\nwir möchten vom 20. bis 25. Juli 2027 zu dritt kommen.\n\nGruß Hans")
    assert row.reason == "submitted", row.detail
    return row.booking_id or 0


def test_current_a_ja_to_the_mail_before_an_extension_does_not_count(mail: Mailbox) -> None:
    booking_id = request(mail)
    first = mail.last(INGE, "request_submitted")
    row = mail.reply(HANS, mail.last(HANS, "request_received"), "Wir bleiben doch bis zum 26.7.")
    assert row.reason == "edited", row.detail
    late = mail.reply(INGE, first, "JA")
    assert (late.state, late.reason) == ("rejected", "outdated")
    assert mail.booking(booking_id).verdict("ingeborg") == Verdict.NO_RESPONSE
    answer = mail.last(INGE, "rejected_outdated")
    assert answer.subject == "Nicht gezählt – die Anfrage hat sich geändert (20.–26.07.2027)"
    assert "dein „JA“ antwortet auf eine ältere Fassung" in answer.text_body
    assert "Hans hat die Buchung von 20.–25.07.2027 auf 20.–26.07.2027 verlängert." \
        in answer.text_body
    assert "„JA“" in answer.html_body and "verlängert" in answer.html_body
    # the answer carries the current round: a JA to it counts
    again = mail.reply(INGE, answer, "JA")
    assert again.reason == "approved", again.detail
    assert mail.booking(booking_id).verdict("ingeborg") == Verdict.APPROVED


def test_current_the_mail_of_the_new_round_counts(mail: Mailbox) -> None:
    booking_id = request(mail)
    mail.reply(HANS, mail.last(HANS, "request_received"), "Wir bleiben doch bis zum 26.7.")
    row = mail.reply(CONNY, mail.last(CONNY, "booking_extended"), "JA")
    assert row.reason == "approved", row.detail
    assert mail.booking(booking_id).verdict("cornelia") == Verdict.APPROVED


def test_current_an_old_nein_changes_nothing(mail: Mailbox) -> None:
    booking_id = request(mail)
    first = mail.last(GELI, "request_submitted")
    mail.reply(HANS, mail.last(HANS, "request_received"), "Wir kommen schon ab dem 19.7.")
    row = mail.reply(GELI, first, "NEIN, da sind wir selbst dort.")
    assert (row.state, row.reason) == ("rejected", "outdated")
    booking = mail.booking(booking_id)
    assert booking.state == State.PENDING and booking.verdict("angelika") == Verdict.NO_RESPONSE
    assert "dein „NEIN“ antwortet" in mail.last(GELI, "rejected_outdated").text_body


def test_current_a_captured_ja_resent_after_deny_and_reopen_counts_nothing(mail: Mailbox) -> None:
    booking_id = request(mail)
    first = mail.last(INGE, "request_submitted")
    assert mail.reply(INGE, first, "JA").reason == "approved"
    mail.reply(CONNY, mail.last(CONNY, "request_submitted"), "NEIN, da ist Familienfeier.")
    row = mail.reply(HANS, mail.last(HANS, "booking_denied"), "Bitte wieder öffnen, ist geklärt.")
    assert row.reason == "reopened", row.detail
    assert mail.booking(booking_id).decision_round == 2
    replay = mail.reply(INGE, first, "JA")
    assert (replay.state, replay.reason) == ("rejected", "outdated")
    booking = mail.booking(booking_id)
    assert booking.verdict("ingeborg") == Verdict.NO_RESPONSE
    text = mail.last(INGE, "rejected_outdated").text_body
    assert "Cornelia hat abgelehnt." in text and "Hans hat die Anfrage wieder geöffnet." in text


def test_current_a_pure_shift_is_called_a_move(mail: Mailbox) -> None:
    request(mail)
    first = mail.last(INGE, "request_submitted")
    row = mail.reply(HANS, mail.last(HANS, "request_received"),
                     "Können wir auf 21. bis 26. Juli 2027 verschieben?")
    assert row.reason == "edited", row.detail
    mail.reply(INGE, first, "JA")
    text = mail.last(INGE, "rejected_outdated").text_body
    assert "von 20.–25.07.2027 auf 21.–26.07.2027 verschoben" in text, text
