"""Finding 8: From is parsed once, the same way for the admin log and the conversation; the
real address is the angle-addr, and a From that names several mailboxes is acted on by nobody."""

from __future__ import annotations

import pytest

from mailbot.runtime import Runtime
from tests.support.conversation import Mailbox

REQUEST = "Hallo, wir möchten vom 3. bis 7. August 2027 zu viert kommen.\n\nLG Mallory"


@pytest.fixture
def mail(rt: Runtime) -> Mailbox:
    return Mailbox(rt)


def raw(mail: Mailbox, sender: str) -> bytes:
    return mail.raw("placeholder@example.net", REQUEST).replace(
        b"From: placeholder@example.net", f"From: {sender}".encode())


@pytest.mark.parametrize("sender", [
    "Ingeborg <ingeborg@example.org>, Anna <anna@example.net>",
    "ingeborg@example.org, " + ", ".join(f"p{n}@example.net" for n in range(19)),
])
def test_finding8_a_from_with_several_mailboxes_is_not_acted_on(mail: Mailbox, sender: str) -> None:
    row = mail.deliver(raw(mail, sender))
    assert (row.state, row.reason) == ("rejected", "several_senders")
    assert mail.outbox() == []


def test_finding8_an_address_in_the_display_name_is_not_the_sender(mail: Mailbox) -> None:
    row = mail.deliver(raw(mail, "ingeborg@example.org <mallory@evil.example>"))
    assert row.from_address == "mallory@evil.example"  # what the admin log shows
    assert row.booking_id is not None
    booking = mail.booking(row.booking_id)
    assert booking.requester_email == "mallory@evil.example"  # whom the conversation answers
    assert booking.first_name == "Mallory"
    assert mail.outbox(to="ingeborg@example.org", kind="request_received") == []
    assert mail.outbox(to="mallory@evil.example")
