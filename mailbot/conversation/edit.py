"""A requester changes dates or party size in the booking's thread (BR-005): shortening keeps
the decisions (the requester hears it from `booking_shortened`), extending asks the approvers
again; without new values we ask what should change."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from mailbot import actions
from mailbot.conversation import check, questions
from mailbot.conversation.turn import PROCESSED, Turn, day, iso
from mailbot.core import events as ev
from mailbot.core import rejections as rj
from mailbot.core.model import Booking
from mailbot.store.tables import Conversation


def edit(turn: Turn, conversation: Conversation, booking: Booking,
         long_stay_confirmed: bool = False) -> None:
    assert booking.id is not None
    it = turn.it
    if not (it.start or it.end or it.party_size):
        conversation.awaiting, conversation.draft = "edit", None
        turn.say("question_edit", conversation=conversation, booking_id=booking.id)
        turn.finish(PROCESSED, "asked_edit", "edit without new dates or party size")
        return
    doubtful = check.doubtful(turn)
    if doubtful:  # read with doubt: the requester says JA or the right values first
        check.ask(turn, conversation, booking, "edit", doubtful)
        return
    old = (booking.start, booking.end, booking.party_size)
    try:
        events = actions.edit(turn.rt, turn.session, booking.id, turn.sender, turn.cause,
                              start=it.start, end=it.end, party_size=it.party_size,
                              long_stay_confirmed=long_stay_confirmed)
    except rj.ConfirmationRequired as exc:  # BR-027: a longer stay is confirmed by a JA
        start, end = it.start or booking.start, it.end or booking.end
        conversation.awaiting = "edit_long_stay"
        conversation.draft = {"start": iso(start), "end": iso(end), "party_size": it.party_size}
        turn.say("question_long_stay", {"days": exc.days, "start": start, "end": end, "edit": True,
                                        "limit": turn.rt.house.limits.long_stay_warn_days},
                 conversation=conversation, booking_id=booking.id)
        turn.finish(PROCESSED, "asked_long_stay", f"edit to {exc.days} days (BR-027)")
        return
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


def answer_long_stay(turn: Turn, conversation: Conversation, booking: Booking,
                     draft: dict[str, Any]) -> bool:
    """BR-027 for an edit: "JA" applies the asked-for dates, new dates are a new edit."""
    it = turn.it
    if it.start or it.end or it.party_size:
        edit(turn, conversation, booking)
        return True
    if it.intent != "approve":
        return False
    turn.it = replace(it, intent="edit", start=day(draft.get("start")), end=day(draft.get("end")),
                      party_size=draft.get("party_size"))
    turn.story.append("long stay confirmed (BR-027)")
    edit(turn, conversation, booking, long_stay_confirmed=True)
    return True
