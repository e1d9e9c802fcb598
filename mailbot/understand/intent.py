"""What the person wants (intent) and, for a no or a cancel, the reason they give."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from .vocabulary import Vocabulary, fold

INTENTS = ("request", "approve", "deny", "cancel", "edit", "reopen", "status", "recover_link",
           "thanks", "unknown")


@dataclass(frozen=True)
class Body:
    """What the person said, with the opening ("Hallo Inge,") and the closing removed."""

    text: str
    subject: str  # "" for a reply ("Re: …"), whose subject never says anything new
    existing_booking: bool = False  # a reply in the thread of a booking we already have
    approver_thread: bool = False  # a reply to a mail that asks an approver to decide


def strip_opening(text: str, vocab: Vocabulary) -> str:
    rest = text.lstrip()
    for _ in range(3):
        m = vocab.opening.match(fold(rest))
        if not m or m.end() == 0:
            break
        rest = rest[m.end():].lstrip()
    return rest


@dataclass(frozen=True)
class Facts:
    """What the dates and party-size readers found in the message."""

    has_dates: bool
    has_party: bool
    vague: bool
    weak_dates: bool = False  # one written day only


def is_thanks(text: str, vocab: Vocabulary) -> bool:
    """The text only thanks ("Super, danke dir!", "Danke schön! Wir freuen uns riesig."), up
    to a closing line (above a company signature, say); clauses of joy about the stay may go
    with the thanks ("Danke schön! Heinz freut sich wie ein Schneekönig.")."""
    text = _above_closing(text.strip(), vocab)
    lowered = text.lower()
    if any(stem in lowered for stem in _THANKS_STEMS):
        text = _ADDRESSEE.sub(r"\1", text)  # "Danke, Inge!" thanks Inge
    low = fold(text)
    if not 0 < len(low) <= 300 or vocab.thanks_word.search(low) is None:
        return False
    if vocab.thanks_only.fullmatch(low) is not None:
        return True
    if "?" in low or _DIGIT.search(low):
        return False
    clauses = [c for c in _CLAUSES.split(low) if _WORD.search(c)]
    joyful = [c for c in clauses if vocab.thanks_only.fullmatch(c) is None]
    return len(joyful) < len(clauses) and all(
        len(c.split()) <= 12 and vocab.joy.search(c) and not vocab.not_joy.search(c)
        and not any(vocab.intents[k].search(c) for k in _NOT_IN_JOY) for c in joyful)


def _above_closing(text: str, vocab: Vocabulary) -> str:
    """`text` up to its first closing line after the first line ("Super, danke euch!\n\nGruß
    Stefan\n\nStefan Hofmann\nTeamleiter …" is "Super, danke euch!")."""
    lines = text.split("\n")
    for k, line in enumerate(lines[1:], start=1):
        low = fold(line)
        if len(line.split()) <= 4 and vocab.greetings.match(low):
            # a closing that thanks ("Danke & LG") is kept: it is part of the thanks
            return "\n".join(lines[:k + 1 if vocab.thanks_word.search(low) else k]).strip()
    return text


_DIGIT = re.compile(r"\d")
_CLAUSES = re.compile(r"[.!;,:–—]+|\n|\s-\s")
# joy that changes, calls off or asks something is that, not thanks
_NOT_IN_JOY = ("edit", "cancel", "status", "reopen", "recover_link", "deny", "unknown")


_ADDRESSEE = re.compile(r"((?i:danke|dank|merci|thx|thanks)(?:\s+(?i:dir|euch))?)[,\s]+"
                        r"[A-ZÄÖÜ][a-zäöüß]+(?:\s+und\s+[A-ZÄÖÜ][a-zäöüß]+)?(?=\W|$)")
# one of them is in any text _ADDRESSEE matches (a case-insensitive pattern is tried at every
# character); stems without "i" and "s", which the regex engine also reads in "ı", "İ", "ſ"
_THANKS_STEMS = ("dank", "merc", "thx", "thank")


def contradicts(text: str, vocab: Vocabulary) -> bool:
    """A yes that a no follows ("JA? Nein, lieber nicht.", "Ja wohl kaum!")."""
    low = fold(text.strip())
    yes = vocab.intents_at_start["approve"].match(low)
    return yes is not None and vocab.contrary.search(low, yes.end()) is not None


def classify(body: Body, vocab: Vocabulary, facts: Facts | Callable[[], Facts]) -> str:
    """The intent. `facts` may be a function: it is called only when the words alone do not
    decide (an approver's plain "Ja" needs no date search)."""
    found: list[Facts] = []

    def data() -> Facts:
        if not found:
            found.append(facts() if callable(facts) else facts)
        return found[0]

    # addresses and links say nothing about intent ("buchung@…" is not a wish to book)
    text = fold(body.text.strip())
    if "@" in text or "http" in text or "www." in text:
        text = _NOT_SPOKEN.sub(_spaces, text)
    both = f"{text}\n{fold(body.subject)}".strip()
    if not both:
        return "unknown"
    intents = vocab.intents
    if vocab.out_of_office.search(both):
        return "unknown"  # an out-of-office note, whatever dates it names
    # An answer is read from its start, the way a person reads it: a first sentence that is
    # only a yes ("Ja, passt.") decides, however long the rest (signature, disclaimer, history)
    yes = vocab.intents_at_start["approve"].match(text)
    if yes and _NOT_AFTER_YES.match(text, yes.end()):
        return "deny"  # "Von mir aus nicht."
    if yes and _only_yes(text, yes.end()):
        return "approve"
    if yes and body.approver_thread and _DATES_ONLY.match(text, yes.end()):
        return "approve"  # "JA (für) 08.–10.01.2027": the yes names the dates it was asked about
    if body.approver_thread and not yes and "?" in text and vocab.asks_back.search(text):
        return "unknown"  # "Bevor ich zusage, eine Frage: … wo sollen die alle sitzen?"
    wish = intents["request"].search(both)
    if _AWAY.search(text) and not vocab.request_strong.search(both):
        return "unknown"  # "wir sind vom 3. bis 5. Juli im Urlaub und nicht erreichbar"
    if intents["unknown"].search(both) and not (
            vocab.request_strong.search(both)
            or wish and (data().has_party or data().has_dates and not data().weak_dates)):
        return "unknown"
    if intents["recover_link"].search(both):
        return "recover_link"
    if intents["status"].search(both) and not intents["cancel"].search(text):
        return "status"
    cancel = intents["cancel"].search(both)
    if cancel:
        # "leider muss ich absagen" answering "Neue Buchungsanfrage" is an approver's no
        return "deny" if body.approver_thread and _SAY_NO.match(cancel.group(0)) else "cancel"
    if intents["reopen"].search(both) and not (body.subject and data().has_dates):
        return "reopen"  # "Neuer Versuch: … vom 17. bis 21. Juli" in a new mail is a request
    if vocab.intents_at_start["deny"].match(text):
        return "deny"
    if yes and not (data().has_dates or data().has_party):
        return "approve"
    has_dates, has_party, vague, weak_dates = (data().has_dates, data().has_party, data().vague,
                                               data().weak_dates)
    has_data = has_dates or has_party
    if not has_data and not vague and _REFUSAL.search(text):
        return "deny"
    # asked to decide, an outright refusal decides, whatever dates or people its reason names
    # ("ich würde es euch ja gern geben, aber leider nein: …, da kommen Hauke … nicht rein")
    if body.approver_thread and not yes and _OUTRIGHT_REFUSAL.search(text):
        return "deny"
    edit = intents["edit"].search(text)
    if edit and (has_data or _strong_edit(text)) and not _corrects_itself(body, text, edit, vocab) \
            and not _new_wish(body, text, vocab):
        return "edit"
    if body.existing_booking and has_data and not vocab.new_stay.search(text):
        return "edit"
    strong_data = has_party or vague or (has_dates and not weak_dates)
    if strong_data or has_dates and wish or vocab.request_strong.search(both):
        return "request"
    if not has_data and _THUMBS.fullmatch(text):
        return "approve"
    return "unknown"


def _new_wish(body: Body, text: str, vocab: Vocabulary) -> bool:
    """A fresh request that changes nothing it names: "der Hund darf doch mit, oder?" in it is
    no edit. A new mail that wishes to stay edits only with a change word (in its text or
    subject) or the booking it changes; "Wir sind doch zu fünft." alone still edits."""
    return bool(body.subject) and not body.existing_booking \
        and not _CHANGES.search(f"{text}\n{fold(body.subject)}") \
        and vocab.intents["request"].search(text) is not None


_CHANGES = re.compile(r"(?<!\w)(?:(?:unsere|meine|die|der|unserer|meiner)\s+(?:buchung|anfrage|"
                      r"reservierung)|(?<!muss\ssich\s)(?<!soll\ssich\s)änder|verschieb|verleg|verlänger|verkürz|umbuch|korrigier|"
                      r"statt\b|anstatt)")


def _corrects_itself(body: Body, text: str, edit: re.Match[str], vocab: Vocabulary) -> bool:
    """A new mail that corrects itself ("wir würden gern vom 5. bis 9. Mai kommen – Moment,
    falsch, also doch erst vom 7."): the change is to its own wish, not to a booking."""
    if not body.subject or body.existing_booking:
        return False  # a reply changes what it answers
    wish = vocab.intents["request"].search(text, 0, edit.start())
    return wish is not None and vocab.correction.search(text, wish.end(), edit.start()) is not None


def out_of_place(kind: str, body: Body, vocab: Vocabulary) -> bool:
    """An intent that the thread does not ask for, read from a cue that may mean something
    else: a request, change or reopen in reply to a mail that asks an approver to decide
    ("Lieber nicht, da im Juni das Dach neu gedeckt wird." read as a wish to stay; an
    outright "stornieren" there stays a cancel), or a yes that also thanks outside such a
    reply ("Super, danke euch!" to "Buchung bestätigt"). The best reading stands; the service
    asks before acting on it."""
    if body.approver_thread:
        return kind in ("request", "edit", "reopen")
    return kind == "approve" and bool(body.existing_booking or not body.subject) \
        and vocab.thanks_word.search(fold(body.text)) is not None


def decision_inside(body: Body, vocab: Vocabulary) -> tuple[str, bool] | None:
    """An approver's answer whose yes or no opens a later sentence, the way a chatty reply
    decides ("Ach wie schön …! Von mir aus gerne, ja. Sagt ihr aber …"): that decision, and
    whether to ask it back first — when it comes only in the last sentence ("Hm, eigentlich
    wollten wir da selbst hin. Aber gut, ja.") or a yes and a no both open one ("Ja klar – ach
    nee, … Also leider nein.": the last one, asked back). A decision that says it is about this
    request is sure ("Felix' Anfrage ist ok. Aber die hier leider nein – …")."""
    if not body.approver_thread:
        return None
    sentences = [x for x in _SENTENCES.split(fold(body.text.strip())) if _WORD.search(x)]
    if len(sentences) < 2:
        return None
    said = [(k, kind, _THIS_ONE.search(x, 0, m.end()) is not None)
            for k, x in enumerate(sentences) for kind in ("deny", "approve")
            if (m := vocab.intents_at_start[kind].match(x)) and not _THAT.match(x, m.end())]
    # "Ja, eigentlich warum nicht … ach nee, lieber doch nicht.": a yes, then a no after it
    said += [(k, "deny", this_one) for k, kind, this_one in said
             if kind == "approve" and contradicts(sentences[k], vocab)]
    said.sort(key=lambda entry: entry[0])
    if not said:
        return None
    kinds = {kind for _, kind, _ in said}
    _, kind, this_one = said[-1]
    return kind, not this_one and (len(kinds) > 1 or said[0][0] == len(sentences) - 1)


_THAT = re.compile(r"[\s,]*(?:dass|wie)\b")  # "schön, dass …" is joy, not a yes
_THIS_ONE = re.compile(r"(?<!\w)(?:die|diese|das|dieses)(?:\s+(?:anfrage|buchung))?\s+hier\b")
_SENTENCES = re.compile(r"(?<=[.!?:])\s+")


def _only_yes(text: str, end: int) -> bool:
    """The first sentence is only a yes ("Ja.", "Ja, passt!"): what follows is an aside."""
    rest = text[end:]
    first = _FIRST_SENTENCE.split(rest, maxsplit=1)[0]
    return not _WORD.search(first) or bool(_ONLY_YES.fullmatch(first))


_NOT_SPOKEN = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+|https?://\S+|www\.\S+")


def _spaces(m: re.Match[str]) -> str:
    return " " * (m.end() - m.start())


_PLEASE = re.compile(r"^bitte\b[\s\W_]*", re.IGNORECASE)
_AWAY = re.compile(r"nicht\s+erreichbar|(?:wir\s+sind|ich\s+bin|sind\s+wir|bin\s+ich)\s+"
                   r"(?:\w+\s+|\d+\.\s*){0,6}(?:(?:im\s+urlaub|verreist)(?!\w)|bei\s+(?:meiner|"
                   r"meinem|unserer|unserem|meinen|unseren)\b)")
_NOT_AFTER_YES = re.compile(r"\s*(?:so\s+|eher\s+|lieber\s+)?nicht\b")
_SAY_NO = re.compile(r"absag|sage")  # "absagen", "ich sage ab": a no from an approver
_APOLOGY = re.compile(
    r"^(?:sorry|tut\s+mir\s+(?:echt\s+|wirklich\s+|sehr\s+)?leid|entschuldigung)\s*[.,!:;–-]+\s*",
    re.IGNORECASE)
_DATES_ONLY = re.compile(r"[ \t]*(?:(?:für|vom|am)\s+(?:den\s+)?)?(?:\d{1,2}\.(?:\d{1,2}\.)?\s*[–-]\s*)?"
                         r"\d{1,2}\.\d{1,2}\.(?:\d{2,4})?[ \t!.]*(?:\n|$)")
_EXPLAINS = re.compile(r"(?<!\w)(?:da|dann)\s+sind\s+wir\b")
_LABEL = re.compile(r"^(?:grund|begründung|weil)\s*:\s*", re.IGNORECASE)
_STRONG_CANCEL = re.compile(r"stornier|storno|absag|cancel|zurück|lösch|sage")
_MONTHS = "(?:Jan|Feb|Mär|Apr|Mai|Jun|Jul|Aug|Sep|Okt|Nov|Dez)"
# a date's dot goes on ("vom 1. bis 5. August"); one before a capital starts a new sentence
_BOOKING_NAMED = re.compile(
    r"^(?:(?:ich|wir|hiermit|sie)\s+)?(?:(?:unsere|meine|die|den|das|unseren|meinen)\s+)?(?:buchung|anfrage|reservierung|termin|"
    rf"aufenthalt|wochenende|urlaub)\b(?:[^.!?\n]|(?<=\d)\.(?!\s+(?!{_MONTHS})(?-i:[A-ZÄÖÜ])))*(?:[.!?]+|$)",
    re.IGNORECASE)
_REFUSAL = re.compile(
    r"(?<!\w)(?:ablehnen|abgelehnt|lehne\s+\w*\s*ab|muss\s+ich\s+(?:leider\s+)?nein"
    r"|aber\s+(?:leider\s+)?(?:nein|nicht)\b)")  # "ich würde ja gern, aber leider nein: …"
_OUTRIGHT_REFUSAL = re.compile(r"(?<!\w)(?:ablehnen|lehne\s+\w*\s*ab|aber\s+leider\s+(?:nein|nicht)"
                                r"|muss\s+ich\s+(?:leider\s+)?nein\s+sagen)\b")
_THUMBS = re.compile(r"[\W_]*(?:👍|✅|✔️?|👌)+[\W_]*")
_WORD = re.compile(r"\w")
_ONLY_YES = re.compile(
    r"[\s,–-]*(?:passt|gerne?|klar|okay|ok|einverstanden|super|prima|"
    r"von\s+mir\s+aus|kein\s+problem|alles\s+klar|geht\s+klar|sehr\s+gerne?)?[\s,!–-]*")
_FIRST_SENTENCE = re.compile(r"[.!\n]")
_STRONG_EDIT = re.compile(
    r"(?<!\w)(?:ändern|änderung|verschieben|verlängern|verkürzen|umbuchen|korrigieren|"
    r"länger|früher|später|mehr|weniger|dranh|noch\s+mit|nicht\s+mit)")


@cache
def _stay_time(vocab: Vocabulary) -> re.Pattern[str]:
    """A time phrase that opens what follows a cancel word: "im Januar", "am Wochenende",
    "über Ostern", "vom 3. bis 5. August", "nächste Woche", with the punctuation after it."""
    day = rf"\d{{1,2}}\.(?:\s*\d{{1,2}}\.(?:\d{{2,4}})?|\s*(?:{vocab.month_alt})(?:\s+\d{{4}})?)?"
    when = (rf"(?:{vocab.month_alt})(?:\s+\d{{4}})?|{vocab.weekday_alt}|{vocab.holiday_alt}"
            rf"|wochenende|woche|ferien|feiertage|{day}")
    lead = r"(?:im|am|an|über|zu|zum|vom|von|ab|für|in|um|nächste[nsm]?|kommende[nsm]?|diese[nsm]?)"
    return re.compile(rf"[ \t]*(?:{lead}\s+)+(?:(?:den|dem|der|die|das)\s+)?(?:{when})(?!\w)"
                      rf"(?:\s*(?:bis|[–-])\s*(?:zum\s+)?(?:{when})(?!\w))?(?![\s,.;:!–-]*{_VERB})"
                      r"[\s,.;:!–-]*", re.UNICODE)


# a verb right after the time says it opens the reason ("absagen am Wochenende ist die Beerdigung")
_VERB = (r"(?:ist|sind|war|waren|hat|haben|hatte|hatten|muss|müssen|musste|wird|werden|kann|"
         r"können|kommt|geht|fährt|feiert|liegt|steht|gibt|bin|habe|hab)\b")


def _strong_edit(text: str) -> bool:
    return bool(_STRONG_EDIT.search(text))


def reason(body: Body, intent: str, vocab: Vocabulary) -> str | None:
    """The reason for a deny or a cancel: the text after the keyword, as written."""
    text = body.text.strip()
    low = fold(text)
    m: re.Match[str] | None
    if intent == "deny":
        m = (vocab.intents_at_start["deny"].match(low) or vocab.intents["deny"].search(low)
             or vocab.intents["cancel"].search(low))
    elif intent == "cancel":
        # the reason follows the last keyword; an outright "stornieren" beats a "fällt aus"
        # before it, which is part of the reason ("… stornieren. Der Urlaub fällt aus, weil …")
        found = list(vocab.intents["cancel"].finditer(low))
        strong = [k for k in found if _STRONG_CANCEL.match(k.group(0))]
        m = (strong or found)[-1] if found else None
    else:
        return None
    if m is None:
        return None
    end = m.end()
    if intent == "deny":
        explains = _EXPLAINS.search(low, m.start(), m.end())
        if explains:  # "Da sind wir selbst im Haus." is the no and its reason at once
            end = explains.start()
        else:  # "Nee, leider nicht – da …", "Noi, leider net – …": one no, said twice
            while (again := vocab.intents_at_start["deny"].match(low[end:])) is not None \
                    and again.end() and not _EXPLAINS.search(again.group(0)):
                end += again.end()
    if intent == "cancel":
        # "wir kommen doch nicht im januar die schwiegermutter ist krank": the time right after
        # the cancel words says which stay is called off, not why
        named = _stay_time(vocab).match(low, end)
        end = named.end() if named else end
    rest = text[end:]
    closing = vocab.greetings.search(fold(rest))  # a closing above a long signature
    if closing and closing.start() > 0:
        rest = rest[:closing.start()]
    rest = _LABEL.sub("", re.sub(r"^[\s\W_]+", "", rest))  # "Grund: …"
    rest = _APOLOGY.sub("", rest)  # "Nee, sorry. Da sind wir selbst da."
    if intent == "cancel":
        rest = _PLEASE.sub("", rest)  # "Stornieren bitte, wir haben Corona."
        rest = _BOOKING_NAMED.sub("", rest)  # "storniert unsere Buchung im August" says no why
    rest = re.sub(r"\s+", " ", rest).strip()
    # a closing glued to the reason ("Wir sagen ab. Lg") is not part of it
    sentences = re.split(r"(?<=[.!?])\s+", rest)
    while sentences and vocab.greetings.fullmatch(fold(sentences[-1].strip())) is not None:
        sentences.pop()
    if sentences and vocab.greetings.match(fold(sentences[-1])) and \
            len(sentences[-1].split()) <= 3:
        sentences.pop()
    rest = " ".join(sentences).strip()
    words = rest.split()
    for size in (2, 1):  # "… schon drin gruß cornelia", "… krank sind viele grüße andrea"
        if len(words) > size + 2 and \
                vocab.greetings.fullmatch(fold(" ".join(words[-1 - size:-1]))) is not None:
            rest = " ".join(words[:-1 - size])
            break
    if not rest or not re.search(r"\w", rest):
        return None
    return rest
