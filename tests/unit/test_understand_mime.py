"""Decoding the MIME shapes a German mailbox sees; broken input never raises."""

from __future__ import annotations

import base64
from datetime import date

from mailbot.understand import decode, parse_message

TODAY = date(2026, 11, 23)


def _mail(headers: str, body: bytes) -> bytes:
    return headers.replace("\n", "\r\n").encode("ascii") + b"\r\n\r\n" + body


def test_quoted_printable_latin1_body_is_decoded_to_umlauts() -> None:
    raw = _mail("From: Joerg <j@example.de>\nSubject: Anfrage\nContent-Type: text/plain; "
                "charset=iso-8859-1\nContent-Transfer-Encoding: quoted-printable",
                b"Gr=FC=DFe aus M=FCnchen")
    assert decode(raw).text == "Grüße aus München"


def test_base64_utf8_body_is_decoded() -> None:
    body = base64.encodebytes("Wir würden gern vom 3. bis 5. März kommen.".encode())
    raw = _mail("From: a@example.de\nSubject: Haus\nContent-Type: text/plain; charset=utf-8\n"
                "Content-Transfer-Encoding: base64", body)
    assert "würden" in decode(raw).text
    assert parse_message(raw, TODAY).start == date(2027, 3, 3)


def test_utf8_bytes_mislabelled_as_latin1_still_read_as_utf8() -> None:
    raw = _mail("From: a@example.de\nContent-Type: text/plain; charset=iso-8859-1",
                "Schöne Grüße".encode())
    assert decode(raw).text == "Schöne Grüße"


def test_windows1252_bytes_labelled_utf8_fall_back_gracefully() -> None:
    raw = _mail("From: a@example.de\nContent-Type: text/plain; charset=utf-8",
                "Grüße – bis bald".encode("cp1252"))
    assert decode(raw).text == "Grüße – bis bald"


def test_unknown_charset_label_does_not_raise() -> None:
    raw = _mail("From: a@example.de\nContent-Type: text/plain; charset=x-klingon",
                "Grüße".encode("latin-1"))
    assert decode(raw).text == "Grüße"


def test_encoded_word_subject_and_comma_display_name() -> None:
    raw = _mail("From: =?utf-8?q?M=C3=BCller=2C_Anna?= <A.Mueller@Example.de>\n"
                "Subject: =?utf-8?b?" + base64.b64encode("Anfrage für März".encode()).decode()
                + "?=\nContent-Type: text/plain", b"Hallo")
    decoded = decode(raw)
    assert decoded.subject == "Anfrage für März"
    assert decoded.from_name == "Müller, Anna"
    assert decoded.from_address == "a.mueller@example.de"


def test_multipart_alternative_prefers_plain_text() -> None:
    raw = _mail('From: a@example.de\nContent-Type: multipart/alternative; boundary="XX"',
                b"--XX\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nnur Text\r\n"
                b"--XX\r\nContent-Type: text/html\r\n\r\n<p>HTML</p>\r\n--XX--\r\n")
    assert decode(raw).text.strip() == "nur Text"


def test_html_only_mail_becomes_text_with_quotes_marked() -> None:
    html = (b"<html><body><div>Ja, passt!</div><div><br></div><div class=gmail_quote>"
            b"<blockquote>vom 1. bis 3.8.</blockquote></div></body></html>")
    raw = _mail("From: Inge <i@example.de>\nSubject: Re: Neue Buchungsanfrage\n"
                "Content-Type: text/html; charset=utf-8", html)
    result = parse_message(raw, TODAY)
    assert decode(raw).text.splitlines()[0] == "Ja, passt!"
    assert result.intent == "approve"
    assert "1. bis 3.8." in result.removed_text


def test_attachments_are_ignored() -> None:
    raw = _mail('From: a@example.de\nContent-Type: multipart/mixed; boundary="B"',
                b"--B\r\nContent-Type: text/plain\r\n\r\nHallo\r\n--B\r\nContent-Type: "
                b"text/plain\r\nContent-Disposition: attachment; filename=x.txt\r\n\r\n"
                b"vom 1. bis 3.8.\r\n--B--\r\n")
    assert decode(raw).text.strip() == "Hallo"


def test_headers_are_case_insensitive_and_first_value_wins() -> None:
    raw = _mail("From: a@example.de\nReceived: one\nReceived: two\nX-Thing: 1", b"x")
    headers = decode(raw).headers
    assert headers["received"] == "one"
    assert headers.get("X-THING") == "1"


def test_garbage_input_gives_unknown_instead_of_raising() -> None:
    for raw in (b"", b"\x00\xff\xfe garbage", b"Content-Type: multipart/mixed; boundary=\r\n\r\n--",
                b"From: <<<>>>\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!not base64"):
        result = parse_message(raw, TODAY)
        assert result.intent == "unknown"


def test_from_counts_its_mailboxes_also_on_the_fast_path() -> None:
    """One From with one address is one sender without the full address parser; a display
    name that looks like an address, two mailboxes or two From headers go the long way."""
    cases = {
        "From: Anna Berger <anna@example.de>": 1,
        "From: anna@example.de": 1,
        "From: Anna Berger": 0,
        'From: "ingeborg@example.org" <evil@example.net>': 1,
        "From: Anna <anna@example.de>, Tom <tom@example.de>": 2,
        "From: Anna <anna@example.de>\nFrom: Tom <tom@example.de>": 2,
    }
    for header, senders in cases.items():
        decoded = decode(_mail(f"{header}\nSubject: x\nContent-Type: text/plain", b"Hallo"))
        assert decoded.senders == senders, header
