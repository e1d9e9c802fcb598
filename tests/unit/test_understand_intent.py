"""Intent and comment as in docs/parse-conventions.md."""

from __future__ import annotations

from datetime import date

import pytest

from mailbot.understand import parse_message

TODAY = date(2026, 11, 23)


def _parse(body: str, subject: str = "Re: Neue Buchungsanfrage (01.–05.08.2027)",
           extra: str = "") -> dict[str, object]:
    raw = (f"From: Inge Hartmann <inge@example.de>\nSubject: {subject}\n{extra}"
           "Content-Type: text/plain; charset=utf-8\n\n" + body).encode()
    return parse_message(raw, TODAY).as_json()


@pytest.mark.parametrize(("text", "intent"), [
    ("JA", "approve"), ("ja passt", "approve"), ("Einverstanden.", "approve"), ("OK", "approve"),
    ("👍", "approve"), ("Geht klar!", "approve"), ("Von mir aus gern.", "approve"),
    ("Ja. An Ostern sind wir eh weg, das Haus ist frei.", "approve"),
    ("NEIN, weil wir selbst im Haus sind.", "deny"), ("Leider nicht.", "deny"),
    ("Ich muss ablehnen.", "deny"), ("Geht nicht, da wird gestrichen.", "deny"),
    ("STORNO", "cancel"), ("Wir müssen leider absagen.", "cancel"),
    ("Bitte stornieren.", "cancel"), ("Wir kommen doch nicht.", "cancel"),
    ("Wir sind doch zu fünft.", "edit"), ("Wir kommen doch erst ab dem 5.", "edit"),
    ("Bitte nochmal anfragen.", "reopen"), ("Kann man das wieder öffnen?", "reopen"),
    ("Wie ist der Stand?", "status"), ("Schon was gehört?", "status"),
    ("Ist die Buchung bestätigt?", "status"),
    ("Ich finde meinen Link nicht mehr.", "recover_link"),
    ("Schick mir bitte nochmal den Link.", "recover_link"),
    ("", "unknown"), ("Danke!", "thanks"),
])
def test_intent(text: str, intent: str) -> None:
    # approvers answer "Neue Buchungsanfrage", requesters "Anfrage erhalten"
    thread = "Neue Buchungsanfrage" if intent in ("approve", "deny") else "Anfrage erhalten"
    assert _parse(text, subject=f"Re: {thread} (01.–05.08.2027)")["intent"] == intent


@pytest.mark.parametrize(("text", "intent"), [
    ("Ich bin einverstanden.", "approve"), ("Da habe ich nichts dagegen.", "approve"),
    ("Dem stimme ich zu.", "approve"), ("Ich sage nein, weil die Oma feiert.", "deny"),
    ("Das passt mir leider überhaupt nicht, weil wir da streichen.", "deny"),
    ("Von mir aus nicht.", "deny"), ("Hallo zusammen, ich stimme der Buchung zu.", "approve"),
    ("Danke für die Info, ich stimme zu.", "approve"), ("Alles gut, von mir ein Ja.", "approve"),
    ("Ich gebe mein OK.", "approve"), ("Meinetwegen.", "approve"),
    ("Danke für die Nachfrage. Leider nein, wir sind selbst dort.", "deny"),
    ("Von mir gibt's ein klares Nein, da ist Oma da.", "deny"),
])
def test_approver_phrasings(text: str, intent: str) -> None:
    assert _parse(text)["intent"] == intent


def test_an_approver_who_says_absagen_denies() -> None:
    result = _parse("Hallo Anna, leider muss ich absagen, da sind wir selbst dort.\nGruß Inge")
    assert (result["intent"], result["comment"]) == ("deny", "da sind wir selbst dort.")


def test_new_request_with_dates() -> None:
    result = _parse("Hallo, wir würden gern vom 3. bis 5. März kommen, zu viert.\nLG Inge",
                    subject="Anfrage März")
    assert result == {"intent": "request", "start": "2027-03-03", "end": "2027-03-05",
                      "party_size": 4, "first_name": "Inge", "comment": None, "ask": [],
                      "reply": "Hallo, wir würden gern vom 3. bis 5. März kommen, zu viert.\nLG Inge",
                      "machine": None}


