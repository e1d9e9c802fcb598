"""Party size and first name."""

from __future__ import annotations

from datetime import date

import pytest

from mailbot.understand import parse_message

TODAY = date(2026, 11, 23)


def _parse(body: str, sender: str = "Anna Müller <anna@example.de>") -> dict[str, object]:
    raw = (f"From: {sender}\nSubject: Anfrage\nContent-Type: text/plain; charset=utf-8\n\n"
           + body).encode()
    return parse_message(raw, TODAY).as_json()


@pytest.mark.parametrize(("text", "size"), [
    ("Wir möchten vom 3. bis 5. März kommen, 4 Personen.", 4),
    ("vom 3. bis 5. März, wir sind fünf", 5),
    ("vom 3. bis 5. März kommen wir zu dritt", 3),
    ("vom 3. bis 5. März: 2 Erwachsene und 3 Kinder", 5),
    ("Meine Frau und ich möchten vom 3. bis 5. März kommen.", 2),
    ("Ich komme allein, vom 3. bis 5. März.", 1),
    ("Wir vier plus Baby möchten vom 3. bis 5. März kommen.", 5),
    ("Wir sind 3 Erwachsene + 1 Kind (+ Katze) und hätten gern 3.–5. März.", 4),
    ("Paul, Lea und ich würden gern vom 3. bis 5. März kommen.", 3),
    ("Opa und ich würden gern mit den drei Enkeln vom 3. bis 5. März kommen.", 5),
    ("vom 3. bis 5. März, zwei Personen und ein Hund", 2),
    ("Wir möchten vom 3. bis 5. März kommen.", None),
])
def test_party_size(text: str, size: int | None) -> None:
    assert _parse(text)["party_size"] == size


@pytest.mark.parametrize(("body", "sender", "name"), [
    ("Vom 3. bis 5. März bitte.\n\nLG Anna", "x@example.de", "Anna"),
    ("Vom 3. bis 5. März bitte.\n\nViele Grüße, Hans-Peter", "x@example.de", "Hans-Peter"),
    ("Vom 3. bis 5. März bitte.\n\nLiebe Grüße\nEure Inge", "x@example.de", "Inge"),
    ("Vom 3. bis 5. März bitte.\n\nDein Bruder Max", "x@example.de", "Max"),
    ("Vom 3. bis 5. März bitte.", "Anna Müller <a@example.de>", "Anna"),
    ("Vom 3. bis 5. März bitte.", '"Müller, Anna" <a@example.de>', "Anna"),
    ("Vom 3. bis 5. März bitte.\n\nLG Geli", "Angelika Vogt <a@example.de>", "Geli"),
    ("Vom 3. bis 5. März bitte.\n\nLG die Kellers", "Ute Keller <u@example.de>", "Ute"),
    ("Vom 3. bis 5. März bitte.", "a@example.de", None),
])
def test_first_name_from_closing_else_display_name(body: str, sender: str,
                                                  name: str | None) -> None:
    assert _parse(body, sender)["first_name"] == name


@pytest.mark.parametrize(("text", "size"), [
    ("vom 3. bis 5. März mit drei Familien à 3 Personen", 9),
    ("ich und 2 kumpels würden gern vom 3. bis 5. märz kommen", 3),
    ("vom 3. bis 5. März kommen: Opa, Oma und die Kinder (3)", 5),
    ("vom 3. bis 5. März nur mein Mann und ich, die Kinder bleiben daheim", 2),
    ("Ist vom 3. bis 5. März frei? Wären 3.", 3),
    ("vom 3. bis 5. März: 2 Erwachsene, 1 Kind, 1 Baby", 4),
    ("Wir möchten gern 3.–5. März. Personenzahl: 6.", 6),
])
def test_party_size_other_ways(text: str, size: int) -> None:
    assert _parse(text)["party_size"] == size


@pytest.mark.parametrize(("body", "sender", "name"), [
    ("Vom 3. bis 5. März bitte.\n\nGruß\nM.", "Markus Weber <m@example.de>", "Markus"),
    ("Vom 3. bis 5. März bitte.\n\nBussi, Vroni", "Veronika Huber <v@example.de>", "Vroni"),
    ("Habt ihr vom 3. bis 5. März was frei? Grüße Tom", "t@example.de", "Tom"),
    ("Habt ihr vom 3. bis 5. März was frei? Grüße aus Berlin", "Anna Roth <a@example.de>",
     "Anna"),
])
def test_first_name_initial_and_dialect_closing(body: str, sender: str, name: str) -> None:
    assert _parse(body, sender)["first_name"] == name


