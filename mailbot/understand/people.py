"""Who is coming: the party size, and the sender's first name."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache, lru_cache

from .vocabulary import FLAGS, Vocabulary, alternation, fold


@dataclass(frozen=True)
class _Patterns:
    counted: re.Pattern[str]
    collective: re.Pattern[str]
    we_are: re.Pattern[str]
    we_n: re.Pattern[str]
    swap: re.Pattern[str]
    times: re.Pattern[str]
    labelled: re.Pattern[str]
    self_word: re.Pattern[str]
    relation_word: re.Pattern[str]  # a relative at the start of a clause
    relation_first: re.Pattern[str]  # … or of the text
    restated: re.Pattern[str]  # "…, also 4." sums up what came before
    companions: re.Pattern[str]  # "mit 3 Freunden": the writer comes too
    pairs: re.Pattern[str]  # "2 Pärchen"
    summed: re.Pattern[str]  # "(Familie Berger, 2+2)"
    heads: re.Pattern[str]  # "vierköpfige Familie"
    between: re.Pattern[str]  # "6-8 Leute"


@cache
def _patterns(vocab: Vocabulary) -> _Patterns:
    words = alternation(vocab.number_words)
    number = rf"(?:\d{{1,2}}|{words})"
    adjectives = r"(?:(?:kleine|kleinen|große|großen|erwachsene|weitere|liebe|nette|junge|" \
                 r"jugendliche|meiner|meine|unsere|unserer)\s+)?"
    counted = re.compile(
        rf"(?<![\w.,/:-])(?P<n>{number})\s*(?:x\s*)?{adjectives}(?P<noun>{vocab.people_alt})"
        r"(?![\w])\.?",
        FLAGS,
    )
    collective = re.compile(
        r"(?<![\w-])zu\s+(?P<n>" + alternation(vocab.collective)
        + r"|\d{1,2})(?![\w-])",
        FLAGS,
    )
    we_are = re.compile(
        rf"(?<![\w-])(?:{vocab.we_are_alt})\s+"
        rf"(?:(?:dann|also|jetzt|doch|nun|nur|insgesamt|voraussichtlich|wohl|ca\.?|etwa|"
        rf"circa|ungefähr|zusammen|genau|zu)\s+)*(?P<n>{number})(?![\w-])"
        rf"(?!\s*{adjectives}(?:{vocab.not_people_alt}|{vocab.people_alt})(?![\w]))",
        FLAGS,
    )
    we_n = re.compile(rf"(?<![\w-])(?:{vocab.we_alt})\s+(?P<n>{words}|\d{{1,2}})(?![\w-])"
                      rf"(?!\s*(?:{vocab.not_people_alt})(?![\w]))", FLAGS)
    swap = re.compile(rf"(?P<n>{number})\s+(?:statt|anstatt|anstelle\s+von)\s+$", FLAGS)
    times = re.compile(
        rf"(?<![\w-])(?P<a>{number})\s+(?:{_GROUP_NOUNS.pattern})\s+"
        rf"(?:{vocab.each_alt})\s+(?P<b>{number})(?![\w-])"
        rf"(?!\s*(?:{vocab.not_people_alt})(?![\w]))", FLAGS)
    self_word = re.compile(rf"(?<![\w&+])(?:{_alternation_of(vocab.self_words)})(?![\w&+])")
    relatives = _alternation_of(vocab.relations)
    relation_word = re.compile(rf"[:(\n][^\w&+:(\n]*(?P<r>{relatives})(?![\w&+])")
    relation_first = re.compile(rf"[^\w&+:(\n]*(?P<r>{relatives})(?![\w&+])")
    labelled = re.compile(
        r"(?<![\w-])(?:personenzahl|personenanzahl|anzahl\s+(?:der\s+)?(?:personen|gäste|leute)"
        rf"|anzahl|personen|gäste|teilnehmer)\s*:\s*(?P<n>{number})(?![\w,-])"
        rf"(?!\s*{adjectives}(?:{vocab.not_people_alt}|{vocab.people_alt})(?![\w]))", FLAGS)
    restated = re.compile(
        rf"(?<![\w-])(?:also|macht|sind\s+also|also\s+insgesamt|zusammen\s+also)\s+(?:wir\s+)?"
        rf"(?P<n>{number})(?:\s+(?:personen|leute|leut|pers\.?))?"
        rf"(?![.,]?\s*(?:/|\d|[-–]|bis\b|(?:{vocab.month_alt})(?!\w)))\s*(?:[.!,)\n]|$)", FLAGS)
    companions = re.compile(
        rf"(?<![\w-])mit\s+(?:meinen?\s+)?(?P<n>{number})\s+(?:freunden|freundinnen|kumpels|kumpeln|"
        r"kollegen|kolleginnen|mädels|jungs|leuten|bekannten|spezln|spezis)(?![\w])", FLAGS)
    pairs = re.compile(rf"(?<![\w-])(?P<n>{number})\s+(?:pärchen|paare|paaren|ehepaare|ehepaaren)"
                       r"(?![\w])", FLAGS)
    summed = re.compile(r"\((?:[^()\n]{0,30},\s*)?(?P<a>[1-9])\s*\+\s*(?P<b>[1-9])\s*\)", FLAGS)
    heads = re.compile(rf"(?<![\w-])(?P<n>\d{{1,2}}|{words})[\s-]?köpfige[nr]?(?![\w])", FLAGS)
    between = re.compile(r"(?<![\w.,-])(?P<a>\d{1,2})\s*(?:-|–|bis)\s*(?P<b>\d{1,2})\s+"
                         r"(?:personen|leute|leuten|leut|gäste|pers\.?)(?![\w])", FLAGS)
    return _Patterns(counted, collective, we_are, we_n, swap, times, labelled, self_word,
                     relation_word, relation_first, restated, companions, pairs, summed, heads,
                     between)


def _alternation_of(words: frozenset[str]) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


def _value(word: str, vocab: Vocabulary) -> int | None:
    w = word.lower()
    if w.isdigit():
        return int(w)
    return vocab.number_words.get(w)


_COUNT_ALONE = re.compile(r"\s*(\d{1,2}|[a-zäöüß]{3,6})\s*[.!]?\s*")  # a number or a number word
_GROUP_NOUNS = re.compile("familien|paare|pärchen|haushalte|gruppen|zimmer")
_CHILD = re.compile(r"^ki$|kind|kinn|kids|jugendlich|teenager|enkel|bab|klein|söhn|töcht|nicht|neff|child")
_OLD = re.compile(r"(?<!\w)(?:statt|anstatt|anstelle\s+von|nicht\s+mehr|bisher|ursprünglich)"
                  r"\W+(?:\w+\W+)?$")
_OF = re.compile(r"\s+von\s")
_TOTAL = re.compile(r"pers|leut|leit|gäste|gaeste|köpf|mensch|people|teilnehm")
# "mir" before a plural verb is the dialect "wir" ("mir kemma", "mir san"), else the writer
_SELF = re.compile(r"(?<!\w)(?:ich|mir(?!\s+[a-zäöüß]+[na](?!\w)))(?!\w)")
# (the bracket is looked for first: the words before it are looked back at only there)
_AGE = re.compile(
    r"(?=\s*\()(?<=[a-zäöüß])(?<!enkel)(?<!kinder)(?<!kids)(?<!jungs)(?<!mädels)(?<!leute)"
    r"(?<!freunde)\s*\(\s*\d{1,2}\s*(?:j\.?|jahre|monate)?\s*(?:,[^()\n]{0,60})?\)", re.IGNORECASE)
_NUMBER_IN_PARENS = re.compile(r"\(\s*\d")  # in every age; looked for first (a literal is fast)


# two to four capitals standing alone ("WE", "LG"); the first one is matched before looking
# back at what precedes it, so that the regex engine skips straight to capitals
_ABBREVIATION = re.compile(r"[A-ZÄÖÜ](?<!\w.)[A-ZÄÖÜ]{1,3}(?!\w)")


def _spaces(m: re.Match[str]) -> str:
    return " " * (m.end() - m.start())


_CAPITAL = re.compile(r"(?<![\w'’-])[^\W\d_]")


def _capital(m: re.Match[str]) -> str:
    upper = m.group(0).upper()
    return upper if len(upper) == 1 else m.group(0)


_COUNTS_WRITER = re.compile(r"erwachsen|person|leute|gäste|köpf")  # "mit 2 Erwachsenen und …"
_WE = re.compile(r"(?<!\w)(?:wir|uns|mir)(?!\w)")
_LIST_START = re.compile(
    r"(?:(?<=:)|(?<!\w)(?:kommen|kommt|kämen|wären|sind)(?!\w))[ \t]+(?=[A-ZÄÖÜ])")
_WE_WITH_LIST = re.compile(r"(?<!\w)(?:wir|mir)\s+(?:kommen|sind|reisen)\s+mit\s*:")
_WITH = re.compile(r"(?<!\w)mit(?!\w)(?!\s*:)")  # "mit: A, B, C" lists everyone


@lru_cache(maxsize=4)  # party_size and `inferred` read the same text
def _enumeration(text: str, vocab: Vocabulary) -> tuple[int, int, int] | None:
    """People listed around "ich": "Paul, Lea und ich", "mein Mann, ich und die Zwillinge",
    "ich und meine zwei Kinder" → (count, start, end)."""
    pats = _patterns(vocab)
    if "(" in text and _NUMBER_IN_PARENS.search(text):  # "meine Tochter (8) und ich": an age,
        text = _AGE.sub(_spaces, text)  # not a count
    low = fold(text)
    if text != low:  # otherwise every line is lower case
        lines = text.split("\n")
        plain = [_ABBREVIATION.sub("", line) for line in lines]  # "WE", "LG" are written so
        lower = [line == line.lower() and line != line.upper() for line in plain]
        if any(lower):
            # a line all in lower case ("lena, paul und ich"): its names lost their capitals
            text = "\n".join(_CAPITAL.sub(_capital, line) if small else line
                             for line, small in zip(lines, lower, strict=True))
    else:
        text = _CAPITAL.sub(_capital, text)
    for found in pats.self_word.finditer(low):
        words = _words_around(text, found.start())
        k = next(i for i, w in enumerate(words) if w.start() == found.start())
        w = words[k]
        if w.group(0) == "I" or w.group(0).lower() in ("i", "mir", "me"):
            # "i"/"mir" only count as "ich" next to a conjunction ("mei Ma ond i")
            neighbours = [words[j].group(0).lower() for j in (k - 1, k + 1)
                          if 0 <= j < len(words)]
            # … or "me" starting a list: "me, Jenny and the two kids"
            listing = w.group(0).lower() == "me" and text.startswith(",", w.end())
            if not listing and not any(n in vocab.conjunctions for n in neighbours):
                continue
        left = _items(text, words, k, -1, vocab)
        right = _items(text, words, k, +1, vocab)
        if (left or right) and not _joins(vocab).search(
                low, left[1] if left else w.start(), right[1] if right else w.end()):
            left = right = None  # "Ach Mist, ich hab mich vertan": a comma alone lists no one
        count = 1 + (left[0] if left else 0) + (right[0] if right else 0)
        first = left[1] if left else w.start()
        last = right[1] if right else w.end()
        joined = _joining(text, low, last, vocab)
        if joined is not None:  # "Dieter und ich würden gern mit unseren Zwillingen kommen"
            return count + joined[0], first, joined[1]
        if left is None and right is None:
            continue
        return count, first, last
    # "(wir kommen) mit meinem Mann, den zwei Kindern und Opa": the writer and two or more
    for found in _WITH.finditer(low):
        words = _words_around(text, found.start())
        k = next(i for i, w in enumerate(words) if w.start() == found.start())
        right = _items(text, words, k - 1, +1, vocab) if k > 0 else None
        if right is None or _COUNTS_WRITER.search(low, found.start(), right[1]):
            continue
        before = low[max(0, found.start() - 40):found.start()]
        alone = _SELF.search(before) and not _WE.search(before)
        if right[2] >= 2 or alone and _known_people(vocab).search(low, found.end(), right[1]):
            # "… würde ich gern mit meinen Eltern kommen" = 3
            return 1 + right[0], found.start(), right[1]
    # Without "ich": a list of three or more that starts a clause ("…im Haus: Oma, Opa und
    # die Enkel (4)") names everyone.
    starts = [m.start("r") for m in pats.relation_word.finditer(low)]
    opening = pats.relation_first.match(low)
    if opening:
        starts.insert(0, opening.start("r"))
    for at in starts:
        words = _words_around(text, at)
        k = next(i for i, w in enumerate(words) if w.start() == at)
        w = words[k]
        right = _items(text, words, k, +1, vocab)
        if right is not None and right[2] >= 2:
            return 1 + right[0], w.start(), right[1]
    # "Vom 3. bis 5. Juli: Anna, Ben und Clara", "… kommen Oma Hilde und Opa Karl"
    for opener in _LIST_START.finditer(text):
        first_word = _WORD.match(text, opener.end())
        if first_word is None or not (_is_name(first_word.group(0), vocab)
                                      or first_word.group(0).lower() in vocab.relations):
            continue
        words = _words_around(text, opener.end())
        found_at = next((i for i, x in enumerate(words) if x.start() == opener.end()), None)
        if found_at is None:
            continue
        place = found_at
        head = words[place].group(0)
        if not (_is_name(head, vocab) or head.lower() in vocab.relations):
            continue
        if head.lower() in vocab.relations and place + 1 < len(words) and \
                _is_name(words[place + 1].group(0), vocab):
            place += 1  # "Oma Hilde"
        listed = _items(text, words, place, +1, vocab)
        enough = 1 if opener.group(0).strip() != ":" else 2
        if listed is not None and listed[2] >= enough:
            return 1 + listed[0], opener.end(), listed[1]
    return None


# the end of a sentence: not the dot of a written day ("am 24. April")
_SENTENCE_STOP = re.compile(r"[!?\n]|(?<![\d\s])\.")


def _joining(text: str, low: str, after: int, vocab: Vocabulary) -> tuple[int, int] | None:
    """People the writer's group brings along later in its sentence: "(Dieter und) ich würden
    gern mit unseren Zwillingen …", "Opa und ich fahren mit den Enkeln Paul und Lina …"
    → (people, where they end). Family words only: "mit dem Zug" or "mit Inge" bring no one."""
    stop = _SENTENCE_STOP.search(low, after)
    for found in _WITH.finditer(low, after, stop.start() if stop else len(low)):
        words = _words_around(text, found.start())
        k = next(i for i, w in enumerate(words) if w.start() == found.start())
        listed = _items(text, words, k - 1, +1, vocab) if k > 0 else None
        if listed is not None and not _COUNTS_WRITER.search(low, found.start(), listed[1]) \
                and _known_people(vocab).search(low, found.end(), listed[1]):
            return listed[0], listed[1]
    return None


_WORD = re.compile(r"[\w&+]+")
_NOT_COMING = re.compile(r"(?<!\w)(?:(?:komme|kommen|kommet|fahre|fahren)\s+(?:(?:ich|i|wir|mir|selber|"
                         r"selbst|aber|leider|ja)\s+)*(?:nicht|net|ned|nit)\s+mit(?!\w)"
                         r"|(?:(?:selbst|selber)\s+bleibe|bleibe\s+(?:ich\s+)?(?:selbst|selber))\s+"
                         r"(?:nicht|net|ned|nit)(?=\s*[.,;!]))")  # "ich selbst bleibe nicht"
_FOR = re.compile(r"(?<!\w)für(?!\w)")


def _for_others(text: str, vocab: Vocabulary) -> int | None:
    """The people a request is for when the writer stays at home: "ich frage für meine Tochter
    Lena und ihren Freund … Ich selber komme nicht mit" = 2."""
    low = fold(text)
    for found in _FOR.finditer(low):
        words = _words_around(text, found.start())
        k = next(i for i, w in enumerate(words) if w.start() == found.start())
        listed = _items(text, words, k, +1, vocab, at_item=True)
        if listed is not None and _known_people(vocab).search(low, found.end(), listed[1]):
            return listed[0]
    return None


