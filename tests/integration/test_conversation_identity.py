"""A reply acts for an approver or a requester only with a valid signed key AND the right
sender AND no failed sender authentication; otherwise nothing changes and the sender gets
a neutral answer."""

from __future__ import annotations

from pathlib import Path

import pytest

from mailbot.config import load_house
from mailbot.core.model import State, Verdict
from mailbot.runtime import Runtime
from tests.conftest import ROOT
from tests.support.conversation import UPSTREAM, Mailbox

ANNA, BERND = "anna@example.net", "bernd@example.net"
INGE, CONNY, GELI = "ingeborg@example.org", "cornelia@example.org", "angelika@example.org"


@pytest.fixture
def mail(rt: Runtime) -> Mailbox:
    return Mailbox(rt)


def request(mail: Mailbox) -> int:
    row = mail.send(ANNA, "Hallo,\nwir würden gern vom 3. bis 7. März 2027 zu viert kommen.\n\nLG Anna")
    assert row.reason == "submitted", row.detail
    return row.booking_id or 0


def test_right_key_wrong_sender_changes_nothing(mail: Mailbox) -> None:
    booking_id = request(mail)
    to_inge = mail.last(INGE, "request_submitted")
    row = mail.reply(BERND, to_inge, "JA")
    assert (row.state, row.reason) == ("rejected", "sender_mismatch")
    assert mail.booking(booking_id).verdict("ingeborg") == Verdict.NO_RESPONSE
    answer = mail.last(BERND, "not_accepted")
    assert "von einer anderen Adresse" in answer.text_body
    assert "03.–07.03.2027" not in answer.text_body and "Anna" not in answer.text_body
    assert answer.reply_to != to_inge.reply_to  # the stranger never gets Inge's key
    assert "sender not trusted (sender_mismatch)" in (row.detail or "")


def test_another_approver_cannot_use_inges_key(mail: Mailbox) -> None:
    booking_id = request(mail)
    row = mail.reply(CONNY, mail.last(INGE, "request_submitted"), "NEIN, weil ich es sage.")
    assert row.reason == "sender_mismatch"
    assert mail.booking(booking_id).state == State.PENDING


def test_right_sender_without_key_gets_the_approver_link(mail: Mailbox) -> None:
    booking_id = request(mail)
    to_inge = mail.last(INGE, "request_submitted")
    # The mail client dropped the Reply-To: the answer goes to the plain booking address.
    row = mail.reply(INGE, to_inge, "JA", to=mail.rt.settings.booking_address)
    assert (row.state, row.reason) == ("rejected", "no_key")
    assert mail.booking(booking_id).verdict("ingeborg") == Verdict.NO_RESPONSE
    answer = mail.last(INGE, "not_accepted")
    assert "/a/" in answer.text_body and "deiner Übersicht" in answer.text_body


def test_tampered_key_changes_nothing(mail: Mailbox) -> None:
    booking_id = request(mail)
    to_inge = mail.last(INGE, "request_submitted")
    local, _, domain = to_inge.reply_to.partition("@")
    key, _, sig = local.rpartition(".")
    tampered = f"{key}.{'a' if sig[0] != 'a' else 'b'}{sig[1:]}@{domain}"
    row = mail.reply(INGE, to_inge, "JA", to=tampered)
    assert (row.state, row.reason) == ("rejected", "bad_key")
    assert mail.booking(booking_id).verdict("ingeborg") == Verdict.NO_RESPONSE


def test_key_matched_by_address_alone_still_acts(mail: Mailbox) -> None:
    """Some clients drop In-Reply-To; the signed address is enough."""
    booking_id = request(mail)
    to_inge = mail.last(INGE, "request_submitted")
    row = mail.send(INGE, "JA", subject="Re: Anfrage", to=to_inge.reply_to)
    assert row.reason == "approved"
    assert mail.booking(booking_id).verdict("ingeborg") == Verdict.APPROVED


def test_dmarc_fail_for_the_from_domain_is_forged(mail: Mailbox) -> None:
    booking_id = request(mail)
    mail.trust_upstream()
    row = mail.reply(INGE, mail.last(INGE, "request_submitted"), "JA", source="pipe", headers={
        "Authentication-Results": f"{UPSTREAM}; spf=softfail smtp.mailfrom=example.org;"
                                  " dkim=none; dmarc=fail (p=none) header.from=example.org"})
    assert (row.state, row.reason) == ("rejected", "forged")
    assert mail.booking(booking_id).verdict("ingeborg") == Verdict.NO_RESPONSE
    assert "nicht bestätigen" in mail.last(INGE, "not_accepted").text_body


def test_dkim_fail_of_a_foreign_signature_is_not_forgery(mail: Mailbox) -> None:
    booking_id = request(mail)
    mail.trust_upstream()
    row = mail.reply(INGE, mail.last(INGE, "request_submitted"), "JA", source="pipe", headers={
        "Authentication-Results": f"{UPSTREAM}; dkim=fail header.d=lists.example.com;"
                                  " dkim=pass header.d=example.org; dmarc=pass header.from=example.org"})
    assert row.reason == "approved"
    assert mail.booking(booking_id).verdict("ingeborg") == Verdict.APPROVED


def test_forged_new_request_creates_nothing(mail: Mailbox) -> None:
    mail.trust_upstream()
    row = mail.send(ANNA, "Wir würden gern vom 3. bis 7. März 2027 zu viert kommen.\n\nLG Anna",
                    source="pipe",
                    headers={"Authentication-Results": f"{UPSTREAM}; dkim=fail header.d=example.net"})
    assert (row.state, row.reason) == ("rejected", "forged")
    assert row.booking_id is None
    assert mail.outbox(kind="request_submitted") == []


def test_approver_alias_and_address_case_are_accepted(mail: Mailbox, rt: Runtime,
                                                      tmp_path: Path) -> None:
    rules = (ROOT / "rules" / "house.toml").read_text(encoding="utf-8")
    rules = rules.replace('email = "ingeborg@example.org"\naliases = []',
                          'email = "ingeborg@example.org"\naliases = ["inge.privat@example.com"]')
    (tmp_path / "house.toml").write_text(rules, encoding="utf-8")
    rt.house = load_house(tmp_path / "house.toml")
    booking_id = request(mail)
    row = mail.reply("Inge.Privat@Example.COM", mail.last(INGE, "request_submitted"), "JA")
    assert row.reason == "approved", row.detail
    row = mail.reply("Cornelia@EXAMPLE.org", mail.last(CONNY, "request_submitted"), "JA")
    assert row.reason == "approved", row.detail
    booking = mail.booking(booking_id)
    assert booking.verdict("ingeborg") == booking.verdict("cornelia") == Verdict.APPROVED


def test_requester_thread_key_used_by_a_stranger_changes_nothing(mail: Mailbox) -> None:
    booking_id = request(mail)
    row = mail.reply(BERND, mail.last(ANNA, "request_received"), "STORNO")
    assert (row.state, row.reason) == ("rejected", "sender_mismatch")
    assert mail.booking(booking_id).state == State.PENDING
    assert mail.outbox(kind="booking_canceled") == []


def test_neutral_answers_are_limited_to_one_a_day(mail: Mailbox) -> None:
    request(mail)
    to_inge = mail.last(INGE, "request_submitted")
    mail.reply(BERND, to_inge, "JA")
    second = mail.reply(BERND, to_inge, "JA!!")
    assert second.reason == "sender_mismatch"
    assert len(mail.outbox(BERND)) == 1
