"""The inbox worker: each stored message is handled exactly once, in its own transaction.

A `received` row is claimed with SELECT … FOR UPDATE SKIP LOCKED (PostgreSQL; SQLite's
writers are serial anyway) and its attempt is counted and committed *before* it is
handled, so a message that kills its worker (out of memory, say) is counted too and set
aside as `failed` at its `MAX_ATTEMPTS`th start instead of being parsed forever. Machine
mail is recorded and never answered; a From with several mailboxes is acted on by nobody;
everything else goes to the conversation, which sets the final state and writes its
answers to the outbox in the same transaction. When handling fails, that transaction rolls
back everything it did and the row stays `received` for a later pass, with the error for
the admin log.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Collection
from contextlib import suppress
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from mailbot.inbound import inbox
from mailbot.runtime import Cause, Runtime
from mailbot.store import DatabaseUnavailable
from mailbot.store.tables import InboxMessage, OutboxMessage
from mailbot.understand import Decoded, Interpretation, authenticity, decode, interpret, machine

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
# a started message is left to its worker this long; after a crash it is started again then
LEASE = timedelta(seconds=60)
SWEEP_SECONDS = 1.0  # picks up `mailbot ingest` from another process within a second
FINAL = ("processed", "ignored", "rejected", "failed")

# conversation.handle(rt, session, message, decoded, interpretation, cause)
Handler = Callable[[Runtime, Session, InboxMessage, Decoded, Interpretation, Cause], None]


def _conversation() -> Handler:
    from mailbot.conversation import handle

    return handle


def _claim(session: Session, skip: Collection[int], now: datetime) -> InboxMessage | None:
    query = select(InboxMessage).where(InboxMessage.state == "received",
                                       or_(InboxMessage.lease_until.is_(None),
                                           InboxMessage.lease_until <= now))
    if skip:
        query = query.where(InboxMessage.id.not_in(skip))
    query = query.order_by(InboxMessage.id).limit(1).with_for_update(skip_locked=True)
    return session.scalars(query.execution_options(populate_existing=True)).first()


def _with_brackets(message_id: str) -> str:
    return message_id if message_id.startswith("<") else f"<{message_id.strip()}>"


def _our_message_id(rt: Runtime, session: Session, message_id: str | None) -> bool:
    # ours all end in @MAIL_DOMAIN: only those are worth a query
    if not message_id or not message_id.rstrip(">").lower().endswith(f"@{rt.settings.mail_domain.lower()}"):
        return False
    found = session.scalar(select(OutboxMessage.id).where(
        OutboxMessage.message_id == _with_brackets(message_id)).limit(1))
    return found is not None


def _record_bounce(rt: Runtime, session: Session, row: InboxMessage, found: machine.MachineMail) -> str:
    """Mark the outbox message a bounce returns; the admin log shows both sides."""
    ids = [_with_brackets(i) for i in found.refers_to]
    if not ids:
        return f"{found.detail}; returned mail not found among ours"
    bounced = session.scalars(select(OutboxMessage).where(OutboxMessage.message_id.in_(ids))
                              .order_by(OutboxMessage.id)).all()
    if not bounced:
        return f"{found.detail}; returned mail {ids[0]} is not one of ours"
    for sent in bounced:
        sent.state = "bounced"
        sent.last_error = f"bounced (inbox #{row.id}): {found.diagnostic or found.detail}"[:4000]
    first = bounced[0]
    row.booking_id = row.booking_id or first.booking_id
    row.conversation_id = row.conversation_id or first.conversation_id
    names = ", ".join(f"outbox #{m.id} ({m.kind})" for m in bounced)
    return f"bounce of {names}: {found.detail}"


def _handle(rt: Runtime, session: Session, row: InboxMessage, conversation: Handler | None) -> None:
    decoded = decode(row.raw)
    verdict = authenticity.assess(row.source, row.authentication_results, decoded.authentication_results,
                                  decoded.from_address, rt.settings.trusted_authserv_id)
    row.authenticated = verdict.authenticated
    found = machine.classify(rt.settings, row.raw, decoded,
                             _our_message_id(rt, session, decoded.message_id),
                             row.envelope_sender)
    if found is not None:
        detail = found.detail
        if found.reason == machine.BOUNCE:
            detail = _record_bounce(rt, session, row, found)
        row.state, row.reason, row.detail = "ignored", found.reason, detail
        row.processed_at = rt.now()
        log.info("inbox #%s ignored: %s", row.id, found.reason,
                 extra={"correlation_id": row.correlation_id})
        return
    if decoded.senders > 1:
        row.state, row.reason = "rejected", "several_senders"
        row.detail = f"From names {decoded.senders} mailboxes: nobody's mail, not acted on"
        row.processed_at = rt.now()
        log.info("inbox #%s rejected: several_senders", row.id,
                 extra={"correlation_id": row.correlation_id})
        return
    interpretation = interpret(decoded, rt.today())
    (conversation or _conversation())(rt, session, row, decoded, interpretation,
                                      Cause(row.correlation_id, row.id))
    # set last, so the row is written once, with the outcome
    row.interpretation = {**interpretation.as_json(), "vague": interpretation.vague,
                          "authentication": verdict.story}
    row.reply_text = interpretation.reply_text
    row.removed_text = interpretation.removed_text
    if row.state == "received":  # the conversation had nothing more to say about it
        row.state = "processed"
    row.processed_at = row.processed_at or rt.now()
    log.info("inbox #%s %s: %s", row.id, row.state, row.reason or interpretation.intent,
             extra={"correlation_id": row.correlation_id, "intent": interpretation.intent,
                    "booking_id": row.booking_id})


def _start(rt: Runtime, skip: set[int]) -> tuple[int, int, str] | None:
    """Claim the next message and count this start of its handling, committed before the
    handling begins; one started too often already is set aside as `failed`."""
    with rt.store.transaction(durable=False) as session:
        while True:
            row = _claim(session, skip, rt.now())
            if row is None:
                return None
            if (row.attempts or 0) < MAX_ATTEMPTS:
                row.attempts = (row.attempts or 0) + 1
                row.lease_until = rt.now() + LEASE  # no other worker starts it meanwhile
                return row.id, row.attempts, row.correlation_id
            skip.add(row.id)
            row.state, row.reason = "failed", "processing_failed"
            row.detail = (f"{row.detail or 'no outcome'}; started {row.attempts} times without an "
                          "outcome, set aside")[:4000]
            row.processed_at = rt.now()
            log.error("inbox #%s set aside after %s starts", row.id, row.attempts,
                      extra={"correlation_id": row.correlation_id})


def _process_one(rt: Runtime, skip: set[int], conversation: Handler | None) -> InboxMessage | None:
    started = _start(rt, skip)
    if started is None:
        return None
    row_id, attempt, correlation_id = started
    try:
        # not durable: a lost outcome is simply worked out again
        with rt.store.transaction(durable=False) as session:
            row = session.get(InboxMessage, row_id, with_for_update=True, populate_existing=True)
            if row is None or row.state != "received" or row.attempts != attempt:
                skip.add(row_id)  # another worker has started it since
                return row
            _handle(rt, session, row, conversation)
            return row
    except (OperationalError, DatabaseUnavailable):
        raise  # the database, not the message: a later pass retries
    except Exception as exc:
        return _failed(rt, row_id, correlation_id, exc, skip)


def _failed(rt: Runtime, row_id: int, correlation_id: str, exc: Exception, skip: set[int]
            ) -> InboxMessage | None:
    """Everything the attempt did is rolled back (the start itself stays counted); the row
    stays `received` for a later pass, unless this was its last start or another worker has
    handled it meanwhile."""
    skip.add(row_id)
    with rt.store.transaction() as session:
        row = session.get(InboxMessage, row_id, with_for_update=True)
        if row is None or row.state != "received":
            return row
        log.exception("inbox #%s failed (attempt %s of %s)", row_id, row.attempts, MAX_ATTEMPTS,
                      extra={"correlation_id": correlation_id})
        row.lease_until = None  # a later pass may try again at once
        row.detail = f"attempt {row.attempts} of {MAX_ATTEMPTS} failed: {type(exc).__name__}: {exc}"[:4000]
        if row.attempts >= MAX_ATTEMPTS:
            row.state, row.reason = "failed", "processing_failed"
            row.processed_at = rt.now()
        return row


def process_pending(rt: Runtime, limit: int = 100, conversation: Handler | None = None) -> int:
    """Handle up to `limit` received messages; returns how many reached a final state.

    A message that fails is not tried again in the same pass. `conversation` defaults to
    `mailbot.conversation.handle`."""
    done = 0
    skip: set[int] = set()
    for _ in range(limit):
        row = _process_one(rt, skip, conversation)
        if row is None:
            break
        if row.state in FINAL:
            done += 1
    return done


async def _first(*events: asyncio.Event, timeout: float) -> None:
    waiters: set[asyncio.Task[Any]] = {asyncio.create_task(e.wait()) for e in events}
    try:
        await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
            with suppress(asyncio.CancelledError):
                await waiter


async def run(rt: Runtime, stop: asyncio.Event, sweep_seconds: float = SWEEP_SECONDS,
              conversation: Handler | None = None, limit: int = 100) -> None:
    """Work through the inbox until `stop` is set: at once when a message is stored (by
    this process, or on PostgreSQL by any), otherwise every `sweep_seconds` (picks up
    pipe ingest on SQLite and earlier failures)."""
    if rt.store.is_sqlite:  # every writer is a thread of this process
        with inbox.arrived.listen() as bell:
            await _work(rt, stop, bell, sweep_seconds, conversation, limit)
        return
    # PostgreSQL: the notification reaches every process, this one too; also listening to
    # the doorbell would wake this worker twice per message
    bell = asyncio.Event()
    listening = asyncio.create_task(inbox.listen(rt, bell, stop))
    try:
        await _work(rt, stop, bell, sweep_seconds, conversation, limit)
    finally:
        listening.cancel()
        with suppress(asyncio.CancelledError):
            await listening


async def _work(rt: Runtime, stop: asyncio.Event, bell: asyncio.Event, sweep_seconds: float,
                conversation: Handler | None, limit: int) -> None:
    while not stop.is_set():
        bell.clear()
        try:
            while await asyncio.to_thread(process_pending, rt, limit, conversation) >= limit:
                if stop.is_set():
                    break
        except DatabaseUnavailable as exc:
            log.warning("inbox worker: database unavailable, retrying later: %s", exc)
        except Exception:
            log.exception("inbox worker pass failed")
        await _first(bell, stop, timeout=sweep_seconds)