def test_approve_never_carries_dates_or_party() -> None:
    assert _parse("Ja, passt.\nInge\n\n> vom 3. bis 5. März, 4 Personen") == {
        "intent": "approve", "start": None, "end": None, "party_size": None,
        "first_name": "Inge", "comment": None, "ask": [], "reply": "Ja, passt.\nInge",
        "machine": None}


@pytest.mark.parametrize(("text", "comment"), [
    ("NEIN, weil wir selbst im Haus sind.", "weil wir selbst im Haus sind."),
    ("Nein:   da ist\n   der Kaminkehrer da.\n\nLG Inge", "da ist der Kaminkehrer da."),
    ("NEIN", None),
    # a no that is its own reason keeps the whole sentence, not "im Haus."
    ("Da sind wir selbst im Haus.", "Da sind wir selbst im Haus."),
    # a no said twice ("Nee, leider nicht –") is one no: the reason is the clause after it
    ("Nee, leider nicht – da sind Paul und Gisela doch schon drinne.",
     "da sind Paul und Gisela doch schon drinne."),
    ("Noi, leider net – do wird dr Boda abgschliffa.", "do wird dr Boda abgschliffa."),
])
def test_deny_comment_is_the_reason_as_written(text: str, comment: str | None) -> None:
    assert _parse(text)["comment"] == comment


def test_cancel_comment_stops_at_the_closing() -> None:
    result = _parse("Wir müssen leider stornieren, Oma ist krank.\n\nViele Grüße\nInge",
                    subject="Re: Anfrage erhalten (01.–05.08.2027)")
    assert (result["intent"], result["comment"]) == ("cancel", "Oma ist krank.")


def test_edit_in_booking_thread_takes_the_new_range() -> None:
    result = _parse("Umbuchung bitte: 18.–20.6. statt 11.–13.6.",
                    subject="Re: Anfrage erhalten (11.–13.06.2027)")
    assert (result["intent"], result["start"], result["end"]) == (
        "edit", "2027-06-18", "2027-06-20")


def test_auto_reply_and_newsletters_are_unknown_without_name() -> None:
    auto = _parse("Ich bin bis 1.12. nicht im Büro.", subject="Abwesenheitsnotiz",
                  extra="Auto-Submitted: auto-replied\n")
    news = _parse("Jetzt 20% Rabatt! Newsletter abbestellen", subject="Angebote",
                  extra="List-Unsubscribe: <mailto:x@example.de>\n")
    assert auto["intent"] == news["intent"] == "unknown"
    assert auto["first_name"] is None


@pytest.mark.parametrize(("text", "intent"), [
    ("Freilich!", "approve"), ("Passt scho.", "approve"),
    ("Das geht leider nicht, weil wir da selbst oben sind.", "deny"),
    ("Gibt's schon was Neues?", "status"), ("Hat Cornelia sich schon gemeldet?", "status"),
    ("Bitte nochmal neu prüfen, diesmal vom 22. bis 24. Januar.", "reopen"),
    ("Wo finde ich denn meine Buchungen?", "recover_link"),
    ("Zur Info: das Paket mit den Handtüchern kommt am Montag.", "unknown"),
    ("Sorry, aber da geht es nicht – wir renovieren.", "deny"),
    ("Was ist eigentlich mit meiner Anfrage?", "status"), ("Und? Schon entschieden?", "status"),
    ("Da bin ich leider dagegen, weil das Dach repariert wird.", "deny"),
])
def test_intent_other_ways(text: str, intent: str) -> None:
    assert _parse(text)["intent"] == intent


def test_cancel_reason_leaves_out_the_please() -> None:
    assert _parse("Stornieren bitte, wir haben Corona.")["comment"] == "wir haben Corona."


def test_a_mail_address_is_no_wish_to_book() -> None:
    text = ("Sehr geehrter Kunde, Ihr Postfach buchung@example.de ist voll. Bitte bestätigen "
            "Sie Ihr Konto bis zum 25.11.2026.")
    assert _parse(text, subject="Wichtig: Ihr Konto")["intent"] == "unknown"


def test_reply_to_a_past_booking_with_a_new_wish_is_a_request() -> None:
    result = _parse("Letztes Jahr war so schön, wir möchten wieder kommen: vom 7. bis "
                    "14. August, zu dritt.", subject="Re: Buchung bestätigt (07.–10.08.2026)")
    assert (result["intent"], result["start"], result["end"]) == (
        "request", "2027-08-07", "2027-08-14")


