"""Finding the stay (first and last day) in what the person wrote."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, timedelta
from functools import cache

from .vocabulary import FLAGS, Holiday, Vocabulary, alternation, fold


@dataclass(frozen=True)
class Stay:
    start: date | None = None
    end: date | None = None
    vague: str | None = None
    single: bool = False  # one written day only ("am Sonntag"): weak evidence of a stay
    unsure: bool = False  # the best of competing readings: the service asks before acting

    @property
    def found(self) -> bool:
        return self.start is not None or self.end is not None


@dataclass
class _Token:
    """One written date; month or year may be missing ("vom 3. bis 7.8.")."""

    pos: int
    end_pos: int
    day: int
    month: int | None
    year: int | None


@dataclass
class _Candidate:
    pos: int
    start: date | None
    end: date | None
    kind: str  # "range", "named" (holiday / relative range), "single" or "unplaced"
    lead: str = ""  # the word before a single date: "ab", "bis", "am", …
    unsure: bool = False  # two readings compete, or a week was read without its days
    weekday: int | None = None  # a weekday word ("am Sonntag") rather than a written date


def easter_sunday(year: int) -> date:
    """Gauss/Anonymous Gregorian computus."""
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    leap = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * leap) // 451
    month, day = divmod(h + leap - 7 * m + 114, 31)
    return date(year, month, day + 1)


def holiday_range(holiday: Holiday, year: int) -> tuple[date, date]:
    if holiday.easter is not None:
        sunday = easter_sunday(year)
        return (sunday + timedelta(days=holiday.easter[0]),
                sunday + timedelta(days=holiday.easter[1]))
    assert holiday.fixed is not None
    (m1, d1), (m2, d2) = holiday.fixed
    first = date(year, m1, d1)
    last = date(year if (m2, d2) >= (m1, d1) else year + 1, m2, d2)
    return first, last


@dataclass(frozen=True)
class _Patterns:
    tokens: re.Pattern[str]
    month_first: re.Pattern[str]
    labelled: re.Pattern[str]
    web: re.Pattern[str]
    separator: re.Pattern[str]
    holiday: re.Pattern[str]
    weekday_range: re.Pattern[str]
    weekday_by_holiday: re.Pattern[str]
    weekday_single: re.Pattern[str]
    weekday_word: re.Pattern[str]
    week: re.Pattern[str]
    weekend: re.Pattern[str]
    weekend_by_day: re.Pattern[str]
    day_word: re.Pattern[str]
    duration: re.Pattern[str]
    lead: re.Pattern[str]
    noise: re.Pattern[str]
    until_weekday: re.Pattern[str]
    ordinal: re.Pattern[str]
    month_word: re.Pattern[str]
    whole_month: re.Pattern[str]
    holiday_stems: re.Pattern[str]  # cheap checks before the patterns run
    ordinal_stems: re.Pattern[str]
    week_number: re.Pattern[str]
    in_weeks: re.Pattern[str]
    month_offset: re.Pattern[str]
    count: re.Pattern[str]
    unit: re.Pattern[str]  # in every duration: looked for first


@cache
def _patterns(vocab: Vocabulary) -> _Patterns:
    month = vocab.month_alt
    wd = vocab.weekday_alt
    full_wd = alternation(w for w in vocab.weekdays if len(w) > 2)
    rel = vocab.relative
    nxt = alternation(rel["next"])
    after = alternation(rel["after_next"])
    this = alternation(rel["this"])
    numbers = alternation(vocab.number_words)
    units = alternation(vocab.duration_units)
    # A written date starts with its first digit `f` (consumed first, so that the regex engine
    # can skip straight to digits); the groups hold the digits after it.
    # holiday names that start with a day ("2. Weihnachtsfeiertag"): that day is no date
    numbered_holidays = "|".join(sorted(
        (re.escape(n.split(" ", 1)[1]) for n in vocab.holiday_names if n[:1].isdigit() and " " in n),
        key=len, reverse=True)) or "(?!)"
    tokens = re.compile(
        r"(?P<f>\d)(?<![\d.,:]\d)(?:"
        r"(?P<iy>\d{3})-(?P<im>\d{1,2})-(?P<id>\d{1,2})(?!\d)"
        r"|(?P<sd>\d?)/(?P<sm>\d{1,2})/(?P<sy>(?:19|20)\d{2}|\d{2})(?![\d/])"
        # "03/08": day and month of two digits each, without a year (not "10/12 Leute")
        rf"|(?P<pd>\d)/(?P<pm>\d{{2}})(?![\d/])(?!\s*(?:{vocab.people_alt})(?![a-zäöüß]))"
        r"|(?P<nd>\d?)\.\s?(?P<nm>\d{1,2})"
        r"(?:\.(?:\s?(?P<ny>(?:19|20)\d{2})(?!\d)|(?P<ny2>\d{2})(?![\d.]))?|(?![\d.,:]))"
        # "12. Juni", "12 juni", "12th of June"
        r"|(?P<wd>\d?)(?:(?:st|nd|rd|th)\s+of(?=\s)|\.|ter|ten|sten|ste|st|nd|rd|th)?"
        rf"[ \t]*\n?[ \t]*(?P<wm>{month})\.?(?![a-zäöüß])"
        r"(?:,?\s*(?P<wy>(?:19|20)\d{2})(?!\d))?"
        rf"|(?P<bd>\d?)(?:ten|ter|sten|ste|st|nd|rd|th)?(?=\s*(?:-|bis|to|until|till)\s*"
        rf"(?:zum\s+|the\s+)?\d{{1,2}}(?:(?:st|nd|rd|th)\s+of\s|\.|ten|ter|sten|ste|st|nd|rd|th)?\s*(?:{month})(?![a-zäöüß]))"
        rf"|(?P<dd>\d?)\.(?!\s?\d)(?!\s*(?:{numbered_holidays})(?![\w-]))"  # "2. Weihnachtstag"
        r")",
        FLAGS,
    )
    # "Aug 3-7": the month first, then a range of days
    month_first = re.compile(
        rf"(?P<fm>{vocab.month_first_alt})\.?\s*(?P<fd>\d{{1,2}})(?:st|nd|rd|th)?"
        rf"(?=\s*(?:-|bis|to|until)\s*(?:(?P<fm2>{vocab.month_first_alt})\.?\s*)?(?P<fd2>\d{{1,2}})(?:st|nd|rd|th|\.)?(?!\d|[.,:]\d)"
        # not "im Mai 1-2 Wochen", "Sept 3-4 Personen"
        rf"(?!\s*(?:{units}|{vocab.people_alt}|{vocab.not_people_alt})(?![a-zäöüß])))",
        FLAGS,
    )
    weekday_opt = rf"(?:(?:{wd})\.?,?\s*(?:(?:den|dem)\s+)?)?"
    separator = re.compile(
        r"^\s*(?:\((?:[a-zäöü]{2,10})\.?\)\s*)?,?\s*"
        r"(?:-|/|\+|bis(?:\s+(?:einschließlich|einschl\.|inkl\.?|inklusive|und\s+mit))?|und|to|until"
        r"|auf(?:\s+den)?"  # "vom 3. auf den 5.", "Freitag 11. auf Sonntag 13." (the nights)
        r"|till|bit)"  # Low German "vun'n 17. bit 20. Juni"
        rf"\s*(?:(?:zum|zur|den|dem|am|the|einschließlich|inkl\.?)\s+)?{weekday_opt}\s*$",
        FLAGS,
    )
    holiday = re.compile(
        rf"(?<![\w-])(?:(?:an|zu|am|an\s+den|zum)\s+)?(?P<name>{vocab.holiday_alt})"
        r"(?:-?(?P<weekend>wochenende))?(?![\w-])(?:\s+(?P<year>(?:19|20)\d{2}))?",
        FLAGS,
    )
    weekday_range = re.compile(
        rf"(?<![\w-])(?:(?P<rel>{after}|{nxt}|{this})\s+(?:woche\s+)?)?"
        rf"(?:(?:am|von|vom|ab)\s+)?(?P<w1>{wd})\.?\s*(?:-|bis(?:\s+(?:zum|einschließlich))?)\s*"
        rf"(?P<w2>{wd})(?![\w-])\.?",
        FLAGS,
    )
    # "vom Sonntag nach Ostern", "am Freitag vor Pfingsten"
    weekday_by_holiday = re.compile(
        rf"(?<![\w-])(?:(?P<lead>am|vom|von|ab)\s+)?(?P<w>{full_wd})\s+(?P<dir>nach|vor)\s+"
        rf"(?P<name>{vocab.holiday_alt})(?![\w-])",
        FLAGS,
    )
    weekday_single = re.compile(
        rf"(?<![\w-])(?P<rel>{after}|{nxt}|{this}|am|ab|diesen|bis)\s+(?P<w1>{full_wd})(?![\w-])",
        FLAGS,
    )
    weekday_word = re.compile(rf"(?<![\w-])(?P<w>{full_wd})(?![\w-])", FLAGS)
    week = re.compile(rf"(?<![\w-])(?P<rel>{after}|{nxt}|{this})\s+woche(?![\w-])", FLAGS)
    weekend = re.compile(
        rf"(?<![\w-])(?:(?P<rel>{after}|{nxt}|{this})|(?P<am>am|übers|über\s+das))\s+"
        r"wochenende(?![\w-])",
        FLAGS,
    )
    # "das Wochenende nach Opas Geburtstag am 3. Juni" (on the masked text: "#" is a written day)
    weekend_by_day = re.compile(
        r"(?<![\w-])(?:das|am|übers|über\s+das)\s+wochenende\s+(?P<dir>nach|vor)\s+"
        r"[^.!?\n#]{0,40}?(?P<day>#)",
        FLAGS,
    )
    day_word = re.compile(
        r"(?<![\w-])(?P<lead>ab|von|am|bis|schon|gleich)\s+(?P<w>übermorgen|morgen|heute)(?![\w-])",
        FLAGS,
    )
    # "mindestens eine Woche", "höchstens drei Nächte": a bound, not the length
    duration = re.compile(
        r"(?<![\w-])(?<!in\s)(?<!um\s)(?<!mindestens\s)(?<!wenigstens\s)(?<!höchstens\s)"
        rf"(?:für\s+|über\s+)?(?:(?P<n>\d{{1,2}})|(?P<w>{numbers})|(?<=for\s)an?)\s+(?:ganze\s+|volle\s+)?"
        rf"(?P<unit>{units})(?![\w-])"
        # "einen Tag früher", "zwei Tage dranhängen", "um einen Tag verlängern" move a stay,
        # they are not its length
        r"(?!\s+(?:früher|später|eher|länger|kürzer|weniger|mehr|dran|vorher|zusätzlich|extra)"
        r"(?![\w-]))(?!\s+dran)",
        FLAGS,
    )
    lead = re.compile(
        r"(?:^|\W)(?P<lead>ab|von|vom|bis|am|anreise|abreise|ankunft|abfahrt|an|zum|"
        r"zur|seit|für|den|dem)\W*(?:(?:dem|den|zum|am|sonntag|montag|dienstag|mittwoch|"
        r"donnerstag|freitag|samstag|sonnabend|mo|di|mi|do|fr|sa|so)\W+)*$",
        FLAGS,
    )
    # Numbers that are not dates: times, phone numbers, post codes, years, amounts. Each
    # starts with "+" or a digit (consumed first, then the word boundary is checked behind it).
    noise = re.compile(
        r"[\d+](?:(?<=\+)\d[\d\s/().-]{6,}\d|(?<=\d)(?<!\w\d)(?:"
        r"\d?[:.]\d{2}\s*(?:uhr|h)\b|\d?:\d{2}\b|\d?\s*uhr\b"
        r"|(?<=0)0\d[\d\s/().-]{6,}\d|(?<=0)\d{2,5}\s*[/-]?\s*\d[\d\s-]{3,}\d\b"
        r"|\d{4}\b|(?<=1)9\d{2}\s*-\s*(?:19|20)\d{2}\b|(?<=2)0\d{2}\s*-\s*(?:19|20)\d{2}\b"
        r"|\d*[.,]\d+\s*(?:€|eur|euro|km|kg|%)))",
        FLAGS,
    )
    labelled = re.compile(
        r"^\s*(?:tel|telefon|fon|mobil|handy|fax|phone|mob)\b.*$"
        r"|\b(?:nr|no|nummer|kto|iban|plz)\.?\s*:?\s*[\d\s]+",
        FLAGS | re.MULTILINE,
    )
    web = re.compile(r"https?://\S+|www\.\S+|[\w.+-]+@[\w-]+(?:\.[\w-]+)+", FLAGS)
    until_weekday = re.compile(
        rf"\s*,?\s*(?:-|bis)\s*(?:(?:zum|einschließlich|inklusive)\s+)?(?P<w>{full_wd})(?![\w-])", FLAGS)
    ordinals = alternation(vocab.ordinals)
    month_end = rf"(?:{month})(?![a-zäöüß])"
    ordinal = re.compile(
        rf"(?<![\w])(?P<o>{ordinals})(?=\s+{month_end}|\s*(?:-|bis)\s*(?:zum\s+)?"
        rf"(?:{ordinals}|\d{{1,2}}\.?)\s+{month_end})", FLAGS)
    spoken_months = alternation(m for m in vocab.months if len(m) >= 4 or m == "mai")
    month_word = re.compile(rf"(?<![\w#])(?P<m>{spoken_months})(?![\w#])", FLAGS)
    whole_month = re.compile(
        rf"(?<![\w-])(?:(?:den|im|einen)\s+(?:ganzen|kompletten|gesamten)\s+(?P<m1>{month})"
        rf"|(?P<m2>{month})\s+(?:komplett|ganz)(?!\s+(?:anfang|mitte|ende)))(?![\w-])", FLAGS)
    # "KW 23", "Kalenderwoche 23": a week number
    week_number = re.compile(r"(?<![\w-])(?:(?:kw|kalenderwoche)\s*\.?\s*(?P<n>\d{1,2})(?!\d)"
                             r"|(?P<m>\d{1,2})\.\s*(?:kw|kalenderwoche)(?![\w-]))", FLAGS)
    # "in drei Wochen", "in 2 Wochen": the week that many weeks from today
    in_weeks = re.compile(
        rf"(?<![\w-])in\s+(?:(?P<d>\d{{1,2}})|(?P<w>{numbers}))\s+wochen?(?![\w-])", FLAGS)
    # "nächsten Monat", "übernächsten Monat", "diesen Monat": the month of days without one
    month_offset = re.compile(rf"(?<![\w-])(?P<rel>{after}|{nxt}|{this})\s+monat(?![\w-])", FLAGS)
    # "wir wären", "sind wir": the number after them is the party, not a bare day ("wir wären 4.")
    we_are = alternation(w for w in vocab.we_are if " " in w)
    count = re.compile(rf"(?<![\w-])(?:{we_are})\s+$", FLAGS)
    return _Patterns(tokens, month_first, labelled, web, separator, holiday, weekday_range,
                     weekday_by_holiday, weekday_single, weekday_word, week, weekend,
                     weekend_by_day, day_word, duration, lead, noise, until_weekday, ordinal,
                     month_word, whole_month,
                     _stems(vocab.holiday_names), _stems(vocab.ordinals),
                     week_number, in_weeks, month_offset, count,
                     re.compile(rf"(?:{units})(?![\w-])", FLAGS))


def _stems(names: Iterable[str]) -> re.Pattern[str]:
    """Five-letter beginnings of the longest word of each name: one must occur in a text
    before any of the names can. Plain literals, so the regex engine scans for them fast."""
    return re.compile(alternation({max(re.split(r"[\s/]+", n), key=len)[:5] for n in names}))


def _spaces(m: re.Match[str]) -> str:
    return " " * (m.end() - m.start())


def _mask(text: str, toks: list[_Token]) -> str:
    """`text` with each written date replaced by "#"s of the same length."""
    if not toks:
        return text
    parts = []
    at = 0
    for t in toks:
        parts.append(text[at:t.pos])
        parts.append("#" * (t.end_pos - t.pos))
        at = t.end_pos
    parts.append(text[at:])
    return "".join(parts)


def _next_year(month: int, day: int, today: date) -> int:
    return today.year if (month, day) >= (today.month, today.day) else today.year + 1


def _make(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        if month == 2 and day == 29:
            return None
        return None


def _resolve_pair(a: _Token, b: _Token, today: date) -> tuple[date, date] | None:
    am, bm = a.month, b.month
    if am is None and bm is None:
        return None
    if am is None:
        assert bm is not None
        am = bm if a.day <= b.day else (bm - 2) % 12 + 1
    if bm is None:
        bm = am if b.day >= a.day else am % 12 + 1
    ay, by = a.year, b.year
    if ay is None and by is None:
        ay = _next_year(am, a.day, today)
        by = ay if (bm, b.day) >= (am, a.day) else ay + 1
    elif ay is None:
        assert by is not None
        ay = by if (am, a.day) <= (bm, b.day) else by - 1
    elif by is None:
        by = ay if (bm, b.day) >= (am, a.day) else ay + 1
    start, end = _make(ay, am, a.day), _make(by, bm, b.day)
    if start is None or end is None or end < start or (end - start).days > 400:
        return None
    return start, end


def _month_near(day: int, around: tuple[date, date]) -> tuple[int | None, int | None]:
    """The month and year of `day` that put it nearest to the booking `around` (inside it,
    or the fewest days before or after): "ab dem 5." of a booking 03.–09.08. is the 5 August."""
    first, last = around
    best: tuple[int, date] | None = None
    for step in (-1, 0, 1, 2):
        index = first.year * 12 + first.month - 1 + step
        d = _make(index // 12, index % 12 + 1, day)
        if d is None:
            continue
        gap = 0 if first <= d <= last else min(abs((d - first).days), abs((d - last).days))
        if best is None or gap < best[0]:
            best = (gap, d)
    return (best[1].month, best[1].year) if best is not None else (None, None)


def _resolve_single(t: _Token, today: date) -> date | None:
    month = t.month
    if month is None:
        # A bare day ("ab dem 5."): this month if still ahead, else the next.
        month = today.month if t.day >= today.day else today.month % 12 + 1
        year = today.year if month >= today.month else today.year + 1
        return _make(year, month, t.day)
    year = t.year if t.year is not None else _next_year(month, t.day, today)
    return _make(year, month, t.day)


# Clause boundaries around a date. Each starts with one character of a small set (so the regex
# engine skips straight to those); a word boundary counts after a blank.
_CLAUSE_LEFT = re.compile(r"[;!?\n(:.\s](?:(?<=[;!?\n(:])|(?<=\.)\s|(?<=\s)(?:[-–]\s|(?:aber|weil|da)\b))")
_CLAUSE_RIGHT = re.compile(r"[,;!?\n).\s](?:(?<=[,;!?\n)])|(?<=\.)\s"
                           r"|(?<=\s)(?:[-–]\s|(?:und|aber|weil|da|vom|ab|statt)\b))")
_AND = re.compile(r"(?<!\w)und(?!\w)")
_COMMA_AND = re.compile(r"[,\s](?:(?<=,)|(?<=\s)und\b)")
# "nach" closing the clause: the prefix of "nachkommen", "nachreisen" (some arrive later)
_LATER = re.compile(r"\W*nach\W*$")
_ASKED_FOR = re.compile(r"(?<!\w)für\s+(?:den\s+|die\s+)?$")
_DIGIT = re.compile(r"\d")
_NEXT = re.compile(r"n(?:ä|ae)chste")  # not "kommenden": that is the one ahead
_WHOLE = re.compile("ganz|komplett|gesamt")
_DASHES = (("–", "-"), ("—", "-"), ("‑", "-"), ("‐", "-"), ("−", "-"), ("\u00a0", " "))


def _plain_dashes(text: str) -> str:
    """Dashes as "-" and no-break spaces as " " (str.replace is much faster than translate)."""
    if text.isascii():
        return text
    for dash, plain in _DASHES:
        if dash in text:
            text = text.replace(dash, plain)
    return text


# "3-7", "3 bis 7", "29 to Feb 1": days side by side, as a range written month first has them
# ("Aug 3-7", "Jan 29 to Feb 1")
_DAY_RANGE = re.compile(r"\d(?:st|nd|rd|th)?\s*(?:-|bis|to|until)\s*(?:[a-zä]{3,9}\.?\s*)?\d")
# words that label a number as a phone, account or reference number
_LABELS = re.compile(r"tel|fon|mobil|handy|fax|phone|mob|nr|no|nummer|kto|iban|plz")


def _context_ok(masked: str, start: int, end: int, vocab: Vocabulary, single: bool) -> bool:
    """False when the words around a date say it is not the stay (birthday, deadline, old)."""
    left = masked[max(0, start - 40):start]
    right = masked[end:end + 30]
    if vocab.instead_left.search(left) and vocab.instead_right.match(masked, end, end + 60):
        return False  # "nicht am 5., sondern am 12."
    if left.endswith("(") or left.endswith("( "):  # "unser Sommer im Haus (12.–19.7.)"
        left = left[:left.rindex("(")]  # a day in brackets belongs to the words before them
    left = _CLAUSE_LEFT.split(left)[-1]
    right = _CLAUSE_RIGHT.split(right, maxsplit=1)[0]
    if vocab.exclude_before.search(left):
        return False
    if vocab.past.search(_AND.split(left)[-1]) or vocab.past.search(right):
        return False  # "im Mai waren wir vom 3. bis 5. da"
    if _ASKED_FOR.search(left):
        return True  # "ich hab für den 3.-7.8. angefragt": the stay asked for
    if _PERFECT_LEFT.search(left) and _PERFECT_RIGHT.match(right):
        return False  # "Tims Oma ist am Wochenende gestorben": what happened, no stay
    if _LATER.match(right):
        return False  # "die beiden kommen erst am Dienstag nach": some come later
    near_left = _COMMA_AND.split(left)[-1]
    if not single:
        near_left = near_left[-16:]
        right = right[:12]
    return not (vocab.exclude_near.search(near_left) or vocab.exclude_near.search(right)
                or vocab.elsewhere.search(right))


# The perfect tense around a day: an auxiliary after a word of its clause (not a question's
# "Ist das Haus am 5. frei?") and a participle closing it ("… ist am Wochenende gestorben").
_PERFECT_LEFT = re.compile(r"\w\s+(?:ist|sind|bin|bist|hat|haben|habe|hast)\s+(?:\w+\s+){0,3}$")
_PERFECT_RIGHT = re.compile(r"\s*(?:\w+\s+){0,2}(?:ge|ver|be|er|ent|zer)\w{2,}(?:en|t)"
                            r"(?:\s+(?:worden|gewesen))?\s*$")


def _not_stay_after(text: str, end: int, vocab: Vocabulary) -> bool:
    """The words right after a holiday say it is no stay (spent elsewhere, past), or not the
    one meant: "…buchung stornieren, Fronleichnam bleibt aber bestehen"."""
    right = _CLAUSE_RIGHT.split(text[end:end + 30], maxsplit=1)[0]
    return vocab.elsewhere.search(right) is not None or vocab.past.search(right) is not None \
        or _KEPT.match(right) is not None


_KEPT = re.compile(r"\s*bleibt(?!\w)")
# an edit that keeps one end as it was: "Abreise bleibt wie gehabt", "Anreise wie geplant"
# (not "die Abreise bleibt der 9.8.": that names the day)
_KEPT_WORDS = (r"(?:\s+(?:aber|ja|so|dann|also))?\s+(?:bleibt|wie\s+gehabt|wie\s+geplant|unverändert)"
               r"(?!\w)(?![^.!?\n]{0,20}\d)")
_KEPT_END = re.compile(rf"(?<!\w)(?:abreise|abfahrt|rückreise|heimreise)(?:tag|datum)?{_KEPT_WORDS}")
_KEPT_START = re.compile(rf"(?<!\w)(?:anreise|ankunft)(?:stag|datum)?{_KEPT_WORDS}")


def _tokens(text: str, pats: _Patterns, vocab: Vocabulary) -> list[_Token]:
    found: list[_Token] = []
    covered = 0  # the end of a range written month first ("Aug 3-7")
    firsts = [m for m in pats.month_first.finditer(text)
              if not (m.start() and text[m.start() - 1].isalnum())] \
        if _DAY_RANGE.search(text) else []
    matches = sorted([*pats.tokens.finditer(text), *firsts], key=lambda m: m.start()) \
        if firsts else pats.tokens.finditer(text)
    for m in matches:
        if m.start() < covered:
            continue
        g = m.groupdict()
        f = g.get("f", "")
        if g.get("fm") is not None:
            first_month = vocab.months.get(g["fm"])
            if first_month is None:
                continue
            found.append(_Token(m.start(), m.end(), int(g["fd"]), first_month, None))
            tok = _Token(m.start("fd2"), m.end("fd2"), int(g["fd2"]),
                         vocab.months.get(g["fm2"]) if g["fm2"] else None, None)
            covered = m.end("fd2")
        elif g["iy"] is not None:
            tok = _Token(m.start(), m.end(), int(g["id"]), int(g["im"]), int(f + g["iy"]))
        elif g["sd"] is not None:
            slash_year = int(g["sy"])
            tok = _Token(m.start(), m.end(), int(f + g["sd"]), int(g["sm"]),
                         slash_year + 2000 if slash_year < 100 else slash_year)
        elif g["pd"] is not None:
            tok = _Token(m.start(), m.end(), int(f + g["pd"]), int(g["pm"]), None)
        elif g["nd"] is not None:
            year = g["ny"] or g["ny2"]
            y = int(year) if year else None
            if y is not None and y < 100:
                y += 2000
            tok = _Token(m.start(), m.end(), int(f + g["nd"]), int(g["nm"]), y)
        elif g["wd"] is not None:
            month = vocab.months.get(re.sub(r"\s+", " ", g["wm"]))
            if month is None:
                continue
            tok = _Token(m.start(), m.end(), int(f + g["wd"]), month,
                         int(g["wy"]) if g["wy"] else None)
        else:
            if pats.count.search(text, max(0, m.start() - 20), m.start()):
                continue  # "wir wären 4.": a count at the end of a sentence
            tok = _Token(m.start(), m.end(), int(f + (g["dd"] or g["bd"] or "")), None, None)
        if not 1 <= tok.day <= 31 or (tok.month is not None and not 1 <= tok.month <= 12):
            continue
        found.append(tok)
    return found


def _monday(d: date) -> date:
    return d - timedelta(days=d.weekday())


def _week_offset(word: str | None, vocab: Vocabulary) -> int | None:
    if not word:
        return None
    w = word.lower()
    if w in vocab.relative["after_next"]:
        return 2
    if w in vocab.relative["next"]:
        return 1
    if w in vocab.relative["this"]:
        return 0
    return None


def _next_weekday(today: date, weekday: int, strictly_after: bool = True) -> date:
    ahead = (weekday - today.weekday()) % 7
    if ahead == 0 and strictly_after:
        ahead = 7
    return today + timedelta(days=ahead)


def _previous_weekday(day: date, weekday: int) -> date:
    """The last such weekday strictly before `day`."""
    return day - timedelta(days=(day.weekday() - weekday) % 7 or 7)


# The combinators of the date grammar: each joins typed pieces into days.

def intersect_week(monday: date, first: int, last: int) -> tuple[date, date]:
    """A weekday span inside a week: KW 23 ∩ "Dienstag bis Freitag" = Tue–Fri of that week."""
    start = monday + timedelta(days=first)
    return start, start + timedelta(days=(last - first) % 7 or 7)  # "Samstag bis Samstag"


def interval(first: date, last: date) -> tuple[date, date] | None:
    """From one day to another; a last day before the first is the next year's ("28.12. bis
    2.1."); more than 400 days is no stay."""
    if last < first and last.replace(year=last.year + 1) >= first:
        last = last.replace(year=last.year + 1)
    if first <= last and (last - first).days <= 400:
        return first, last
    return None


