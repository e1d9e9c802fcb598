"""SQLite: the mail counters' triggers again on `inbox_messages`, which the batch rebuild
of 0008 dropped with the old table (PostgreSQL alters in place and keeps them).

Revision ID: 0009
Revises: 0008
"""

from alembic import op

from mailbot.store import counters

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        counters.reinstall_sqlite(op.execute)


def downgrade() -> None:
    pass  # the triggers were meant to be there before as well
