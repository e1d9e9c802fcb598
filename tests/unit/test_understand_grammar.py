"""The date grammar of docs/parse-conventions.md ("The date grammar"): each combinator on its
own, then each rule as a person writes it (issue 17), labelled as of Monday 2026-11-23."""

from __future__ import annotations

from datetime import date

import holidays
import pytest

from mailbot.understand import parse_message
from mailbot.understand.dates import (
    duration,
    holiday_range,
    intersect_week,
    interval,
    month_offset,
    shift_weeks,
    subject_stay,
    until_weekday,
    week_number,
)
from mailbot.understand.vocabulary import vocabulary

TODAY = date(2026, 11, 23)


def _parse(body: str, subject: str = "Anfrage") -> dict[str, object]:
    raw = (f"From: Anna Müller <anna@example.de>\nSubject: {subject}\n"
           "Content-Type: text/plain; charset=utf-8\n\n" + body).encode()
    return parse_message(raw, TODAY).as_json()


def _stay(body: str, subject: str = "Anfrage") -> tuple[object, object]:
    result = _parse(body, subject)
    return result["start"], result["end"]


# --- combinators


def test_intersect_week_puts_a_weekday_span_into_a_week() -> None:
    assert intersect_week(date(2027, 6, 7), 1, 4) == (date(2027, 6, 8), date(2027, 6, 11))
    assert intersect_week(date(2027, 6, 7), 4, 6) == (date(2027, 6, 11), date(2027, 6, 13))
    assert intersect_week(date(2027, 6, 7), 5, 5) == (date(2027, 6, 12), date(2027, 6, 19))


def test_interval_crosses_the_year_and_refuses_nonsense() -> None:
    assert interval(date(2026, 12, 28), date(2026, 1, 2)) == (date(2026, 12, 28),
                                                              date(2027, 1, 2))
    assert interval(date(2027, 3, 3), date(2027, 3, 5)) == (date(2027, 3, 3), date(2027, 3, 5))
    assert interval(date(2027, 3, 5), date(2029, 3, 3)) is None


def test_duration_counts_days_after_the_start() -> None:
    assert duration(date(2027, 1, 2), 7) == (date(2027, 1, 2), date(2027, 1, 9))


def test_shift_weeks_is_the_monday_that_many_weeks_on() -> None:
    assert shift_weeks(TODAY, 0) == date(2026, 11, 23)
    assert shift_weeks(date(2026, 11, 26), 3) == date(2026, 12, 14)


def test_week_number_is_the_next_such_iso_week() -> None:
    assert week_number(23, TODAY) == date(2027, 6, 7)
    assert week_number(48, TODAY) == date(2026, 11, 23)  # this week
    assert week_number(53, TODAY) == date(2026, 12, 28)  # 2026 has 53 ISO weeks
    assert week_number(60, TODAY) is None


def test_until_weekday_ends_on_the_next_such_day() -> None:
    assert until_weekday(date(2027, 6, 12), 1) == date(2027, 6, 15)  # Sat → Tue
    assert until_weekday(date(2027, 6, 12), 5) == date(2027, 6, 19)  # Sat → next Sat


def test_month_offset_wraps_the_year() -> None:
    assert month_offset(TODAY, 1) == 12
    assert month_offset(TODAY, 2) == 1


def test_public_holidays_match_the_maintained_calendar_of_bavaria() -> None:
    """Own Easter arithmetic is checked against the `holidays` package (Bavaria) for ten
    years: the same days, at a fraction of its start-up cost (docs/parse-conventions.md)."""
    vocab = vocabulary()
    names = {"karfreitag": "Karfreitag", "ostermontag": "Ostermontag",
             "christi himmelfahrt": "Christi Himmelfahrt", "pfingstmontag": "Pfingstmontag",
             "fronleichnam": "Fronleichnam", "neujahr": "Neujahr",
             "tag der deutschen einheit": "Tag der Deutschen Einheit",
             "allerheiligen": "Allerheiligen", "heilige drei könige": "Heilige Drei Könige"}
    for year in range(2026, 2036):
        official = {name: day for day, name in
                    holidays.country_holidays("DE", subdiv="BY", years=year,
                                              language="de").items()}
        for ours, theirs in names.items():
            first, last = holiday_range(vocab.holiday_names[ours], year)
            assert first == last == official[theirs], (year, ours)


