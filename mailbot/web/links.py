"""Every URL that mails and pages hand out. Tokens are signed; no address appears in a URL.

Person and approver links sign the random `link_id` of a `people` row (an approver's is the
row of their main address), never a name: nobody can compute a link without the database
and SECRET_KEY."""

from __future__ import annotations

from datetime import date

from mailbot import tokens
from mailbot.runtime import Runtime

ACTION_PATHS = {"approve": "zustimmen", "deny": "ablehnen", "cancel": "stornieren",
                "reopen": "wieder-oeffnen", "edit": "aendern"}


def _base(rt: Runtime) -> str:
    return rt.settings.base_url.rstrip("/")


def person_token(rt: Runtime, link_id: str) -> str:
    return tokens.sign(rt.settings.secret_key, "person", link_id)


def approver_token(rt: Runtime, link_id: str) -> str:
    return tokens.sign(rt.settings.secret_key, "approver", link_id)


def reply_token(rt: Runtime, conversation_key: str, decision_round: int | None) -> str:
    """The signed plus-part of a Reply-To address: the conversation's key and, in a booking's
    thread, the decision round the mail was sent in (SPEC §5 "Current")."""
    value = conversation_key if decision_round is None else f"{conversation_key}.{decision_round}"
    return tokens.sign(rt.settings.secret_key, "reply", value)


def reply_value(rt: Runtime, token: str) -> tuple[str, int | None] | None:
    """(conversation key, decision round or None) of a valid reply token, else None."""
    value = tokens.unsign(rt.settings.secret_key, "reply", token)
    if value is None:
        return None
    key, _, decision_round = value.partition(".")
    return key, int(decision_round) if decision_round.isdigit() else None


def calendar_token(rt: Runtime) -> str:
    return tokens.sign(rt.settings.secret_key, "calendar", "all")


def person_url(rt: Runtime, link_id: str) -> str:
    return f"{_base(rt)}/p/{person_token(rt, link_id)}"


def approver_url(rt: Runtime, link_id: str) -> str:
    return f"{_base(rt)}/a/{approver_token(rt, link_id)}"


def booking_url(rt: Runtime, link_id: str, booking_id: int) -> str:
    return f"{person_url(rt, link_id)}/buchung/{booking_id}"


def requester_action_url(rt: Runtime, link_id: str, booking_id: int, action: str) -> str:
    return f"{booking_url(rt, link_id, booking_id)}/{ACTION_PATHS[action]}"


def approver_booking_url(rt: Runtime, link_id: str, booking_id: int) -> str:
    return f"{approver_url(rt, link_id)}/buchung/{booking_id}"


ROUND_PARAM = "runde"


def approver_action_url(rt: Runtime, link_id: str, booking_id: int, action: str,
                        decision_round: int | None = None) -> str:
    """`decision_round`: the round the mail was sent in (SPEC §5 "Current"); the form keeps
    it, and a JA or NEIN of an older round changes nothing."""
    url = f"{approver_booking_url(rt, link_id, booking_id)}/{ACTION_PATHS[action]}"
    return url if decision_round is None else f"{url}?{ROUND_PARAM}={decision_round}"


def round_of(value: object) -> int | None:
    """The decision round a link or form names, or None when it names none (or nonsense)."""
    return int(value) if isinstance(value, str) and value.isdigit() and len(value) < 7 else None


def calendar_url(rt: Runtime, month: date | None = None) -> str:
    """The calendar, opened at the month of `month` when given (a booking's start)."""
    url = f"{_base(rt)}/kalender/{calendar_token(rt)}"
    return f"{url}?monat={month:%Y-%m}" if month else url


def calendar_feed_url(rt: Runtime) -> str:
    """The same calendar as an iCalendar feed to subscribe to."""
    return f"{_base(rt)}/kalender/{calendar_token(rt)}.ics"


def recover_url(rt: Runtime) -> str:
    return f"{_base(rt)}/link"
