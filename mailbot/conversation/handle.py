"""One understood message, in its thread, becomes an action, a question or an answer.

`handle` runs inside the inbox worker's transaction: it finds the thread, decides whether
the sender may act in it, and hands the turn to one handler from the tables below — an open
question of the thread first, then the intent. Each handler lives in a module of its own
(`approve`, `deny`, `cancel`, `edit`, `reopen`, `status`, `recover`, `drafts`); whatever it
decides is written on the inbox row by `Turn.finish`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from functools import partial
from typing import Any

from sqlalchemy.orm import Session

from mailbot.conversation import (
    answers,
    approve,
    cancel,
    check,
    deny,
    drafts,
    edit,
    loops,
    questions,
    recover,
    reopen,
    status,
    thanks,
    unclear,
    which,
)
from mailbot.conversation.identity import BAD_KEY, FORGED, NO_KEY, SENDER_MISMATCH, Identity, establish
from mailbot.conversation.threads import KeyState, Thread, find_thread
from mailbot.conversation.turn import IGNORED, REJECTED, Turn, describe
from mailbot.core import rejections as rj
from mailbot.core.model import Booking
from mailbot.runtime import Cause, Runtime
from mailbot.store import queries
from mailbot.store.tables import Conversation, InboxMessage
from mailbot.understand import Decoded, Interpretation

log = logging.getLogger(__name__)

InThread = Callable[[Turn, Conversation, Booking], None]
Answer = Callable[[Turn, Conversation, Booking, dict[str, Any]], bool]

# A new mail, or one whose thread gives no authority: intent → handler.
NEW_MESSAGE: dict[str, Callable[[Turn], None]] = {
    "request": drafts.new_request,
    "status": status.by_address,
    "recover_link": recover.recover_link,
    "cancel": cancel.by_address,
    "edit": lambda turn: use_thread(turn, "edit"),
    "reopen": lambda turn: use_thread(turn, "reopen"),
    "approve": lambda turn: decision_without_thread(turn),
    "deny": lambda turn: decision_without_thread(turn),
}

# An open question in a booking's thread (`Conversation.awaiting`) → the handler of its
# answer; it returns False when the message does not answer it (then the intent decides).
APPROVER, REQUESTER, EITHER, ANYONE = "approver", "requester", "either", "anyone"
AWAITING: dict[str, tuple[str, Answer]] = {
    "deny_reason": (APPROVER, partial(questions.answer_reason, deny.deny, "deny")),
    "deny_confirm": (APPROVER, partial(questions.answer_confirm, deny.deny)),
    "cancel_reason": (REQUESTER, partial(questions.answer_reason, cancel.cancel, "cancel")),
    "cancel_confirm": (REQUESTER, partial(questions.answer_confirm, cancel.cancel)),
    "edit": (REQUESTER, edit.answer_edit),
    "edit_long_stay": (REQUESTER, edit.answer_long_stay),
    "edit_check": (REQUESTER, partial(check.answer, edit.edit, "edit")),
    "reopen_check": (REQUESTER, partial(check.answer, reopen.reopen, "reopen")),
}
# A reply in a booking's thread: intent → (who may, handler).
IN_BOOKING: dict[str, tuple[str, InThread]] = {
    "approve": (APPROVER, approve.approve),
    "deny": (APPROVER, deny.on_deny),
    "cancel": (REQUESTER, cancel.on_cancel),
    "edit": (REQUESTER, edit.edit),
    "reopen": (REQUESTER, reopen.reopen),
    "status": (EITHER, status.in_thread),
    "recover_link": (ANYONE, lambda turn, conversation, booking: recover.recover_link(turn)),
    "request": (ANYONE, lambda turn, conversation, booking: request_in_thread(turn)),
}
# Intents that act on the booking: from the wrong side they are refused, not helped.
ACTIONS = ("approve", "deny", "cancel", "edit", "reopen")


def handle(rt: Runtime, session: Session, message: InboxMessage, decoded: Decoded,
           interpretation: Interpretation, cause: Cause) -> None:
    """Decide what `message` means in its thread and act, ask or answer; record why."""
    sender = (decoded.from_address or "").strip().lower() or None
    cause = replace(cause, sender=sender, message_id=decoded.message_id,
                    references=tuple(decoded.references))
    turn = Turn(rt, session, message, decoded, interpretation, cause)
    route(turn)
    if turn.in_loop and message.reason not in loops.CHANGED:
        log.warning("answer loop stopped", extra={"correlation_id": cause.correlation_id})
        turn.finish(message.state, "answer_loop", "replies to a chain of our answers that "
                                                  "changed nothing: not answered (loop)")
    # set last: the message row is written once, not on every query in between
    message.conversation_id = turn.conversation_id
    message.booking_id = turn.booking_id


def route(turn: Turn) -> None:
    turn.story.append(f"understood as: {describe(turn.it)}")
    turn.sender = (turn.decoded.from_address or "").strip().lower()
    if not turn.sender or "@" not in turn.sender:
        turn.finish(IGNORED, "no_sender", "no From address to answer")
        return
    # a loop silences our answers; what the message does to a booking still counts
    chain = loops.answers_in_a_row(turn.rt, turn.session, turn.decoded.in_reply_to)
    turn.in_loop = chain >= turn.rt.house.limits.loop_answers
    thread = turn.thread = find_thread(turn.rt, turn.session, turn.decoded, turn.message.raw)
    conversation = thread.conversation
    booking = None
    if conversation is not None:
        turn.conversation_id = conversation.id
        if conversation.booking_id is not None:
            booking = read_booking(turn, conversation)
    identity = turn.identity = establish(turn.rt, turn.message, turn.decoded, thread, booking)
    turn.story.append(_thread_story(thread, booking, identity))

    if turn.it.intent == "thanks":
        if booking is not None:
            turn.booking_id = booking.id
        thanks.record(turn)
    elif identity.reason == FORGED:
        turn.not_accepted(FORGED)
    elif identity.trusted:
        assert conversation is not None
        if booking is not None:
            in_booking(turn, conversation, booking)
        elif conversation.awaiting:
            unfinished(turn, conversation)
        else:
            new_message(turn)
    elif identity.reason == SENDER_MISMATCH:
        turn.not_accepted(SENDER_MISMATCH)
    elif (conversation is not None and booking is None and conversation.awaiting
          and thread.key == KeyState.NONE and conversation.participant == turn.sender):
        # An unfinished request carries no authority beyond a new mail from the same
        # address, so a reply matched by In-Reply-To alone may complete it.
        turn.story.append("unfinished request matched by In-Reply-To")
        unfinished(turn, conversation)
    elif identity.reason == BAD_KEY:
        turn.not_accepted(BAD_KEY)
    else:
        new_message(turn)


def read_booking(turn: Turn, conversation: Conversation) -> Booking | None:
    """The thread's booking, locked at this first read so it stays as read until the
    action (BR-024). A message that may change dates takes the date lock first (BR-029):
    dates, then booking, always in that order, so two writers never wait on each other."""
    assert conversation.booking_id is not None
    if turn.it.intent in ("edit", "reopen", "request") or conversation.awaiting in (
            "edit", "edit_long_stay", "edit_check", "reopen_check"):
        turn.rt.store.lock_dates(turn.session)
    return queries.booking(turn.session, conversation.booking_id, lock=True)


def _thread_story(thread: Thread, booking: Booking | None, identity: Identity) -> str:
    conversation = thread.conversation
    if conversation is None:
        where = "no thread" if thread.key == KeyState.NONE else "reply key not valid"
    else:
        where = (f"conversation #{conversation.id} ({conversation.role}, key {thread.key}"
                 f"{', by In-Reply-To' if thread.by_reference else ''})")
        if booking is not None:
            where += f", booking #{booking.id} {booking.state.value}"
        if conversation.awaiting:
            where += f", awaiting {conversation.awaiting}"
    who = ("sender trusted" + (f" as approver {identity.approver}" if identity.approver else "")
           + (" as requester" if identity.requester else "")) if identity.trusted \
        else f"sender not trusted ({identity.reason})"
    return f"thread: {where}; {who}"


# ── the three places a message can land ─────────────────────────────────────────────────

def new_message(turn: Turn) -> None:
    handler = NEW_MESSAGE.get(turn.it.intent)
    if unclear.unsure(turn) and turn.it.intent != "request":
        unclear.ask_back(turn, None, None)
    elif handler is None:
        turn.help()
    else:
        handler(turn)


def unfinished(turn: Turn, conversation: Conversation) -> None:
    """A reply in the thread of something not yet a booking: which booking, or a draft."""
    if unclear.unsure(turn):
        unclear.ask_back(turn, conversation, None)
    elif conversation.awaiting == "which:decide" and which.decision(turn) is None:
        new_message(turn)  # an approver's other mail in reply to the digest
    elif (conversation.awaiting or "").startswith("which:"):
        which.answer(turn, conversation)
    else:
        drafts.answer(turn, conversation)


def in_booking(turn: Turn, conversation: Conversation, booking: Booking) -> None:
    identity = turn.identity
    assert identity is not None and booking.id is not None
    turn.booking_id = booking.id
    if unclear.unsure(turn):
        unclear.ask_back(turn, conversation, booking)
        return
    allowed = {APPROVER: bool(identity.approver), REQUESTER: identity.requester,
               EITHER: bool(identity.approver) or identity.requester, ANYONE: True}
    asked, answer = AWAITING.get(conversation.awaiting or "", (None, None))
    if answer is not None and asked is not None and allowed[asked] \
            and answer(turn, conversation, booking, dict(conversation.draft or {})):
        return
    intent = turn.it.intent
    who, handler = IN_BOOKING.get(intent, (None, None))
    if handler is not None and who is not None and allowed[who]:
        handler(turn, conversation, booking)
    elif intent in ACTIONS:
        turn.rejected(rj.NotPermitted(intent), conversation, booking)
    else:
        turn.help(conversation, booking)


# ── small answers that belong to no turn kind of their own ─────────────────────────────

def request_in_thread(turn: Turn) -> None:
    turn.story.append("a new request written into an existing booking's thread")
    drafts.new_request(turn)


def use_thread(turn: Turn, action: str) -> None:
    """Change and reopen act only in the booking's thread (or on the personal page)."""
    today = turn.rt.today()
    mine = answers.upcoming(list(queries.bookings_of(turn.session, turn.sender, today)), today)
    turn.say("use_thread", {"action": action,
                            "bookings": [answers.booking_view(turn.rt, b) for b in mine]})
    turn.finish(REJECTED, "no_thread", f"{action} needs the booking's thread or the web link")


def decision_without_thread(turn: Turn) -> None:
    """JA or NEIN without a valid reply key: an approver gets the neutral answer with the
    overview link; anyone else the help."""
    if turn.rt.house.approver_for_address(turn.sender):
        assert turn.identity is not None
        turn.not_accepted(turn.identity.reason or NO_KEY)
    else:
        turn.help()
