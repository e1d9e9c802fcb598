"""Finding 3 in the conversation (SPEC §5 "Authentic"): mail whose From is not authenticated
may start a request, but never applies an approver's approval (BR-015) and never renames a
person; an approver confirms such a request (and her approval) by a reply. Authenticated
mail and replies with a valid key keep their authority."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from mailbot.core.model import Verdict
from mailbot.runtime import Runtime
from mailbot.store.tables import Person
from tests.support.conversation import UPSTREAM, Mailbox

ANNA, INGE = "anna@example.net", "ingeborg@example.org"
OTHERS = ("cornelia@example.org", "angelika@example.org")
REQUEST = "Hallo,\nwir würden gern vom 3. bis 7. März 2027 zu viert kommen.\n\nLG {name}"


@pytest.fixture
def mail(rt: Runtime) -> Mailbox:
    return Mailbox(rt)


def first_name(mail: Mailbox, address: str) -> str | None:
    with mail.rt.store.reading() as session:
        return session.scalars(select(Person.first_name).where(Person.email == address)).first()


def test_finding3_an_unauthenticated_approver_request_carries_no_approval(mail: Mailbox) -> None:
    row = mail.send(INGE, REQUEST.format(name="Ingeborg"))
    assert row.reason == "submitted" and not row.authenticated
    assert row.booking_id is not None
    assert mail.booking(row.booking_id).verdict("ingeborg") == Verdict.NO_RESPONSE
    for other in OTHERS:  # nobody is told that Ingeborg agreed
        assert "zugestimmt" not in mail.last(other, "request_submitted").text_body
    ack = mail.last(INGE, "request_received")
    assert "Bitte bestätige kurz per Antwort, dass die Anfrage von dir ist" in ack.text_body
    assert "Bitte bestätige kurz per Antwort" in ack.html_body
    # her reply proves the mailbox: her approval counts now
    answered = mail.reply(INGE, ack, "JA")
    assert answered.reason == "approved", answered.detail
    assert mail.booking(row.booking_id).verdict("ingeborg") == Verdict.APPROVED


def test_br015_an_authenticated_approver_request_approves_itself(mail: Mailbox) -> None:
    row = mail.authenticated(INGE, REQUEST.format(name="Ingeborg"))
    assert row.reason == "submitted" and row.authenticated
    assert "example.org (mx.upstream.example)" in row.interpretation["authentication"]
    assert mail.booking(row.booking_id or 0).verdict("ingeborg") == Verdict.APPROVED
    assert "Bitte bestätige" not in mail.last(INGE, "request_received").text_body


def test_finding3_a_forged_verdict_above_the_trusted_one_gives_no_approval(mail: Mailbox) -> None:
    mail.trust_upstream()
    forged = (b"Authentication-Results: mx.mallory.example; dkim=pass header.i=ingeborg@example.org;"
              b" dmarc=pass header.from=example.org\n")
    real = f"Authentication-Results: {UPSTREAM}; spf=fail; dkim=none; dmarc=fail header.from=example.org\n"
    row = mail.deliver(forged + real.encode() + mail.raw(INGE, REQUEST.format(name="Ingeborg")), "pipe")
    assert (row.state, row.reason) == ("rejected", "forged")
    assert row.booking_id is None


def test_finding3_unauthenticated_mail_never_renames_a_person(mail: Mailbox) -> None:
    assert mail.authenticated(ANNA, REQUEST.format(name="Anna")).reason == "submitted"
    assert first_name(mail, ANNA) == "Anna"
    later = mail.send(ANNA, REQUEST.replace("3. bis 7. März", "3. bis 7. Mai").format(name="Mallory"))
    assert later.reason == "submitted" and not later.authenticated
    assert first_name(mail, ANNA) == "Anna"
    # authenticated mail may (a person may sign differently)
    mail.authenticated(ANNA, REQUEST.replace("3. bis 7. März", "3. bis 7. Juni").format(name="Anni"))
    assert first_name(mail, ANNA) == "Anni"
