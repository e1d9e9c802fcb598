"""The conversation: an understood message in its thread becomes a core command, a
question, or a named answer (threads → identity → handle → answers)."""

from mailbot.conversation.handle import handle

__all__ = ["handle"]
