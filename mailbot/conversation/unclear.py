"""A reply that says two things ("JA? Nein, lieber nicht.") is not acted on: the sender is
asked back once, with the best reading, and answers again in the same thread (SPEC §8 `ask`).
"""

from __future__ import annotations

from mailbot.conversation.turn import IGNORED, PROCESSED, Turn
from mailbot.core.model import Booking
from mailbot.store.tables import Conversation


def unsure(turn: Turn) -> bool:
    return "intent" in turn.it.ask


def ask_back(turn: Turn, conversation: Conversation | None, booking: Booking | None) -> None:
    """One short question; a second unclear reply in the same thread the same day is only
    recorded (a loop cannot keep it going)."""
    if conversation is not None and not turn.repeat_allowed(conversation):
        turn.finish(IGNORED, "unclear_answer", "unclear again; already asked back today")
        return
    first_line = next((ln.strip() for ln in turn.spoken().splitlines() if ln.strip()), "")
    said = first_line if len(first_line) <= 80 else first_line[:79].rstrip() + "…"
    turn.say("question_unclear", {"reading": turn.it.intent, "said": said},
             conversation=conversation, booking_id=booking.id if booking is not None else None)
    turn.finish(PROCESSED, "asked_unclear",
                f"said both ({', '.join(turn.it.ask)}); best reading {turn.it.intent}: asked back")
