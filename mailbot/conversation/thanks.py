"""A thank-you ("Super, danke dir!") is recorded and not answered (SPEC §5): in a booking's
thread, in an unfinished request and as a new mail alike; nothing changes."""

from __future__ import annotations

from mailbot.conversation.turn import IGNORED, Turn


def record(turn: Turn) -> None:
    turn.finish(IGNORED, "thanks", "a thank-you: recorded, not answered")
