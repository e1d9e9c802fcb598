"""Ten years of history cost what the first week did: indexes for every list and lookup
(the mail log by time, address and state, newest first; a person's bookings; an approver's
decisions and timeline; a booking's threads), and mail counters kept by the database itself
(`mail_counts`, maintained by triggers on the mail tables) so `/metrics` never counts the
mail tables.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

# seconds from received to processed; mailbot/web/metrics.py reads the labels back
LATENCY_BUCKETS = ("0.1", "0.25", "0.5", "1", "2.5", "5", "10", "30", "60", "300")
SHARDS = 16  # PostgreSQL: concurrent writers mostly touch different counter rows

INDEXES = (  # (table, name, columns)
    ("bookings", "ix_bookings_requester", ["requester_email", "start_date", "id"]),
    ("bookings", "ix_bookings_activity", ["last_activity_at", "id"]),
    ("decisions", "ix_decisions_approver", ["approver", "verdict", "booking_id"]),
    ("timeline_events", "ix_timeline_events_actor", ["actor", "booking_id"]),
    ("inbox_messages", "ix_inbox_messages_log", ["received_at", "id"]),
    ("inbox_messages", "ix_inbox_messages_address_log", ["from_address", "received_at", "id"]),
    ("inbox_messages", "ix_inbox_messages_state_log", ["state", "received_at", "id"]),
    ("outbox_messages", "ix_outbox_messages_log", ["created_at", "id"]),
    ("outbox_messages", "ix_outbox_messages_address_log", ["to_address", "created_at", "id"]),
    ("outbox_messages", "ix_outbox_messages_state_log", ["state", "created_at", "id"]),
    ("conversations", "ix_conversations_booking", ["booking_id", "participant"]),
)
REPLACED = (  # (table, name, columns): each is the leading part of one above
    ("bookings", "ix_bookings_requester_email", ["requester_email"]),
    ("inbox_messages", "ix_inbox_messages_received_at", ["received_at"]),
    ("inbox_messages", "ix_inbox_messages_from_address", ["from_address"]),
    ("inbox_messages", "ix_inbox_messages_state", ["state"]),
    ("outbox_messages", "ix_outbox_messages_created_at", ["created_at"]),
    ("outbox_messages", "ix_outbox_messages_to_address", ["to_address"]),
    ("outbox_messages", "ix_outbox_messages_state", ["state"]),
    ("conversations", "ix_conversations_booking_id", ["booking_id"]),
)


def _bucket(seconds: str) -> str:
    """SQL: the histogram label of a latency in seconds."""
    cases = " ".join(f"WHEN {seconds} <= {b} THEN '{b}'" for b in LATENCY_BUCKETS)
    return f"CASE {cases} ELSE '+Inf' END"


def upgrade() -> None:
    for table, name, _ in REPLACED:
        op.drop_index(name, table_name=table)
    for table, name, columns in INDEXES:
        op.create_index(name, table, columns)
    op.create_table(
        "mail_counts",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("label", sa.String(length=40), nullable=False),
        sa.Column("shard", sa.Integer(), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("name", "label", "shard"),
    )
    if op.get_bind().dialect.name == "postgresql":
        seconds = "greatest(extract(epoch FROM processed_at - received_at), 0)"
        _postgres_triggers()
    else:
        seconds = "max((julianday(processed_at) - julianday(received_at)) * 86400.0, 0)"
        _sqlite_triggers()
    # what is there already, counted once
    op.execute("INSERT INTO mail_counts (name, label, shard, value) "
               "SELECT 'inbound', state, 0, count(*) FROM inbox_messages GROUP BY state")
    op.execute("INSERT INTO mail_counts (name, label, shard, value) "
               "SELECT 'outbound', state, 0, count(*) FROM outbox_messages GROUP BY state")
    op.execute("INSERT INTO mail_counts (name, label, shard, value) "
               "SELECT 'outbound_retries', '', 0, sum(attempts - 1) FROM outbox_messages "
               "WHERE attempts > 1 HAVING count(*) > 0")
    op.execute(f"INSERT INTO mail_counts (name, label, shard, value) "
               f"SELECT 'latency', {_bucket(seconds)}, 0, count(*) FROM inbox_messages "
               f"WHERE processed_at IS NOT NULL GROUP BY 2")
    op.execute(f"INSERT INTO mail_counts (name, label, shard, value) "
               f"SELECT 'latency_sum', '', 0, sum({seconds}) FROM inbox_messages "
               f"WHERE processed_at IS NOT NULL HAVING count(*) > 0")


def _postgres_count(deltas: str) -> str:
    """SQL: add `deltas` (rows of name, label, delta) to the counters, one row each, in a
    fixed order (concurrent writers lock counter rows alike)."""
    return (f"INSERT INTO mail_counts AS c (name, label, shard, value) "
            f"SELECT name, label, pg_backend_pid() % {SHARDS}, sum(delta) FROM ({deltas}) d "
            f"GROUP BY name, label ORDER BY name, label "
            f"ON CONFLICT (name, label, shard) DO UPDATE SET value = c.value + EXCLUDED.value;")


def _postgres_triggers() -> None:
    """Statement triggers over the transition tables: one upsert per statement however many
    rows it touched (a row trigger would update one counter row once per row, and a purge
    or a bulk load in one transaction would grow a chain of versions of it)."""
    seconds = "greatest(extract(epoch FROM n.processed_at - n.received_at), 0)"
    latency = (f"SELECT 'latency', {_bucket(seconds)}, 1::float8 FROM {{rows}} "
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
        function = f"{table}_counts_{event.lower()}"
        transition = {"INSERT": "NEW TABLE AS new_rows", "DELETE": "OLD TABLE AS old_rows",
                      "UPDATE": "OLD TABLE AS old_rows NEW TABLE AS new_rows"}[event]
        op.execute(f"CREATE FUNCTION {function}() RETURNS trigger AS $$ BEGIN "
                   f"{_postgres_count(deltas)} RETURN NULL; END $$ LANGUAGE plpgsql")
        op.execute(f"CREATE TRIGGER {function} AFTER {event} ON {table} REFERENCING {transition} "
                   f"FOR EACH STATEMENT EXECUTE FUNCTION {function}()")


def _sqlite_count(name: str, label: str, delta: str) -> str:
    return (f"INSERT OR IGNORE INTO mail_counts (name, label, shard, value) "
            f"VALUES ('{name}', {label}, 0, 0); "
            f"UPDATE mail_counts SET value = value + ({delta}) "
            f"WHERE name = '{name}' AND label = {label} AND shard = 0;")


def _sqlite_triggers() -> None:  # writers are serial: one row per counter
    seconds = "max((julianday(NEW.processed_at) - julianday(NEW.received_at)) * 86400.0, 0)"
    latency = _sqlite_count("latency", _bucket(seconds), "1") + _sqlite_count("latency_sum", "''", seconds)
    for direction, table in (("inbound", "inbox_messages"), ("outbound", "outbox_messages")):
        op.execute(f"CREATE TRIGGER {table}_counts_insert AFTER INSERT ON {table} BEGIN "
                   f"{_sqlite_count(direction, 'NEW.state', '1')} END")
        op.execute(f"CREATE TRIGGER {table}_counts_delete AFTER DELETE ON {table} BEGIN "
                   f"{_sqlite_count(direction, 'OLD.state', '-1')} END")
        op.execute(f"CREATE TRIGGER {table}_counts_state AFTER UPDATE OF state ON {table} "
                   f"WHEN OLD.state IS NOT NEW.state BEGIN "
                   f"{_sqlite_count(direction, 'OLD.state', '-1')} "
                   f"{_sqlite_count(direction, 'NEW.state', '1')} END")
    op.execute(f"CREATE TRIGGER inbox_messages_counts_latency AFTER UPDATE OF processed_at "
               f"ON inbox_messages WHEN OLD.processed_at IS NULL AND NEW.processed_at IS NOT NULL "
               f"BEGIN {latency} END")
    op.execute(f"CREATE TRIGGER inbox_messages_counts_latency_insert AFTER INSERT ON inbox_messages "
               f"WHEN NEW.processed_at IS NOT NULL BEGIN {latency} END")
    retries = "NEW.attempts - max(OLD.attempts, 1)"
    op.execute(f"CREATE TRIGGER outbox_messages_counts_retries AFTER UPDATE OF attempts "
               f"ON outbox_messages WHEN NEW.attempts > max(OLD.attempts, 1) "
               f"BEGIN {_sqlite_count('outbound_retries', chr(39) * 2, retries)} END")
    op.execute(f"CREATE TRIGGER outbox_messages_counts_retries_insert AFTER INSERT ON outbox_messages "
               f"WHEN NEW.attempts > 1 "
               f"BEGIN {_sqlite_count('outbound_retries', chr(39) * 2, 'NEW.attempts - 1')} END")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in ("inbox_messages", "outbox_messages"):
            for event in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER {table}_counts_{event} ON {table}")
                op.execute(f"DROP FUNCTION {table}_counts_{event}()")
    else:
        for trigger in ("inbox_messages_counts_insert", "inbox_messages_counts_delete",
                        "inbox_messages_counts_state", "outbox_messages_counts_insert",
                        "outbox_messages_counts_delete", "outbox_messages_counts_state",
                        "inbox_messages_counts_latency", "inbox_messages_counts_latency_insert",
                        "outbox_messages_counts_retries", "outbox_messages_counts_retries_insert"):
            op.execute(f"DROP TRIGGER {trigger}")
    op.drop_table("mail_counts")
    for table, name, _ in INDEXES:
        op.drop_index(name, table_name=table)
    for table, name, columns in REPLACED:
        op.create_index(name, table, columns)
