"""`mailbot mail list` / `mailbot mail show N`: the stored outgoing mails as a person reads
them — decoded, recipients by name, the text part with its links whole (the Maildir files are
quoted-printable MIME, where long links are broken by `=` line ends)."""

from __future__ import annotations

from email.utils import formataddr
from typing import TextIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailbot.outbound.transports import Outgoing, build_message
from mailbot.runtime import Runtime
from mailbot.store.tables import OutboxMessage, Person


class NoSuchMail(LookupError):
    pass


def _names(rt: Runtime, session: Session, addresses: set[str]) -> dict[str, str]:
    """address → the name we know: an approver's, else the person's first name."""
    found = {p.email: p.first_name for p in session.scalars(
        select(Person).where(Person.email.in_(addresses))) if p.first_name}
    for address in addresses:
        approver = rt.house.approver_for_address(address)
        if approver:
            found[address] = approver.name
    return found


def list_mails(rt: Runtime, out: TextIO, limit: int = 20) -> int:
    """The newest `limit` mails, newest first: number, time, state, recipient, subject."""
    zone = rt.house.timezone
    with rt.store.reading() as session:
        rows = session.execute(
            select(OutboxMessage.id, OutboxMessage.created_at, OutboxMessage.state,
                   OutboxMessage.to_address, OutboxMessage.subject)
            .order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc()).limit(limit)).all()
        names = _names(rt, session, {row.to_address for row in rows})
    width = max((len(names.get(row.to_address, row.to_address)) for row in rows), default=0)
    for row in rows:
        to = names.get(row.to_address, row.to_address)
        out.write(f"#{row.id:<4} {row.created_at.astimezone(zone):%Y-%m-%d %H:%M}  {row.state:<8}  "
                  f"an {to:<{width}}  {row.subject}\n")
    if not rows:
        out.write("Noch keine ausgehenden Mails.\n")
    return 0


def show_mail(rt: Runtime, mail_id: int, out: TextIO, raw: bool = False) -> int:
    """One mail: its headers and its text part as the recipient reads it; with `raw`, the
    whole message exactly as it is sent (RFC 5322, for a mail program or `scripts/reply.py`)."""
    with rt.store.reading() as session:
        row = session.get(OutboxMessage, mail_id)
        if row is None:
            raise NoSuchMail(f"no outgoing mail #{mail_id} (see: mailbot mail list)")
        mail = Outgoing.of(row)
        name = _names(rt, session, {row.to_address}).get(row.to_address, "")
        state = row.state
    if raw:
        out.write(build_message(mail, linesep="\n").decode("ascii"))
        return 0
    headers = {"From": mail.sender, "To": formataddr((name, mail.to_address)),
               "Reply-To": mail.reply_to, "Subject": mail.subject, "Date": mail.headers.get("Date", ""),
               "Message-ID": mail.message_id}
    for key, value in headers.items():
        out.write(f"{key + ':':<12}{value}\n")
    for attachment in mail.attachments:
        out.write(f"{'Attachment:':<12}{attachment['filename']} ({attachment['content_type']})\n")
    out.write(f"{'State:':<12}{state}\n\n{mail.text_body}")
    return 0