def duration(start: date, days: int) -> tuple[date, date]:
    """A day and a length in days after it ("ab dem 2. für eine Woche" = start + 7)."""
    return start, start + timedelta(days=days)


def shift_weeks(today: date, weeks: int) -> date:
    """The Monday of the week `weeks` weeks after today's ("in drei Wochen")."""
    return _monday(today) + timedelta(days=7 * weeks)


def week_number(number: int, today: date) -> date | None:
    """The Monday of ISO week `number`, its next occurrence from today's week on ("KW 23")."""
    year = today.year if number >= today.isocalendar().week else today.year + 1
    try:
        return date.fromisocalendar(year, number, 1)
    except ValueError:
        return None


def until_weekday(start: date, weekday: int) -> date:
    """From a day to the next such weekday after it ("ab Samstag, dem 12. Juni, bis Dienstag")."""
    return start + timedelta(days=(weekday - start.weekday()) % 7 or 7)


def month_offset(today: date, months: int) -> int:
    """The month `months` after today's ("nächsten Monat" = 1)."""
    return (today.month - 1 + months) % 12 + 1


@dataclass(frozen=True)
class _Anchor:
    """A week that a weekday span may lie in: a week number, an offset, a holiday."""

    pos: int
    monday: date
    kind: str  # "week_number", "offset", "relative", "holiday"
    days: tuple[date, date] | None = None  # a holiday's own days