def _words_around(text: str, at: int) -> list[re.Match[str]]:
    """The words of the line holding position `at` and of the lines next to it (a list never
    reaches further); positions stay those in `text`."""
    start = text.rfind("\n", 0, max(0, text.rfind("\n", 0, at))) + 1
    end = text.find("\n", at)
    end = len(text) if end < 0 else text.find("\n", end + 1)
    return list(_WORD.finditer(text, start, len(text) if end < 0 else end))


def _items(text: str, words: list[re.Match[str]], k: int, step: int,
           vocab: Vocabulary, at_item: bool = False) -> tuple[int, int, int] | None:
    """Count the people listed next to "ich" in one direction: (people, where the list ends,
    items); None when nothing is listed. `at_item`: the list starts right after word `k`."""
    count = 0
    items = 0
    edge = -1
    j = k + step
    expect_item = at_item
    by_comma = False
    uncounted = False  # the last item was a plural without a number ("mit unseren Enkeln")
    while 0 <= j < len(words):
        gap = text[min(words[j].end(), words[j - step].end()):
                   max(words[j].start(), words[j - step].start())]
        if re.search(r"[.!?;:()\n–-]", gap) and not expect_item:
            break
        token = words[j].group(0)
        low = token.lower()
        if not expect_item:
            if low in vocab.conjunctions or "," in gap:
                if low in vocab.conjunctions:
                    expect_item = True
                    by_comma = False
                    j += step
                    continue
                expect_item = True
                by_comma = True
                continue
            break
        # one item: "Paul", "mein Mann", "meine zwei Kinder", "die Zwillinge"
        item, size, nxt = _item(words, j, step, vocab)
        if not item:
            break
        if by_comma and step > 0 and nxt < len(words) and words[nxt].group(0).lower() not in \
                vocab.conjunctions and not _LIST_BREAK.search(
                    text[words[nxt - 1].end():words[nxt].start()]):
            break  # "mein Mann und ich, die Kinder haben keine Lust": a new clause
        if by_comma and uncounted and size > 1:
            count, items = count - 1, items - 1  # "mit unseren Enkeln, den Zwillingen": the same
        uncounted = step > 0 and size == 1 and \
            _PLURAL_KIN.fullmatch(words[nxt - 1].group(0).lower()) is not None
        count += size
        items += 1
        edge = words[nxt - step].end() if step > 0 else words[nxt - step].start()
        j = nxt
        expect_item = False
    if count == 0:
        return None
    return count, edge, items


