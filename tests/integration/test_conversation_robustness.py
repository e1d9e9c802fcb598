"""Every kind of answer renders, and no message of the labelled corpus makes the
conversation fail: each ends processed, rejected or ignored with a named reason."""

from __future__ import annotations

from datetime import date

from mailbot.core import rejections as rj
from mailbot.core.model import Booking, State
from mailbot.runtime import Cause, Runtime
from tests.conftest import ROOT
from tests.support.conversation import Mailbox

ANNA = "anna@example.net"


def _booking(state: State = State.PENDING) -> Booking:
    booking = Booking("anna@example.net", "Anna", date(2027, 3, 3), date(2027, 3, 7), 4,
                      state=state, id=1)
    return booking


def test_every_core_rejection_has_a_german_answer(rt: Runtime) -> None:
    from mailbot.conversation import answers
    from mailbot.outbound import outbox

    every = [
        rj.Conflict("Bernd", State.CONFIRMED, date(2027, 3, 1), date(2027, 3, 4)),
        rj.StartInPast(date(2026, 11, 1)),
        rj.EndBeforeStart(date(2027, 3, 7), date(2027, 3, 3)),
        rj.BeyondHorizon(date(2028, 8, 1), date(2028, 5, 23)),
        rj.BookingInPast(_booking()),
        rj.NotAllowedNow(_booking(State.CONFIRMED), "edit"),
        rj.NotAllowedNow(_booking(State.CANCELED), "reopen"),
        rj.AlreadyDone(_booking(State.DENIED), "approve", "denied_by:cornelia"),
        rj.AlreadyDone(_booking(State.CONFIRMED), "approve", "confirmed"),
        rj.AlreadyDone(_booking(), "approve", "approved_by_you"),
        rj.Invalid("party_size", "too_large", 10),
        rj.Invalid("first_name", "bad_characters"),
        rj.Invalid("description", "too_long", 500),
        rj.Invalid("reason", "contains_link"),
        rj.ReasonRequired(_booking(), "deny"),
        rj.ReasonRequired(_booking(State.CONFIRMED), "cancel"),
        rj.NotPermitted("cancel"),
        rj.NotPermitted("approve"),
    ]
    expected = {
        "conflict": "Bernd – Bestätigt", "start_in_past": "01.11.2026",
        "end_before_start": "Abreise (03.03.2027) liegt vor der Anreise",
        "beyond_horizon": "23.05.2028", "booking_in_past": "Vergangenheit",
        "not_allowed_now": "Buchung", "already_done": "Schon erledigt",
        "invalid": "", "reason_required": "Begründung", "not_permitted": "nichts geändert",
    }
    with rt.store.transaction() as session:
        for rejection in every:
            kind, context = answers.for_rejection(rt, rejection)
            row = outbox.queue(rt, session, kind, ANNA, {"retry": None, "requested_start": None,
                                                         "requested_end": None, **context},
                               Cause.new())
            assert row.subject and row.html_body.startswith("<!DOCTYPE html>")
            assert expected[rejection.code] in row.text_body, (kind, row.text_body)
            assert "{{" not in row.text_body and "None" not in row.text_body, row.text_body
    assert "Cornelia hat die Buchung bereits abgelehnt" in _text(rt, "already_done", 0)


def _text(rt: Runtime, kind: str, index: int) -> str:
    return Mailbox(rt).outbox(kind=kind)[index].text_body


def test_the_whole_corpus_is_handled_without_failure(rt: Runtime) -> None:
    mail = Mailbox(rt)
    for path in sorted((ROOT / "tests" / "corpus").glob("*.eml")):
        row = mail.deliver(path.read_bytes())
        assert row.reason, (path.name, row.detail)
        assert row.detail and "→" in row.detail or row.state == "ignored", (path.name, row.detail)
