"""An approver's "NEIN" in the booking's thread: a reason is required (asked for when
missing), and denying a Confirmed booking needs an explicit "JA" (BR-004)."""

from __future__ import annotations

from mailbot import actions
from mailbot.conversation import questions
from mailbot.conversation.turn import Turn
from mailbot.core import rejections as rj
from mailbot.core.model import Booking
from mailbot.store.tables import Conversation


def on_deny(turn: Turn, conversation: Conversation, booking: Booking) -> None:
    deny(turn, conversation, booking, turn.it.comment)


def deny(turn: Turn, conversation: Conversation, booking: Booking, reason: str | None,
         confirmed: bool = False) -> None:
    assert turn.identity is not None and turn.identity.approver and booking.id is not None
    reason = (reason or "").strip() or None
    if reason is None:
        questions.ask_reason(turn, conversation, booking, "deny")
        return
    try:
        actions.deny(turn.rt, turn.session, booking.id, turn.identity.approver, reason,
                     turn.cause, confirmed=confirmed, decision_round=turn.decision_round)
    except rj.ReasonRequired:
        questions.ask_reason(turn, conversation, booking, "deny")
        return
    except rj.ConfirmationRequired:
        questions.ask_confirm(turn, conversation, booking, "deny", reason,
                              "deny of a Confirmed booking (BR-004)")
        return
    except rj.Rejection as exc:
        questions.rejected_action(turn, exc, conversation, booking, "deny_reason")
        return
    questions.done(turn, conversation, "denied",
                   f"{turn.identity.approver} denied booking #{booking.id}")

