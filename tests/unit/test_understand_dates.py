"""The stay's first and last day, as people write them (labelled as of Monday 2026-11-23)."""

from __future__ import annotations

from datetime import date

import pytest

from mailbot.understand import parse_message
from mailbot.understand.dates import easter_sunday

TODAY = date(2026, 11, 23)


def _stay(body: str, subject: str = "Anfrage") -> tuple[str | None, str | None]:
    raw = (f"From: Anna Müller <anna@example.de>\nSubject: {subject}\n"
           "Content-Type: text/plain; charset=utf-8\n\n" + body).encode()
    result = parse_message(raw, TODAY).as_json()
    return result["start"], result["end"]  # type: ignore[return-value]


@pytest.mark.parametrize(("text", "start", "end"), [
    ("Wir möchten vom 01.–05.08. kommen.", "2027-08-01", "2027-08-05"),
    ("Wir möchten 1.8. bis 5.8.2027 kommen.", "2027-08-01", "2027-08-05"),
    ("Wir kommen vom 3. bis zum 7. März.", "2027-03-03", "2027-03-07"),
    ("Könnten wir das Haus 3.–9. Aug. haben?", "2027-08-03", "2027-08-09"),
    ("Wir würden gern 3. bis 9. August kommen.", "2027-08-03", "2027-08-09"),
    ("Buchung 2027-05-01 bis 2027-05-03 bitte", "2027-05-01", "2027-05-03"),
    ("Wir würden gern vom 28.12.–2.1. kommen.", "2026-12-28", "2027-01-02"),
    ("Können wir am Wochenende 12./13.12. kommen?", "2026-12-12", "2026-12-13"),
    ("Anreise 5.3., Abreise 8.3. – wir wären zu dritt.", "2027-03-05", "2027-03-08"),
    ("Fr 29.01. – So 31.01., 4 Pers.", "2027-01-29", "2027-01-31"),
])
def test_written_ranges(text: str, start: str, end: str) -> None:
    assert _stay(text) == (start, end)


@pytest.mark.parametrize(("text", "start", "end"), [
    ("Wir möchten nächstes Wochenende kommen.", "2026-11-28", "2026-11-29"),
    ("Können wir kommenden Freitag bis Sonntag ins Haus?", "2026-11-27", "2026-11-29"),
    ("übernächste Woche Mo–Fr hätten wir gern das Haus", "2026-12-07", "2026-12-11"),
    ("Wir würden gern ab dem 3.8. für eine Woche kommen.", "2027-08-03", "2027-08-10"),
    ("Wir möchten drei Nächte ab dem 10. März bleiben.", "2027-03-10", "2027-03-13"),
    ("Wir kommen am 5.3. für 5 Tage.", "2027-03-05", "2027-03-09"),
])
def test_relative_dates_and_durations(text: str, start: str, end: str) -> None:
    assert _stay(text) == (start, end)


@pytest.mark.parametrize(("text", "start", "end"), [
    ("Wir würden gern über Ostern kommen.", "2027-03-26", "2027-03-29"),
    ("Am Karfreitag möchten wir kommen.", "2027-03-26", "2027-03-26"),
    ("Wir möchten Pfingsten ins Haus.", "2027-05-15", "2027-05-17"),
    ("An Himmelfahrt möchten wir kommen.", "2027-05-06", "2027-05-06"),
    ("Über Himmelfahrt möchten wir kommen.", "2027-05-06", "2027-05-09"),
    ("Fronleichnam möchten wir kommen.", "2027-05-27", "2027-05-27"),
    ("Wir würden gern Weihnachten im Haus feiern.", "2026-12-24", "2026-12-26"),
    ("Silvester möchten wir kommen, zu acht.", "2026-12-31", "2027-01-01"),
    ("Ostern 2028 möchten wir kommen.", "2028-04-14", "2028-04-17"),
    ("von Fronleichnam bis Sonntag, 4 Personen – geht das?", "2027-05-27", "2027-05-30"),
])
def test_holidays_by_name(text: str, start: str, end: str) -> None:
    assert _stay(text) == (start, end)


def test_gauss_easter_matches_known_dates() -> None:
    assert [easter_sunday(y) for y in (2024, 2025, 2026, 2027, 2038)] == [
        date(2024, 3, 31), date(2025, 4, 20), date(2026, 4, 5), date(2027, 3, 28),
        date(2038, 4, 25)]


