"""New requests by mail: complete ones are submitted, incomplete ones are asked about and
completed in the same thread, and every rule that says no is answered in German."""

from __future__ import annotations

from datetime import date

import pytest

from mailbot.core.model import State
from mailbot.runtime import Runtime
from tests.support.conversation import Mailbox

ANNA = "anna@example.net"
BERND = "bernd@example.net"
APPROVERS = ("ingeborg@example.org", "cornelia@example.org", "angelika@example.org")


@pytest.fixture
def mail(rt: Runtime) -> Mailbox:
    return Mailbox(rt)


def test_complete_request_is_submitted_and_everyone_hears_of_it(mail: Mailbox) -> None:
    row = mail.send(ANNA, "Hallo,\nwir würden gern vom 3. bis 7. März 2027 zu viert kommen. "
                          "Wir bringen den Hund mit.\n\nLiebe Grüße\nAnna")
    assert (row.state, row.reason) == ("processed", "submitted")
    assert row.booking_id is not None
    booking = mail.booking(row.booking_id)
    assert (booking.start, booking.end, booking.party_size, booking.first_name) == (
        date(2027, 3, 3), date(2027, 3, 7), 4, "Anna")
    assert booking.state == State.PENDING
    assert booking.requester_email == ANNA
    # issue 14 (8): the note keeps her own words about the stay, not the dates or the size
    # (the booking shows those, and they may change), nor greeting and closing
    assert booking.description == "Wir bringen den Hund mit."
    sent = {(m.to_address, m.kind) for m in mail.new()}
    assert sent == {(ANNA, "request_received"), *((a, "request_submitted") for a in APPROVERS)}
    assert row.interpretation is not None and row.interpretation["intent"] == "request"
    assert "submitted booking" in (row.detail or "")


def test_missing_party_size_is_asked_and_the_answer_completes_the_request(mail: Mailbox) -> None:
    row = mail.send(ANNA, "Hallo,\nwir würden gern vom 3. bis 7. März 2027 kommen.\n\nLG Anna")
    assert (row.state, row.reason) == ("processed", "asked_missing")
    assert row.booking_id is None
    question = mail.last(ANNA, "question_missing")
    assert question.subject == "Rückfrage zu deiner Anfrage (03.–07.03.2027)"
    assert "wie viele Personen" in question.text_body
    assert "Abreisetag" not in question.text_body  # the dates are known, not asked again
    assert [m.kind for m in mail.new()] == ["question_missing"]  # nobody else is bothered

    answer = mail.reply(ANNA, question, "Wir sind zu viert.")
    assert (answer.state, answer.reason) == ("processed", "submitted")
    booking = mail.booking(answer.booking_id or 0)
    assert (booking.start, booking.end, booking.party_size) == (date(2027, 3, 3), date(2027, 3, 7), 4)
    assert {m.kind for m in mail.new()} == {"request_received", "request_submitted"}


def test_vague_dates_are_asked_for_exactly_over_several_rounds(mail: Mailbox) -> None:
    mail.send(ANNA, "Hallo, wir möchten gern Mitte Juli kommen.\n\nViele Grüße\nAnna")
    question = mail.last(ANNA, "question_missing")
    assert "„Mitte Juli“ ist mir zu ungenau" in question.text_body
    assert "wie viele Personen" in question.text_body

    second = mail.reply(ANNA, question, "Wir sind zu dritt.")
    assert second.reason == "asked_missing"
    again = mail.last(ANNA, "question_missing")
    assert again.id != question.id
    assert "wie viele Personen" not in again.text_body
    assert "3 Personen" in again.text_body  # what is known so far

    third = mail.reply(ANNA, again, "vom 12. bis 16. Juli 2027")
    assert third.reason == "submitted"
    booking = mail.booking(third.booking_id or 0)
    assert (booking.start, booking.end, booking.party_size) == (date(2027, 7, 12), date(2027, 7, 16), 3)


