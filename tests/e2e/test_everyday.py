"""Issue 14: every everyday turn of the conversation, each as its own test, through a real
`mailbot serve` over SMTP — what the person receives (subject and the sentence that matters)
and what the booking then is."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta

import httpx
import pytest

from tests.support.serve import CONNY, GELI, INGE, Received, Service, book, german, serving, stay

pytestmark = pytest.mark.e2e

MONTHS = ("Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September",
          "Oktober", "November", "Dezember")


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    with serving(tmp_path_factory.mktemp("everyday")) as running:
        yield running


def ask_of(service: Service, approver: str, start: date, end: date) -> Received:
    return service.wait_for(approver, "request_submitted", german(start, end))


def test_1_an_outdated_ja_does_not_approve_changed_dates(service: Service) -> None:
    start, end = book(service, "hans@example.net", "Hans", 30, days=6)
    first = ask_of(service, INGE, start, end)
    received = service.wait_for("hans@example.net", "request_received", german(start, end))
    longer = end + timedelta(days=1)
    assert service.settle(service.reply("hans@example.net", received,
                                        f"Wir bleiben doch bis zum {longer:%d.%m.}")) == (
        "processed", "edited")
    assert service.settle(service.reply(INGE, first, "JA")) == ("rejected", "outdated")
    answer = service.wait_for(INGE, "rejected_outdated")
    assert answer.subject == f"Nicht gezählt – die Anfrage hat sich geändert ({german(start, longer)})"
    assert (f"Hans hat die Buchung von {german(start, end)} auf {german(start, longer)} "
            "verlängert.") in answer.text
    assert service.verdict("Hans", "ingeborg") == "no_response"
    # the answer asks about the current request: a JA to it counts
    assert service.settle(service.reply(INGE, answer, "JA")) == ("processed", "approved")
    assert service.verdict("Hans", "ingeborg") == "approved"


def test_2_a_reply_that_says_yes_and_no_is_asked_back(service: Service) -> None:
    start, end = book(service, "jana@example.net", "Jana", 40)
    ask = ask_of(service, CONNY, start, end)
    assert service.settle(service.reply(CONNY, ask, "JA? Nein, lieber nicht.")) == (
        "processed", "asked_unclear")
    question = service.wait_for(CONNY, "question_unclear")
    assert question.subject == f"Kurze Rückfrage ({german(start, end)})"
    assert "„JA? Nein, lieber nicht.“ – da bin ich mir nicht sicher" in question.text
    assert "Es klingt eher nach Nein" in question.text
    assert service.verdict("Jana", "cornelia") == "no_response"
    assert service.booking_state("Jana") == "pending"
    # the answer in the same thread completes it
    assert service.settle(service.reply(CONNY, question, "Ja.")) == ("processed", "approved")
    assert service.verdict("Jana", "cornelia") == "approved"


def test_3_a_thank_you_is_recorded_and_not_answered(service: Service) -> None:
    start, end = book(service, "anna@example.net", "Anna", 50)
    for approver in (INGE, CONNY, GELI):
        service.settle(service.reply(approver, ask_of(service, approver, start, end), "JA"))
    confirmed = service.wait_for("anna@example.net", "booking_confirmed", german(start, end))
    before = service.count("anna@example.net")
    thanks = service.reply("anna@example.net", confirmed, "Super, danke dir!")
    assert service.settle(thanks) == ("ignored", "thanks")
    assert service.count("anna@example.net") == before
    assert service.booking_state("Anna") == "confirmed"


def test_4_a_status_question_is_answered_in_a_new_mail_and_in_the_thread(service: Service) -> None:
    start, end = book(service, "olga@example.net", "Olga", 60)
    asked = service.send("olga@example.net", f"Hallo,\nwie ist denn der Stand bei meiner Buchung "
                                             f"im {MONTHS[start.month - 1]}?\n\nLG Olga")
    assert service.settle(asked) == ("processed", "status_sent")
    status = service.wait_for("olga@example.net", "status")
    assert status.subject == f"Stand der Buchung ({german(start, end)})"
    assert "Status: Ausstehend" in status.text and "Ingeborg: noch keine Antwort" in status.text
    again = service.reply("olga@example.net", status, "wie ist denn der Stand jetzt?")
    assert service.settle(again) == ("processed", "status_sent")
    assert service.count("olga@example.net", "status") == 2
    assert service.count("olga@example.net", "help") == 0
    assert service.booking_state("Olga") == "pending"


def test_5_the_same_request_twice_says_it_is_already_there(service: Service) -> None:
    text, start, end = stay(70, 4)
    body = f"Hallo,\nwir würden gern {text} zu viert kommen.\n\nLiebe Grüße\nPia"
    assert service.settle(service.send("pia@example.net", body)) == ("processed", "submitted")
    assert service.settle(service.send("pia@example.net", body)) == ("processed", "request_exists")
    answer = service.wait_for("pia@example.net", "request_exists")
    assert answer.subject == f"Deine Anfrage ist schon da ({german(start, end)})"
    assert "diese Anfrage hast du schon geschickt" in answer.text
    assert "Pia – Ausstehend" not in answer.text and "belegt" not in answer.text
    assert service.sql("SELECT count(*) FROM bookings WHERE first_name = 'Pia'") == [(1,)]


def test_6_reopen_by_mail_confirms_it_and_shows_her_words(service: Service) -> None:
    start, end = book(service, "rosa@example.net", "Rosa", 80)
    service.settle(service.reply(GELI, ask_of(service, GELI, start, end),
                                 "NEIN, da sind wir selbst im Haus."))
    denied = service.wait_for("rosa@example.net", "booking_denied")
    reopen = service.reply("rosa@example.net", denied,
                           "Bitte wieder öffnen, wir haben das mit Angelika geklärt.")
    assert service.settle(reopen) == ("processed", "reopened")
    mine = service.wait_for("rosa@example.net", "booking_reopened")
    assert mine.subject == f"Anfrage wieder geöffnet ({german(start, end)})"
    assert "deine Anfrage ist wieder offen" in mine.text and mine.in_reply_to == reopen
    theirs = service.wait_for(INGE, "booking_reopened", german(start, end))
    assert theirs.subject == f"Rosa fragt noch einmal an – bitte entscheiden ({german(start, end)})"
    assert "„Bitte wieder öffnen, wir haben das mit Angelika geklärt.“" in theirs.text
    assert service.booking_state("Rosa") == "pending"


def test_7_a_cancel_without_a_reason_sends_none(service: Service) -> None:
    start, end = book(service, "paul@example.net", "Paul", 90)
    asked = service.send("paul@example.net", f"Hallo,\nbitte storniert unsere Buchung im "
                                             f"{MONTHS[start.month - 1]}.\n\nGruß Paul")
    assert service.settle(asked) == ("processed", "asked_cancel_confirm")
    confirm = service.wait_for("paul@example.net", "question_confirm")
    assert service.settle(service.reply("paul@example.net", confirm, "JA")) == (
        "processed", "canceled")
    told = service.wait_for(CONNY, "booking_canceled", german(start, end))
    assert "Paul hat die Buchung storniert" in told.text
    assert "Begründung" not in told.text and "unsere Buchung" not in told.text
    assert service.booking_state("Paul") == "canceled"


def test_8_the_note_keeps_her_words_and_never_the_old_dates(service: Service) -> None:
    text, start, end = stay(100, 4)
    sent = service.send("ute@example.net", f"Hallo zusammen,\nwir möchten {text} zu viert kommen. "
                                           "Wir bringen den Hund mit.\n\nViele Grüße\nUte")
    assert service.settle(sent) == ("processed", "submitted")
    received = service.wait_for("ute@example.net", "request_received")
    longer = end + timedelta(days=2)
    service.settle(service.reply("ute@example.net", received,
                                 f"Wir bleiben doch bis zum {longer:%d.%m.}"))
    extended = service.wait_for(INGE, "booking_extended", german(start, longer))
    assert "Notiz:     Wir bringen den Hund mit." in extended.text
    assert "wir möchten" not in extended.text and "Hallo zusammen" not in extended.text
    assert "Viele Grüße\nUte" not in extended.text


def test_9_the_wording_says_what_happened(service: Service) -> None:
    start, end = book(service, "vera@example.net", "Vera", 110)
    ask = ask_of(service, INGE, start, end)
    assert ask.subject == f"Neue Buchungsanfrage von Vera ({german(start, end)})"
    # a pure shift is a move, not an extension
    received = service.wait_for("vera@example.net", "request_received")
    moved_start, moved_end = start + timedelta(days=1), end + timedelta(days=1)
    service.settle(service.reply("vera@example.net", received,
                                 f"Können wir auf {moved_start:%d.%m.%Y} bis {moved_end:%d.%m.%Y} "
                                 "verschieben?"))
    moved = service.wait_for(INGE, "booking_extended", german(moved_start, moved_end))
    assert moved.subject.startswith("Vera hat die Buchung verschoben")
    assert "verlängert" not in moved.text and "größer geworden" not in moved.text
    # one word per thing, „…“ in both parts, no "Hallo Ingeborg, Ingeborg, …"
    for approver in (INGE, CONNY, GELI):
        service.settle(service.reply(approver, service.wait_for(approver, "booking_extended",
                                                                german(moved_start, moved_end)),
                                     "JA"))
    confirmed = service.wait_for(INGE, "booking_confirmed", german(moved_start, moved_end))
    assert "Hallo Ingeborg,\n\nalle haben zugestimmt" in confirmed.text
    mine = service.wait_for("vera@example.net", "booking_confirmed")
    assert "Habt eine schöne Zeit!" in mine.text and "in Haus" not in mine.text
    assert mine.text.count("auf diese Mail antworten") <= 1
    # too many people: "höchstens 10"
    text, _, _ = stay(115, 3)
    big = service.send("wim@example.net", f"Wir möchten {text} mit 12 Personen kommen.\n\nWim")
    assert service.settle(big) == ("rejected", "invalid")
    assert "höchstens 10 Personen" in service.wait_for("wim@example.net", "rejected_invalid").text
    # a conflict proposes free stays of the same length, never a booked one
    text, _, _ = stay(111, 4)
    taken = service.send("xaver@example.net", f"Wir möchten {text} zu zweit kommen.\n\nXaver")
    assert service.settle(taken) == ("rejected", "conflict")
    conflict = service.wait_for("xaver@example.net", "rejected_conflict")
    assert "Vera – Bestätigt" in conflict.text and "Frei wäre zum Beispiel" in conflict.text
    proposed = re.search(r"z\. B\. „([^“]+)“", conflict.text)
    assert proposed and proposed.group(1) not in (german(moved_start, moved_end),)
    assert "„" in conflict.html and '"' not in conflict.text


def test_10_an_approvers_ja_by_mail_is_confirmed(service: Service) -> None:
    start, end = book(service, "yara@example.net", "Yara", 120)
    assert service.settle(service.reply(GELI, ask_of(service, GELI, start, end), "JA")) == (
        "processed", "approved")
    noted = service.wait_for(GELI, "approval_recorded")
    assert noted.subject == f"Zustimmung eingetragen ({german(start, end)})"
    assert "deine Zustimmung für Yara" in noted.text
    assert "Es fehlt noch: Ingeborg und Cornelia." in noted.text
    assert service.verdict("Yara", "angelika") == "approved"


def test_11_a_reply_to_the_weekly_digest_acts(service: Service) -> None:
    start, end = book(service, "zoe@example.net", "Zoe", 130)
    today = date.today()
    sunday = today + timedelta(days=6 + (6 - (today + timedelta(days=6)).weekday()) % 7)
    service.cli("jobs", "run", "digest", "--now",
                datetime.combine(sunday, time(10, 0)).isoformat())
    digest = service.wait_for(CONNY, "digest")
    assert "Zoe" in digest.text and "antworten" in digest.text
    assert "nicht auf diese Erinnerung" not in digest.text
    reply = service.reply(CONNY, digest, f"JA für {german(start, end)}")
    assert service.settle(reply) == ("processed", "approved")
    assert service.verdict("Zoe", "cornelia") == "approved"
    assert service.count(CONNY, "not_accepted") == 0


def test_12_answers_thread_under_the_mail_they_answer(service: Service) -> None:
    text, start, end = stay(140, 3)
    first = service.send("anke@example.net", f"Hallo, wir möchten {text} kommen.\n\nLG Anke")
    assert service.settle(first) == ("processed", "asked_missing")
    question = service.wait_for("anke@example.net", "question_missing")
    assert question.in_reply_to == first
    answer = service.reply("anke@example.net", question, "zu dritt")
    assert service.settle(answer) == ("processed", "submitted")
    received = service.wait_for("anke@example.net", "request_received")
    assert received.in_reply_to == answer
    cancel = service.reply("anke@example.net", received, "STORNO")
    assert service.settle(cancel) == ("processed", "canceled")
    canceled = service.wait_for("anke@example.net", "booking_canceled")
    assert canceled.subject == f"Buchung storniert ({german(start, end)})"
    assert canceled.in_reply_to == cancel
    assert service.booking_state("Anke") == "canceled"


def test_13_an_expired_request_reads_abgelaufen(service: Service) -> None:
    start, end = book(service, "bruno@example.net", "Bruno", 2, days=2)
    received = service.wait_for("bruno@example.net", "request_received")
    page = re.search(r"Deine Buchung ansehen, ändern oder stornieren: (\S+)", received.text)
    assert page
    later = datetime.combine(end + timedelta(days=2), time(1, 0))
    assert "1 Buchung abgelaufen" in service.cli("jobs", "run", "cleanup", "--now", later.isoformat())
    assert service.booking_state("Bruno") == "canceled"
    shown = httpx.get(page.group(1), timeout=10).text
    assert "Abgelaufen" in shown and "Storniert" not in shown


def test_14_the_approver_page_sorts_by_date_and_says_no_more_than_it_knows(
        service: Service) -> None:
    later_start, later_end = book(service, "carla@example.net", "Carla", 160)
    soon_start, soon_end = book(service, "dirk@example.net", "Dirk", 150)
    ask = ask_of(service, GELI, later_start, later_end)
    overview = re.search(r"Deine Übersicht \(offen und erledigt\): (\S+)", ask.text)
    assert overview
    page = httpx.get(overview.group(1), timeout=10).text
    assert page.index("Dirk") < page.index("Carla")
    # after approving, the form no longer offers "Ja, ich stimme zu"
    approve = re.search(r"Zustimmen: (\S+)", ask.text)
    assert approve
    service.settle(service.reply(GELI, ask, "JA"))
    form = httpx.get(approve.group(1), timeout=10).text
    assert "schon zugestimmt" in form and "Ja, ich stimme zu" not in form
    # a canceled booking's card does not say someone is "Noch offen"
    service.settle(service.send("carla@example.net", "Bitte storniert meine Buchung.\n\nCarla"))
    service.settle(service.reply("carla@example.net",
                                 service.wait_for("carla@example.net", "question_confirm"), "JA"))
    page = httpx.get(overview.group(1), timeout=10).text
    cards = [c.split("</a>", 1)[0] for c in page.split('<a class="card ')[1:]]
    card = next(c for c in cards if "Carla" in c)
    assert "Storniert" in card and "Noch offen" not in card
