"""The IMAP edge (when IMAP_URL is set): fetch, store, and only then move the message away.

Every message in the watched folder is stored with source id `<uidvalidity>:<uid>` and then
moved to the processed folder (`mailbot/verarbeitet`, created if missing). A crash between
store and move leaves the message in place; the next sweep stores it again, which the inbox
answers as a duplicate, and moves it. What is stored is therefore the poller's memory of
UIDVALIDITY/UID: nothing else needs remembering, because the folder only ever holds mail
that has not been moved yet.

The poller waits with IDLE when the server offers it and polls otherwise (or when IDLE
fails); a lost connection or an unavailable database ends the session, and it reconnects
by itself with growing pauses.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import time
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientAbortError, IMAPClientError

from mailbot.inbound import inbox
from mailbot.runtime import Runtime

log = logging.getLogger(__name__)

PROCESSED = ("mailbot", "verarbeitet")
POLL_SECONDS = 60.0
IDLE_SECONDS = 9 * 60.0  # re-issue IDLE well before servers drop it (RFC 2177: 29 min)
BACKOFF = (1.0, 2.0, 5.0, 10.0, 30.0, 60.0)
BATCH = 20


class ConnectionLost(Exception):
    """The server went away while we were waiting in IDLE."""


@dataclass(frozen=True)
class Mailbox:
    host: str
    port: int
    ssl: bool
    user: str
    password: str
    folder: str = "INBOX"

    @staticmethod
    def parse(url: str) -> Mailbox:
        """imap://user:pass@host:port/INBOX or imaps://…; user and password may be %-encoded."""
        parts = urlsplit(url)
        if parts.scheme not in ("imap", "imaps") or not parts.hostname:
            raise ValueError("IMAP_URL must look like imap(s)://user:password@host:port/FOLDER")
        secure = parts.scheme == "imaps"
        return Mailbox(
            host=parts.hostname,
            port=parts.port or (993 if secure else 143),
            ssl=secure,
            user=unquote(parts.username or ""),
            password=unquote(parts.password or ""),
            folder=unquote(parts.path.lstrip("/")) or "INBOX",
        )

    def __repr__(self) -> str:  # never log the password
        return f"Mailbox({self.user}@{self.host}:{self.port}/{self.folder})"


