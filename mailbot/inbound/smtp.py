"""The SMTP edge: accept mail for the booking address, store it, answer.

The handler understands nothing. It refuses foreign recipients (we are never a relay),
lets aiosmtpd refuse oversized messages (552), checks SPF, DKIM and DMARC of what arrives
(`authenticity.verify`, kept beside the message), and answers 250 only after the raw bytes
are committed; when the database is away it answers 451 so the sending server retries.
Sessions are bounded: an idle timeout, a total duration and a number of recipients.
STARTTLS is offered when `SMTP_TLS_CERT` and `SMTP_TLS_KEY` are set.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from contextlib import suppress
from typing import Any

from aiosmtpd.smtp import MISSING, SMTP, Envelope, Session

from mailbot.config import Settings
from mailbot.inbound import authenticity, inbox
from mailbot.runtime import Runtime
from mailbot.store import DatabaseUnavailable

log = logging.getLogger(__name__)

_END = b"\r\n.\r\n"  # the lone "." line that ends DATA


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


def checked(rt: Runtime, raw: bytes, told: inbox.Envelope) -> inbox.Envelope:
    """The envelope with what SPF, DKIM and DMARC say about the sender (DNS: in a thread)."""
    found = authenticity.verify(rt.settings.mail_domain, raw, told.sender, told.peer, told.helo)
    return inbox.Envelope(told.sender, told.peer, told.helo, found)


class InboxHandler:
    """aiosmtpd handler: RCPT checks the address, DATA stores the message."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.recipients = Recipients(rt.settings)

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope,
                          address: str, rcpt_options: list[str]) -> str:
        counted = getattr(session, "recipients", 0) + 1
        session.recipients = counted  # type: ignore[attr-defined]
        if counted > self.rt.house.limits.smtp_recipients_per_session:
            return "452 4.5.3 Too many recipients in this session"
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
            told = await asyncio.to_thread(checked, self.rt, raw, arrival(session, envelope))
            result = await asyncio.to_thread(inbox.store_raw, self.rt, raw, "smtp", None, told)
        except DatabaseUnavailable as exc:
            log.warning("inbox unavailable, asked the sender to retry: %s", exc)
            return "451 4.3.0 Temporary storage failure, please try again later"
        except Exception:
            log.exception("could not store an inbound message")
            return "451 4.3.0 Temporary failure, please try again later"
        if result.duplicate:
            log.info("duplicate message acknowledged again (inbox %s)", result.id)
        return f"250 2.0.0 OK queued as {result.correlation_id}"


class BoundedSMTP(SMTP):
    """aiosmtpd's server with a cap on the whole session: commands such as NOOP reset the
    idle timeout, but no session outlives `session_seconds`."""

    def __init__(self, handler: InboxHandler, session_seconds: float, **kwargs: Any) -> None:
        super().__init__(handler, **kwargs)
        self.session_seconds = session_seconds

    async def smtp_DATA(self, arg: str) -> None:
        """DATA read in large pieces: aiosmtpd's own reads line by line in Python, seconds of
        CPU for a 10 MB mail of short lines (finding 2). Same answers: 503, 501, 354, 552."""
        if await self.check_helo_needed() or await self.check_auth_needed("DATA"):
            return
        assert self.envelope is not None
        if not self.envelope.rcpt_tos:
            await self.push("503 Error: need RCPT command")
            return
        if arg:
            await self.push("501 Syntax: DATA")
            return
        await self.push("354 End data with <CR><LF>.<CR><LF>")
        data = await self._read_data()
        if data is None:
            await self.push("552 Error: Too much mail data")
            self._set_post_data_state()
            return
        self.envelope.content = self.envelope.original_content = data
        status = await self._call_handler_hook("DATA")
        self._set_post_data_state()
        await self.push("250 OK" if status is MISSING else status)

    async def _read_data(self) -> bytes | None:
        """The message up to the lone "." line, dot-unstuffed; None when it is larger than
        the size limit (read to its end all the same, RFC 5321 §4.2.5)."""
        reader, limit = self._reader, self.data_size_limit
        # the data starts at the beginning of a line: look at it behind a virtual line end,
        # byte by byte while what was read could still be the start of the end marker
        head = bytearray(b"\r\n")
        while not head.endswith(_END) and any(head.endswith(_END[:k]) for k in range(1, len(_END))):
            head += await reader.readexactly(1)
        pieces, size, last = [bytes(head)], len(head), bytes(head)
        while not last.endswith(_END):
            try:
                last = await reader.readuntil(_END)
            except asyncio.LimitOverrunError as exc:  # no marker yet in what is buffered
                last = await reader.readexactly(exc.consumed)
            size += len(last)
            if pieces and limit and size > limit + len(_END) + 2:
                pieces = []  # too large: read on to the end, keep nothing
            elif pieces:
                pieces.append(last)
        if not pieces:
            return None
        data = b"".join(pieces)[2:-3]  # without the virtual line end and ".\r\n"
        data = data.replace(b"\r\n..", b"\r\n.")
        return data[1:] if data.startswith(b"..") else data

    async def _handle_client(self) -> None:
        try:
            await asyncio.wait_for(super()._handle_client(), self.session_seconds)
        except TimeoutError:
            with suppress(Exception):
                await self.push("421 4.4.2 Session too long, closing connection")
            if self.transport is not None:
                self.transport.close()


def tls_context(settings: Settings) -> ssl.SSLContext | None:
    if not settings.smtp_tls_cert:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(settings.smtp_tls_cert, settings.smtp_tls_key)
    return context


def make_server(rt: Runtime, loop: asyncio.AbstractEventLoop,
                tls: ssl.SSLContext | None = None) -> SMTP:
    limits = rt.house.limits
    return BoundedSMTP(
        InboxHandler(rt),
        session_seconds=limits.smtp_session_seconds,
        timeout=limits.smtp_idle_seconds,
        tls_context=tls,
        data_size_limit=limits.max_message_bytes,
        enable_SMTPUTF8=True,
        hostname=rt.settings.mail_domain,
        ident="mailbot",
        loop=loop,
    )


async def run(rt: Runtime, stop: asyncio.Event, started: asyncio.Event | None = None) -> None:
    """Serve SMTP on SMTP_LISTEN inside the running loop until `stop` is set."""
    host, port = Settings.split_listen(rt.settings.smtp_listen)
    loop = asyncio.get_running_loop()
    authenticity.use_dns_server(rt.settings.dns_server)
    tls = tls_context(rt.settings)
    server: Any = await loop.create_server(lambda: make_server(rt, loop, tls), host, port)
    log.info("SMTP listening on %s:%s", host, port)
    if started is not None:
        started.set()
    try:
        await stop.wait()
    finally:
        server.close()
        await server.wait_closed()