@pytest.mark.parametrize(("subject", "start", "end"), [
    ("Anfrage erhalten (01.–05.08.2027)", date(2027, 8, 1), date(2027, 8, 5)),
    ("Buchung bestätigt (28.07.–02.08.2027)", date(2027, 7, 28), date(2027, 8, 2)),
    ("Ingeborg hat zugestimmt (30.12.2026–02.01.2027)", date(2026, 12, 30), date(2027, 1, 2)),
    ("Anfrage erhalten (05.08.2027)", date(2027, 8, 5), date(2027, 8, 5)),
    ("Unsere Buchung vom 3. bis 5. März", date(2027, 3, 3), date(2027, 3, 5)),
])
def test_our_subjects_are_read_directly(subject: str, start: date, end: date) -> None:
    stay = subject_stay(subject, TODAY, vocabulary())
    assert (stay.start, stay.end) == (start, end)


# --- rules


@pytest.mark.parametrize(("text", "start", "end"), [
    # week number ∩ weekday span
    ("Wir möchten in KW 23 von Dienstag bis Freitag kommen.", "2027-06-08", "2027-06-11"),
    ("KW 23, Montag bis Freitag, wären wir gern im Haus.", "2027-06-07", "2027-06-11"),
    ("Wir möchten in der 23. KW kommen, von Montag bis Freitag.", "2027-06-07", "2027-06-11"),
    ("Wir würden gerne in der Kalenderwoche 30 kommen, Samstag bis Samstag.", "2027-07-31",
     "2027-08-07"),
    # a holiday and a length
    ("Wir würden gern ab Ostermontag eine Woche bleiben.", "2027-03-29", "2027-04-05"),
    # month offset ∩ day span
    ("Können wir nächsten Monat vom 4. bis 6. kommen?", "2026-12-04", "2026-12-06"),
    ("Übernächsten Monat vom 4. bis 6. hätten wir gern das Haus.", "2027-01-04", "2027-01-06"),
    # shift ∩ weekday span
    ("Wir würden gern in drei Wochen von Freitag bis Sonntag kommen.", "2026-12-18",
     "2026-12-20"),
    # holiday week ∩ weekday span: the holiday places the days and is not a stay of its own
    ("Himmelfahrt 2027 – von Donnerstag bis Sonntag würden wir gern kommen.", "2027-05-06",
     "2027-05-09"),
    # interval from a date to a weekday
    ("Wir kommen ab Samstag, dem 12. Juni, bis Dienstag.", "2027-06-12", "2027-06-15"),
    # interval between two holidays; a holiday as the end of a written day
    ("Wir möchten über Gründonnerstag bis Ostermontag kommen.", "2027-03-25", "2027-03-29"),
    ("Wir reisen am Samstag, 27.3., an und bleiben bis Ostermontag.", "2027-03-27",
     "2027-03-29"),
    ("Wir würden gern am 1. Weihnachtsfeiertag anreisen und bis zum 28. Dezember bleiben.",
     "2026-12-25", "2026-12-28"),
    # of two mentions of a holiday, the one the stay starts from
    ("In NRW ist Fronleichnam ja frei – wir würden gern von Fronleichnam bis Sonntag kommen.",
     "2027-05-27", "2027-05-30"),
    ("Wir möchten über Ostern, vom Gründonnerstag bis Ostermontag, ins Haus.", "2027-03-25",
     "2027-03-29"),
    # tense and role: a past stay, a range after "nicht …, sondern", a correction
    ("Letztes Jahr waren wir vom 3. bis 5. Mai da, jetzt hätten wir gern den 10. bis 12. Juli.",
     "2027-07-10", "2027-07-12"),
    ("Wir möchten nicht am 5. Juli, sondern am 12. Juli kommen, bis zum 15. Juli.",
     "2027-07-12", "2027-07-15"),
    ("Wir kommen vom 5. bis 8. März – Quatsch, ich mein vom 12. bis 15. März.", "2027-03-12",
     "2027-03-15"),
    ("Wir würden gern am 9. April anreisen und am 12. April - nein Quatsch, am 11. April wieder "
     "fahren.", "2027-04-09", "2027-04-11"),
    # a written day and a weekday in its sentence
    ("Wir kommen am Freitag, den 4.6., und fahren am Sonntag wieder.", "2027-06-04",
     "2027-06-06"),
    ("Wir würden gern über den 1. Mai kommen, also Samstag bis Montag.", "2027-05-01",
     "2027-05-03"),
    ("Wir würden gern das verlängerte Wochenende am 3. Oktober nutzen (Fr–So).", "2027-10-01",
     "2027-10-03"),
    ("Mir kommen am Freitag, den 14. Mai und fahren am Pfingstmontag wieder.", "2027-05-14",
     "2027-05-17"),
    # the weekend after or before a written day
    ("Wir würden gern das Wochenende nach Opas Geburtstag am 3. Juni kommen.", "2027-06-05",
     "2027-06-06"),
    ("Geht das Wochenende vor dem 3. Juni?", "2027-05-29", "2027-05-30"),
    # a weekday after or before a holiday's days (asked about: some read Ostersonntag)
    ("Wäre das Haus vom Sonntag nach Ostern bis Mittwoch frei?", "2027-04-04", "2027-04-07"),
    ("Geht am Freitag vor Pfingsten?", "2027-05-14", "2027-05-14"),
    # the one holiday of the mail places a weekday span in a sentence of its own
    ("Ist das Haus über Ostern noch frei? Wir würden gern von Samstag bis Montag bleiben.",
     "2027-03-27", "2027-03-29"),
    # a bare day after "bis" takes the month of the day before
    ("Wir kommen am 3. Oktober (Tag der Deutschen Einheit) und bleiben bis zum 5.",
     "2027-10-03", "2027-10-05"),
    # a weekend right before a vague phrase is part of it
    ("Wir würden gern am Wochenende nach Ostern kommen.", None, None),
    # a greeting without a comma on the same line is still only a greeting
    ("Hallo wir kommen vom 2.9. bis 6.9. zu zweit", "2027-09-02", "2027-09-06"),
    # the nights between, with weekdays
    ("Hi, ginge Freitag 11. auf Sonntag 13. Dezember?", "2026-12-11", "2026-12-13"),
    # Austrian month names
    ("Wir würden gerne vom 19. bis 22. Feber kommen.", "2027-02-19", "2027-02-22"),
    ("Wir kommen vom 3. bis 6. Jänner.", "2027-01-03", "2027-01-06"),
    # English ordinals, a month written first at both ends, day/month with slashes, no year
    ("could we book the house from 5th to 9th april?", "2027-04-05", "2027-04-09"),
    ("We would love to come from Jan 29 to Feb 1.", "2027-01-29", "2027-02-01"),
    ("Would love to have the house from July 8 to July 15.", "2027-07-08", "2027-07-15"),
    ("hallo! ist das haus frei 03/08 - 06/08? wir wären 2", "2027-08-03", "2027-08-06"),
    # "WE" (in capitals) is the weekend
    ("hii, ist das haus nächstes WE frei? wir wären zu zweit", "2026-11-28", "2026-11-29"),
    # "wir wären 4." at the end of a sentence is a count, not a day of the month named
    ("wir würden gern mitte juli für ne woche oder so ins haus, wir wären 4.", None, None),
    # the stay asked for ("für den …") is not a date of the asking
    ("hallo, ich hab vor 2 wochen für den 3.-7.8. angefragt und noch nix gehört, wie schauts "
     "aus?", "2027-08-03", "2027-08-07"),
    # a range that holds another is its frame: the stay is the one inside
    ("Die Kinder haben vom 18. bis 28. Mai Pfingstferien. Wir würden gern vom 24. bis 27. Mai "
     "ins Haus.", "2027-05-24", "2027-05-27"),
    # a deadline on a weekday is not the stay
    ("Ist die Buchung jetzt bestätigt? Ich muss bis Freitag meinen Urlaub einreichen.", None,
     None),
    # two weeks and a weekday span in another sentence: no week places it, so it is asked
    ("Am liebsten KW 31, sonst KW 33. Samstag bis Samstag wie immer.", None, None),
    # asking whether a holiday is still free names it
    ("Ist Ostern schon weg? Sonst würden wir gern kommen.", "2027-03-26", "2027-03-29"),
    # a bound is no length
    ("Wir würden gern ab dem 1. Mai kommen, mindestens eine Woche.", "2027-05-01", None),
    ("Wir würden gern ab dem 1. Mai kommen, höchstens drei Nächte.", "2027-05-01", None),
    # a written day in brackets belongs to the words before them: a stay that was
    ("Hier die Fotos von unserem Herbst im Haus (3.–6.10.), war schön!", None, None),
    # a Bavarian correction word; the written day, not the holiday, starts the stay
    ("Wir kommen am 4. Mai - Schmarrn, am 5. Mai, und fahren am Sonntag, den 9., wieder.",
     "2027-05-05", "2027-05-09"),
    ("Wir würden gern über Pfingsten kommen, schon ab Freitag, dem 14. Mai, bis Pfingstmontag.",
     "2027-05-14", "2027-05-17"),
    # a one-day holiday and a weekday later in its sentence
    ("Wir würden an Christi Himmelfahrt anreisen und bis Samstag bleiben.", "2027-05-06",
     "2027-05-08"),
    # "May" is a month before a day range only ("we may" is no date)
    ("Could we stay from May 3 to May 7? Just the two of us.", "2027-05-03", "2027-05-07"),
    ("We'd love to come May 3-7, if we may.", "2027-05-03", "2027-05-07"),
    # the holiday nearest before "bis" starts the stay; a holiday spent elsewhere is none
    ("Wir würden gern über Weihnachten kommen: am 1. Weihnachtsfeiertag anreisen und bis zum 28. "
     "Dezember bleiben. Heiligabend feiern wir noch bei Oma.", "2026-12-25", "2026-12-28"),
])
def test_rule(text: str, start: str | None, end: str | None) -> None:
    assert _stay(text) == (start, end)


