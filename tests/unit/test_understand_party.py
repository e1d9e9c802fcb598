"""The second reading of who comes (`party.tally`) and when it makes the parser ask."""

from datetime import date

import pytest

from mailbot.understand import Decoded, interpret, party
from mailbot.understand.vocabulary import vocabulary


@pytest.mark.parametrize(("text", "size"), [
    ("Kommen würden Horst und ich, unsere drei Kinder mit ihren Partnern und die kleine Paula.", 9),
    ("Meine Frau und ich kommen, dazu unsere beiden Söhne mit ihren Freundinnen.", 6),
    ("Wir sind zwei Erwachsene, unsere Tochter Emma (3) und unser Baby Jakob, dazu unser Hund.", 4),
    ("Wir sind drei Erwachsene (mein Mann, meine Mutter und ich) und ein Schulkind.", 4),
    ("Wir sind zwei Familien, jeweils zwei Erwachsene und zwei Kinder, und kommen gern.", 8),
    ("Dabei wären wir zwei, unsere Tochter Sarah mit ihrem Mann und unser Sohn Tobias.", 5),
    ("Wir wären: Gerda, Klaus, Hanne und ich.", 4),
    ("würd gern vom 3. bis 5. april mit 2 kumpels ins haus", 3),
    ("Nur mein Mann und ich kommen, die Kinder haben keine Lust.", 2),
    ("Wir kommen zu fünft, das sind dann also 5.", 5),
])
def test_tally_adds_up_the_people_named(text: str, size: int) -> None:
    found = party.tally(text, vocabulary())
    assert found is not None and found.size == size and found.sure


@pytest.mark.parametrize("text", [
    "Wir kommen zu viert, vielleicht kommt meine Schwiegermutter noch mit.",
    "Wir kommen mit meinen Eltern.",  # how many are "wir"?
])
def test_tally_is_unsure_where_a_reader_would_be(text: str) -> None:
    found = party.tally(text, vocabulary())
    assert found is None or not found.sure or party._total(text, vocabulary()) is not None


@pytest.mark.parametrize("text", [
    "ich komme erst am 5., vorher hat mein Mann einen Termin beim Augenarzt.",
    "Kleine Änderung: Anreise Sa 7.8., Abreise Di 10.8.",
])
def test_tally_names_nobody_in_a_change_of_dates(text: str) -> None:
    assert party.tally(text, vocabulary()) is None


def _request(text: str) -> tuple[int | None, tuple[str, ...]]:
    decoded = Decoded(message_id=None, in_reply_to=None, references=(), from_address="a@example.org",
                      from_name="Ulrike Maier", to=("buchung@example.org",), subject="Anfrage",
                      date=None, text=text)
    it = interpret(decoded, date(2026, 11, 23))
    assert it.intent == "request"
    return it.party_size, it.ask


def test_a_count_the_two_readings_disagree_on_is_asked() -> None:
    size, ask = _request("Hallo, wir möchten vom 16. bis 18. Juli kommen. Kommen würden Horst und ich, "
                         "unsere drei Kinder mit ihren Partnern und die kleine Paula.\nLG Ulrike")
    assert "party_size" in ask and size is not None


def test_a_count_said_outright_is_not_asked() -> None:
    size, ask = _request("Hallo, wir möchten vom 16. bis 18. Juli kommen, wir sind zu viert.\nLG Ulrike")
    assert size == 4 and "party_size" not in ask
