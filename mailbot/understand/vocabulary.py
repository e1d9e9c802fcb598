"""The German vocabulary of rules/vocabulary.toml, loaded once and compiled to patterns.

The patterns are case-sensitive and lower-case: they are matched against `fold(text)`, the
text lower-cased once (case-insensitive matching costs the regex engine every fast path).
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from mailbot import shipped

DEFAULT_PATH = shipped.folder("rules") / "vocabulary.toml"

FLAGS = re.UNICODE


def fold(text: str) -> str:
    """`text` lower-cased, same length, so positions found in it hold in `text` too."""
    low = text.lower()
    if len(low) == len(text):
        return low
    return "".join(c.lower() if len(c.lower()) == 1 else c for c in text)


def alternation(words: Iterable[str], blank: str = r"\s+") -> str:
    """Literal words as one regex alternation, longest first so "juni" beats "jun", grouped by
    first letter ("j(?:uni|uli|un|ul)|m(?:ärz|ai)"): where it stands, the regex engine tries
    the words of one group instead of all. A group keeps their order, so the same word wins.
    A blank in a word matches `blank`."""
    unique = sorted({w.lower() for w in words}, key=len, reverse=True)
    groups: dict[str, list[str]] = {}
    for word in unique:
        groups.setdefault(word[:1], []).append(word[1:])

    def literal(word: str) -> str:
        return re.escape(word).replace(r"\ ", blank)

    return "|".join(f"{literal(first)}(?:{'|'.join(literal(rest) for rest in rests)})"
                    for first, rests in groups.items())


def _any(patterns: list[str], template: str = "{}") -> re.Pattern[str]:
    """The rule fragments `patterns` as one pattern in `template`. The regex engine passes
    over a fragment quickly only by its first character, and skips along the text quickly
    only to the first characters of a pattern that starts with them: to that end the
    fragments are spelled out and grouped by first character, each matching what it did."""
    fragments = [out for pattern in patterns for out in _spelled_out(pattern)]
    at_word = _AT_WORD.match(template)
    if at_word:  # "(?<!\w)(?:{})…": no word character before the fragment
        firsts = [_first_char(fragment, at_word=True) for fragment in fragments]
        if all(firsts):
            # the look back follows the first character: the engine skips to first characters
            behind = f"(?<!{at_word.group(1)}.)"
            body = _grouped([first for first in firsts if first], behind)
            return re.compile(f"(?:{body}){template[at_word.end():].format()}",
                              FLAGS | re.MULTILINE)
    return re.compile(template.format(_grouped(fragments)), FLAGS | re.MULTILINE)


_AT_WORD = re.compile(r"\(\?<!(\\w|\[\\w-\])\)\(\?:\{\}\)")

# a fragment that starts with a choice of words ("(?:ist|sind)\s+…", "(?:plus|\+)\s+…"), an
# optional one ("(?:schon\s+)?was…") or a choice of letters ("[gj]eht…")
_WORD = r"(?:[^\W\d_]+|\\[^\w\s])"
_WORDS = rf"{_WORD}(?:\\s[*+](?:{_WORD})?)*"
_LEADING_CHOICE = re.compile(rf"\(\?:({_WORDS}(?:\|{_WORDS})*)\)(\??)(?![?*+{{])")
_LEADING_LETTERS = re.compile(r"\[([^\W\d_]+)\](?![?*+{])")
_NAMES_A_GROUP = re.compile(r"\(\?P|\\[1-9]")  # a named group or a back reference: kept whole


def _spelled_out(pattern: str, depth: int = 0) -> list[str]:
    r"""`pattern` as fragments that each start with the words of its leading choice that share a
    first character, in its order ("ist\s+…|sind\s+…"; "n(?:och\s*mal|ochmals)\s+…|erneut\s+…";
    "schon\s+was…|was…"): they match the same, in the same order."""
    m = _LEADING_CHOICE.match(pattern)
    letters = _LEADING_LETTERS.match(pattern) if m is None else None
    if m is None and letters is None or depth > 3 or _NAMES_A_GROUP.search(pattern):
        return [pattern]
    if letters is not None:
        choices, rest = list(letters.group(1)), pattern[letters.end():]
    else:
        assert m is not None
        choices, rest = m.group(1).split("|"), pattern[m.end():]
    by_first: dict[str, list[str]] = {}
    for word in choices:
        by_first.setdefault(word[:2] if word.startswith("\\") else word[:1], []).append(word)
    out: list[str] = []
    for first, words in by_first.items():
        if len(words) == 1:
            out += _spelled_out(words[0] + rest, depth + 1)
        else:
            out.append(f"{first}(?:{'|'.join(word[len(first):] for word in words)}){rest}")
    if m is not None and m.group(2):  # the choice was optional: what follows it alone
        out += _spelled_out(rest, depth + 1)
    return out


def _grouped(patterns: Sequence[str | tuple[str, str]], behind: str = "") -> str:
    """`patterns` as one alternation, in their order; patterns in a row that start with a plain
    character are grouped by it ("w(?:(?:ann…)|(?:ie…))|s(?:…)"), as `alternation` groups
    words, `behind` after the character. Only patterns with one first character can match at
    one place, so the same one wins. A pattern may come split already: (character, rest)."""
    parts: list[str] = []
    run: dict[str, list[str]] = {}  # the row so far, by first character

    def end_run() -> None:
        parts.extend(f"{first}{behind}(?:{'|'.join(f'(?:{rest})' for rest in rests)})"
                     for first, rests in run.items())
        run.clear()

    for pattern in patterns:
        first = pattern if isinstance(pattern, tuple) else _first_char(pattern)
        if first is None:
            end_run()
            parts.append(f"(?:{pattern})")
        else:
            run.setdefault(first[0], []).append(first[1])
    end_run()
    return "|".join(parts)


def _first_char(pattern: str, at_word: bool = False) -> tuple[str, str] | None:
    r"""The character that every match of `pattern` starts with (as written: "a", "\+"), and
    the rest of it, when it plainly starts with one: no repetition of it, no "|" outside
    brackets. At the start of a word a "\b" before a letter says nothing more: left out."""
    if at_word and pattern.startswith("\\b") and pattern[2:3].isalpha():
        pattern = pattern[2:]
    if pattern[:1] == "\\" and pattern[1:2] and not pattern[1].isalnum() and \
            not pattern[1].isspace():
        first = pattern[:2]  # an escaped punctuation mark
    elif pattern[:1] and pattern[0] not in ".^$*+?{}[]|()\\\n":
        first = pattern[0]
    else:
        return None
    if pattern[len(first):len(first) + 1] in ("?", "*", "+", "{"):
        return None
    depth = 0
    opened = -1  # where the character class we are in began ("[")
    escaped = False
    for i, c in enumerate(pattern):
        if escaped:
            escaped = False
        elif c == "\\":
            escaped = True
        elif opened >= 0:  # a "]" first in the class ("[]…]", "[^]…]") is one of its characters
            if c == "]" and i - opened > 1 + (pattern[opened + 1] == "^"):
                opened = -1
        elif c == "[":
            opened = i
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        elif c == "|" and depth == 0:
            return None
    return first, pattern[len(first):]


# a header pattern that ends in a colon is tried on lines that end in one, a pattern without
# on the others, one with an optional colon on both
_ENDS_IN_COLON = (r":\s*$", r"[:：]\s*$")
_MAYBE_COLON = (r":?\s*$", r"[:：]?\s*$")


@dataclass(frozen=True)
class Holiday:
    key: str
    easter: tuple[int, int] | None
    fixed: tuple[tuple[int, int], tuple[int, int]] | None


@dataclass(frozen=True, eq=False)
class Vocabulary:
    """Word tables and compiled patterns. Patterns match `fold(text)`, except `auto_subject`
    and `reply_prefix`, which take a subject as written."""

    number_words: dict[str, int]
    ordinals: dict[str, int]
    collective: dict[str, int]
    months: dict[str, int]
    month_alt: str
    month_first_alt: str  # with the names read only before a day ("May 20 to May 24")
    weekdays: dict[str, int]
    weekday_alt: str
    relative: dict[str, frozenset[str]]
    duration_units: dict[str, str]
    holiday_names: dict[str, Holiday]
    holiday_alt: str
    vague: re.Pattern[str]
    exclude_near: re.Pattern[str]
    elsewhere: re.Pattern[str]
    exclude_before: re.Pattern[str]
    past: re.Pattern[str]
    correction: re.Pattern[str]
    instead_left: re.Pattern[str]
    instead_right: re.Pattern[str]
    people_nouns: frozenset[str]
    people_alt: str
    not_people_alt: str
    each_alt: str
    couples: re.Pattern[str]
    single: re.Pattern[str]
    plus_one: re.Pattern[str]
    greetings: re.Pattern[str]
    signers: frozenset[str]
    titles: frozenset[str]
    relations: frozenset[str]
    we_are: frozenset[str]  # "wir sind", "sind wir", …
    we_are_alt: str
    we_alt: str
    self_words: frozenset[str]
    conjunctions: frozenset[str]
    groups: dict[str, int]
    quoted_end: re.Pattern[str]
    header_hints: tuple[str, ...]
    header_hint: re.Pattern[str]
    not_names: frozenset[str]
    opening: re.Pattern[str]
    quote_headers: re.Pattern[str]  # the headers that end in ":" ("Am … schrieb …:")
    quote_rules: re.Pattern[str]  # the others ("-----Ursprüngliche Nachricht-----")
    block_field: re.Pattern[str]
    signature: re.Pattern[str]
    company_footer: re.Pattern[str]
    intents: dict[str, re.Pattern[str]]
    intents_at_start: dict[str, re.Pattern[str]]
    auto_subject: re.Pattern[str]
    out_of_office: re.Pattern[str]
    request_strong: re.Pattern[str]
    existing_thread: re.Pattern[str]
    approver_thread: re.Pattern[str]
    new_stay: re.Pattern[str]
    reply_prefix: re.Pattern[str]
    thanks_only: re.Pattern[str]  # the whole text is a thank-you
    thanks_word: re.Pattern[str]
    joy: re.Pattern[str]  # "Heinz freut sich", "die Vorfreude ist riesig"
    not_joy: re.Pattern[str]  # "wir würden uns freuen, wenn …": a wish, not joy
    asks_back: re.Pattern[str]  # "Bevor ich zusage, eine Frage: …"
    contrary: re.Pattern[str]  # a no after a yes
    wait_for_free: re.Pattern[str]  # "Sag Bescheid, wenn frei wird"


def _build(data: dict[str, Any]) -> Vocabulary:
    months: dict[str, int] = {}
    for number, names in data["months"].items():
        for name in names:
            months[name.lower()] = int(number)
    month_alt = alternation(list(months))
    for number, names in data["months_before_day"].items():
        for name in names:
            months[name.lower()] = int(number)
    weekdays: dict[str, int] = {}
    for number, names in data["weekdays"].items():
        for name in names:
            weekdays[name.lower()] = int(number)
    relative = {k: frozenset(w.lower() for w in v) for k, v in data["relative"].items()}
    units: dict[str, str] = {}
    for unit, words in data["durations"].items():
        for word in words:
            units[word.lower()] = unit
    holiday_names: dict[str, Holiday] = {}
    for key, spec in data["holidays"].items():
        easter = (int(spec["easter"][0]), int(spec["easter"][1])) if "easter" in spec else None
        fixed = None
        if "fixed" in spec:
            first, last = (tuple(int(x) for x in s.split("-")) for s in spec["fixed"])
            fixed = ((first[0], first[1]), (last[0], last[1]))
        holiday = Holiday(key, easter, fixed)
        for name in spec["names"]:
            holiday_names[re.sub(r"\s+", " ", name.lower())] = holiday
    vague = [p.replace("MONTH", month_alt) for p in data["vague"]["patterns"]]
    party = data["party"]
    closing = data["closing"]
    quotes = data["quotes"]
    intent = data["intent"]
    intent_keys = ["recover_link", "status", "cancel", "reopen", "deny", "approve", "edit",
                   "request", "unknown"]
    return Vocabulary(
        number_words={k.lower(): v for k, v in data["numbers"]["words"].items()},
        ordinals={k.lower() + ending: v for k, v in data["numbers"]["ordinals"].items()
                  for ending in ("", "n", "r", "m", "s")},
        collective={k.lower(): v for k, v in data["numbers"]["collective"].items()},
        months=months,
        month_alt=month_alt,
        month_first_alt=alternation(list(months)),
        weekdays=weekdays,
        weekday_alt=alternation(list(weekdays)),
        relative=relative,
        duration_units=units,
        holiday_names=holiday_names,
        holiday_alt=alternation(list(holiday_names)),
        vague=_any(vague, r"(?<![\w-])(?:{})(?![\w-])"),
        exclude_near=_any(data["exclude"]["near"], r"(?<!\w)(?:{})"),
        elsewhere=_any(data["exclude"]["elsewhere"], r"(?<!\w)(?:{})"),
        past=_any(data["exclude"]["past"], r"(?<!\w)(?:{})(?!\w)"),
        correction=_any(data["exclude"]["correction"], r"(?<!\w)(?:{})(?!\w)"),
        instead_left=re.compile(r"(?<!\w)" + data["exclude"]["instead_left"], FLAGS),
        instead_right=re.compile(data["exclude"]["instead_right"], FLAGS),
        exclude_before=_any(data["exclude"]["before"],
                            r"(?<!\w)(?:{})\W+(?:(?:zum|dem|den|der|am|ab|vom|von|bis|wie|geplant|"
                            r"gebucht|angefragt|ja|erst|noch)\W+){{0,3}}$"),
        people_nouns=frozenset(p.lower() for p in party["people"]),
        people_alt=alternation(party["people"]),
        not_people_alt=alternation(party["not_people"]),
        each_alt=alternation(party["each"]),
        couples=_any(party["couples"], r"(?<!\w)(?:{})(?!\w)"),
        single=_any(party["single"], r"(?<!\w)(?:{})(?!\w)"),
        plus_one=_any(party["plus_one"], r"(?<!\w)(?:{})(?!\w)"),
        greetings=_any(closing["greetings"], r"^\s*(?:{})(?![\w])[\s,.!:;-]*"),
        signers=frozenset(w.lower() for w in closing["signers"]),
        titles=frozenset(w.lower() for w in closing["titles"]),
        relations=frozenset(w.lower() for w in closing["relations"]),
        we_are=frozenset(w.lower() for w in party["we_are"]),
        we_are_alt=alternation(party["we_are"]),
        we_alt=alternation(party["we"]),
        self_words=frozenset(w.lower() for w in party["self"]),
        conjunctions=frozenset(w.lower() for w in party["conjunctions"]),
        groups={k.lower(): v for k, v in party["groups"].items()},
        quoted_end=_any(quotes["quoted_end"]),
        header_hints=tuple(h.lower() for h in quotes["header_hints"]),
        header_hint=re.compile(alternation(quotes["header_hints"], blank=" ")),
        not_names=frozenset(w.lower() for w in closing["not_names"]),
        opening=_any(data["greeting"]["patterns"], r"^\s*(?:{})"),
        quote_headers=_any([h for h in quotes["headers"]
                            if h.endswith(_ENDS_IN_COLON + _MAYBE_COLON)]),
        quote_rules=_any([h for h in quotes["headers"] if not h.endswith(_ENDS_IN_COLON)]),
        block_field=re.compile(
            r"^\s*\*?(?:" + alternation(quotes["block_fields"]) + r")\*?\s*:", FLAGS),
        signature=_any(quotes["signature"] + quotes["company_footer"]),
        company_footer=_any(quotes["company_footer"]),
        intents={k: _any(intent[k], r"(?<!\w)(?:{})") for k in intent_keys},
        intents_at_start={
            k: _any(intent[k], r"^[\s\W]{{0,3}}(?:(?:" + "|".join(intent["lead_in"])
                    + r")[\s,.!–-]+){{0,3}}(?:{})")
            for k in ("approve", "deny")},
        auto_subject=re.compile("|".join(f"(?:{p})" for p in intent["auto_subjects"]),
                                re.IGNORECASE | re.MULTILINE),
        request_strong=_any(intent["request_strong"], r"(?<!\w)(?:{})"),
        out_of_office=_any(intent["out_of_office"], r"(?<!\w)(?:{})"),
        existing_thread=_any(intent["existing_thread"]),
        approver_thread=_any(intent["approver_thread"]),
        new_stay=_any(intent["new_stay"], r"(?<!\w)(?:{})"),
        reply_prefix=re.compile(intent["reply_prefix"], re.IGNORECASE),
        thanks_only=re.compile(
            r"[\W_]*(?:(?:" + "|".join(f"(?:{p})" for p in intent["thanks"] + intent["thanks_filler"]
                                           + closing["greetings"])
            + r")(?!\w)[\W_]*)+", FLAGS),
        thanks_word=_any(intent["thanks"], r"(?<!\w)(?:{})(?!\w)"),
        joy=_any(intent["joy"], r"(?<!\w)(?:{})"),
        not_joy=_any(intent["not_joy"], r"(?<!\w)(?:{})"),
        asks_back=_any(intent["asks_back"], r"(?<!\w)(?:{})"),
        contrary=_any(intent["contrary"], r"(?<!\w)(?:{})"),
        wait_for_free=_any(intent["wait_for_free"], r"(?<!\w)(?:{})"),
    )


@cache
def vocabulary(path: str | None = None) -> Vocabulary:
    """The vocabulary from `path`, $MAILBOT_VOCABULARY, or rules/vocabulary.toml."""
    source = Path(path or os.environ.get("MAILBOT_VOCABULARY") or DEFAULT_PATH)
    with source.open("rb") as handle:
        return _build(tomllib.load(handle))
