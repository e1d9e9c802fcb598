"""Initial schema: bookings, decisions, timeline, inbox, outbox, conversations, rates, jobs.

Revision ID: 0001
Revises:
"""

from alembic import op

from mailbot.store.tables import metadata

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    metadata.create_all(bind)
    if bind.dialect.name == "postgresql":
        # BR-002/BR-029 enforced by the database itself: no two blocking bookings overlap.
        op.execute(
            "ALTER TABLE bookings ADD CONSTRAINT bookings_no_overlap EXCLUDE USING gist "
            "(daterange(start_date, end_date, '[]') WITH &&) "
            "WHERE (state IN ('pending', 'confirmed'))"
        )


def downgrade() -> None:
    metadata.drop_all(op.get_bind())
