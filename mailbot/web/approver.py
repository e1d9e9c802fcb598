"""The approver's page: Outstanding and History (BR-023), one booking, approve and deny
(each: GET shows, POST does; the deny of a Confirmed booking needs an explicit tick)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime

from sqlalchemy import bindparam, exists, literal, select, union_all
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from mailbot import actions
from mailbot.config import Approver
from mailbot.core.events import Event
from mailbot.core.model import Booking, State, Verdict
from mailbot.runtime import Cause, Runtime
from mailbot.store import queries
from mailbot.store.queries import Card, Key, Page
from mailbot.store.tables import bookings, decisions, timeline
from mailbot.web import guard, links, paging
from mailbot.web.context import web
from mailbot.web.outcome import perform, text_field, ticked

ACTIONS = {"zustimmen": "approve", "ablehnen": "deny"}


HISTORY_PAGE = 20
_ACTIVITY = (bookings.c.last_activity_at, bookings.c.id)


# Pending where she has not answered yet, soonest stay first (issue 14: she plans by the
# dates; bounded: pending bookings never overlap and lie within the horizon)
_OUTSTANDING = (select(*queries.CARD_COLUMNS)
                .where(bookings.c.state == State.PENDING,
                       exists().where(decisions.c.booking_id == bookings.c.id,
                                      decisions.c.approver == bindparam("approver"),
                                      decisions.c.verdict == Verdict.NO_RESPONSE))
                .order_by(bookings.c.start_date, bookings.c.id))
# Every booking she decided or acted on, all states, read along the activity index, each
# booking asked once whether she was involved (one EXISTS over a UNION, which the planner
# cannot turn into a hash of all her decisions of every year); the outstanding ones left out
_INVOLVED = (select(*queries.CARD_COLUMNS, bookings.c.last_activity_at)
             .where(union_all(
                 select(literal(1)).where(decisions.c.booking_id == bookings.c.id,
                                          decisions.c.approver == bindparam("approver"),
                                          decisions.c.verdict != Verdict.NO_RESPONSE).correlate(bookings),
                 select(literal(1)).where(timeline.c.booking_id == bookings.c.id,
                                          timeline.c.actor == bindparam("approver")).correlate(bookings))
                    .exists(),
                    bookings.c.id.not_in(bindparam("besides", expanding=True))))


def outstanding(session: Session, key: str) -> list[Card]:
    """Pending where this approver has not answered yet, soonest stay first."""
    return queries.cards(session.execute(_OUTSTANDING, {"approver": key}).all())


def history(session: Session, key: str, start: Key | None = None, size: int = HISTORY_PAGE,
            besides: Sequence[Card] = ()) -> Page[Card]:
    """Every booking this approver decided or acted on, all states, newest activity first,
    a page at a time; `besides` (the outstanding ones) left out."""
    return queries.paged(session, _INVOLVED, _ACTIVITY, start, size,
                         {"approver": key, "besides": [b.id for b in besides]})


def available(booking: Booking, approver: Approver, rt: Runtime) -> list[str]:
    if booking.is_past(rt.today()):
        return []
    if booking.state == State.PENDING:
        mine = booking.verdict(approver.key)
        return [a for a, v in (("approve", Verdict.APPROVED), ("deny", Verdict.DENIED)) if mine != v]
    return ["deny"] if booking.state == State.CONFIRMED else []


def overview(request: Request) -> Response:
    w = web(request)
    start = paging.parse(request.query_params.get("vor"), datetime, int)
    with w.rt.store.reading() as session:
        approver, link_id = guard.approver_of(w.rt, session, request.path_params["token"])
        waiting = outstanding(session, approver.key)
        involved = history(session, approver.key, start, besides=waiting)
    more = paging.token(*involved.next) if involved.next else None
    return w.views.page("approver.html.j2", approver=approver, outstanding=waiting,
                        history=involved.items, more=more,
                        base=f"/a/{links.approver_token(w.rt, link_id)}")


def _booking(request: Request, session: Session) -> Booking:
    found = queries.booking(session, request.path_params["booking_id"])
    if found is None:
        raise guard.refuse(404, "unknown_booking")
    return found


def booking_page(request: Request) -> Response:
    w = web(request)
    with w.rt.store.reading() as session:
        approver, link_id = guard.approver_of(w.rt, session, request.path_params["token"])
        booking = _booking(request, session)
    return w.views.page("approver_booking.html.j2", approver=approver, booking=booking,
                        can=available(booking, approver, w.rt), paths=links.ACTION_PATHS,
                        base=f"/a/{links.approver_token(w.rt, link_id)}")


def _form_page(request: Request, approver: Approver, link_id: str, booking: Booking, action: str,
               status: int = 200, **context: object) -> Response:
    """The form names the round it shows; opened from a mail of an older round, it first
    says what changed since (SPEC §5 "Current") and asks about the current request."""
    w = web(request)
    base = f"/a/{links.approver_token(w.rt, link_id)}"
    seen = links.round_of(request.query_params.get(links.ROUND_PARAM))
    changed = (booking.changes_since(seen)
               if seen is not None and seen < booking.decision_round else [])
    return w.views.page(
        "action.html.j2", status=status, role="approver", action=action, booking=booking,
        approver=approver, csrf=guard.csrf_token(w.rt, request.url.path),
        decision_round=booking.decision_round, changed=changed,
        done=action == "approve" and booking.verdict(approver.key) == Verdict.APPROVED,
        back=f"{base}/buchung/{booking.id}", **{"error": None, "values": {}, **context})  # type: ignore[arg-type]


def _act(rt: Runtime, name: str, booking_id: int, approver: Approver, form: Mapping[str, object]
         ) -> Callable[[Session, Cause], list[Event]]:
    reason = text_field(form, "grund")
    confirmed = ticked(form, "bestaetigt")
    seen = links.round_of(form.get(links.ROUND_PARAM))

    def act(session: Session, cause: Cause) -> list[Event]:
        if name == "approve":
            return actions.approve(rt, session, booking_id, approver.key, cause, seen)
        return actions.deny(rt, session, booking_id, approver.key, reason, cause, confirmed, seen)

    return act


async def action(request: Request) -> Response:
    w = web(request)
    name = ACTIONS.get(request.path_params["action"])
    if name is None:
        raise guard.refuse(404, "unknown_action")

    def load() -> tuple[Approver, str, Booking]:
        with w.rt.store.reading() as session:
            return (*guard.approver_of(w.rt, session, request.path_params["token"]),
                    _booking(request, session))

    approver, link_id, booking = await run_in_threadpool(load)
    if request.method != "POST":  # mail scanners open links: showing changes nothing
        return await run_in_threadpool(_form_page, request, approver, link_id, booking, name)
    form = await request.form()
    guard.check_csrf(w.rt, request.url.path, form.get("csrf"))
    values = {k: v for k, v in form.items() if k != "csrf" and isinstance(v, str)}
    outcome = await run_in_threadpool(perform, w.rt, booking.id or 0,
                                      _act(w.rt, name, booking.id or 0, approver, form))
    if outcome.needs_form:
        return await run_in_threadpool(_form_page, request, approver, link_id,
                                       outcome.booking or booking, name, 422,
                                       error=outcome.rejection, values=values)
    base = f"/a/{links.approver_token(w.rt, link_id)}"
    return await run_in_threadpool(
        w.views.page, "result.html.j2", role="approver", action=name, outcome=outcome,
        approver=approver, back=f"{base}/buchung/{booking.id}", overview=base)
