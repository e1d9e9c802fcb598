"""Finding 2 (SPEC §5 "Bounded"): no single mail costs more than a fraction of a second of
understanding, however it is built: the text read is cut at 64 KB, MIME walking stops after
a number of parts, and HTML to text is linear."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date

import pytest

from mailbot.understand import MAX_TEXT_CHARS, decode, interpret, mime
from mailbot.understand.html import html_to_text

TODAY = date(2026, 11, 23)


def mail(body: bytes, content_type: str = "text/plain; charset=utf-8") -> bytes:
    return (b"From: Mallory <mallory@evil.example>\r\nTo: buchung@haus-betzenstein.de\r\n"
            b"Subject: Anfrage\r\nMessage-ID: <big@evil.example>\r\nMIME-Version: 1.0\r\n"
            b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body)


def many_parts(count: int) -> bytes:
    parts = b"".join(b"--b\r\nContent-Type: text/plain\r\n\r\nx\r\n" for _ in range(count))
    return mail(parts + b"--b--\r\n", 'multipart/mixed; boundary="b"')


ATTACKS: dict[str, Callable[[], bytes]] = {
    "9.6 MB of '1.' lines": lambda: mail(b"1.\r\n" * 2_400_000),
    "9.5 MB of 'a ' lines": lambda: mail(b"a \r\n" * 2_375_000),
    "240,000 MIME parts": lambda: many_parts(240_000),
    "9.5 MB of HTML": lambda: mail(b"<html><body>" + b"<div>Hallo <b>x</b></div>\r\n" * 360_000,
                                   "text/html; charset=utf-8"),
    "one HTML line of 1 MB of tags": lambda: mail(b"<p>" + b"<b>x</b>" * 140_000,
                                                  "text/html; charset=utf-8"),
}


@pytest.mark.parametrize("name", list(ATTACKS))
def test_finding2_one_hostile_mail_is_understood_in_well_under_two_seconds(name: str) -> None:
    raw = ATTACKS[name]()
    started = time.process_time()
    interpretation = interpret(decode(raw), TODAY)
    spent = time.process_time() - started
    assert spent < 1.5, f"{name}: {spent:.2f} s of CPU"  # before: 3 to 41 s
    assert len(interpretation.reply_text) <= MAX_TEXT_CHARS


def test_finding2_understanding_reads_the_first_64_kb_only() -> None:
    filler = "Hallo zusammen.\n" * (MAX_TEXT_CHARS // 16 + 10)
    late = decode(mail((filler + "Wir kommen vom 3. bis 7. August 2027 zu viert.\nAnna").encode()))
    assert interpret(late, TODAY).start is None  # beyond what is read
    early = decode(mail(("Wir kommen vom 3. bis 7. August 2027 zu viert.\n" + filler).encode()))
    assert interpret(early, TODAY).start == date(2027, 8, 3)


def test_finding2_mime_walking_stops_after_its_part_limit() -> None:
    parts = [b"--b\r\nContent-Type: text/plain\r\n\r\nTeil %d\r\n" % n for n in range(mime.MAX_PARTS + 50)]
    text = decode(mail(b"".join(parts) + b"--b--\r\n", 'multipart/mixed; boundary="b"')).text
    assert "Teil 1\n" in text
    assert f"Teil {mime.MAX_PARTS + 10}" not in text


def test_finding2_html_to_text_is_linear() -> None:
    def cost(repeat: int) -> float:
        html = "<p>" + "<b>x</b>" * repeat
        started = time.process_time()
        html_to_text(html)
        return time.process_time() - started

    small, large = cost(6_000), cost(60_000)
    assert large < 10 * small * 3  # ten times the input, about ten times the time (was ×100)
