"""The one place that renders mail and writes German dates.

Every email is `templates/email/<kind>.txt.j2` plus `<kind>.html.j2`. The subject is the
`subject` block of the text template (one line, whitespace collapsed); the HTML template
gets it as `subject`. Both usually extend the shared layouts `_layout.txt.j2` and
`_layout.html.j2`. HTML is autoescaped; an unknown variable is an error, not an empty
string (StrictUndefined).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from mailbot import shipped

TEMPLATES = shipped.folder("templates") / "email"


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


def day(value: date) -> str:
    """05.08.2026"""
    return f"{value.day:02d}.{value.month:02d}.{value.year}"


def date_range(start: date, end: date | None = None) -> str:
    """German ranges: 01.–05.08.2026, 28.07.–02.08.2026, 30.12.2026–02.01.2027, 05.08.2026."""
    if end is None or end == start:
        return day(start)
    if start.year != end.year:
        return f"{day(start)}–{day(end)}"
    if start.month != end.month:
        return f"{start.day:02d}.{start.month:02d}.–{day(end)}"
    return f"{start.day:02d}.–{day(end)}"


WEEKDAYS = ("Mo", "Di", "Mi", "Do", "Fr", "Sa", "So")


def stay(start: date, end: date | None = None) -> str:
    """A range with its weekdays, for people who plan by them: "Fr–Mo, 13.–16.08.2027"."""
    if end is None or end == start:
        return f"{WEEKDAYS[start.weekday()]}, {day(start)}"
    return f"{WEEKDAYS[start.weekday()]}–{WEEKDAYS[end.weekday()]}, {date_range(start, end)}"


def moved(old_start: date, old_end: date, new_start: date, new_end: date) -> str:
    """How a stay changed: "verschoben" (same length), "verlängert" (covers the old days),
    "verkürzt" (inside them) or "geändert"."""
    if new_end - new_start == old_end - old_start:
        return "verschoben"
    if new_start <= old_start and new_end >= old_end:
        return "verlängert"
    if old_start <= new_start and new_end <= old_end:
        return "verkürzt"
    return "geändert"


STATE_LABELS = {"pending": "Ausstehend", "confirmed": "Bestätigt", "denied": "Abgelehnt",
                "canceled": "Storniert"}


def state_label(value: Any) -> str:
    """A booking's state in German; a booking the nightly cleanup ended (BR-028) is
    "Abgelaufen", not canceled by someone. Takes a Booking or a state."""
    if getattr(value, "expired", False):
        return "Abgelaufen"
    state = getattr(value, "state", value)
    return STATE_LABELS[str(getattr(state, "value", state))]


def party(size: int) -> str:
    """BR-016: always "n Personen", also "1 Personen"."""
    return f"{size} Personen"


def names(items: Any, last: str = "und") -> str:
    """["Ingeborg", "Cornelia", "Angelika"] → "Ingeborg, Cornelia und Angelika"."""
    items = [str(i) for i in items]
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {last} {items[-1]}"


def days(count: int) -> str:
    return "1 Tag" if count == 1 else f"{count} Tage"


@lru_cache(maxsize=4)
def environment(folder: str = str(TEMPLATES)) -> Environment:
    env = Environment(
        loader=FileSystemLoader(folder),
        autoescape=select_autoescape(enabled_extensions=("html.j2",), default_for_string=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,  # templates are read once per process
    )
    env.filters.update(date_range=date_range, party=party, day=day, names=names, days=days,
                       stay=stay, state_label=state_label, moved=moved)
    return env


_BLANK_RUNS = re.compile(r"\n{3,}")


def blocks(name: str, context: dict[str, Any], wanted: tuple[str, ...]) -> dict[str, str]:
    """Named one-line blocks of a template (whitespace collapsed), e.g. a subject."""
    template = environment().get_template(name)
    found = {}
    for block in wanted:
        if block not in template.blocks:
            raise LookupError(f"templates/email/{name} has no {block} block")
        parts = template.blocks[block](template.new_context(dict(context)))
        found[block] = " ".join("".join(parts).split())
    return found


def render(kind: str, context: dict[str, Any]) -> Rendered:
    """Subject, plain text and HTML of one email kind, rendered now and never again."""
    env = environment()
    text_template = env.get_template(f"{kind}.txt.j2")
    subject = blocks(f"{kind}.txt.j2", context, ("subject",))["subject"]
    text = _BLANK_RUNS.sub("\n\n", text_template.render(context)).strip() + "\n"
    html = env.get_template(f"{kind}.html.j2").render({**context, "subject": subject})
    return Rendered(subject, text, html)
