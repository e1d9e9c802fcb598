"""`/health` (is the database there?) and `/metrics` (Prometheus text format)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from mailbot.runtime import Runtime
from mailbot.store.db import DatabaseUnavailable
from mailbot.store.tables import InboxMessage, OutboxMessage, bookings
from mailbot.web import guard
from mailbot.web.context import web
from mailbot.web.maillog import INBOUND_STATES, OUTBOUND_STATES

# seconds from received to processed
LATENCY_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)
PROMETHEUS = "text/plain; version=0.0.4; charset=utf-8"


def health(request: Request) -> Response:
    try:
        web(request).rt.store.ping()
    except DatabaseUnavailable:
        return PlainTextResponse("Datenbank nicht erreichbar – bitte später noch einmal versuchen.\n",
                                 status_code=503, headers={"Cache-Control": "no-store"})
    return PlainTextResponse("ok\n", headers={"Cache-Control": "no-store"})


def _by_state(session: Session, column: Any, states: tuple[str, ...]) -> dict[str, int]:
    counts = dict.fromkeys(states, 0)
    for state, count in session.execute(select(column, func.count()).group_by(column)):
        counts[str(state)] = int(count)
    return counts


def collect(rt: Runtime) -> str:
    lines: list[str] = []

    def metric(name: str, kind: str, text: str, samples: list[tuple[str, float]]) -> None:
        lines.extend([f"# HELP {name} {text}", f"# TYPE {name} {kind}"])
        lines.extend(f"{name}{labels} {value:g}" for labels, value in samples)

    with rt.store.reading() as session:
        inbound = _by_state(session, InboxMessage.state, INBOUND_STATES)
        outbound = _by_state(session, OutboxMessage.state, OUTBOUND_STATES)
        booked = _by_state(session, bookings.c.state, ("pending", "confirmed", "denied", "canceled"))
        retries = session.scalar(select(func.coalesce(func.sum(OutboxMessage.attempts - 1), 0))
                                 .where(OutboxMessage.attempts > 1)) or 0
        timings = session.execute(select(InboxMessage.received_at, InboxMessage.processed_at)
                                  .where(InboxMessage.processed_at.is_not(None))).all()
    metric("mailbot_inbound_messages", "gauge", "Inbound messages by state.",
           [(f'{{state="{s}"}}', n) for s, n in sorted(inbound.items())])
    metric("mailbot_outbound_messages", "gauge", "Outbound messages by state.",
           [(f'{{state="{s}"}}', n) for s, n in sorted(outbound.items())])
    metric("mailbot_outbox_depth", "gauge", "Outbound messages waiting to be sent.",
           [("", outbound.get("queued", 0) + outbound.get("retrying", 0) + outbound.get("sending", 0))])
    metric("mailbot_outbound_retries_total", "counter", "Send attempts beyond the first.",
           [("", float(retries))])
    metric("mailbot_bookings", "gauge", "Bookings by state.",
           [(f'{{state="{s}"}}', n) for s, n in sorted(booked.items())])
    seconds = [max((done - got).total_seconds(), 0.0) for got, done in timings if done and got]
    samples: list[tuple[str, float]] = [
        (f'_bucket{{le="{b:g}"}}', float(sum(1 for s in seconds if s <= b))) for b in LATENCY_BUCKETS]
    samples += [('_bucket{le="+Inf"}', len(seconds)), ("_sum", sum(seconds)), ("_count", len(seconds))]
    lines.extend(["# HELP mailbot_inbound_processing_seconds From received to processed.",
                  "# TYPE mailbot_inbound_processing_seconds histogram"])
    lines.extend(f"mailbot_inbound_processing_seconds{suffix} {value:g}" for suffix, value in samples)
    return "\n".join(lines) + "\n"


def metrics(request: Request) -> Response:
    """Behind the admin token (Bearer header or an admin session): counts are nobody's business."""
    rt = web(request).rt
    guard.require_admin(rt, request)
    return PlainTextResponse(collect(rt), media_type=PROMETHEUS)
