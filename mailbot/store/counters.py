"""Counters the database keeps itself (`mail_counts`): triggers on the mail tables add every
change of a message's state, each processing latency and each retry (migration 0007), and
triggers on `bookings` every change of a booking's state (0011), so `/metrics` sums a few
dozen rows instead of counting the tables.

On SQLite a batch migration that rebuilds `inbox_messages` or `outbox_messages` drops their
triggers with the old table: such a migration calls `reinstall_sqlite` afterwards (0009)."""

from __future__ import annotations

from collections.abc import Callable

Execute = Callable[[str], object]

# seconds from received to processed: the histogram's labels
LATENCY_BUCKETS = ("0.1", "0.25", "0.5", "1", "2.5", "5", "10", "30", "60", "300")
SHARDS = 16  # PostgreSQL: concurrent writers mostly touch different counter rows


def bucket(seconds: str) -> str:
    """SQL: the histogram label of a latency in seconds."""
    cases = " ".join(f"WHEN {seconds} <= {b} THEN '{b}'" for b in LATENCY_BUCKETS)
    return f"CASE {cases} ELSE '+Inf' END"


def _postgres_count(deltas: str) -> str:
    """SQL: add `deltas` (rows of name, label, delta) to the counters, one row each, in a
    fixed order (concurrent writers lock counter rows alike)."""
    return (f"INSERT INTO mail_counts AS c (name, label, shard, value) "
            f"SELECT name, label, pg_backend_pid() % {SHARDS}, sum(delta) FROM ({deltas}) d "
            f"GROUP BY name, label ORDER BY name, label "
            f"ON CONFLICT (name, label, shard) DO UPDATE SET value = c.value + EXCLUDED.value;")


def install_postgres(execute: Execute) -> None:
    """Statement triggers over the transition tables: one upsert per statement however many
    rows it touched (a row trigger would update one counter row once per row, and a purge
    or a bulk load in one transaction would grow a chain of versions of it)."""
    seconds = "greatest(extract(epoch FROM n.processed_at - n.received_at), 0)"
    latency = (f"SELECT 'latency', {bucket(seconds)}, 1::float8 FROM {{rows}} "
               f"WHERE {{done}} "
               f"UNION ALL SELECT 'latency_sum', '', {seconds} FROM {{rows}} WHERE {{done}}")
    changed = "old_rows o JOIN new_rows n USING (id)"
    bodies = {
        ("inbox_messages", "INSERT"): (
            "SELECT 'inbound' AS name, n.state AS label, 1::float8 AS delta FROM new_rows n "
            "UNION ALL " + latency.format(rows="new_rows n", done="n.processed_at IS NOT NULL")),
        ("inbox_messages", "DELETE"):
            "SELECT 'inbound' AS name, o.state AS label, -1::float8 AS delta FROM old_rows o",
        ("inbox_messages", "UPDATE"): (
            f"SELECT 'inbound' AS name, o.state AS label, -1::float8 AS delta FROM {changed} "
            f"WHERE o.state IS DISTINCT FROM n.state "
            f"UNION ALL SELECT 'inbound', n.state, 1 FROM {changed} WHERE o.state IS DISTINCT FROM n.state "
            "UNION ALL " + latency.format(
                rows=changed, done="o.processed_at IS NULL AND n.processed_at IS NOT NULL")),
        ("outbox_messages", "INSERT"): (
            "SELECT 'outbound' AS name, n.state AS label, 1::float8 AS delta FROM new_rows n "
            "UNION ALL SELECT 'outbound_retries', '', n.attempts - 1 FROM new_rows n WHERE n.attempts > 1"),
        ("outbox_messages", "DELETE"):
            "SELECT 'outbound' AS name, o.state AS label, -1::float8 AS delta FROM old_rows o",
        ("outbox_messages", "UPDATE"): (
            f"SELECT 'outbound' AS name, o.state AS label, -1::float8 AS delta FROM {changed} "
            f"WHERE o.state IS DISTINCT FROM n.state "
            f"UNION ALL SELECT 'outbound', n.state, 1 FROM {changed} WHERE o.state IS DISTINCT FROM n.state "
            f"UNION ALL SELECT 'outbound_retries', '', n.attempts - greatest(o.attempts, 1) FROM {changed} "
            f"WHERE n.attempts > greatest(o.attempts, 1)"),
    }
    for (table, event), deltas in bodies.items():
        _postgres_trigger(execute, table, event, deltas)


def _postgres_trigger(execute: Execute, table: str, event: str, deltas: str) -> None:
    function = f"{table}_counts_{event.lower()}"
    transition = {"INSERT": "NEW TABLE AS new_rows", "DELETE": "OLD TABLE AS old_rows",
                  "UPDATE": "OLD TABLE AS old_rows NEW TABLE AS new_rows"}[event]
    execute(f"CREATE FUNCTION {function}() RETURNS trigger AS $$ BEGIN "
            f"{_postgres_count(deltas)} RETURN NULL; END $$ LANGUAGE plpgsql")
    execute(f"CREATE TRIGGER {function} AFTER {event} ON {table} REFERENCING {transition} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {function}()")


def _sqlite_count(name: str, label: str, delta: str) -> str:
    return (f"INSERT OR IGNORE INTO mail_counts (name, label, shard, value) "
            f"VALUES ('{name}', {label}, 0, 0); "
            f"UPDATE mail_counts SET value = value + ({delta}) "
            f"WHERE name = '{name}' AND label = {label} AND shard = 0;")