def test_a_week_number_alone_is_asked_about_like_a_vague_time() -> None:
    result = _parse("Wir würden gern in KW 32 ins Haus, mit 5 Personen.")
    assert (result["start"], result["end"], result["party_size"]) == (None, None, 5)


@pytest.mark.parametrize("text", [
    "Wir kommen vom 3. bis 5. Juli oder vom 10. bis 12. Juli, zu zweit.",
    "Wir möchten über Ostern kommen, vom 3. bis 5. Juli, zu zweit.",
    "Wir möchten in KW 23 kommen, vom 3. bis 5. Juli, zu zweit.",
    "Wir würden gern in drei Wochen am Wochenende kommen.",  # the 3rd weekend, or 3 weeks on?
    "Wir würden gern nach dem 10. Juli für eine Woche kommen.",
    "Wir würden gern um den 10. Juli herum ein paar Tage kommen.",
    "Wir würden gern ca. vom 10. bis 14. Juli kommen.",
    "Wir würden gern am 10. Juli kommen, eventuell auch schon am 9.",
    "Nächste Woche ist ja Christi Himmelfahrt – von Donnerstag bis Sonntag würden wir kommen.",
    # another written day outside the stay: which one is the stay is for the writer to say
    "Am 12. Juni werde ich 75. Wir würden gern vom 19. bis 23. Juni kommen, zu zweit.",
    "Wir kommen am 3. Juli an und fahren am 6. Juli, Anreise der Kinder am 1. Juli.",
    # said on Monday 23.11.: this week's Friday, or the one of next week?
    "Geht nächsten Freitag bis Sonntag? Wir wären zu dritt.",
    # Weißer Sonntag (04.04.2027), or Ostersonntag?
    "Wäre das Haus vom Sonntag nach Ostern bis Mittwoch frei? Wir wären zu zweit.",
    # a first choice and a fallback: the first, as with two written ranges
    "Wir würden gern Ostern kommen, oder falls das weg ist, von Pfingstmontag bis Mittwoch.",
])
def test_competing_readings_are_asked_about(text: str) -> None:
    """Two stays, or a week that two words place differently: the best reading is kept and
    the dates go into `ask` (SPEC §8), so the service asks instead of booking a guess."""
    result = _parse(text)
    assert result["start"] is not None
    assert result["ask"] == ["start", "end"]


