"""The whole mail loop through a real `mailbot serve` process: people send mail over SMTP,
read what the service sends from its Maildir, and answer it the way a mail client does
(Reply-To, In-Reply-To, quoted text)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

import pytest

from tests.support.serve import (
    APPROVERS,
    BOOKING,
    CONNY,
    INGE,
    Received,
    Service,
    book,
    german,
    serving,
    stay,
)

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    with serving(tmp_path_factory.mktemp("serve")) as running:
        yield running


def test_three_ja_confirm_the_booking_for_everyone(service: Service) -> None:
    start, end = book(service, "anna@example.net", "Anna", 20)
    submitted = service.wait_for(INGE, "request_submitted", german(start, end))
    assert submitted.subject == f"Neue Buchungsanfrage von Anna ({german(start, end)})"
    for approver in APPROVERS:
        ask = service.wait_for(approver, "request_submitted", german(start, end))
        assert service.settle(service.reply(approver, ask, "JA, gerne!")) == ("processed", "approved")
    for person in ("anna@example.net", *APPROVERS):
        confirmed = service.wait_for(person, "booking_confirmed", german(start, end))
        assert confirmed.subject == f"Buchung bestätigt ({german(start, end)})"
    assert service.booking_state("Anna") == "confirmed"


def _ask(service: Service, approver: str, start: date, end: date) -> Received:
    return service.wait_for(approver, "request_submitted", german(start, end))


def test_nein_with_reason_tells_all_four_frees_the_dates_and_reopen_asks_again(
        service: Service) -> None:
    start, end = book(service, "bea@example.net", "Bea", 40)
    ask = _ask(service, CONNY, start, end)
    assert service.settle(service.reply(CONNY, ask, "NEIN, weil wir da selbst im Haus sind.")) == (
        "processed", "denied")
    for person in ("bea@example.net", *APPROVERS):
        denied = service.wait_for(person, "booking_denied", german(start, end))
        assert "selbst im Haus" in denied.text
    assert service.booking_state("Bea") == "denied"
    # The dates are free again: someone else gets them.
    book(service, "carl@example.net", "Carl", 41, days=1, people="zu zweit")
    service.settle(service.send("carl@example.net", "Wir müssen leider absagen.\n\nCarl"))
    confirm = service.wait_for("carl@example.net", "question_confirm")
    service.settle(service.reply("carl@example.net", confirm, "JA"))
    assert service.booking_state("Carl") == "canceled"
    # Bea reopens; the approvers are asked again.
    denied = service.wait_for("bea@example.net", "booking_denied")
    assert service.settle(service.reply("bea@example.net", denied, "Bitte wieder öffnen.")) == (
        "processed", "reopened")
    for approver in APPROVERS:
        assert service.wait_for(approver, "booking_reopened", german(start, end))
    assert service.booking_state("Bea") == "pending"


def test_extend_resets_decisions_and_shorten_keeps_them(service: Service) -> None:
    start, end = book(service, "dora@example.net", "Dora", 60)
    service.settle(service.reply(INGE, _ask(service, INGE, start, end), "JA"))
    approved = service.wait_for("dora@example.net", "booking_approved")
    shorter = start + timedelta(days=1)
    state = service.settle(service.reply("dora@example.net", approved,
                                         f"Wir kommen doch erst ab dem {shorter:%d.%m.}"))
    assert state == ("processed", "edited")
    shortened = service.wait_for("dora@example.net", "booking_shortened")
    assert german(shorter, end) in shortened.subject
    assert "Antworten bleiben gültig" in shortened.text
    assert not [m for m in service.mails() if m.kind == "booking_extended" and m.to == INGE
                and "Dora" in m.text]

    later = end + timedelta(days=2)
    state = service.settle(service.reply("dora@example.net", shortened,
                                         f"Wir möchten doch bis zum {later:%d.%m.} bleiben"))
    assert state == ("processed", "edited")
    for approver in APPROVERS:
        assert service.wait_for(approver, "booking_extended", german(shorter, later))
    assert "noch einmal gefragt" in service.wait_for("dora@example.net", "edit_done").text


def test_cancel_of_a_confirmed_booking_needs_a_reason(service: Service) -> None:
    start, end = book(service, "emil@example.net", "Emil", 80)
    for approver in APPROVERS:
        service.settle(service.reply(approver, _ask(service, approver, start, end), "JA"))
    confirmed = service.wait_for("emil@example.net", "booking_confirmed")
    assert service.settle(service.reply("emil@example.net", confirmed, "STORNO")) == (
        "processed", "asked_cancel_reason")
    assert service.booking_state("Emil") == "confirmed"
    asked = service.wait_for("emil@example.net", "question_reason")
    service.settle(service.reply("emil@example.net", asked, "Das Auto ist kaputt."))
    confirm = service.wait_for("emil@example.net", "question_confirm")
    assert "Auto ist kaputt" in confirm.text
    assert service.settle(service.reply("emil@example.net", confirm, "JA")) == (
        "processed", "canceled")
    for person in ("emil@example.net", *APPROVERS):
        assert "Auto ist kaputt" in service.wait_for(person, "booking_canceled", german(start, end)).text
    assert service.booking_state("Emil") == "canceled"


def test_conflict_answer_names_the_other_booking(service: Service) -> None:
    start, end = book(service, "fritz@example.net", "Fritz", 100)
    text, _, _ = stay(101, 3)
    sent = service.send("gabi@example.net", f"Wir möchten {text} zu zweit kommen.\n\nGruß\nGabi")
    assert service.settle(sent) == ("rejected", "conflict")
    answer = service.wait_for("gabi@example.net", "rejected_conflict")
    assert "Fritz – Ausstehend" in answer.text
    assert "fritz@example.net" not in answer.text


def test_long_stay_is_asked_before_anyone_is_bothered(service: Service) -> None:
    text, start, end = stay(120, 12)
    sent = service.send("hans@example.net", f"Wir möchten {text} zu dritt kommen.\n\nGruß\nHans")
    assert service.settle(sent) == ("processed", "asked_long_stay")
    question = service.wait_for("hans@example.net", "question_long_stay")
    assert "12 Tage" in question.text
    assert not [m for m in service.mails() if german(start, end) in m.subject
                and m.kind == "request_submitted"]
    assert service.settle(service.reply("hans@example.net", question, "JA")) == (
        "processed", "submitted")
    for approver in APPROVERS:
        assert service.wait_for(approver, "request_submitted", german(start, end))


def test_missing_party_size_is_asked_and_then_completed(service: Service) -> None:
    text, start, end = stay(140, 3)
    sent = service.send("ida@example.net", f"Hallo, wir möchten {text} kommen.\n\nLG Ida")
    assert service.settle(sent) == ("processed", "asked_missing")
    question = service.wait_for("ida@example.net", "question_missing")
    assert "wie viele Personen" in question.text
    assert service.settle(service.reply("ida@example.net", question, "Wir sind zu fünft.")) == (
        "processed", "submitted")
    received = service.wait_for("ida@example.net", "request_received")
    assert "5 Personen" in received.text


def test_forged_approver_replies_change_nothing(service: Service) -> None:
    start, end = book(service, "jana@example.net", "Jana", 160)
    ask = _ask(service, INGE, start, end)
    # Right key, wrong sender.
    assert service.settle(service.reply("mallory@example.net", ask, "JA")) == (
        "rejected", "sender_mismatch")
    # Right sender, no key (sent to the plain address, only In-Reply-To).
    assert service.settle(service.reply(INGE, ask, "JA", to=BOOKING)) == ("rejected", "no_key")
    # Right sender, tampered key.
    local, _, domain = ask.reply_to.partition("@")
    key, _, sig = local.rpartition(".")
    tampered = f"{key}.{'b' if sig[0] == 'a' else 'a'}{sig[1:]}@{domain}"
    assert service.settle(service.reply(INGE, ask, "JA", to=tampered)) == ("rejected", "bad_key")
    assert service.booking_state("Jana") == "pending"
    assert service.count("jana@example.net", "booking_approved") == 0
    neutral = service.wait_for(INGE, "not_accepted")
    assert "nichts geändert" in neutral.text
    # The real reply still works afterwards.
    assert service.settle(service.reply(INGE, ask, "JA")) == ("processed", "approved")
    assert service.count("jana@example.net", "booking_approved") == 1
