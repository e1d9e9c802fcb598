"""A requester changes dates or party size in the booking's thread (BR-005): shortening keeps
the decisions (the requester hears it from `booking_shortened`), extending asks the approvers
again; without new values we ask what should change."""

from __future__ import annotations

from typing import Any

from mailbot import actions
from mailbot.conversation import questions
from mailbot.conversation.turn import PROCESSED, Turn
from mailbot.core import events as ev
from mailbot.core import rejections as rj
from mailbot.core.model import Booking
from mailbot.store.tables import Conversation


def edit(turn: Turn, conversation: Conversation, booking: Booking) -> None:
    assert booking.id is not None
    it = turn.it
    if not (it.start or it.end or it.party_size):
        conversation.awaiting, conversation.draft = "edit", None
        turn.say("question_edit", conversation=conversation, booking_id=booking.id)
        turn.finish(PROCESSED, "asked_edit", "edit without new dates or party size")
        return
    old = (booking.start, booking.end, booking.party_size)
    try:
        events = actions.edit(turn.rt, turn.session, booking.id, turn.sender, turn.cause,
                              start=it.start, end=it.end, party_size=it.party_size)
    except rj.Rejection as exc:
        questions.close(conversation)
        turn.rejected(exc, conversation, booking, extra={
            "requested_start": it.start or booking.start, "requested_end": it.end or booking.end})
        return
    kinds = [type(e).__name__ for e in events]
    if not any(isinstance(e, ev.Shortened) for e in events):
        # Shortened tells the requester itself; the rest needs a word from us.
        turn.say("edit_done", {"old_start": old[0], "old_end": old[1], "old_party_size": old[2],
                               "extended": any(isinstance(e, ev.Extended) for e in events)},
                 conversation=conversation, booking_id=booking.id)
    questions.done(turn, conversation, "edited",
                   f"booking #{booking.id}: {', '.join(kinds) or 'no change'}")


def answer_edit(turn: Turn, conversation: Conversation, booking: Booking,
                draft: dict[str, Any]) -> bool:
    """The reply to "what should change?" carries new dates or a party size."""
    it = turn.it
    if not (it.start or it.end or it.party_size):
        return False
    edit(turn, conversation, booking)
    return True
