"""The admin's window onto every mail: the log with filters, one inbound message and its
story (received → understood as → decision → mails sent), one outbound message, the raw
source, and a resend for failed mail. Behind ADMIN_TOKEN (login cookie or Bearer)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import or_, select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response

from mailbot import maillog
from mailbot.core.model import Booking
from mailbot.store import queries
from mailbot.store.tables import InboxMessage, OutboxMessage
from mailbot.web import guard, paging
from mailbot.web.context import web

LOG_PAGE = 100


def _login_page(request: Request, status: int = 401, problem: str | None = None) -> Response:
    w = web(request)
    if not w.rt.settings.admin_token:
        raise guard.refuse(403, "admin_disabled")
    return w.views.page("admin_login.html.j2", status=status, problem=problem,
                        csrf=guard.csrf_token(w.rt, "/admin/anmelden"))


def _day(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def log_page(request: Request) -> Response:
    w = web(request)
    session_id = guard.admin_session(w.rt, request)
    if session_id is None:
        return _login_page(request)
    q = request.query_params
    direction = q.get("richtung") if q.get("richtung") in ("in", "out") else None
    filters = maillog.Filters(address=q.get("adresse") or None, state=q.get("status") or None,
                              first=_day(q.get("von")), last=_day(q.get("bis")), direction=direction)
    start = paging.parse(q.get("vor"), datetime, str, int)
    with w.rt.store.reading() as session:
        reader = maillog.Reader(session.connection().connection.driver_connection)
        found, following = maillog.entries(reader, w.rt.house.timezone, filters, LOG_PAGE, start)
    more = None
    if following is not None:
        kept = {k: v for k, v in q.items() if k != "vor" and v}
        more = "/admin?" + urlencode({**kept, "vor": paging.token(*following)})
    return w.views.page("admin_log.html.j2", entries=found, filters=filters, more=more,
                        states=sorted(set(maillog.INBOUND_STATES) | set(maillog.OUTBOUND_STATES)),
                        logout_csrf=guard.csrf_token(w.rt, "/admin/abmelden", session_id))


async def login(request: Request) -> Response:
    w = web(request)
    if not w.rt.settings.admin_token:
        raise guard.refuse(403, "admin_disabled")
    await run_in_threadpool(guard.count_form_use, w.rt, guard.client_ip(request))
    form = await request.form()
    guard.check_csrf(w.rt, request.url.path, form.get("csrf"))
    given = form.get("token")
    if not isinstance(given, str) or not guard.admin_token_matches(w.rt, given.strip()):
        return _login_page(request, 401, "wrong")
    secret = await run_in_threadpool(guard.open_admin_session, w.rt)
    response = RedirectResponse("/admin", status_code=303)
    response.set_cookie(guard.ADMIN_COOKIE, secret, max_age=guard.ADMIN_SESSION_HOURS * 3600,
                        path="/", httponly=True, samesite="strict",
                        secure=w.rt.settings.base_url.startswith("https://"))
    return response


async def logout(request: Request) -> Response:
    w = web(request)
    session_id = await run_in_threadpool(guard.require_admin, w.rt, request)
    form = await request.form()
    if session_id != "bearer":
        guard.check_csrf(w.rt, request.url.path, form.get("csrf"), session_id)
        await run_in_threadpool(guard.close_admin_session, w.rt, session_id)
    response = RedirectResponse("/admin", status_code=303)
    response.delete_cookie(guard.ADMIN_COOKIE, path="/")
    return response


def _found(session: Session, model: type[Any], message_id: int) -> Any:
    found = session.get(model, message_id)
    if found is None:
        raise guard.refuse(404, "unknown_message")
    return found


def story(session: Session, message: InboxMessage) -> list[OutboxMessage]:
    """The mails one inbound message caused: tied by inbox id or by correlation id."""
    query = select(OutboxMessage).where(or_(OutboxMessage.inbox_id == message.id,
                                            OutboxMessage.correlation_id == message.correlation_id))
    return list(session.scalars(query.order_by(OutboxMessage.id)))


def inbound_page(request: Request) -> Response:
    w = web(request)
    if guard.admin_session(w.rt, request) is None:
        return _login_page(request)
    with w.rt.store.reading() as session:
        message: InboxMessage = _found(session, InboxMessage, request.path_params["message_id"])
        sent = story(session, message)
        booking: Booking | None = (queries.booking(session, message.booking_id)
                                   if message.booking_id is not None else None)
    return w.views.page("admin_inbound.html.j2", message=message, sent=sent, booking=booking)


def outbound_page(request: Request) -> Response:
    w = web(request)
    session_id = guard.admin_session(w.rt, request)
    if session_id is None:
        return _login_page(request)
    with w.rt.store.reading() as session:
        message: OutboxMessage = _found(session, OutboxMessage, request.path_params["message_id"])
        cause = (session.get(InboxMessage, message.inbox_id) if message.inbox_id is not None else None)
    path = f"/admin/aus/{message.id}/erneut"
    return w.views.page("admin_outbound.html.j2", message=message, cause=cause,
                        resent=request.query_params.get("erneut"),
                        resend_csrf=guard.csrf_token(w.rt, path, session_id))


def raw_inbound(request: Request) -> Response:
    w = web(request)
    guard.require_admin(w.rt, request)
    with w.rt.store.reading() as session:
        message: InboxMessage = _found(session, InboxMessage, request.path_params["message_id"])
        raw = bytes(message.raw)
    return PlainTextResponse(raw.decode("utf-8", errors="replace"),
                             headers={"Content-Disposition": "inline"})


def raw_outbound(request: Request) -> Response:
    w = web(request)
    guard.require_admin(w.rt, request)
    with w.rt.store.reading() as session:
        message: OutboxMessage = _found(session, OutboxMessage, request.path_params["message_id"])
        head = "".join(f"{name}: {value}\n" for name, value in (message.headers or {}).items())
        text = f"{head}\n{message.text_body}\n\n----- HTML -----\n{message.html_body}\n"
    return PlainTextResponse(text, headers={"Content-Disposition": "inline"})


async def resend(request: Request) -> Response:
    from mailbot.outbound.worker import resend as resend_message

    w = web(request)
    session_id = await run_in_threadpool(guard.require_admin, w.rt, request)
    form = await request.form()
    if session_id != "bearer":
        guard.check_csrf(w.rt, request.url.path, form.get("csrf"), session_id)
    message_id = request.path_params["message_id"]
    queued = await run_in_threadpool(resend_message, w.rt, message_id)
    return RedirectResponse(f"/admin/aus/{message_id}?erneut={int(queued)}", status_code=303)