@pytest.mark.parametrize("text", [
    "Wir würden gern Mitte Juli kommen.",
    "Anfang Mai wäre schön, wir wollen ins Haus.",
    "Zwischen den Jahren hätten wir gern das Haus.",
    "Wir möchten irgendwann im Herbst ins Haus.",
])
def test_vague_phrases_give_no_dates_and_are_named(text: str) -> None:
    raw = ("From: a@example.de\nSubject: Anfrage\n\n" + text).encode()
    result = parse_message(raw, TODAY)
    assert (result.start, result.end) == (None, None)
    assert result.vague is not None and result.vague.lower() in text.lower()


def test_birthday_phone_postcode_and_time_are_not_the_stay() -> None:
    text = ("Oma hat am 4.8. Geburtstag, deshalb kommen wir vom 1.8. bis 5.8.2027. "
            "Ankunft gegen 15.30 Uhr. Tel. 0171 1234567, 91282 Betzenstein")
    assert _stay(text) == ("2027-08-01", "2027-08-05")


def test_deadline_is_not_the_stay() -> None:
    assert _stay("Wir kommen am 10.4. für 3 Nächte. Bitte bis zum 1.12. Bescheid geben.") == (
        "2027-04-10", "2027-04-13")


def test_reply_subject_never_supplies_dates() -> None:
    assert _stay("Wir würden gern kommen.", subject="Re: Anfrage (01.–05.08.2027)") == (
        None, None)


def test_own_subject_supplies_dates() -> None:
    assert _stay("Geht das?", subject="Haus 3.–5. März") == ("2027-03-03", "2027-03-05")


@pytest.mark.parametrize(("text", "start", "end"), [
    ("Hätten gern das Haus Sept 10-12, zu zweit.", "2027-09-10", "2027-09-12"),
    ("Wir würden gern Okt. 2 bis 4 kommen.", "2027-10-02", "2027-10-04"),
    ("Anfrage: vom 14/05/2027 bis 16/05/2027, 3 Erw.", "2027-05-14", "2027-05-16"),
    ("Wir möchten vom zweiten bis vierten Juni kommen.", "2027-06-02", "2027-06-04"),
    ("ginge es vom 3ten bis 6ten april? wir sind 4", "2027-04-03", "2027-04-06"),
    ("Im Juli würden wir gern kommen, und zwar vom 9. bis 12., zu dritt.",
     "2027-07-09", "2027-07-12"),
    ("Können wir den ganzen August haben? Wir sind vier.", "2027-08-01", "2027-08-31"),
    ("Wir würden gern vom 3. auf den 5. März kommen, zu zweit.", "2027-03-03", "2027-03-05"),
])
def test_ranges_written_other_ways(text: str, start: str, end: str) -> None:
    assert _stay(text) == (start, end)


@pytest.mark.parametrize("text", [
    "Zwischen Weihnachten und Silvester würden wir gern mit 4 Personen kommen.",
    "Kurz nach Pfingsten hätten wir gern das Haus, zu dritt.",
    "In der Woche vor Ostern möchten wir zu fünft kommen.",
    "Wir würden gern zum 3. Advent kommen, zu zweit.",
    "Wir würden im Mai 1-2 Wochen kommen, zu zweit.",
])
def test_time_around_a_holiday_is_vague(text: str) -> None:
    assert _stay(text) == (None, None)


def test_a_shift_is_not_the_length_of_the_stay() -> None:
    subject = "Re: Anfrage erhalten (03.–06.12.2026)"
    assert _stay("Können wir einen Tag später kommen, also ab dem 4.?", subject) == (
        "2026-12-04", None)
    assert _stay("Wir würden gern zwei Nächte dranhängen, also bis zum 8.12.", subject) == (
        None, "2026-12-08")


def test_a_date_something_else_ends_on_is_not_the_stay() -> None:
    text = "Wir hätten gern Weihnachten das Haus, die günstigen Tickets sind ab dem 1.12. weg."
    assert _stay(text) == ("2026-12-24", "2026-12-26")


def test_second_christmas_day_to_new_year() -> None:
    text = "Wir würden gerne am 2. Weihnachtsfeiertag anreisen und bis Neujahr bleiben, zu viert."
    assert _stay(text) == ("2026-12-26", "2027-01-01")
