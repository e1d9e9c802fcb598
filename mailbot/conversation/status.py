""""Wie ist der Stand?": the booking of the thread, or in a new mail the sender's upcoming
bookings (narrowed by the dates named), with the decisions by approver name."""

from __future__ import annotations

from mailbot.conversation import answers
from mailbot.conversation.turn import PROCESSED, Turn
from mailbot.core.model import Booking
from mailbot.store import queries
from mailbot.store.tables import Conversation


def in_thread(turn: Turn, conversation: Conversation, booking: Booking) -> None:
    assert turn.identity is not None
    by_approver = bool(turn.identity.approver and not turn.identity.requester)
    turn.say("status", {"bookings": [answers.booking_view(turn.rt, booking)],
                        "asked_by_approver": by_approver},
             conversation=conversation, booking_id=booking.id)
    turn.finish(PROCESSED, "status_sent")


def by_address(turn: Turn) -> None:
    today = turn.rt.today()
    mine = answers.upcoming(list(queries.bookings_of(turn.session, turn.sender, today)), today)
    picked = answers.matching(mine, turn.it.start, turn.it.end) or mine
    views = [answers.booking_view(turn.rt, b) for b in picked]
    only = picked[0].id if len(picked) == 1 else None
    turn.say("status", {"bookings": views, "asked_by_approver": False}, booking_id=only)
    turn.finish(PROCESSED, "status_sent", f"{len(views)} booking(s) of the sender listed")
