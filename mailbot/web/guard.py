"""Who may see and do what: link tokens, CSRF tokens on every form, the admin's session
and the per-IP limits on public forms (BR-012)."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from datetime import timedelta

from sqlalchemy import delete
from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException
from starlette.requests import Request

from mailbot import tokens
from mailbot.config import Approver
from mailbot.runtime import Runtime
from mailbot.store import queries
from mailbot.store.tables import AdminSession

ADMIN_COOKIE = "mailbot_admin"
WEB_FORM = "web_form"  # RateEvent kind: one POST to a public form from one IP


def refuse(status: int, detail: str = "") -> HTTPException:
    return HTTPException(status, detail)


def person_link_id(rt: Runtime, token: str) -> str:
    link_id = tokens.unsign(rt.settings.secret_key, "person", token)
    if link_id is None:
        raise refuse(403, "bad_link")
    return link_id


def approver_of(rt: Runtime, session: Session, token: str) -> tuple[Approver, str]:
    """The approver an approver link belongs to, and the link id it signs."""
    link_id = tokens.unsign(rt.settings.secret_key, "approver", token)
    approver = queries.approver_by_link(session, rt.house, link_id) if link_id else None
    if approver is None or link_id is None:
        raise refuse(403, "bad_link")
    return approver, link_id


def check_calendar(rt: Runtime, token: str) -> None:
    if tokens.unsign(rt.settings.secret_key, "calendar", token) != "all":
        raise refuse(403, "bad_link")


def csrf_token(rt: Runtime, path: str, session: str = "") -> str:
    """Tied to the exact path (which holds the link token and the action) and, for the
    admin, to the session cookie; a form from elsewhere cannot carry it."""
    return tokens.signature(rt.settings.secret_key, "csrf", f"{path}|{session}")


def check_csrf(rt: Runtime, path: str, given: object, session: str = "") -> None:
    expected = csrf_token(rt, path, session)
    if not isinstance(given, str) or not hmac.compare_digest(given.encode(), expected.encode()):
        raise refuse(403, "bad_form")


def client_ip(request: Request) -> str:
    """Whom the per-IP limits count: the address, or for IPv6 its /64 (one household or
    server usually holds the whole /64 and could otherwise take a new address per try)."""
    host = request.client.host if request.client else "unknown"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def count_form_use(rt: Runtime, ip: str) -> None:
    """BR-012: 30 POSTs an hour per IP on the public forms; beyond that a 429 page."""
    now = rt.now()

    def work(session: Session) -> bool:
        since = now - timedelta(hours=1)
        if queries.count_recent(session, WEB_FORM, ip, since) >= rt.house.limits.web_requests_per_hour:
            return False
        queries.count_use(session, WEB_FORM, ip, now)
        return True

    if not rt.store.run(work):
        raise refuse(429, "too_many")


ADMIN_SESSION_HOURS = 12


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def open_admin_session(rt: Runtime) -> str:
    """A new random session for one login (the cookie's value); expired ones are dropped."""
    secret, now = tokens.new_id(20), rt.now()

    def work(session: Session) -> None:
        session.execute(delete(AdminSession).where(AdminSession.expires_at < now))
        session.add(AdminSession(id=_digest(secret), token_digest=_digest(rt.settings.admin_token),
                                 created_at=now, expires_at=now + timedelta(hours=ADMIN_SESSION_HOURS)))

    rt.store.run(work)
    return secret


def close_admin_session(rt: Runtime, secret: str) -> None:
    def work(session: Session) -> None:
        session.execute(delete(AdminSession).where(AdminSession.id == _digest(secret)))

    rt.store.run(work)


def admin_token_matches(rt: Runtime, given: str) -> bool:
    expected = rt.settings.admin_token
    return bool(expected) and hmac.compare_digest(given.encode(), expected.encode())


def admin_session(rt: Runtime, request: Request) -> str | None:
    """The admin's session secret ("bearer" for API use), or None when not signed in. A
    session ends at logout, after 12 hours, or when ADMIN_TOKEN changes. Reads the database:
    call it from a thread, not the event loop."""
    if not rt.settings.admin_token:
        return None
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer ") and admin_token_matches(rt, header[7:].strip()):
        return "bearer"
    cookie = request.cookies.get(ADMIN_COOKIE)
    if not cookie or len(cookie) > 64:
        return None
    with rt.store.reading() as session:
        found = session.get(AdminSession, _digest(cookie))
        alive = (found is not None and found.expires_at > rt.now()
                 and hmac.compare_digest(found.token_digest, _digest(rt.settings.admin_token)))
    return cookie if alive else None


def require_admin(rt: Runtime, request: Request) -> str:
    if not rt.settings.admin_token:
        raise refuse(403, "admin_disabled")
    session = admin_session(rt, request)
    if session is None:
        raise refuse(401, "admin_login")
    return session
