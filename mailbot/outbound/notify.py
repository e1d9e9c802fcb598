"""Who is told what (SPEC §4): domain events → outbox rows."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from mailbot.core.events import Event
from mailbot.runtime import Cause, Runtime


def notify(rt: Runtime, session: Session, events: Sequence[Event], cause: Cause) -> None:
    raise NotImplementedError
