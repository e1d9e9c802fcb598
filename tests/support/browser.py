"""Driving the web view from tests: an HTTP client against the ASGI app, the app served by
a real uvicorn on a free port, and Debian's headless Chromium through Playwright."""

from __future__ import annotations

import asyncio
import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import uvicorn

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')
_POST_FORM = re.compile(r'<form method="post" action="([^"]*)"[^>]*>(.*?)</form>', re.S)


class WebClient:
    """Synchronous requests against the ASGI app (no network), with a cookie jar and a
    chosen client IP."""

    def __init__(self, app: Any, base_url: str = "http://127.0.0.1:8000", ip: str = "203.0.113.7"):
        self.app, self.base_url, self.ip = app, base_url, ip
        self.cookies = httpx.Cookies()

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        path = url[len(self.base_url):] if url.startswith(self.base_url) else url

        async def go() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app, client=(self.ip, 40000))
            async with httpx.AsyncClient(transport=transport, base_url=self.base_url,
                                         cookies=self.cookies) as client:
                response = await client.request(method, path, **kwargs)
                self.cookies = httpx.Cookies(client.cookies)
                return response

        return asyncio.run(go())

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", url, **kwargs)

    def submit(self, url: str, **fields: str) -> httpx.Response:
        """Open the page like a person would, then send its form with the given fields."""
        page = self.get(url)
        form = _POST_FORM.search(page.text)
        assert form, f"no form on {url}: {page.status_code}"
        found = _CSRF.search(form.group(2))
        assert found, f"no CSRF token in the form on {url}"
        return self.post(form.group(1) or url, data={"csrf": found.group(1), **fields})


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def served(app: Any, port: int) -> Iterator[str]:
    """The app on a real uvicorn in a thread; yields its base URL."""
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextmanager
def chromium(width: int = 375, height: int = 812) -> Iterator[Any]:
    """A fresh page in Debian's headless Chromium, phone-sized."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            context = browser.new_context(viewport={"width": width, "height": height},
                                          device_scale_factor=1, locale="de-DE")
            yield context.new_page()
        finally:
            browser.close()


def screenshot(page: Any, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@contextmanager
def site(tmp_path: Path, clock: Any) -> Iterator[tuple[Any, str]]:
    """A fresh SQLite house served on a real port, its BASE_URL matching so mailed links
    point at it; yields (runtime, base URL)."""
    import uuid

    from mailbot.config import Settings
    from mailbot.runtime import Runtime
    from mailbot.store.db import migrate

    port = free_port()
    url = f"sqlite:///{tmp_path / 'browser.sqlite3'}"
    migrate(url)
    rules = Path(__file__).resolve().parents[2] / "rules" / "house.toml"
    configured = Settings(database_url=url, base_url=f"http://127.0.0.1:{port}",
                          maildir=str(tmp_path / "outbox"), rules_file=str(rules),
                          secret_key="browser-" + uuid.uuid4().hex, admin_token="admin-" + uuid.uuid4().hex)
    rt = Runtime.from_settings(configured, clock)
    from mailbot.web.app import create_app

    with served(create_app(rt), port) as base:
        yield rt, base
    rt.store.dispose()


def mailed_link(rt: Any, to: str, pattern: str) -> str:
    """The first link in the mails to `to` whose URL matches `pattern`."""
    from sqlalchemy import select

    from mailbot.store.tables import OutboxMessage

    with rt.store.reading() as session:
        bodies = session.scalars(select(OutboxMessage.text_body).where(OutboxMessage.to_address == to)
                                 .order_by(OutboxMessage.id)).all()
    for body in bodies:
        found = re.search(r"https?://\S*" + pattern + r"\S*", body)
        if found:
            return found.group(0)
    raise AssertionError(f"no link like {pattern} mailed to {to}")


def book(rt: Any, email: str, first_name: str, start: Any, end: Any, party_size: int = 2,
         description: str = "") -> tuple[int, str]:
    """A booking made through the action layer; returns (booking id, requester link id)."""
    from mailbot import actions
    from mailbot.core.booking import Request
    from mailbot.runtime import Cause
    from mailbot.store import queries

    with rt.store.transaction() as session:
        created = actions.submit(rt, session, Request(email, first_name, start, end, party_size,
                                                      description, long_stay_confirmed=True),
                                 Cause.new())
        link_id = queries.person(session, email, rt.now()).link_id
        return int(created.id), link_id


def confirm(rt: Any, booking_id: int) -> None:
    """All approvers say yes."""
    for approver in rt.house.approvers:
        act(rt, "approve", booking_id, approver.key)


def act(rt: Any, name: str, booking_id: int, *args: Any, **kwargs: Any) -> None:
    """One action through the action layer, e.g. act(rt, "approve", 1, "ingeborg")."""
    from mailbot import actions
    from mailbot.runtime import Cause

    with rt.store.transaction() as session:
        getattr(actions, name)(rt, session, booking_id, *args, cause=Cause.new(), **kwargs)


def snapshot(rt: Any) -> tuple[Any, ...]:
    """Everything an action could change: bookings, decisions, timeline, outbox, counters."""
    from sqlalchemy import func, select

    from mailbot.store.tables import OutboxMessage, RateEvent, bookings, decisions, timeline

    with rt.store.reading() as session:
        return (
            session.execute(select(bookings).order_by(bookings.c.id)).all(),
            session.execute(select(decisions).order_by(decisions.c.id)).all(),
            session.scalar(select(func.count()).select_from(timeline)),
            session.scalar(select(func.count()).select_from(OutboxMessage)),
            session.scalar(select(func.count()).select_from(RateEvent)),
        )