@pytest.mark.parametrize(("text", "size"), [
    ("Wir kommen vom 3. bis 5. Juli, meine Eltern, mein Bruder und ich.", 4),  # Eltern = 2
    ("Wir kommen vom 3. bis 5. Juli mit meinem Mann, den zwei Kindern und Opa.", 5),
    ("Ich möchte vom 3. bis 5. Juli kommen, für mich und meinen Kumpel.", 2),
    ("Ich komme vom 3. bis 5. Juli mit 3 Freunden.", 4),
    ("Vom 3. bis 5. Juli kommen Oma, Opa, Lena und ich.", 4),
    ("wir zwei plus Oma würden gern vom 3. bis 5. Juli kommen.", 3),
    ("Vom 3. bis 5. Juli mit meiner Schwester und ihrem Mann. Mein Mann und ich auch, also 4.",
     4),
    ("wir kommen vom 3. bis 5. juli. wir sind: lena, paul, marie, jakob und ich.", 5),
    # a line in lower case but for an abbreviation ("WE") still has its names in lower case
    ("hi, wir (paul und ich) würden gern an einem WE im januar kommen", 2),
    ("vom 2. bis 5. Oktober – mei Mo, ich, unsere zwaa Buben und die Oma, also 5 Leut.", 5),
    ("Wir kommen mit 2 Erwachsenen und 3 Enkelkindern vom 12.04. bis 18.04.", 5),
    ("ich und 3 Kumpels würden gern kommen, also 5./6. Dezember.", 4),
    ("ich würd gern mit 3 freundinnen am 5. Dezember kommen, wir sind auch leise", 4),
    ("Ginge kommenden Freitag bis Sonntag? Ich käme allein.", 1),
    ("wir zwei + Oma und Opa würden gern vom 1. bis 5. Juli kommen", 4),
    ("Wir (meine Frau, unsere 3 Kinder und ich) möchten vom 1. bis 5. Juli kommen.", 5),
    ("Meine Tochter (8) und ich würden gern vom 1. bis 5. Juli kommen.", 2),
    ("Wir (Familie Berger, 2+2) würden gern vom 5. bis 9. April kommen.", 4),
    ("Geht 24.-27.7.? Wir sind 2 Pärchen.", 4),
    ("Vom 3. bis 5. Juli kommen meine Schwester, ihr Mann, deren drei Kinder und ich.", 6),
    ("Vom 3. bis 5. Juli: Anna, Ben und Clara (alle erwachsen).", 3),
    ("Vom 3. bis 5. Juli kommen Oma Hilde und Opa Karl.", 2),
    ("Vom 3. bis 5. Juli würde ich gern mit meinen Eltern kommen.", 3),
    ("Vom 3. bis 5. Juli: wir sind eine vierköpfige Familie.", 4),
    ("Vom 3. bis 5. Juli kommen meine Freundin und ich plus ihre Eltern.", 4),
    ("Ich komme vom 3. bis 5. Juli mit dem Zug.", None),
    # the writer's group brings more along later in its sentence
    ("Dieter und ich würden gern mit unseren Zwillingen vom 3. bis 5. Juli kommen.", 4),
    ("Opa und ich fahren mit den Enkeln Paul (9) und Lina (6) vom 3. bis 5. Juli.", 4),
    ("de Erwin un ich dede gern mit unsere Enkel Jonas un Marie vum 3. bis 5. Juli.", 4),
    ("ich würde gerne vom 3. bis 5. Juli, also übers Wochenende, mit meinen Eltern kommen", 3),
    ("Mein Mann und ich würden gern mit dem Zug vom 3. bis 5. Juli kommen.", 2),
    ("Would love the house from July 3 to July 5, me, Jenny and the two kids.", 4),
    ("Anreise: 07.08.2027\nAbreise: 10.08.2027\nPersonen: 2", 2),  # a field, not a closing
    ("Vom 14.–16. Mai? Wir sind Thomas, Julia und die Kinder Max (7) und Emma (4).", 4),
    # no "wir": the writer comes with the two
    ("hi, würd gern vom 3.-5. april mit 2 kumpels ins haus. geht das?", 3),
    # dialect: Bavarian "zu zwoat", Franconian "meine zwaa Kumpels" and "Kinner", Berlin "ick"
    ("Vom 3. bis 5. Juli. Mir san zu zwoat.", 2),
    ("am Wochenende 13./14. März mit meine zwaa Kumpels zum Klettern, passt des?", 3),
    ("vom 3. bis 5. Juli. Mir sin zwaa Erwachsene und drei Kinner.", 5),
    ("vom Samstag bis zum Pfingstmontag. Mir zwaa und die drei Kinner, also fünf Leit.", 5),
    ("Vom 3. bis 5. Juli. Nur ick und meen Freund.", 2),
    ("Meine Frau und ick würden jern vom 6. bis 10. Sept. kommen.", 2),
    # a total said outright wins over a product ("zwei Familien mit je einem Kind")
    ("Vom 3. bis 5. Juli? Wir wären zu sechst (zwei Familien mit je einem Kind).", 6),
    # "wir 2" and the children
    ("Wir würden gern ab dem 9. Juli für fünf Nächte kommen, wir 2 + 3 Kinder.", 5),
    # "mit:" and a list names everyone, the writer among them
    ("Vom 24. bis 31. Juli kommen wir mit: Hartmut, Gisela, Jens und Oma Uschi.", 4),
    # Swabian and Low German
    ("Mir tätet gern vom 3. bis 6. Juli ins Häusle, dr Opa, i ond onsre zwoi Enkel.", 4),
    ("Mir dätet gern vom 3. bis 6. Juli komme, zu zwoit.", 2),
    ("Wi wüllt geern vom 9. bis 16. Oktober in't Huus, mien Fru un ik.", 2),
    ("Kann ik mit mien Broder un sien Jung vun'n 3. bit 6. Mai in't Huus kommen?", 3),
    # "wir vier" is a total, the list before it said who considered it
    ("Tom und ich haben überlegt: vom 3. bis 5. Juli würden wir gern kommen, nur wir vier.", 4),
    ("Meine Eltern würden gern vom 3. bis 5. Juli kommen, nur die zwei.", 2),
    # a request for others while the writer stays at home
    ("Ich frage für meinen Sohn und seine Freundin, sie würden gern vom 3. bis 5. Juli ins Haus. "
     "Ich selber komme nicht mit.", 2),
    ("Ich frage für meinen Sohn Max. Er käme gern mit seiner Frau und den zwei Kindern vom 3. "
     "bis 5. Juli. Ich selber komme nicht mit.", 4),
    ("Ich frage für meine Schwiegereltern: sie würden gern vom 3. bis 5. Juli ins Haus, ich "
     "selbst bleibe nicht.", 2),
    # a relative or person word before a name; asides in brackets after a person
    ("Meine Tochter Anna, ihr Mann Ben und ich würden gern vom 3. bis 5. Juli kommen.", 3),
    ("Meine Mutter (84, aber noch fit) und ich würden gern vom 3. bis 5. Juli kommen.", 2),
    ("Mein Sohn, das Baby (6 Monate) und ich würden gern vom 3. bis 5. Juli kommen.", 3),
    # a group's members named after it; an apposition names the same people again
    ("Die Zwillinge Max und Moritz und ich würden gern vom 3. bis 5. Juli kommen.", 3),
    ("Opa und ich kommen vom 3. bis 5. Juli mit unseren Enkeln, den Zwillingen Max und Moritz.",
     4),
    # Bavarian "mir kemma" is "wir": how many are they? (asked, test_grammar)
    ("Servus, ich komm mit 2 Spezln vom 3. bis 5. Juli.", 3),
    # an article or an adjective before a person; a couple is two
    ("Ich würde gern mit meiner Schwester und einem befreundeten Pärchen vom 3. bis 5. Juli "
     "kommen.", 4),
    ("Anna, ich und die kleine Frida würden gern vom 3. bis 5. Juli kommen.", 3),
    ("Wir (2 Pärchen + 1 Baby) würden gern vom 3. bis 5. Juli kommen.", 5),
    ("Vom 3. bis 5. Juli. Wir sind 4 mit Baby.", 4),  # the baby is one of the four
    # who the writer is is no count; a comma alone lists no one
    ("Ich bin Jan, ein Kumpel von Paul. Meine Frau und ich würden gern vom 3. bis 5. Juli "
     "kommen.", 2),
    ("Ach Mensch, ich hab mich verschrieben: wir meinen den 4. Juli.", None),
])
def test_people_counted_as_a_small_grammar(text: str, size: int | None) -> None:
    """Issue 17: family words with their counts, "ich/mich" once, "mit n Freunden" = n + 1."""
    assert _parse(text)["party_size"] == size


