"""A requester calls a booking off: in its thread (Confirmed: reason, then "JA"; BR-006/BR-007),
or in a new mail, where the booking is found by address and dates and the cancel is confirmed
by a reply in its thread."""

from __future__ import annotations

from mailbot import actions
from mailbot.conversation import answers, questions
from mailbot.conversation.turn import PROCESSED, REJECTED, Turn
from mailbot.core import rejections as rj
from mailbot.core.model import Booking
from mailbot.store import queries
from mailbot.store.tables import Conversation


def on_cancel(turn: Turn, conversation: Conversation, booking: Booking) -> None:
    cancel(turn, conversation, booking, turn.it.comment)


def cancel(turn: Turn, conversation: Conversation, booking: Booking, reason: str | None,
           confirmed: bool = False) -> None:
    assert booking.id is not None
    reason = (reason or "").strip() or None
    try:
        actions.cancel(turn.rt, turn.session, booking.id, turn.sender, reason, turn.cause,
                       confirmed=confirmed)
    except rj.ReasonRequired:
        questions.ask_reason(turn, conversation, booking, "cancel")
        return
    except rj.ConfirmationRequired:
        questions.ask_confirm(turn, conversation, booking, "cancel", reason,
                              "cancel of a Confirmed booking (BR-007)")
        return
    except rj.Rejection as exc:
        questions.rejected_action(turn, exc, conversation, booking, "cancel_reason")
        return
    questions.done(turn, conversation, "canceled", f"requester canceled booking #{booking.id}")



def by_address(turn: Turn) -> None:
    """A cancel in a new mail: the sender's upcoming bookings, narrowed by the dates named."""
    today = turn.rt.today()
    mine = answers.upcoming(list(queries.bookings_of(turn.session, turn.sender, today)), today)
    picked = answers.matching(mine, turn.it.start, turn.it.end)
    if not picked:
        turn.say("no_booking", {"action": "cancel"})
        turn.finish(REJECTED, "no_booking", "no upcoming booking of the sender")
        return
    if len(picked) == 1:
        booking = picked[0]
        turn.booking_id = booking.id
        questions.ask_cancel(turn, turn.booking_thread(booking), booking, turn.it.comment)
        return
    conversation = turn.draft_thread()
    conversation.awaiting = "which:cancel"
    conversation.draft = {"reason": turn.it.comment, "ids": [b.id for b in picked]}
    turn.say("question_which_booking", {
        "action": "cancel", "bookings": [answers.booking_view(turn.rt, b) for b in picked]},
        conversation=conversation)
    turn.finish(PROCESSED, "asked_which_booking", f"{len(picked)} bookings could be meant")

