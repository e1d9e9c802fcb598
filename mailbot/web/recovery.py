"""Link recovery: someone types an address and, if we know it, their personal link is
mailed again (BR-010: the same link). The answer never says whether the address is known
(BR-021); limits per IP answer 429, limits per address silently send nothing."""

from __future__ import annotations

import re
from datetime import timedelta
from enum import Enum

from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from mailbot.outbound.outbox import queue
from mailbot.runtime import Cause, Runtime
from mailbot.store import queries
from mailbot.store.tables import Person
from mailbot.web import guard, links
from mailbot.web.context import web

_ADDRESS = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")
IP_COOLDOWN = "recovery_ip"
ADDRESS_USE = queries.LINK_RECOVERY


class Answer(Enum):
    SENT_IF_KNOWN = "sent_if_known"  # the one answer for every address, known or not
    WAIT = "wait"  # this IP asked less than a minute ago


def recover(rt: Runtime, address: str, ip: str) -> Answer:
    """Count the request and queue the mail when the address is known and within limits."""
    limits, now = rt.house.limits, rt.now()
    address = address.strip().lower()

    def work(session: Session) -> Answer:
        last = queries.last_recent(session, IP_COOLDOWN, ip)
        if last is not None and now - last < timedelta(seconds=limits.recovery_cooldown_seconds):
            return Answer.WAIT
        queries.count_use(session, IP_COOLDOWN, ip, now)
        if not _ADDRESS.match(address) or len(address) > 320:
            return Answer.SENT_IF_KNOWN
        last = queries.last_recent(session, ADDRESS_USE, address)
        cooling = last is not None and now - last < timedelta(seconds=limits.recovery_cooldown_seconds)
        hourly = queries.count_recent(session, ADDRESS_USE, address, now - timedelta(hours=1))
        if cooling or hourly >= limits.recoveries_per_hour:
            return Answer.SENT_IF_KNOWN
        queries.count_use(session, ADDRESS_USE, address, now)
        person = session.scalars(select(Person).where(Person.email == address)).first()
        approver = rt.house.approver_for_address(address)
        if person is not None or approver is not None:
            queue(rt, session, "link_recovery", address, {
                "link": links.person_url(rt, person.link_id) if person else None,
                "approver_link": links.approver_url(rt, queries.approver_link_id(session, approver, now))
                if approver else None,
            }, Cause.new())
        return Answer.SENT_IF_KNOWN

    return rt.store.run(work)


def form(request: Request) -> Response:
    w = web(request)
    return w.views.page("recover.html.j2", csrf=guard.csrf_token(w.rt, request.url.path),
                        address="", problem=None)


async def submit(request: Request) -> Response:
    w = web(request)
    ip = guard.client_ip(request)
    await run_in_threadpool(guard.count_form_use, w.rt, ip)
    data = await request.form()
    guard.check_csrf(w.rt, request.url.path, data.get("csrf"))
    raw = data.get("adresse")
    address = raw.strip() if isinstance(raw, str) else ""
    if not address:
        return w.views.page("recover.html.j2", status=422, address="", problem="empty",
                            csrf=guard.csrf_token(w.rt, request.url.path))
    answer = await run_in_threadpool(recover, w.rt, address, ip)
    if answer is Answer.WAIT:
        raise guard.refuse(429, "recovery_cooldown")
    return w.views.page("recover_sent.html.j2")
