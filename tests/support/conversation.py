"""Drive the mail loop in-process: people write .eml messages (or reply to what the
outbox holds, the way a mail client does), the inbox worker handles them, and the
test reads the outbox."""

from __future__ import annotations

import dataclasses
import uuid
from email.message import EmailMessage
from email.utils import format_datetime, formataddr

from sqlalchemy import select

from mailbot.core.model import Booking
from mailbot.inbound import inbox, worker
from mailbot.runtime import Runtime
from mailbot.store import queries
from mailbot.store.tables import InboxMessage, OutboxMessage

UPSTREAM = "mx.upstream.example"  # the authserv-id of the MTA a test may trust


class Mailbox:
    """Everyone's mail client at once, talking to one runtime."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.seen = 0  # outbox id up to which `new()` has already returned mail

    def raw(self, sender: str, body: str, *, subject: str = "Anfrage", name: str | None = None,
            to: str | None = None, reply_to: OutboxMessage | None = None,
            headers: dict[str, str] | None = None, quote: bool = True) -> bytes:
        message = EmailMessage()
        message["From"] = formataddr((name, sender)) if name else sender
        if reply_to is not None:
            message["To"] = to or reply_to.reply_to
            message["Subject"] = f"Re: {reply_to.subject}"
            message["In-Reply-To"] = reply_to.message_id
            message["References"] = reply_to.message_id
            if quote:
                quoted = "\n".join(f"> {line}" for line in reply_to.text_body.splitlines())
                body = f"{body}\n\nAm 23.11.2026 um 10:00 schrieb {self.rt.house.name}:\n{quoted}\n"
        else:
            message["To"] = to or self.rt.settings.booking_address
            message["Subject"] = subject
        message["Date"] = format_datetime(self.rt.now())
        message["Message-ID"] = f"<{uuid.uuid4().hex}@mail.example.org>"
        for key, value in (headers or {}).items():
            message[key] = value
        message.set_content(body)
        return message.as_bytes()

    def send(self, sender: str, body: str, *, source: str = "smtp", **kwargs: object) -> InboxMessage:
        """Deliver one message and let the inbox worker handle it; returns its inbox row.
        `source="pipe"` delivers as an MTA in front would (see `upstream`)."""
        return self.deliver(self.raw(sender, body, **kwargs), source)  # type: ignore[arg-type]

    def authenticated(self, sender: str, body: str, **kwargs: object) -> InboxMessage:
        """A message whose From the trusted upstream MTA found authenticated (DMARC pass)."""
        domain = sender.rpartition("@")[2]
        headers = {"Authentication-Results": f"{UPSTREAM}; spf=pass smtp.mailfrom={domain};"
                                             f" dkim=pass header.d={domain};"
                                             f" dmarc=pass header.from={domain}",
                   **kwargs.pop("headers", {})}  # type: ignore[dict-item]
        self.trust_upstream()
        return self.send(sender, body, source="pipe", headers=headers, **kwargs)

    def trust_upstream(self) -> None:
        self.rt.settings = dataclasses.replace(self.rt.settings, trusted_authserv_id=UPSTREAM)

    def reply(self, sender: str, to_mail: OutboxMessage, body: str, **kwargs: object
              ) -> InboxMessage:
        return self.send(sender, body, reply_to=to_mail, **kwargs)

    def deliver(self, raw: bytes, source: str = "smtp") -> InboxMessage:
        stored = inbox.store_raw(self.rt, raw, source)
        worker.process_pending(self.rt)
        with self.rt.store.reading() as session:
            row = session.get(InboxMessage, stored.id)
            assert row is not None
            assert row.state in ("processed", "rejected", "ignored"), (row.state, row.detail)
            return row

    def outbox(self, to: str | None = None, kind: str | None = None) -> list[OutboxMessage]:
        with self.rt.store.reading() as session:
            query = select(OutboxMessage).order_by(OutboxMessage.id)
            if to is not None:
                query = query.where(OutboxMessage.to_address == to)
            if kind is not None:
                query = query.where(OutboxMessage.kind == kind)
            return list(session.scalars(query).all())

    def new(self) -> list[OutboxMessage]:
        """Mail queued since the last call."""
        fresh = [m for m in self.outbox() if m.id > self.seen]
        if fresh:
            self.seen = fresh[-1].id
        return fresh

    def booking(self, booking_id: int) -> Booking:
        with self.rt.store.reading() as session:
            found = queries.booking(session, booking_id)
            assert found is not None
            return found

    def last(self, to: str, kind: str | None = None) -> OutboxMessage:
        found = self.outbox(to, kind)
        everything = [(m.to_address, m.kind) for m in self.outbox()]
        assert found, f"no mail {kind or ''} to {to}; outbox: {everything}"
        return found[-1]