def test_new_dates_in_the_thread_of_a_past_booking_are_a_request() -> None:
    body = "Vom 7. bis 14. August, zu dritt?"
    past = _parse(body, subject="Re: Buchung bestätigt (07.–10.08.2026)")
    ahead = _parse(body, subject="Re: Buchung bestätigt (07.–10.08.2027)")
    assert (past["intent"], ahead["intent"]) == ("request", "edit")


@pytest.mark.parametrize("text", [
    "Super, danke dir!", "Danke schön!", "Danke schön!\nHans", "Danke euch allen! 🥰",
    "Danke dir! Wir freuen uns riesig.\n\nTobi",
    "Vielen Dank für die schnelle Bestätigung!\n\nLG Anna", "Merci vielmal!\n\nGrüessli Reto",
    "Thanks a lot, ihr seid die Besten!\nJonas", "Vielen lieben Dank, wir freuen uns riesig! 🎉",
])
def test_a_mail_that_only_thanks_is_thanks_not_a_yes(text: str) -> None:
    """Issue 14 (3): a thank-you to a confirmation is recorded, never read as a decision."""
    result = _parse(text, subject="Re: Buchung bestätigt (01.–05.08.2027)")
    assert (result["intent"], result["ask"]) == ("thanks", [])


@pytest.mark.parametrize("text", ["Danke! Wir kommen aber erst am 3.", "Super!", "Ja, danke!"])
def test_thanks_with_something_else_is_that_something(text: str) -> None:
    assert _parse(text)["intent"] != "thanks"


@pytest.mark.parametrize("text", [
    "JA? Nein, lieber nicht.", "Ja wohl kaum!",
    "Ja, aber nur wenn ihr danach putzt … eher nein.",
    "Ja, aber leider nein: am 4. August kommen Paul und Lisa.",  # the no in a later sentence
])
def test_an_answer_that_says_yes_and_no_asks_instead_of_acting(text: str) -> None:
    """Issue 14 (2): a reply that says both is never recorded as an approval."""
    result = _parse(text)
    assert result["intent"] != "approve"
    assert result["ask"] == ["intent"]


@pytest.mark.parametrize("text", ["Ja, passt.", "Ja. An Ostern sind wir eh weg.",
                                  "Ja, es spricht nichts dagegen.",
                                  "Gern, aber nicht mit dem Hund im Bett."])
def test_a_plain_yes_is_sure(text: str) -> None:
    assert _parse(text)["intent"] == "approve"
    assert _parse(text)["ask"] == []


@pytest.mark.parametrize(("text", "comment"), [
    ("Ich lehne ab – Grund: da sind wir selbst im Haus.", "da sind wir selbst im Haus."),
    ("Lieber nicht, da wird der Boden gemacht.", "da wird der Boden gemacht."),
    ("ich würde es euch ja gern geben, aber leider nein: wir haben Handwerker da.",
     "wir haben Handwerker da."),
    ("Na, des geht net, weil mir da selber drin san.\n\nConny", "weil mir da selber drin san."),
    ("Nee, sorry. Da sind wir selbst da.", "Da sind wir selbst da."),
    ("ich muss leider ablehnen, weil die Fenster getauscht werden.\n\nViele Grüße\nAngelika\n\n"
     "Angelika Dörfler\nSteuerfachangestellte\nHofmann & Partner\nBahnhofstraße 7\n"
     "Tel. 09241 98765-12\nFax 09241 98765-99", "weil die Fenster getauscht werden."),
    ("Von mir aus nicht. Da ist der Schornsteinfeger im Haus.",
     "Da ist der Schornsteinfeger im Haus."),
    ("Noi, des goht net – do isch d'Heizung kaputt.", "do isch d'Heizung kaputt."),
    # a no that names this request is sure, though it comes last after a yes to another
    ("Die Anfrage von Paul passt mir. Aber die hier leider nein – da streichen wir.",
     "da streichen wir."),
    # asked to decide, a refusal decides, whatever people its reason names
    ("Ich hätte es dir gern gegeben, aber leider nein: im Juli sind Oma, Opa und Tante Gerda "
     "schon drin.", "im Juli sind Oma, Opa und Tante Gerda schon drin."),
])
def test_deny_phrasings_keep_their_reason(text: str, comment: str) -> None:
    """Issue 17: approver answers that were read as unknown, and their reasons."""
    result = _parse(text)
    assert (result["intent"], result["comment"]) == ("deny", comment)


