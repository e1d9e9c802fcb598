"""The requester's personal page: own bookings, one booking with decisions and timeline,
and the actions cancel, reopen and change dates (each: GET shows, POST does)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from mailbot import actions
from mailbot.core.events import Event
from mailbot.core.model import Booking, State
from mailbot.runtime import Cause, Runtime
from mailbot.store import queries
from mailbot.web import guard, links, paging
from mailbot.web.context import web
from mailbot.web.outcome import FormError, date_field, int_field, perform, text_field, ticked

ACTIONS = {"stornieren": "cancel", "wieder-oeffnen": "reopen", "aendern": "edit"}


@dataclass(frozen=True)
class Requester:
    email: str  # used to act, never rendered
    first_name: str | None
    link_id: str
    token: str


def _requester(request: Request, session: Session) -> Requester:
    rt = web(request).rt
    token = request.path_params["token"]
    link_id = guard.person_link_id(rt, token)
    found = queries.person_by_link(session, link_id)
    if found is None:
        raise guard.refuse(404, "unknown_person")
    return Requester(found.email, found.first_name, link_id, links.person_token(rt, link_id))


def _own_booking(request: Request, session: Session, requester: Requester) -> Booking:
    found = queries.booking(session, request.path_params["booking_id"])
    if found is None:
        raise guard.refuse(404, "unknown_booking")
    if found.requester_email != requester.email:
        raise guard.refuse(403, "not_yours")
    return found


def available(booking: Booking, today: date) -> list[str]:
    """What the requester may do with the booking now (SPEC §2); past ones are read-only."""
    if booking.is_past(today):
        return []
    return {State.PENDING: ["edit", "cancel"], State.CONFIRMED: ["cancel"],
            State.DENIED: ["reopen", "cancel"], State.CANCELED: []}[booking.state]


def overview(request: Request) -> Response:
    w = web(request)
    today = w.rt.today()
    start = paging.parse(request.query_params.get("vor"), date, int)
    with w.rt.store.reading() as session:
        requester = _requester(request, session)
        current = queries.current_bookings(session, requester.email, today)
        other = queries.earlier_bookings(session, requester.email, today, start)
    more = paging.token(*other.next) if other.next else None
    return w.views.page("person.html.j2", requester=requester, current=current, other=other.items,
                        more=more, today=today, base=f"/p/{requester.token}")


def booking_page(request: Request) -> Response:
    w = web(request)
    with w.rt.store.reading() as session:
        requester = _requester(request, session)
        booking = _own_booking(request, session, requester)
    base = f"/p/{requester.token}"
    return w.views.page("person_booking.html.j2", requester=requester, booking=booking,
                        can=available(booking, w.rt.today()), base=base, paths=links.ACTION_PATHS)


def _form_page(request: Request, requester: Requester, booking: Booking, action: str,
               status: int = 200, **context: object) -> Response:
    w = web(request)
    return w.views.page(
        "action.html.j2", status=status, role="person", action=action, booking=booking,
        csrf=guard.csrf_token(w.rt, request.url.path), back=f"/p/{requester.token}/buchung/{booking.id}",
        **{"error": None, "values": {}, **context})  # type: ignore[arg-type]


async def action(request: Request) -> Response:
    w = web(request)
    name = ACTIONS.get(request.path_params["action"])
    if name is None:
        raise guard.refuse(404, "unknown_action")

    def load() -> tuple[Requester, Booking]:
        with w.rt.store.reading() as session:
            requester = _requester(request, session)
            return requester, _own_booking(request, session, requester)

    requester, booking = await run_in_threadpool(load)
    if request.method != "POST":  # mail scanners open links: showing changes nothing
        return await run_in_threadpool(_form_page, request, requester, booking, name)
    form = await request.form()
    guard.check_csrf(w.rt, request.url.path, form.get("csrf"))
    values = {k: v for k, v in form.items() if k != "csrf" and isinstance(v, str)}
    try:
        act = _act(w.rt, name, booking, requester.email, form)
    except FormError as problem:
        return await run_in_threadpool(_form_page, request, requester, booking, name, 422,
                                       error=problem, values=values)
    outcome = await run_in_threadpool(perform, w.rt, booking.id or 0, act)
    if outcome.needs_form:
        return await run_in_threadpool(_form_page, request, requester, outcome.booking or booking,
                                       name, 422, error=outcome.rejection, values=values)
    return await run_in_threadpool(
        w.views.page, "result.html.j2", role="person", action=name, outcome=outcome,
        back=f"/p/{requester.token}/buchung/{booking.id}", overview=f"/p/{requester.token}")


def _act(rt: Runtime, name: str, booking: Booking, email: str, form: Mapping[str, object]
         ) -> Callable[[Session, Cause], list[Event]]:
    booking_id = booking.id or 0
    reason = text_field(form, "grund")
    confirmed = ticked(form, "bestaetigt")
    start, end = date_field(form, "anreise"), date_field(form, "abreise")
    party_size = int_field(form, "personen")

    def act(session: Session, cause: Cause) -> list[Event]:
        if name == "cancel":
            return actions.cancel(rt, session, booking_id, email, reason, cause, confirmed)
        if name == "reopen":
            return actions.reopen(rt, session, booking_id, email, cause, start, end)
        return actions.edit(rt, session, booking_id, email, cause, start, end,
                            party_size if party_size != booking.party_size else None,
                            long_stay_confirmed=confirmed)

    return act