def test_missing_first_name_is_asked_and_a_bare_name_answers_it(mail: Mailbox) -> None:
    mail.send("x7@example.net", "Wir möchten vom 3. bis 7. März 2027 mit 2 Personen kommen.")
    question = mail.last("x7@example.net", "question_missing")
    assert "dein Vorname" in question.text_body
    row = mail.reply("x7@example.net", question, "Ich bin Jörg-Peter.")
    assert row.reason == "submitted"
    assert mail.booking(row.booking_id or 0).first_name == "Jörg-Peter"


def test_an_answer_that_adds_nothing_is_asked_again_once_a_day(mail: Mailbox) -> None:
    mail.send(ANNA, "Wir möchten vom 3. bis 7. März 2027 kommen. LG Anna", name="Anna Muster")
    question = mail.last(ANNA, "question_missing")
    first = mail.reply(ANNA, question, "Freue mich schon!")
    assert first.reason == "asked_missing"
    repeat = mail.last(ANNA, "question_missing")
    assert "noch nicht alles herauslesen" in repeat.text_body
    second = mail.reply(ANNA, repeat, "Freue mich wirklich sehr!")
    assert (second.state, second.reason) == ("ignored", "unclear_answer")
    assert len(mail.outbox(ANNA, "question_missing")) == 2


INFERRED = ("Hallo,\nwir würden gern vom 3. bis 7. März 2027 kommen: meine Eltern, mein Bruder "
            "und ich.\n\nLG Anna")


def test_a_party_size_counted_from_the_people_named_is_asked_and_ja_submits_it(
        mail: Mailbox) -> None:
    """When the parser asks: "meine Eltern, mein Bruder und ich" is counted (4), not said."""
    row = mail.send(ANNA, INFERRED)
    assert (row.state, row.reason) == ("processed", "asked_check")
    assert row.interpretation is not None and row.interpretation["ask"] == ["party_size"]
    question = mail.last(ANNA, "question_check")
    assert question.subject == "Stimmt das so? (03.–07.03.2027)"
    assert "Wie viele: 4 Personen  ← richtig?" in question.text_body
    assert "Wann:      03.–07.03.2027  ← richtig?" not in question.text_body
    assert [m.kind for m in mail.new()] == ["question_check"]  # the approvers wait

    answer = mail.reply(ANNA, question, "Ja")
    assert (answer.state, answer.reason) == ("processed", "submitted")
    booking = mail.booking(answer.booking_id or 0)
    assert (booking.start, booking.end, booking.party_size, booking.first_name) == (
        date(2027, 3, 3), date(2027, 3, 7), 4, "Anna")
    assert {m.kind for m in mail.new()} == {"request_received", "request_submitted"}


def test_a_party_size_counted_from_the_people_named_is_asked_and_a_correction_replaces_it(
        mail: Mailbox) -> None:
    mail.send(ANNA, INFERRED)
    answer = mail.reply(ANNA, mail.last(ANNA, "question_check"),
                        "Nicht ganz: meine Schwägerin kommt auch mit, wir sind zu fünft.")
    assert (answer.state, answer.reason) == ("processed", "submitted")
    booking = mail.booking(answer.booking_id or 0)
    assert (booking.start, booking.end, booking.party_size) == (
        date(2027, 3, 3), date(2027, 3, 7), 5)


def test_a_no_without_the_right_values_leaves_the_question_standing(mail: Mailbox) -> None:
    mail.send(ANNA, INFERRED)
    again = mail.reply(ANNA, mail.last(ANNA, "question_check"), "Nein.")
    assert (again.state, again.reason, again.booking_id) == ("processed", "asked_check", None)
    answer = mail.reply(ANNA, mail.last(ANNA, "question_check"), "Stimmt doch, sorry!")
    assert answer.reason == "submitted", answer.detail
    assert mail.booking(answer.booking_id or 0).party_size == 4