@pytest.mark.parametrize(("text", "subject"), [
    ("hab noch nichts gehört wegen Juli, wie schaut's aus?", "Juli"),
    ("wie ist denn der Stand bei meiner Buchung im Oktober?", "Frage"),
    ("Ich wollte nachfragen, ob unsere Anfrage für den 10. bis 12. September schon bearbeitet "
     "wurde.", "Nachfrage"),
    ("wie ist denn der Stand jetzt?", "Re: Anfrage erhalten (01.–05.10.2027)"),
])
def test_status_in_a_new_mail_and_in_a_thread(text: str, subject: str) -> None:
    """Issue 14 (4): a status question is never a new vague request nor the help text."""
    assert _parse(text, subject=subject)["intent"] == "status"


@pytest.mark.parametrize(("text", "comment"), [
    ("bitte storniert unsere Buchung im August", None),
    ("Ich möchte unsere Buchung vom 9. bis 13. August stornieren. Der Urlaub fällt aus, weil "
     "mein Mann operiert wird.", "Der Urlaub fällt aus, weil mein Mann operiert wird."),
    ("Bitte unsere Buchung über Ostern löschen.", None),
    ("Hiermit ziehe ich die Anfrage vom 3. bis 6. Mai zurück. Mein Knie macht nicht mit.",
     "Mein Knie macht nicht mit."),
    ("Silvester fällt aus, bitte stornieren.", None),
    ("Hiermit storniere ich meine Buchung vom 1. bis 5. August.", None),
    ("Wir können leider nicht, mein Mann muss arbeiten.", "mein Mann muss arbeiten."),
    ("Leider wird das bei uns nichts mit August – die Kinder haben Prüfungen. Bitte streichen.",
     None),
    ("Wir brauchen das Haus doch nicht, danke trotzdem!", None),
    # words between "kommen" and "doch nicht"; Bavarian "absagn"
    ("Wir kommen im Juli leider doch nicht, weil meine Frau operiert wird.",
     "weil meine Frau operiert wird."),
    ("Mir miassn leider absagn, da Opa is im Spital.", "da Opa is im Spital."),
    # "zieh ich … zurück"; news that something else was called off is part of the reason
    ("Dann zieh ich meine Anfrage zurück, wir fahren stattdessen an den Gardasee.",
     "wir fahren stattdessen an den Gardasee."),
    ("Wir müssen das leider canceln. Das Konzert wurde abgesagt, schade.",
     "Das Konzert wurde abgesagt, schade."),
])
def test_cancel_reason_is_a_reason_or_nothing(text: str, comment: str | None) -> None:
    """Issue 14 (7): "unsere Buchung im August" names the booking, it is no reason."""
    result = _parse(text, subject="Re: Buchung bestätigt (01.–05.08.2027)")
    assert (result["intent"], result["comment"]) == ("cancel", comment)


def test_an_answer_that_decides_only_at_its_end_is_asked_back() -> None:
    result = _parse("Hm, eigentlich wollten wir da selbst hin. Aber gut, ja.")
    assert (result["intent"], result["ask"]) == ("approve", ["intent"])


@pytest.mark.parametrize("text", [
    "Hallo Inge, ist bei meiner Anfrage für August schon was rausgekommen?",
    "Hallo, habt ihr meine Anfrage bekommen? Ich hab noch keine Bestätigung.",
    "Wann weiß ich denn Bescheid?",
    # in dialect
    "Servus, wia schaut's aus mit unserer Afrog? Hod se scho wer gmeldt?\nMichi",
    "Wie schaugt's aus, hot sich scho oiner gmeldet?\nSepp",
    "Hallo, wie siehts aus mit unserer Anfrage?\nKai",
])
def test_more_status_questions(text: str) -> None:
    assert _parse(text, subject="Frage")["intent"] == "status"


@pytest.mark.parametrize(("subject", "body", "intent"), [
    ("Re: Was möchtest du ändern? (01.–05.08.2027)", "Vom 3. bis 7. August bitte.", "edit"),
    ("Re: Anfrage wieder geöffnet (01.–05.08.2027)", "Wir sind jetzt zu fünft.", "edit"),
    ("Re: Erinnerung: 1 Anfrage wartet auf deine Antwort",
     "Ich muss leider absagen, wir sind selbst da.", "deny"),
])
def test_our_newer_subjects_tell_the_thread(subject: str, body: str, intent: str) -> None:
    """Replies to the service's own mails: a requester's thread makes new dates an edit, an
    approver's (a reminder too) makes "absagen" a no."""
    assert _parse(body, subject=subject)["intent"] == intent


