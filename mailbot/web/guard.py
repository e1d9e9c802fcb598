"""Who may see and do what: link tokens, CSRF tokens on every form, the admin's session
and the per-IP limits on public forms (BR-012)."""

from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta

from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException
from starlette.requests import Request

from mailbot import tokens
from mailbot.config import Approver
from mailbot.runtime import Runtime
from mailbot.store import queries

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
    return request.client.host if request.client else "unknown"


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


def _admin_digest(rt: Runtime) -> str:
    return hashlib.sha256(rt.settings.admin_token.encode()).hexdigest()[:24]


def admin_cookie_value(rt: Runtime) -> str:
    """Signed and bound to the current ADMIN_TOKEN: changing the token logs everyone out."""
    return tokens.sign(rt.settings.secret_key, "admin", _admin_digest(rt))


def admin_token_matches(rt: Runtime, given: str) -> bool:
    expected = rt.settings.admin_token
    return bool(expected) and hmac.compare_digest(given.encode(), expected.encode())


def admin_session(rt: Runtime, request: Request) -> str | None:
    """The admin's session id ("bearer" for API use), or None when not signed in."""
    if not rt.settings.admin_token:
        return None
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer ") and admin_token_matches(rt, header[7:].strip()):
        return "bearer"
    cookie = request.cookies.get(ADMIN_COOKIE)
    value = tokens.unsign(rt.settings.secret_key, "admin", cookie)
    if value is not None and hmac.compare_digest(value.encode(), _admin_digest(rt).encode()):
        return cookie
    return None


def require_admin(rt: Runtime, request: Request) -> str:
    if not rt.settings.admin_token:
        raise refuse(403, "admin_disabled")
    session = admin_session(rt, request)
    if session is None:
        raise refuse(401, "admin_login")
    return session
