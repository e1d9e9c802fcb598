"""What every edge needs at hand: settings, house rules, the store and the one clock."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from mailbot.config import House, Settings, load_house
from mailbot.store.db import Store


def system_clock() -> datetime:
    return datetime.now(UTC)


@dataclass
class Runtime:
    settings: Settings
    house: House
    store: Store
    clock: Callable[[], datetime] = field(default=system_clock)

    @staticmethod
    def from_settings(settings: Settings, clock: Callable[[], datetime] = system_clock) -> Runtime:
        return Runtime(settings, load_house(settings.rules_file), Store(settings.database_url), clock)

    def now(self) -> datetime:
        """Aware UTC."""
        return self.clock()

    def today(self) -> date:
        """The house's calendar day (Europe/Berlin by default)."""
        return self.now().astimezone(self.house.timezone).date()


@dataclass(frozen=True)
class Cause:
    """Why something is being done: follows an inbound message to the mails it causes."""

    correlation_id: str
    inbox_id: int | None = None
    # the message being answered: a mail to its sender answers it (In-Reply-To/References)
    sender: str | None = None
    message_id: str | None = None
    references: tuple[str, ...] = ()

    @staticmethod
    def new(inbox_id: int | None = None) -> Cause:
        return Cause(uuid.uuid4().hex[:16], inbox_id)