@pytest.mark.parametrize(("text", "name"), [
    ("Wir kommen vom 3. bis 5. Juli zu zweit.\n\nThx, Jonas", "Jonas"),
    ("Wir kommen vom 3. bis 5. Juli zu zweit.\n\nLiebe Grüße, auch an Paul\nMarta", "Marta"),
    ("wir kommen vom 3. bis 5. Juli zu zweit\n\nlg steffi", "Steffi"),
    ("would love to come Aug 10-14 – wir wären zu zweit.\n\nxx Hannah", "Hannah"),
    ("Wir kommen vom 3. bis 5. Juli.\n\nLiebe Grüße von Tante Gabi", "Gabi"),
    ("Wir kommen vom 3. bis 5. Juli.\n\nGruß\nHans (der Bruder von Inge)", "Hans"),
    ("Wir kommen vom 3. bis 5. Juli.\nSchönen Abend noch!\nLisa", "Lisa"),
    ("Wir kommen vom 3. bis 5. Juli.\n\nMit besten Grüßen\ni.A. Sandra Müller", "Sandra"),
    ("Wir kommen vom 3. bis 5. Juli.\n-Jana", "Jana"),
    # a place after the closing is not the name
    ("Wir kommen vom 3. bis 5. Juli.\n\nLiebe Grüße von der Küste\nWiebke", "Wiebke"),
    ("Wir kommen vom 3. bis 5. Juli.\n\nMit freundlichem Gruß\nHeinz Hartmann\nEssen-Steele",
     "Heinz"),
    # an aside after the signed name; a lower-case closing at the end of the only line
    ("Wir kommen vom 3. bis 5. Juli zu zweit.\n\nMarie (schreibt für Opa)", "Marie"),
    ("hallo ich wollt fragen ob ich vom 3.7 bis 5.7 mit meiner freundin kommen kann lg tim",
     "Tim"),
])
def test_closings_of_issue_17(text: str, name: str) -> None:
    assert _parse(text, sender="<x@example.de>")["first_name"] == name


