"""Who is coming: the party size, and the sender's first name."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from .vocabulary import FLAGS, Vocabulary


@dataclass(frozen=True)
class _Patterns:
    counted: re.Pattern[str]
    collective: re.Pattern[str]
    we_are: re.Pattern[str]
    we_n: re.Pattern[str]
    number: str


@cache
def _patterns(vocab: Vocabulary) -> _Patterns:
    words = "|".join(sorted(vocab.number_words, key=len, reverse=True))
    number = rf"(?:\d{{1,2}}|{words})"
    adjectives = r"(?:(?:kleine|kleinen|große|großen|erwachsene|weitere|liebe|nette|junge|" \
                 r"jugendliche|meiner|meine|unsere|unserer)\s+)?"
    counted = re.compile(
        rf"(?<![\w.,/:-])(?P<n>{number})\s*(?:x\s*)?{adjectives}(?P<noun>{vocab.people_alt})"
        r"(?![\w])\.?",
        FLAGS,
    )
    collective = re.compile(
        r"(?<![\w-])zu\s+(?P<n>" + "|".join(sorted(vocab.collective, key=len, reverse=True))
        + r"|\d{1,2})(?![\w-])",
        FLAGS,
    )
    we_are = re.compile(
        rf"(?<![\w-])(?:wir\s+(?:sind|wären|waeren|kommen\s+mit|werden|reisen\s+mit)|"
        rf"(?:sind|wären|kommen)\s+wir|insgesamt|gesamt|alles\s+in\s+allem)\s+"
        rf"(?:(?:dann|also|jetzt|doch|nun|nur|insgesamt|voraussichtlich|wohl|ca\.?|etwa|"
        rf"circa|ungefähr|zusammen|genau|zu)\s+)*(?P<n>{number})(?![\w-])"
        rf"(?!\s*(?:{vocab.not_people_alt})(?![\w]))",
        FLAGS,
    )
    we_n = re.compile(rf"(?<![\w-])wir\s+(?P<n>{words}|\d{{1,2}})(?![\w-])"
                      rf"(?!\s*(?:{vocab.not_people_alt})(?![\w]))", FLAGS)
    return _Patterns(counted, collective, we_are, we_n, number)


def _value(word: str, vocab: Vocabulary) -> int | None:
    w = word.lower()
    if w.isdigit():
        return int(w)
    return vocab.number_words.get(w)


_CHILD = re.compile(r"kind|kids|jugendlich|teenager|enkel|bab|klein", re.IGNORECASE)
_ADULT = re.compile(r"erw|person|pers|leute|gäste|gaeste|mann|freund|mensch|teilnehm|köpf",
                    re.IGNORECASE)


def party_size(text: str, vocab: Vocabulary) -> int | None:
    """The number of people staying, or None when the text does not say."""
    pats = _patterns(vocab)
    lowered = text
    counts: list[tuple[int, int, str]] = []  # (position, n, noun)
    for m in pats.counted.finditer(lowered):
        n = _value(m.group("n"), vocab)
        if n is None or n == 0:
            continue
        counts.append((m.start(), n, m.group("noun").lower()))
    extra = 1 if vocab.plus_one.search(lowered) else 0
    if counts:
        # "2 Erwachsene und 3 Kinder" add up; "4 Personen (2 Erwachsene, 2 Kinder)" do not.
        adults = [c for c in counts if not _CHILD.search(c[2])]
        children = [c for c in counts if _CHILD.search(c[2])]
        total_words = [c for c in adults if re.match(r"pers|leute|gäste|gaeste|köpf|mensch",
                                                      c[2])]
        if total_words:
            total = total_words[0][1]
            if children and not any(c[0] > total_words[0][0] + 60 for c in children):
                pass
            return total + (extra if not children else 0)
        total = (adults[0][1] if adults else 0) + sum(c[1] for c in children[:2])
        if not adults:
            couple = vocab.couples.search(lowered)
            if couple:
                total += 2
            elif re.search(r"(?<!\w)(?:ich|mir)(?!\w)", lowered) and re.search(
                    r"(?<!\w)(?:meine[mn]?\s+)(?:kinder|kindern|kids|enkel)", lowered):
                total += 1
            elif re.search(r"(?<!\w)wir\s+(?:beide|zwei)(?!\w)|(?<!\w)(?:mein|meine)\s+"
                           r"(?:mann|frau|partner|partnerin)", lowered):
                total += 2
        return total + extra if total else None
    m = pats.collective.search(lowered)
    if m:
        n = vocab.collective.get(m.group("n").lower()) or _value(m.group("n"), vocab)
        if n:
            return n + extra
    m = pats.we_are.search(lowered)
    if m:
        n = _value(m.group("n"), vocab)
        if n and n <= 30:
            return n + extra
    m = pats.we_n.search(lowered)
    if m:
        n = _value(m.group("n"), vocab)
        if n and n > 1:
            return n + extra
    if vocab.couples.search(lowered):
        return 2 + extra
    if vocab.single.search(lowered):
        return 1 + extra
    return None


_NAME = re.compile(r"^[^\W\d_](?:[^\W\d_]|['’-](?=[^\W\d_]))*$")


def _first_word_name(words: list[str], vocab: Vocabulary) -> str | None:
    for raw in words:
        word = raw.strip(" ,.;:!?\"'()<>*_")
        if not word:
            continue
        if word.lower().rstrip(".") in vocab.titles:
            continue
        if not _NAME.match(word):
            return None
        if word.isupper() and len(word) > 1:
            word = "-".join(p.capitalize() for p in word.split("-"))
        elif word.islower():
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


def _looks_like_name_line(line: str, vocab: Vocabulary) -> str | None:
    words = line.split()
    if not 1 <= len(words) <= 4:
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
    for pos, i in enumerate(window):
        line = lines[i].strip()
        m = vocab.greetings.match(line)
        if m and (m.end() == len(line) or not line[m.end():m.end() + 1].islower()
                  or line[m.end():].split()[0].lower() in vocab.signers):
            rest = line[m.end():].strip()
            rest_words = rest.split()
            if rest_words and rest_words[0].lower() in ("aus", "vom", "an", "in", "nach",
                                                        "zurück", "im", "und"):
                rest = ""
                rest_words = []
            if rest_words and rest_words[0].lower() in vocab.signers:
                rest_words = rest_words[1:]
            if rest_words:
                name = _looks_like_name_line(" ".join(rest_words), vocab)
                if name:
                    return name, i
            for j in window[pos + 1:pos + 3]:
                nxt = lines[j].strip()
                words = nxt.split()
                if words and words[0].lower().strip(",") in vocab.signers and len(words) > 1:
                    words = words[1:]
                name = _looks_like_name_line(" ".join(words), vocab)
                if name:
                    return name, i
            return None, i
        words = line.split()
        if (len(words) >= 2 and words[0].lower() in vocab.signers
                and words[0].lower() != "von" and len(words) <= 3):
            name = _looks_like_name_line(" ".join(words[1:]), vocab)
            if name:
                return name, i
    # A bare name on the last line after some text ("JA\nInge").
    last = lines[nonempty[-1]].strip()
    if len(nonempty) >= 2 and len(last.split()) <= 2 and not re.search(r"[.!?:]$", last):
        name = _looks_like_name_line(last, vocab)
        if name and not vocab.intents_at_start["approve"].match(last) and not \
                vocab.intents_at_start["deny"].match(last):
            return name, nonempty[-1]
    return None, None
