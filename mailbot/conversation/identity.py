"""Who may act through a reply: the signed key must be valid, the sender must be the
conversation's person (an approver's aliases count), and the receiving server's
Authentication-Results must not call the From domain forged."""

from __future__ import annotations

import re
from dataclasses import dataclass

from mailbot.conversation.threads import KeyState, Thread
from mailbot.core.model import Booking
from mailbot.runtime import Runtime
from mailbot.understand import Decoded

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


def _domain(address: str) -> str:
    return address.rpartition("@")[2].lower()


def forged(decoded: Decoded) -> bool:
    """The topmost Authentication-Results (our own receiving server's) says dmarc=fail, or
    dkim=fail for the From domain."""
    results = decoded.headers.get("Authentication-Results", "")
    if not results or not decoded.from_address:
        return False
    domain = _domain(decoded.from_address)
    for clause in results.split(";")[1:]:
        clause = clause.strip().lower()
        method = re.match(r"(dmarc|dkim)\s*=\s*(\w+)", clause)
        if not method or method.group(2) not in ("fail", "permerror"):
            continue
        named = re.search(r"header\.(?:from|d|i)\s*=\s*@?([\w.-]+)", clause)
        if named is None or named.group(1).rstrip(".") == domain:
            return True
    return False


def establish(rt: Runtime, decoded: Decoded, thread: Thread, booking: Booking | None) -> Identity:
    sender = (decoded.from_address or "").strip().lower()
    conversation = thread.conversation

    def untrusted(reason: str) -> Identity:
        return Identity(sender, False, reason, None, False)

    if forged(decoded):
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
    return Identity(sender, True, None, approver, requester)