_LIST_BREAK = re.compile(r"[,.!?;:()\n–-]")
# plural family words that say no number: an apposition after them counts them
_PLURAL_KIN = re.compile(r"kinder|kindern|kinner|kender|enkel|enkeln|enkelkinder|enkelkindern|kids|"
                         r"jungs|mädels|söhne|söhnen|töchter|töchtern")

_DETERMINERS = {"mein", "meine", "meinen", "meinem", "meiner", "mei", "my", "die", "den", "der", "das",
                "unsere", "unser", "unseren", "unserem", "unserer", "the", "our", "ihr", "ihre",
                "ihren", "ihrem", "ihrer", "sein", "seine", "seinen", "seinem", "seiner", "deren",
                "dessen", "his", "her", "their", "de", "onser", "onsre", "onsere", "onsern",
                "onserem", "onserm", "mien", "sien"}

_ARTICLES = {"ein", "eine", "einen", "einem", "einer"}
_ADJECTIVE = re.compile(r"(?:klein|groß|gross|best|lieb|befreundet|nett|jung|erwachsen|weiter|"
                        r"ander|neu|eigen|süß)(?:e|en|er|em|es)?")


def text_between(words: list[re.Match[str]], a: int, b: int) -> str:
    string = words[a].string
    return string[words[a].end():words[b].start()]


