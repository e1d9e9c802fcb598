"""Mail that no person wrote to us: never answered, always recorded with a named reason.

Each reason is a value with a name (`reason`, what the admin log filters by and what
`mailbot parse` prints as `machine`) and a readable `detail` naming the evidence. Bounces
also carry the Message-IDs of the mail they return, so the worker can mark that outbox
message as bounced. Pure: no database; whether a Message-ID is ours is the caller's answer.
"""

from __future__ import annotations

import email
import re
from dataclasses import dataclass
from email.message import Message
from email.parser import HeaderParser
from typing import TYPE_CHECKING, Protocol

from .mime import header_block
from .vocabulary import vocabulary

if TYPE_CHECKING:
    from . import Decoded

# the reasons, as SPEC §8 names them
OWN = "own"
LOOP = "loop"
BOUNCE = "bounce"
COMPLAINT = "complaint"
AUTO_REPLY = "auto_reply"
LIST = "list"
NOREPLY = "noreply"
REASONS = (OWN, LOOP, BOUNCE, COMPLAINT, AUTO_REPLY, LIST, NOREPLY)

MAX_RECEIVED = 25  # more hops than this is a loop between mail systems
_DAEMONS = frozenset({"mailer-daemon", "mailerdaemon", "mail-daemon", "postmaster",
                      "post_master", "post-master", "mailer_daemon"})
_NOREPLY = re.compile(r"^(?:no[-_.]?reply|do[-_.]?not[-_.]?reply|donotreply|noreply[-_.+].*|"
                      r"no[-_.]reply[-_.+].*|bounces?(?:[-+].*)?|newsletter)$")
_LIST_HEADERS = ("List-Id", "List-Unsubscribe", "List-Subscribe", "List-Post", "List-Help",
                 "List-Owner", "List-Archive", "X-MLServer", "X-Mailing-List", "X-ML-Name",
                 "Mailing-List", "X-List")
_MESSAGE_ID = re.compile(r"<[^<>\s]+@[^<>\s]+>")
_SUPPRESS_ALL = re.compile(r"\b(?:all|oof|autoreply)\b", re.I)
_MESSAGE_ID_LINE = re.compile(r"^\s*message-id:\s*(<[^<>\s]+@[^<>\s]+>)", re.I | re.M)
_AUTO_SUBJECT = re.compile(
    r"^\s*(?:auto:|automatic\s+reply\b|autoreply\b|auto-reply\b|auto\s+response\b|"
    r"\[auto[\s-]*(?:generated|reply|response)\]|out\s+of\s+office\b|"
    r"(?:delivery|non-delivery)\s+(?:status\s+)?notification|undelivered\s+mail|"
    r"returned\s+mail\b|mail\s+delivery\s+(?:failed|failure|system)|failure\s+notice|"
    r"delivery\s+failure|warning:\s+could\s+not\s+send)", re.I)


_FORWARDED = re.compile(r"^\s*(?:fwd?|wg|tr)\s*:\s*(?:returned\s+mail|undeliver|"
                        r"mail\s+delivery|delivery\s+status|unzustellbar|nicht\s+zustellbar)", re.I)


class Ours(Protocol):
    """Where our own mail comes from (the settings)."""

    @property
    def booking_address(self) -> str: ...
    @property
    def mail_domain(self) -> str: ...


@dataclass(frozen=True)
class MachineMail:
    reason: str
    detail: str
    refers_to: tuple[str, ...] = ()  # bounces: Message-IDs of the returned mail
    diagnostic: str = ""  # bounces: what the receiving side said


def envelope_sender(value: str | None) -> str | None:
    """`<a@b>` → `a@b`, `<>` → `""` (the null sender of bounces), nothing → None."""
    if value is None:
        return None
    sender = value.strip()
    if sender.startswith("<"):
        sender = sender[1:].partition(">")[0].strip()
    return sender[:320]


def _is_ours(ours: Ours, address: str | None) -> bool:
    """The booking address or one of its plus-addresses."""
    if not address:
        return False
    local, _, domain = address.strip().lower().rpartition("@")
    booking_local, _, booking_domain = ours.booking_address.lower().partition("@")
    return (local.partition("+")[0] == booking_local
            and domain in {booking_domain, ours.mail_domain.lower()})


def _header(message: Message, name: str) -> str:
    try:
        return str(message.get(name, "") or "").strip()
    except Exception:  # a header the email package cannot make a string of
        return ""


