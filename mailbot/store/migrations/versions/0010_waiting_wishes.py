"""Waiting wishes ("Sag Bescheid, wenn frei wird"): someone refused for a conflict is told
once when those dates free up.

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "waiting_wishes",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("address", sa.String(320), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("conversation_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("address", "start_date", "end_date"),
    )
    op.create_index("ix_waiting_wishes_address", "waiting_wishes", ["address"])
    op.create_index("ix_waiting_wishes_range", "waiting_wishes", ["start_date", "end_date"])


def downgrade() -> None:
    op.drop_table("waiting_wishes")