def test_a_thank_you_to_someone_is_not_signed_by_them() -> None:
    """"Danke, Inge!" from Anna thanks Inge: a thank-you, and Anna's (docs: first_name)."""
    raw = ("From: Anna Berger <anna@example.de>\nSubject: Re: Buchung bestätigt (01.–05.08.2027)"
           "\nContent-Type: text/plain; charset=utf-8\n\nDanke, Inge!").encode()
    result = parse_message(raw, TODAY).as_json()
    assert (result["intent"], result["first_name"]) == ("thanks", "Anna")


@pytest.mark.parametrize("text", [
    "Hallo zusammen, zur Info: wir sind vom 3. bis 5. Juli im Urlaub und nicht erreichbar.",
    "Hallo, der Kaminkehrer kommt am 12. Dezember zwischen 8 und 12 Uhr.",
    "Hallo, die Müllabfuhr ist ab 1. Januar immer dienstags.",
])
def test_family_news_with_dates_is_no_request(text: str) -> None:
    assert _parse(text, subject="Info")["intent"] == "unknown"


@pytest.mark.parametrize("text", [
    "Meine Schwester kommt auch noch mit.", "Wir würden gern noch zwei Nächte dranhängen.",
    "Oma kommt doch nicht mit, also einer weniger.",
])
def test_a_change_without_new_figures_is_still_an_edit(text: str) -> None:
    """The service then asks what exactly changes; it is no help text."""
    result = _parse(text, subject="Re: Anfrage erhalten (01.–05.08.2027)")
    assert (result["intent"], result["start"], result["end"]) == ("edit", None, None)


@pytest.mark.parametrize(("text", "intent"), [
    ("JA 08.–10.01.2027", "approve"),  # the yes repeats the dates it was asked about
    ("JA für 08.–10.01.2027", "approve"),  # also "für" them (a reply to the weekly digest)
    ("Nu klar, machd das!", "approve"),  # Saxon
    ("Noi, leider net.", "deny"),  # Swabian
    ("Jau, dat passt.", "approve"), ("Bassd scho!", "approve"),  # Platt, Swabian
    ("Nee, dat geht nich, da is Schützenfest.", "deny"),  # Ruhr
    ("Des passt nit, mir sin selber do.", "deny"),
    ("Ich hab nix dagegen, schön dass ihr kommt!", "approve"),
    ("Noi, des goht net – do isch d'Heizung kaputt.", "deny"),  # Swabian
])
def test_an_approvers_answer_in_dialect_or_with_the_dates(text: str, intent: str) -> None:
    result = _parse(text + "\n\nInge")
    assert (result["intent"], result["start"], result["first_name"]) == (intent, None, "Inge")


@pytest.mark.parametrize("text", [
    "gibt's scho was Neis wega onserer Afrog?",
    "und, watt is jetzt? Is dat schon durch mit unserer Buchung für Pfingsten?",
    "Isch des jetzt fix mit onserer Buchung?", "Is dat all dörch? Ik heff noch nix höört.",
    "Is des etz fix mit unserer Buchung?", "Mir ham no nix ghört, passt des?",
    "Hat sich der Paul schon gemeldet?",
])
def test_a_status_question_in_dialect_is_status(text: str) -> None:
    assert _parse(text, subject="Pfingsten")["intent"] == "status"


@pytest.mark.parametrize("text", [
    "Danke, dat is top! Otto freut sich auch schon.",
    "Vielen lieben Dank für die schnelle Bestätigung, Jürgen und ich freuen uns sehr!",
    "Dankschö, mir freuet ons!", "Danke, dat is bannig good! Jens freut sich ook.",
    "Ach schade, aber trotzdem danke für die Antwort!",
    "Danke, mir gfrein uns narrisch!", "Danke euch! Wir freuen uns sehr, und die Enkel erst recht.",
    "Dat es jo prima! Merci vielmols, die Pänz sin janz jeck.",  # Kölsch
    "Super, danke euch beiden!! Wir freuen uns riesig.",
    "Oh wie schön, danke! Paul und wir freuen uns schon.",
])
def test_thanks_with_who_is_looking_forward_is_thanks(text: str) -> None:
    result = _parse(text + "\n\nKarin", subject="Re: Buchung bestätigt (10.–17.10.2027)")
    assert (result["intent"], result["party_size"]) == ("thanks", None)


