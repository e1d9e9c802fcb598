"""The durable inbox: raw bytes are committed before anyone acknowledges a message.

Every inbound path (SMTP, IMAP, pipe) calls `store_raw` and acknowledges only after it
returns. A message that is already stored (same Message-ID, or same source and source id)
is a duplicate, not an error: the caller acknowledges it again and nothing is stored twice.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from email.header import decode_header, make_header
from email.parser import BytesHeaderParser

from sqlalchemy import or_, select
from sqlalchemy.dialects import postgresql, sqlite

from mailbot.runtime import Runtime
from mailbot.store import DatabaseUnavailable
from mailbot.store.tables import InboxMessage
from mailbot.understand import mime
from mailbot.understand.machine import envelope_sender

log = logging.getLogger(__name__)

SOURCES = ("smtp", "imap", "pipe")
CHANNEL = "mailbot_inbox"  # PostgreSQL: told on every commit of a new message
_MESSAGE_ID = re.compile(r"<[^<>\s]+>")


@dataclass(frozen=True)
class StoreResult:
    id: int
    duplicate: bool
    correlation_id: str


@dataclass(frozen=True)
class Summary:
    """What the admin log shows before the message is understood."""

    message_id: str | None
    from_address: str | None
    subject: str | None
    return_path: str | None = None  # the envelope sender a delivering MTA wrote down


@dataclass(frozen=True)
class Envelope:
    """What an SMTP session told us beside the message: the envelope sender (MAIL FROM,
    `""` for the null sender `<>` of bounces), the connecting address and its HELO name,
    and what our server found about the sender (an `Authentication-Results` value)."""

    sender: str | None
    peer: str | None = None
    helo: str | None = None
    authentication_results: str | None = None


def content_id(raw: bytes) -> str:
    """The source id of a message that has none of its own (SMTP, pipe)."""
    return hashlib.sha256(raw).hexdigest()


def _text(value: object) -> str:
    raw = str(value or "")
    with suppress(Exception):  # a broken encoded word is shown as it came
        raw = str(make_header(decode_header(raw)))
    return re.sub(r"\s*[\r\n]+\s*", " ", raw).strip()


def summarize(raw: bytes) -> Summary:
    """Message-ID, sender, subject and Return-Path from the headers alone; never raises."""
    try:
        headers = BytesHeaderParser().parsebytes(mime.header_block(raw))
        message_id_header = str(headers.get("Message-ID") or "").strip()
        from_header = str(headers.get("From") or "")
        subject = _text(headers.get("Subject")) or None
        return_path = headers.get("Return-Path")  # the first one: the last MTA's
    except Exception:
        return Summary(None, None, None)
    found = _MESSAGE_ID.search(message_id_header)
    message_id = (found.group(0) if found else message_id_header)[:998] or None
    address = mime.split_from(from_header)[1]  # as the conversation reads it
    return Summary(message_id, address[:320] if address else None, subject,
                   envelope_sender(None if return_path is None else str(return_path)))


def _existing(rt: Runtime, source: str, source_id: str, message_id: str | None) -> InboxMessage | None:
    with rt.store.reading() as session:
        same_source = (InboxMessage.source == source) & (InboxMessage.source_id == source_id)
        match = same_source if message_id is None else or_(same_source,
                                                           InboxMessage.message_id == message_id)
        return session.scalars(select(InboxMessage).where(match).limit(1)).first()


# one statement: a message stored before (same source id or Message-ID, by this or another
# connection or instance) inserts nothing and is a duplicate. Built once, on the table (the
# ORM's insert machinery is not needed for one row of plain values)
_INSERT = {is_sqlite: dialect.insert(InboxMessage.__table__).on_conflict_do_nothing()
           .returning(InboxMessage.__table__.c.id)
           for is_sqlite, dialect in ((True, sqlite), (False, postgresql))}


def store_raw(rt: Runtime, raw: bytes, source: str, source_id: str | None = None,
              envelope: Envelope | None = None) -> StoreResult:
    """Commit the raw message with state `received`; returns once it is durable.

    `envelope` is what an SMTP session said; without one (IMAP, pipe) the envelope sender
    is the Return-Path header that the delivering MTA wrote.

    Raises `mailbot.store.db.DatabaseUnavailable` when the database cannot be reached, so
    the caller answers "try again later" instead of acknowledging."""
    if source not in SOURCES:
        raise ValueError(f"unknown inbound source {source!r}")
    source_id = source_id or content_id(raw)
    summary = summarize(raw)
    message_id = summary.message_id
    envelope = envelope or Envelope(summary.return_path)
    correlation_id = uuid.uuid4().hex[:16]
    values = dict(
        source=source,
        source_id=source_id,
        message_id=message_id,
        received_at=rt.now(),
        raw=raw,
        size=len(raw),
        from_address=summary.from_address,
        subject=summary.subject,
        envelope_sender=envelope.sender,
        peer_address=envelope.peer,
        helo_name=envelope.helo,
        authentication_results=envelope.authentication_results,
        state="received",
        correlation_id=correlation_id,
        attempts=0,
    )
    with rt.store.transaction() as session:
        stored = session.scalar(_INSERT[rt.store.is_sqlite], values)
        rt.store.notify(session, CHANNEL)
    if stored is None:
        found = _existing(rt, source, source_id, message_id)
        if found is None:
            raise DatabaseUnavailable("the inbox refused a message that it does not hold")
        return StoreResult(found.id, True, found.correlation_id)
    row = StoreResult(stored, False, correlation_id)
    arrived.ring()
    log.info("inbox #%s stored from %s", row.id, source,
             extra={"correlation_id": row.correlation_id, "size": len(raw)})
    return row


class Doorbell:
    """Wakes the inbox worker of this process when a message was stored; any thread may ring."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._listeners: list[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = []

    def ring(self) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for loop, event in listeners:
            with suppress(RuntimeError):  # that loop has already closed
                loop.call_soon_threadsafe(event.set)

    @contextmanager
    def listen(self) -> Iterator[asyncio.Event]:
        """An event of the running loop that is set whenever the bell rings."""
        entry = (asyncio.get_running_loop(), asyncio.Event())
        with self._lock:
            self._listeners.append(entry)
        try:
            yield entry[1]
        finally:
            with self._lock:
                self._listeners.remove(entry)


arrived = Doorbell()


async def listen(rt: Runtime, bell: asyncio.Event, stop: asyncio.Event) -> None:
    """PostgreSQL: set `bell` whenever any process (this one, another worker, `mailbot
    ingest`, another instance) stores a message. Reconnects by itself. (SQLite has no such
    channel: its writers are one process's threads, which ring `arrived`.)"""
    while not stop.is_set():
        try:
            async with await rt.store.listener(CHANNEL) as connection:
                bell.set()  # whatever arrived while we were not listening
                async for _ in connection.notifies():
                    bell.set()
        except Exception as exc:
            log.warning("inbox: not listening for new messages, retrying: %s", exc)
        with suppress(asyncio.TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=1.0)
