"""Send what the outbox holds: claim due rows, send each once, retry 2 s, 4 s, 8 s, then
mark it failed — never drop it (BR-022).

A claim sets `state='sending'` and a lease in `next_attempt_at`, then commits; sending
happens outside any transaction. If a worker dies mid-send, the lease runs out and another
worker sends the row again under the same idempotency key. Several workers (or instances)
never take the same row: PostgreSQL claims with FOR UPDATE SKIP LOCKED, SQLite writers are
serial anyway. Scheduling uses `rt.now()`, the one clock."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from datetime import timedelta

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from mailbot.outbound.outbox import FAILED, QUEUED, RETRYING, SENDING, SENT
from mailbot.outbound.transports import Outgoing, SendError, Transport, from_settings
from mailbot.runtime import Runtime
from mailbot.store.tables import OutboxMessage

log = logging.getLogger("mailbot.outbound")

DUE = (QUEUED, RETRYING, SENDING)  # SENDING counts only once its lease ran out
LEASE = timedelta(seconds=60)
TIMEOUT = 10.0  # seconds a transport may take for one message
MAX_RETRY_AFTER = 3600.0
RECORD_EVERY = 20  # results written per transaction


_OUTBOX = OutboxMessage.__table__
_SENT = update(_OUTBOX).where(_OUTBOX.c.id == bindparam("row_id")).values(
    state=bindparam("state"), provider_id=bindparam("provider_id"), sent_at=bindparam("sent_at"))
_UNSENT = update(_OUTBOX).where(_OUTBOX.c.id == bindparam("row_id")).values(
    state=bindparam("state"), last_error=bindparam("last_error"),
    next_attempt_at=bindparam("next_attempt_at"))


def _claim(rt: Runtime, limit: int, timeout: float) -> list[Outgoing]:
    def work(session: Session) -> list[Outgoing]:
        now = rt.now()
        query = (select(_OUTBOX.c.id)
                 .where(_OUTBOX.c.state.in_(DUE), _OUTBOX.c.next_attempt_at <= now)
                 .order_by(_OUTBOX.c.next_attempt_at, _OUTBOX.c.id)
                 .limit(limit))
        if not rt.store.is_sqlite:
            query = query.with_for_update(skip_locked=True)
        ids = list(session.scalars(query))
        if not ids:
            return []
        # the lease outlasts the slowest batch, so no second worker sends a row still in hand
        lease_until = now + LEASE + timedelta(seconds=timeout * len(ids))
        rows = session.execute(
            update(_OUTBOX).where(_OUTBOX.c.id.in_(ids))
            .values(state=SENDING, attempts=_OUTBOX.c.attempts + 1, next_attempt_at=lease_until,
                    claimed_by=instance(rt))
            .returning(*_OUTBOX.c)).all()
        order = {row_id: n for n, row_id in enumerate(ids)}
        return [Outgoing.of(row) for row in sorted(rows, key=lambda row: order[row.id])]

    with rt.store.reading() as session:  # cheap look first: an idle poll takes no write lock
        probe = select(_OUTBOX.c.id).where(_OUTBOX.c.state.in_(DUE),
                                           _OUTBOX.c.next_attempt_at <= rt.now()).limit(1)
        if session.scalar(probe) is None:
            return []
    return rt.store.run(work)


Outcome = tuple[Outgoing, str | None, SendError | None]  # (mail, provider id, error)


def _record(rt: Runtime, outcomes: list[Outcome]) -> None:
    """Write a chunk of results in one transaction; then log each failure."""
    if not outcomes:
        return
    delays = rt.house.limits.outbox_retry_delays
    now = rt.now()
    sent: list[dict[str, object]] = []
    unsent: list[dict[str, object]] = []
    for mail, provider_id, error in outcomes:
        if error is None:
            sent.append({"row_id": mail.id, "state": SENT, "provider_id": provider_id, "sent_at": now})
            continue
        if error.permanent or mail.attempts > len(delays):
            state, wait = FAILED, 0.0
        else:
            wait = float(delays[mail.attempts - 1])
            if error.retry_after is not None:
                wait = max(wait, min(error.retry_after, MAX_RETRY_AFTER))
            state = RETRYING
        unsent.append({"row_id": mail.id, "state": state, "last_error": str(error)[:2000],
                       "next_attempt_at": now + timedelta(seconds=wait)})

    def work(session: Session) -> None:
        for statement, rows in ((_SENT, sent), (_UNSENT, unsent)):
            if rows:
                session.execute(statement, rows)

    rt.store.run(work)
    for mail, provider_id, error in outcomes:
        if error is None:
            log.info("outbound mail %s sent", mail.id,
                     extra={"correlation_id": mail.correlation_id, "outbox_id": mail.id,
                            "kind": mail.kind, "attempt": mail.attempts, "provider_id": provider_id})
    for row, (mail, _, error) in zip(unsent, (o for o in outcomes if o[2] is not None), strict=True):
        extra = {"correlation_id": mail.correlation_id, "outbox_id": mail.id, "kind": mail.kind,
                 "attempt": mail.attempts, "outbox_state": row["state"], "error": str(error)}
        if row["state"] == FAILED:
            log.error("outbound mail %s failed for good: %s", mail.id, error, extra=extra)
        else:
            log.warning("outbound mail %s not sent, will retry: %s", mail.id, error, extra=extra)


def send_due(rt: Runtime, limit: int = 100, transport: Transport | None = None,
             timeout: float = TIMEOUT) -> int:
    """Send up to `limit` due messages; returns how many were attempted.

    Results are written every RECORD_EVERY messages: a crash in between only means those
    few are sent again under their idempotency keys once the lease runs out."""
    claimed = _claim(rt, limit, timeout)
    if not claimed:
        return 0
    own = transport is None
    active = transport or from_settings(rt.settings, timeout)
    outcomes: list[Outcome] = []
    try:
        for mail in claimed:
            try:
                outcomes.append((mail, active.send(mail), None))
            except SendError as exc:
                outcomes.append((mail, None, exc))
            except Exception as exc:  # a transport bug must not strand the row in `sending`
                outcomes.append((mail, None, SendError(f"{type(exc).__name__}: {exc}")))
            if len(outcomes) >= RECORD_EVERY:
                _record(rt, outcomes)
                outcomes = []
    finally:
        _record(rt, outcomes)
        if own:
            active.close()
    return len(claimed)


def resend(rt: Runtime, outbox_id: int) -> bool:
    """Put a failed message back in the queue, unchanged (the admin's resend button)."""
    def work(session: Session) -> bool:
        row = session.get(OutboxMessage, outbox_id, with_for_update=True)
        if row is None or row.state != FAILED:
            return False
        row.state, row.attempts, row.next_attempt_at = QUEUED, 0, rt.now()
        log.info("outbound mail %s queued again by the admin", outbox_id,
                 extra={"correlation_id": row.correlation_id, "outbox_id": outbox_id})
        return True

    return rt.store.run(work)


def instance(rt: Runtime) -> str:
    """This service instance: the host and its SMTP port (stable across restarts)."""
    return f"{socket.gethostname()}:{rt.settings.smtp_listen}"


def take_back_claims(rt: Runtime) -> int:
    """After a crash, the mails this instance had in hand are due again at once instead of
    waiting for their lease; their idempotency keys keep a second send from delivering twice."""
    def work(session: Session) -> int:
        result = session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.state == SENDING, OutboxMessage.claimed_by == instance(rt))
            .values(state=RETRYING, next_attempt_at=rt.now(), claimed_by=None))
        return int(getattr(result, "rowcount", 0) or 0)
    taken = rt.store.run(work)
    if taken:
        log.warning("outbox: took back %s mails claimed before a restart", taken)
    return taken


async def run(rt: Runtime, stop: asyncio.Event, poll: float = 0.1,
              transport: Transport | None = None) -> None:
    """Send until `stop` is set; new rows are picked up within about `poll` seconds."""
    await asyncio.to_thread(take_back_claims, rt)
    active = transport if transport is not None else await asyncio.to_thread(
        from_settings, rt.settings, TIMEOUT)
    try:
        while not stop.is_set():
            pause = poll
            try:
                if await asyncio.to_thread(send_due, rt, 100, active):
                    continue
            except Exception:
                log.exception("outbox worker: sending round failed")
                pause = 1.0
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), pause)
    finally:
        if transport is None:
            await asyncio.to_thread(active.close)
