"""Which conversation a message belongs to: by its signed plus-address, by the Message-IDs
it answers (In-Reply-To/References), or both."""

from __future__ import annotations

import email
import email.utils
import re
from dataclasses import dataclass
from email.message import Message
from email.parser import BytesHeaderParser
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailbot.runtime import Runtime
from mailbot.store.tables import Conversation, OutboxMessage
from mailbot.understand import Decoded, mime
from mailbot.web import links

_RECIPIENT_HEADERS = ("To", "Cc", "Delivered-To", "X-Original-To", "Envelope-To")


class KeyState(StrEnum):
    VALID = "valid"  # a plus-address whose signature checks out and whose key exists
    BAD = "bad"  # a plus-address with a wrong signature or a key we never issued
    NONE = "none"  # no plus-address at all


@dataclass(frozen=True)
class Thread:
    conversation: Conversation | None  # by key if valid, else by In-Reply-To/References
    key: KeyState
    by_reference: bool  # the message answers one of our Message-IDs of this conversation
    decision_round: int | None = None  # the booking's round the valid key was sent in

    @property
    def keyed(self) -> bool:
        return self.key == KeyState.VALID


def _recipients(decoded: Decoded, raw: bytes | None) -> list[str]:
    found = list(decoded.to)
    message: Message | None = None
    if raw is not None:
        try:
            message = BytesHeaderParser().parsebytes(mime.header_block(raw))
        except Exception:
            message = None
    for name in _RECIPIENT_HEADERS:
        values = (message.get_all(name, []) if message is not None
                  else [decoded.headers.get(name, "")])
        for _, address in email.utils.getaddresses([str(v) for v in values if v]):
            if address:
                found.append(address.strip().lower())
    return found


def plus_keys(rt: Runtime, decoded: Decoded, raw: bytes | None = None
              ) -> tuple[list[tuple[str, int | None]], bool]:
    """(key, decision round) from `<local>+<key>[.<round>].<sig>@MAIL_DOMAIN` recipients with
    a valid signature, and whether any such address carried a bad one."""
    local = re.escape(rt.settings.booking_local_part.lower())
    domain = re.escape(rt.settings.mail_domain.lower())
    pattern = re.compile(rf"^{local}\+(?P<token>[^@]+)@{domain}$")
    valid: list[tuple[str, int | None]] = []
    bad = False
    for address in _recipients(decoded, raw):
        match = pattern.match(address)
        if not match:
            continue
        value = links.reply_value(rt, match.group("token"))
        if value is None:
            bad = True
        elif value not in valid:
            valid.append(value)
    return valid, bad


def _by_reference(session: Session, decoded: Decoded) -> Conversation | None:
    ids = [i for i in (decoded.in_reply_to, *reversed(decoded.references)) if i]
    if not ids:
        return None
    rows = session.execute(
        select(OutboxMessage.message_id, OutboxMessage.conversation_id)
        .where(OutboxMessage.message_id.in_(ids), OutboxMessage.conversation_id.is_not(None))).all()
    by_id = {message_id: conversation_id for message_id, conversation_id in rows}
    for message_id in ids:  # the message answered directly wins over older references
        if by_id.get(message_id) is not None:
            return session.get(Conversation, by_id[message_id])
    return None


def find_thread(rt: Runtime, session: Session, decoded: Decoded, raw: bytes | None = None
                ) -> Thread:
    keys, bad = plus_keys(rt, decoded, raw)
    referenced = _by_reference(session, decoded)
    for key, decision_round in keys:
        found = (referenced if referenced is not None and referenced.key == key else
                 session.scalars(select(Conversation).where(Conversation.key == key)).first())
        if found is not None:
            return Thread(found, KeyState.VALID,
                          referenced is not None and referenced.id == found.id, decision_round)
        bad = True  # signed by us but unknown (e.g. purged): no authority
    return Thread(referenced, KeyState.BAD if bad else KeyState.NONE, referenced is not None)