def _item(words: list[re.Match[str]], j: int, step: int,
          vocab: Vocabulary) -> tuple[bool, int, int]:
    span = [words[x].group(0) for x in range(j, j + 3 * step, step) if 0 <= x < len(words)]
    if step < 0:
        # read the item in text order: "… mein Mann und ich" → ["mein", "Mann"]
        span = [words[x].group(0) for x in range(j, j - 3, -1) if 0 <= x < len(words)]
        span.reverse()
        # the item ends at j; find its start
        noun = span[-1]
        low = noun.lower()
        size = vocab.groups.get(low, 1)
        n_words = 1
        if len(span) >= 2 and (_value(span[-2], vocab) or 0) > 1 and span[-2].lower() not in (
                "ein", "eine"):
            size = _value(span[-2], vocab) or 1
            n_words = 2
            if len(span) >= 3 and span[-3].lower() in _DETERMINERS:
                n_words = 3
        elif len(span) >= 2 and span[-2].lower() in _DETERMINERS:
            n_words = 2
        if not _person_word(noun, vocab):
            return False, 0, j
        if n_words == 1 and len(span) >= 2 and (span[-2].lower() in vocab.relations or
                                                span[-2].lower() in vocab.people_nouns) and \
                _is_name(noun, vocab) and j > 0 and not text_between(words, j - 1, j).strip():
            n_words = 2  # "… und Opa Karl", "ihr Mann Gustl und ich"
            if len(span) >= 3 and span[-3].lower() in _DETERMINERS:
                n_words = 3
        if n_words == 1 and noun.lower() not in vocab.relations and noun.lower() not in \
                vocab.groups:
            # a bare name must start the list: "Paul und ich", "(Paul und ich)", ", Paul"
            before = j - 1
            if before >= 0:
                gap = text_between(words, before, j)
                if not re.search(r"[,(:\n]", gap) and words[before].group(0).lower() in \
                        _NOT_BEFORE_NAME:
                    return False, 0, j
        return True, size, j - n_words
    first = span[0]
    low = first.lower()
    pos = 0
    if low in _DETERMINERS or low in _ARTICLES:
        pos = 1
    if pos + 1 < len(span) and span[pos].islower() and _ADJECTIVE.fullmatch(span[pos]):
        pos += 1  # "die kleine Mila", "einem befreundeten Pärchen"
    if pos < len(span) and (_value(span[pos], vocab) or 0) > 1:
        size = _value(span[pos], vocab) or 1
        if pos + 1 < len(span) and _person_word(span[pos + 1], vocab):
            # "zwei Pärchen" are four
            return True, size * vocab.groups.get(span[pos + 1].lower(), 1), j + (pos + 2)
        return False, 0, j
    if pos < len(span) and _person_word(span[pos], vocab):
        size, nxt = vocab.groups.get(span[pos].lower(), 1), j + pos + 1
        if (span[pos].lower() in vocab.relations or span[pos].lower() in vocab.people_nouns) \
                and nxt < len(words) and _is_name(words[nxt].group(0), vocab) \
                and not text_between(words, nxt - 1, nxt).strip():
            size, nxt = 1, nxt + 1  # "Opa Karl" is one person; "die Kinder Max und Emma" two
        elif span[pos].lower() in vocab.groups:
            nxt = _members(words, nxt, size, vocab)  # "die Zwillinge Finn und Jonas" are two
        if nxt < len(words) and words[nxt].group(0).isdigit() and _IN_PARENS.match(
                words[nxt].string, words[nxt - 1].end()):
            size, nxt = int(words[nxt].group(0)), nxt + 1  # "die Enkel (4)"
        return True, size, nxt
    return False, 0, j


_IN_PARENS = re.compile(r"\s*\(\s*\d{1,2}\s*\)")


def _members(words: list[re.Match[str]], at: int, size: int, vocab: Vocabulary) -> int:
    """Where the names of a group's members end ("Zwillinge Finn und Jonas"), or `at` when the
    names after it are not exactly its members."""
    k, named = at, 0
    while k < len(words) and named < size and _is_name(words[k].group(0), vocab):
        named, k = named + 1, k + 1
        if named < size and k < len(words) and words[k].group(0).lower() in vocab.conjunctions:
            k += 1
    return k if named == size else at


_NOT_BEFORE_NAME = {"zum", "zur", "im", "am", "beim", "vom", "ins", "zu", "nach", "von", "den", "dem",
                    "der", "das", "des", "ein", "eine", "einen", "einem", "einer", "für", "auf",
                    "an", "in", "bei", "aus", "über", "unter", "vor", "hinter", "ohne", "gegen",
                    "durch", "um", "the", "a", "to", "at", "on", "of", "for"}


def _person_word(word: str, vocab: Vocabulary) -> bool:
    low = word.lower()
    if low in vocab.groups or low in vocab.relations or low in vocab.people_nouns:
        return True
    if low in vocab.not_names or low in vocab.number_words or low in vocab.titles or \
            low in vocab.months or low in vocab.weekdays:
        return False
    if _not_people(vocab).match(low):
        return False
    return word[:1].isupper() and word[1:].islower() and len(word) > 1


_OWNER = r"(?:(?:die|der|den|dem|unsere[mnr]?|meine[mnr]?|ihre[mnr]?|seine[mnr]?)\s+)?"


def _relatives(vocab: Vocabulary) -> str:
    return _alternation_of(frozenset(vocab.relations) | frozenset(vocab.groups))


@cache
def _plus_people(vocab: Vocabulary) -> re.Pattern[str]:
    """"plus Oma", "+ ihre Eltern": relatives added to a count."""
    return re.compile(rf"(?<![\w])(?:plus|\+)\s+{_OWNER}(?:{_relatives(vocab)})(?![\w])", FLAGS)


@cache
def _more_relations(vocab: Vocabulary) -> re.Pattern[str]:
    """One more relative in a list after "plus Oma": ", Opa", "und die Tante"."""
    return re.compile(rf"\s*(?:,|und|&|\+)\s*{_OWNER}(?P<w>{_relatives(vocab)})(?![\w])", FLAGS)


