"""A requester reopens a Denied booking in its thread, with new dates if named (BR-004,
BR-018): decisions are reset and the approvers are asked again, with the requester's own
words; the requester hears it from `booking_reopened` too."""

from __future__ import annotations

from mailbot import actions
from mailbot.conversation import check, questions
from mailbot.conversation.turn import Turn
from mailbot.core import rejections as rj
from mailbot.core.model import Booking
from mailbot.store.tables import Conversation


def reopen(turn: Turn, conversation: Conversation, booking: Booking) -> None:
    assert booking.id is not None
    it = turn.it
    start, end = (it.start, it.end) if it.start and it.end else (None, None)
    doubtful = check.doubtful(turn, ("start", "end")) if start else []
    if doubtful:  # new dates read with doubt: the requester says JA or the right ones first
        check.ask(turn, conversation, booking, "reopen", doubtful)
        return
    try:
        actions.reopen(turn.rt, turn.session, booking.id, turn.sender, turn.cause, start, end,
                       note=turn.description() or None)
    except rj.Rejection as exc:
        questions.close(conversation)
        turn.rejected(exc, conversation, booking, extra={
            "requested_start": start or booking.start, "requested_end": end or booking.end})
        return
    questions.done(turn, conversation, "reopened", f"booking #{booking.id} reopened: Pending")
