"""`mailbot migrate` builds exactly the schema the code expects, on SQLite and PostgreSQL."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, text
from sqlalchemy.exc import IntegrityError

from mailbot.store import db
from mailbot.store.db import _normalize
from mailbot.store.tables import metadata
from tests.support import postgres


def _head() -> str:
    scripts = ScriptDirectory(str(Path(db.__file__).parent / "migrations"))
    [head] = scripts.get_heads()  # never two
    return head


def test_migrated_schema_matches_the_models(database_url: str) -> None:
    engine = create_engine(_normalize(database_url))
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), metadata)
    engine.dispose()
    assert differences == []


@pytest.mark.postgres
def test_postgres_refuses_overlapping_blocking_bookings_by_itself(pg_url: str) -> None:
    engine = create_engine(_normalize(pg_url))
    insert = text(
        "INSERT INTO bookings (requester_email, first_name, start_date, end_date, party_size, "
        "description, state, created_at, last_activity_at) VALUES (:who, 'X', :s, :e, 2, '', :state, "
        "now(), now())")
    with engine.begin() as connection:
        connection.execute(insert, {"who": "a@x.de", "s": "2027-08-01", "e": "2027-08-05",
                                    "state": "pending"})
        connection.execute(insert, {"who": "b@x.de", "s": "2027-08-03", "e": "2027-08-09",
                                    "state": "denied"})
    with pytest.raises(IntegrityError), engine.begin() as connection:
        connection.execute(insert, {"who": "c@x.de", "s": "2027-08-05", "e": "2027-08-06",
                                    "state": "confirmed"})
    engine.dispose()


def test_mailbot_migrate_on_a_fresh_checkout_creates_the_database(tmp_path: Path) -> None:
    mailbot = Path(sys.executable).with_name("mailbot")
    for _ in range(2):  # the second run finds nothing to do
        result = subprocess.run([str(mailbot), "migrate"], cwd=tmp_path, capture_output=True, text=True,
                                env={"PATH": "/usr/bin:/bin", "RULES_FILE": "/dev/null"})
        assert result.returncode == 0, result.stderr
    assert (tmp_path / "var" / "mailbot.sqlite3").exists()


@pytest.mark.postgres
def test_mailbot_migrate_on_an_empty_postgres_database() -> None:
    url = postgres.create_database()
    try:
        mailbot = Path(sys.executable).with_name("mailbot")
        result = subprocess.run([str(mailbot), "migrate"], capture_output=True, text=True,
                                env={"PATH": "/usr/bin:/bin", "DATABASE_URL": url})
        assert result.returncode == 0, result.stderr
        engine = create_engine(_normalize(url))
        with engine.connect() as connection:
            assert connection.execute(text("SELECT version_num FROM alembic_version")).scalar() == _head()
        engine.dispose()
    finally:
        postgres.drop_database(url)


def test_issue18_mail_counter_triggers_survive_every_migration(database_url: str) -> None:
    """A batch migration on SQLite rebuilds a table without its triggers: after the last
    migration every counter trigger of store/counters.py is still there."""
    from mailbot.store import counters

    engine = create_engine(_normalize(database_url))
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            found = set(connection.scalars(text("SELECT name FROM sqlite_master WHERE type = 'trigger'")))
            wanted = set(counters.SQLITE_TRIGGERS) | set(counters.BOOKING_TRIGGERS)
        else:
            found = set(connection.scalars(text("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")))
            wanted = {f"{table}_counts_{event}" for table in ("inbox_messages", "outbox_messages")
                      for event in ("insert", "update", "delete")} | set(counters.BOOKING_TRIGGERS)
    engine.dispose()
    assert wanted <= found
