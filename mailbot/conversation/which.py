""""Which booking do you mean?": a reply in a thread that stands for several bookings names
one by its dates (or there is only one left).

- `which:cancel` — a requester's cancel by a new mail matched several of their bookings.
- `which:decide` — an approver answers the weekly digest (BR-009): with one request left
  open for her, the JA or NEIN acts on it; with several, the dates in the reply pick one,
  else she gets the list, one line per request.
"""

from __future__ import annotations

import re
from typing import Any

from mailbot.conversation import answers, approve, deny, questions
from mailbot.conversation.turn import IGNORED, PROCESSED, Turn
from mailbot.core.model import Booking, State, Verdict
from mailbot.outbound import outbox
from mailbot.store import queries
from mailbot.store.tables import Conversation
from mailbot.understand import dates
from mailbot.understand.vocabulary import fold, vocabulary

DECISIONS = ("approve", "deny")
_NO = re.compile(r"^\W*(?:nein|doch nicht|keine)\b")


def decision(turn: Turn) -> str | None:
    """JA or NEIN in a reply to the digest, also when it names the dates ("JA 18.–20.12."
    reads like a new request elsewhere)."""
    if turn.it.intent in DECISIONS:
        return turn.it.intent
    vocab = vocabulary()
    text = fold(turn.spoken())
    for intent in DECISIONS:
        if vocab.intents_at_start[intent].match(text):
            return intent
    return None


def action_of(conversation: Conversation) -> str:
    return (conversation.awaiting or "").split(":", 1)[1]


def answer(turn: Turn, conversation: Conversation) -> None:
    action = action_of(conversation)
    draft: dict[str, Any] = dict(conversation.draft or {})
    found = [b for b in (queries.booking(turn.session, i) for i in draft.get("ids", []))
             if b is not None]
    if action == "decide":
        assert turn.identity is not None and turn.identity.approver
        key = turn.identity.approver
        candidates = [b for b in found if b.state == State.PENDING
                      and b.verdict(key) == Verdict.NO_RESPONSE and not b.is_past(turn.rt.today())]
    else:
        candidates = [b for b in found if b.state != State.CANCELED]
    picked = _named(turn, candidates)
    if action == "decide" and len(candidates) == 1 and not picked:
        picked = candidates
    if action == "cancel" and not picked and turn.it.intent in ("deny", "approve") \
            and _NO.match(fold(turn.spoken())):
        # "Nein, doch nicht.": the cancel is called off, nothing changes
        questions.close(conversation)
        turn.say("nothing_changed", {"asked": "which:cancel"}, conversation=conversation)
        turn.finish(PROCESSED, "confirmation_declined", "which booking: none, after all")
        return
    if len(picked) != 1:
        _ask_again(turn, conversation, action, candidates)
        return
    booking = picked[0]
    assert booking.id is not None
    turn.booking_id = booking.id
    if action == "cancel":
        questions.close(conversation)
        questions.ask_cancel(turn, turn.booking_thread(booking), booking, draft.get("reason"))
        return
    # the digest stays open for the other requests it listed
    assert turn.identity is not None and turn.identity.approver
    thread = outbox.thread_for(turn.rt, turn.session, turn.sender, "approver", booking.id,
                               approver=turn.identity.approver)
    turn.story.append(f"digest answer: booking #{booking.id}")
    if decision(turn) == "approve":
        approve.approve(turn, thread, booking)
    else:
        deny.deny(turn, thread, booking, turn.it.comment)


def _named(turn: Turn, candidates: list[Booking]) -> list[Booking]:
    """The bookings the reply's dates point at ("JA für 3.–7.8."); none without dates."""
    start, end = turn.it.start, turn.it.end
    if start is None and end is None:
        stay = dates.find_stay(turn.spoken(), turn.rt.today(), vocabulary(), partial=True)
        start, end = stay.start, stay.end
    if start is None and end is None:
        return []
    return answers.matching(candidates, start, end)


def _ask_again(turn: Turn, conversation: Conversation, action: str,
               candidates: list[Booking]) -> None:
    if not candidates:
        turn.help(conversation)
        return
    if not turn.repeat_allowed(conversation):
        turn.finish(IGNORED, "unclear_answer", "which booking: still unclear")
        return
    turn.say("question_which_booking", {
        "action": action, "bookings": [answers.booking_view(turn.rt, b) for b in candidates]},
        conversation=conversation)
    turn.finish(PROCESSED, "asked_which_booking", "the answer named no single booking")
