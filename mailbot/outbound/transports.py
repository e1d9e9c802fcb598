"""Where a rendered outbox row goes: maildir (the default), SMTP, Resend, or the console.

Every transport sends the same RFC 5322 message built from the row by `build_message`
(multipart/alternative text + HTML, UTF-8, all recorded headers) and returns a provider id.
A failure is a `SendError`: permanent (the worker fails the row at once) or transient
(the worker retries, BR-022)."""

from __future__ import annotations

import base64
import binascii
import contextlib
import mailbox
import os
import smtplib
import ssl
import sys
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from email import policy
from email.header import Header
from email.mime.multipart import MIMEMultipart
from email.mime.nonmultipart import MIMENonMultipart
from email.utils import formataddr, parseaddr
from pathlib import Path
from typing import Any, Protocol, TextIO
from urllib.parse import unquote, urlsplit

from mailbot.config import Settings
from mailbot.store.tables import OutboxMessage

# Headers the providers let us set ourselves; From/To/Subject/Reply-To travel as fields.
_ADDRESS_HEADERS = ("From", "To", "Reply-To", "Subject")


@dataclass(frozen=True)
class Outgoing:
    """A snapshot of an outbox row, so sending needs no database session."""

    id: int
    idempotency_key: str
    message_id: str
    correlation_id: str
    kind: str
    to_address: str
    reply_to: str
    subject: str
    text_body: str
    html_body: str
    headers: dict[str, str]
    attempts: int = 0  # including the one in hand
    attachments: tuple[dict[str, str], ...] = ()  # {"filename", "content_type", "content"}

    @staticmethod
    def of(row: OutboxMessage | Any) -> Outgoing:
        """From an outbox row: the mapped object or a result row with its columns."""
        return Outgoing(row.id, row.idempotency_key, row.message_id, row.correlation_id, row.kind,
                        row.to_address, row.reply_to, row.subject, row.text_body, row.html_body,
                        dict(row.headers or {}), row.attempts or 0, tuple(row.attachments or ()))

    @property
    def sender(self) -> str:
        return self.headers["From"]


