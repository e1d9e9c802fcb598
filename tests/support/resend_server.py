"""A small Resend-compatible HTTP server for tests and benchmarks (loopback only).

`POST /emails` works like Resend's: Bearer auth, a JSON body, `{"id": …}` back, and
`Idempotency-Key` honoured (the same key returns the same id and is stored once; the same
key with another body is a 409). Faults can be switched on: answer 500 or 429 (with
Retry-After), or accept the message and then hang past the client's timeout — for the next
N requests or for T seconds.

    with ResendServer() as server:
        os.environ["RESEND_API_URL"] = server.url
        server.fail_next(2, status=500)
        ...
        assert len(server.deliveries) == 1
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Delivery:
    id: str
    idempotency_key: str | None
    body: dict[str, Any]
    headers: dict[str, str]


@dataclass
class _Fault:
    kind: str  # "status" or "hang"
    status: int = 500
    retry_after: float | None = None
    hang_seconds: float = 0.0
    remaining: int | None = None  # requests left, or None when time-bound
    until: float | None = None  # monotonic deadline, or None when count-bound

    def active(self) -> bool:
        if self.remaining is not None:
            return self.remaining > 0
        return self.until is not None and time.monotonic() < self.until


@dataclass
class _State:
    api_key: str
    deliveries: list[Delivery] = field(default_factory=list)
    by_key: dict[str, tuple[str, str]] = field(default_factory=dict)  # key → (id, body hash)
    answers: list[int] = field(default_factory=list)  # status of every answered POST
    fault: _Fault | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)
    stopping: threading.Event = field(default_factory=threading.Event)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in two writes; do not wait between

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - keep test output quiet
        pass

    def _answer(self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout); the outcome stands
        if self.command == "POST":
            with self.server.state.lock:
                self.server.state.answers.append(status)

    def _error(self, status: int, name: str, message: str, headers: dict[str, str] | None = None) -> None:
        self._answer(status, {"statusCode": status, "name": name, "message": message}, headers)

    def do_GET(self) -> None:  # noqa: N802 - http.server naming
        state = self.server.state
        if not self.path.startswith("/emails/"):
            return self._error(404, "not_found", "Not found")
        wanted = self.path.rsplit("/", 1)[1]
        with state.lock:
            found = next((d for d in state.deliveries if d.id == wanted), None)
        if found is None:
            return self._error(404, "not_found", "Email not found")
        return self._answer(200, {"object": "email", "id": found.id, **found.body})

    def do_POST(self) -> None:  # noqa: N802 - http.server naming
        state = self.server.state
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        if self.path.rstrip("/") != "/emails":
            return self._error(404, "not_found", "Not found")
        if self.headers.get("Authorization") != f"Bearer {state.api_key}":
            return self._error(401 if not self.headers.get("Authorization") else 403,
                               "invalid_api_key", "API key is invalid")
        with state.lock:
            fault = state.fault if state.fault and state.fault.active() else None
            if fault and fault.remaining is not None:
                fault.remaining -= 1
        if fault and fault.kind == "status":
            headers = {"Retry-After": f"{fault.retry_after:g}"} if fault.retry_after is not None else {}
            name = "rate_limit_exceeded" if fault.status == 429 else "internal_server_error"
            return self._error(fault.status, name, "Injected fault", headers)
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            return self._error(400, "invalid_json", "Body is not JSON")
        missing = [k for k in ("from", "to", "subject") if not body.get(k)]
        if missing:
            return self._error(422, "missing_required_field", f"Missing {', '.join(missing)}")
        key = self.headers.get("Idempotency-Key")
        digest = hashlib.sha256(raw).hexdigest()
        with state.lock:
            if key and key in state.by_key:
                known_id, known_digest = state.by_key[key]
                if known_digest != digest:
                    conflict = True
                else:
                    conflict, email_id = False, known_id
            else:
                conflict, email_id = False, str(uuid.uuid4())
                state.deliveries.append(Delivery(email_id, key, body, dict(self.headers.items())))
                if key:
                    state.by_key[key] = (email_id, digest)
        if conflict:
            return self._error(409, "invalid_idempotent_request",
                               "Same idempotency key used with a different payload")
        if fault and fault.kind == "hang":  # accepted, but the answer comes too late
            state.stopping.wait(fault.hang_seconds)
        return self._answer(200, {"id": email_id})


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    state: _State


class ResendServer:
    def __init__(self, api_key: str = "re_test_key", host: str = "127.0.0.1", port: int = 0) -> None:
        self.state = _State(api_key)
        self._server = _Server((host, port), _Handler)
        self._server.state = self.state
        self._thread = threading.Thread(target=self._server.serve_forever, name="resend-server",
                                        daemon=True)

    @property
    def api_key(self) -> str:
        return self.state.api_key

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def deliveries(self) -> list[Delivery]:
        with self.state.lock:
            return list(self.state.deliveries)

    @property
    def answers(self) -> list[int]:
        with self.state.lock:
            return list(self.state.answers)

    def fail_next(self, count: int, status: int = 500, retry_after: float | None = None) -> None:
        self._set(_Fault("status", status, retry_after, remaining=count))

    def fail_for(self, seconds: float, status: int = 500, retry_after: float | None = None) -> None:
        self._set(_Fault("status", status, retry_after, until=time.monotonic() + seconds))

    def hang_next(self, count: int, seconds: float) -> None:
        """Accept the next `count` messages but answer only after `seconds`."""
        self._set(_Fault("hang", hang_seconds=seconds, remaining=count))

    def hang_for(self, duration: float, seconds: float) -> None:
        self._set(_Fault("hang", hang_seconds=seconds, until=time.monotonic() + duration))

    def heal(self) -> None:
        self._set(None)

    def _set(self, fault: _Fault | None) -> None:
        with self.state.lock:
            self.state.fault = fault

    def start(self) -> ResendServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.state.stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> ResendServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
