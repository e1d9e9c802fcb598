"""Understanding an incoming German email: decode, strip quotes, find intent, dates, people.

Pure functions, no database, no network: `decode(raw)` turns bytes into a `Decoded` message,
`interpret(decoded, today)` turns that into an `Interpretation`, and `parse_message` does both.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import cache

from . import dates, intent, machine, mime, party, people, quotes
from .vocabulary import fold, vocabulary

__all__ = ["Decoded", "Interpretation", "decode", "interpret", "parse_message"]


@dataclass(frozen=True)
class Decoded:
    message_id: str | None
    in_reply_to: str | None
    references: tuple[str, ...]
    from_address: str | None
    from_name: str | None
    to: tuple[str, ...]
    subject: str
    date: str | None
    text: str
    headers: Mapping[str, str] = field(default_factory=lambda: mime.Headers([]))
    senders: int = 1  # mailboxes named in From: more than one is acted on by nobody
    authentication_results: tuple[str, ...] = ()  # every such header, topmost first


@dataclass(frozen=True)
class Interpretation:
    intent: str
    start: date | None
    end: date | None
    party_size: int | None
    first_name: str | None
    comment: str | None
    vague: str | None = None
    reply_text: str = ""
    removed_text: str = ""
    # the fields (of intent, start, end, party_size, first_name) the service should ask about
    # instead of acting on the best reading above; empty when the reading is sure
    ask: tuple[str, ...] = ()
    machine: str | None = None  # why no person wrote it (machine.REASONS); intent is unknown

    def as_json(self) -> dict[str, object]:
        return {
            "intent": self.intent,
            "start": self.start.isoformat() if self.start else None,
            "end": self.end.isoformat() if self.end else None,
            "party_size": self.party_size,
            "first_name": self.first_name,
            "comment": self.comment,
            "reply": self.reply_text,
            "machine": self.machine,
            "ask": list(self.ask),
        }


def _empty_decoded() -> Decoded:
    return Decoded(None, None, (), None, None, (), "", None, "", mime.Headers([]))


def decode(raw: bytes) -> Decoded:
    """The message as received, decoded; never raises (garbage gives empty fields)."""
    if b"\n" not in raw and b"\r" in raw:  # old Mac line ends: CR alone
        raw = raw.replace(b"\r", b"\n")
    try:
        top = mime.split_part(raw)
        headers = mime.Headers.of_part(top)
        try:
            bodies = mime.fast_text(top)
        except Exception:
            bodies = None
        text = (mime.join_bodies(*bodies) if bodies is not None
                else mime.body_text(mime.parse_bytes(raw)))
    except Exception:
        return _empty_decoded()
    from_name, from_address = mime.split_from(headers.get("From", ""))
    named = [(name.lower(), value) for name, value in top.headers]
    message_id = mime.message_ids(headers.get("Message-ID", ""))
    in_reply_to = mime.message_ids(headers.get("In-Reply-To", ""))
    return Decoded(
        message_id=message_id[0] if message_id else (headers.get("Message-ID") or None),
        in_reply_to=in_reply_to[0] if in_reply_to else None,
        references=mime.message_ids(headers.get("References", "")),
        from_address=from_address,
        from_name=from_name,
        to=mime.address_list(headers.get("To", "")),
        subject=headers.get("Subject", ""),
        date=headers.get("Date") or None,
        text=text,
        headers=headers,
        senders=_senders([value for name, value in named if name == "from"], from_address),
        authentication_results=tuple(value for name, value in named
                                     if name == "authentication-results"),
    )


def _senders(froms: list[str], from_address: str | None) -> int:
    """How many mailboxes From names. One From with at most one "@" names its address or none:
    the email package's full address parser (a quarter of a millisecond) is needed only when
    there is more to tell apart."""
    if len(froms) > 1 or any(value.count("@") > 1 for value in froms):
        return mime.mailboxes(froms)
    return 1 if from_address else 0


# SPEC §5 "Bounded": understanding reads at most this much of a message's text, so any
# message costs well under a second; a person's mail is a few hundred characters. A single
# line counts with its start only (a quote marker repeated for 700 KB hides no reply).
MAX_TEXT_CHARS = 64 * 1024
MAX_LINE_CHARS = 4_000


def first_text(text: str) -> str:
    """The part of `text` that understanding reads: lines cut at `MAX_LINE_CHARS`, in all at
    most `MAX_TEXT_CHARS`. Looks at no more of `text` than it keeps (but for long lines)."""
    if len(text) <= MAX_LINE_CHARS:  # a person's mail: no line to cut, nothing over the limit
        return text
    lines: list[str] = []
    size = at = 0
    while at <= len(text) and size < MAX_TEXT_CHARS:
        end = text.find("\n", at)
        end = len(text) if end < 0 else end
        line = text[at:min(end, at + MAX_LINE_CHARS)]
        lines.append(line)
        size += len(line) + 1
        at = end + 1
    return "\n".join(lines)[:MAX_TEXT_CHARS]


def interpret(decoded: Decoded, today: date) -> Interpretation:
    """What the sender wants, as of `today`, from the `first_text` of the message."""
    vocab = vocabulary()
    reply = quotes.split_reply(first_text(decoded.text), vocab)
    subject = decoded.subject or ""
    is_reply = bool(vocab.reply_prefix.match(subject))
    own_subject = "" if is_reply else subject
    spoken = intent.strip_opening(reply.text, vocab)
    closing_name, closing_at = people.closing_name(spoken, vocab)
    lines = spoken.split("\n")
    said = "\n".join(lines[:closing_at]) if closing_at is not None else spoken
    existing = is_reply and bool(vocab.existing_thread.search(fold(subject)))
    around: tuple[date, date] | None = None
    if existing:
        # our subjects carry the booking's dates; a booking that is over cannot be edited
        booked = dates.subject_stay(vocab.reply_prefix.sub("", subject), today, vocab)
        existing = not (booked.end is not None and booked.end < today)
        if booked.start is not None and booked.end is not None:
            around = (booked.start, booked.end)
    body = intent.Body(said.strip(), own_subject, existing,
                       is_reply and bool(vocab.approver_thread.search(fold(subject))))

    date_text = f"{said}\n\n{own_subject}"  # the subject: a paragraph of its own
    stays: list[dates.Stay] = []  # each reader runs at most once, and only when needed
    sizes: list[int | None] = []

    def stay_() -> dates.Stay:
        if not stays:
            stays.append(dates.find_stay(date_text, today, vocab))
        return stays[0]

    def size_() -> int | None:
        if not sizes:
            sizes.append(people.party_size(date_text, vocab))
        return sizes[0]

    def facts() -> intent.Facts:
        stay = stay_()
        return intent.Facts(stay.found, size_() is not None, stay.vague is not None, stay.single)

    ask: list[str] = []
    if intent.is_thanks(said if said.strip() else _without_name(spoken, closing_name), vocab):
        kind = "thanks"
        # asked to decide, "Super, danke!" is a yes or only thanks: the yes, asked back
        if body.approver_thread and vocab.intents_at_start["approve"].match(fold(body.text)):
            kind = "approve"
            ask.append("intent")
    else:
        kind = intent.classify(body, vocab, facts)
    if kind in ("unknown", "request", "edit") and \
            (decided := intent.decision_inside(body, vocab)) is not None:
        kind = decided[0]  # "… Von mir aus gerne, ja. …"; "… Aber gut, ja." is asked back
        if decided[1]:
            ask.append("intent")
    if kind == "approve" and "intent" not in ask and intent.contradicts(body.text, vocab):
        kind = "deny"  # the no came last; but the answer said both: ask back
        ask.append("intent")
    if "intent" not in ask and intent.out_of_place(kind, body, vocab):
        ask.append("intent")
    # Dates belong to request, edit, cancel, reopen and status; a party size to request and
    # edit. An approver's "Ja" or a link request never needs the date search.
    stay = dates.Stay()
    if kind == "edit":
        stay = dates.find_stay(date_text, today, vocab, newest=True, partial=True,
                               around=around)
    elif kind in ("request", "cancel", "reopen", "status"):
        stay = stay_()
    if stay.unsure:
        ask += ["start", "end"]
    size = size_() if kind in ("request", "edit") else None
    writer = closing_name or people.name_from_display(decoded.from_name, vocab)
    if size is not None and people.count_unsure(date_text, vocab, writer, size):
        ask.append("party_size")
    if kind in ("request", "edit") and (other := party.second_reading(date_text, size, vocab)):
        size = other.size if size is None else size  # the people named, added up: asked
        if "party_size" not in ask:
            ask.append("party_size")
    first_name = writer if kind != "unknown" else None
    if kind == "request" and first_name is not None and first_name == closing_name and \
            people.unlike_display(first_name, decoded.from_name, vocab):  # the booking's name
        ask.append("first_name")
    return Interpretation(
        intent=kind,
        start=stay.start,
        end=stay.end,
        party_size=size,
        first_name=first_name,
        comment=None if "intent" in ask else intent.reason(body, kind, vocab),
        vague=stay.vague,
        reply_text=reply.text,
        removed_text=reply.removed,
        ask=tuple(ask),
    )


def _without_name(text: str, name: str | None) -> str:
    """`text` without the signed name, so that "Danke schön!\nHans" (or "…\nHans & Uta") is
    only thanks."""
    if not name:
        return text
    return re.sub(rf"(?<!\w){re.escape(name)}(?:\s*(?:&|und|\+)\s*[A-ZÄÖÜ][a-zäöüß]+)?(?!\w)",
                  " ", text)


def parse_message(raw: bytes, today: date, ours: machine.Ours | None = None,
                  envelope_sender: str | None = None) -> Interpretation:
    """The whole way from bytes to an interpretation, as the inbox worker goes it: machine
    mail is set aside (intent `unknown`, `machine` the reason), the rest interpreted.
    `ours`: the settings (default: the defaults); `envelope_sender`: MAIL FROM or the
    Return-Path ("" for `<>`), by default the message's own Return-Path header."""
    decoded = decode(raw)
    if envelope_sender is None and "Return-Path" in decoded.headers:
        envelope_sender = machine.envelope_sender(decoded.headers["Return-Path"])
    found = machine.classify(ours or _defaults(), raw, decoded, envelope_sender=envelope_sender)
    if found is not None:
        reply = quotes.split_reply(decoded.text, vocabulary())
        return Interpretation("unknown", None, None, None, None, None, None, reply.text,
                              reply.removed, machine=found.reason)
    return interpret(decoded, today)


@cache  # the default settings are constants (frozen): built once, not per message
def _defaults() -> machine.Ours:
    from mailbot.config import Settings

    return Settings()
