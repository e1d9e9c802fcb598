"""Approver answers as real mail programs send them: the answer typed above the quoted request
(with or without a blank line), a mobile footer, a German company signature and disclaimer.
Issue 15: "Ja, passt." above a long signature was ignored, leaked history turned "Ja" into a
request, and deny reasons carried signature, disclaimer or quoted text to the requester."""

from __future__ import annotations

from datetime import date

import pytest

from mailbot.understand import parse_message

TODAY = date(2026, 11, 23)

REQUEST = """Hallo Inge,

Jonas möchte das Haus buchen:

  Zeitraum: 31.12.2026–03.01.2027
  Personen: 10 Personen
  Beschreibung: Silvester feiern mit der ganzen Familie, wir bringen alles mit.

Antworte einfach auf diese Mail mit JA oder mit NEIN und einer Begründung.
Zustimmen: https://haus-betzenstein.de/a/k7Qm2/ja
Ablehnen: https://haus-betzenstein.de/a/k7Qm2/nein

Haus Betzenstein – Buchungsassistent"""


def _quoted(text: str) -> str:
    return "\n".join(f"> {line}" if line else ">" for line in text.splitlines())


# how mail programs put the history under the answer (no blank line where they do not)
CLIENTS = {
    "thunderbird": "\n\nAm 23.11.2026 um 10:12 schrieb Haus Betzenstein:\n" + _quoted(REQUEST),
    "thunderbird_tight": "\nAm 23.11.2026 um 10:12 schrieb Haus Betzenstein:\n" + _quoted(REQUEST),
    "gmail": ("\n\nHaus Betzenstein <buchung@haus-betzenstein.de> schrieb am Mo., 23. Nov. 2026, "
              "10:12:\n\n" + _quoted(REQUEST)),
    "gmail_wrapped": ("\n\nAm Mo., 23. Nov. 2026 um 10:12 Uhr schrieb Haus Betzenstein <\n"
                      "buchung@haus-betzenstein.de>:\n\n" + _quoted(REQUEST)),
    "apple": ("\n\n> Am 23.11.2026 um 10:12 schrieb Haus Betzenstein "
              "<buchung@haus-betzenstein.de>:\n>\n" + _quoted(REQUEST)),
    "outlook": ("\n\n-----Ursprüngliche Nachricht-----\nVon: Haus Betzenstein "
                "<buchung@haus-betzenstein.de>\nGesendet: Montag, 23. November 2026 10:12\n"
                "An: Inge Hartmann <inge@example.de>\nBetreff: Neue Buchungsanfrage\n\n" + REQUEST),
    "outlook_tight": ("\n________________________________\nVon: Haus Betzenstein "
                      "<buchung@haus-betzenstein.de>\nGesendet: Montag, 23. November 2026 10:12\n"
                      "An: Inge Hartmann\nBetreff: Neue Buchungsanfrage\n\n" + REQUEST),
    "gmx": ("\n\nGesendet: Montag, 23. November 2026 um 10:12 Uhr\nVon: \"Haus Betzenstein\" "
            "<buchung@haus-betzenstein.de>\nAn: inge@example.de\nBetreff: Neue Buchungsanfrage\n"
            + REQUEST),
    "antwort_nachricht": "\n-----Antwort Nachricht-----\n" + REQUEST,
    "notes": ("\n\nHaus Betzenstein <buchung@haus-betzenstein.de> hat am 23.11.2026 10:12:48 "
              "geschrieben:\n\n" + _quoted(REQUEST)),
    "t_online": ("\n\n-------- Original-Nachricht --------\nBetreff: Neue Buchungsanfrage\n"
                 "Datum: 2026-11-23T10:12:00+0100\nVon: Haus Betzenstein <buchung@haus-betzenstein.de>\n"
                 "An: inge@example.de\n\n" + REQUEST),
    "horde": "\nZitat von Haus Betzenstein <buchung@haus-betzenstein.de>:\n\n" + _quoted(REQUEST),
    "english": ("\nOn Mon, Nov 23, 2026 at 10:12 AM Haus Betzenstein "
                "<buchung@haus-betzenstein.de> wrote:\n\n" + _quoted(REQUEST)),
    "gmail_old": ("\n\n2026-11-23 10:12 GMT+01:00 Haus Betzenstein <buchung@haus-betzenstein.de>:\n\n"
                  + _quoted(REQUEST)),
}

SIGNATURES = {
    "none": "",
    "name": "\nInge",
    "iphone": "\n\nGesendet von meinem iPhone",
    "outlook_android": "\n\nGesendet von Outlook für Android",
    "company": """

Mit freundlichen Grüßen
Inge Hartmann

Hartmann & Söhne GmbH
Hauptstraße 12, 91282 Betzenstein
Tel. +49 9244 12345
Geschäftsführer: Inge Hartmann, Karl Hartmann
Amtsgericht Nürnberg HRB 12345
USt-IdNr.: DE123456789

Diese E-Mail/Information ist ausschließlich für den Adressaten bestimmt und kann vertrauliche
oder rechtlich geschützte Informationen enthalten. Wenn Sie nicht der richtige Adressat sind
oder diese E-Mail irrtümlich erhalten haben, informieren Sie bitte sofort den Absender und
vernichten Sie diese Mail. Das unerlaubte Kopieren sowie die unbefugte Weitergabe dieser Mail
ist nicht gestattet.""",
    "dash": "\n\n-- \nInge Hartmann · Tel. 09244 12345",
}


def _parse(body: str) -> dict[str, object]:
    raw = ("From: Inge Hartmann <inge@example.de>\n"
           "Subject: AW: Neue Buchungsanfrage (31.12.2026–03.01.2027)\n"
           "Content-Type: text/plain; charset=utf-8\n\n" + body).encode()
    return parse_message(raw, TODAY).as_json()


@pytest.mark.parametrize("client", sorted(CLIENTS))
@pytest.mark.parametrize("signature", sorted(SIGNATURES))
@pytest.mark.parametrize("answer", ["Ja, passt.", "JA", "Einverstanden!", "ok"])
def test_a_yes_above_history_and_signature_is_an_approval(answer: str, signature: str,
                                                          client: str) -> None:
    result = _parse(answer + SIGNATURES[signature] + CLIENTS[client])
    assert (result["intent"], result["start"], result["party_size"]) == ("approve", None, None)
    assert "Buchungsassistent" not in str(result["reply"])


@pytest.mark.parametrize("client", sorted(CLIENTS))
@pytest.mark.parametrize("signature", sorted(SIGNATURES))
def test_a_deny_reason_carries_no_signature_disclaimer_or_history(signature: str,
                                                                  client: str) -> None:
    result = _parse("Nein, weil wir an Silvester selbst im Haus sind." + SIGNATURES[signature]
                    + CLIENTS[client])
    assert result["intent"] == "deny"
    assert result["comment"] == "weil wir an Silvester selbst im Haus sind."


def test_a_long_answer_is_read_from_its_first_sentence() -> None:
    """'Ja, passt.' with a 1,000-character signature below stays an approval (was: ignored
    because the reply was over 600 characters)."""
    body = "Ja, passt.\n\n" + "Hartmann & Söhne GmbH, Hauptstraße 12, Betzenstein. " * 20
    assert _parse(body)["intent"] == "approve"