_ANCHOR_ORDER = ("week_number", "holiday", "offset", "relative")


def _week_numbers(text: str, today: date, pats: _Patterns) -> tuple[str, list[_Anchor]]:
    """The week numbers in `text` ("KW 23"), and `text` without them (no day "23.")."""
    if "kw" not in text and "kalenderwoche" not in text:
        return text, []
    found = []
    for m in pats.week_number.finditer(text):
        monday = week_number(int(m.group("n") or m.group("m")), today)
        if monday is not None:
            found.append(_Anchor(m.start(), monday, "week_number"))
    return (pats.week_number.sub(_spaces, text) if found else text), found


def _week_anchors(text: str, today: date, pats: _Patterns, vocab: Vocabulary,
                  holidays: list[_Candidate], numbers: list[_Anchor]) -> list[_Anchor]:
    found = [_Anchor(c.pos, _monday(c.start), "holiday", (c.start, c.end or c.start))
             for c in holidays if c.kind == "named" and c.start is not None] + numbers
    if "woche" in text:
        for m in pats.in_weeks.finditer(text):
            n = int(m.group("d")) if m.group("d") else vocab.number_words.get(m.group("w"), 0)
            if 0 < n <= 60:
                found.append(_Anchor(m.start(), shift_weeks(today, n), "offset"))
        for m in pats.week.finditer(text):
            offset = _week_offset(m.group("rel"), vocab)
            if offset is not None:
                found.append(_Anchor(m.start(), shift_weeks(today, offset), "relative"))
    return found


