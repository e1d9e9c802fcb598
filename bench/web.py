"""Web view under load: the calendar and a requester's page at 100 concurrent connections.

Runs the real `mailbot serve` (one process, one event loop, as deployed) on SQLite and on
PostgreSQL, seeds bookings through the action layer, waits until the outbox has drained,
then drives each page with `wrk` (Debian package `wrk`; an httpx client when it is
missing) and reports requests/s, p50, p99 and errors.

    .venv/bin/python bench/web.py [--seconds 15] [--connections 100] [--kinds sqlite,postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.lib import Db, Service, machine, served  # noqa: E402
from mailbot.config import Settings  # noqa: E402
from mailbot.runtime import Runtime  # noqa: E402
from mailbot.web import links  # noqa: E402
from tests.support.browser import act, book  # noqa: E402

PEOPLE = 30
BOOKINGS = 90  # three a person, over the next year
OWN = "gast0@gaeste.example"  # the requester whose page is measured


@dataclass
class Result:
    page: str
    kind: str
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int
    tool: str

    @property
    def rate(self) -> float:
        return self.requests / self.seconds


def seed(service: Service) -> tuple[str, str]:
    """Bookings for PEOPLE people, some confirmed; returns (calendar URL, requester URL)."""
    settings = Settings.from_env({k: v for k, v in service.env.items() if k.isupper()})
    rt = Runtime.from_settings(settings)
    today = rt.today()
    own_link = ""
    for n in range(BOOKINGS):
        start = today + timedelta(days=3 + n * 4)
        person = n % PEOPLE
        booking_id, link_id = book(rt, f"gast{person}@gaeste.example", f"Gast{chr(65 + person % 26)}",
                                   start, start + timedelta(days=2), 1 + n % 8, "Wir freuen uns")
        if n % 3 == 0:
            for key in ("ingeborg", "cornelia", "angelika"):
                act(rt, "approve", booking_id, key)
        elif n % 3 == 1:
            act(rt, "approve", booking_id, "cornelia")
        if person == 0:
            own_link = link_id
    month = today + timedelta(days=40)
    calendar = f"{links.calendar_url(rt)}?monat={month:%Y-%m}"
    rt.store.dispose()
    return calendar, links.person_url(rt, own_link)


def drained(db: Db, timeout: float = 300.0) -> None:
    """Wait until the outbox worker has sent what seeding queued (it would compete for CPU)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        states = db.states("outbox_messages")
        if states and set(states) <= {"sent", "failed"}:
            return
        time.sleep(0.5)
    raise RuntimeError(f"outbox did not drain: {db.states('outbox_messages')}")


def _ms(value: str, unit: str) -> float:
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


# Each request gets its own query string, so no rendering is ever reused (the cold case).
COLD = """
counter = 0
request = function()
  counter = counter + 1
  local sep = string.find(wrk.path, "?", 1, true) and "&" or "?"
  return wrk.format(nil, wrk.path .. sep .. "n=" .. counter .. "-" .. math.random(1e9))
end
"""


def with_wrk(url: str, connections: int, seconds: int, cold: bool = False
             ) -> tuple[int, float, float, float, int]:
    script: list[str] = []
    if cold:
        lua = Path(tempfile.mkstemp(suffix=".lua")[1])
        lua.write_text(COLD)
        script = ["-s", str(lua)]
    out = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--timeout", "5s",
                          "--latency", *script, url], capture_output=True, text=True)
    if "requests in" not in out.stdout:
        raise RuntimeError(f"wrk failed ({out.returncode}): {out.stdout}{out.stderr}")
    return _wrk_numbers(out.stdout)


def _wrk_numbers(out: str) -> tuple[int, float, float, float, int]:
    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    took = re.search(r"requests in ([\d.]+)(\w+),", out)
    assert took is not None
    elapsed = _ms(took.group(1), took.group(2)) / 1000.0
    p50 = re.search(r"50%\s+([\d.]+)(us|ms|s)", out)
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    assert p50 is not None and p99 is not None
    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors += int(non_2xx.group(1)) if non_2xx else 0
    if errors:
        print(out, file=sys.stderr)
    return requests, elapsed, _ms(*p50.groups()), _ms(*p99.groups()), errors


def with_httpx(url: str, connections: int, seconds: int, cold: bool = False
               ) -> tuple[int, float, float, float, int]:
    import httpx

    async def run() -> tuple[list[float], int, float]:
        timings: list[float] = []
        errors = 0
        limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
        async with httpx.AsyncClient(limits=limits, timeout=5.0) as client:
            began = time.perf_counter()
            end = began + seconds

            async def worker() -> None:
                nonlocal errors
                while time.perf_counter() < end:
                    t0 = time.perf_counter()
                    try:
                        response = await client.get(url, params={"n": time.perf_counter_ns()}
                                                    if cold else None)
                        if response.status_code != 200:
                            errors += 1
                    except httpx.HTTPError:
                        errors += 1
                    timings.append(time.perf_counter() - t0)

            await asyncio.gather(*(worker() for _ in range(connections)))
            return timings, errors, time.perf_counter() - began

    timings, errors, elapsed = asyncio.run(run())
    timings.sort()
    p99 = timings[min(len(timings) - 1, int(len(timings) * 0.99))]
    return len(timings), elapsed, statistics.median(timings) * 1000, p99 * 1000, errors


def measure(kind: str, connections: int, seconds: int) -> list[Result]:
    tool = "wrk" if shutil.which("wrk") else "httpx"
    drive = with_wrk if tool == "wrk" else with_httpx
    results: list[Result] = []
    with served(kind, "web") as (service, db):
        calendar, requester = seed(service)
        drained(db)
        for page, url in (("calendar", calendar), ("requester page", requester)):
            drive(url, connections, 2)  # warm up
            requests, elapsed, p50, p99, errors = drive(url, connections, seconds)
            results.append(Result(page, kind, requests, elapsed, p50, p99, errors, tool))
            requests, elapsed, p50, p99, errors = drive(url, connections, seconds, cold=True)
            results.append(Result(f"{page} (cold)", kind, requests, elapsed, p50, p99, errors, tool))
            time.sleep(3)  # let the renders still queued from the cold run finish
            for r in results[-2:]:
                print(f"  {kind:8} {r.page:22} {r.rate:8.0f} req/s  p50 {r.p50_ms:6.1f} ms  "
                      f"p99 {r.p99_ms:6.1f} ms  errors {r.errors}", flush=True)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=100)
    parser.add_argument("--kinds", default="sqlite,postgres")
    args = parser.parse_args()
    info = machine()
    print(f"web bench: {args.connections} connections, {args.seconds} s per page; {info}")
    results: list[Result] = []
    for kind in args.kinds.split(","):
        results += measure(kind, args.connections, args.seconds)
    print("\n| database | page | requests/s | p50 | p99 | errors | requests |")
    print("|---|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r.kind} | {r.page} | {r.rate:.0f} | {r.p50_ms:.1f} ms | {r.p99_ms:.1f} ms | "
              f"{r.errors} | {r.requests} |")
    return 0 if all(r.errors == 0 for r in results if "cold" not in r.page) else 1


if __name__ == "__main__":
    sys.exit(main())