def _is_name(word: str, vocab: Vocabulary) -> bool:
    """A first name: capitalised, and no family word, number or other known word."""
    low = word.lower()
    return (word[:1].isupper() and word[1:].islower() and len(word) > 1 and
            low not in vocab.relations and low not in vocab.groups and
            low not in vocab.people_nouns and low not in vocab.not_names and
            low not in vocab.number_words and low not in vocab.conjunctions and
            low not in vocab.titles)


@cache
def _joins(vocab: Vocabulary) -> re.Pattern[str]:
    """The words that join a list: "und", "sowie", "&"."""
    return re.compile(rf"(?<![\w])(?:{_alternation_of(vocab.conjunctions)})(?![\w])", FLAGS)


@cache
def _known_people(vocab: Vocabulary) -> re.Pattern[str]:
    """Family words and people nouns: "Eltern", "Kinder", "Freundin"."""
    words = set(vocab.relations) | set(vocab.groups) | set(vocab.people_nouns)
    return re.compile(rf"(?<![\w])(?:{_alternation_of(frozenset(words))})(?![\w])", FLAGS)


@cache
def _not_people(vocab: Vocabulary) -> re.Pattern[str]:
    return re.compile(f"(?:{vocab.not_people_alt})$", FLAGS)


def count_unsure(text: str, vocab: Vocabulary, writer: str | None = None,
                 size: int | None = None) -> bool:
    """"wir kommen mit 3 Freunden": how many are "wir"? The count is asked about; so is a
    list after "wir kommen mit:" that does not name the writer (is the writer one more?), and
    a `size` that the text does not say as a count but that was counted from the people it
    names (`inferred`)."""
    low = fold(text)
    if size is not None and inferred(text, size, vocab):
        return True
    if ("-" in low or "bis" in low) and _patterns(vocab).between.search(low):
        return True  # "so 6-8 Leute"
    listed = _WE_WITH_LIST.search(low) if ":" in low and writer else None
    if listed and writer:
        line_end = low.find("\n", listed.end())
        names = low[listed.end():line_end if line_end >= 0 else len(low)]
        if not re.search(rf"(?<!\w){re.escape(fold(writer))}(?!\w)", names):
            return True
    m = _patterns(vocab).companions.search(low) if "mit" in low else None
    if m is None:
        return False
    before = low[max(0, m.start() - 40):m.start()]
    return bool(_WE.search(before)) and not _SELF.search(before)


# "nur die zwei", "just the two of us", "als Paar": two, said as such
_TWO = re.compile(r"(?<!\w)(?:(?:just\s+)?the\s+two\s+of\s+us|nur\s+(?:wir\s+|die\s+)?(?:beide|beiden|zwei)"
                  r"|als\s+paar)(?!\w)")


def stated(text: str, vocab: Vocabulary) -> set[int]:
    """The head counts `text` says as numbers: "4 Personen", "zu viert", "wir sind fünf",
    "wir vier", "also 4", "Personen: 6", "vierköpfige Familie", "ich komme allein", "wir
    beide", "2 Pärchen", "zwei Familien à 4 Personen", "(2+2)"; counted people added up ("2
    Erwachsene und 3 Kinder", "wir 2 + 3 Kinder", "wir wären 4 Mädels"), but not children
    alone ("mit unseren 3 Kindern") or people someone comes with ("mit 3 Freunden", "ich und 3
    Kumpels"); with "plus Oma" each one more ("wir zwei plus Oma": 3, not 2). "Wir sind 5 mit
    Baby" says no count for sure: is the baby one of the five?"""
    low = fold(text)
    extra = _added(low, vocab)
    return set() if extra is None else {n + extra for n in _said(low, vocab)}


def _added(low: str, vocab: Vocabulary) -> int | None:
    """The people "plus Oma und Opa" adds to a count (0 without), None for "mit Baby"."""
    plus = vocab.plus_one.search(low) or (
        _plus_people(vocab).search(low) if "plus" in low or "+" in low else None)
    if plus is None:
        return 0
    if plus.group(0).startswith("mit"):
        return None  # "wir sind 5 mit Baby": one of the five, or one more?
    extra, at = vocab.groups.get(plus.group(0).split()[-1], 1), plus.end()
    while (more := _more_relations(vocab).match(low, at)) is not None:
        extra, at = extra + vocab.groups.get(more.group("w"), 1), more.end()
    return extra


def _said(low: str, vocab: Vocabulary) -> Iterator[int]:
    """The counts of `stated` before "plus …", the most common ways first (a caller that
    looks for one count stops early)."""
    pats = _patterns(vocab)
    found: list[int] = []  # the counts said outright, for "wir 2 + 3 Kinder"
    alone = _COUNT_ALONE.fullmatch(low)
    if alone and (n := _value(alone.group(1), vocab)):
        found.append(n)
        yield n
    for m in pats.collective.finditer(low) if "zu" in low else ():
        if not _OLD.search(low[max(0, m.start() - 25):m.start()]):
            found.append(vocab.collective.get(m.group("n")) or _value(m.group("n"), vocab) or 0)
            yield found[-1]
    for pattern, hints in ((pats.we_are, ("",)), (pats.we_n, ("",)), (pats.labelled, (":",)),
                           (pats.restated, ("also", "macht")), (pats.heads, ("köpfig",))):
        for m in pattern.finditer(low) if any(h in low for h in hints) else ():
            if n := _value(m.group("n"), vocab):
                found.append(n)
                yield n
    counted, whole = 0, False  # people counted, and whether they are all who come
    for m in pats.counted.finditer(low):
        before = low[max(0, m.start() - 25):m.start()]
        swap = pats.swap.search(before) if _OLD.search(before) else None
        n = _value(swap.group("n") if swap else m.group("n"), vocab)  # "6 statt 5 Personen"
        if not n or _OLD.search(before) and not swap or \
                m.group("n") in _ARTICLES and _OF.match(low, m.end()):
            continue  # "ein Kumpel von Niklas" says who someone is
        if _TOTAL.match(m.group("noun")):
            yield n
            continue
        counted += n
        whole = whole or _COUNTS_WRITER.match(m.group("noun")) is not None or \
            not (_CHILD.search(m.group("noun")) or _COMPANIONS.search(before))
    if counted:
        yield from [n + counted for n in found] + ([counted] if whole else [])
    if vocab.single.search(low):
        yield 1
    if _TWO.search(low):
        yield 2
    for m in pats.times.finditer(low) if _GROUP_NOUNS.search(low) else ():
        if _TOTAL.match(low, m.end() + 1):  # "zwei Familien à 4 Personen", not "… je einem Kind"
            yield (_value(m.group("a"), vocab) or 0) * (_value(m.group("b"), vocab) or 0)
    for m in pats.pairs.finditer(low) if "paar" in low or "pärchen" in low else ():
        yield 2 * (_value(m.group("n"), vocab) or 0)
    for m in pats.summed.finditer(low) if "+" in low else ():
        yield int(m.group("a")) + int(m.group("b"))


