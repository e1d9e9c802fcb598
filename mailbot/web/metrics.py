"""`/health` (is the database there?) and `/metrics` (Prometheus text format)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from mailbot.core.model import State
from mailbot.maillog import INBOUND_STATES, OUTBOUND_STATES
from mailbot.runtime import Runtime
from mailbot.store import DatabaseUnavailable
from mailbot.store.counters import LATENCY_BUCKETS
from mailbot.store.tables import MailCount
from mailbot.web import guard
from mailbot.web.context import web

PROMETHEUS = "text/plain; version=0.0.4; charset=utf-8"


def health(request: Request) -> Response:
    try:
        web(request).rt.store.ping()
    except DatabaseUnavailable:
        return PlainTextResponse("Datenbank nicht erreichbar – bitte später noch einmal versuchen.\n",
                                 status_code=503, headers={"Cache-Control": "no-store"})
    return PlainTextResponse("ok\n", headers={"Cache-Control": "no-store"})


def _counts(session: Session) -> dict[tuple[str, str], float]:
    """The counters the database keeps as mail comes and goes (a few dozen rows)."""
    query = select(MailCount.name, MailCount.label, func.sum(MailCount.value)).group_by(
        MailCount.name, MailCount.label)
    return {(name, label): float(value or 0) for name, label, value in session.execute(query)}


def collect(rt: Runtime) -> str:
    lines: list[str] = []

    def metric(name: str, kind: str, text: str, samples: list[tuple[str, float]]) -> None:
        lines.extend([f"# HELP {name} {text}", f"# TYPE {name} {kind}"])
        lines.extend(f"{name}{labels} {value:g}" for labels, value in samples)

    with rt.store.reading() as session:
        counts = _counts(session)
    inbound = {s: counts.get(("inbound", s), 0.0) for s in INBOUND_STATES}
    outbound = {s: counts.get(("outbound", s), 0.0) for s in OUTBOUND_STATES}
    booked = {s.value: counts.get(("bookings", s.value), 0.0) for s in State}
    metric("mailbot_inbound_messages", "gauge", "Inbound messages by state.",
           [(f'{{state="{s}"}}', n) for s, n in sorted(inbound.items())])
    metric("mailbot_outbound_messages", "gauge", "Outbound messages by state.",
           [(f'{{state="{s}"}}', n) for s, n in sorted(outbound.items())])
    metric("mailbot_outbox_depth", "gauge", "Outbound messages waiting to be sent.",
           [("", outbound["queued"] + outbound["retrying"] + outbound["sending"])])
    metric("mailbot_outbound_retries_total", "counter", "Send attempts beyond the first.",
           [("", counts.get(("outbound_retries", ""), 0.0))])
    metric("mailbot_bookings", "gauge", "Bookings by state.",
           [(f'{{state="{s}"}}', n) for s, n in sorted(booked.items())])
    samples: list[tuple[str, float]] = []
    seen = 0.0
    for bucket in (*LATENCY_BUCKETS, "+Inf"):
        seen += counts.get(("latency", bucket), 0.0)
        samples.append((f'_bucket{{le="{bucket}"}}', seen))
    samples += [("_sum", counts.get(("latency_sum", ""), 0.0)), ("_count", seen)]
    lines.extend(["# HELP mailbot_inbound_processing_seconds From received to processed.",
                  "# TYPE mailbot_inbound_processing_seconds histogram"])
    lines.extend(f"mailbot_inbound_processing_seconds{suffix} {value:g}" for suffix, value in samples)
    return "\n".join(lines) + "\n"


def metrics(request: Request) -> Response:
    """Behind the admin token (Bearer header or an admin session): counts are nobody's business."""
    rt = web(request).rt
    guard.require_admin(rt, request)
    return PlainTextResponse(collect(rt), media_type=PROMETHEUS)
