"""Raw RFC 5322 bytes to a `Decoded` message: headers, addresses and the body as text."""

from __future__ import annotations

import binascii
import codecs
import email
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from email.header import decode_header, make_header
from email.headerregistry import HeaderRegistry
from email.message import Message
from typing import TypeVar, overload

from .html import html_to_text

_T = TypeVar("_T")


class Headers(Mapping[str, str]):
    """Header values by name, case-insensitive; the first occurrence of a name wins.

    Values are decoded (encoded words, folding) when first read."""

    def __init__(self, items: list[tuple[str, object]]) -> None:
        self._raw: dict[str, object] = {}
        self._names: dict[str, str] = {}
        self._decoded: dict[str, str] = {}
        for name, value in items:
            key = name.lower()
            if key not in self._raw:
                self._raw[key] = value
                self._names[key] = name

    @classmethod
    def of_part(cls, part: Part) -> Headers:
        """The headers of a part split by `split_part`, without splitting them again."""
        headers = cls([])
        for key, (name, value) in part.first.items():
            headers._raw[key] = value
            headers._names[key] = name
        return headers

    def __getitem__(self, name: str) -> str:
        key = name.lower()
        value = self._decoded.get(key)
        if value is None:
            value = header_text(self._raw[key])
            self._decoded[key] = value
        return value

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._raw

    @overload
    def get(self, name: str, /) -> str | None: ...
    @overload
    def get(self, name: str, /, default: str | _T) -> str | _T: ...

    def get(self, name: str, /, default: object = None) -> object:
        """Like Mapping.get, without raising and catching KeyError for a missing name."""
        if name.lower() not in self._raw:
            return default
        return self[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._names.values())

    def __len__(self) -> int:
        return len(self._raw)

    def __repr__(self) -> str:
        return f"Headers({ {name: self[name] for name in self} !r})"


_FOLD = re.compile(r"\s*[\r\n]+\s*")
_LINE_FOLD = re.compile(r"\r?\n(?=[ \t])")
_TYPE = re.compile(r"[^\s;]+")


def _unfold(value: str) -> str:
    """Folded lines joined by one blank (what `_FOLD.sub(" ", value).strip()` gives)."""
    return " ".join(line for line in (x.strip() for x in value.splitlines()) if line)


_ENCODED_WORD = re.compile(r"=\?([^?]*?)\?([qQbB])\?(.*?)\?=")


def _encoded_words(raw: str) -> str | None:
    """RFC 2047 encoded words decoded; None when they do not parse (the email package tries)."""
    out: list[str] = []
    pending = b""  # adjacent words in one charset are decoded together (split characters)
    pending_charset: str | None = None
    at = 0
    for m in _ENCODED_WORD.finditer(raw):
        between = raw[at:m.start()]
        charset = m.group(1).split("*", 1)[0].lower()
        data = m.group(3).encode("utf-8", "surrogateescape")
        if m.group(2) in "qQ":
            chunk = binascii.a2b_qp(data, header=True)
        else:
            try:
                chunk = binascii.a2b_base64(data + b"=" * (-len(data) % 4))
            except binascii.Error:
                return None
        if pending_charset is not None and not between.strip() and charset == pending_charset:
            pending += chunk
        else:
            if pending_charset is not None:
                out.append(decode_bytes(pending, pending_charset))
                if between.strip():
                    out.append(between)
            else:
                out.append(between)
            pending, pending_charset = chunk, charset
        at = m.end()
    if pending_charset is not None:
        out.append(decode_bytes(pending, pending_charset))
    out.append(raw[at:])
    return "".join(out)


_SURROGATE = re.compile("[\udc80-\udcff]")