_COMPANIONS = re.compile(r"(?<!\w)(?:mit|und|&|\+)\s+(?:(?:meinen|meine|unseren|unsere|den|die)\s+)?$")


def inferred(text: str, size: int, vocab: Vocabulary) -> bool:
    """`size` was counted from the people the text names, not said as a count (`stated`):
    "meine Eltern, mein Bruder und ich" (4), "Opa und ich mit den Enkeln Paul und Lina" (4).
    Sure only when the writer and one other make it ("meine Frau und ich", "Helmut und ich",
    "ich und 3 Kumpels", "ich komme mit meinen Eltern") or names alone ("Anna, Ben und ich"),
    and nobody else is named in their sentence or after a "mit" ("Dieter und ich … mit
    unseren Zwillingen", "mit einem befreundeten Pärchen"). "nur" before them says nobody
    else comes ("Nur mein Mann und ich, die Kinder haben keine Lust")."""
    low = fold(text)
    extra = _added(low, vocab)
    if extra is not None and size - extra in _said(low, vocab):
        return False
    span = _writer_and_one(text, low, size, vocab)
    if span is None:
        return True
    first, last = span
    named = [m for m in _people_words(vocab).finditer(low) if not _says_who(text, low, m)]
    inside = [m for m in named if first <= m.start() < last]
    if len(inside) > 1 or inside and len(_SEPARATORS.findall(low, first, last)) > 1:
        return True  # a list of names only ("Anna, Ben, Clara und ich") counts one each
    if _ONLY.search(low, max(0, first - 12), first):
        return False
    stop = _SENTENCE_STOP.search(low, last)
    sentence = (low.rfind("\n", 0, first) + 1, stop.start() if stop else len(low))
    return any(sentence[0] <= m.start() < sentence[1]
               or _WITH_BEFORE.search(low, max(0, m.start() - 30), m.start()) is not None
               for m in named if not first <= m.start() < last)


_SEPARATORS = re.compile(r"[,&+]|(?<!\w)(?:und|and|ond|un|sowie|mit)(?!\w)")
_ONLY = re.compile(r"(?<!\w)nur\s+(?:noch\s+)?(?:wir\s+)?$")
_WITH_BEFORE = re.compile(r"(?<!\w)mit\s+(?:\w+\s+){0,2}$")
# who someone is, not who comes: "die Enkelin von Inge", "ein Kollege von Niklas", "Frau Hofmann"
_OF_NAME = re.compile(r"\s+von\s+[A-ZÄÖÜ]")
_OWNED = re.compile(r"(?<!\w)(?:mein|dein|sein|ihr|unser|euer|die|der|den|dem|ein)\w*\s+$")


def _says_who(text: str, low: str, m: re.Match[str]) -> bool:
    """A people word that says who someone is rather than who comes along."""
    if _OF_NAME.match(text, m.end()):
        return True
    if m.group("w") in ("frau", "herr"):  # a title before a surname
        return text[m.end():m.end() + 3].lstrip()[:1].isupper() and \
            _OWNED.search(low, max(0, m.start() - 12), m.start()) is None
    return False


def _writer_and_one(text: str, low: str, size: int, vocab: Vocabulary) -> tuple[int, int] | None:
    """Where the writer and one other are named that make `size`: "meine Frau und ich",
    "mit meiner Frau", "Helmut und ich", "ich und 3 Kumpels", "ich … mit 2 Kumpels"."""
    companions = _patterns(vocab).companions.search(low) if "mit" in low else None
    if companions:
        before = _sentence_before(low, companions.start())
        if not _WE.search(before) and _value(companions.group("n"), vocab) == size - 1:
            return companions.span()  # "(ich) würd gern mit 2 Kumpels": the writer and them
    couple = vocab.couples.search(low) if size == 2 else None
    if couple:
        return couple.span()
    group = _enumeration(text, vocab)
    return (group[1], group[2]) if group is not None and group[0] == size else None


@cache
def _people_words(vocab: Vocabulary) -> re.Pattern[str]:
    """A person named by a family word or a people noun, counted or not: "Eltern", "mein
    Mann", "3 Kumpels"."""
    words = _alternation_of(frozenset(vocab.relations) | frozenset(vocab.groups)
                            | frozenset(vocab.people_nouns))
    words_n = "|".join(sorted(vocab.number_words, key=len, reverse=True))
    return re.compile(rf"(?<![\w])(?:(?:\d{{1,2}}|{words_n})\s+)?(?P<w>{words})(?![\w])", FLAGS)


def _sentence_before(text: str, at: int) -> str:
    starts = [text.rfind(mark, 0, at) for mark in ".!?\n"]
    return text[max(starts) + 1:at]