_SENTENCE_BREAK = re.compile(r"[.!?\n]")
_FALLBACK = re.compile(r"(?<!\w)(?:oder|sonst|ansonsten|notfalls|alternativ|zur\s+not)(?!\w)")


def _ends_stay(holiday: _Candidate, first: _Candidate, masked: str) -> bool:
    """A holiday after the first written day that ends the stay: "… bis Ostermontag", "am
    14. Mai kommen und am Pfingstmontag wieder fahren" (in its sentence, on a later day: not
    "am 3. Oktober (Tag der Deutschen Einheit)")."""
    if holiday.pos < first.pos or holiday.start is None or first.start is None:
        return False
    return holiday.lead == "bis" or holiday.lead == "am" and first.start < holiday.start and \
        _SENTENCE_BREAK.search(masked, first.pos, holiday.pos) is None


def _week_holding(anchor: _Anchor, first: int, last: int) -> date:
    """The Monday of the week whose span from weekday `first` to `last` holds a day of the
    holiday `anchor`: "übers Allerheiligen-Wochenende (Mo 1.11.2027), Samstag bis Montag" =
    30.10.–01.11., the Saturday of the week before; else the anchor's own week."""
    if anchor.days is not None:
        for weeks in (0, -1, 1):
            monday = anchor.monday + timedelta(days=7 * weeks)
            start, end = intersect_week(monday, first, last)
            if start <= anchor.days[1] and anchor.days[0] <= end:
                return monday
    return anchor.monday


def _weekend_of(day: date) -> tuple[date, date]:
    """A one-day holiday's long weekend: from the Saturday before a Monday or Tuesday, to the
    Sunday after a Wednesday to Friday, the Saturday and Sunday of a weekend day."""
    weekday = day.weekday()
    if weekday >= 5:
        return _monday(day) + timedelta(days=5), _monday(day) + timedelta(days=6)
    if weekday <= 1:
        return day - timedelta(days=weekday + 2), day
    return day, day + timedelta(days=6 - weekday)


def _only_week(anchors: list[_Anchor]) -> list[_Anchor]:
    """The one holiday or week number of the whole text, for a weekday span in a sentence of
    its own ("Ist das Haus über Ostern frei? Wir würden gern von Samstag bis Montag bleiben.")."""
    named = [a for a in anchors if a.kind in ("holiday", "week_number")]
    return named if len({a.monday for a in named}) == 1 and len(named) == len(anchors) else []


def _several_weeks(anchors: list[_Anchor]) -> bool:
    return len({a.monday for a in anchors if a.kind in ("holiday", "week_number")}) > 1


def _sentence(anchors: list[_Anchor], text: str, start: int, end: int) -> list[_Anchor]:
    """The anchors in the sentence from `start` to `end`, the strongest first."""
    if not anchors:
        return []
    left = max((m.end() for m in _SENTENCE_BREAK.finditer(text, 0, start)), default=0)
    right = _SENTENCE_BREAK.search(text, end)
    stop = right.start() if right else len(text)
    near = [a for a in anchors if left <= a.pos < stop]
    return sorted(near, key=lambda a: _ANCHOR_ORDER.index(a.kind))


def _holiday_days(holiday: Holiday, year: str | None, today: date) -> tuple[date, date]:
    """A holiday's days in the year written, else its next occurrence."""
    if year:
        return holiday_range(holiday, int(year))
    first, last = holiday_range(holiday, today.year)
    if last < today:
        first, last = holiday_range(holiday, today.year + 1)
    return first, last


