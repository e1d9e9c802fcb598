"""The one place that opens transactions.

SQLite serializes writers with BEGIN IMMEDIATE; PostgreSQL serializes date-range writers
with a transaction-level advisory lock (backed by an exclusion constraint) and single
bookings with SELECT … FOR UPDATE. A serialization failure or deadlock is retried here,
so a user never sees one.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from mailbot.store import DatabaseUnavailable

if TYPE_CHECKING:
    import psycopg

T = TypeVar("T")
_RANGE_LOCK = 7_100_001  # advisory lock id for "someone is changing booked dates"
_RETRYABLE = {"40001", "40P01"}  # serialization_failure, deadlock_detected


def _normalize(url: str) -> str:
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


class Store:
    def __init__(self, url: str, pool_size: int = 5) -> None:
        self.url = _normalize(url)
        parsed = make_url(self.url)
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        if self.is_sqlite:
            if parsed.database and parsed.database != ":memory:":
                Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            self.engine = create_engine(self.url, connect_args={"timeout": 30, "check_same_thread": False})
            _serialize_sqlite_writers(self.engine)
        else:
            # no ping before each use: a dead connection fails on use and the pool is renewed
            self.engine = create_engine(self.url, pool_size=pool_size, max_overflow=20,
                                        connect_args={"connect_timeout": 5})
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        # PostgreSQL: commits that return before their WAL reaches the disk, set once per
        # connection of a pool of their own (not a SET LOCAL round trip per transaction)
        self._relaxed_engine = self.engine if self.is_sqlite else create_engine(
            self.url, pool_size=2, max_overflow=5,
            connect_args={"connect_timeout": 5, "options": "-c synchronous_commit=off"})
        self._relaxed = sessionmaker(self._relaxed_engine, expire_on_commit=False)
        # PostgreSQL reads in READ COMMITTED, where every statement sees its own snapshot
        # anyway: without BEGIN and COMMIT a page costs two round trips less
        self._readers = sessionmaker(self.engine.execution_options(
            **({"mailbot_read": True} if self.is_sqlite else {"isolation_level": "AUTOCOMMIT"})),
            expire_on_commit=False)

    @property
    def engines(self) -> tuple[Engine, ...]:
        """Every engine of this store (PostgreSQL: also the one of relaxed commits)."""
        return (self.engine,) if self._relaxed_engine is self.engine else (
            self.engine, self._relaxed_engine)

    @contextmanager
    def transaction(self, durable: bool = True) -> Iterator[Session]:
        """A write transaction: commits when the block ends, rolls back on an exception.

        `durable=False` (PostgreSQL): the commit returns before its WAL reaches the disk.
        Only for work that is simply done again if a server crash loses it: the WAL is
        written in order, so any later durable commit (a 250's inbox row, the outbox
        worker's claim before it sends) makes this one durable first."""
        sessions = self._sessions if durable else self._relaxed
        try:
            with sessions() as session, session.begin():
                yield session
        except OperationalError as exc:
            if _is_retryable(exc):
                raise
            raise DatabaseUnavailable(str(exc.orig)) from exc

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A read-only transaction (does not queue behind SQLite writers)."""
        try:
            with self._readers() as session, session.begin():
                yield session
        except OperationalError as exc:
            raise DatabaseUnavailable(str(exc.orig)) from exc

    def run(self, work: Callable[[Session], T], attempts: int = 5) -> T:
        """Run `work` in a write transaction, retrying serialization failures and deadlocks."""
        for attempt in range(attempts):
            try:
                with self.transaction() as session:
                    return work(session)
            except DBAPIError as exc:
                if not _is_retryable(exc) or attempt == attempts - 1:
                    raise
                time.sleep(0.01 * (2**attempt))
        raise AssertionError("unreachable")

    def lock_dates(self, session: Session) -> None:
        """BR-029: serialize everyone who creates or widens a date range (PostgreSQL)."""
        if not self.is_sqlite:
            session.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _RANGE_LOCK})

    def notify(self, session: Session, channel: str) -> None:
        """PostgreSQL: tell the listeners of `channel` when this transaction commits."""
        if not self.is_sqlite:
            session.execute(text(f"NOTIFY {channel}"))

    async def listener(self, channel: str) -> psycopg.AsyncConnection[Any]:
        """PostgreSQL: a connection of its own that listens on `channel`."""
        import psycopg

        url = make_url(self.url).set(drivername="postgresql").render_as_string(hide_password=False)
        connection = await psycopg.AsyncConnection.connect(url, autocommit=True, connect_timeout=5)
        await connection.execute(f"LISTEN {channel}")
        return connection

    def ping(self) -> None:
        try:
            # a reader: on SQLite a writer's BEGIN IMMEDIATE would wait for the inbox worker
            with self.engine.connect().execution_options(mailbot_read=True) as connection:
                connection.execute(text("SELECT 1"))
        except OperationalError as exc:
            raise DatabaseUnavailable(str(exc.orig)) from exc

    def dispose(self) -> None:
        self.engine.dispose()
        self._relaxed_engine.dispose()


def _is_retryable(exc: DBAPIError) -> bool:
    return getattr(exc.orig, "sqlstate", None) in _RETRYABLE


def _serialize_sqlite_writers(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        read = connection.get_execution_options().get("mailbot_read", False)
        connection.exec_driver_sql("BEGIN" if read else "BEGIN IMMEDIATE")


def migrate(url: str) -> None:
    """Bring the schema up to date (Alembic)."""
    from alembic import command
    from alembic.config import Config

    parsed = make_url(_normalize(url))
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    config.set_main_option("sqlalchemy.url", _normalize(url).replace("%", "%%"))
    command.upgrade(config, "head")
