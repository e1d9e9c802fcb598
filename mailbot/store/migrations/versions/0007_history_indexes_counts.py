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

from mailbot.store import counters

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

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
        counters.install_postgres(op.execute)
    else:
        seconds = "max((julianday(processed_at) - julianday(received_at)) * 86400.0, 0)"
        counters.install_sqlite(op.execute)
    # what is there already, counted once
    counters.count_states(op.execute)
    op.execute("INSERT INTO mail_counts (name, label, shard, value) "
               "SELECT 'outbound_retries', '', 0, sum(attempts - 1) FROM outbox_messages "
               "WHERE attempts > 1 HAVING count(*) > 0")
    op.execute(f"INSERT INTO mail_counts (name, label, shard, value) "
               f"SELECT 'latency', {counters.bucket(seconds)}, 0, count(*) FROM inbox_messages "
               f"WHERE processed_at IS NOT NULL GROUP BY 2")
    op.execute(f"INSERT INTO mail_counts (name, label, shard, value) "
               f"SELECT 'latency_sum', '', 0, sum({seconds}) FROM inbox_messages "
               f"WHERE processed_at IS NOT NULL HAVING count(*) > 0")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in ("inbox_messages", "outbox_messages"):
            for event in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER {table}_counts_{event} ON {table}")
                op.execute(f"DROP FUNCTION {table}_counts_{event}()")
    else:
        for trigger in counters.SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER {trigger}")
    op.drop_table("mail_counts")
    for table, name, _ in INDEXES:
        op.drop_index(name, table_name=table)
    for table, name, columns in REPLACED:
        op.create_index(name, table, columns)
