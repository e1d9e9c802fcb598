"""`mailbot serve`: SMTP, IMAP (when configured), the inbox and outbox workers, the web
view and the scheduler in one process and one event loop.

`mailbot work`: only the inbox worker, for more cores on PostgreSQL. Workers claim messages
with SKIP LOCKED and hear of new ones through LISTEN/NOTIFY, so any number of them can run
beside `serve`; on SQLite, whose writers take turns, they would only wait for each other."""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
import sys
from collections.abc import Callable, Coroutine
from typing import Any

from mailbot.runtime import Runtime
from mailbot.store.db import migrate

log = logging.getLogger("mailbot.serve")
Component = Callable[[Runtime, asyncio.Event], Coroutine[Any, Any, None]]


def components(rt: Runtime) -> dict[str, Component]:
    from mailbot.inbound import smtp
    from mailbot.inbound import worker as inbox_worker
    from mailbot.jobs import scheduler
    from mailbot.outbound import worker as outbox_worker
    from mailbot.web import app

    parts: dict[str, Component] = {
        "smtp": smtp.run,
        "inbox": inbox_worker.run,
        "outbox": outbox_worker.run,
        "web": app.serve,
        "scheduler": scheduler.run,
    }
    if rt.settings.imap_url:
        from mailbot.inbound import imap

        parts["imap"] = imap.run
    return parts


async def _main(rt: Runtime, parts: dict[str, Component]) -> bool:
    """Runs until a signal or a component failure; True when everything ended cleanly."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    tasks: dict[asyncio.Task[None], str] = {asyncio.create_task(run(rt, stop), name=name): name
             for name, run in parts.items()}
    log.info("mailbot läuft", extra={"components": sorted(tasks.values()),
                                     "smtp": rt.settings.smtp_listen, "web": rt.settings.web_listen})
    # What start-up made (modules, settings, templates) lives as long as the process: keep it
    # out of the collector's full passes, which otherwise stall every thread for tens of ms.
    gc.collect()
    gc.freeze()
    stopper = asyncio.create_task(stop.wait())
    await asyncio.wait({*tasks, stopper}, return_when=asyncio.FIRST_COMPLETED)
    failed = [name for task, name in tasks.items() if task.done() and task.exception() is not None]
    for task, name in tasks.items():
        if name in failed:
            log.error("component %s failed", name, exc_info=task.exception())
    stop.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    return not failed


def serve(rt: Runtime) -> int:
    from mailbot.logs import setup_logging

    setup_logging()
    migrate(rt.settings.database_url)  # the embedded default needs no separate step
    return 0 if asyncio.run(_main(rt, components(rt))) else 1


def work(rt: Runtime) -> int:
    from mailbot.inbound import worker as inbox_worker
    from mailbot.logs import setup_logging

    if rt.store.is_sqlite:
        print("mailbot work: nur mit PostgreSQL sinnvoll; mit SQLite erledigt `mailbot serve` alles.",
              file=sys.stderr)
        return 78  # EX_CONFIG: this DATABASE_URL is not for more workers
    setup_logging()  # no migration here: `serve` (or `mailbot migrate`) owns the schema
    return 0 if asyncio.run(_main(rt, {"inbox": inbox_worker.run})) else 1
