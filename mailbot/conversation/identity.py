"""Who may act through a reply: the signed key must be valid, the sender must be the
conversation's person (an approver's aliases count), and the authentication of the From
address (our SMTP server's check, or the trusted upstream's) must not call it forged."""

from __future__ import annotations

from dataclasses import dataclass

from mailbot.conversation.threads import KeyState, Thread
from mailbot.core.model import Booking
from mailbot.runtime import Runtime
from mailbot.store.tables import InboxMessage
from mailbot.understand import Decoded, authenticity
from mailbot.understand.authenticity import Authenticity

# A named reason not to trust a message; each has an answer in answers.py.
SENDER_MISMATCH = "sender_mismatch"
BAD_KEY = "bad_key"
NO_KEY = "no_key"
FORGED = "forged"


@dataclass(frozen=True)
class Identity:
    sender: str  # the From address, lower case
    trusted: bool  # may act in the thread's conversation
    reason: str | None  # why not, when not trusted
    approver: str | None  # approver key the sender acts as in this thread
    requester: bool  # the sender is the requester of the thread's booking
    authenticated: bool = False  # the From address is authenticated (DMARC, aligned DKIM)


def verdict(rt: Runtime, message: InboxMessage, decoded: Decoded) -> Authenticity:
    """Whether the From address is authenticated (SPEC §5 "Authentic"), or forged."""
    return authenticity.assess(message.source, message.authentication_results,
                               decoded.authentication_results, decoded.from_address,
                               rt.settings.trusted_authserv_id)


def establish(rt: Runtime, message: InboxMessage, decoded: Decoded, thread: Thread,
              booking: Booking | None) -> Identity:
    sender = (decoded.from_address or "").strip().lower()
    conversation = thread.conversation
    checked = verdict(rt, message, decoded)

    def untrusted(reason: str) -> Identity:
        return Identity(sender, False, reason, None, False, checked.authenticated)

    if checked.forged:
        return untrusted(FORGED)
    if conversation is None:
        return untrusted(BAD_KEY if thread.key == KeyState.BAD else NO_KEY)
    if not thread.keyed:
        return untrusted(BAD_KEY if thread.key == KeyState.BAD else NO_KEY)
    approver = None
    if conversation.approver:
        try:
            owner = rt.house.approver(conversation.approver)
        except KeyError:
            owner = None
        if owner is not None and owner.owns(sender):
            approver = owner.key
    is_participant = sender == conversation.participant.strip().lower()
    if approver is None and not is_participant:
        return untrusted(SENDER_MISMATCH)
    requester = booking is not None and booking.requester_email == sender and is_participant
    if requester and approver is None:
        # an approver's own request: the reply key proves her mailbox, so her JA in the
        # requester thread counts as her approval (BR-015 for mail that was not authenticated)
        own = rt.house.approver_for_address(sender)
        approver = own.key if own is not None else None
    return Identity(sender, True, None, approver, requester, checked.authenticated)