@pytest.mark.parametrize("text", [
    "Wir kommen vom 3. bis 5. Juli, zu zweit.",
    "Schade. Geht dann vielleicht vom 8. bis 12. August?",  # a polite "vielleicht"
    "Wir möchten über Pfingsten kommen, also vom 15. bis 17. Mai, zu zweit.",
    "Ostern waren wir schon da, jetzt hätten wir gern den 3. bis 5. Juli, zu zweit.",
    "Wir kommen vom 3. bis 5. Juli, nach Ostern sagen wir mehr.",
    "Ich komme mit 3 Freunden vom 3. bis 5. Juli.",
    "Geht kommenden Freitag bis Sonntag? Wir wären zu dritt.",  # "kommenden": the one ahead
    "Wir kommen vom 3. bis 7. Juli, am 5. Juli hat Anna Geburtstag.",  # a day inside the stay
    "Geht das Wochenende nach dem 3. Juni? Wir wären zu zweit.",
    # a holiday that does not happen; days told before "Deshalb dachten wir an …"
    "Nachdem das mit Ostern ja nix wird, würden wir gern vom 3. bis 5. Juli kommen, zu zweit.",
    "Meine Frau hat erst ab dem 2.8. Urlaub, und am 14.8. fängt die Schule an. Deshalb dachten "
    "wir an 3.8. bis 10.8.",
])
def test_one_clear_reading_asks_nothing(text: str) -> None:
    assert _parse(text)["ask"] == []