class _Mail:
    """The message as the checks see it: its decoded headers at once, the email package's
    parse of the whole message only when a check needs the parts."""

    def __init__(self, raw: bytes, decoded: Decoded) -> None:
        self.raw = raw
        self.decoded = decoded
        self.headers = decoded.headers
        self._message: Message | None = None
        ctype = self.get("Content-Type").lower()
        self.content_type = ctype.split(";", 1)[0].strip()
        found = _REPORT_TYPE.search(ctype) if self.content_type == "multipart/report" else None
        self.report_type = (found.group(1) or found.group(2)) if found else ""

    def get(self, name: str) -> str:
        return (self.headers.get(name) or "").strip()

    def has(self, name: str) -> bool:
        return name in self.headers

    @property
    def message(self) -> Message:
        if self._message is None:
            try:
                self._message = email.message_from_bytes(self.raw)
            except RecursionError:  # multiparts nested deeper than the stdlib parser can walk
                self._message = HeaderParser().parsestr(
                    self.raw.decode("ascii", "surrogateescape"))
        return self._message

    def has_part(self, ctype: str) -> bool:
        """A part of this content type anywhere (a cheap look at the bytes first)."""
        if self.content_type == ctype:
            return True
        if not self.content_type.startswith("multipart/") or \
                ctype.encode() not in self.raw.lower():
            return False
        try:
            return any(part.get_content_type() == ctype for part in self.message.walk())
        except Exception:
            return False


_REPORT_TYPE = re.compile(r"""report-type\s*=\s*(?:"([^"]*)"|([^\s;]+))""")
_RECEIVED = re.compile(rb"^received:", re.I | re.M)


def classify(ours: Ours, raw: bytes, decoded: Decoded, known_own_id: bool = False,
             envelope_sender: str | None = None) -> MachineMail | None:
    """Why this message is not from a person, or None when it may be.

    `known_own_id`: the Message-ID is one we generated (looked up by the caller).
    `envelope_sender`: SMTP MAIL FROM or the Return-Path ("" for the null sender `<>`),
    None when unknown."""
    mail = _Mail(raw, decoded)
    return (_own(ours, mail, known_own_id)
            or _loop(mail)
            or _complaint(mail)
            or _bounce(mail, envelope_sender)
            or _auto_reply(mail)
            or _mailing_list(mail)
            or _noreply(decoded))


def _own(ours: Ours, mail: _Mail, known_own_id: bool) -> MachineMail | None:
    decoded = mail.decoded
    if _is_ours(ours, decoded.from_address):
        return MachineMail(OWN, f"From is our own address ({decoded.from_address})")
    correlation = mail.get("X-Mailbot-Correlation")
    if correlation:
        return MachineMail(OWN, f"carries our X-Mailbot-Correlation header ({correlation})")
    if known_own_id:
        return MachineMail(OWN, f"Message-ID {decoded.message_id} was generated by us")
    return None


def _loop(mail: _Mail) -> MachineMail | None:
    head = header_block(mail.raw)
    # each Received header starts a line: a header of fewer lines holds too few of them
    hops = len(_RECEIVED.findall(head)) if head.count(b"\n") >= MAX_RECEIVED else 0
    if hops > MAX_RECEIVED:
        return MachineMail(LOOP, f"{hops} Received headers (more than {MAX_RECEIVED}): "
                                 "the message is looping between mail systems")
    for name in ("X-Loop", "X-MS-Exchange-Inbox-Rules-Loop"):
        if mail.has(name):
            return MachineMail(LOOP, f"{name}: {mail.get(name)[:120]}")
    return None


def _complaint(mail: _Mail) -> MachineMail | None:
    if b"X-HmXmrOriginalRecipient:" in mail.raw:  # Microsoft's JMRP, no ARF
        return MachineMail(COMPLAINT, "spam complaint, Microsoft JMRP report")
    if mail.report_type == "feedback-report" or mail.has_part("message/feedback-report"):
        kind = ""
        for part in mail.message.walk():
            if part.get_content_type() == "message/feedback-report":
                found = re.search(r"^feedback-type:\s*(\S+)", _text(part), re.I | re.M)
                kind = f" ({found.group(1)})" if found else ""
        return MachineMail(COMPLAINT, f"spam complaint, ARF feedback report{kind}")
    return None


def _bounce(mail: _Mail, envelope_sender: str | None) -> MachineMail | None:
    decoded = mail.decoded
    sender = (decoded.from_address or "").split("@")[0]
    failed = mail.get("X-Failed-Recipients")
    if mail.report_type == "delivery-status" or mail.has_part("message/delivery-status"):
        evidence = "delivery status report (multipart/report; report-type=delivery-status)"
    elif envelope_sender == "":
        evidence = "empty envelope sender (MAIL FROM:<>)"
    elif sender in _DAEMONS:
        evidence = f"sent by {decoded.from_address}"
    elif failed:
        evidence = f"X-Failed-Recipients: {failed}"
    elif (envelope_sender or "").split("@")[0].lower() in _DAEMONS:
        evidence = f"envelope sender {envelope_sender}"
    elif _FORWARDED.match(decoded.subject or "") and "mailer-daemon" in decoded.text.lower():
        evidence = f"a forwarded bounce: {decoded.subject[:120]!r}"
    else:
        return None
    refers_to, diagnostic = _returned(mail.message, decoded)
    detail = evidence
    if diagnostic:
        detail += f"; {diagnostic}"
    return MachineMail(BOUNCE, detail, refers_to, diagnostic)