def _unread(masked: str, stay: Stay, today: date, pats: _Patterns, vocab: Vocabulary,
            numbers: list[_Anchor], others: Iterable[_Candidate] = ()) -> Stay:
    """`stay`, marked unsure when the text names a time the reading left unread: a week, a
    holiday, a month, a weekday or another written day that lies outside it ("KW 23 … vom 3.
    bis 5. Juli", "über Ostern … vom 3. bis 5. Juli", "am 28.6. … vom 3. bis 5. Juli", "im
    August … vom 3. bis 5. Juli", "von Fronleichnam bis Sonntag" read as the Thursday), or
    another first or last day ("ab dem 1. Oktober bin ich Rentner … eine Woche ab Montag, dem
    4. Oktober")."""
    if stay.start is None or stay.end is None or stay.unsure:
        return stay
    near = (stay.start - timedelta(days=1), stay.end + timedelta(days=1))
    weeks = [(a.monday, a.monday + timedelta(days=6)) for a in numbers]
    for c in others:
        if c.start is None:
            continue
        weeks.append((c.start, c.start))
        if c.lead in _FIRST_LEADS and c.start != stay.start or \
                c.lead in _LAST_LEADS and c.start != stay.end:
            return _doubted(stay)  # two first days, or two last days
    vague: list[tuple[int, int]] = []  # found when first needed

    def read(m: re.Match[str], name: str) -> bool:
        """The time word is no stay: in a vague phrase ("nach Ostern"), a past clause
        ("Ostern waren wir schon da"), someone's deadline ("bis Freitag einreichen")."""
        if not vague:
            vague.extend([m.span() for m in vocab.vague.finditer(masked)] or [(-1, -1)])
        return any(a <= m.start(name) < b for a, b in vague) or \
            not _context_ok(masked, m.start(name), m.end(name), vocab, single=True)

    if pats.holiday_stems.search(masked):
        for m in pats.holiday.finditer(masked):
            holiday = vocab.holiday_names.get(re.sub(r"\s+", " ", m.group("name")))
            if holiday is not None and not read(m, "name"):
                weeks.append(_holiday_days(holiday, m.group("year"), today))
    if any(last < near[0] or first > near[1] for first, last in weeks):
        return _doubted(stay)
    days = [near[0] + timedelta(days=k) for k in range((near[1] - near[0]).days + 1)]
    months = {d.month for d in days} if len(days) < 40 else set(range(1, 13))
    for m in pats.month_word.finditer(masked) if len(months) < 12 else ():
        if vocab.months[m.group("m")] not in months and not read(m, "m"):
            return _doubted(stay)  # "im August … vom 3. bis 5. Juli"
    weekdays = {d.weekday() for d in days} if len(days) < 9 else set(range(7))
    for m in pats.weekday_word.finditer(masked) if len(weekdays) < 7 else ():
        if vocab.weekdays[m.group("w")] not in weekdays and not read(m, "w"):
            return _doubted(stay)  # "von Fronleichnam bis Sonntag" read as the Thursday
    spans = len(weekdays) < 7 and ("-" in masked or "bis" in masked)
    for m in pats.weekday_range.finditer(masked) if spans else ():
        if {vocab.weekdays[m.group("w1")], vocab.weekdays[m.group("w2")]} - weekdays and \
                not read(m, "w1"):
            return _doubted(stay)  # "über Himmelfahrt (Do bis So)" read as the Thursday
    return stay


_FIRST_LEADS = ("ab", "von", "vom", "anreise", "ankunft")
_LAST_LEADS = ("bis", "abreise", "abfahrt")


def _doubted(stay: Stay) -> Stay:
    return Stay(stay.start, stay.end, stay.vague, stay.single, unsure=True)


def _guessed(guess: bool, stay: Stay) -> Stay:
    """`stay`, unsure when one of its days was written without a month that anything in the
    text gives ("ab dem 5." in a new mail: this month's 5th, or the next?)."""
    return _doubted(stay) if guess and stay.found else stay


