"""One turn of the conversation: the message being handled and how its outcome is written.

Every handler gets a `Turn`. It answers the sender (`say`, `rejected`, `help`,
`not_accepted`) and ends with `finish`, which records on the inbox row the state
(processed | rejected | ignored), a named reason and the story the admin reads.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from mailbot.conversation import answers
from mailbot.conversation.identity import Identity
from mailbot.conversation.threads import Thread
from mailbot.core import rejections as rj
from mailbot.core.model import Booking
from mailbot.outbound import outbox
from mailbot.outbound.render import date_range
from mailbot.runtime import Cause, Runtime
from mailbot.store.tables import Conversation, InboxMessage
from mailbot.understand import Decoded, Interpretation, dates, intent, people
from mailbot.understand.vocabulary import Vocabulary, vocabulary

PROCESSED, REJECTED, IGNORED = "processed", "rejected", "ignored"
DATE_REJECTIONS = (rj.Conflict, rj.StartInPast, rj.EndBeforeStart, rj.BeyondHorizon)
# a sentence ends at . ! ? before a capital, but not at a day's dot ("vom 3. bis 8. August")
_SENTENCE_END = re.compile(r"(?<=[.!?])(?<![0-9]\.)\s+(?=[A-ZÄÖÜ])")
_LINK = re.compile(r"(?:https?://|www\.|mailto:)\S*", re.IGNORECASE)


def iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def day(value: Any) -> date | None:
    return date.fromisoformat(value) if isinstance(value, str) and value else None


def describe(it: Interpretation) -> str:
    parts = [it.intent]
    if it.start and it.end:
        parts.append(date_range(it.start, it.end))
    elif it.start or it.end:
        parts.append(f"{iso(it.start) or '?'}–{iso(it.end) or '?'}")
    if it.vague:
        parts.append(f'vague "{it.vague}"')
    if it.party_size is not None:
        parts.append(f"{it.party_size} Personen")
    if it.first_name:
        parts.append(it.first_name)
    if it.comment:
        parts.append(f'reason "{it.comment[:80]}"')
    return ", ".join(parts)


def _states_the_stay(sentence: str, today: date, vocab: Vocabulary) -> bool:
    stay = dates.find_stay(sentence, today, vocab, partial=True)
    return stay.found or stay.vague is not None or people.party_size(sentence, vocab) is not None


MAX_DESCRIPTION_SENTENCES = 200


@dataclass
class Turn:
    rt: Runtime
    session: Session
    message: InboxMessage
    decoded: Decoded
    it: Interpretation
    cause: Cause
    sender: str = ""
    thread: Thread | None = None
    identity: Identity | None = None
    story: list[str] = field(default_factory=list)
    conversation_id: int | None = None  # written to the message with the outcome
    booking_id: int | None = None
    in_loop: bool = False  # replies to a chain of our answers that changed nothing: say nothing

    @property
    def authentic(self) -> bool:
        """The sender's authority is proven (SPEC §5 "Authentic"): an authenticated From, or
        a valid reply key with the matching sender."""
        return self.identity is not None and (self.identity.authenticated or self.identity.trusted)

    @property
    def decision_round(self) -> int | None:
        """The booking's decision round the reply key was sent in (None: not named)."""
        return self.thread.decision_round if self.thread is not None else None

    # ── the outcome ─────────────────────────────────────────────────────────────────────

    def finish(self, state: str, reason: str, note: str | None = None) -> None:
        if note:
            self.story.append(note)
        self.story.append(f"→ {state}: {reason}")
        self.message.state = state
        self.message.reason = reason
        self.message.detail = "\n".join(self.story)

    def say(self, kind: str, context: dict[str, Any] | None = None, *,
            conversation: Conversation | None = None, booking_id: int | None = None,
            matter: str | None = None) -> bool:
        """Queue one answer to the sender. Rejections and help go out once a day per
        sender, kind and matter (loop safety); beyond that they are only recorded."""
        if self.in_loop:
            self.story.append(f"answer {kind} not sent: the sender is in a loop of our answers")
            return False
        if answers.limited(kind):
            key = f"{kind}:{self.sender}" + (f":{matter}" if matter else "")
            if answers.answered_today(self.rt, self.session, key):
                self.story.append(f"answer {kind} not sent: already answered today ({key})")
                return False
            answers.record_answer(self.rt, self.session, key)
        if not answers.recipient_allowed(self.rt, self.session, self.sender):
            self.story.append(f"answer {kind} not sent: {self.sender} had "
                              f"{self.rt.house.limits.answers_per_recipient_per_day} answers today")
            return False
        full = {"retry": None, "requested_start": None, "requested_end": None, **(context or {})}
        row = outbox.queue(self.rt, self.session, kind, self.sender, full, self.cause,
                           booking_id=booking_id, conversation=conversation,
                           in_reply_to=self.decoded.message_id,
                           references=self.decoded.references)
        self.story.append(f"queued {kind} to {self.sender} (outbox #{row.id})")
        return True

    def repeat_allowed(self, conversation: Conversation) -> bool:
        """A question repeated because the reply taught nothing goes out once a day per
        thread (it counts as help: a loop cannot keep it going)."""
        key = f"question_repeat:{self.sender}:thread{conversation.id}"
        if answers.answered_today(self.rt, self.session, key):
            return False
        answers.record_answer(self.rt, self.session, key)
        return True

    # ── not acting ──────────────────────────────────────────────────────────────────────

    def not_accepted(self, why: str) -> None:
        """Neutral answer: nothing changed. Approvers get their overview link to act there."""
        self.say("not_accepted", {"why": why}, matter=why)
        self.finish(REJECTED, why)

    def help(self, conversation: Conversation | None = None, booking: Booking | None = None,
             topic: str = "general") -> None:
        matter = f"thread{conversation.id}" if conversation is not None else None
        example = answers.example_stay(self.rt, self.session, None)
        self.say("help", {"topic": topic, "example": example}, conversation=conversation,
                 booking_id=booking.id if booking is not None else None, matter=matter)
        self.finish(IGNORED, "unknown_intent" if topic == "general" else topic)

    def rejected(self, rejection: rj.Rejection, conversation: Conversation | None,
                 booking: Booking | None, retry: str | None = None,
                 extra: dict[str, Any] | None = None) -> None:
        kind, context = answers.for_rejection(self.rt, rejection)
        context.update(extra or {})
        context["retry"] = retry
        if "free" not in context:
            # examples fit the request and are free: the nearest stays of the same length
            wanted = isinstance(rejection, DATE_REJECTIONS) and context.get("requested_start")
            context["free"] = answers.free_near(
                self.rt, self.session, context["requested_start"], context["requested_end"],
                booking.id if booking is not None else None) if wanted else []
        matter = f"booking{booking.id}" if booking is not None else None
        if isinstance(rejection, DATE_REJECTIONS) and context.get("requested_start"):
            matter = f"{context['requested_start']}:{context['requested_end']}"
        self.say(kind, context, conversation=conversation,
                 booking_id=booking.id if booking is not None else None, matter=matter)
        self.finish(REJECTED, rejection.code, f"rule said no: {rejection!r}")

    # ── what the person wrote ──────────────────────────────────────────────────────────

    def spoken(self) -> str:
        """What the person said: the reply without opening ("Hallo,") and closing."""
        vocab = vocabulary()
        text = intent.strip_opening(self.it.reply_text or "", vocab)
        _, at = people.closing_name(text, vocab)
        lines = text.split("\n")
        return ("\n".join(lines[:at]) if at is not None else text).strip()

    def description(self) -> str:
        """The person's own words about the stay: without greeting and closing, without the
        sentences that state the dates or the party size (the booking shows those, and they
        may change later); BR-020: links removed, at most max_text_length characters."""
        vocab, today = vocabulary(), self.rt.today()
        limit = self.rt.house.limits.max_text_length
        kept: list[str] = []
        size = looked_at = 0
        for line in self.spoken().split("\n"):
            # enough to fill the limit, or enough sentences looked at (each costs a date search)
            if size > limit or looked_at > MAX_DESCRIPTION_SENTENCES:
                break
            sentences = [s for s in _SENTENCE_END.split(line) if s.strip()]
            looked_at += len(sentences)
            kept.append(" ".join(s.strip() for s in sentences
                                 if not _states_the_stay(s, today, vocab)))
            size += len(kept[-1]) + 1
        text = _LINK.sub("[Link entfernt]", "\n".join(kept))
        text = re.sub(r"\n{3,}", "\n\n", text).strip()
        return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"

    def draft_thread(self) -> Conversation:
        """The sender's conversation about no booking yet (a request being completed)."""
        return outbox.thread_for(self.rt, self.session, self.sender, "requester")

    def booking_thread(self, booking: Booking) -> Conversation:
        assert booking.id is not None
        return outbox.thread_for(self.rt, self.session, self.sender, "requester", booking.id)