def test_a_new_mail_that_corrects_itself_is_a_request() -> None:
    """Issue 17: a correction inside the text is no edit of a booking that does not exist."""
    result = _parse("Hallo,\nwir würden gern vom 5. bis 9. Mai kommen – Moment, falsch, also "
                    "doch erst vom 7. bis 9. Mai. Wir sind zu dritt.\nJens", subject="Mai")
    assert (result["intent"], result["start"], result["end"]) == (
        "request", "2027-05-07", "2027-05-09")
    # the same words answering our "Anfrage erhalten" change that booking
    assert _parse("Wir kommen doch erst vom 7. bis 9. Mai.",
                  subject="Re: Anfrage erhalten (05.–09.05.2027)")["intent"] == "edit"


@pytest.mark.parametrize("text", [
    "Schade. Dann machts die Anfrag halt nomoi auf, vielleicht geht's doch.",
    "Der Dachdecker ist früher fertig, ich schicke die Anfrage deshalb nochmal.",
])
def test_a_reopen_with_words_between_its_verb_and_its_particle(text: str) -> None:
    result = _parse(text + "\nKarl", subject="Re: Angelika hat abgelehnt (03.–06.07.2027)")
    assert result["intent"] == "reopen"


def test_two_signed_names_under_a_thank_you() -> None:
    result = _parse("Vielen Dank!\n\nAnna & Tom", subject="Re: Buchung bestätigt (03.–06.07.2027)")
    assert (result["intent"], result["first_name"]) == ("thanks", "Anna")


def test_someone_elses_cancellation_is_no_cancel() -> None:
    result = _parse("Wir sind jetzt doch nur zu fünft, einer hat abgesagt.",
                    subject="Re: Anfrage erhalten (03.–06.07.2027)")
    assert (result["intent"], result["party_size"]) == ("edit", 5)


@pytest.mark.parametrize(("text", "subject", "intent"), [
    # a person's own mailbox is no spam hint
    ("Ich hab mein Postfach aufgeräumt und die Mail mit dem Link gelöscht, könnt ihr ihn "
     "nochmal schicken?", "Link", "recover_link"),
    ("Has everyone agreed yet?", "Re: Ingeborg hat zugestimmt (03.–06.07.2027)", "status"),
    # a new mail that asks again with its own dates is a new request, not a reopen
    ("Wir würden gern vom 3. bis 5. Juli kommen, zu zweit.", "Neuer Versuch", "request"),
    # "das muss sich ändern" changes no booking
    ("Wir waren lange nicht mehr da, das muss sich ändern! Wir würden gern vom 3. bis 5. Juli "
     "kommen.", "Juli", "request"),
])
def test_intents_of_the_ninth_batch(text: str, subject: str, intent: str) -> None:
    assert _parse(text, subject=subject)["intent"] == intent


def test_asked_to_decide_a_no_said_outright_keeps_its_reason() -> None:
    result = _parse("Das klingt schön, aber diesmal muss ich leider nein sagen, weil am 3. Juli "
                    "die Fenster getauscht werden.")
    assert (result["intent"], result["start"], result["comment"]) == (
        "deny", None, "weil am 3. Juli die Fenster getauscht werden.")


def test_a_yes_taken_back_in_its_own_sentence_is_asked_back() -> None:
    result = _parse("Hm, Studenten allein im Haus. Ja, warum eigentlich nicht … ach nein, lieber "
                    "doch nicht.")
    assert (result["intent"], result["ask"]) == ("deny", ["intent"])


CONFIRMED = "Re: Buchung bestätigt (11.–13.12.2026)"


@pytest.mark.parametrize("text", [
    "Danke schön! Heinz freut sich wie ein Schneekönig.\n\nPetra",
    "Danke schön! Wir freuen uns schon sehr aufs Plätzchenbacken.\n\nMonika",
    "Vielen Dank an alle drei! Meine Eltern freuen sich riesig.\n\nViele Grüße\nBernd\n\n"
    "Haller Elektrotechnik GmbH & Co. KG\nBernd Haller, Geschäftsführer\nTel. 09241 4408-0",
    "Super, danke euch!\n\nGruß Stefan\n\nStefan Hofmann\nTeamleiter Vertrieb Süd\n"
    "Krämer Anlagenbau GmbH\nTel. +49 9131 7741-230",
    "Herzlichen Dank! Die Enkel freuen sich schon aufs Schlittenfahren.\n\nOma Gerda",
    "Vielen Dank euch! Die Vorfreude ist riesig.\nLG Tina",
    "Tausend Dank, wir können es kaum erwarten!\nJan",
    "Danke vielmals, Oma freut sich wie verrückt.\nSusi",
    "Merci! D'Kinder freun sich narrisch.\nResi",
])
def test_thanks_with_joy_about_the_stay_is_thanks(text: str) -> None:
    assert _parse(text, subject=CONFIRMED)["intent"] == "thanks"


