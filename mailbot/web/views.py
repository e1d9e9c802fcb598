"""Rendering pages: the Jinja2 environment for templates/web/ and the small helpers the
templates use to say things in German (states, decisions, dates, people)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from starlette.responses import HTMLResponse

from mailbot import shipped
from mailbot.core.model import Booking, Verdict
from mailbot.outbound.render import date_range, day, moved, party, state_label
from mailbot.runtime import Runtime

TEMPLATES = shipped.folder("templates") / "web"

VERDICT_LABELS = {Verdict.NO_RESPONSE: "Noch offen", Verdict.APPROVED: "Zugestimmt",
                  Verdict.DENIED: "Abgelehnt"}
MONTHS = ("Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September",
          "Oktober", "November", "Dezember")


class Views:
    """One per app: the template environment bound to the runtime's house and clock."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True,
                               undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                               auto_reload=False)
        self.env.filters.update(range=lambda b: date_range(b.start, b.end), persons=party,
                                when=self.when, day=day, short=self.short,
                                kind=lambda value: type(value).__name__,
                                date_range=date_range, moved=moved)
        words = self.env.get_template("_mail_words.html.j2").module  # the German stays in templates
        self.env.filters.update(mail_state=lambda v: words.mail_states.get(v, v),  # type: ignore[attr-defined]
                                mail_kind=lambda v: words.mail_kinds.get(v, v))  # type: ignore[attr-defined]
        self.env.globals.update(
            house=rt.house.name, state_label=state_label,
            verdict_label=VERDICT_LABELS.__getitem__, who=self.who,
            approver_name=self.approver_name, approver_color=self.approver_color,
            approvers=rt.house.approvers, month_name=lambda m: MONTHS[m - 1],
        )

    def when(self, moment: datetime | None) -> str:
        if moment is None:
            return "–"
        local = moment.astimezone(self.rt.house.timezone)
        return f"{local:%d.%m.%Y, %H:%M} Uhr"

    def short(self, moment: datetime) -> str:
        return f"{moment.astimezone(self.rt.house.timezone):%d.%m. %H:%M}"

    def approver_name(self, key: str) -> str:
        try:
            return self.rt.house.approver(key).name
        except KeyError:
            return key

    def approver_color(self, key: str) -> str:
        try:
            return self.rt.house.approver(key).color
        except KeyError:
            return "#777777"

    def who(self, actor: str, booking: Booking | None = None, you: str = "requester") -> str:
        """An actor of the timeline as the reader should see it."""
        if actor == you:
            return "Du"
        if actor == "requester":
            return booking.first_name if booking else "Anfragende Person"
        if actor == "system":
            return "System"
        return self.approver_name(actor)

    def page(self, name: str, status: int = 200, headers: dict[str, str] | None = None,
             **context: Any) -> HTMLResponse:
        body = self.env.get_template(name).render(**context)
        return HTMLResponse(body, status_code=status, headers=headers)
