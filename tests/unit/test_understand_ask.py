"""When the parser asks (docs/parse-conventions.md): each signal that puts a field into `ask`
keeps the best reading, with an example that asks and one that does not; labelled as of
Monday 2026-11-23."""

from __future__ import annotations

from datetime import date

import pytest

from mailbot.understand import parse_message
from mailbot.understand.people import inferred, stated, unlike_display
from mailbot.understand.vocabulary import vocabulary

TODAY = date(2026, 11, 23)


def _parse(body: str, subject: str = "Anfrage",
           sender: str = "Anna Müller <anna@example.de>") -> dict[str, object]:
    raw = (f"From: {sender}\nSubject: {subject}\nContent-Type: text/plain; charset=utf-8\n\n"
           + body).encode()
    return parse_message(raw, TODAY).as_json()


# ── a party size counted from the people named, not said as a count ─────────────────────

@pytest.mark.parametrize(("text", "size"), [
    ("Wir möchten von Fronleichnam bis Sonntag kommen: meine Eltern, mein Bruder und ich.", 4),
    ("Dieter und ich würden gern mit unseren Zwillingen vom 3. bis 5. Juli kommen.", 4),
    ("Vom 3. bis 5. Juli kommen mein Mann, ich und unsere zwei Buben.", 4),
    ("Wir würden gern vom 3. bis 5. Juli kommen, meine Frau und ich. Die Kinder kommen "
     "vielleicht mit ihren Freunden nach.", 2),
    ("Ich würde gern vom 3. bis 5. Juli mit meinen drei Kindern kommen, mein Mann muss "
     "arbeiten.", 4),
    ("Ich frage für meine Tochter Lena und ihren Freund: die beiden würden gern vom 3. bis "
     "5. Juli ins Haus. Ich selber komme nicht mit.", 2),
    ("Vom 3. bis 5. Juli: Wir kommen mit: Hartmut, Gisela, Jens und Oma Uschi.\n\nHartmut", 4),
    ("Vom 3. bis 5. Juli, wir sind 5 mit Baby.", 5),
])
def test_a_counted_party_size_is_asked_about(text: str, size: int) -> None:
    result = _parse(text)
    assert (result["party_size"], "party_size" in result["ask"]) == (size, True)


@pytest.mark.parametrize(("text", "size"), [
    ("Vom 3. bis 5. Juli, wir sind zu viert.", 4),
    ("Vom 3. bis 5. Juli, 4 Personen.", 4),
    ("Vom 3. bis 5. Juli: 2 Erwachsene und 3 Kinder.", 5),
    ("Vom 3. bis 5. Juli, wir 2 + 3 Kinder.", 5),
    ("Wir zwei plus Oma würden gern vom 3. bis 5. Juli kommen.", 3),
    ("Wir wären 4 Mädels und würden gern vom 3. bis 5. Juli kommen.", 4),
    ("Wir sind zwei Familien à 4 Personen und kämen gern vom 3. bis 5. Juli.", 8),
    ("Meine Frau und ich würden gern vom 3. bis 5. Juli kommen.", 2),
    ("Helmut und ich würden gern vom 3. bis 5. Juli ins Haus.", 2),
    ("Ich und 3 Kumpels würden gern vom 3. bis 5. Juli kommen.", 4),
    ("Ich würde gern vom 3. bis 5. Juli mit meinen Eltern kommen.", 3),
    ("Vom 3. bis 5. Juli: Anna, Ben, Clara und ich.", 4),
    ("Nur mein Mann und ich, die Kinder haben keine Lust: vom 3. bis 5. Juli.", 2),
    ("Ich bin Ben, der Bruder von Lukas, und würde gern mit 2 Kumpels vom 3. bis 5. Juli "
     "kommen.", 3),
])
def test_a_party_size_said_as_a_count_or_the_writer_and_one_other_is_sure(
        text: str, size: int) -> None:
    result = _parse(text)
    assert (result["party_size"], result["ask"]) == (size, [])


def test_stated_counts_say_what_is_said_as_a_number() -> None:
    vocab = vocabulary()
    assert stated("wir sind zu viert", vocab) == {4}
    assert stated("ich komme mit 3 Freunden", vocab) == set()  # the writer is one more
    assert stated("wir zwei plus Oma", vocab) == {3}
    assert stated("wir sind 5 mit Baby", vocab) == set()
    assert inferred("meine Eltern, mein Bruder und ich", 4, vocab)
    assert not inferred("meine Frau und ich", 2, vocab)
    assert inferred("meine Frau und ich", 3, vocab)  # a count the words do not make


# ── dates: a time word the reading left unread ──────────────────────────────────────────

