"""A second reading of who comes: the people a text names, added up phrase by phrase.

`people.party_size` looks for the ways a count is said ("zu viert", "2 Erwachsene und 3
Kinder", "meine Frau und ich"). `tally` reads the same text as a small grammar of its own:
each sentence that says who comes is cut into phrases at "," "und" "mit" "plus" "sowie", and
every phrase is worth some people —

- "ich", "i", "me" one (once in a text), "wir zwei" two, "wir" alone an unknown number;
- a number before a people noun that many ("drei Kinder", "zwei Erwachsene", "beiden Söhne");
- a family word with its count ("Eltern" 2, "Zwillinge" 2), a relative or a name one
  ("meine Frau", "unsere Tochter Emma (3)", "Oma Elfriede", "baby Rose");
- a plural without a number as many as the phrase it goes with ("unsere drei Kinder mit
  ihren Partnern" 3 + 3; "mein Bruder und ich … mit unseren Frauen" 2 + 2), else unknown;
- "jeweils"/"je" multiplies ("zwei Familien, jeweils zwei Erwachsene und zwei Kinder" 8);
- a pet nothing, a bracket after a count nothing new ("drei Erwachsene (mein Mann, meine
  Mutter und ich)"), a phrase said not to come nothing ("die Kinder haben keine Lust").

The interpretation compares the two readings: where they differ, or the tally is unsure
("vielleicht kommt meine Schwiegermutter noch mit"), the party size is asked about.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from .vocabulary import Vocabulary

# a sentence ends at a line break or at . ! ? that does not follow a digit (a day's dot)
_SENTENCES = re.compile(r"\n|[!?]+|(?<![\d\s])\.+(?=\s|$)|(?<=\d\d\d\d)\.(?=\s)")
_TOKENS = re.compile(r"\d{1,2}\s*\+\s*\d{1,2}|\d+|[^\W\d_][\w'’-]*|[,():;+&–-]")
_SPLIT = frozenset({",", "und", "and", "ond", "un", "u", "&", "+", "plus", "sowie", "mit", "dazu",
                    "with", ";", ":", "–", "-", "samt", "nebst"})
_OWNERS = frozenset({"mein", "meine", "meinen", "meinem", "meiner", "mei", "meim", "meen", "meene",
                     "unser", "unsere", "unseren", "unserem", "unserer", "unsre", "unsern", "ihr",
                     "ihre", "ihren", "ihrem", "ihrer", "sein", "seine", "seinen", "seinem",
                     "seiner", "deren", "dessen", "die", "der", "den", "dem", "das", "d'", "my",
                     "our", "the", "his", "her", "their", "ein", "eine", "einen", "einem", "einer",
                     "euer", "eure", "euren", "dein", "deine", "deinen"})
_ADJECTIVES = re.compile(r"(?:klein|groß|gross|best|lieb|befreundet|nett|jung|erwachsen|weiter|"
                         r"neu|alt|eigen|süß|beid|ganz|zwei|drei|vier)\w*$")
_SELF = frozenset({"ich", "i", "ick", "ik", "me", "mich", "myself", "i'm"})
_WE = frozenset({"wir", "mia", "we", "uns"})
# plurals of relatives that take their number from the phrase they go with
_PLURAL_KIN = frozenset({"kinder", "kindern", "kinner", "kids", "söhne", "söhnen", "töchter",
                         "töchtern", "enkel", "enkeln", "enkelkinder", "enkelkindern", "partner",
                         "partnern", "partnerinnen", "freundinnen", "freunde", "freunden", "frauen",
                         "männer", "männern", "männen", "ehemänner", "ehefrauen", "familien",
                         "teenager", "jungs", "mädels", "kleinen", "buam", "madln", "geschwister",
                         "brüder", "schwestern", "nichten", "neffen", "cousins", "cousinen",
                         "schwiegerkinder", "anhang", "kumpels", "leute", "leuten", "freundin",
                         "freund"})
_SINGLE_EXTRA = frozenset({"baby", "säugling", "kleine", "kleinen", "bua", "madl", "dirndl",
                           "schwiegermama", "schwiegerpapa", "enkelsohn", "enkeltochter", "wife",
                           "husband", "son", "daughter", "mum", "mom", "dad", "sister",
                           "brother", "friend", "girlfriend", "boyfriend", "partner",
                           "schulkind", "kleinkind", "patentochter", "patensohn", "freundin",
                           "freund", "mann", "frau", "kollege", "kollegin"})
_PETS = re.compile(r"(?:hund|hündin|katze|kater|dackel|welpe|haustier|hunde|katzen)\w*$")
_NOT_COMING = re.compile(r"(?<!\w)(?:nicht|kein\w*|fehlt|fehlen|ohne|leider\s+nicht|bleib\w*\s+"
                         r"(?:zu\s+hause|daheim|zuhause|hier)|zu\s+hause|daheim|auf\s+klassenfahrt|"
                         r"keine\s+lust|gestorben|krank|verstorben|war|waren|hatten|nicht\s+mehr)(?!\w)")
_MAYBE = re.compile(r"(?<!\w)(?:vielleicht|eventuell|evtl|ggf|möglicherweise|wahrscheinlich|"
                    r"unter\s+umständen|noch\s+unklar|mal\s+sehen|weiß\s+(?:ich\s+)?noch\s+nicht|"
                    r"hängt\s+davon\s+ab|je\s+nachdem|kommt\s+(?:drauf|darauf)\s+an|wie\s+viele|maybe)(?!\w)")
_VERBS = frozenset({"sind", "wären", "wär", "san", "kommen", "kämen", "kumma", "reisen", "fahren",
                    "waren", "insgesamt", "also", "dann", "zusammen", "genau", "are", "will", "be"})
_COME_VERBS = frozenset({"würden", "würde", "kommen", "kommt", "käme", "kämen", "wären", "wäre",
                         "dabei", "mit", "auch", "noch", "sind", "fahren", "fährt"})
_STORY = frozenset({"hat", "hatte", "ist", "war", "wird", "wurde", "muss", "musste", "feiert",
                    "arbeitet", "liegt", "geht", "sagt", "meint", "findet", "freut", "weiß",
                    "bekommt", "hat's", "kennt", "wohnt", "lebt", "hatten", "haben"})
_EACH = frozenset({"jeweils", "je", "à", "each"})
# a sentence about who comes: a verb of coming or staying, or a count of the group
_COMING = re.compile(r"(?<!\w)(?:komm\w*|käme\w*|kämen|kumma|kemma|mitkomm\w*|dabei|mit\s+dabei|"
                     r"fahr\w*|reis\w*|anreis\w*|sind|san|wären|wär|waren\s+wir|übernacht\w*|"
                     r"bring\w*|möchten|möchte|würden|würde|wollen|will|hätten|buchen|bitte|"
                     r"ins\s+haus|be|would|come|coming|it\s+would)(?!\w)")


@cache
def _totals(vocab: Vocabulary) -> re.Pattern[str]:
    number = r"\d{1,2}|" + "|".join(sorted(vocab.number_words, key=len, reverse=True))
    return re.compile(
        rf"(?<!\w)(?:(?:das|dann|so|also)\s+(?:sind|wären|waren)(?:\s+(?:wir|es))?|also|macht|"
        rf"insgesamt|zusammen|in\s+summe|total|wir\s+sind|wir\s+wären|sind\s+wir|wären\s+wir)"
        rf"\s+(?:(?:dann|also|insgesamt|zusammen|genau|nur)\s+)*(?P<n>{number})"
        rf"(?:\s+(?:personen|leute|gäste|pers))?"
        rf"(?![.,]?\s*(?:/|\d|[-–]|bis\b|(?:{vocab.month_alt})(?!\w)))\s*(?:[.!)\n]|$)"
        rf"|(?<!\w)zu\s+(?P<c>{'|'.join(vocab.collective)})(?!\w)"
        rf"|(?<![\w.,/-])(?P<p>{number})\s+(?:personen|leute|leuten|gäste|köpfe|pers)(?!\w)",
        re.IGNORECASE)


def _total(text: str, vocab: Vocabulary) -> int | None:
    """The total said outright: a sum ("also 6", "das sind 7") before "zu viert" before the
    first "N Personen"."""
    found: dict[str, int | None] = {}
    for m in _totals(vocab).finditer(text):
        kind = next(k for k in ("n", "c", "p") if m.group(k))
        if kind == "c":
            found.setdefault(kind, vocab.collective[m.group("c").lower()])
        else:
            found.setdefault(kind, _number(m.group(kind).lower(), vocab))
    return found.get("n") or found.get("c") or found.get("p")


@dataclass(frozen=True)
class Tally:
    size: int | None  # the people named, added up; None when a phrase's number is unknown
    sure: bool  # no phrase of doubt ("vielleicht") and no unknown number


@dataclass
class _Phrase:
    words: list[str]  # lower case
    caps: list[bool]  # each word written with a capital
    bracket: bool  # inside "( … )"
    after_mit: bool = False  # cut off by "mit"


@cache
def _words(vocab: Vocabulary) -> tuple[frozenset[str], frozenset[str]]:
    singles = vocab.relations | _SINGLE_EXTRA
    nouns = vocab.people_nouns - {"baby", "säugling", "kind", "kleinkind", "mann", "person",
                                  "pers", "erw"}
    return singles, nouns


def _number(word: str, vocab: Vocabulary) -> int | None:
    if word.isdigit():
        n = int(word)
        return n if 0 < n <= 30 else None
    return vocab.number_words.get(word)


def tally(text: str, vocab: Vocabulary) -> Tally | None:
    """The people `text` names as coming, added up; None when it names nobody. A total said
    outright ("das sind 7", "zu viert", "5 Personen") is the tally."""
    said = _total(text, vocab)
    if said is not None:
        return Tally(said, True)
    total: int | None = 0
    found = sure = False
    sure = True
    self_counted = False
    if vocab.single.search(text.lower()):
        return None  # "ich komme allein": the count is said
    for sentence in _SENTENCES.split(text):
        low = sentence.lower()
        if not _COMING.search(low):
            continue
        got = _sentence(sentence, vocab, self_counted)
        if got is None:
            continue
        n, self_here, doubt = got
        found = True
        self_counted = self_counted or self_here
        sure = sure and not doubt and n is not None
        total = None if total is None or n is None else total + n
    if not found or total == 1 and self_counted:
        return None  # "ich komme erst am 5.": the writer alone is no party size
    return Tally(total, sure)


def _phrases(sentence: str) -> list[_Phrase]:
    phrases: list[_Phrase] = []
    current = _Phrase([], [], False)
    depth = 0
    for m in _TOKENS.finditer(sentence):
        token = m.group(0)
        low = token.lower()
        if token in "()":
            if current.words:
                phrases.append(current)
            depth = max(0, depth + (1 if token == "(" else -1))
            current = _Phrase([], [], depth > 0)
            continue
        if low in _SPLIT:
            if current.words:
                phrases.append(current)
            current = _Phrase([], [], depth > 0, low in ("mit", "with"))
            if low in ("+", "plus"):
                current.words.append("+")
                current.caps.append(False)
            continue
        current.words.append(low)
        current.caps.append(token[:1].isupper())
    if current.words:
        phrases.append(current)
    return phrases


def _sentence(sentence: str, vocab: Vocabulary,
              self_counted: bool) -> tuple[int | None, bool, bool] | None:
    """(people, whether "ich" was counted, doubt) of one sentence; None when it names nobody."""
    singles, nouns = _words(vocab)
    low = sentence.lower()
    clauses = re.split(r"[,;–]|(?<!\w)(?:aber|doch|weil|denn|da)(?!\w)", low)
    phrases = _phrases(sentence)
    if sentence == low:  # written all in lower case: names without capitals
        for phrase in phrases:
            phrase.caps = [True] * len(phrase.caps)
    people: list[int | None] = []
    kinds: list[str] = []
    last: int | None = None  # the number of the phrase before, for "mit ihren Partnern"
    group = None  # "zwei Familien, jeweils …": the groups a following count is multiplied by
    each_sum: int | None = None
    counted_self = self_counted
    doubt = bool(_MAYBE.search(low))
    skip_bracket = False
    named_any = has_we = with_first = False
    for phrase in phrases:
        words = [w for w in phrase.words if w != "+"]
        if not words:
            continue
        if phrase.bracket and skip_bracket:
            continue
        if phrase.bracket and len(words) == 1 and words[0].isdigit():
            continue  # an age: "Emma (3)"
        if phrase.bracket and all(w.isdigit() or w in ("jahre", "j", "monate") for w in words):
            continue
        clause = next((c for c in clauses if " ".join(words[:2]) in c), "")
        if _NOT_COMING.search(clause) and not any(w in _SELF or w in _WE for w in words):
            continue
        value, kind = _value(words, phrase.caps, vocab, singles, nouns, last)
        if kind == "self":
            if counted_self:
                continue
            counted_self = True
        if kind == "each":  # "jeweils zwei Erwachsene"
            group, each_sum = last, 0
            value, kind = _value(words[1:], phrase.caps[1:], vocab, singles, nouns, last) \
                if len(words) > 1 else (None, "none")
        if kind == "we":
            following = phrases[phrases.index(phrase) + 1:][:1]
            # "wir (meine Frau und ich)", "wir kommen mit: Hartmut, Gisela und Jens"
            has_we = not (following and following[0].bracket) and ":" not in low
            continue
        if kind == "we_n":  # "Hauke und ich …: nur wir vier": the four include them
            people = [p for p, k in zip(people, kinds, strict=True) if k not in ("self", "name", "one")]
            kinds = [k for k in kinds if k not in ("self", "name", "one")]
        if value is None and kind == "none":
            continue
        named_any = True
        if each_sum is not None and kind not in ("self", "we"):
            each_sum += value or 0
            continue
        if kind == "group":
            group = value
            last = value
            continue
        if kind == "name" and not _in_list(phrases, phrase, vocab, singles, nouns):
            continue  # a capital word alone is a name only in a list of people
        people.append(value)
        kinds.append(kind)
        with_first = with_first or phrase.after_mit and kind == "counted" and len(kinds) == 1
        if kind in ("counted", "we_n") and not phrase.bracket:
            skip_bracket = True  # "drei Erwachsene (mein Mann, …)", "wir drei (Anna, …)" name them
        elif not phrase.bracket:
            skip_bracket = False
        last = value
    if group is not None and each_sum:
        people.append(group * each_sum)
    if not named_any:
        return None
    if not has_we and not counted_self and kinds == ["counted"] and with_first:
        people.append(1)  # "würd gern mit 2 Kumpels ins Haus": the writer and them
        counted_self = True
    if has_we and not counted_self and not any(k for k in kinds if k == "we_n"):
        return None, False, True  # "wir kommen mit meinen Eltern": how many are "wir"?
    if any(p is None for p in people):
        return None, counted_self and not self_counted, True
    return sum(p for p in people if p is not None), counted_self and not self_counted, doubt


def _in_list(phrases: list[_Phrase], phrase: _Phrase, vocab: Vocabulary, singles: frozenset[str],
             nouns: frozenset[str]) -> bool:
    """A name next to other people, through a run of names: "Gerda, Klaus, Hanne und ich"."""
    at = phrases.index(phrase)
    for step in (-1, 1):
        i = at + step
        while 0 <= i < len(phrases):
            words = [w for w in phrases[i].words if w != "+"]
            kind = _value(words, phrases[i].caps, vocab, singles, nouns, None)[1] if words else "none"
            if kind != "name":
                if kind in ("self", "one", "counted", "we_n", "we"):
                    return True
                break
            i += step
    return False


def _value(words: list[str], caps: list[bool], vocab: Vocabulary, singles: frozenset[str],
           nouns: frozenset[str], last: int | None) -> tuple[int | None, str]:
    """What one phrase is worth: (people, kind)."""
    at = _content(words, caps, vocab, singles, nouns)
    if at is None:
        return None, "none"
    if at > 0 and words[at - 1] in _STORY:
        return None, "none"  # "vorher hat mein Mann einen Termin"
    words, caps = words[at:], caps[at:]
    head = words[0]
    if head in _EACH:
        return None, "each"
    if head in _SELF:
        return 1, "self"
    if head in _WE:
        if len(words) > 1 and words[1] not in _OWNERS and (n := _number(words[1], vocab)) and \
                (len(words) == 2 or words[2] in nouns or words[2] in _PLURAL_KIN or words[2] in _VERBS
                 or words[2] in ("plus", "+", "und", "mit")):
            return n, "we_n"
        rest = [w for w in words[1:] if w not in _VERBS]
        if rest and rest != words[1:]:  # "wir sind zwei Erwachsene": all of "wir"
            value, kind = _value(rest, caps[len(words) - len(rest):], vocab, singles, nouns, last)
            if kind != "none":
                return value, "we_n" if kind == "counted" else kind
        return None, "we"  # "wir" alone: the people it means are named elsewhere, or asked
    if "+" in head:
        a, b = (int(x) for x in head.split("+"))
        return a + b, "counted"
    for i, word in enumerate(words[:4]):
        n = _number(word, vocab)
        if n is None:
            if word in _OWNERS or _ADJECTIVES.match(word):
                continue
            break
        for noun in words[i + 1:i + 4]:
            if noun in ("familien", "families", "paare", "pärchen", "ehepaare"):
                return (2 * n, "counted") if noun != "familien" and noun != "families" else (n, "group")
            if noun in vocab.people_nouns or noun in _PLURAL_KIN or noun in vocab.groups:
                return n * vocab.groups.get(noun, 1) if noun in vocab.groups else n, "counted"
            if _PETS.match(noun):
                return 0, "none"
            if not (noun in _OWNERS or _ADJECTIVES.match(noun)):
                break
        break
    start = 0
    while start < len(words) - 1 and (words[start] in _OWNERS or _ADJECTIVES.match(words[start])):
        start += 1
    noun = words[start]
    if _PETS.match(noun):
        return 0, "none"
    if noun in vocab.groups:
        return vocab.groups[noun], "counted"
    after = words[start + 1:start + 3]
    if after and (after[0] in _STORY or len(after) > 1 and after[0] not in singles and after[1] in _STORY):
        return None, "none"  # "meine Frau hat einen Arzttermin": about someone, not who comes
    if "von" in words[start + 1:]:
        return None, "none"  # "der kleine Bruder von Lukas" says who someone is
    if noun in singles and not (noun in _PLURAL_KIN and start > 0 and words[start - 1] in
                                ("ihren", "seinen", "deren", "unseren", "unsere", "ihre", "die", "den")):
        return 1, "one"
    if noun in _PLURAL_KIN or noun in nouns:
        return last, "counted"  # "mit ihren Partnern": as many as the phrase before
    if noun in ("familie", "family", "fam"):
        return None, "none"  # "Familie Baumann": who, not how many
    if caps[start] and (start == 0 or start == 2 and words[0] in _OWNERS and words[1].startswith("klein")) \
            and len(words) == start + 1 and _is_name(noun, vocab):
        return 1, "name"  # "Anna, Ben und ich", "die kleine Paula"
    return None, "none"


def _content(words: list[str], caps: list[bool], vocab: Vocabulary, singles: frozenset[str],
             nouns: frozenset[str]) -> int | None:
    """Where a phrase starts to name people ("kommen würden Horst": at "Horst")."""
    for i, w in enumerate(words):
        if w in _SELF or w in _WE or w in _EACH or w in _OWNERS or "+" in w or \
                _number(w, vocab) is not None or w in singles or w in nouns or w in _PLURAL_KIN \
                or w in vocab.groups or _PETS.match(w):
            return i
        if caps[i] and i == len(words) - 1 and (i == 0 or words[i - 1] in _COME_VERBS) \
                and _is_name(w, vocab):
            return i  # "Gerda", "kommen würden Horst"
    return None


_NOT_A_NAME = re.compile(r".*(?:ung|heit|keit|tion|schaft|tag|tur|nis|tät|ment|ismus|sicht|zeit)$|"
                         r"kind|kegel|korrektur|info|frage|bitte|hallo|hi|moin|servus|grüße|gruß|quatsch|mist|sorry|"
                         r"nee|nein|ach|oh|ok|okay|super|danke|ja|genau|also|übrigens|ps")


def _is_name(word: str, vocab: Vocabulary) -> bool:
    return not _NOT_A_NAME.fullmatch(word) and word not in vocab.not_names and word not in vocab.months and \
        word not in vocab.weekdays and len(word) > 2 and word.isalpha()


def second_reading(text: str, size: int | None, vocab: Vocabulary) -> Tally | None:
    """The tally, when it puts the party size `size` (None: not read) in doubt: it counts
    other people, or it is unsure itself. Nothing where a total is said outright."""
    if _total(text, vocab) is not None:
        return None
    found = tally(text, vocab)
    if found is None or size is None and (found.size is None or not found.sure):
        return None
    if found.size is not None and found.size != size or not found.sure:
        return found
    return None
