"""The web side: an explicit routing table, security headers on every response, German
error pages, and `serve` to run it with uvicorn inside the caller's event loop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Generator
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.convertors import Convertor, register_url_convertor
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from mailbot.config import Settings, trusted_proxies
from mailbot.runtime import Runtime
from mailbot.store import DatabaseUnavailable
from mailbot.web import admin, approver, calendar, metrics, person, proxy, recovery
from mailbot.web.cache import PageCache, cached
from mailbot.web.context import Web, web
from mailbot.web.views import TEMPLATES, Views

log = logging.getLogger("mailbot.web")

CSP = ("default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
       "frame-ancestors 'none'; base-uri 'none'")


class SecurityHeaders:
    """Adds the headers every response needs; the tokens live in URLs, so no referrer."""

    def __init__(self, app: ASGIApp, https: bool) -> None:
        self.app = app
        self.headers = [
            (b"content-security-policy", CSP.encode()),
            (b"referrer-policy", b"no-referrer"),
            (b"x-content-type-options", b"nosniff"),
            (b"x-frame-options", b"DENY"),
            (b"cross-origin-opener-policy", b"same-origin"),
        ]
        if https:
            self.headers.append((b"strict-transport-security", b"max-age=31536000; includeSubDomains"))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                extra = [h for h in self.headers if h[0] not in present]
                if b"cache-control" not in present:
                    extra.append((b"cache-control", b"private, no-store"))
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, send_with_headers)


ERRORS = {
    400: "Das hat nicht geklappt",
    401: "Bitte anmelden",
    403: "Kein Zugriff",
    404: "Nicht gefunden",
    405: "Das geht so nicht",
    429: "Zu viele Anfragen",
    500: "Da ist etwas schiefgegangen",
    503: "Gerade nicht erreichbar",
}


def _error_page(request: Request, status: int, detail: str = "") -> Response:
    views: Views = web(request).views
    headers = {"Retry-After": "60"} if status in (429, 503) else None
    return views.page("error.html.j2", status=status, headers=headers, code=status,
                      title=ERRORS.get(status, ERRORS[400]), detail=detail)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else ""
    return await run_in_threadpool(_error_page, request, exc.status_code, detail)


async def _unavailable(request: Request, exc: Exception) -> Response:
    log.warning("database unavailable: %s", exc)
    return await run_in_threadpool(_error_page, request, 503, "database")


async def _crash(request: Request, exc: Exception) -> Response:
    route = getattr(request.scope.get("route"), "path", "?")  # the pattern: no token in the log
    log.error("page failed: %s %s", request.method, route, exc_info=exc)
    return await run_in_threadpool(_error_page, request, 500)


def stylesheet(request: Request) -> Response:
    return Response(request.app.state.style, media_type="text/css",
                    headers={"Cache-Control": "public, max-age=3600"})


def _colours(rt: Runtime) -> str:
    """Approver colours come from the rules file; CSP forbids inline styles, so they
    become classes here (keys are [a-z0-9-], colours are validated #rrggbb)."""
    rules = [f".c-{a.key} {{ --bar: {a.color}; --dot: {a.color}; }}" for a in rt.house.approvers]
    return "\n".join([".c-none { --bar: #6b6b6b; --dot: #6b6b6b; }", *rules]) + "\n"


def no_icon(request: Request) -> Response:
    return Response(status_code=204, headers={"Cache-Control": "public, max-age=86400"})


def home(request: Request) -> Response:
    return web(request).views.page("home.html.j2")


STYLE = (TEMPLATES / "web.css").read_text(encoding="utf-8")


class RowId(Convertor[int]):
    """A database id: up to nine digits, so any larger number is simply no page (404) and
    never reaches the database as an integer it cannot hold."""

    regex = "[0-9]{1,9}"

    def convert(self, value: str) -> int:
        return int(value)

    def to_string(self, value: int) -> str:
        return str(value)


register_url_convertor("id", RowId())


def create_app(rt: Runtime) -> Starlette:
    routes = [
        Route("/", home),
        Route("/stil.css", stylesheet),
        Route("/favicon.ico", no_icon),
        Route("/health", metrics.health),
        Route("/metrics", metrics.metrics),
        Route("/link", recovery.form, methods=["GET"]),
        Route("/link", recovery.submit, methods=["POST"]),
        Route("/p/{token}", cached(person.overview)),
        Route("/p/{token}/buchung/{booking_id:id}", cached(person.booking_page)),
        Route("/p/{token}/buchung/{booking_id:id}/{action}", person.action, methods=["GET", "POST"]),
        Route("/a/{token}", cached(approver.overview)),
        Route("/a/{token}/buchung/{booking_id:id}", cached(approver.booking_page)),
        Route("/a/{token}/buchung/{booking_id:id}/{action}", approver.action,
              methods=["GET", "POST"]),
        Route("/kalender/{token}.ics", cached(calendar.feed)),  # first: the page takes any token
        Route("/kalender/{token}", cached(calendar.page)),
        Route("/admin", admin.log_page),
        Route("/admin/anmelden", admin.login, methods=["POST"]),
        Route("/admin/abmelden", admin.logout, methods=["POST"]),
        Route("/admin/ein/{message_id:id}", admin.inbound_page),
        Route("/admin/ein/{message_id:id}/roh", admin.raw_inbound),
        Route("/admin/aus/{message_id:id}", admin.outbound_page),
        Route("/admin/aus/{message_id:id}/roh", admin.raw_outbound),
        Route("/admin/aus/{message_id:id}/erneut", admin.resend, methods=["POST"]),
    ]
    app = Starlette(routes=routes, exception_handlers={
        HTTPException: _http_error, DatabaseUnavailable: _unavailable, Exception: _crash})
    app.state.web = Web(rt, Views(rt))
    app.state.style = STYLE + _colours(rt)
    app.state.pages = PageCache(rt.store)
    app.add_middleware(SecurityHeaders, https=rt.settings.base_url.startswith("https://"))
    trusted, everyone = trusted_proxies(rt.settings.forwarded_allow_ips)
    if trusted or everyone:
        app.add_middleware(proxy.ClientAddress, trusted=trusted, everyone=everyone,
                           header=rt.settings.client_ip_header)
    return app


class _Server(uvicorn.Server):
    """Signals belong to the process that runs us (`mailbot serve`), not to uvicorn."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


REQUEST_READ_SECONDS = 10.0  # from the first byte of a request to its last
MAX_HEAD_BYTES = 32 * 1024  # request line and headers; links and cookies need far less
KEEP_ALIVE_SECONDS = 5
MAX_CONNECTIONS = 200  # beyond this, new requests get 503 at once instead of queueing


class _Protocol(HttpToolsProtocol):
    """uvicorn's HTTP protocol with a deadline for reading a request: a connection that
    sends nothing, or its headers or body byte by byte, is closed instead of held."""

    read_seconds = REQUEST_READ_SECONDS

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.read_deadline: asyncio.TimerHandle | None = None
        self.head_bytes = 0

    def _arm(self) -> None:
        self._disarm()
        self.read_deadline = self.loop.call_later(self.read_seconds, self._too_slow)

    def _disarm(self) -> None:
        if self.read_deadline is not None:
            self.read_deadline.cancel()
            self.read_deadline = None

    def _too_slow(self) -> None:
        if not self.transport.is_closing():
            self.transport.close()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self.head_bytes = 0
        self._arm()

    def _count(self, size: int) -> None:
        self.head_bytes += size
        if self.head_bytes > MAX_HEAD_BYTES:  # uvicorn answers a parser error with 400, closed
            raise ValueError("request head too large")

    def on_url(self, url: bytes) -> None:
        self._count(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count(len(name) + len(value))
        super().on_header(name, value)

    def on_message_complete(self) -> None:
        self._disarm()
        super().on_message_complete()


async def serve(rt: Runtime, stop: asyncio.Event, read_seconds: float = REQUEST_READ_SECONDS) -> None:
    """Run the web view on WEB_LISTEN until `stop` is set."""
    host, port = Settings.split_listen(rt.settings.web_listen)
    config = uvicorn.Config(create_app(rt), host=host, port=port, log_level="warning",
                            access_log=False, lifespan="off", proxy_headers=False,
                            server_header=False, timeout_keep_alive=KEEP_ALIVE_SECONDS,
                            limit_concurrency=MAX_CONNECTIONS,
                            http=type("Protocol", (_Protocol,), {"read_seconds": read_seconds}))
    server = _Server(config)
    task = asyncio.create_task(server.serve())
    stopper = asyncio.create_task(stop.wait())
    await asyncio.wait({task, stopper}, return_when=asyncio.FIRST_COMPLETED)
    server.should_exit = True
    stopper.cancel()
    await task