@pytest.mark.parametrize(("text", "subject", "start", "end"), [
    # a month the stay does not reach
    ("Wir würden gern vom 3. bis 5. Juli kommen, notfalls geht auch August.", "Anfrage",
     "2027-07-03", "2027-07-05"),
    # a weekday the stay does not reach: "bis Sonntag" read as the holiday alone
    ("Silvester haben wir ja schon gebucht. Jetzt noch eine neue Anfrage: wir würden gern von "
     "Fronleichnam bis Sonntag kommen.", "Noch eine Anfrage", "2027-05-27", "2027-05-30"),
    # two first days: the first is kept
    ("Am liebsten die Woche ab 14.8., ansonsten ab 21.8., jeweils eine Woche.", "Sommer",
     "2027-08-14", "2027-08-21"),
    # a range its own words set aside (a past stay) besides the one chosen
    ("Letzten Sommer waren wir vom 14. bis 21. Juli da, dieses Jahr würden wir gern vom 9. "
     "bis 16. August kommen.", "Sommer", "2027-08-09", "2027-08-16"),
    # a weekday as the last day, in a clause about something else
    ("Wir würden gern am 4. Juni kommen, am Sonntag hat Paul ein Fußballturnier.", "Juni",
     "2027-06-04", "2027-06-06"),
    # a day without a month that nothing places
    ("Wir würden gern ab dem 5. für eine Woche kommen.", "Anfrage", "2026-12-05", "2026-12-12"),
    # a weekday alone: which one, and is it the stay?
    ("Können wir am Samstag kommen?", "Anfrage", "2026-11-28", "2026-11-28"),
])
def test_a_time_word_left_unread_asks_about_the_dates(text: str, subject: str, start: str,
                                                      end: str) -> None:
    result = _parse(text, subject)
    assert (result["start"], result["end"], result["ask"]) == (start, end, ["start", "end"])


@pytest.mark.parametrize(("text", "start", "end"), [
    ("Wir würden gern vom 3. bis 5. Juli kommen. Im Juli ist es dort so schön.",
     "2027-07-03", "2027-07-05"),
    ("Wir würden gern am Freitag, den 4.6., kommen und am Sonntag wieder fahren.",
     "2027-06-04", "2027-06-06"),
    ("Wir würden gern am 4. Juni kommen und bis Sonntag bleiben.", "2027-06-04", "2027-06-06"),
    ("Freitag 5. März bis Sonntag 7. März, am Freitag sind wir schon mittags da.",
     "2027-03-05", "2027-03-07"),
    ("Wir würden gern vom 5. bis 8. März kommen – Quatsch, ich mein vom 12. bis 15. März.",
     "2027-03-12", "2027-03-15"),
])
def test_time_words_the_reading_uses_ask_nothing(text: str, start: str, end: str) -> None:
    result = _parse(text)
    assert (result["start"], result["end"], result["ask"]) == (start, end, [])


# ── intent: a reading the thread does not ask for ───────────────────────────────────────

@pytest.mark.parametrize(("text", "subject", "intent"), [
    ("Hm, wie viele seid ihr denn? Wir wären am Wochenende davor zu viert oben.",
     "Re: Neue Buchungsanfrage von Paul (03.–05.06.2027)", "request"),
    ("Super, danke euch! Dann bis Januar.", "AW: Buchung bestätigt (02.–07.01.2027)",
     "approve"),
])
def test_an_intent_the_thread_does_not_ask_for_is_asked_about(text: str, subject: str,
                                                              intent: str) -> None:
    result = _parse(text, subject)
    assert (result["intent"], result["ask"][:1]) == (intent, ["intent"])


@pytest.mark.parametrize(("text", "subject", "intent"), [
    ("Ja, passt, danke!", "Re: Neue Buchungsanfrage von Paul (03.–05.06.2027)", "approve"),
    ("JA", "AW: Anfrage wieder geöffnet (18.–20.06.2027)", "approve"),
    ("Stornieren bitte.", "Re: Neue Buchungsanfrage von Paul (03.–05.06.2027)", "cancel"),
])
def test_an_intent_the_thread_allows_asks_nothing(text: str, subject: str, intent: str) -> None:
    result = _parse(text, subject)
    assert (result["intent"], result["ask"]) == (intent, [])


# ── first name: a closing that has nothing of the From name ─────────────────────────────

def test_a_closing_name_unlike_the_senders_name_is_asked_about() -> None:
    result = _parse("Wir würden gern vom 3. bis 5. Juli kommen, zu zweit.\n\nLiebe Grüße\nSabine",
                    sender="Thomas Weber <t@example.de>")
    assert (result["first_name"], result["ask"]) == ("Sabine", ["first_name"])
    vocab = vocabulary()
    assert not unlike_display("Geli", "Angelika Brandt", vocab)  # a short form
    assert not unlike_display("Uschi", "Ursula Frank", vocab)
    assert not unlike_display("Elsbeth", "Fritz und Elsbeth Kühnle", vocab)
    assert unlike_display("Da", "Michael Huber", vocab)