@pytest.mark.parametrize(("text", "intent"), [
    # a wish, a change or a question next to the thanks is that, not thanks
    ("Danke! Wir würden uns freuen, wenn wir auch im Juli kommen dürften.\nAnna", "request"),
    ("Danke! Wir freuen uns, aber Oma kommt doch nicht mit.\nAnna", "edit"),
    ("Danke! Oma freut sich und kommt jetzt doch mit, wir sind also zu fünft.\nAnna", "edit"),
    ("Danke! Wir freuen uns. Ist die Bettwäsche da?\nAnna", "unknown"),
])
def test_joy_that_wishes_changes_or_asks_is_not_thanks(text: str, intent: str) -> None:
    assert _parse(text, subject=CONFIRMED)["intent"] == intent


@pytest.mark.parametrize("text", [
    "Super, danke!\n\nInge",
    "Danke schön! Wir freuen uns schon sehr aufs Plätzchenbacken.\n\nInge",
])
def test_asked_to_decide_thanks_with_a_yes_word_is_a_yes_asked_back(text: str) -> None:
    result = _parse(text)
    assert (result["intent"], result["ask"]) == ("approve", ["intent"])


@pytest.mark.parametrize("text", [
    "Bevor ich zusage, eine Frage: Die 15 Gäste am Samstag – wo sollen die denn alle sitzen? Im "
    "Haus ist doch nur Platz für zwölf am großen Tisch.\n\nBitte meldet euch kurz bei mir.\n\nInge",
    "Kurze Frage vorab: Bringt ihr den Hund mit?\n\nInge",
    "Ich hab noch eine Frage, bevor ich entscheide: kommt ihr am 12. schon mittags?\nConny",
])
def test_an_approver_asking_back_before_deciding_decides_nothing(text: str) -> None:
    result = _parse(text)
    assert (result["intent"], result["start"], result["party_size"], result["first_name"]) == (
        "unknown", None, None, None)


@pytest.mark.parametrize(("text", "comment"), [
    ("Leider müssen wir absagen, weil Opa im Krankenhaus ist.\n\nTraurige Grüße\nElke",
     "weil Opa im Krankenhaus ist."),
    ("Leider müssen wir absagen, weil Opa im Krankenhaus ist.\n\nLiebe traurige Grüße\nElke",
     "weil Opa im Krankenhaus ist."),
    ("Leider müssen wir absagen, weil Opa im Krankenhaus ist.\n\nSchweren Herzens\nElke",
     "weil Opa im Krankenhaus ist."),
    ("Leider müssen wir absagen, weil Opa im Krankenhaus ist.\n\nMit traurigen Grüßen\nElke",
     "weil Opa im Krankenhaus ist."),
    ("Schweren Herzens müssen wir absagen, Opa ist im Krankenhaus.\nElke",
     "Opa ist im Krankenhaus."),
    # the time right after the cancel words names the stay; a verb after it starts the reason
    ("wir kommen doch nicht im januar die schwiegermutter ist krank geworden gruß ralf",
     "die schwiegermutter ist krank geworden"),
    ("Wir stornieren vom 11. bis 13. Dezember, das Auto ist kaputt.\nUwe", "das Auto ist kaputt."),
    ("wir müssen absagen am wochenende ist die beerdigung von onkel hans",
     "am wochenende ist die beerdigung von onkel hans"),
    ("Wir müssen absagen. Im Januar ist meine Mutter gestorben.\nUwe",
     "Im Januar ist meine Mutter gestorben."),
])
def test_cancel_reason_ends_at_any_closing_and_leaves_out_the_stay_named(text: str,
                                                                          comment: str) -> None:
    result = _parse(text, subject=CONFIRMED)
    assert (result["intent"], result["comment"]) == ("cancel", comment)
