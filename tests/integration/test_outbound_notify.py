"""Who is told what (SPEC §4), through the real actions on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from datetime import date

from sqlalchemy import select

from mailbot import actions, tokens
from mailbot.core import booking as rules
from mailbot.outbound.outbox import reply_address
from mailbot.runtime import Cause, Runtime
from mailbot.store.tables import Conversation, OutboxMessage

ANNA = "anna@example.com"
INGEBORG, CORNELIA, ANGELIKA = "ingeborg@example.org", "cornelia@example.org", "angelika@example.org"
APPROVERS = {INGEBORG, CORNELIA, ANGELIKA}
_ADDRESS = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


def submit(rt: Runtime, who: str = ANNA, first_name: str = "Anna", start: date = date(2027, 8, 1),
           end: date = date(2027, 8, 5), party_size: int = 4, description: str = "Mit Hund") -> int:
    with rt.store.transaction() as session:
        request = rules.Request(who, first_name, start, end, party_size, description)
        booking = actions.submit(rt, session, request, Cause.new())
        assert booking.id is not None
        return booking.id


def mails(rt: Runtime) -> list[OutboxMessage]:
    with rt.store.reading() as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def new_mails(rt: Runtime, since: int) -> dict[str, OutboxMessage]:
    """The mails queued after the first `since`, by recipient (asserting one each)."""
    fresh = mails(rt)[since:]
    by_address = {m.to_address: m for m in fresh}
    assert len(by_address) == len(fresh), [m.to_address for m in fresh]
    return by_address


def act(rt: Runtime, action: str, booking_id: int, *args: object, **kwargs: object) -> None:
    with rt.store.transaction() as session:
        getattr(actions, action)(rt, session, booking_id, *args, cause=Cause.new(), **kwargs)


def test_submitted_tells_every_approver_and_acknowledges_the_requester(rt: Runtime) -> None:
    submit(rt)
    sent = new_mails(rt, 0)
    assert set(sent) == APPROVERS | {ANNA}
    for address in APPROVERS:
        mail = sent[address]
        assert mail.kind == "request_submitted"
        assert mail.subject == "Neue Buchungsanfrage von Anna (01.–05.08.2027)"
        assert "Anna" in mail.text_body and "4 Personen" in mail.text_body and "Mit Hund" in mail.text_body
        assert "JA" in mail.text_body and "NEIN" in mail.text_body
        assert "/zustimmen" in mail.text_body and "/ablehnen" in mail.html_body
    ack = sent[ANNA]
    assert ack.kind == "request_received"
    assert ack.subject == "Anfrage erhalten (01.–05.08.2027)"
    assert "/p/" in ack.text_body and "Ingeborg, Cornelia und Angelika" in ack.text_body


def test_no_mail_body_names_an_address_but_the_recipients_own(rt: Runtime) -> None:
    booking_id = submit(rt)
    act(rt, "approve", booking_id, "ingeborg")
    act(rt, "deny", booking_id, "cornelia", "Wir sind selbst da")
    for mail in mails(rt):
        found = set(_ADDRESS.findall(mail.text_body + mail.html_body)) - {mail.to_address}
        assert not found, (mail.kind, mail.to_address, found)


def test_br015_self_approver_is_not_asked_but_gets_the_acknowledgement(rt: Runtime) -> None:
    submit(rt, who=INGEBORG, first_name="Ingeborg")
    sent = new_mails(rt, 0)
    assert set(sent) == {INGEBORG, CORNELIA, ANGELIKA}
    assert sent[INGEBORG].kind == "request_received"
    assert "du selbst hast schon zugestimmt" in sent[INGEBORG].text_body
    assert "Cornelia und Angelika" in sent[INGEBORG].text_body
    assert sent[CORNELIA].kind == "request_submitted"
    assert "Ingeborg bucht selbst" in sent[CORNELIA].text_body


def test_approval_tells_the_requester_who_approved_and_who_is_outstanding(rt: Runtime) -> None:
    booking_id = submit(rt)
    before = len(mails(rt))
    act(rt, "approve", booking_id, "cornelia")
    sent = new_mails(rt, before)
    assert set(sent) == {ANNA}
    assert sent[ANNA].subject == "Cornelia hat zugestimmt (01.–05.08.2027)"
    assert "Ingeborg und Angelika" in sent[ANNA].text_body


def test_br003_final_approval_sends_only_the_confirmation_to_everyone(rt: Runtime) -> None:
    booking_id = submit(rt)
    act(rt, "approve", booking_id, "ingeborg")
    act(rt, "approve", booking_id, "cornelia")
    before = len(mails(rt))
    act(rt, "approve", booking_id, "angelika")
    sent = new_mails(rt, before)
    assert set(sent) == APPROVERS | {ANNA}
    assert {m.subject for m in sent.values()} == {"Buchung bestätigt (01.–05.08.2027)"}
    assert "Deine Buchung ist bestätigt" in sent[ANNA].text_body
    assert "die Buchung von Anna ist bestätigt" in sent[CORNELIA].text_body
    assert "Cornelia, Cornelia" not in sent[CORNELIA].text_body  # issue 14 (9)


def test_br004_deny_tells_requester_and_approvers_with_reason_and_ways_on(rt: Runtime) -> None:
    booking_id = submit(rt)
    before = len(mails(rt))
    act(rt, "deny", booking_id, "cornelia", "Da streichen wir die Fenster")
    sent = new_mails(rt, before)
    assert set(sent) == APPROVERS | {ANNA}
    assert {m.subject for m in sent.values()} == {"Cornelia hat abgelehnt (01.–05.08.2027)"}
    assert all("Da streichen wir die Fenster" in m.text_body for m in sent.values())
    assert "/wieder-oeffnen" in sent[ANNA].text_body and "/stornieren" in sent[ANNA].text_body
    assert "wieder öffnen" in sent[ANNA].text_body
    assert "du hast die Buchung von Anna abgelehnt" in sent[CORNELIA].text_body
    assert "/wieder-oeffnen" not in sent[INGEBORG].text_body


def test_br005_shortening_tells_only_the_requester_extending_asks_approvers_again(rt: Runtime) -> None:
    booking_id = submit(rt)
    before = len(mails(rt))
    act(rt, "edit", booking_id, ANNA, start=date(2027, 8, 2), end=date(2027, 8, 4))
    sent = new_mails(rt, before)
    assert set(sent) == {ANNA}
    assert sent[ANNA].subject == "Buchung verkürzt (02.–04.08.2027)"
    assert "01.–05.08.2027" in sent[ANNA].text_body and "bleiben gültig" in sent[ANNA].text_body

    before = len(mails(rt))
    act(rt, "edit", booking_id, ANNA, end=date(2027, 8, 9), long_stay_confirmed=True)
    sent = new_mails(rt, before)
    assert set(sent) == APPROVERS
    mail = sent[ANGELIKA]
    assert mail.subject == "Anna hat die Buchung verlängert – bitte neu entscheiden (02.–09.08.2027)"
    assert "02.–04.08.2027" in mail.text_body and "entscheide neu" in mail.text_body


def test_details_change_tells_nobody(rt: Runtime) -> None:
    booking_id = submit(rt)
    before = len(mails(rt))
    act(rt, "edit", booking_id, ANNA, party_size=1, first_name="Annika")
    assert mails(rt)[before:] == []


def test_reopen_asks_all_approvers_again_with_the_new_dates(rt: Runtime) -> None:
    booking_id = submit(rt)
    act(rt, "deny", booking_id, "ingeborg", "Belegt")
    before = len(mails(rt))
    act(rt, "reopen", booking_id, ANNA, start=date(2027, 9, 1), end=date(2027, 9, 3))
    sent = new_mails(rt, before)
    assert set(sent) == APPROVERS | {ANNA}  # issue 14 (6): the requester hears it too
    assert sent[ANNA].subject == "Anfrage wieder geöffnet (01.–03.09.2027)"
    mail = sent[INGEBORG]
    assert mail.subject == "Anna fragt noch einmal an – bitte entscheiden (01.–03.09.2027)"
    assert "01.–05.08.2027" in mail.text_body and "/zustimmen" in mail.text_body


def test_br006_cancel_of_pending_tells_everyone_and_lists_who_was_told(rt: Runtime) -> None:
    booking_id = submit(rt)
    before = len(mails(rt))
    act(rt, "cancel", booking_id, ANNA, None)
    sent = new_mails(rt, before)
    assert set(sent) == APPROVERS | {ANNA}
    assert {m.subject for m in sent.values()} == {"Buchung storniert (01.–05.08.2027)"}
    assert "Ingeborg, Cornelia, Angelika und du" in sent[ANNA].text_body
    assert "Anna, Ingeborg, Cornelia und Angelika" in sent[CORNELIA].text_body


def test_br007_cancel_of_confirmed_carries_the_reason(rt: Runtime) -> None:
    booking_id = submit(rt)
    for approver in ("ingeborg", "cornelia", "angelika"):
        act(rt, "approve", booking_id, approver)
    before = len(mails(rt))
    act(rt, "cancel", booking_id, ANNA, "Wir sind krank", confirmed=True)
    sent = new_mails(rt, before)
    assert set(sent) == APPROVERS | {ANNA}
    assert all("Wir sind krank" in m.text_body for m in sent.values())
    assert "bestätigte Buchung storniert" in sent[ANGELIKA].text_body


def test_cancel_of_denied_quietly_tells_only_the_requester(rt: Runtime) -> None:
    booking_id = submit(rt)
    act(rt, "deny", booking_id, "angelika", "Nein")
    before = len(mails(rt))
    act(rt, "cancel", booking_id, ANNA, None)
    sent = new_mails(rt, before)
    assert set(sent) == {ANNA}
    assert sent[ANNA].kind == "booking_canceled_denied"


def test_br028_system_cancel_tells_nobody(rt: Runtime) -> None:
    booking_id = submit(rt)
    before = len(mails(rt))
    with rt.store.transaction() as session:
        from mailbot.outbound.notify import notify
        from mailbot.store import queries

        booking = queries.booking(session, booking_id, lock=True)
        assert booking is not None
        events = rules.cancel(booking, None, rt.house, rt.today(), rt.now(), actor="system")
        notify(rt, session, events, Cause.new())
    assert mails(rt)[before:] == []


def test_every_mail_has_its_own_signed_reply_address_and_recorded_headers(rt: Runtime) -> None:
    booking_id = submit(rt)
    act(rt, "approve", booking_id, "ingeborg")
    rows = mails(rt)
    with rt.store.reading() as session:
        threads = {c.id: c for c in session.scalars(select(Conversation))}
    # one conversation per person × booking: Anna's two mails share one thread
    anna = [m for m in rows if m.to_address == ANNA]
    assert len(anna) == 2 and anna[0].reply_to == anna[1].reply_to
    assert len({m.reply_to for m in rows}) == 4
    for mail in rows:
        thread = threads[mail.conversation_id]
        assert thread.participant == mail.to_address and thread.booking_id == booking_id
        assert mail.reply_to == reply_address(rt, thread, decision_round=1)
        local = mail.reply_to.split("@")[0]
        assert tokens.unsign(rt.settings.secret_key, "reply", local.split("+", 1)[1]) \
            == f"{thread.key}.1"
        assert mail.message_id == mail.headers["Message-ID"]
        assert mail.message_id.endswith(f"@{rt.settings.mail_domain}>")
        assert mail.headers["Auto-Submitted"] == "auto-generated"
        assert mail.headers["X-Mailbot-Correlation"] == mail.correlation_id
        assert mail.state == "queued"
    assert {t.role for t in threads.values()} == {"requester", "approver"}
