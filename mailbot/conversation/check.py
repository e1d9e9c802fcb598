"""A change read with doubt (SPEC §8 `ask`): before an edit or a reopen acts on dates or a
party size the parser was not sure of, the requester sees the reading ("Stimmt das so?") and
answers "JA" or with the right values. The reading waits in `Conversation.draft`, the open
question is `Conversation.awaiting` (`edit_check`, `reopen_check`)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from mailbot.conversation import questions
from mailbot.conversation.turn import PROCESSED, Turn, day, iso
from mailbot.core.model import Booking
from mailbot.store.tables import Conversation
from mailbot.understand import dates, people
from mailbot.understand.vocabulary import fold, vocabulary

CHANGES = ("start", "end", "party_size")

Act = Callable[[Turn, Conversation, Booking], None]
# "Stimmt das so?" is answered with its own words too: "Stimmt!", "Richtig.", "Stimmt nicht."
_CONFIRMS = re.compile(r"\W*(?:ja|jawohl|stimmt|richtig|genau|korrekt|passt)\b"
                       r"(?![^.!?\n]*\b(?:nicht|falsch)\b)")
_DENIES = re.compile(r"\W*(?:nein|nee|stimmt\s+(?:so\s+)?nicht|nicht\s+(?:ganz|richtig|so)|falsch)\b")


def confirms(turn: Turn) -> bool:
    """The answer to "Stimmt das so?" says yes: "JA", "Stimmt!", "Richtig."."""
    return turn.it.intent == "approve" or _CONFIRMS.match(fold(turn.spoken())) is not None


def denies(turn: Turn) -> bool:
    """The answer to "Stimmt das so?" says no: "Nein", "Stimmt nicht.", "Nicht ganz."."""
    return turn.it.intent == "deny" or _DENIES.match(fold(turn.spoken())) is not None


def doubtful(turn: Turn, fields: tuple[str, ...] = CHANGES) -> list[str]:
    """The fields of `fields` the parser asks about and the message changes."""
    it = turn.it
    dates = it.start is not None or it.end is not None
    return [f for f in it.ask if f in fields
            and (it.party_size is not None if f == "party_size" else dates)]


def ask(turn: Turn, conversation: Conversation, booking: Booking, action: str,
        fields: list[str]) -> None:
    """Show the reading of the change and wait for "JA" or the right values."""
    it = turn.it
    conversation.awaiting = f"{action}_check"
    conversation.draft = {"start": iso(it.start), "end": iso(it.end), "party_size": it.party_size}
    turn.say("question_check", {
        "change": action, "old_start": booking.start, "old_end": booking.end,
        "start": it.start or booking.start, "end": it.end or booking.end,
        "party_size": it.party_size or booking.party_size, "first_name": booking.first_name,
        "doubtful": fields}, conversation=conversation, booking_id=booking.id)
    turn.finish(PROCESSED, "asked_check", f"{action} read with doubt: {', '.join(fields)}")


def answer(act: Act, action: str, turn: Turn, conversation: Conversation, booking: Booking,
           draft: dict[str, Any]) -> bool:
    """"JA" makes the waiting reading sure; new dates or a party size are the change itself
    ("Nein, wir kommen am 4.3. und bleiben bis zum 7.3."; asked about again if read with
    doubt); a "Nein" without them changes nothing; anything else is read as what it says."""
    it = turn.it
    if confirms(turn) and not (it.start or it.end or it.party_size):
        turn.it = replace(it, intent=action, start=day(draft.get("start")),
                          end=day(draft.get("end")), party_size=draft.get("party_size"), ask=())
        turn.story.append("the change read with doubt confirmed")
        act(turn, conversation, booking)
        return True
    if not (it.start or it.end or it.party_size):  # "Nein, …" is read as a no: read it again
        vocab, text = vocabulary(), turn.spoken()
        stay = dates.find_stay(text, turn.rt.today(), vocab, newest=True, partial=True,
                               around=(booking.start, booking.end))
        size = people.party_size(text, vocab)
        if not (stay.found or size):
            if not denies(turn):
                return False
            questions.drop(turn, conversation, booking)  # "Nein": nothing changes
            return True
        turn.it = replace(it, intent=action, start=stay.start, end=stay.end, party_size=size,
                          ask=("start", "end") if stay.unsure else ())
    turn.story.append("new values for the change read with doubt")
    act(turn, conversation, booking)
    return True
