"""One understood message, in its thread, becomes an action, a question or an answer.

`handle` runs inside the inbox worker's transaction. Whatever it decides is written on
the inbox row: `state` (processed | rejected | ignored), a named `reason`, and a `detail`
that tells the admin the story: understood as → thread and sender → rule decision → mails.
Every reason not to act is named and answered (or, past the daily limit, only recorded).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailbot import actions
from mailbot.conversation import answers
from mailbot.conversation.identity import (
    BAD_KEY,
    FORGED,
    NO_KEY,
    SENDER_MISMATCH,
    Identity,
    establish,
)
from mailbot.conversation.threads import KeyState, Thread, find_thread
from mailbot.core import booking as rules
from mailbot.core import events as ev
from mailbot.core import rejections as rj
from mailbot.core.model import Booking, State
from mailbot.outbound import outbox
from mailbot.outbound.render import date_range
from mailbot.runtime import Cause, Runtime
from mailbot.store import queries
from mailbot.store.tables import Conversation, InboxMessage, OutboxMessage, Person
from mailbot.understand import Decoded, Interpretation, dates, intent, people
from mailbot.understand.vocabulary import vocabulary
from mailbot.web import links

PROCESSED, REJECTED, IGNORED = "processed", "rejected", "ignored"
FIELDS = ("dates", "party_size", "first_name")
_LINK = re.compile(r"(?:https?://|www\.|mailto:)\S*", re.IGNORECASE)
_BARE_NUMBER = re.compile(r"^\D{0,12}?(\d{1,2})\D{0,20}$")
_DATE_REJECTIONS = (rj.Conflict, rj.StartInPast, rj.EndBeforeStart, rj.BeyondHorizon)


def handle(rt: Runtime, session: Session, message: InboxMessage, decoded: Decoded,
           interpretation: Interpretation, cause: Cause) -> None:
    """Decide what `message` means in its thread and act, ask or answer; record why."""
    _Turn(rt, session, message, decoded, interpretation, cause).run()


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _day(value: Any) -> date | None:
    return date.fromisoformat(value) if isinstance(value, str) and value else None


def describe(it: Interpretation) -> str:
    parts = [it.intent]
    if it.start and it.end:
        parts.append(date_range(it.start, it.end))
    elif it.start or it.end:
        parts.append(f"{_iso(it.start) or '?'}–{_iso(it.end) or '?'}")
    if it.vague:
        parts.append(f'vague "{it.vague}"')
    if it.party_size is not None:
        parts.append(f"{it.party_size} Personen")
    if it.first_name:
        parts.append(it.first_name)
    if it.comment:
        parts.append(f'reason "{it.comment[:80]}"')
    return ", ".join(parts)


def _greeting(context: dict[str, Any], draft: dict[str, Any]) -> dict[str, Any]:
    """Greet by the first name a request gave, before the person is known to the store."""
    if draft.get("first_name"):
        return {**context, "recipient_name": draft["first_name"]}
    return context


@dataclass
class _Turn:
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
        if answers.limited(kind):
            key = f"{kind}:{self.sender}" + (f":{matter}" if matter else "")
            if answers.answered_today(self.rt, self.session, key):
                self.story.append(f"answer {kind} not sent: already answered today ({key})")
                return False
            answers.record_answer(self.rt, self.session, key)
        full = {"retry": None, "requested_start": None, "requested_end": None, **(context or {})}
        row = outbox.queue(self.rt, self.session, kind, self.sender, full, self.cause,
                           booking_id=booking_id, conversation=conversation,
                           in_reply_to=self.decoded.message_id,
                           references=self.decoded.references)
        self.story.append(f"queued {kind} to {self.sender} (outbox #{row.id})")
        return True

    # ── entry ───────────────────────────────────────────────────────────────────────────

    def run(self) -> None:
        self._act()
        # set last: the message row is written once, not on every query in between
        self.message.conversation_id = self.conversation_id
        self.message.booking_id = self.booking_id

    def _act(self) -> None:
        it = self.it
        self.story.append(f"understood as: {describe(it)}")
        self.sender = (self.decoded.from_address or "").strip().lower()
        if not self.sender or "@" not in self.sender:
            self.finish(IGNORED, "no_sender", "no From address to answer")
            return
        thread = self.thread = find_thread(self.rt, self.session, self.decoded, self.message.raw)
        conversation = thread.conversation
        booking = None
        if conversation is not None:
            self.conversation_id = conversation.id
            if conversation.booking_id is not None:
                booking = self.read_booking(conversation)
        identity = self.identity = establish(self.rt, self.decoded, thread, booking)
        self.story.append(self._thread_story(thread, booking, identity))

        if identity.reason == FORGED:
            self.not_accepted(FORGED)
        elif identity.trusted:
            assert conversation is not None
            if booking is not None:
                self.in_booking(conversation, booking)
            elif conversation.awaiting:
                self.continue_draft(conversation)
            else:
                self.new_message()
        elif identity.reason == SENDER_MISMATCH:
            self.not_accepted(SENDER_MISMATCH)
        elif (conversation is not None and booking is None and conversation.awaiting
              and thread.key == KeyState.NONE and conversation.participant == self.sender):
            # An unfinished request carries no authority beyond a new mail from the same
            # address, so a reply matched by In-Reply-To alone may complete it.
            self.story.append("unfinished request matched by In-Reply-To")
            self.continue_draft(conversation)
        elif identity.reason == BAD_KEY:
            self.not_accepted(BAD_KEY)
        else:
            self.new_message()

    def read_booking(self, conversation: Conversation) -> Booking | None:
        """The thread's booking, locked at this first read so it stays as read until the
        action (BR-024). A message that may change dates takes the date lock first (BR-029):
        dates, then booking, always in that order, so two writers never wait on each other."""
        assert conversation.booking_id is not None
        if self.it.intent in ("edit", "reopen", "request") or conversation.awaiting == "edit":
            self.rt.store.lock_dates(self.session)
        return queries.booking(self.session, conversation.booking_id, lock=True)

    def _thread_story(self, thread: Thread, booking: Booking | None, identity: Identity) -> str:
        conversation = thread.conversation
        if conversation is None:
            where = "no thread" if thread.key == KeyState.NONE else "reply key not valid"
        else:
            where = (f"conversation #{conversation.id} ({conversation.role}, key {thread.key}"
                     f"{', by In-Reply-To' if thread.by_reference else ''})")
            if booking is not None:
                where += f", booking #{booking.id} {booking.state.value}"
            if conversation.awaiting:
                where += f", awaiting {conversation.awaiting}"
        who = ("sender trusted" + (f" as approver {identity.approver}" if identity.approver else "")
               + (" as requester" if identity.requester else "")) if identity.trusted \
            else f"sender not trusted ({identity.reason})"
        return f"thread: {where}; {who}"

    # ── not acting ──────────────────────────────────────────────────────────────────────

    def not_accepted(self, why: str) -> None:
        """Neutral answer: nothing changed. Approvers get their overview link to act there."""
        self.say("not_accepted", {"why": why}, matter=why)
        self.finish(REJECTED, why)

    def help(self, conversation: Conversation | None = None, booking: Booking | None = None,
             topic: str = "general") -> None:
        matter = f"thread{conversation.id}" if conversation is not None else None
        self.say("help", {"topic": topic}, conversation=conversation,
                 booking_id=booking.id if booking is not None else None, matter=matter)
        self.finish(IGNORED, "unknown_intent" if topic == "general" else topic)

    def rejected(self, rejection: rj.Rejection, conversation: Conversation | None,
                 booking: Booking | None, retry: str | None = None,
                 extra: dict[str, Any] | None = None) -> None:
        kind, context = answers.for_rejection(self.rt, rejection)
        context.update(extra or {})
        context["retry"] = retry
        matter = f"booking{booking.id}" if booking is not None else None
        if isinstance(rejection, _DATE_REJECTIONS) and context.get("requested_start"):
            matter = f"{context['requested_start']}:{context['requested_end']}"
        self.say(kind, context, conversation=conversation,
                 booking_id=booking.id if booking is not None else None, matter=matter)
        self.finish(REJECTED, rejection.code, f"rule said no: {rejection!r}")

    # ── messages without a (usable) thread ─────────────────────────────────────────────

    def new_message(self) -> None:
        kind = self.it.intent
        if kind == "request":
            self.new_request()
        elif kind == "status":
            self.status_by_address()
        elif kind == "recover_link":
            self.recover_link()
        elif kind == "cancel":
            self.cancel_by_address()
        elif kind in ("edit", "reopen"):
            self.use_thread(kind)
        elif kind in ("approve", "deny") and self.rt.house.approver_for_address(self.sender):
            assert self.identity is not None
            self.not_accepted(self.identity.reason or NO_KEY)
        else:
            self.help()

    def spoken(self) -> str:
        """What the person said: the reply without opening ("Hallo,") and closing."""
        vocab = vocabulary()
        text = intent.strip_opening(self.it.reply_text or "", vocab)
        _, at = people.closing_name(text, vocab)
        lines = text.split("\n")
        return ("\n".join(lines[:at]) if at is not None else text).strip()

    def description(self) -> str:
        """BR-020: links removed, at most max_text_length characters."""
        text = _LINK.sub("[Link entfernt]", self.spoken())
        text = re.sub(r"\n{3,}", "\n\n", text).strip()
        limit = self.rt.house.limits.max_text_length
        return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"

    def draft_thread(self) -> Conversation:
        return outbox.thread_for(self.rt, self.session, self.sender, "requester")

    def new_request(self) -> None:
        limits = self.rt.house.limits
        used = queries.count_recent(self.session, "request", self.sender,
                                    answers.day_start(self.rt))
        if used >= limits.requests_per_day:
            self.say("rate_limited", {"limit": limits.requests_per_day})
            self.finish(REJECTED, "rate_limited", f"{used} new requests today (BR-012)")
            return
        queries.count_use(self.session, "request", self.sender, self.rt.now())
        it = self.it
        draft: dict[str, Any] = {
            "start": _iso(it.start), "end": _iso(it.end), "party_size": it.party_size,
            "first_name": it.first_name, "description": self.description(), "vague": it.vague,
        }
        self.advance_draft(draft, None, learned=True)

    def status_by_address(self) -> None:
        mine = answers.upcoming(list(queries.bookings_of(self.session, self.sender)),
                                self.rt.today())
        picked = answers.matching(mine, self.it.start, self.it.end) or mine
        views = [answers.booking_view(self.rt, b) for b in picked]
        only = picked[0].id if len(picked) == 1 else None
        self.say("status", {"bookings": views, "asked_by_approver": False}, booking_id=only)
        self.finish(PROCESSED, "status_sent", f"{len(views)} booking(s) of the sender listed")

    def recover_link(self) -> None:
        """BR-021/BR-012: the same answer whether or not the address is known."""
        limits, now = self.rt.house.limits, self.rt.now()
        last = queries.last_recent(self.session, queries.LINK_RECOVERY, self.sender)
        if last is not None and now - last < timedelta(seconds=limits.recovery_cooldown_seconds):
            self.finish(IGNORED, "recovery_cooldown", "link asked for again within the cooldown")
            return
        if queries.count_recent(self.session, queries.LINK_RECOVERY, self.sender,
                                answers.within_hour(self.rt)) >= limits.recoveries_per_hour:
            self.finish(IGNORED, "recovery_rate_limited", "too many link recoveries this hour")
            return
        queries.count_use(self.session, queries.LINK_RECOVERY, self.sender, now)
        person = self.session.scalars(select(Person).where(Person.email == self.sender)).first()
        approver = self.rt.house.approver_for_address(self.sender)
        self.say("link_recovery", {
            "link": links.person_url(self.rt, person.link_id) if person else None,
            "approver_link": links.approver_url(self.rt, approver.key) if approver else None,
        })
        self.finish(PROCESSED, "link_sent", "known address" if person or approver
                    else "unknown address (neutral answer)")

    def cancel_by_address(self) -> None:
        mine = [b for b in answers.upcoming(list(queries.bookings_of(self.session, self.sender)),
                                            self.rt.today())]
        picked = answers.matching(mine, self.it.start, self.it.end)
        if not picked:
            self.say("no_booking", {"action": "cancel"})
            self.finish(REJECTED, "no_booking", "no upcoming booking of the sender")
            return
        if len(picked) == 1:
            booking = picked[0]
            self.booking_id = booking.id
            thread = outbox.thread_for(self.rt, self.session, self.sender, "requester", booking.id)
            self.ask_cancel(thread, booking, self.it.comment)
            return
        conversation = self.draft_thread()
        conversation.awaiting = "which:cancel"
        conversation.draft = {"reason": self.it.comment, "ids": [b.id for b in picked]}
        self.say("question_which_booking", {
            "action": "cancel", "bookings": [answers.booking_view(self.rt, b) for b in picked]},
            conversation=conversation)
        self.finish(PROCESSED, "asked_which_booking", f"{len(picked)} bookings could be meant")

    def use_thread(self, action: str) -> None:
        mine = answers.upcoming(list(queries.bookings_of(self.session, self.sender)),
                                self.rt.today())
        self.say("use_thread", {"action": action,
                                "bookings": [answers.booking_view(self.rt, b) for b in mine]})
        self.finish(REJECTED, "no_thread", f"{action} needs the booking's thread or the web link")

    # ── requests being completed ───────────────────────────────────────────────────────

    @staticmethod
    def missing(draft: dict[str, Any]) -> list[str]:
        gaps = []
        if not (draft.get("start") and draft.get("end")):
            gaps.append("dates")
        if not draft.get("party_size"):
            gaps.append("party_size")
        if not draft.get("first_name"):
            gaps.append("first_name")
        return gaps

    def advance_draft(self, draft: dict[str, Any], conversation: Conversation | None,
                      learned: bool) -> None:
        """Ask for what is still missing, or submit once the request is complete."""
        gaps = self.missing(draft)
        if not gaps:
            self.submit_draft(draft, conversation)
            return
        conversation = conversation or self.draft_thread()
        conversation.draft = dict(draft)
        conversation.awaiting = ",".join(gaps)
        context = {"missing": gaps, "vague": draft.get("vague"),
                   "known_start": _day(draft.get("start")), "known_end": _day(draft.get("end")),
                   "known_party_size": draft.get("party_size"),
                   "known_first_name": draft.get("first_name"), "repeated": not learned}
        # A question that learned nothing new counts as help: a loop cannot keep it going.
        kind = "question_missing"
        if not learned:
            key = f"question_repeat:{self.sender}:thread{conversation.id}"
            if answers.answered_today(self.rt, self.session, key):
                self.finish(IGNORED, "unclear_answer",
                            "nothing new learned; question already repeated today")
                return
            answers.record_answer(self.rt, self.session, key)
        self.say(kind, _greeting(context, draft), conversation=conversation)
        self.finish(PROCESSED, "asked_missing", f"missing: {', '.join(gaps)}")

    def submit_draft(self, draft: dict[str, Any], conversation: Conversation | None,
                     long_stay_confirmed: bool = False) -> None:
        start, end = _day(draft.get("start")), _day(draft.get("end"))
        assert start is not None and end is not None
        request = rules.Request(self.sender, str(draft["first_name"]), start, end,
                                int(draft["party_size"]), str(draft.get("description") or ""),
                                long_stay_confirmed)
        try:
            booking = actions.submit(self.rt, self.session, request, self.cause)
        except rj.ConfirmationRequired as exc:
            conversation = conversation or self.draft_thread()
            conversation.draft, conversation.awaiting = dict(draft), "long_stay"
            self.say("question_long_stay", _greeting({
                "days": exc.days, "start": start, "end": end,
                "limit": self.rt.house.limits.long_stay_warn_days}, draft), conversation=conversation)
            self.finish(PROCESSED, "asked_long_stay", f"{exc.days} days (BR-027)")
            return
        except rj.Rejection as exc:
            conversation = conversation or self.draft_thread()
            retry = None
            if isinstance(exc, _DATE_REJECTIONS):
                retry = "dates"
                draft = {**draft, "start": None, "end": None, "vague": None}
            elif isinstance(exc, rj.Invalid) and exc.field in ("party_size", "first_name"):
                retry = exc.field
                draft = {**draft, exc.field: None}
            conversation.draft = dict(draft) if retry else None
            conversation.awaiting = retry
            self.rejected(exc, conversation, None, retry,
                          _greeting({"requested_start": start, "requested_end": end}, draft))
            return
        if conversation is not None:
            conversation.booking_id, conversation.role = booking.id, "requester"
            conversation.awaiting, conversation.draft = None, None
        self.booking_id = booking.id
        self.finish(PROCESSED, "submitted",
                    f"submitted booking #{booking.id} ({date_range(booking.start, booking.end)}, "
                    f"{booking.party_size} Personen, {booking.first_name}): Pending")

    def continue_draft(self, conversation: Conversation) -> None:
        awaiting = conversation.awaiting or ""
        draft = dict(conversation.draft or {})
        it = self.it
        if awaiting.startswith("which:"):
            self.pick_booking(conversation, awaiting.split(":", 1)[1], draft)
            return
        if it.intent == "cancel" or awaiting == "long_stay" and it.intent == "deny":
            conversation.awaiting, conversation.draft = None, None
            self.say("request_dropped", conversation=conversation)
            self.finish(PROCESSED, "request_dropped", "the unfinished request was called off")
            return
        if awaiting == "long_stay":
            if it.start and it.end and (_iso(it.start), _iso(it.end)) != (draft.get("start"),
                                                                         draft.get("end")):
                draft.update(start=_iso(it.start), end=_iso(it.end))
                self.story.append("new dates instead of the long stay")
                self.advance_draft(draft, conversation, learned=True)
            elif it.intent == "approve":
                self.story.append("long stay confirmed (BR-027)")
                self.submit_draft(draft, conversation, long_stay_confirmed=True)
            else:
                self.advance_long_stay_again(conversation, draft)
            return
        learned = self.merge(draft, awaiting)
        self.advance_draft(draft, conversation, learned)

    def advance_long_stay_again(self, conversation: Conversation, draft: dict[str, Any]) -> None:
        key = f"question_repeat:{self.sender}:thread{conversation.id}"
        if answers.answered_today(self.rt, self.session, key):
            self.finish(IGNORED, "unclear_answer", "long stay question already repeated today")
            return
        answers.record_answer(self.rt, self.session, key)
        start, end = _day(draft.get("start")), _day(draft.get("end"))
        assert start is not None and end is not None
        self.say("question_long_stay", {"days": (end - start).days + 1, "start": start, "end": end,
                                        "limit": self.rt.house.limits.long_stay_warn_days},
                 conversation=conversation)
        self.finish(PROCESSED, "asked_long_stay", "answer was neither JA nor new dates")

    def merge(self, draft: dict[str, Any], awaiting: str) -> bool:
        """Fold the answer into the draft; True when it taught us something."""
        it, vocab = self.it, vocabulary()
        text = self.spoken()
        before = dict(draft)
        start, end, vague = it.start, it.end, it.vague
        if start is None and end is None and "dates" in awaiting:
            stay = dates.find_stay(text, self.rt.today(), vocab, partial=True)
            start, end, vague = stay.start, stay.end, stay.vague
        if start is not None:
            draft["start"] = _iso(start)
        if end is not None:
            draft["end"] = _iso(end)
        if start is not None or end is not None:
            draft["vague"] = None
        elif vague:
            draft["vague"] = vague
        size = it.party_size
        if size is None and "party_size" in awaiting:
            size = people.party_size(text, vocab)
            bare = _BARE_NUMBER.match(text) if size is None and "dates" not in awaiting else None
            if size is None and (bare or text.strip().lower() in vocab.number_words):
                size = int(bare.group(1)) if bare else vocab.number_words[text.strip().lower()]
        if size is not None:
            draft["party_size"] = size
        name = it.first_name
        if name is None and "first_name" in awaiting:
            name = self._name_answer(text)
        if name and (not draft.get("first_name") or "first_name" in awaiting):
            draft["first_name"] = name
        changed = [k for k in ("start", "end", "party_size", "first_name", "vague")
                   if draft.get(k) != before.get(k)]
        self.story.append(f"answer added: {', '.join(changed) or 'nothing'}")
        return bool(changed)

    @staticmethod
    def _name_answer(text: str) -> str | None:
        """A reply to "wie heißt du?" is usually just the name ("Anna", "Ich bin Anna.")."""
        line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
        line = re.sub(r"^(?:ich\s+bin|ich\s+heiße|ich\s+heisse|mein\s+name\s+ist|name:)\s+", "",
                      line, flags=re.IGNORECASE).strip(" .!,")
        words = line.split()
        if not 1 <= len(words) <= 3:
            return None
        candidate = words[0]
        return candidate if re.fullmatch(r"[^\W\d_](?:[^\W\d_]|['’-])*", candidate) else None

    def pick_booking(self, conversation: Conversation, action: str, draft: dict[str, Any]) -> None:
        candidates = [b for b in (queries.booking(self.session, i) for i in draft.get("ids", []))
                      if b is not None and b.state != State.CANCELED]
        picked = (answers.matching(candidates, self.it.start, self.it.end)
                  if self.it.start or self.it.end else [])
        if len(picked) != 1:
            key = f"question_repeat:{self.sender}:thread{conversation.id}"
            if answers.answered_today(self.rt, self.session, key):
                self.finish(IGNORED, "unclear_answer", "which booking: still unclear")
                return
            answers.record_answer(self.rt, self.session, key)
            self.say("question_which_booking", {
                "action": action, "bookings": [answers.booking_view(self.rt, b) for b in candidates]},
                conversation=conversation)
            self.finish(PROCESSED, "asked_which_booking", "the answer named no single booking")
            return
        conversation.awaiting, conversation.draft = None, None
        booking = picked[0]
        self.booking_id = booking.id
        thread = outbox.thread_for(self.rt, self.session, self.sender, "requester", booking.id)
        self.ask_cancel(thread, booking, draft.get("reason"))

    # ── replies in a booking's thread ──────────────────────────────────────────────────

    def in_booking(self, conversation: Conversation, booking: Booking) -> None:
        identity, it = self.identity, self.it
        assert identity is not None and booking.id is not None
        self.booking_id = booking.id
        awaiting = conversation.awaiting
        draft = dict(conversation.draft or {})
        approver, requester = identity.approver, identity.requester
        if awaiting == "deny_reason" and approver and it.intent != "approve":
            # A bare "NEIN" again is no reason; anything else the approver writes is.
            reason = it.comment if it.intent == "deny" else self.spoken()
            self.deny(conversation, booking, reason)
        elif awaiting == "deny_confirm" and approver and self.answers_last_question(conversation):
            if it.intent == "approve":
                self.deny(conversation, booking, draft.get("reason"), confirmed=True)
            else:
                self.drop_question(conversation, booking)
        elif awaiting == "cancel_reason" and requester and it.intent != "approve":
            reason = it.comment if it.intent == "cancel" else self.spoken()
            self.cancel(conversation, booking, reason)
        elif awaiting == "cancel_confirm" and requester and self.answers_last_question(conversation):
            if it.intent == "approve":
                self.cancel(conversation, booking, draft.get("reason"), confirmed=True)
            else:
                self.drop_question(conversation, booking)
        elif awaiting == "edit" and requester and (it.start or it.end or it.party_size):
            self.edit(conversation, booking)
        elif it.intent == "approve" and approver:
            self.approve(conversation, booking)
        elif it.intent == "deny" and approver:
            self.deny(conversation, booking, it.comment)
        elif it.intent == "cancel" and requester:
            self.cancel(conversation, booking, it.comment)
        elif it.intent == "edit" and requester:
            self.edit(conversation, booking)
        elif it.intent == "reopen" and requester:
            self.reopen(conversation, booking)
        elif it.intent == "status" and (requester or approver):
            self.say("status", {"bookings": [answers.booking_view(self.rt, booking)],
                                "asked_by_approver": bool(approver and not requester)},
                     conversation=conversation, booking_id=booking.id)
            self.finish(PROCESSED, "status_sent")
        elif it.intent == "recover_link":
            self.recover_link()
        elif it.intent == "request":
            self.story.append("a new request written into an existing booking's thread")
            self.new_request()
        elif it.intent in ("approve", "deny", "cancel", "edit", "reopen"):
            self.rejected(rj.NotPermitted(it.intent), conversation, booking)
        else:
            self.help(conversation, booking)

    def answers_last_question(self, conversation: Conversation) -> bool:
        """A JA confirms a deny or cancel only when it answers the question mail itself (or
        names no mail at all): a late JA to the original request mail is not a confirmation."""
        named = {ref for ref in (self.decoded.in_reply_to, *self.decoded.references) if ref}
        if not named:
            return True
        question = self.session.scalar(
            select(OutboxMessage.message_id)
            .where(OutboxMessage.conversation_id == conversation.id,
                   OutboxMessage.kind == "question_confirm")
            .order_by(OutboxMessage.id.desc()).limit(1))
        return question in named

    def _done(self, conversation: Conversation, reason: str, note: str) -> None:
        conversation.awaiting, conversation.draft = None, None
        self.finish(PROCESSED, reason, note)

    def drop_question(self, conversation: Conversation, booking: Booking) -> None:
        asked = conversation.awaiting
        conversation.awaiting, conversation.draft = None, None
        self.say("nothing_changed", {"asked": asked}, conversation=conversation,
                 booking_id=booking.id)
        self.finish(PROCESSED, "confirmation_declined", f"answer to {asked} was not JA")

    def approve(self, conversation: Conversation, booking: Booking) -> None:
        assert self.identity is not None and self.identity.approver and booking.id is not None
        try:
            events = actions.approve(self.rt, self.session, booking.id, self.identity.approver,
                                     self.cause)
        except rj.Rejection as exc:
            conversation.awaiting, conversation.draft = None, None
            self.rejected(exc, conversation, booking)
            return
        final = any(isinstance(e, ev.Confirmed) for e in events)
        self._done(conversation, "approved",
                   f"{self.identity.approver} approved booking #{booking.id}"
                   + (": Confirmed" if final else ""))

    def deny(self, conversation: Conversation, booking: Booking, reason: str | None,
             confirmed: bool = False) -> None:
        assert self.identity is not None and self.identity.approver and booking.id is not None
        reason = (reason or "").strip() or None
        if reason is None:
            self.ask_reason(conversation, booking, "deny")
            return
        try:
            actions.deny(self.rt, self.session, booking.id, self.identity.approver, reason,
                         self.cause, confirmed=confirmed)
        except rj.ReasonRequired:
            self.ask_reason(conversation, booking, "deny")
            return
        except rj.ConfirmationRequired:
            self.ask_confirm(conversation, booking, "deny", reason, "deny of a Confirmed booking (BR-004)")
            return
        except rj.Rejection as exc:
            self._rejected_action(exc, conversation, booking, "deny_reason")
            return
        self._done(conversation, "denied", f"{self.identity.approver} denied booking #{booking.id}")

    def _rejected_action(self, exc: rj.Rejection, conversation: Conversation, booking: Booking,
                         reason_question: str) -> None:
        """A rejected reason (BR-020) keeps the question open; anything else closes it."""
        if isinstance(exc, rj.Invalid) and exc.field == "reason":
            conversation.awaiting = reason_question
            self.rejected(exc, conversation, booking, retry="reason")
        else:
            conversation.awaiting, conversation.draft = None, None
            self.rejected(exc, conversation, booking)

    def ask_reason(self, conversation: Conversation, booking: Booking, action: str) -> None:
        conversation.awaiting, conversation.draft = f"{action}_reason", None
        self.say("question_reason", {"action": action}, conversation=conversation,
                 booking_id=booking.id)
        self.finish(PROCESSED, f"asked_{action}_reason", "a reason is required (BR-004/BR-007)")

    def ask_cancel(self, conversation: Conversation, booking: Booking, reason: str | None) -> None:
        """A cancel asked for outside the booking's signed thread is confirmed by a reply."""
        assert booking.id is not None
        if booking.state == State.CONFIRMED and not reason:
            self.ask_reason(conversation, booking, "cancel")
            return
        self.ask_confirm(conversation, booking, "cancel", reason, f"booking #{booking.id} found by address")

    def ask_confirm(self, conversation: Conversation, booking: Booking, action: str, reason: str | None,
                    note: str) -> None:
        """Deny or cancel that needs an explicit JA in the booking's thread (BR-004/BR-007)."""
        conversation.awaiting, conversation.draft = f"{action}_confirm", {"reason": reason}
        self.say("question_confirm", {"action": action, "reason": reason}, conversation=conversation,
                 booking_id=booking.id)
        self.finish(PROCESSED, f"asked_{action}_confirm", note)

    def cancel(self, conversation: Conversation, booking: Booking, reason: str | None,
               confirmed: bool = False) -> None:
        assert booking.id is not None
        reason = (reason or "").strip() or None
        try:
            actions.cancel(self.rt, self.session, booking.id, self.sender, reason, self.cause,
                           confirmed=confirmed)
        except rj.ReasonRequired:
            self.ask_reason(conversation, booking, "cancel")
            return
        except rj.ConfirmationRequired:
            self.ask_confirm(conversation, booking, "cancel", reason,
                             "cancel of a Confirmed booking (BR-007)")
            return
        except rj.Rejection as exc:
            self._rejected_action(exc, conversation, booking, "cancel_reason")
            return
        self._done(conversation, "canceled", f"requester canceled booking #{booking.id}")

    def edit(self, conversation: Conversation, booking: Booking) -> None:
        assert booking.id is not None
        it = self.it
        if not (it.start or it.end or it.party_size):
            conversation.awaiting, conversation.draft = "edit", None
            self.say("question_edit", conversation=conversation, booking_id=booking.id)
            self.finish(PROCESSED, "asked_edit", "edit without new dates or party size")
            return
        old = (booking.start, booking.end, booking.party_size)
        try:
            events = actions.edit(self.rt, self.session, booking.id, self.sender, self.cause,
                                  start=it.start, end=it.end, party_size=it.party_size)
        except rj.Rejection as exc:
            conversation.awaiting, conversation.draft = None, None
            self.rejected(exc, conversation, booking, extra={
                "requested_start": it.start or booking.start, "requested_end": it.end or booking.end})
            return
        kinds = [type(e).__name__ for e in events]
        if not any(isinstance(e, ev.Shortened) for e in events):
            # Shortened tells the requester itself; the rest needs a word from us.
            self.say("edit_done", {"old_start": old[0], "old_end": old[1], "old_party_size": old[2],
                                   "extended": any(isinstance(e, ev.Extended) for e in events)},
                     conversation=conversation, booking_id=booking.id)
        self._done(conversation, "edited", f"booking #{booking.id}: {', '.join(kinds) or 'no change'}")

    def reopen(self, conversation: Conversation, booking: Booking) -> None:
        assert booking.id is not None
        it = self.it
        start, end = (it.start, it.end) if it.start and it.end else (None, None)
        try:
            actions.reopen(self.rt, self.session, booking.id, self.sender, self.cause, start, end)
        except rj.Rejection as exc:
            conversation.awaiting, conversation.draft = None, None
            self.rejected(exc, conversation, booking, extra={
                "requested_start": start or booking.start, "requested_end": end or booking.end})
            return
        self._done(conversation, "reopened", f"booking #{booking.id} reopened: Pending")