@pytest.mark.parametrize("text", [
    "Wir kommen mit 3 Freunden vom 3. bis 5. Juli.",
    "Servus, mir kemma mit 3 Spezln vom 3. bis 5. Juli.",  # Bavarian "mir" is "wir" here
])
def test_an_uncertain_count_is_asked_about(text: str) -> None:
    """"wir … mit 3 Freunden": how many "wir" are is not said."""
    result = _parse(text)
    assert (result["party_size"], result["ask"]) == (3, ["party_size"])


@pytest.mark.parametrize(("text", "start", "end"), [
    ("Können wir bis Sonntag verlängern?", None, "2027-08-08"),
    # a day before "abreisen" is the new end
    ("Wir würden gern erst am Freitag abreisen statt am Donnerstag.", None, "2027-08-06"),
    ("Wir würden gern erst am 6.8. abreisen.", None, "2027-08-06"),
    ("Wir kommen doch schon ab Donnerstag.", "2027-07-29", None),
    ("Wir müssen leider einen Tag früher abreisen, also am 4.8.", None, "2027-08-04"),
    ("Wir möchten gerne um einen Tag verlängern, also bis 6.8.27.", None, "2027-08-06"),
    # "kommen … nach" (nachkommen): when some of the party arrive, not a new first day
    ("Oma und Opa kommen doch mit, wir sind zu sechst. Die beiden kommen aber erst am Dienstag "
     "nach.", None, None),
    # a bare day is the one next to the booking, not the next 3rd from today
    ("Wir kommen doch erst ab dem 3.", "2027-08-03", None),
    ("Wir bleiben doch bis zum 7.", None, "2027-08-07"),
    # a weekday before the new day is no end of the stay: weekdays never wrap a year
    ("Wir kommen doch erst ab Dienstag, am Sonntag spielt Paul noch Fußball.", "2027-08-03",
     None),
    ("Wir bleiben nur bis Mittwoch statt Donnerstag, am Donnerstag muss Paul arbeiten.", None,
     "2027-08-04"),
])
def test_an_edit_reads_weekdays_and_departures_next_to_the_booking(
        text: str, start: str | None, end: str | None) -> None:
    """The booking (in our subject) is Sun 01.–Thu 05.08.2027: "bis Sonntag" is the Sunday
    after its end, "ab Donnerstag" the Thursday before its start, "abreisen … am 4.8." an end."""
    result = _parse(text, subject="Re: Anfrage erhalten (01.–05.08.2027)")
    assert (result["intent"], result["start"], result["end"]) == ("edit", start, end)


@pytest.mark.parametrize(("text", "subject", "start", "end"), [
    # a one-day holiday is one new end, like a written day; the time spent elsewhere is none
    ("Wir kommen doch erst am zweiten Weihnachtsfeiertag, Heiligabend sind wir bei Oma. "
     "Abreise bleibt.", "Re: Anfrage erhalten (23.12.–27.12.2026)", "2026-12-26", None),
    ("Wir kommen doch erst am 25.12., am 24.12. sind wir bei Oma.",
     "Re: Anfrage erhalten (23.12.–27.12.2026)", "2026-12-25", None),
    # the booking named by its holiday changes no day
    ("Über Ostern sind wir jetzt zu siebt.", "Re: Anfrage erhalten (26.03.–29.03.2027)", None,
     None),
])
def test_an_edit_names_only_the_days_it_changes(
        text: str, subject: str, start: str | None, end: str | None) -> None:
    result = _parse(text, subject=subject)
    assert (result["intent"], result["start"], result["end"]) == ("edit", start, end)


