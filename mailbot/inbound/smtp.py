"""The SMTP edge: accept mail for the booking address, store it, answer.

The handler understands nothing. It refuses foreign recipients (we are never a relay),
lets aiosmtpd refuse oversized messages (552), and answers 250 only after the raw bytes
are committed; when the database is away it answers 451 so the sending server retries.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session

from mailbot.config import Settings
from mailbot.inbound import inbox
from mailbot.runtime import Runtime
from mailbot.store.db import DatabaseUnavailable

log = logging.getLogger(__name__)


class Recipients:
    """The booking address and its plus-addresses, case-insensitive."""

    def __init__(self, settings: Settings) -> None:
        local, _, domain = settings.booking_address.lower().partition("@")
        self.local = local
        self.domains = {domain, settings.mail_domain.lower()}

    def accepts(self, address: str) -> bool:
        local, at, domain = address.strip().strip("<>").lower().rpartition("@")
        if not at or domain not in self.domains:
            return False
        base, plus, tag = local.partition("+")
        return base == self.local and (not plus or bool(tag))


def arrival(session: Session, envelope: Envelope) -> inbox.Envelope:
    """The envelope as the session told it: aiosmtpd keeps the null sender as `<>`."""
    peer = session.peer[0] if isinstance(session.peer, tuple) else session.peer
    return inbox.Envelope(inbox.envelope_sender(envelope.mail_from), str(peer)[:64] if peer else None,
                          (session.host_name or "")[:255] or None)


class InboxHandler:
    """aiosmtpd handler: RCPT checks the address, DATA stores the message."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.recipients = Recipients(rt.settings)

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope,
                          address: str, rcpt_options: list[str]) -> str:
        if not self.recipients.accepts(address):
            return "550 5.1.1 Recipient address rejected: no such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content if envelope.original_content is not None else envelope.content
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        if not raw:
            return "554 5.6.0 Empty message"
        try:
            result = await asyncio.to_thread(inbox.store_raw, self.rt, raw, "smtp", None,
                                             arrival(session, envelope))
        except DatabaseUnavailable as exc:
            log.warning("inbox unavailable, asked the sender to retry: %s", exc)
            return "451 4.3.0 Temporary storage failure, please try again later"
        except Exception:
            log.exception("could not store an inbound message")
            return "451 4.3.0 Temporary failure, please try again later"
        if result.duplicate:
            log.info("duplicate message acknowledged again (inbox %s)", result.id)
        return f"250 2.0.0 OK queued as {result.correlation_id}"


def make_server(rt: Runtime, loop: asyncio.AbstractEventLoop) -> SMTP:
    return SMTP(
        InboxHandler(rt),
        data_size_limit=rt.house.limits.max_message_bytes,
        enable_SMTPUTF8=True,
        hostname=rt.settings.mail_domain,
        ident="mailbot",
        loop=loop,
    )


async def run(rt: Runtime, stop: asyncio.Event, started: asyncio.Event | None = None) -> None:
    """Serve SMTP on SMTP_LISTEN inside the running loop until `stop` is set."""
    host, port = Settings.split_listen(rt.settings.smtp_listen)
    loop = asyncio.get_running_loop()
    server: Any = await loop.create_server(lambda: make_server(rt, loop), host, port)
    log.info("SMTP listening on %s:%s", host, port)
    if started is not None:
        started.set()
    try:
        await stop.wait()
    finally:
        server.close()
        await server.wait_closed()