def party_size(text: str, vocab: Vocabulary) -> int | None:
    """The number of people staying, or None when the text does not say."""
    pats = _patterns(vocab)
    original = text
    text = fold(text)
    alone = _COUNT_ALONE.fullmatch(text)
    bare = _value(alone.group(1), vocab) if alone else None
    if bare is not None and 0 < bare <= 30:
        return bare  # "5" as the whole answer to "Wie viele seid ihr?"
    extra = 0
    plus = vocab.plus_one.search(text) or (
        _plus_people(vocab).search(text) if "plus" in text or "+" in text else None)
    if plus:  # "plus Baby", "wir zwei + Oma und Opa", "plus ihre Eltern"
        extra = vocab.groups.get(plus.group(0).split()[-1], 1)
        at = plus.end()
        while (more := _more_relations(vocab).match(text, at)) is not None:
            extra, at = extra + vocab.groups.get(more.group("w"), 1), more.end()
    restated = pats.restated.search(text) if "also" in text or "macht" in text else None
    if restated:  # "Mein Mann und ich natürlich auch, also 4."
        n = _value(restated.group("n"), vocab)
        if n and 0 < n <= 30:
            return n
    companions = pats.companions.search(text) if "mit" in text else None
    if companions and (_SELF.search(text, max(0, companions.start() - 40), companions.start())
                       or not _WE.search(_sentence_before(text, companions.start()))):
        n = _value(companions.group("n"), vocab)  # "ich komme mit 3 Freunden" = 4,
        if n:  # so is "würd gern mit 3 Kumpels kommen"
            return n + 1 + extra
    for m in pats.collective.finditer(text) if "zu" in text else ():  # "zu dritt", a total before any product
        if _OLD.search(text[max(0, m.start() - 25):m.start()]):
            continue
        n = vocab.collective.get(m.group("n")) or _value(m.group("n"), vocab)
        if n:
            return n + extra
    times = pats.times.search(text) if _GROUP_NOUNS.search(text) else None
    if times:  # "zwei Familien à 4 Personen"
        groups, each = _value(times.group("a"), vocab), _value(times.group("b"), vocab)
        if groups and each:
            return groups * each + extra
    counts: list[tuple[int, int, int, str]] = []  # (start, end, n, noun)
    for m in pats.counted.finditer(text):
        n = _value(m.group("n"), vocab)
        if n is None or n == 0 or m.group("n") in _ARTICLES and _OF.match(text, m.end()):
            continue  # "ich bin Kevin, ein Kumpel von Niklas": who someone is, no count
        before = text[max(0, m.start() - 25):m.start()]
        if _OLD.search(before):
            swap = pats.swap.search(before)
            if swap and _value(swap.group("n"), vocab):
                n = _value(swap.group("n"), vocab) or n
            else:
                continue
        counts.append((m.start(), m.end(), n, m.group("noun").lower()))
    totals = [c for c in counts if _TOTAL.match(c[3])]
    if totals:
        return totals[0][2] + extra
    labelled = pats.labelled.search(text) if ":" in text else None
    if labelled:  # "Personenzahl: 6"
        n = _value(labelled.group("n"), vocab)
        if n:
            return n + extra
    heads = pats.heads.search(text) if "köpfig" in text else None
    if heads:  # "eine vierköpfige Familie"
        n = _value(heads.group("n"), vocab) or vocab.number_words.get(heads.group("n"))
        if n:
            return n + extra
    between = pats.between.search(text) if "-" in text or "bis" in text else None
    if between:  # "so 6-8 Leute": the most, asked about (count_unsure)
        return int(between.group("b")) + extra
    pairs = pats.pairs.search(text) if "paar" in text or "pärchen" in text else None
    if pairs:  # "wir sind 2 Pärchen"
        n = _value(pairs.group("n"), vocab)
        if n:
            return 2 * n + extra
    said = pats.we_are.search(text)
    if said and plus and plus.group(0).startswith("mit") and not text[said.end():plus.start()].strip():
        extra = 0  # "wir sind 5 mit Baby": the baby is one of the five
    if said:
        n = _value(said.group("n"), vocab)
        if n and 1 < n <= 30 or said.group("n").isdigit():
            return (n or 0) + extra or None
    summed = pats.summed.search(text) if "+" in text else None
    if summed:  # "wir (Familie Berger, 2+2)"
        return int(summed.group("a")) + int(summed.group("b")) + extra
    pronoun = pats.we_n.search(text)
    if counts:
        group = _enumeration(original, vocab)
        # "2 Erwachsene und 3 Kinder" add up; "Opa und ich mit den drei Enkeln" too.
        adults = [c for c in counts if not _CHILD.search(c[3])]
        children = [c for c in counts if _CHILD.search(c[3])]
        total = (adults[0][2] if adults else 0)
        if group and any(group[1] <= c[0] < group[2] for c in adults):
            # "ich und 3 Kumpels": the list holds the counted people and the writer
            total = group[0]
            children = [c for c in children if not group[1] <= c[0] < group[2]]
        elif group and not adults:
            total += group[0]
            children = [c for c in children if not group[1] <= c[0] < group[2]]
        elif not adults:
            if pronoun and not any(c[0] == pronoun.start("n") for c in counts):
                total += _value(pronoun.group("n"), vocab) or 0  # "wir 2 + 3 Kinder"
            elif vocab.couples.search(text):
                total += 2
            elif _SELF.search(original):
                total += 1
        total += sum(c[2] for c in children[:2])
        return total + extra if total else None
    said_total = _value(pronoun.group("n"), vocab) if pronoun else None
    if said_total and said_total > 1:  # "Hauke und ich haben überlegt: …, nur wir vier"
        return said_total + extra
    group = _enumeration(original, vocab)
    if group:
        return group[0] + extra
    others = _for_others(original, vocab) if _NOT_COMING.search(text) else None
    if others:  # "für meine Tochter Lena und ihren Freund … Ich selber komme nicht mit"
        return others + extra
    if vocab.couples.search(text):
        return 2 + extra
    if vocab.single.search(text):
        return 1 + extra
    return None


_NAME = re.compile(r"^[^\W\d_](?:[^\W\d_]|['’-](?=[^\W\d_]))*$")


def _first_word_name(words: list[str], vocab: Vocabulary) -> str | None:
    for raw in words:
        word = raw.strip(" ,.;:!?\"'()<>*_-–—~")
        if not word:
            continue
        if word.lower().rstrip(".") in vocab.titles or word.lower() in vocab.relations:
            continue
        if not _NAME.match(word) or len(word) == 1:
            return None  # "K." is an initial, not a first name
        if word.isupper() and len(word) > 1 or word.islower():
            word = "-".join(p.capitalize() for p in word.split("-"))
        return word
    return None


def name_from_display(display: str | None, vocab: Vocabulary) -> str | None:
    """"Anna Müller" → Anna, "Müller, Anna" → Anna, "Dr. Hans Meier" → Hans."""
    if not display or "@" in display:
        return None
    text = re.sub(r"\(.*?\)|\[.*?\]", " ", display).strip()
    if "," in text:
        last, _, first = text.partition(",")
        text = first if first.strip() else last
    words = text.split()
    if len(words) == 1 and words[0].lower() in vocab.titles:
        return None
    if words and words[0].lower().rstrip(".") in ("familie", "fam"):
        return None
    return _first_word_name(words, vocab)


def unlike_display(name: str, display: str | None, vocab: Vocabulary) -> bool:
    """The closing's name has nothing of the From display name: neither its first letter
    nor two letters in a row of it ("Da" for "Michael Huber" from "da Michi", "Küste" for
    "Wiebke Jensen"). A short form shares them ("Geli"/"Angelika", "Uschi"/"Ursula"), and a
    name that is in the display name is that name ("Elsbeth"/"Fritz und Elsbeth Kühnle")."""
    first = name_from_display(display, vocab)
    if first is None or display is None:
        return False
    low, whole = fold(name), fold(display)
    pairs = {low[k:k + 2] for k in range(len(low) - 1)}
    return low[:1] != fold(first)[:1] and not any(pair in whole for pair in pairs)