@pytest.mark.parametrize(("text", "start", "end"), [
    ("Bitte die Osterbuchung stornieren, danke!", "2027-03-26", "2027-03-29"),
    # the holiday that stays booked is not the one canceled
    ("Bitte die Juli-Buchung stornieren, Pfingsten bleibt aber.", None, None),
])
def test_a_cancel_names_the_booking_it_ends(text: str, start: str | None, end: str | None) -> None:
    result = _parse(text, subject="Stornierung")
    assert (result["intent"], result["start"], result["end"]) == ("cancel", start, end)


def test_a_polish_reply_subject_supplies_no_dates() -> None:
    """"Odp:" is the Polish "Re:": our subject below it is the booking, not a new stay."""
    result = _parse("ich muss leider absagen. Meine Mutter ist krank.",
                    subject="Odp: Anfrage erhalten (01.–04.05.2027)")
    assert (result["intent"], result["start"], result["end"]) == ("cancel", None, None)


def test_a_holiday_in_the_subject_does_not_outweigh_the_span_it_places() -> None:
    assert _stay("Wir würden gern über Himmelfahrt kommen (Do bis So).",
                 subject="Himmelfahrt 2027") == ("2027-05-06", "2027-05-09")


@pytest.mark.parametrize(("text", "start", "end"), [
    # a wedding day in the reason is no stay: the holiday cancelled is
    ("Wir müssen Ostern leider absagen – meine Cousine heiratet am 27.3. in Wien.", "2027-03-26",
     "2027-03-29"),
    # "das Wochenende" refers to the booking, not to the coming one
    ("Wir sagen das Wochenende leider ab, die Kinder sind krank.", None, None),
])
def test_a_cancel_names_what_it_calls_off(text: str, start: str | None, end: str | None) -> None:
    result = _parse(text, subject="Re: Anfrage erhalten (26.–29.03.2027)")
    assert (result["intent"], result["start"], result["end"]) == ("cancel", start, end)


# --- added with the dev batches 10 and 11 (one class of phrasing each)

@pytest.mark.parametrize(("text", "start", "end"), [
    # "zu bekommen" is the wish for the house, not something received
    ("Wäre es möglich, das Haus ab dem 2. Januar für eine Woche zu bekommen?", "2027-01-02",
     "2027-01-09"),
    # English: "the 17th of April", "for a week"
    ("Would the house be free from the 10th to the 17th of April?", "2027-04-10", "2027-04-17"),
    ("Could we come on the 3rd of June for a week?", "2027-06-03", "2027-06-10"),
    # holiday names as range ends; a written day in brackets that is the holiday's own day
    ("Wir würden gern vom Neujahrstag bis zum Dreikönigstag (6.1.) ins Haus.", "2027-01-01",
     "2027-01-06"),
    ("Können wir vom 2. Januar bis Heilige Drei Könige kommen?", "2027-01-02", "2027-01-06"),
    ("Von Allerheiligen bis zum 4. November hätten wir gern das Haus.", "2027-11-01",
     "2027-11-04"),
    ("Am Reformationstag anreisen und bis zum 2. November bleiben.", "2027-10-31", "2027-11-02"),
    # a correction takes back the day right before it, also one without a month
    ("Wir würden am 12. Juni anreisen und am 15. – nein Quatsch, am 16. Juni wieder fahren.",
     "2027-06-12", "2027-06-16"),
    ("Wir kommen am 5. März — ne, am 6. März, für zwei Nächte.", "2027-03-06", "2027-03-08"),
    ("Anreise am 5. Mai, korrigiere, am 6. Mai, Abreise 9. Mai.", "2027-05-06", "2027-05-09"),
    # the perfect tense around a day tells what happened, no stay
    ("Leider müssen wir absagen – Tims Oma ist am Wochenende gestorben.", None, None),
    ("Die beiden sind am 3. Juli verheiratet worden, wir kommen vom 10. bis 12. Juli.",
     "2027-07-10", "2027-07-12"),
    ("Opa ist am 3. März verstorben, wir würden gern vom 10. bis 12. April kommen.",
     "2027-04-10", "2027-04-12"),
    # a weekday span placed by a holiday: the span that holds the holiday's day
    ("Ich würde gern übers Allerheiligen-Wochenende ins Haus, Samstag bis Montag.",
     "2027-10-30", "2027-11-01"),
    ("Über Allerheiligen, von Samstag bis Montag, zu zweit.", "2027-10-30", "2027-11-01"),
    ("Übers Fronleichnam-Wochenende, Freitag bis Sonntag.", "2027-05-28", "2027-05-30"),
    # the same written day in the subject and the body is one day
    ("Wir würden gern das verlängerte Wochenende am 3. Oktober ins Haus, also Freitag bis "
     "Sonntag.", "2027-10-01", "2027-10-03"),
    # a length goes with the day of its own sentence
    ("Wir kommen ab Montag, 4. Oktober, für zehn Tage.", "2027-10-04", "2027-10-13"),
])
def test_rule_of_the_dev_batches(text: str, start: str | None, end: str | None) -> None:
    subject = "Wochenende am 3. Oktober" if "3. Oktober" in text else "Anfrage"
    assert _stay(text, subject) == (start, end)


