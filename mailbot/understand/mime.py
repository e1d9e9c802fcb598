"""Raw RFC 5322 bytes to a `Decoded` message: headers, addresses and the body as text."""

from __future__ import annotations

import email
import re
from collections.abc import Iterator, Mapping
from email.header import decode_header, make_header
from email.message import Message
from email.utils import getaddresses, parseaddr

from .html import html_to_text


class Headers(Mapping[str, str]):
    """Header values by name, case-insensitive; the first occurrence of a name wins."""

    def __init__(self, items: list[tuple[str, str]]) -> None:
        self._values: dict[str, str] = {}
        self._names: dict[str, str] = {}
        for name, value in items:
            key = name.lower()
            if key not in self._values:
                self._values[key] = value
                self._names[key] = name

    def __getitem__(self, name: str) -> str:
        return self._values[name.lower()]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._values

    def __iter__(self) -> Iterator[str]:
        return iter(self._names.values())

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"Headers({dict(zip(self._names.values(), self._values.values(), strict=True))!r})"


def header_text(value: object) -> str:
    """An encoded-word header ("=?utf-8?q?…?=") as text; never raises."""
    if value is None:
        return ""
    raw = str(value)
    try:
        text = str(make_header(decode_header(raw)))
    except Exception:
        text = raw
    if "=?" in text:  # encoded words glued to text that the strict parser refused
        try:
            parts = []
            for chunk, charset in decode_header(text):
                if isinstance(chunk, bytes):
                    parts.append(decode_bytes(chunk, charset))
                else:
                    parts.append(chunk)
            text = "".join(parts)
        except Exception:
            pass
    return re.sub(r"\s*[\r\n]+\s*", " ", text).strip()


_CHARSET_ALIASES = {
    "iso-8859-1": "cp1252", "latin-1": "cp1252", "latin1": "cp1252", "us-ascii": "cp1252",
    "ascii": "cp1252", "iso8859-1": "cp1252", "iso_8859-1": "cp1252", "windows-1252": "cp1252",
    "utf8": "utf-8", "unicode-1-1-utf-8": "utf-8", "x-unknown": "utf-8", "unknown-8bit": "utf-8",
}


def decode_bytes(payload: bytes, charset: str | None) -> str:
    """Bytes in a declared charset, tolerating a wrong or missing label."""
    declared = (charset or "").strip().strip('"').lower()
    declared = _CHARSET_ALIASES.get(declared, declared)
    if payload.isascii():
        return payload.decode("ascii")
    # Valid UTF-8 with non-ASCII bytes is almost never meant as Latin-1: trust the bytes.
    try:
        return payload.decode("utf-8")
    except UnicodeDecodeError:
        pass
    if declared and declared != "utf-8":
        try:
            return payload.decode(declared)
        except (LookupError, UnicodeDecodeError):
            pass
    return payload.decode("cp1252", errors="replace")


def _part_text(part: Message) -> str:
    try:
        payload = part.get_payload(decode=True)
    except Exception:
        payload = None
    if not isinstance(payload, bytes):
        raw = part.get_payload()
        if isinstance(raw, str):
            payload = raw.encode("utf-8", "surrogateescape")
        else:
            return ""
    try:
        charset = part.get_content_charset()
    except Exception:
        charset = None
    return decode_bytes(payload, charset)


def _is_attachment(part: Message) -> bool:
    disposition = str(part.get("Content-Disposition", "")).lower()
    return disposition.startswith("attachment") or (
        "filename" in disposition and not disposition.startswith("inline"))


def _bodies(message: Message) -> tuple[list[str], list[str]]:
    """(plain parts, html parts) in order, attachments and nested mails' headers skipped."""
    plain: list[str] = []
    html: list[str] = []
    for part in message.walk():
        if part.is_multipart() or _is_attachment(part):
            continue
        ctype = part.get_content_type()
        if ctype == "text/plain":
            plain.append(_part_text(part))
        elif ctype == "text/html":
            html.append(_part_text(part))
    return plain, html


def body_text(message: Message) -> str:
    try:
        plain, html = _bodies(message)
    except Exception:
        plain, html = [], []
    if any(p.strip() for p in plain):
        text = "\n".join(plain)
    elif html:
        text = "\n".join(html_to_text(h) for h in html)
    else:
        payload = message.get_payload()
        text = payload if isinstance(payload, str) else ""
        if text and not message.is_multipart() and message.get_content_maintype() != "text":
            text = ""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "<" in text and re.search(r"<(?:html|body|div|p|br)\b", text[:2000], re.IGNORECASE):
        text = html_to_text(text)
    return text.replace("\u00a0", " ").replace("\u200b", "")


def parse_bytes(raw: bytes) -> Message:
    return email.message_from_bytes(raw)


def addresses(message: Message, name: str) -> list[tuple[str, str]]:
    values = [header_text(v) for v in message.get_all(name, [])]
    try:
        return [(n, a) for n, a in getaddresses(values) if a or n]
    except Exception:
        return []


def from_address(message: Message) -> tuple[str | None, str | None]:
    raw = message.get("From")
    if raw is None:
        return None, None
    raw_text = re.sub(r"\s*[\r\n]+\s*", " ", str(raw))
    try:
        # Parse before decoding: an encoded display name may hold a comma ("Müller, Anna").
        name, addr = parseaddr(raw_text)
        name = header_text(name)
    except Exception:
        name, addr = "", ""
    if not addr or "@" not in addr:
        text = header_text(raw)
        found = re.search(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", text)
        addr = found.group(0) if found else ""
        name = name or text.replace(addr, "").strip(" <>\"'")
    name = name.strip().strip("\"'").strip()
    return (name or None), (addr.lower() or None)


def message_ids(value: str) -> tuple[str, ...]:
    return tuple(re.findall(r"<[^<>\s]+>", value))