class Poller:
    """One mailbox, watched from a thread until `halt` is set."""

    def __init__(self, rt: Runtime, mailbox: Mailbox, halt: threading.Event,
                 poll_seconds: float = POLL_SECONDS, idle_seconds: float = IDLE_SECONDS,
                 backoff: Sequence[float] = BACKOFF, use_idle: bool = True) -> None:
        self.rt = rt
        self.mailbox = mailbox
        self.halt = halt
        self.poll_seconds = poll_seconds
        self.idle_seconds = idle_seconds
        self.backoff = tuple(backoff) or (1.0,)
        self.use_idle = use_idle
        self.sessions = 0  # connections made so far (the admin and tests can see reconnects)
        self._too_big: set[str] = set()

    # -- the loop -----------------------------------------------------------------------

    def run(self) -> None:
        failures = 0
        while not self.halt.is_set():
            try:
                self._session()
                failures = 0
            except Exception as exc:
                pause = self.backoff[min(failures, len(self.backoff) - 1)]
                failures += 1
                log.warning("IMAP %r: %s: %s; reconnecting in %.1f s", self.mailbox,
                            type(exc).__name__, exc, pause)
                self.halt.wait(pause)

    def _connect(self) -> IMAPClient:
        client = IMAPClient(self.mailbox.host, port=self.mailbox.port, ssl=self.mailbox.ssl,
                            timeout=30)
        try:
            client.login(self.mailbox.user, self.mailbox.password)
        except Exception:
            _close(client)
            raise
        self.sessions += 1
        return client

    def _session(self) -> None:
        client = self._connect()
        try:
            target = self._processed_folder(client)
            while not self.halt.is_set():
                self.sweep(client, target)
                if self.use_idle and client.has_capability("IDLE"):
                    self._idle(client)
                else:
                    self._poll(client)
        finally:
            _close(client)

    # -- one sweep ----------------------------------------------------------------------

    def _processed_folder(self, client: IMAPClient) -> str:
        listed = client.list_folders(directory="", pattern="")
        separator = listed[0][1] if listed and listed[0][1] else b"/"
        sep = separator.decode() if isinstance(separator, bytes) else str(separator)
        name = sep.join(PROCESSED)
        if not client.folder_exists(name):
            client.create_folder(name)
            with suppress(IMAPClientError):  # subscribing is a courtesy for mail clients
                client.subscribe_folder(name)
        return name

    def sweep(self, client: IMAPClient, target: str) -> int:
        """Store every message of the folder, then move it; returns how many were moved."""
        selected = client.select_folder(self.mailbox.folder)
        uidvalidity = int(selected[b"UIDVALIDITY"])
        uids = sorted(client.search(["NOT", "DELETED"]))
        moved = 0
        for start in range(0, len(uids), BATCH):
            batch = uids[start:start + BATCH]
            sizes = client.fetch(batch, ["RFC822.SIZE"])
            wanted = [uid for uid in batch if not self._oversized(uidvalidity, uid, sizes.get(uid))]
            stored = []
            for uid, data in client.fetch(wanted, ["BODY.PEEK[]"]).items() if wanted else []:
                raw = data.get(b"BODY[]")
                if raw is None:
                    continue
                inbox.store_raw(self.rt, bytes(raw), "imap", f"{uidvalidity}:{uid}")
                stored.append(uid)
            if stored:
                self._move(client, stored, target)
                moved += len(stored)
        if moved:
            log.info("IMAP %r: stored and moved %s message(s)", self.mailbox, moved)
        return moved

    def _oversized(self, uidvalidity: int, uid: int, data: dict[bytes, Any] | None) -> bool:
        size = int((data or {}).get(b"RFC822.SIZE", 0))
        if size <= self.rt.house.limits.max_message_bytes:
            return False
        key = f"{uidvalidity}:{uid}"
        if key not in self._too_big:  # left in the folder for a person; said once
            self._too_big.add(key)
            log.warning("IMAP %r: message %s has %s bytes, more than the limit; left in place",
                        self.mailbox, key, size)
        return True

    def _move(self, client: IMAPClient, uids: list[int], target: str) -> None:
        if client.has_capability("MOVE"):
            client.move(uids, target)
            return
        client.copy(uids, target)
        client.add_flags(uids, [b"\\Deleted"], silent=True)
        if client.has_capability("UIDPLUS"):
            client.uid_expunge(uids)
        else:
            client.expunge()

    # -- waiting ------------------------------------------------------------------------

    def _poll(self, client: IMAPClient) -> None:
        self.halt.wait(self.poll_seconds)
        if not self.halt.is_set():
            client.noop()

    def _idle(self, client: IMAPClient) -> None:
        """Wait in IDLE until the folder changes, `idle_seconds` pass, or we are halted."""
        pending: dict[str, Any] = getattr(client._imap, "untagged_responses", {})
        pending.clear()
        try:
            client.idle()
        except IMAPClientAbortError:
            raise
        except IMAPClientError as exc:
            log.warning("IMAP %r: IDLE refused (%s); polling every %.0f s instead", self.mailbox,
                        exc, self.poll_seconds)
            self.use_idle = False
            return
        # A message that arrived just before IDLE is announced before the server's go-ahead.
        changed = any(name in pending for name in ("EXISTS", "RECENT"))
        deadline = time.monotonic() + min(self.idle_seconds, self.poll_seconds)
        lost = False
        try:
            while not changed and not self.halt.is_set() and time.monotonic() < deadline:
                began = time.monotonic()
                responses = client.idle_check(timeout=1.0)
                if not responses and time.monotonic() - began < 0.5 and _closed(client):
                    lost = True
                    raise ConnectionLost("the server closed the connection")
                for response in responses:
                    if response and response[0] == b"BYE":
                        lost = True
                        raise ConnectionLost(f"the server said goodbye: {response!r}")
                    if len(response) > 1 and response[1] in (b"EXISTS", b"RECENT"):
                        changed = True
        finally:
            if not lost:
                client.idle_done()


def _closed(client: IMAPClient) -> bool:
    """True when the peer has closed the socket (a read would return end of file)."""
    sock = client.socket()
    try:
        sock.setblocking(False)
        return sock.recv(1, socket.MSG_PEEK) == b""
    except (BlockingIOError, InterruptedError):
        return False
    except OSError:
        return True
    finally:
        sock.setblocking(True)


def _close(client: IMAPClient) -> None:
    try:
        client.logout()
    except Exception:
        with suppress(Exception):
            client.shutdown()


async def run(rt: Runtime, stop: asyncio.Event, **options: Any) -> None:
    """Watch IMAP_URL until `stop` is set; the blocking IMAP work runs in a thread."""
    halt = threading.Event()
    poller = Poller(rt, Mailbox.parse(rt.settings.imap_url), halt, **options)
    worker = asyncio.create_task(asyncio.to_thread(poller.run))
    stopping = asyncio.create_task(stop.wait())
    try:
        await asyncio.wait({worker, stopping}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        halt.set()
        stopping.cancel()
        await worker
