"""A reply to "Zeitraum schon belegt" that asks to be told when the dates free up
("Sag Bescheid, wenn frei wird"): the wish is noted once per person and range, and the
answer says so. The news itself comes from `outbound.waiting` when a deny, cancel or
shortening frees the whole range."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from mailbot.conversation.turn import PROCESSED, Turn, day
from mailbot.outbound import waiting
from mailbot.outbound.render import date_range
from mailbot.store.tables import Conversation, WaitingWish
from mailbot.understand.vocabulary import fold, vocabulary

WANTED = "wanted"  # the draft's key for the dates a conflict refused: [start, end]
MAX_WISHES = 5  # per person, so a mailbox cannot pile them up


def remember(draft: dict[str, Any], start: Any, end: Any) -> dict[str, Any]:
    """The draft after a conflict keeps the refused dates, should the answer be a wish."""
    return {**draft, WANTED: [start.isoformat(), end.isoformat()]}


def asked(turn: Turn, draft: dict[str, Any]) -> bool:
    return bool(draft.get(WANTED)) and bool(vocabulary().wait_for_free.search(fold(turn.spoken())))


def wait(turn: Turn, conversation: Conversation, draft: dict[str, Any]) -> None:
    start, end = (day(value) for value in draft[WANTED])
    assert start is not None and end is not None
    session = turn.session
    held = session.scalar(select(func.count()).select_from(WaitingWish)
                          .where(WaitingWish.address == turn.sender))
    if start < turn.rt.today():
        outcome = "begun"
    elif (held or 0) >= MAX_WISHES:
        outcome = "too_many"
    elif waiting.wait(turn.rt, session, turn.sender, start, end, conversation):
        outcome = "noted"
    else:
        outcome = "known"
    if outcome == "noted" or turn.repeat_allowed(conversation):
        turn.say("wish_noted", {"wished_start": start, "wished_end": end, "outcome": outcome,
                                "max_wishes": MAX_WISHES}, conversation=conversation)
    turn.finish(PROCESSED, "wish_noted" if outcome == "noted" else f"wish_{outcome}",
                f"waits for {date_range(start, end)}" if outcome == "noted"
                else f"no wish noted for {date_range(start, end)}: {outcome}")