def _raw_8bit(text: str) -> str:
    """Raw 8-bit bytes in a header (kept as lone surrogates when the head was split) as
    UTF-8, each byte that is no UTF-8 as cp1252 (Latin-1 where cp1252 has no character)."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "mailbot-cp1252")


def _cp1252_fallback(exc: UnicodeError) -> tuple[str, int]:
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    chunk = exc.object[exc.start:exc.end]
    return "".join(bytes([b]).decode("cp1252", "ignore") or chr(b) for b in chunk), exc.end


codecs.register_error("mailbot-cp1252", _cp1252_fallback)


def header_text(value: object) -> str:
    """An encoded-word header ("=?utf-8?q?…?=") as text; never raises. Raw 8-bit bytes are
    read as UTF-8 with a cp1252 fallback; U+FFFD (a character lost before it reached us)
    is dropped."""
    if value is None:
        return ""
    raw = str(value)
    if not raw.isascii():  # (a constant-time test: most headers are ASCII)
        if _SURROGATE.search(raw):
            raw = _raw_8bit(raw)
        if "\ufffd" in raw:
            raw = raw.replace("\ufffd", "")
    if "=?" not in raw:
        return _unfold(raw) if ("\n" in raw or "\r" in raw) else raw.strip()
    fast = _encoded_words(_unfold(raw))
    if fast is not None and "=?" not in fast:
        return _unfold(fast)
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
    return _FOLD.sub(" ", text).strip()


_CHARSET_ALIASES = {
    "iso-8859-1": "cp1252", "latin-1": "cp1252", "latin1": "cp1252", "us-ascii": "cp1252",
    "ascii": "cp1252", "iso8859-1": "cp1252", "iso_8859-1": "cp1252", "windows-1252": "cp1252",
    "utf8": "utf-8", "unicode-1-1-utf-8": "utf-8", "x-unknown": "utf-8", "unknown-8bit": "utf-8",
}


_SEVEN_BIT_CHARSETS = ("utf-7", "unicode-1-1-utf-7", "iso-2022-", "csiso2022", "hz-gb-2312", "hz")


def decode_bytes(payload: bytes, charset: str | None) -> str:
    """Bytes in a declared charset, tolerating a wrong or missing label."""
    declared = (charset or "").strip().strip('"').lower()
    declared = _CHARSET_ALIASES.get(declared, declared)
    if payload.isascii():
        if declared.startswith(_SEVEN_BIT_CHARSETS):  # UTF-7, ISO-2022-JP: ASCII bytes
            try:
                return payload.decode(declared)
            except (LookupError, UnicodeDecodeError):
                pass
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
    if "<" in text and _HTML_TAG.search(text, 0, 2000):
        text = html_to_text(text)
    return text.replace("\u00a0", " ").replace("\u200b", "")


def parse_bytes(raw: bytes) -> Message:
    """The email package's reading, for what `fast_text` cannot walk: of the first
    `MAX_FALLBACK_BYTES` only, so a malformed giant costs no more than a normal mail."""
    return email.message_from_bytes(raw[:MAX_FALLBACK_BYTES])


MAX_PARTS = 100  # MIME parts walked per message; a mail of people has a handful
MAX_FALLBACK_BYTES = 1_000_000
_HEADER_END = re.compile(rb"\n\r?\n")
_BOUNDARY = re.compile(r"""boundary\s*=\s*(?:"([^"]+)"|([^\s;]+))""", re.IGNORECASE)
_CHARSET = re.compile(r"""charset\s*=\s*(?:"([^"]+)"|([^\s;]+))""", re.IGNORECASE)


@dataclass
class Part:
    headers: list[tuple[str, str]]
    body: bytes
    first: dict[str, tuple[str, str]] = field(default_factory=dict, repr=False)
    """lower-case name → (name as written, value) of its first occurrence"""

    def get(self, key: str, default: str = "") -> str:
        """The value of header `key` (lower-case), as written."""
        item = self.first.get(key)
        return item[1] if item is not None else default


# One header field: "Name: value", folded lines (starting with blank or tab) included; the
# value without the blanks after the colon.
_FIELD = re.compile(r"^([^\s:][^:\n]*):[ \t]*(.*(?:\n[ \t].*)*)", re.MULTILINE)


def header_block(raw: bytes) -> bytes:
    """The header lines of a message, without its body: what a header-only parse needs (the
    email package splits the whole input into lines even when it keeps only the headers)."""
    m = _HEADER_END.search(raw)
    return raw[:m.end()] if m else raw


def split_part(raw: bytes) -> Part:
    """Headers and body of one RFC 5322 entity (the whole message or a MIME part)."""
    m = _HEADER_END.search(raw)  # "\n\n" or "\n\r\n", with the "\r" before it if any
    if m:
        start = m.start() - 1 if m.start() and raw[m.start() - 1] == 0x0D else m.start()
        head, body = raw[:start], raw[m.end():]
    else:
        head, body = raw, b""
    if raw.startswith((b"\n", b"\r\n")):
        head, body = b"", raw.lstrip(b"\r\n")
    text = head.decode("utf-8", "surrogateescape")
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    headers: list[tuple[str, str]] = []
    first: dict[str, tuple[str, str]] = {}
    for name, value in _FIELD.findall(text):
        item = (name.rstrip(), value)
        headers.append(item)
        first.setdefault(item[0].lower(), item)
    return Part(headers, body, first)


def _content_type(part: Part) -> tuple[str, str]:
    # unfolded (RFC 5322: the line break goes, the blank after it stays), so a parameter
    # folded inside its quotes ("boundary=\"abc\n def\"") reads as sent
    value = part.get("content-type", "text/plain")
    if "\n" in value:
        value = _LINE_FOLD.sub("", value)
    # the type ends at ";" or at a blank ("text/plain\n   charset=…" without the ";")
    found = _TYPE.match(value.strip())
    return (found.group(0).lower() if found else "text/plain"), value


def _decode_body(part: Part) -> bytes:
    cte = part.get("content-transfer-encoding", "").strip().lower()
    if cte == "base64":
        return binascii.a2b_base64(_NOT_BASE64.sub(b"", part.body) + b"==")
    if cte == "quoted-printable":
        return binascii.a2b_qp(part.body)
    return part.body