class SendError(Exception):
    def __init__(self, message: str, permanent: bool = False, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.retry_after = retry_after


def _header(name: str, value: str) -> str | Header:
    value = " ".join(value.splitlines())  # a header never carries a line break of its own
    if value.isascii():
        return value
    if name in ("From", "To", "Reply-To"):
        return formataddr(parseaddr(value), charset="utf-8")
    return Header(value, "utf-8", header_name=name)


def _part(body: str, subtype: str) -> MIMENonMultipart:
    part = MIMENonMultipart("text", subtype, charset="utf-8")
    part["Content-Transfer-Encoding"] = "quoted-printable"
    # binascii's quoted-printable (C) instead of the email package's (Python): 5x cheaper
    part.set_payload(binascii.b2a_qp(body.encode("utf-8"), istext=True).decode("ascii"))
    return part


class _Policy(type(policy.compat32)):  # type: ignore[misc]
    """compat32, except that a header that fits on one line as it is is written as it is:
    the same line the Header folding algorithm makes of it, for a tenth of the cost."""

    def _fold(self, name: str, value: object, sanitize: bool) -> str:
        if (isinstance(value, str) and value.isascii() and len(name) + len(value) < 77
                and "\n" not in value and "\r" not in value):
            return f"{name}: {value}{self.linesep}"
        return str(super()._fold(name, value, sanitize))


_POLICIES = {linesep: _Policy(linesep=linesep) for linesep in ("\r\n", "\n")}


def _attachment(attachment: dict[str, str]) -> MIMENonMultipart:
    """A text file (the .ics) as an attachment, base64 so its CRLF lines arrive intact."""
    maintype, _, rest = attachment["content_type"].partition("/")
    subtype, *params = [p.strip() for p in rest.split(";")]
    part = MIMENonMultipart(maintype, subtype, charset="utf-8")
    for name, _, value in (p.partition("=") for p in params):
        part.set_param(name, value)
    part.set_param("name", attachment["filename"])
    part["Content-Disposition"] = f'attachment; filename="{attachment["filename"]}"'
    part["Content-Transfer-Encoding"] = "base64"
    part.set_payload(base64.encodebytes(attachment["content"].encode("utf-8")).decode("ascii"))
    return part


def build_message(mail: Outgoing, linesep: str = "\r\n") -> bytes:
    """The message as sent: multipart/alternative (text, then HTML), UTF-8 in
    quoted-printable, every recorded header; non-ASCII headers RFC 2047-encoded; with
    attachments, that inside a multipart/mixed. Built with the email package's compat32
    classes, a third of the cost of `EmailMessage`."""
    # "=_" never occurs in quoted-printable text, so this boundary needs no search of the
    # bodies (which costs the email package a regular expression per message)
    body = MIMEMultipart("alternative", boundary=f"=_{mail.idempotency_key}")
    body.attach(_part(mail.text_body, "plain"))
    body.attach(_part(mail.html_body, "html"))
    message = body
    if mail.attachments:
        message = MIMEMultipart("mixed", boundary=f"=_mixed_{mail.idempotency_key}")
        message.attach(body)
        for attachment in mail.attachments:
            message.attach(_attachment(attachment))
    headers = {"From": mail.sender, "To": mail.to_address, "Reply-To": mail.reply_to,
               "Subject": mail.subject, **mail.headers}
    for name, value in headers.items():
        message[name] = _header(name, value)  # type: ignore[assignment]  # compat32 takes a Header
    return message.as_bytes(policy=_POLICIES[linesep])


class Transport(Protocol):
    name: str

    def send(self, mail: Outgoing) -> str: ...

    def close(self) -> None: ...


class MaildirTransport:
    """A real Maildir (tmp/new/cur). The file is named after the idempotency key, so writing
    the same message again leaves the same single file."""

    name = "maildir"

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        mailbox.Maildir(self.path, create=True)  # makes tmp/, new/ and cur/
        self._cur_stamp: int | None = None
        self._cur_keys: frozenset[str] = frozenset()

    def _in_cur(self, key: str) -> bool:
        """A reader may have moved the file to cur/ with flags (`key:2,S`). The names of cur/
        are read again only when the folder changed, so a send stays O(1) however many
        mails the Maildir holds."""
        cur = self.path / "cur"
        try:
            stamp = cur.stat().st_mtime_ns
            if stamp != self._cur_stamp:
                self._cur_keys = frozenset(name.split(":", 1)[0] for name in os.listdir(cur))
                self._cur_stamp = stamp
        except OSError:
            return False
        return key in self._cur_keys

    def send(self, mail: Outgoing) -> str:
        key = "".join(c for c in mail.idempotency_key if c.isalnum() or c in "-_")
        if (self.path / "new" / key).exists() or self._in_cur(key):
            return key
        data = build_message(mail, linesep="\n")  # files on disk end lines the Unix way
        tmp = self.path / "tmp" / key
        try:
            with open(tmp, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.path / "new" / key)
        except OSError as exc:
            raise SendError(f"maildir: {exc}") from exc
        return key

    def close(self) -> None:
        pass


class SmtpTransport:
    """Relay through an SMTP server; one connection is reused while it lives. SMTP has no
    idempotency: a retry after a lost reply may deliver twice (best effort)."""

    name = "smtp"

    def __init__(self, url: str, envelope_from: str, timeout: float = 10.0) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError("OUTBOUND_SMTP_URL must look like smtp://user:pass@host:port")
        self.tls = parts.scheme == "smtps"
        self.host = parts.hostname
        self.port = parts.port or (465 if self.tls else 25)
        self.user = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        self.envelope_from = envelope_from
        self.timeout = timeout
        self._connection: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        if self._connection is not None:
            return self._connection
        context = ssl.create_default_context()
        connection: smtplib.SMTP
        if self.tls:
            connection = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        else:
            connection = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            connection.ehlo()
            if connection.has_extn("starttls"):
                connection.starttls(context=context)
                connection.ehlo()
        if self.user:
            connection.login(self.user, self.password or "")
        self._connection = connection
        return connection

    def send(self, mail: Outgoing) -> str:
        data = build_message(mail)  # flattened once, not per attempt
        for attempt in (1, 2):
            try:
                refused = self._connect().sendmail(self.envelope_from, [mail.to_address], data)
            except smtplib.SMTPServerDisconnected as exc:
                self._drop()
                if attempt == 2:  # a kept-alive connection may have timed out: try one fresh one
                    raise SendError(f"smtp: {exc}") from exc
                continue
            except smtplib.SMTPRecipientsRefused as exc:
                codes = [code for code, _ in exc.recipients.values()]
                raise SendError(f"smtp: recipient refused {codes}",
                                permanent=all(c >= 500 for c in codes)) from exc
            except smtplib.SMTPResponseException as exc:
                self._drop()
                raise SendError(f"smtp: {exc.smtp_code} {exc.smtp_error!r}",
                                permanent=exc.smtp_code >= 500) from exc
            except (smtplib.SMTPException, OSError) as exc:
                self._drop()
                raise SendError(f"smtp: {exc!r}") from exc
            if refused:
                raise SendError(f"smtp: refused {refused}", permanent=True)
            return mail.message_id
        raise AssertionError("unreachable")

    def _drop(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            with contextlib.suppress(OSError):
                connection.close()

    def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            try:
                connection.quit()
            except (smtplib.SMTPException, OSError):
                connection.close()


class ResendTransport:
    """The Resend API through its SDK; the row's idempotency key is sent as
    `Idempotency-Key`, so Resend delivers a retried message once."""

    name = "resend"

    def __init__(self, api_key: str, api_url: str = "", timeout: float = 10.0) -> None:
        import resend

        self._resend = resend
        resend.api_key = api_key
        if api_url:  # the SDK reads RESEND_API_URL at import; a .env value arrives here
            resend.api_url = api_url.rstrip("/")
        resend.default_http_client = _keep_alive_client(timeout)

    def send(self, mail: Outgoing) -> str:
        resend = self._resend
        extra = {k: v for k, v in mail.headers.items() if k not in _ADDRESS_HEADERS}
        params: Any = {
            "from": mail.sender,
            "to": [mail.to_address],
            "subject": mail.subject,
            "text": mail.text_body,
            "html": mail.html_body,
            "reply_to": mail.reply_to,
            "headers": extra,
        }
        if mail.attachments:
            params["attachments"] = [
                {"filename": a["filename"], "content_type": a["content_type"],
                 "content": base64.b64encode(a["content"].encode("utf-8")).decode("ascii")}
                for a in mail.attachments]
        try:
            response = resend.Emails.send(params, {"idempotency_key": mail.idempotency_key})
        except resend.exceptions.ResendError as exc:
            code = _int(exc.code) or 500
            retry_after = _retry_after(getattr(exc, "headers", None) or {})
            permanent = 400 <= code < 500 and code not in (408, 409, 429)
            raise SendError(f"resend: {code} {exc.message}", permanent=permanent,
                            retry_after=retry_after) from exc
        return str(response["id"])

    def close(self) -> None:
        pass


def _keep_alive_client(timeout: float) -> Any:
    """The SDK's HTTP client, but reusing one connection per thread (its default opens a
    new connection for every mail)."""
    import requests
    from resend.http_client import HTTPClient

    class KeepAliveClient(HTTPClient):
        def __init__(self) -> None:
            self._local = threading.local()

        def request(self, method: str, url: str, headers: Mapping[str, str],
                    json: dict[str, object] | list[object] | None = None,
                    files: dict[str, Any] | None = None, data: dict[str, str] | None = None
                    ) -> tuple[bytes, int, Mapping[str, str]]:
            session = getattr(self._local, "session", None)
            if session is None:
                session = self._local.session = requests.Session()
            try:
                body: Any = json if data is None else None
                response = session.request(method, url, headers=headers, json=body, data=data,
                                           files=files, timeout=timeout)
            except requests.RequestException as exc:
                session.close()
                self._local.session = None
                raise RuntimeError(f"Request failed: {exc}") from exc  # the SDK makes it a ResendError
            return response.content, response.status_code, response.headers

    return KeepAliveClient()


def _int(value: object) -> int | None:
    try:
        return int(str(value))
    except ValueError:
        return None


def _retry_after(headers: dict[str, str]) -> float | None:
    for name, value in headers.items():
        if name.lower() == "retry-after":
            try:
                return float(value)
            except ValueError:
                return None
    return None


class ConsoleTransport:
    name = "console"

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream

    def send(self, mail: Outgoing) -> str:
        stream = self.stream or sys.stdout
        stream.write(build_message(mail, linesep="\n").decode("ascii"))
        stream.write("\n")
        stream.flush()
        return f"console-{mail.idempotency_key}"

    def close(self) -> None:
        pass


def from_settings(settings: Settings, timeout: float = 10.0) -> Transport:
    """The transport MAIL_TRANSPORT names."""
    kind = settings.mail_transport
    if kind == "maildir":
        return MaildirTransport(settings.maildir)
    if kind == "smtp":
        envelope = parseaddr(settings.booking_address)[1]
        return SmtpTransport(settings.outbound_smtp_url, envelope, timeout)
    if kind == "resend":
        return ResendTransport(settings.resend_api_key, settings.resend_api_url, timeout)
    if kind == "console":
        return ConsoleTransport()
    raise ValueError(f"unknown MAIL_TRANSPORT {kind!r}")