def test_a_range_of_people_is_asked_about() -> None:
    result = _parse("Vom 3. bis 5. Juli kommen ein paar Freunde mit, wir sind dann so 6-8 Leute.")
    assert (result["party_size"], result["ask"]) == (8, ["party_size"])


def test_a_list_after_wir_kommen_mit_that_leaves_out_the_writer_is_asked_about() -> None:
    """Issue 17, asking instead of guessing: is the writer one more than the names listed?"""
    text = "Vom 24. bis 31. Juli: wir kommen mit: Gisela, Jens und Mandy.\n\nGruß\nHartmut"
    result = _parse(text, sender="Hartmut Schubert <h@example.de>")
    assert (result["party_size"], result["ask"]) == (3, ["party_size"])
    named = _parse(text.replace("mit: Gisela", "mit: Hartmut, Gisela"),
                   sender="Hartmut Schubert <h@example.de>")
    assert (named["party_size"], named["ask"]) == (4, [])


@pytest.mark.parametrize(("closing", "name"), [
    ("Pfiat eich\nda Michi", "Michi"),  # a Bavarian article before the signed name
    ("Servus\nd'Resi", "Resi"),
    ("Grüßle\ndr Karle", "Karle"),
    ("Liebe Grüße\nEt Marie", "Marie"),
    ("Servus, wia schaut's aus mit unserer Afrog? Hod se scho wer gmeldt?\nMichi", "Michi"),
])
def test_closing_name_after_a_dialect_article_or_one_line_of_text(closing: str, name: str) -> None:
    body = closing if "?" in closing else f"Wir kommen vom 3. bis 5. Juli zu zweit.\n\n{closing}"
    assert _parse(body, sender="<x@example.de>")["first_name"] == name


@pytest.mark.parametrize("role", ["Mama", "Eure Oma", "Oma & Opa"])
def test_a_role_as_signature_is_a_closing_without_a_name(role: str) -> None:
    raw = (f"From: Conny Weber <c@example.de>\nSubject: Re: Neue Buchungsanfrage (03.–05.07.2027)\n"
           f"Content-Type: text/plain; charset=utf-8\n\nIm Haus sind nur neun Betten. Also leider "
           f"nein.\n\n{role}").encode()
    result = parse_message(raw, TODAY).as_json()
    assert (result["intent"], result["first_name"], result["comment"]) == ("deny", "Conny", None)
