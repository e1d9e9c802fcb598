"""Questions before a deny or cancel: the reason (BR-004/BR-007) and the explicit "JA" for a
Confirmed booking or a cancel asked for outside the booking's signed thread.

The open question is `Conversation.awaiting` (`deny_reason`, `deny_confirm`, `cancel_reason`,
`cancel_confirm`), the reason waiting for its "JA" is kept in `Conversation.draft`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from mailbot.conversation.turn import PROCESSED, Turn
from mailbot.core import rejections as rj
from mailbot.core.model import Booking, State
from mailbot.store.tables import Conversation, OutboxMessage
from mailbot.understand.vocabulary import fold


def close(conversation: Conversation) -> None:
    conversation.awaiting, conversation.draft = None, None


def done(turn: Turn, conversation: Conversation, reason: str, note: str) -> None:
    close(conversation)
    turn.finish(PROCESSED, reason, note)


def answers_last_question(turn: Turn, conversation: Conversation) -> bool:
    """A JA confirms a deny or cancel only when it answers the question mail itself (or
    names no mail at all): a late JA to the original request mail is not a confirmation."""
    named = {ref for ref in (turn.decoded.in_reply_to, *turn.decoded.references) if ref}
    if not named:
        return True
    question = turn.session.scalar(
        select(OutboxMessage.message_id)
        .where(OutboxMessage.conversation_id == conversation.id,
               OutboxMessage.kind == "question_confirm")
        .order_by(OutboxMessage.id.desc()).limit(1))
    return question in named


def drop(turn: Turn, conversation: Conversation, booking: Booking) -> None:
    """The answer to "really?" was not JA: nothing changes, and the sender is told."""
    asked = conversation.awaiting
    close(conversation)
    turn.say("nothing_changed", {"asked": asked}, conversation=conversation,
             booking_id=booking.id)
    turn.finish(PROCESSED, "confirmation_declined", f"answer to {asked} was not JA")


def ask_reason(turn: Turn, conversation: Conversation, booking: Booking, action: str) -> None:
    conversation.awaiting, conversation.draft = f"{action}_reason", None
    turn.say("question_reason", {"action": action}, conversation=conversation,
             booking_id=booking.id)
    turn.finish(PROCESSED, f"asked_{action}_reason", "a reason is required (BR-004/BR-007)")


def ask_confirm(turn: Turn, conversation: Conversation, booking: Booking, action: str,
                reason: str | None, note: str) -> None:
    """Deny or cancel that needs an explicit JA in the booking's thread (BR-004/BR-007)."""
    conversation.awaiting, conversation.draft = f"{action}_confirm", {"reason": reason}
    turn.say("question_confirm", {"action": action, "reason": reason}, conversation=conversation,
             booking_id=booking.id)
    turn.finish(PROCESSED, f"asked_{action}_confirm", note)


def ask_cancel(turn: Turn, conversation: Conversation, booking: Booking,
               reason: str | None) -> None:
    """A cancel asked for outside the booking's signed thread is confirmed by a reply."""
    assert booking.id is not None
    if booking.state == State.CONFIRMED and not reason:
        ask_reason(turn, conversation, booking, "cancel")
        return
    ask_confirm(turn, conversation, booking, "cancel", reason,
                f"booking #{booking.id} found by address")


Act = Callable[..., None]  # deny.deny or cancel.cancel: (turn, conversation, booking, reason)


def answer_reason(act: Act, own_intent: str, turn: Turn, conversation: Conversation,
                  booking: Booking, draft: dict[str, Any]) -> bool:
    """The reply to "warum?": a bare "NEIN"/"STORNO" again is no reason, anything else
    written is; a "JA" is no answer to this question."""
    if turn.it.intent == "approve":
        return False
    said = turn.spoken()
    # "NEIN, weil …" gives its reason after the word; any other answer ("Da sind wir selbst
    # im Haus.") is the reason whole
    keyword = turn.it.intent == own_intent and _BARE_WORD[own_intent].match(fold(said))
    act(turn, conversation, booking, turn.it.comment if keyword else said)
    return True


_BARE_WORD = {"deny": re.compile(r"^\W*nein\b"), "cancel": re.compile(r"^\W*(?:storno|stornier)")}


def answer_confirm(act: Act, turn: Turn, conversation: Conversation, booking: Booking,
                   draft: dict[str, Any]) -> bool:
    """The reply to "really?": JA acts with the reason kept, anything else drops it; a JA
    to another mail than the question is no answer to it."""
    if not answers_last_question(turn, conversation):
        return False
    if turn.it.intent == "approve":
        act(turn, conversation, booking, draft.get("reason"), confirmed=True)
    else:
        drop(turn, conversation, booking)
    return True


def rejected_action(turn: Turn, exc: rj.Rejection, conversation: Conversation,
                    booking: Booking, reason_question: str) -> None:
    """A rejected reason (BR-020) keeps the question open; anything else closes it."""
    if isinstance(exc, rj.Invalid) and exc.field == "reason":
        conversation.awaiting = reason_question
        turn.rejected(exc, conversation, booking, retry="reason")
    else:
        close(conversation)
        turn.rejected(exc, conversation, booking)