def install_sqlite(execute: Execute) -> None:  # writers are serial: one row per counter
    seconds = "max((julianday(NEW.processed_at) - julianday(NEW.received_at)) * 86400.0, 0)"
    latency = _sqlite_count("latency", bucket(seconds), "1") + _sqlite_count("latency_sum", "''", seconds)
    for direction, table in (("inbound", "inbox_messages"), ("outbound", "outbox_messages")):
        execute(f"CREATE TRIGGER {table}_counts_insert AFTER INSERT ON {table} BEGIN "
                   f"{_sqlite_count(direction, 'NEW.state', '1')} END")
        execute(f"CREATE TRIGGER {table}_counts_delete AFTER DELETE ON {table} BEGIN "
                   f"{_sqlite_count(direction, 'OLD.state', '-1')} END")
        execute(f"CREATE TRIGGER {table}_counts_state AFTER UPDATE OF state ON {table} "
                   f"WHEN OLD.state IS NOT NEW.state BEGIN "
                   f"{_sqlite_count(direction, 'OLD.state', '-1')} "
                   f"{_sqlite_count(direction, 'NEW.state', '1')} END")
    execute(f"CREATE TRIGGER inbox_messages_counts_latency AFTER UPDATE OF processed_at "
               f"ON inbox_messages WHEN OLD.processed_at IS NULL AND NEW.processed_at IS NOT NULL "
               f"BEGIN {latency} END")
    execute(f"CREATE TRIGGER inbox_messages_counts_latency_insert AFTER INSERT ON inbox_messages "
               f"WHEN NEW.processed_at IS NOT NULL BEGIN {latency} END")
    retries = "NEW.attempts - max(OLD.attempts, 1)"
    execute(f"CREATE TRIGGER outbox_messages_counts_retries AFTER UPDATE OF attempts "
               f"ON outbox_messages WHEN NEW.attempts > max(OLD.attempts, 1) "
               f"BEGIN {_sqlite_count('outbound_retries', chr(39) * 2, retries)} END")
    execute(f"CREATE TRIGGER outbox_messages_counts_retries_insert AFTER INSERT ON outbox_messages "
               f"WHEN NEW.attempts > 1 "
               f"BEGIN {_sqlite_count('outbound_retries', chr(39) * 2, 'NEW.attempts - 1')} END")


SQLITE_TRIGGERS = ("inbox_messages_counts_insert", "inbox_messages_counts_delete",
                   "inbox_messages_counts_state", "outbox_messages_counts_insert",
                   "outbox_messages_counts_delete", "outbox_messages_counts_state",
                   "inbox_messages_counts_latency", "inbox_messages_counts_latency_insert",
                   "outbox_messages_counts_retries", "outbox_messages_counts_retries_insert")


def reinstall_sqlite(execute: Execute) -> None:
    """After a batch migration rebuilt a mail table: the triggers again, and the messages
    by state counted afresh (nothing was counted while the table had none)."""
    for trigger in SQLITE_TRIGGERS:
        execute(f"DROP TRIGGER IF EXISTS {trigger}")
    install_sqlite(execute)
    execute("DELETE FROM mail_counts WHERE name IN ('inbound', 'outbound')")
    count_states(execute)


def count_states(execute: Execute) -> None:
    """The messages by state as they are now, counted once."""
    execute("INSERT INTO mail_counts (name, label, shard, value) "
            "SELECT 'inbound', state, 0, count(*) FROM inbox_messages GROUP BY state")
    execute("INSERT INTO mail_counts (name, label, shard, value) "
            "SELECT 'outbound', state, 0, count(*) FROM outbox_messages GROUP BY state")


# bookings by state (migration 0011): the same counters, name 'bookings', label the state
BOOKING_TRIGGERS = ("bookings_counts_insert", "bookings_counts_delete", "bookings_counts_update")


def install_booking_counts(execute: Execute, dialect: str) -> None:
    """Triggers that keep the bookings by state, and the bookings there are now counted once."""
    if dialect == "postgresql":
        changed = "old_rows o JOIN new_rows n USING (id) WHERE o.state IS DISTINCT FROM n.state"
        bodies = {
            "INSERT": "SELECT 'bookings' AS name, n.state AS label, 1::float8 AS delta FROM new_rows n",
            "DELETE": "SELECT 'bookings' AS name, o.state AS label, -1::float8 AS delta FROM old_rows o",
            "UPDATE": (f"SELECT 'bookings' AS name, o.state AS label, -1::float8 AS delta FROM {changed} "
                       f"UNION ALL SELECT 'bookings', n.state, 1 FROM {changed}"),
        }
        for event, deltas in bodies.items():
            _postgres_trigger(execute, "bookings", event, deltas)
    else:
        execute(f"CREATE TRIGGER bookings_counts_insert AFTER INSERT ON bookings BEGIN "
                f"{_sqlite_count('bookings', 'NEW.state', '1')} END")
        execute(f"CREATE TRIGGER bookings_counts_delete AFTER DELETE ON bookings BEGIN "
                f"{_sqlite_count('bookings', 'OLD.state', '-1')} END")
        execute(f"CREATE TRIGGER bookings_counts_update AFTER UPDATE OF state ON bookings "
                f"WHEN OLD.state IS NOT NEW.state BEGIN "
                f"{_sqlite_count('bookings', 'OLD.state', '-1')} "
                f"{_sqlite_count('bookings', 'NEW.state', '1')} END")
    execute("INSERT INTO mail_counts (name, label, shard, value) "
            "SELECT 'bookings', state, 0, count(*) FROM bookings GROUP BY state")


def drop_booking_counts(execute: Execute, dialect: str) -> None:
    for trigger in BOOKING_TRIGGERS:
        if dialect == "postgresql":
            execute(f"DROP TRIGGER {trigger} ON bookings")
            execute(f"DROP FUNCTION {trigger}()")
        else:
            execute(f"DROP TRIGGER {trigger}")
    execute("DELETE FROM mail_counts WHERE name = 'bookings'")
