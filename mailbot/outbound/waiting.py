"""Waiting wishes: "Sag Bescheid, wenn frei wird". Someone refused for a conflict may ask
to be told when those dates free up; when a deny, cancel, expiry or shortening frees them
and the whole range is free, they get one mail and the wish is gone. Bounded: one wish per
person and range, dropped once its dates have passed."""

from __future__ import annotations

import logging
from datetime import date

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from mailbot.outbound.outbox import Mail, queue_all
from mailbot.runtime import Cause, Runtime
from mailbot.store import queries
from mailbot.store.tables import Conversation, WaitingWish

log = logging.getLogger("mailbot.waiting")


def wait(rt: Runtime, session: Session, address: str, start: date, end: date,
         conversation: Conversation | None) -> bool:
    """Note the wish; False when this person already waits for exactly these dates."""
    values = dict(address=address.strip().lower(), start_date=start, end_date=end,
                  conversation_id=conversation.id if conversation else None, created_at=rt.now())
    insert = sqlite_insert if rt.store.is_sqlite else pg_insert
    statement = insert(WaitingWish).values(**values).on_conflict_do_nothing(
        index_elements=["address", "start_date", "end_date"]).returning(WaitingWish.id)
    return session.execute(statement).first() is not None


def dates_freed(rt: Runtime, session: Session, start: date, end: date, cause: Cause) -> int:
    """Dates in start–end were freed in this transaction: tell everyone whose whole wished
    range is free now, once; how many were told."""
    today = rt.today()
    wishes = session.scalars(
        select(WaitingWish).where(WaitingWish.start_date <= end, WaitingWish.end_date >= start,
                                  WaitingWish.start_date >= today)
        .order_by(WaitingWish.id).with_for_update()).all()
    free = [w for w in wishes if not queries.blocking_overlaps(session, w.start_date, w.end_date)]
    if not free:
        return 0
    threads = {c.id: c for c in session.scalars(select(Conversation).where(
        Conversation.id.in_([w.conversation_id for w in free if w.conversation_id])))}
    queue_all(rt, session, [Mail("wish_free", w.address,
                                 {"wished_start": w.start_date, "wished_end": w.end_date},
                                 conversation=threads.get(w.conversation_id or 0)) for w in free],
              cause)
    session.execute(delete(WaitingWish).where(WaitingWish.id.in_([w.id for w in free])))
    log.info("waiting wishes told", extra={"correlation_id": cause.correlation_id, "count": len(free)})
    return len(free)


def drop_past(session: Session, today: date) -> None:
    """Wishes whose dates have begun or passed are no use any more."""
    session.execute(delete(WaitingWish).where(WaitingWish.start_date < today))
