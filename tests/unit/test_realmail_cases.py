"""Each case of issue 15 ("real mail from real mail programs") as our own test, so none of it
depends on the shared fixture folder: quote headers and signatures of real mail programs, machine
mail as SPEC §5 lists it, and the MIME oddities that lost names or bodies."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from mailbot.understand import decode, parse_message
from mailbot.understand.quotes import split_reply
from mailbot.understand.vocabulary import vocabulary

TODAY = date(2026, 11, 23)
MAILBOT = Path(sys.executable).with_name("mailbot")


def reply(text: str) -> str:
    return split_reply(text, vocabulary()).text


def parse(head: str, body: str = "Hallo, wir möchten vom 3. bis 9. August mit 4 Personen kommen.",
          ) -> dict[str, object]:
    raw = (head + "Content-Type: text/plain; charset=utf-8\n\n" + body).encode()
    return parse_message(raw, TODAY).as_json()


# ------------------------------------------------------------------ quote headers

@pytest.mark.parametrize(("text", "kept"), [
    # the answer typed directly above the header, no blank line (was: eaten with the header)
    ("Ja, passt.\nInge Hartmann <inge@example.de> schrieb:\n> Jonas möchte buchen", "Ja, passt."),
    ("Ja, passt.\nAm 23.11.2026 um 10:12 schrieb Haus Betzenstein:\n> Jonas", "Ja, passt."),
    ("Ja, passt.\nAnna Berger hat am 23.11.2026 um 10:12 geschrieben:\n\n> Jonas", "Ja, passt."),
    ("Sounds good.\nOn Mon, Nov 23, 2026 at 10:12 AM Haus <b@h.de> wrote:\n> x", "Sounds good."),
    ("Hi,\nOn Tue, 2011-03-01 at 18:02 +0530, Abhishek Kona wrote:\n> Hi folks", "Hi,"),
    ("I will try as soon as I\nget back to a computer.\nOn Dec 8, 2013 2:10 PM, \"J\" "
     "<n@github.com> wrote:\n\n> quoted", "I will try as soon as I\nget back to a computer."),
    # "reply On … wrote:" on one line (was: the whole line dropped)
    ("reply On Wed, Apr 4, 2012 at 3:59 PM, bob@example.com wrote:\n> Hi", "reply"),
    ("Danke--- Am 23.11.2026 um 10:12 schrieb Inge <i@x.de>:\n> Hi", "Danke"),
    # a header on top, the person's own text below the quote (was: nothing left)
    ("On 04/19/2011 07:10 AM, Roman Tkachenko wrote:\n\n>\n> Test\nTest reply", "Test reply"),
    # headers not recognised before
    ("Test reply\n\n2014-03-20 8:48 GMT+01:00 Rémi Dolan <do_not_reply@dolan.com>:\n\n> x",
     "Test reply"),
    ("Test reply\n\n-----Antwort Nachricht-----\n\nTest", "Test reply"),
    ("Test reply\n\n-----Reply Message-----\n\nTest", "Test reply"),
    ("Test reply\n\nOn Tue, Apr 11, 2017 at 10:07 PM John Smith\n\n<\nmailto:John Smith "
     "<johnsmith@gmail.com>\n> wrote:\nTest quoted data\n", "Test reply"),
    ("Test reply\n\n---- John Smith wrote ----\n\n> quoted\n> text\n", "Test reply"),
    ("YOLO.\n\n------On 12/29/1987 17:32 PM, Julius Caesar wrote-----\n\nBrunch.", "YOLO."),
    ("Test reply\n\nOn Fri, May 6, 2011 at 6:03 PM, Roman from Hacker News\n<roman@x.com> "
     "wrote:\n\n> Test.\n\nRegards, Roman", "Test reply\n\nRegards, Roman"),
    ("Lorem\n\nDe : Brendan [mailto:b@x.com]\nEnvoyé : vendredi 23 janvier 2015 16:39\n"
     "À : Camille\nObjet : Follow Up\n\nBlah", "Lorem"),
    # other languages; a pattern with an optional colon is tried on lines ending in one too
    ("Lorem\n\nOp 13-02-2014 3:18 schreef Julius Caesar <pantheon@rome.com>:\n\nVeniam.", "Lorem"),
    ("Lorem\n\nLe 19/03/2014 11:34, Georges du chemin a écrit :\n\nBlah", "Lorem"),
    ("Hello\n02.04.2012 14:20 пользователь \"bob@x.org\" <\nbob@x.org> написал:\n\n> Hi", "Hello"),
    ("Lorem\n\ntir. 18. apr. 2017 kl. 13:09 skrev Test user <test@example.com\n>:\n\n> Hi", "Lorem"),
    ("Replying ok\n2011/4/7 Nathan Nova <support@example.com>\n\n>  Cool beans", "Replying ok"),
    ("Merci\n\n====================\n\nMessage du : 12/12/2016 13:20\nDe : \"Q\" <q@x.com>\n"
     "Sujet : x\n\nold", "Merci"),
    # a link wrapped out of the quote is still the quote
    ("Blah\n\nOn Monday, 24 September, 2012 at 3:46 PM, bob wrote:\n\n> [Ticket #50] test\n>\n"
     "> View ticket (http://example.com/action\n_nonce=3dd518)\n>\n", "Blah"),
])
def test_the_new_text_is_kept_and_the_history_goes(text: str, kept: str) -> None:
    assert reply(text) == kept


def test_something_wrote_in_running_text_is_no_quote_header() -> None:
    text = "Erster Absatz.\n\nSomething wrote:\nund dann ging es weiter im Text."
    assert reply(text) == text


def test_a_line_starting_with_on_is_no_header() -> None:
    assert reply("Blah-blah-blah\nOn blah-blah-blah") == "Blah-blah-blah\nOn blah-blah-blah"


# ------------------------------------------------------------------ signatures

@pytest.mark.parametrize("footer", [
    "Gesendet von Outlook für Android",
    "Gesendet mit der WEB.DE Mail App",
    "Sent from my iPhone",
    "Sent from Mail for Windows 10",
    "Sent with Sparrow (http://www.sparrowmailapp.com/?sig)",
    "Hartmann GmbH\nGeschäftsführer: Inge Hartmann",
    "USt-IdNr.: DE123456789",
    "Amtsgericht Nürnberg HRB 12345",
    "Sitz der Gesellschaft: Betzenstein",
    "Diese E-Mail/Information ist ausschließlich für den Adressaten bestimmt.",
    "Diese E-Mail enthält vertrauliche Informationen.",
])
def test_german_company_signatures_disclaimers_and_mobile_footers_are_cut(footer: str) -> None:
    """The signature patterns ended in \\b after ':' and so never matched (issue 15)."""
    assert reply(f"Ja, passt.\n\n{footer}\nmehr Kleingedrucktes") == "Ja, passt."


def test_a_sentence_that_starts_with_sent_from_is_no_signature() -> None:
    text = "Here is another email\n\nSent from my desk, is much easier then my mobile phone."
    assert reply(text) == text


# ------------------------------------------------------------------ machine mail

ARF = """From: staff@hotmail.com
To: abuse@haus-betzenstein.de
Subject: complaint about message
MIME-Version: 1.0
Content-Type: multipart/report; report-type=feedback-report; boundary="b"