def test_br027_long_stay_is_asked_first_and_submitted_after_ja(mail: Mailbox) -> None:
    row = mail.send(BERND, "Hallo, wir möchten vom 1. bis 20. März 2027 mit 4 Personen kommen.\n\n"
                           "Gruß\nBernd")
    assert (row.state, row.reason) == ("processed", "asked_long_stay")
    assert mail.outbox(APPROVERS[0]) == []
    question = mail.last(BERND, "question_long_stay")
    assert question.subject == "Lange Buchung bestätigen (01.–20.03.2027)"
    assert "20 Tage" in question.text_body and "JA" in question.text_body

    answer = mail.reply(BERND, question, "JA")
    assert answer.reason == "submitted"
    booking = mail.booking(answer.booking_id or 0)
    assert booking.total_days == 20
    assert len(mail.outbox(kind="request_submitted")) == 3


def test_br027_long_stay_answered_with_shorter_dates_submits_those(mail: Mailbox) -> None:
    mail.send(BERND, "Hallo, wir möchten vom 1. bis 20. März 2027 mit 4 Personen kommen.\n\nGruß\nBernd")
    answer = mail.reply(BERND, mail.last(BERND, "question_long_stay"), "Dann lieber 1.3.-5.3.2027")
    assert answer.reason == "submitted"
    booking = mail.booking(answer.booking_id or 0)
    assert (booking.start, booking.end) == (date(2027, 3, 1), date(2027, 3, 5))


def test_br002_conflict_answer_names_the_other_booking_and_new_dates_complete_it(
        mail: Mailbox) -> None:
    mail.send(ANNA, "Wir würden gern vom 3. bis 7. März 2027 zu viert kommen.\n\nLG Anna")
    row = mail.send(BERND, "Wir möchten vom 5. bis 9. März 2027 zu zweit kommen.\n\nGruß\nBernd")
    assert (row.state, row.reason) == ("rejected", "conflict")
    answer = mail.last(BERND, "rejected_conflict")
    assert answer.subject == "Zeitraum schon belegt (05.–09.03.2027)"
    assert "Anna – Ausstehend" in answer.text_body
    assert ANNA not in answer.text_body and ANNA not in answer.html_body
    assert answer.headers["In-Reply-To"].endswith("@mail.example.org>")
    # issue 16: the nearest free stays of the same length, before and after
    assert "Frei wäre zum Beispiel Fr–Di, 26.02.–02.03.2027 oder Mo–Fr, 08.–12.03.2027." \
        in answer.text_body
    assert "z. B. „26.02.–02.03.2027“" in answer.text_body and "26.02.–02.03.2027" in answer.html_body

    retry = mail.reply(BERND, answer, "Dann eben vom 10. bis 12. März 2027.")
    assert retry.reason == "submitted"
    booking = mail.booking(retry.booking_id or 0)
    assert (booking.start, booking.end, booking.party_size, booking.first_name) == (
        date(2027, 3, 10), date(2027, 3, 12), 2, "Bernd")


def test_issue16_the_requester_picks_a_proposed_free_stay_with_das_zweite(mail: Mailbox) -> None:
    mail.send(ANNA, "Wir würden gern vom 3. bis 7. März 2027 zu viert kommen.\n\nLG Anna")
    mail.send(BERND, "Wir möchten vom 5. bis 9. März 2027 zu zweit kommen.\n\nGruß\nBernd")
    answer = mail.last(BERND, "rejected_conflict")
    assert "oder Mo–Fr, 08.–12.03.2027." in answer.text_body
    picked = mail.reply(BERND, answer, "Dann das zweite, bitte.")
    assert picked.reason == "submitted", picked.detail
    booking = mail.booking(picked.booking_id or 0)
    assert (booking.start, booking.end) == (date(2027, 3, 8), date(2027, 3, 12))