@pytest.mark.parametrize("text", [
    # two first days: the length's own sentence gives the stay, the other is asked about
    "Ab dem 1. Oktober 2027 bin ich Rentner – nach 46 Jahren bei der Bahn! Das feiern wir mit "
    "einer Woche im Haus, ab Montag, dem 4. Oktober.",
    # a holiday weekend whose days no weekday span says
    "Wir möchten übers Allerheiligenwochenende kommen.",
    # a day to the same weekday: a week, or a wrong day?
    "Wir kommen am 4. Juli und bleiben bis Sonntag.",
])
def test_competing_readings_of_the_dev_batches_are_asked_about(text: str) -> None:
    assert _parse(text)["ask"] == ["start", "end"]


def test_the_length_goes_with_the_day_of_its_sentence() -> None:
    assert _stay("Ab dem 1. Oktober 2027 bin ich Rentner. Das feiern wir mit einer Woche im "
                 "Haus, ab Montag, dem 4. Oktober.") == ("2027-10-04", "2027-10-11")


@pytest.mark.parametrize(("text", "start", "end"), [
    # a departure before the day makes it the last, whatever weekday follows
    ("Wir müssen leider einen Tag früher abreisen, also am 4.8. – unser Großer hat am Samstag "
     "ein Turnier.", None, "2027-08-04"),
    ("Wir müssen früher fahren, also am 4.8.", None, "2027-08-04"),
    ("Wir fahren doch schon am 4.8. heim.", None, "2027-08-04"),
    # one end said to stay as it was
    ("Wir kommen erst am 2. August, Claudia muss am Samstag noch arbeiten. Abreise bleibt wie "
     "gehabt.", "2027-08-02", None),
    ("Wir kommen einen Tag später, also am 2.8. Die Abreise bleibt unverändert.", "2027-08-02",
     None),
    ("Anreise wie geplant, wir bleiben aber bis zum 7.8.", None, "2027-08-07"),
    # the days after "statt" are the old ones
    ("Statt ab dem 1. August erst ab dem 2. August, dafür dann bis zum 7.", "2027-08-02",
     "2027-08-07"),
])
def test_an_edit_reads_departures_and_kept_ends(
        text: str, start: str | None, end: str | None) -> None:
    result = _parse(text, subject="Re: Anfrage erhalten (01.–05.08.2027)")
    assert (result["intent"], result["start"], result["end"]) == ("edit", start, end)


def test_same_dates_leave_a_story_weekday_unread() -> None:
    result = _parse("Die Nichten kommen nur am Samstag zum Kaffee und fahren abends wieder heim. "
                    "Bitte macht die Anfrage nochmal auf, gleiche Daten.",
                    subject="Re: Cornelia hat abgelehnt")
    assert (result["intent"], result["start"], result["end"]) == ("reopen", None, None)