--b
Content-Type: text/plain

Bitte stornieren Sie alle Mails an mich.
--b
Content-Type: message/feedback-report

Feedback-Type: abuse
User-Agent: Hotmail FBL
Version: 1
--b--
"""


@pytest.mark.parametrize(("head", "machine"), [
    ("X-Auto-Response-Suppress: All\nSubject: Re: Anfrage\n", "auto_reply"),
    ("X-MS-Exchange-Inbox-Rules-Loop: inge@example.de\nSubject: Re: Anfrage\n", "loop"),
    ("X-Loop: inge@example.de\nSubject: Anfrage\n", "loop"),
    ("Subject: [AUTO GENERATED] Eingangsbestätigung\n", "auto_reply"),
    ("Subject: Auto-Reply: Anfrage\n", "auto_reply"),
    ("List-Subscribe: <mailto:freunde-join@lists.example.org>\nSubject: Sommer\n", "list"),
    ("X-MLServer: lists.example.org\nSubject: Sommer\n", "list"),
    ("Precedence: bulk\nSubject: Sommer\n", "list"),
    ("Return-Path: <>\nSubject: Anfrage\n", "bounce"),
])
def test_machine_mail_is_named_and_never_a_request(head: str, machine: str) -> None:
    result = parse("From: Inge Hartmann <inge@example.de>\n" + head)
    assert (result["machine"], result["intent"], result["start"]) == (machine, "unknown", None)


@pytest.mark.parametrize(("sender", "machine"), [
    ("noreply@example.com", "noreply"), ("no-reply@example.com", "noreply"),
    ("donotreply@example.com", "noreply"), ("post_master@example.com", "bounce"),
    ("MAILER-DAEMON@example.com", "bounce"), ("buchung@haus-betzenstein.de", "own"),
])
def test_senders_nobody_reads_are_machine_mail(sender: str, machine: str) -> None:
    assert parse(f"From: {sender}\nSubject: Anfrage\n")["machine"] == machine


def test_an_arf_spam_complaint_is_a_complaint_not_a_cancel() -> None:
    result = parse_message(ARF.encode(), TODAY).as_json()
    assert (result["machine"], result["intent"]) == ("complaint", "unknown")


def test_an_exchange_out_of_office_is_never_a_booking_request() -> None:
    """Issue 15: "Ich bin vom 14.07. bis 25.07. im Urlaub" became a request for 14.–25.07."""
    body = ("Vielen Dank für Ihre Nachricht. Ich bin vom 14.07. bis 25.07. im Urlaub und ab dem "
            "28.07. wieder im Büro. In dringenden Fällen wenden Sie sich an meine Kollegin.")
    with_header = parse("From: Inge <inge@example.de>\nSubject: Re: Anfrage\n"
                        "X-Auto-Response-Suppress: All\n", body)
    assert (with_header["machine"], with_header["intent"]) == ("auto_reply", "unknown")
    without = parse("From: Inge <inge@example.de>\nSubject: Re: Anfrage\n", body)
    assert without["intent"] != "request" and without["start"] is None


@pytest.mark.parametrize("extra", ["", "X-Auto-Response-Suppress: DR, RN, NRN\n",
                                   "Return-Path: <anna@example.org>\n", "Auto-Submitted: no\n"])
def test_a_person_writing_is_no_machine_mail(extra: str) -> None:
    result = parse("From: Anna Berger <anna@example.org>\nSubject: Haus im August\n" + extra)
    assert (result["machine"], result["intent"]) == (None, "request")


def test_mailbot_parse_reads_the_return_path_as_envelope_sender(tmp_path: Path) -> None:
    eml = tmp_path / "bounce.eml"
    eml.write_bytes(b"Return-Path: <>\nFrom: Anna <anna@example.org>\nSubject: Anfrage\n\n"
                    b"Wir kommen vom 3. bis 9. August zu viert.\n")
    out = subprocess.run([str(MAILBOT), "parse", "--today", "2026-11-23", str(eml)],
                         capture_output=True, check=True)
    result = json.loads(out.stdout)
    assert (result["machine"], result["intent"]) == ("bounce", "unknown")
    assert result["reply"] == "Wir kommen vom 3. bis 9. August zu viert."


# ------------------------------------------------------------------ MIME

def test_raw_latin1_headers_are_read_without_lone_surrogates() -> None:
    raw = (b'From: "Ingo L\xfctkebohle" <ingo@example.de>\nSubject: Fr\xf6sche im Garten\n\n'
           b"Wir kommen vom 3. bis 9. August zu viert.\n")
    decoded = decode(raw)
    assert (decoded.from_name, decoded.subject) == ("Ingo Lütkebohle", "Frösche im Garten")
    assert parse_message(raw, TODAY).first_name == "Ingo"


def test_raw_utf8_headers_with_a_stray_byte_keep_the_utf8() -> None:
    raw = b"From: J\xc3\xbcrgen Gro\xc3\x9f\xf1 <j@example.de>\nSubject: x\n\nHallo\n"
    assert decode(raw).from_name == "Jürgen Großñ"


def test_a_boundary_folded_inside_its_quotes_keeps_the_body() -> None:
    raw = (b'From: a@example.de\r\nContent-Type: multipart/mixed; boundary="abc\r\n def"\r\n\r\n'
           b"--abc def\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHallo Welt\r\n"
           b"--abc def--\r\n")
    assert decode(raw).text == "Hallo Welt"


@pytest.mark.parametrize(("charset", "payload", "text"), [
    ("utf-7", b"Wir kommen im M+AOQ-rz.", "Wir kommen im März."),
    ("iso-2022-jp", "すみません。".encode("iso-2022-jp"), "すみません。"),
])
def test_seven_bit_charsets_are_decoded_by_their_charset(charset: str, payload: bytes,
                                                          text: str) -> None:
    raw = (f"From: a@example.de\nContent-Type: text/plain; charset={charset}\n\n").encode() \
        + payload
    assert decode(raw).text == text