def _returned(message: Message, decoded: Decoded) -> tuple[tuple[str, ...], str]:
    """The Message-IDs of the mail a bounce returns, and what the receiving side said."""
    ids: list[str] = []
    diagnostics: list[str] = []
    for part in message.walk():
        kind = part.get_content_type()
        if kind == "message/delivery-status":
            for block in part.get_payload() or []:
                if isinstance(block, Message):
                    line = _status_line(block)
                    if line:
                        diagnostics.append(line)
        elif kind in ("message/rfc822", "message/global"):
            for inner in part.get_payload() or []:
                if isinstance(inner, Message):
                    ids.extend(_MESSAGE_ID.findall(_header(inner, "Message-ID")))
        elif kind in ("text/rfc822-headers", "text/plain") and part is not message:
            text = _text(part)
            if kind == "text/rfc822-headers":
                ids.extend(_MESSAGE_ID.findall(_header(HeaderParser().parsestr(text), "Message-ID")))
            ids.extend(_MESSAGE_ID_LINE.findall(text))
    if not message.is_multipart():
        ids.extend(_MESSAGE_ID_LINE.findall(_text(message)))
    if decoded.in_reply_to:
        ids.append(decoded.in_reply_to)
    ids.extend(decoded.references)
    unique = tuple(dict.fromkeys(i for i in ids if i != decoded.message_id))
    return unique, "; ".join(dict.fromkeys(diagnostics))


def _status_line(block: Message) -> str:
    recipient = _header(block, "Final-Recipient") or _header(block, "Original-Recipient")
    action = _header(block, "Action").lower()
    if not recipient or action not in ("failed", "delayed", ""):
        return ""
    status = _header(block, "Status")
    code = re.sub(r"\s+", " ", _header(block, "Diagnostic-Code"))
    recipient = recipient.split(";", 1)[-1].strip()
    return " ".join(p for p in (recipient, action or "failed", status, f"({code})" if code else "") if p)


def _text(part: Message) -> str:
    try:
        payload = part.get_payload(decode=True)
        if isinstance(payload, bytes):
            return payload.decode(part.get_content_charset() or "utf-8", "replace")
    except (LookupError, ValueError, AssertionError):
        pass
    raw = part.get_payload()
    return raw if isinstance(raw, str) else ""


def _auto_reply(mail: _Mail) -> MachineMail | None:
    auto = mail.get("Auto-Submitted")
    if auto and auto.lower() != "no":
        return MachineMail(AUTO_REPLY, f"Auto-Submitted: {auto}")
    for name in ("X-Autoreply", "X-Autorespond", "X-Autoresponse", "X-Autogenerated"):
        if mail.has(name):
            return MachineMail(AUTO_REPLY, f"{name}: {mail.get(name)[:120]}")
    # Exchange marks its automatic answers "All" (or OOF, AutoReply); a person's Outlook mail
    # may only suppress receipts ("DR, RN")
    suppress = mail.get("X-Auto-Response-Suppress")
    if _SUPPRESS_ALL.search(suppress):
        return MachineMail(AUTO_REPLY, f"X-Auto-Response-Suppress: {suppress[:120]}")
    if mail.report_type == "disposition-notification" or \
            mail.has_part("message/disposition-notification"):
        return MachineMail(AUTO_REPLY, "read receipt (report-type=disposition-notification)")
    if mail.get("Precedence").lower() == "auto_reply":
        return MachineMail(AUTO_REPLY, "Precedence: auto_reply")
    subject = mail.decoded.subject or ""
    if vocabulary().auto_subject.match(subject) or _AUTO_SUBJECT.match(subject):
        return MachineMail(AUTO_REPLY, f"subject of an automatic answer: {subject[:120]!r}")
    return None


def _mailing_list(mail: _Mail) -> MachineMail | None:
    for name in _LIST_HEADERS:
        if mail.has(name):
            return MachineMail(LIST, f"{name}: {mail.get(name)[:120]}")
    precedence = mail.get("Precedence").lower()
    if precedence in ("list", "bulk", "junk"):
        return MachineMail(LIST, f"Precedence: {precedence}")
    return None


def _noreply(decoded: Decoded) -> MachineMail | None:
    local = (decoded.from_address or "").split("@")[0]
    if _NOREPLY.match(local):
        return MachineMail(NOREPLY, f"sent from an address nobody reads ({decoded.from_address})")
    return None
