"""Rendered read-only pages, kept until the data changes.

Pages are read far more often than bookings change. A write transaction of this process
that changed what the pages show (bookings, decisions, timeline, people) bumps a generation
when it commits, and a page rendered under an older generation is never served again; the
many transactions that only record mail (an ignored message, a status answer, a send)
leave the pages alone. Writes from another process
(a second instance) are not seen that way, so a page is also rendered again once it is
`ttl` seconds old; meanwhile the previous rendering is served (never older than `stale`),
so readers do not queue behind the renderer. One page is rendered once at a time.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from mailbot.store.db import Store

# a write to a table the cached pages show (a savepoint rolled back still counts: safe)
_SHOWN_CHANGES = re.compile(
    r'\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?(?:bookings|decisions|timeline_events|people)\b',
    re.IGNORECASE)


@dataclass(frozen=True)
class Entry:
    generation: int
    born: float
    body: bytes
    headers: dict[str, str]
    media_type: str | None

    def response(self) -> Response:
        return Response(self.body, headers=self.headers, media_type=self.media_type)


class PageCache:
    def __init__(self, store: Store, ttl: float = 5.0, stale: float = 30.0, size: int = 512) -> None:
        self.ttl, self.stale, self.size = ttl, stale, size
        self.generation = 0
        self._entries: OrderedDict[str, Entry] = OrderedDict()
        self._lock = threading.Lock()
        self.rendering: dict[str, asyncio.Future[None]] = {}
        for engine in store.engines:  # the inbox worker's too
            event.listen(engine, "before_cursor_execute", self._statement)
            event.listen(engine, "commit", self._committed)
            event.listen(engine, "rollback", self._rolled_back)

    @staticmethod
    def _statement(connection: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if _SHOWN_CHANGES.match(statement):
            connection.info["pages_changed"] = True

    def _committed(self, connection: Any) -> None:
        if connection.info.pop("pages_changed", False):
            with self._lock:
                self.generation += 1

    @staticmethod
    def _rolled_back(connection: Any) -> None:
        connection.info.pop("pages_changed", None)

    def get(self, key: str) -> tuple[Entry | None, bool]:
        """(entry, fresh): an entry of the current generation, and whether it is young."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None, False
            age = time.monotonic() - entry.born
            if entry.generation != self.generation or age > self.stale:
                del self._entries[key]
                return None, False
            self._entries.move_to_end(key)
            return entry, age <= self.ttl

    def put(self, key: str, generation: int, response: Response) -> None:
        headers = {k: v for k, v in response.headers.items()
                   if k not in ("content-length", "content-type")}
        entry = Entry(generation, time.monotonic(), bytes(response.body), headers,
                      response.headers.get("content-type"))
        with self._lock:
            if generation != self.generation:
                return  # the data changed while this page was rendered
            self._entries[key] = entry
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)


def cached(render: Callable[[Request], Response]) -> Callable[[Request], Awaitable[Response]]:
    """A read-only page served from the cache when nothing changed since it was rendered."""

    def claim(cache: PageCache, key: str) -> asyncio.Future[None]:
        """Mark the page as being rendered (synchronously, so nobody else starts too)."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        cache.rendering[key] = done
        return done

    async def fill(cache: PageCache, key: str, request: Request, done: asyncio.Future[None]
                   ) -> Response:
        generation = cache.generation
        try:
            response = await run_in_threadpool(render, request)
            if response.status_code == 200:
                cache.put(key, generation, response)
            return response
        finally:
            if cache.rendering.get(key) is done:
                del cache.rendering[key]
            done.set_result(None)

    async def refresh(cache: PageCache, key: str, request: Request, done: asyncio.Future[None]) -> None:
        with contextlib.suppress(Exception):  # the next reader renders it and sees the error
            await fill(cache, key, request, done)

    async def endpoint(request: Request) -> Response:
        cache: PageCache = request.app.state.pages
        key = f"{request.url.path}?{request.url.query}"
        entry, fresh = cache.get(key)
        if entry is not None:
            if not fresh and key not in cache.rendering:
                task = asyncio.create_task(refresh(cache, key, request, claim(cache, key)))
                _background.add(task)
                task.add_done_callback(_background.discard)
            return entry.response()
        running = cache.rendering.get(key)
        if running is not None:  # someone is rendering this page: wait and share it
            await asyncio.shield(running)
            entry, _ = cache.get(key)
            if entry is not None:
                return entry.response()
        if key in cache.rendering:
            return await run_in_threadpool(render, request)
        return await fill(cache, key, request, claim(cache, key))

    return endpoint


_background: set[asyncio.Task[None]] = set()