def _split_at(body: bytes, delimiter: bytes, limit: int = MAX_PARTS) -> list[bytes]:
    """`body` split at its delimiter lines ("--boundary", "--boundary--"): the preamble, the
    parts and the epilogue. Each part keeps the line break that ends the delimiter line.
    After `limit` parts the rest is one last piece, never looked into."""
    pieces: list[bytes] = []
    last = 0
    at = 0
    size = len(body)
    while True:
        i = body.find(delimiter, at)
        if i < 0:
            break
        at = i + 1
        if i == 0:
            cut = 0
        elif body[i - 1] == 0x0A:  # at the start of a line
            cut = i - 2 if i >= 2 and body[i - 2] == 0x0D else i - 1
        else:
            continue
        j = i + len(delimiter)
        if body.startswith(b"--", j):
            j += 2
        while j < size and body[j] in (0x20, 0x09):
            j += 1
        if j < size and body[j] != 0x0A and not body.startswith(b"\r\n", j):
            continue
        pieces.append(body[last:cut])
        last = at = j
        if len(pieces) > limit:
            break
    pieces.append(body[last:])
    return pieces


def fast_text(part: Part, depth: int = 0, walked: list[int] | None = None
              ) -> tuple[list[str], list[str]] | None:
    """(plain parts, html parts) of a well-formed message; None to let the email package try.
    At most `MAX_PARTS` parts are walked, all levels together; the rest is not read."""
    walked = [0] if walked is None else walked
    walked[0] += 1
    if walked[0] > MAX_PARTS:
        return [], []
    ctype, full = _content_type(part)
    disposition = part.get("content-disposition", "").lower()
    if disposition.startswith("attachment"):
        return [], []
    if ctype.startswith("multipart/"):
        found = _BOUNDARY.search(full)
        if not found or depth > 5:
            return None
        boundary = (found.group(1) or found.group(2)).encode("utf-8", "surrogateescape")
        chunks = _split_at(part.body, b"--" + boundary)
        if len(chunks) < 3:
            return None
        plain: list[str] = []
        html: list[str] = []
        for chunk in chunks[1:-1]:
            sub = fast_text(split_part(chunk.lstrip(b"\r\n") if not chunk.startswith(
                (b"\r\n\r\n", b"\n\n")) else chunk[1:]), depth + 1, walked)
            if sub is None:
                return None
            plain.extend(sub[0])
            html.extend(sub[1])
        return plain, html
    if ctype == "message/rfc822":
        return [], []
    if ctype not in ("text/plain", "text/html") or "filename" in disposition:
        return [], []
    found = _CHARSET.search(full)
    charset = (found.group(1) or found.group(2)) if found else None
    text = decode_bytes(_decode_body(part), charset)
    return ([text], []) if ctype == "text/plain" else ([], [text])


def join_bodies(plain: list[str], html: list[str]) -> str:
    if any(p.strip() for p in plain):
        text = "\n".join(plain)
    elif html:
        text = "\n".join(html_to_text(h) for h in html)
    else:
        text = ""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "<" in text and _HTML_TAG.search(text, 0, 2000):
        text = html_to_text(text)
    return text.replace("\u00a0", " ").replace("\u200b", "")


_HTML_TAG = re.compile(r"<(?:html|body|div|p|br)\b", re.IGNORECASE)
_NOT_BASE64 = re.compile(rb"[^A-Za-z0-9+/=]")
_NAME_ADDR = re.compile(r"^(.*?)<\s*([^<>]*)\s*>\s*$")
_PAREN = re.compile(r"\((.*)\)")
_MESSAGE_ID = re.compile(r"<[^<>\s]+>")
_ADDR = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+")


_REGISTRY = HeaderRegistry()


def split_from(value: str) -> tuple[str | None, str | None]:
    """Display name and lower-cased address of a From header value (encoded words allowed)."""
    raw = _unfold(value)
    m = _NAME_ADDR.match(raw)
    if m:
        name, addr = m.group(1).strip(), m.group(2).strip()
    else:
        found = _ADDR.search(raw)
        addr = found.group(0) if found else ""
        rest = raw.replace(addr, "", 1) if addr else raw
        paren = _PAREN.search(rest)
        name = paren.group(1) if paren else rest
    name = header_text(name.strip().strip('"').strip()).strip().strip('"\'').strip()
    name = name.replace('\\"', '"')
    if "@" in name:  # an address in the display name is a disguise, never a name
        name = ""
    return (name or None), (addr.lower() or None) if "@" in addr else None


def mailboxes(values: Iterable[str]) -> int:
    """How many different mailboxes the From header(s) name; a display name that only looks
    like an address is not one."""
    found: set[str] = set()
    for value in values:
        named: set[str] = set()
        try:
            parsed = getattr(_REGISTRY("From", _unfold(value)), "addresses", ())
            named = {a.addr_spec.lower() for a in parsed if "@" in a.addr_spec}
        except Exception:
            pass
        address = split_from(value)[1]
        found |= named or ({address} if address else set())
    return len(found)


def address_list(value: str) -> tuple[str, ...]:
    return tuple(a.lower() for a in _ADDR.findall(_unfold(value)))


def message_ids(value: str) -> tuple[str, ...]:
    return tuple(_MESSAGE_ID.findall(value))
