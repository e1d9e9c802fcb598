"""Run an asyncio service (SMTP server, worker, poller) in a thread of its own for a test."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager, suppress


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def wait_until(condition: Callable[[], object], timeout: float = 20.0, step: float = 0.02) -> object:
    """Poll until `condition()` is truthy; fail the test if it never becomes so."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(step)


@contextmanager
def running(service: Callable[[asyncio.Event], Awaitable[None]]) -> Iterator[None]:
    """Start `service(stop)` on a fresh loop in a thread; set `stop` and join on exit."""
    loop = asyncio.new_event_loop()
    stop_box: list[asyncio.Event] = []
    failure: list[BaseException] = []
    ready = threading.Event()

    async def main() -> None:
        stop = asyncio.Event()
        stop_box.append(stop)
        ready.set()
        await service(stop)

    def target() -> None:
        try:
            loop.run_until_complete(main())
        except BaseException as exc:  # reported to the test below
            failure.append(exc)
        finally:
            ready.set()
            loop.close()

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    ready.wait(10)
    try:
        yield
    finally:
        if stop_box and not loop.is_closed():
            with suppress(RuntimeError):
                loop.call_soon_threadsafe(stop_box[0].set)
        thread.join(30)
        if failure:
            raise failure[0]