def _named(text: str, today: date, pats: _Patterns, vocab: Vocabulary,
           vague: list[tuple[int, int]], numbers: list[_Anchor]) -> list[_Candidate]:
    """Holidays, whole months, weekends and weekday ranges ("kommenden Freitag bis Sonntag")."""
    found: list[_Candidate] = []
    holidays = pats.holiday.finditer(text) if pats.holiday_stems.search(text) else ()
    for m in holidays:
        holiday = vocab.holiday_names.get(re.sub(r"\s+", " ", m.group("name").lower()))
        if holiday is None:
            continue
        if any(a <= m.start("name") < b for a, b in vague):
            continue  # "zwischen Weihnachten und Neujahr", "die Woche nach Ostern"
        if _not_stay_after(text, m.end("name"), vocab):
            continue  # "Heiligabend sind wir bei Vanessas Eltern", "Ostern waren wir da"
        first, last = _holiday_days(holiday, m.group("year"), today)
        unsure = False
        if m.group("weekend") and first == last:
            # "übers Allerheiligen-Wochenende": the weekend the day lies in or next to; which
            # days is asked unless a weekday span says them ("…, Samstag bis Montag")
            first, last = _weekend_of(first)
            unsure = True
        until = pats.until_weekday.match(text, m.end())
        if until:
            # "von Fronleichnam bis Sonntag": from the holiday to the next such weekday
            weekday = vocab.weekdays[until.group("w").lower()]
            last = first + timedelta(days=(weekday - first.weekday()) % 7)
        lead = pats.lead.search(text, max(0, m.start("name") - 30), m.start("name"))
        if lead and lead.group("lead") == "bis" and found and found[-1].kind == "named" \
                and found[-1].start is not None and found[-1].start < first \
                and "#" not in text[found[-1].pos:m.start()]:
            # "am 2. Weihnachtsfeiertag anreisen und bis Neujahr bleiben": one stay (not
            # "über Ostern, ab dem 24. März, bis Ostermontag": the written day starts it)
            found[-1] = _Candidate(found[-1].pos, found[-1].start, last, "named", found[-1].lead)
            continue
        found.append(_Candidate(m.start(), first, last, "named",
                                lead.group("lead") if lead else "", unsure=unsure))
    if holidays:
        found += _weekdays_by_holiday(text, today, pats, vocab)
    wholes = pats.whole_month.finditer(text) if _WHOLE.search(text) else ()
    for m in wholes:
        month = vocab.months[m.group("m1") or m.group("m2")]
        year = today.year if month >= today.month else today.year + 1
        following = date(year + month // 12, month % 12 + 1, 1)
        found.append(_Candidate(m.start(), date(year, month, 1),
                                following - timedelta(days=1), "named"))
    anchors = _week_anchors(text, today, pats, vocab, found, numbers)
    ranges = pats.weekday_range.finditer(text) if "-" in text or "bis" in text else ()
    used: set[int] = set()
    for m in ranges:
        w1 = vocab.weekdays[m.group("w1").lower()]
        w2 = vocab.weekdays[m.group("w2").lower()]
        offset = _week_offset(m.group("rel"), vocab)
        near = _sentence(anchors, text, m.start(), m.end()) or _only_week(anchors)
        if not near and offset is None and _several_weeks(anchors):
            # "am liebsten KW 31, sonst KW 32. Samstag bis Samstag": which week? Asked.
            found.append(_Candidate(m.start(), None, None, "unplaced"))
            continue
        # "nächste Woche … Himmelfahrt": which week? "in drei Wochen": the week three weeks
        # on (18.–20.12. from Monday 23.11.), or the third weekend (11.–13.12.)? People differ.
        unsure = len({a.monday for a in near}) > 1 or bool(near) and near[0].kind == "offset"
        if offset is not None and "woche" in m.group(0).lower():
            monday: date | None = _monday(today) + timedelta(days=7 * offset)
        elif near:
            monday = _week_holding(near[0], w1, w2)
            used.update(a.pos for a in near if a.kind == "holiday")
        else:
            monday = None
        if monday is not None:
            start, end = intersect_week(monday, w1, w2)
        else:
            start = _next_weekday(today, w1)
            if offset == 2:
                start += timedelta(days=7)
            # "nächsten Freitag bis Sonntag" said on a Monday: this week's, or next week's?
            unsure = unsure or (_NEXT.match(m.group("rel") or "") is not None
                                and start < _monday(today) + timedelta(days=7))
            end = start + timedelta(days=(w2 - w1) % 7 or 7)
        found.append(_Candidate(m.start(), start, end, "named", unsure=unsure))
    if used:  # a holiday that only placed a weekday span is not a stay of its own
        found = [c for c in found if c.pos not in used]
    found.sort(key=lambda c: c.pos)  # in the order written: the span placed by a holiday first
    weekends = pats.weekend.finditer(text) if "wochenende" in text else ()
    for m in weekends:
        if not _context_ok(text, m.start(), m.end(), vocab, single=True):
            continue  # "Tims Oma ist am Wochenende gestorben"
        offset = _week_offset(m.group("rel"), vocab)
        saturday = _next_weekday(today, 5, strictly_after=False)
        if offset == 1 and saturday == today:
            saturday += timedelta(days=7)
        if offset == 2:
            saturday += timedelta(days=7)
        if any(m.end() <= a <= m.end() + 2 for a, _ in vague):
            continue  # "am Wochenende nach Ostern"
        week = [a for a in _sentence(anchors, text, m.start(), m.end())
                if a.kind in ("week_number", "offset")]
        unsure = False
        if offset is None and week:  # "in drei Wochen am Wochenende", "KW 23 übers Wochenende"
            saturday = intersect_week(week[0].monday, 5, 6)[0]
            unsure = week[0].kind == "offset"  # the weekend three weeks on, or the third?
        found.append(_Candidate(m.start(), saturday, saturday + timedelta(days=1), "weekend",
                                unsure=unsure))
    return found


def _weekdays_by_holiday(text: str, today: date, pats: _Patterns,
                         vocab: Vocabulary) -> list[_Candidate]:
    """"vom Sonntag nach Ostern (bis Mittwoch)": the first such weekday after the holiday's days
    (Weißer Sonntag), or the last before them. Some read the holiday's own Sunday: asked."""
    found = []
    for m in pats.weekday_by_holiday.finditer(text):
        holiday = vocab.holiday_names.get(re.sub(r"\s+", " ", m.group("name")))
        if holiday is None:
            continue
        first, last = _holiday_days(holiday, None, today)
        weekday = vocab.weekdays[m.group("w")]
        day = _next_weekday(last, weekday) if m.group("dir") == "nach" \
            else _previous_weekday(first, weekday)
        until = pats.until_weekday.match(text, m.end())
        end = until_weekday(day, vocab.weekdays[until.group("w")]) if until else day
        found.append(_Candidate(m.start(), day, end, "named", m.group("lead") or "",
                                unsure=True))
    return found


def _relative_singles(text: str, today: date, pats: _Patterns,
                      vocab: Vocabulary) -> list[_Candidate]:
    found: list[_Candidate] = []
    for m in pats.weekday_single.finditer(text):
        if not _context_ok(text, m.start(), m.end(), vocab, single=True):
            continue  # "bis Freitag meinen Urlaub einreichen"
        rel = m.group("rel").lower()
        w1 = vocab.weekdays[m.group("w1").lower()]
        offset = _week_offset(rel, vocab)
        near = pats.week.search(text[max(0, m.start() - 25):m.end() + 25])
        if near and offset is None:
            week = _week_offset(near.group("rel"), vocab) or 0
            day = _monday(today) + timedelta(days=7 * week + w1)
        else:
            day = _next_weekday(today, w1)
            if offset == 2:
                day += timedelta(days=7)
        lead = "bis" if _departs(text, m.end()) else rel if rel in ("ab", "bis", "am") else ""
        found.append(_Candidate(m.start(), day, day, "single", lead, weekday=w1))
    day_words = pats.day_word.finditer(text) if "morgen" in text or "heute" in text else ()
    for m in day_words:
        w = m.group("w").lower()
        if w in vocab.relative["day_after_tomorrow"]:
            day = today + timedelta(days=2)
        elif w in vocab.relative["tomorrow"]:
            day = today + timedelta(days=1)
        else:
            day = today
        lead = m.group("lead").lower()
        found.append(_Candidate(m.start(), day, day, "single",
                                "ab" if lead in ("von", "schon", "gleich") else lead))
    return found


_FULL_STOP = re.compile(r"[.!?](?=\s)|\n\s*\n")  # a sentence end, not a wrapped line


def _of_length(singles: list[_Candidate], masked: str, pats: _Patterns) -> _Candidate | None:
    """The one single day in the sentence of the length ("… mit einer Woche im Haus, ab
    Montag, dem 4. Oktober"), if the length has a sentence of its own with one day in it."""
    m = pats.duration.search(masked) if pats.unit.search(masked) else None
    if m is None:
        return None
    left = max((b.end() for b in _FULL_STOP.finditer(masked, 0, m.start())), default=0)
    right = _FULL_STOP.search(masked, m.end())
    stop = right.start() if right else len(masked)
    inside = [c for c in singles if left <= c.pos < stop]
    return inside[0] if len(inside) == 1 else None


def _duration_days(text: str, pats: _Patterns, vocab: Vocabulary) -> int | None:
    if not pats.unit.search(text):  # (the duration pattern looks back six ways everywhere)
        return None
    for m in pats.duration.finditer(text):
        count = int(m.group("n")) if m.group("n") else vocab.number_words.get(
            m.group("w").lower(), 0) if m.group("w") else 1  # "for a week"
        if not 0 < count <= 60:
            continue
        unit = vocab.duration_units[m.group("unit").lower()]
        if unit == "nights":
            return count
        if unit == "days":
            return count - 1
        if unit == "weeks":
            return 7 * count
        if unit == "weekend":
            return 1
    return None


# Our own subjects write a stay one way (outbound/render.py date_range): "01.–05.08.2026",
# "28.07.–02.08.2026", "30.12.2026–02.01.2027", "05.08.2026".
_OUR_RANGE = re.compile(
    r"\((\d{2})\.(?:(\d{2})\.(?:(\d{4}))?)?(?:[–-](\d{2})\.(\d{2})\.(\d{4}))?\)")


def subject_stay(subject: str, today: date, vocab: Vocabulary) -> Stay:
    """The stay in one of our subjects ("Anfrage erhalten (01.–05.08.2027)"), read directly;
    any other subject through `find_stay`."""
    m = _OUR_RANGE.search(subject)
    if m:
        d1, m1, y1, d2, m2, y2 = m.groups()
        try:
            if d2 is None and m1 and y1:  # "(05.08.2026)"
                day = date(int(y1), int(m1), int(d1))
                return Stay(day, day)
            if d2 is not None:
                end = date(int(y2), int(m2), int(d2))
                start = date(int(y1 or y2), int(m1 or m2), int(d1))
                if start <= end:
                    return Stay(start, end)
        except ValueError:
            pass
    return find_stay(subject, today, vocab)


_DEPART = re.compile(r"abreis|abfahr|heimfahr|heimreis|zurückfahr|fahren\s+wieder|wieder\s+fahren"
                     r"|(?:früher|eher)\s+(?:heim|ab|los|weg)?fahren")
# after the day: a verb of leaving, not the noun ("am 3.1. Die Abreise bleibt"), or "heim"
# ("wir fahren doch schon am 7.1. heim")
_DEPARTS_AFTER = re.compile(r"abreis(?!e(?!\w))|abfahr(?!t(?!\w))|heimfahr"
                            r"|heimreis|zurückfahr|fahren\s+wieder|wieder\s+fahren|(?<!\w)heim(?!\w)")


def _departs(text: str, end: int) -> bool:
    """A departure verb after a day in its clause ("erst am Dienstag abreisen statt am Montag"):
    the day is the last of the stay."""
    return _DEPARTS_AFTER.search(_CLAUSE_RIGHT.split(text[end:end + 30], maxsplit=1)[0]) is not None


def _near_booking(single: _Candidate, around: tuple[date, date]) -> _Candidate:
    """A weekday in an edit, as the day of that weekday nearest to the booking's first day
    ("doch schon ab Donnerstag") or, after "bis", to its last day ("bis Sonntag verlängern")."""
    if single.weekday is None:
        return single
    anchor = around[1] if single.lead == "bis" else around[0]
    ahead = (single.weekday - anchor.weekday()) % 7
    day = anchor + timedelta(days=ahead if ahead <= 3 else ahead - 7)
    return _Candidate(single.pos, day, day, "single", single.lead, weekday=single.weekday)


def _weekday_span(first: _Candidate, masked: str, today: date, pats: _Patterns,
                  vocab: Vocabulary) -> Stay | None:
    """A stay given as a written day and a weekday in its sentence: "am Freitag, den 4.6., und
    fahren am Sonntag wieder" (interval to the weekday), "über den 1. Mai, also Samstag bis
    Montag", "das Wochenende um den 3. Oktober (Fr–So)" (the span in the day's week). A
    weekday that no "bis" and no coming or going in its clause makes the last day is asked
    about ("am 3. Januar, Claudia muss am Samstag noch arbeiten")."""
    assert first.start is not None
    stop = _SENTENCE_BREAK.search(masked, first.pos)
    end = stop.start() if stop else len(masked)
    for m in pats.weekday_range.finditer(masked, first.pos, end):
        w1, w2 = vocab.weekdays[m.group("w1")], vocab.weekdays[m.group("w2")]
        if m.group("rel"):
            continue
        span = intersect_week(_monday(first.start), w1, w2)
        if w1 == first.start.weekday():
            return Stay(*span)
        if span[0] <= first.start <= span[1]:
            return Stay(*span)
    for c in _relative_singles(masked[:end], today, pats, vocab):
        if c.pos > first.pos and c.weekday == first.start.weekday() and c.lead == "bis":
            # "am 4. Juli (a Sunday) kommen und bis Sonntag bleiben": a week, or a wrong day?
            return Stay(first.start, until_weekday(first.start, c.weekday), unsure=True)
        if c.pos > first.pos and c.weekday is not None and c.lead in ("am", "bis") and \
                c.weekday != first.start.weekday():
            left = max((m.end() for m in _CLAUSE.finditer(masked, 0, c.pos)), default=0)
            right = _CLAUSE.search(masked, c.pos)
            clause = masked[left:right.start() if right else len(masked)]
            return Stay(first.start, until_weekday(first.start, c.weekday),
                        unsure=c.lead != "bis" and _STAYS.search(clause) is None)
    return None


# a clause: up to a comma, a dash or a sentence end; words that say someone comes or goes
_CLAUSE = re.compile(r"[,;.!?\n]|\s[-–]\s")
_STAYS = re.compile(r"(?<!\w)(?:\w*(?:fahr|reis|komm|kemm|kumm|bleib)\w*|heim|zurück|wieder|da)(?!\w)")


def find_stay(text: str, today: date, vocab: Vocabulary, *, newest: bool = False,
              partial: bool = False, around: tuple[date, date] | None = None) -> Stay:
    """The stay named in `text`.

    newest: an edit names the old stay first and the new one last ("von … auf …").
    partial: an edit may name only a new first day ("doch erst ab dem 5.") or last day.
    around: the booking an edit changes; weekdays are read next to its days.
    """
    if "WE" in text:
        text = _WEEKEND_SHORT.sub("Wochenende", text)
    stay = _find_stay(text, today, vocab, newest, partial, around)
    if partial and stay.found and ("bleibt" in text or "wie g" in text or "unver" in text):
        folded = fold(text)  # "Abreise bleibt wie gehabt": that end is not changed
        if _KEPT_END.search(folded):
            stay = replace(stay, end=None)
        if _KEPT_START.search(folded):
            stay = replace(stay, start=None)
        if not stay.found:
            return Stay()
    if around is not None and (stay.start, stay.end) == around:
        return Stay()  # "also sind wir an Ostern zu acht": the booking named, no new days
    if stay.found and not stay.unsure and _ROUGHLY_HINT.search(fold(text)):
        _, _, _, masked = _prepare(text, today, vocab)
        if _ROUGHLY.search(masked):  # "nach dem 10. Juli", "um den 10. herum", "am 10. oder 11."
            return Stay(stay.start, stay.end, stay.vague, stay.single, unsure=True)
    return stay


# "WE", in capitals only (not the English "we"): the weekend ("nächstes WE", "in 2 wochen am WE")
_WEEKEND_SHORT = re.compile(r"(?<![\w-])WE(?![\w-])")

# Words that make a written day only roughly the stay; the reading is kept and asked about.
_ROUGHLY_HINT = re.compile(r"(?<!\w)(?:nach\s+dem|um\s+den|ca\b|circa|etwa|ungefähr|gegen|"
                           r"zwischen|eventuell|evtl|oder|herum)(?!\w)")
_ROUGHLY = re.compile(
    r"(?<!\w)(?:(?<!wochenende )nach\s+dem|um\s+den|rund\s+um\s+den|so\s+um\s+den|ca\.?|circa|etwa|ungefähr|"
    r"gegen|irgendwann\s+zwischen|(?:eventuell|evtl\.?)\s+auch)\s+(?:(?:auch\s+)?(?:schon\s+)?"
    r"(?:am|ab|vom|von|den|dem)\s+)?#"
    r"|#[^.!?\n#]{0,12}(?<!\w)herum(?!\w)"
    r"|#[^.!?\n#]{0,8}(?<!\w)oder\s+(?:(?:am|vom|den)\s+)?#")


def _prepare(text: str, today: date, vocab: Vocabulary
             ) -> tuple[str, list[_Anchor], list[_Token], str]:
    """The text cleaned of numbers that are no dates, its week numbers, its written days,
    and the text with those days masked as "#"s."""
    pats = _patterns(vocab)
    clean = _plain_dashes(fold(text))
    if "@" in clean or "http" in clean or "www." in clean:
        clean = pats.web.sub(_spaces, clean)
    if _DIGIT.search(clean):
        clean = pats.noise.sub(_spaces, clean)
        if _LABELS.search(clean):
            clean = pats.labelled.sub(_spaces, clean)
    if pats.ordinal_stems.search(clean):
        clean = pats.ordinal.sub(lambda m: f"{vocab.ordinals[m.group('o')]}.".ljust(
            m.end() - m.start()), clean)
    clean, numbers = _week_numbers(clean, today, pats)
    toks = _tokens(clean, pats, vocab)
    if toks and "(" in clean and pats.holiday_stems.search(clean):
        toks = _unnamed(clean, toks, today, pats, vocab)
    return clean, numbers, toks, _mask(clean, toks)


_BRACKET = re.compile(r"\s*\(\s*")


def _unnamed(clean: str, toks: list[_Token], today: date, pats: _Patterns,
             vocab: Vocabulary) -> list[_Token]:
    """`toks` without a written day in brackets right after a holiday that falls on it: "bis
    zum Dreikönigstag (6.1.)" names the holiday's day, it is no day of its own."""
    drop: set[int] = set()
    for m in pats.holiday.finditer(clean):
        holiday = vocab.holiday_names.get(re.sub(r"\s+", " ", m.group("name")))
        bracket = _BRACKET.match(clean, m.end())
        if holiday is None or bracket is None:
            continue
        t = next((t for t in toks if t.pos == bracket.end()), None)
        if t is None or t.month is None or not clean[t.end_pos:].lstrip().startswith(")"):
            continue
        first, last = _holiday_days(holiday, m.group("year"), today)
        days = {(first + timedelta(days=k)).timetuple()[1:3] for k in range((last - first).days + 1)}
        if (t.month, t.day) in days:
            drop.add(t.pos)
    return [t for t in toks if t.pos not in drop] if drop else toks


def _weekend_by_day(masked: str, toks: list[_Token], today: date,
                    pats: _Patterns) -> tuple[date, date] | None:
    """"das Wochenende nach Opas Geburtstag am 3. Juni": the Saturday–Sunday after the written
    day (a day that is no stay itself), or before it ("das Wochenende vor dem 3. Juni")."""
    for m in pats.weekend_by_day.finditer(masked):
        t = next((t for t in toks if t.pos == m.start("day")), None)
        day = _resolve_single(t, today) if t is not None else None
        if day is None:
            continue
        if m.group("dir") == "nach":
            saturday = _next_weekday(day, 5)
        else:
            saturday = _previous_weekday(day, 6) - timedelta(days=1)
        return saturday, saturday + timedelta(days=1)
    return None


def _holds(outer: _Candidate, inner: _Candidate) -> bool:
    assert outer.start and outer.end and inner.start and inner.end
    return outer.start <= inner.start and inner.end <= outer.end and \
        (outer.start, outer.end) != (inner.start, inner.end)


_SAME_DAYS = re.compile(r"(?<!\w)(?:gleiche[nr]?|selbe[nr]?|dieselbe[nr]?|unveränderte[nr]?)\s+"
                        r"(?:daten|tage|termine?|zeitraum|datum)(?!\w)"
                        r"|(?<!\w)(?:daten|termine?|zeitraum)\s+(?:bleib\w*|wie\s+gehabt)(?!\w)")


def _corrects(masked: str, said: _Candidate, later: _Candidate, vocab: Vocabulary) -> bool:
    """A correction word between two single days takes back the first, if it is the day right
    before the word: "am 12. Juni anreisen und am 15. – nein Quatsch, am 16. Juni wieder
    fahren" takes back the 15. (a day without its month), not the 12. Juni."""
    m = vocab.correction.search(masked, said.pos, later.pos)
    if m is None:
        return False
    end = said.pos
    while end < m.start() and masked[end] == "#":
        end += 1
    return "#" not in masked[end:m.start()]


def _find_stay(text: str, today: date, vocab: Vocabulary, newest: bool, partial: bool,
               around: tuple[date, date] | None) -> Stay:
    pats = _patterns(vocab)
    clean, numbers, toks, masked = _prepare(text, today, vocab)
    if toks and all(t.month is None for t in toks):
        # "im August … vom 6. bis 9.": days without a month take the one month named
        months = {vocab.months[m.group("m")] for m in pats.month_word.finditer(masked)}
        offset = pats.month_offset.search(masked) if not months and "monat" in masked else None
        if offset:  # "nächsten Monat vom 4. bis 6."
            months = {month_offset(today, _week_offset(offset.group("rel"), vocab) or 0)}
        if len(months) == 1:
            month = months.pop()
            for t in toks:
                t.month = month

    candidates: list[_Candidate] = []
    used: set[int] = set()
    set_aside = 0  # ranges the words around them say are no stay (past, "statt", a birthday)
    i = 0
    while i < len(toks) - 1:
        a, b = toks[i], toks[i + 1]
        gap = clean[a.end_pos:b.pos]
        if (len(gap) <= 40 and pats.separator.match(gap)
                and (a.month is not None or b.month is not None)):
            pair = _resolve_pair(a, b, today)
            if pair and _context_ok(masked, a.pos, b.end_pos, vocab, single=False):
                candidates.append(_Candidate(a.pos, pair[0], pair[1], "range"))
                used.update((i, i + 1))
                i += 2
                continue
            set_aside += pair is not None
        i += 1
    has_month = any(t.month is not None for t in toks)
    for k, t in enumerate(toks):
        if k in used:
            continue
        lead_match = pats.lead.search(clean[max(0, t.pos - 30):t.pos])
        lead = lead_match.group("lead").lower() if lead_match else ""
        lead = "bis" if _departs(clean, t.end_pos) else lead  # "erst am 24.8. abreisen"
        before = toks[k - 1] if k else None
        if t.month is None and lead in ("bis", "zum") and before is not None and \
                before.month is not None and k - 1 not in used:
            # "am 3. Oktober … und bleiben bis zum 5.": the month of the day before
            t.month = before.month if t.day >= before.day else before.month % 12 + 1
            t.year = before.year if t.day >= before.day or before.year is None else before.year + 1
        if t.month is None and (has_month or lead not in ("ab", "am", "bis", "vom", "zum", "den",
                                                          "dem")):
            continue
        if not _context_ok(masked, t.pos, t.end_pos, vocab, single=True):
            continue
        # a day without a month that no booking places is this month's or the next: a guess
        guessed = t.month is None and around is None
        if t.month is None and around is not None:  # an edit's "doch erst ab dem 5."
            t.month, t.year = _month_near(t.day, around)
        day = _resolve_single(t, today)
        if day is None:
            continue
        until = pats.until_weekday.match(clean, t.end_pos) if lead != "bis" else None
        if until:  # "ab Samstag, dem 12. Juni, bis Dienstag"
            last = until_weekday(day, vocab.weekdays[until.group("w")])
            candidates.append(_Candidate(t.pos, day, last, "range", unsure=guessed))
        else:
            candidates.append(_Candidate(t.pos, day, day, "single", lead, unsure=guessed))

    ranges = [c for c in candidates if c.kind == "range"]
    # a range that holds another is their frame ("die Ferien gehen vom 2.8. bis 13.9. …, am
    # liebsten vom 16. bis 22. August"): the stay is the one inside
    ranges = [c for c in ranges if not any(_holds(c, o) for o in ranges)]
    if ranges:
        pick = ranges[-1] if newest else ranges[0]
        for later in ranges[1:]:
            if vocab.correction.search(masked, ranges[0].pos, later.pos):
                pick = later  # "… – Quatsch, ich mein vom 12. bis 15."
                break
        else:
            # a request naming several different stays ("3.–5. oder 10.–12. Juli"): which?
            if not newest and (len({(c.start, c.end) for c in ranges}) > 1 or set_aside):
                return Stay(pick.start, pick.end, unsure=True)
        # days told before "Deshalb dachten wir an …" are what the range weighed, not unread
        return _unread(masked, Stay(pick.start, pick.end), today, pats, vocab, numbers,
                       (c for c in candidates if c.kind == "single"
                        and not vocab.correction.search(masked, c.pos, pick.pos)))
    weekend = _weekend_by_day(masked, toks, today, pats) if "wochenende" in masked else None
    if weekend is not None:
        return Stay(*weekend)
    singles = [c for c in candidates if c.kind == "single"]
    vagues = list(vocab.vague.finditer(masked))
    named = _named(masked, today, pats, vocab, [m.span() for m in vagues], numbers)
    spans = [c for c in named if c.kind == "named"]
    if spans and not singles:
        # "Fronleichnam ist ja frei – wir würden gern von Fronleichnam bis Sonntag kommen": the
        # days the stay starts from; but "Pfingsten, oder falls das weg ist, von Fronleichnam
        # bis Sonntag" names a second choice: the first, asked about (as two written ranges are)
        wished = next((c for c in spans if c.lead in ("von", "vom", "ab")), spans[0])
        other = _FALLBACK.search(masked, spans[0].pos, wished.pos) is not None
        pick = spans[-1] if newest else spans[0] if other else wished
        length = _duration_days(masked, pats, vocab)
        if length is not None and pick.start == pick.end and pick.start is not None:
            return Stay(*duration(pick.start, length))  # "ab Ostermontag eine Woche"
        weekdays = _weekday_span(pick, masked, today, pats, vocab) \
            if pick.start == pick.end and not partial else None
        if weekdays is not None:  # "an Fronleichnam anreisen und bis Sonntag bleiben"
            return Stay(weekdays.start, weekdays.end, unsure=pick.unsure or weekdays.unsure)
        if not (partial and pick.start == pick.end):
            return _unread(masked, Stay(pick.start, pick.end,
                                        unsure=pick.unsure or other and not newest),
                           today, pats, vocab, numbers)
        # an edit's one-day holiday is one new end, like a written day ("doch erst am ersten
        # Weihnachtsfeiertag" → start)
        singles = [_Candidate(pick.pos, pick.start, pick.start, "single", pick.lead)]
    if not singles:
        # the days of a weekday span that no week places are no single days either
        placed = all(c.kind != "unplaced" for c in named)
        # "… kommen nur am Samstag zum Kaffee … Bitte nochmal aufmachen, gleiche Daten": the
        # days stay as they were; a weekday then belongs to the story, not to a new stay
        singles = _relative_singles(masked, today, pats, vocab) \
            if placed and not _SAME_DAYS.search(masked) else []
        if around is not None:  # "bis Sonntag verlängern": the Sunday next to the booking
            singles = [_near_booking(c, around) for c in singles]
        elif len(singles) == 1 and singles[0].lead not in ("ab", "bis"):
            # "am Samstag" alone: which Saturday, and is it the stay?
            singles = [replace(singles[0], unsure=True)]
    elif spans:  # a holiday next to a written day: one end of the stay each
        first = min(singles, key=lambda c: c.pos)
        singles += [_Candidate(c.pos, c.end, c.end, "single", "bis") for c in spans
                    if _ends_stay(c, first, masked)]
        starts = [c for c in spans if c.lead != "bis" and c.pos < first.pos and first.lead == "bis"]
        # "(über Weihnachten:) am 1. Weihnachtsfeiertag anreisen und bis zum 28. Dezember
        # bleiben": the holiday nearest before that day starts the stay
        singles += [_Candidate(c.pos, c.start, c.start, "single", "am") for c in starts[-1:]]
    singles.sort(key=lambda c: c.pos)
    corrected = {k for k in range(len(singles) - 1)
                 if _corrects(masked, singles[k], singles[k + 1], vocab)}
    if corrected:  # "am 12. April - nein Quatsch, am 11. April"
        singles = [c for k, c in enumerate(singles) if k not in corrected]
    # the same written day twice (the subject "Wochenende um den 3. Oktober" and the body) is
    # one day
    singles = [c for k, c in enumerate(singles)
               if c.weekday is not None or not any(o.weekday is None and o.start == c.start
                                                   for o in singles[:k])]
    length = _duration_days(masked, pats, vocab)
    if singles:
        first = singles[0]
        assert first.start is not None
        doubt = any(c.unsure for c in singles[:2])
        if len(singles) >= 2 and length is None:
            second = singles[1]
            assert second.start is not None
            # a weekday before the first day is no end of the stay ("ab Montag …, am Samstag
            # hat er eine Hochzeit"): weekdays are read within the week, never a year on
            weekday = first.weekday is not None or second.weekday is not None
            span = interval(first.start, second.start) \
                if not weekday or first.start <= second.start else None
            if span is not None:
                return _guessed(doubt, _unread(masked, Stay(*span), today, pats, vocab,
                                               numbers, singles[2:]))
        if length is not None:
            # the length goes with the day of its own sentence: "ab dem 1. Oktober bin ich
            # Rentner … mit einer Woche im Haus, ab Montag, dem 4. Oktober" (asked: two "ab")
            first = _of_length(singles, masked, pats) or first
            assert first.start is not None
            return _guessed(doubt, _unread(masked, Stay(*duration(first.start, length)),
                                           today, pats, vocab, numbers,
                                           [c for c in singles if c is not first]))
        sentence = max((m.end() for m in _SENTENCE_BREAK.finditer(masked, 0, first.pos)),
                       default=0)
        # a departure before the day in its sentence makes it the last ("einen Tag früher
        # abreisen, also am 5.11. – … am Samstag ein Turnier"), whatever weekday follows
        departs = first.lead in ("bis", "abreise", "abfahrt") or \
            _DEPART.search(masked, sentence, first.pos) is not None
        weekdays = _weekday_span(first, masked, today, pats, vocab) if first.weekday is None \
            and not departs and len(singles) == 1 and not (partial and _KEPT_END.search(masked)) \
            else None
        if weekdays is not None:  # "am Freitag, den 4.6., … am Sonntag wieder", "1. Mai, Sa–Mo"
            return _guessed(doubt, weekdays)
        if departs:
            return _guessed(doubt, Stay(None, first.start, single=True))
        if first.lead in ("ab", "anreise", "ankunft", "von", "vom") or partial:
            return _guessed(doubt, Stay(first.start, None, single=True))
        return _guessed(doubt, Stay(first.start, first.start, single=True))
    weekends = [c for c in named if c.kind == "weekend"]
    if spans or weekends:
        pick = (spans or weekends)[0]
        return _unread(masked, Stay(pick.start, pick.end, unsure=pick.unsure), today, pats,
                       vocab, numbers)
    if numbers:  # "in KW 32" without days: a week to ask about, like "Mitte Juli"
        m = pats.week_number.match(fold(text), numbers[0].pos)
        if m:
            return Stay(None, None, re.sub(r"\s+", " ", text[m.start():m.end()]))
    vague = vagues[0] if vagues else None
    if vague:
        phrase = _plain_dashes(text[vague.start():vague.end()])  # as written, not folded
        return Stay(None, None, re.sub(r"\s+", " ", phrase.strip()))
    return Stay()
