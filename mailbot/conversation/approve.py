"""An approver's "JA" in the booking's thread (BR-003, BR-024: a late or repeated JA is
answered "Schon erledigt"; a JA to a mail of an older decision round changes nothing and is
answered with what changed and the current request, SPEC §5 "Current")."""

from __future__ import annotations

from mailbot import actions
from mailbot.conversation import questions
from mailbot.conversation.turn import Turn
from mailbot.core import events as ev
from mailbot.core import rejections as rj
from mailbot.core.model import Booking
from mailbot.store.tables import Conversation


def approve(turn: Turn, conversation: Conversation, booking: Booking) -> None:
    assert turn.identity is not None and turn.identity.approver and booking.id is not None
    try:
        events = actions.approve(turn.rt, turn.session, booking.id, turn.identity.approver,
                                 turn.cause, decision_round=turn.decision_round)
    except rj.Rejection as exc:
        questions.close(conversation)
        turn.rejected(exc, conversation, booking)
        return
    final = any(isinstance(e, ev.Confirmed) for e in events)
    if not final:
        # the last JA is answered by "Buchung bestätigt" to everyone; any other gets a word
        outstanding = [e.outstanding for e in events if isinstance(e, ev.Approved)][0]
        turn.say("approval_recorded", {
            "outstanding_names": [turn.rt.house.approver(key).name for key in outstanding]},
            conversation=conversation, booking_id=booking.id)
    questions.done(turn, conversation, "approved",
                   f"{turn.identity.approver} approved booking #{booking.id}"
                   + (": Confirmed" if final else ""))