@pytest.mark.parametrize(("body", "reason", "kind", "says"), [
    ("Wir möchten vom 3. bis 7. Juli 2028 zu zweit kommen.\n\nGruß\nBernd", "beyond_horizon",
     "rejected_beyond_horizon", "18 Monate"),
    ("Wir möchten vom 10.11.2026 bis 12.11.2026 zu zweit kommen.\n\nGruß\nBernd", "start_in_past",
     "rejected_start_in_past", "Vergangenheit"),
    ("Wir möchten vom 5. bis 6. März 2027 mit 12 Personen kommen.\n\nGruß\nBernd", "invalid",
     "rejected_invalid", "höchstens 10 Personen"),
])
def test_rules_that_refuse_a_request_are_answered(mail: Mailbox, body: str, reason: str,
                                                  kind: str, says: str) -> None:
    row = mail.send(BERND, body)
    assert (row.state, row.reason) == ("rejected", reason)
    answer = mail.last(BERND, kind)
    assert says in answer.text_body
    assert mail.outbox(kind="request_submitted") == []


def test_br017_too_many_people_can_be_corrected_in_the_thread(mail: Mailbox) -> None:
    mail.send(BERND, "Wir möchten vom 5. bis 6. März 2027 mit 12 Personen kommen.\n\nGruß\nBernd")
    answer = mail.last(BERND, "rejected_invalid")
    assert "richtigen Personenzahl" in answer.text_body
    row = mail.reply(BERND, answer, "Dann kommen wir mit 8 Personen.")
    assert row.reason == "submitted"
    assert mail.booking(row.booking_id or 0).party_size == 8


def test_br020_links_are_removed_from_the_description(mail: Mailbox) -> None:
    row = mail.send(ANNA, "Wir würden gern vom 3. bis 7. März 2027 zu viert kommen. Infos unter "
                          "https://example.net/plan und www.example.net.\n\nLG Anna")
    assert row.reason == "submitted"
    description = mail.booking(row.booking_id or 0).description
    assert "http" not in description and "www." not in description
    assert "[Link entfernt]" in description


def test_the_note_keeps_no_piece_of_a_date(mail: Mailbox) -> None:
    """A day's dot before a month name ends no sentence: the approvers' note holds neither
    "August." nor "Juli, oder …" left over from the dates."""
    row = mail.send(ANNA, "Hallo,\n\nwir würden gern vom 3. bis 8. August 2027 kommen. Wir sind zu viert. "
                          "Wir bringen den Hund mit.\n\nLG Anna")
    assert row.reason == "submitted"
    assert mail.booking(row.booking_id or 0).description == "Wir bringen den Hund mit."


def test_br012_eleventh_request_of_the_day_gets_the_rate_limit_answer(mail: Mailbox,
                                                                     rt: Runtime) -> None:
    for day in range(1, 11):
        row = mail.send(BERND, f"Wir möchten am {day}. Mai 2027 zu zweit kommen. Gruß Bernd",
                        name="Bernd Bauer")
        assert row.reason == "submitted", row.detail
    row = mail.send(BERND, "Wir möchten am 20. Mai 2027 zu zweit kommen.", name="Bernd Bauer")
    assert (row.state, row.reason) == ("rejected", "rate_limited")
    assert "schon 10 neue Anfragen" in mail.last(BERND, "rate_limited").text_body
    row = mail.send(ANNA, "Wir möchten am 20. Mai 2027 zu zweit kommen.", name="Anna Muster")
    assert row.reason == "submitted"  # the limit is per sender


def test_unknown_mail_gets_one_help_answer_a_day(mail: Mailbox, rt: Runtime) -> None:
    first = mail.send(BERND, "Hallo, wie geht es euch so?", subject="Hallo")
    assert (first.state, first.reason) == ("ignored", "unknown_intent")
    assert "So fragst du das Haus an" in mail.last(BERND, "help").text_body
    second = mail.send(BERND, "Hallo, hört mich jemand?", subject="Hallo")
    assert (second.state, second.reason) == ("ignored", "unknown_intent")
    assert "already answered today" in (second.detail or "")
    assert len(mail.outbox(BERND)) == 1
    rt.clock.advance(days=1)  # type: ignore[attr-defined]
    mail.send(BERND, "Hallo, noch jemand da?", subject="Hallo")
    assert len(mail.outbox(BERND, "help")) == 2
