"""Shared fixtures: a fresh migrated database per test (SQLite and PostgreSQL), a runtime
with a controllable clock, and the house rules of rules/house.toml."""

from __future__ import annotations

import atexit
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from mailbot.config import Settings, load_house
from mailbot.runtime import Runtime
from mailbot.store.db import Store, migrate
from tests.support import postgres

ROOT = Path(__file__).resolve().parent.parent
_template: dict[str, str] = {}


class Clock:
    """The one clock, under the test's control. Starts at 2026-11-23 10:00 Berlin."""

    def __init__(self, now: datetime | None = None) -> None:
        self.current = now or datetime(2026, 11, 23, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.current

    def set(self, now: datetime) -> None:
        self.current = now

    def advance(self, **kwargs: float) -> None:
        self.current += timedelta(**kwargs)


def _postgres_url() -> str:
    if "url" not in _template:
        template_url = postgres.create_database()
        atexit.register(postgres.drop_database, template_url)
        migrate(template_url)
        _template["url"] = template_url
    return postgres.create_database(template=_template["url"].rsplit("/", 1)[1])


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, migrated database: once on SQLite, once on PostgreSQL."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'mailbot.sqlite3'}"
        migrate(url)
        yield url
    else:
        url = _postgres_url()
        yield url
        postgres.drop_database(url)


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh, migrated PostgreSQL database (for tests that only make sense there)."""
    url = _postgres_url()
    yield url
    postgres.drop_database(url)


@pytest.fixture
def clock() -> Clock:
    return Clock()


def make_settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url,
        maildir=str(tmp_path / "outbox"),
        rules_file=str(ROOT / "rules" / "house.toml"),
        secret_key="test-secret-" + uuid.uuid4().hex,
        admin_token="admin-" + uuid.uuid4().hex,
        base_url="http://127.0.0.1:8000",
    )


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return make_settings(database_url, tmp_path)


@pytest.fixture
def rt(settings: Settings, clock: Clock) -> Iterator[Runtime]:
    runtime = Runtime(settings, load_house(settings.rules_file), Store(settings.database_url), clock)
    yield runtime
    runtime.store.dispose()
