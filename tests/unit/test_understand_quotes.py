"""Only what the person wrote counts: quoted history and signatures are removed."""

from __future__ import annotations

from datetime import date

from mailbot.understand import parse_message

TODAY = date(2026, 11, 23)


def _mail(body: str, subject: str = "Re: Neue Buchungsanfrage (01.–05.08.2027)") -> bytes:
    return (f"From: Inge Hartmann <inge@example.de>\nSubject: {subject}\n"
            "Content-Type: text/plain; charset=utf-8\n\n" + body).encode()


def test_gmail_quote_header_and_quoted_dates_do_not_leak() -> None:
    raw = _mail("JA\n\nAm Mo., 23. Nov. 2026 um 10:12 Uhr schrieb Haus Betzenstein <\n"
                "buchung@example.de>:\n> Zeitraum: 01.–05.08.2027\n> Personen: 5")
    result = parse_message(raw, TODAY)
    assert result.as_json()["intent"] == "approve"
    assert result.reply_text == "JA"
    assert "Zeitraum" in result.removed_text


def test_outlook_block_without_quote_marks_is_removed() -> None:
    raw = _mail("Nein, weil wir da selbst oben sind.\n\n-----Ursprüngliche Nachricht-----\n"
                "Von: Haus <b@example.de>\nGesendet: Montag, 23. November 2026 10:12\n"
                "An: Inge\nBetreff: Neue Buchungsanfrage\n\nZeitraum: 01.–05.08.2027")
    result = parse_message(raw, TODAY)
    assert result.intent == "deny"
    assert result.comment == "weil wir da selbst oben sind."


def test_english_outlook_block_is_removed() -> None:
    raw = _mail("OK\n\nFrom: Haus <b@example.de>\nSent: Monday, 23 November 2026\n"
                "To: Inge\nSubject: request 3.-5.8.")
    assert parse_message(raw, TODAY).reply_text == "OK"


def test_gmx_block_starting_with_gesendet_is_removed() -> None:
    raw = _mail("Passt!\n\nGesendet: Montag, 23. November 2026 um 10:12 Uhr\n"
                "Von: \"Haus\" <b@example.de>\nAn: inge@example.de\nBetreff: Anfrage")
    assert parse_message(raw, TODAY).reply_text == "Passt!"


def test_bottom_posted_answer_below_quote_is_found() -> None:
    raw = _mail("Am 23.11.2026 um 10:12 schrieb Haus:\n> Zeitraum: 01.–05.08.2027\n>\n\n"
                "NEIN, weil das Dach repariert wird.\nInge")
    result = parse_message(raw, TODAY)
    assert result.intent == "deny"
    assert result.comment == "weil das Dach repariert wird."


def test_bottom_posted_answer_below_unmarked_header_block_is_found() -> None:
    raw = _mail("Gesendet: Montag, 23. November 2026 um 10:12 Uhr\nVon: Haus <b@example.de>\n"
                "An: inge@example.de\nBetreff: Neue Buchungsanfrage\n\nZeitraum: 01.–05.08.2027\n"
                "Zustimmen: https://example.de/a/x/ja\n\nHaus Betzenstein – Buchungsassistent\n\n"
                "Ja, passt.\nConny")
    result = parse_message(raw, TODAY)
    assert (result.intent, result.first_name) == ("approve", "Conny")


def test_signature_and_mobile_footer_are_removed() -> None:
    raw = _mail("Wir kommen vom 3. bis 5. März.\n\n-- \nAnna Müller\nTel. 0171 1234567\n"
                "Gesendet von meinem iPhone", subject="Anfrage")
    result = parse_message(raw, TODAY)
    assert result.reply_text == "Wir kommen vom 3. bis 5. März."
    assert "0171" in result.removed_text


def test_iphone_footer_in_german_word_order_is_removed() -> None:
    raw = _mail("JA\n\nVon meinem iPhone gesendet")
    assert parse_message(raw, TODAY).reply_text == "JA"


def test_legal_disclaimer_is_removed() -> None:
    raw = _mail("Geht klar.\n\nDiese E-Mail enthält vertrauliche Informationen. Termin 1.8.")
    result = parse_message(raw, TODAY)
    assert result.reply_text == "Geht klar."