def _looks_like_name_line(line: str, vocab: Vocabulary) -> str | None:
    line = _DIALECT_ARTICLE.sub("", line.strip())  # "da Michi", "d'Resi": the name after it
    words = _ASIDE.sub(" ", line).split()  # "Hans (der Bruder von Inge)"
    if words and words[0].lower() in ("die", "familie", "fam.", "fam", "family", "the"):
        return None  # "LG die Kellers": a family, not a first name
    if not 1 <= len(words) <= 4 or re.search(r"[.!?:]\s*$", line) and len(words) > 2:
        return None
    name = _first_word_name(words, vocab)
    if name is None or name.lower() in vocab.not_names or not name[0].isupper():
        return None
    if name.lower() in vocab.number_words:
        return None
    return name


def closing_name(reply: str, vocab: Vocabulary) -> tuple[str | None, int | None]:
    """The name in the closing ("LG Anna", "Viele Grüße,\\nHans-Peter", "Eure Inge") and the
    line index where the closing starts (None when there is none)."""
    lines = reply.split("\n")
    nonempty = [i for i, line in enumerate(lines) if line.strip()]
    if not nonempty:
        return None, None
    window = nonempty[-6:]
    # The last closing line that has at most two lines (the name) after it.
    for pos in range(len(window) - 1, -1, -1):
        if len(window) - pos - 1 > 2:
            break
        i = window[pos]
        line = lines[i].strip()
        m = vocab.greetings.match(fold(line))
        if not m:
            continue
        rest = line[m.end():].strip()
        rest_words = rest.split()
        if rest_words and rest_words[0].lower() in ("aus", "us", "ausm", "vom", "nach", "zurück",
                                                    "in", "auch", "an", "und", "euch", "dir",
                                                    "für"):  # "us Kölle": Kölsch "aus"
            if len(rest_words) > 4:
                continue  # a sentence that happens to start like a closing
            rest_words = []  # "Herzliche Grüße aus Nürnberg", "Liebe Grüße, auch an Paul"
        elif rest_words[:1] and rest_words[0].lower() == "von" and len(rest_words) > 1 and \
                rest_words[1].lower() in _NOT_BEFORE_NAME:
            rest_words = []  # "Liebe Grüße von der Küste": a place, not a signer
        elif rest_words and rest_words[0].lower() in vocab.signers:
            rest_words = rest_words[1:]
        if len(rest_words) > 3 or rest.endswith(("?", ":")):
            continue  # a sentence that happens to start like a closing
        name = None
        if rest_words and not (i == nonempty[0] and _THANKS.match(fold(line))):
            # "Danke, Inge!" as the whole message thanks Inge; it is not signed by her
            name = _looks_like_name_line(" ".join(rest_words), vocab)
        if name is None:
            for j in window[pos + 1:pos + 3]:
                words = lines[j].strip().split()
                if words and words[0].lower().strip(",") in vocab.signers and len(words) > 1:
                    words = words[1:]
                name = _looks_like_name_line(" ".join(words), vocab)
                if name:
                    break
        return name, i
    for i in window:
        words = lines[i].strip().split()
        if 2 <= len(words) <= 4 and words[0].lower() in vocab.signers and words[0].lower() != "von":
            return _looks_like_name_line(" ".join(words[1:]), vocab), i
    # A bare name on the last line after some text ("JA\nInge"), or two ("Anna & Tom").
    last = lines[nonempty[-1]].strip()
    # "Frauke (schreibt von Haukes Account)": an aside in brackets is no part of the name line
    if len(nonempty) >= 2 and (len(_ASIDE.sub(" ", last).split()) <= 2 or _TWO_NAMES.fullmatch(last)) and \
            not re.search(r"[.!?:,]$", last) and \
            not _FIELD.search(last):  # "Personen: 2" is a form field, not a name
        name = _looks_like_name_line(last, vocab)
        if name and not vocab.intents_at_start["approve"].match(fold(last)) and not \
                vocab.intents_at_start["deny"].match(fold(last)):
            return name, nonempty[-1]
    if len(nonempty) >= 2 and _role_only(last, vocab):
        return None, nonempty[-1]  # "Mama", "Eure Oma": signed with a role, not a name
    # A closing that ends the last sentence ("… Wären zu zweit. Grüße Tom"): the name only,
    # the line stays what was said. Thanks are not a closing here ("Danke Inge" thanks her).
    tail = _SENTENCE_END.split(last)[-1]
    if tail == last and last == last.lower():  # "… mit meiner freundin hoch kann lg max"
        glued = _GLUED_CLOSING.search(last)
        tail = last[glued.start():] if glued else tail
    m = vocab.greetings.match(fold(tail))
    if m and tail != last and not _THANKS.match(fold(tail)):
        signed = tail[m.end():].split()
        if signed and _SHORT_CLOSING.fullmatch(fold(tail[:m.end()]).strip()):
            signed = [w.capitalize() for w in signed]  # "… schicken? lg jana"
        if 1 <= len(signed) <= 2 and signed[0][:1].isupper() and \
                signed[0].lower() not in _NOT_BEFORE_NAME:  # not "Grüße aus Berlin"
            return _looks_like_name_line(" ".join(signed), vocab), None
    return None, None


def _role_only(line: str, vocab: Vocabulary) -> bool:
    """A line that is only a family role, maybe with "Eure" ("Mama", "Eure Oma", "Oma & Opa")."""
    words = [w.strip(",;-–") for w in line.split()]
    return 0 < len(words) <= 3 and not re.search(r"[.!?:]$", line) and any(
        w.lower() in vocab.relations for w in words) and all(
        w.lower() in vocab.relations or w.lower() in vocab.signers or w in ("&", "+", "und", "")
        for w in words)


_FIELD = re.compile(r":|\d")
# a Bavarian or Alemannic article before a signed name: "da Michi", "d'Resi", "s'Vreni", "et Marie"
_DIALECT_ARTICLE = re.compile(r"^(?:(?:da|Da|et|Et)\s+|[dDsS]\s?[’'](?:\s+)?)(?=[A-ZÄÖÜ][a-zäöüß])")
_TWO_NAMES = re.compile(r"[A-ZÄÖÜ][a-zäöüß]+(?:-[A-ZÄÖÜ][a-zäöüß]+)?\s+(?:&|und|\+)\s+[A-ZÄÖÜ][a-zäöüß]+")
_SHORT_CLOSING = re.compile(r"lg|glg|vg|lgr|gruß|grüße")
_GLUED_CLOSING = re.compile(r"(?<=\s)(?:lg|glg|vg|lgr)\s+[^\W\d_]+\s*$")
_ASIDE = re.compile(r"\([^()]*\)")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_THANKS = re.compile(r"\s*(?:danke|vielen\s+dank|besten\s+dank|herzlichen\s+dank|merci|thank)")
