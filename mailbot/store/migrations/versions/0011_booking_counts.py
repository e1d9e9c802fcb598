"""Bookings by state kept in `mail_counts` by triggers on `bookings`, so `/metrics` reads a
few rows instead of counting every booking of ten years on each scrape.

Revision ID: 0011
Revises: 0010
"""

from alembic import op

from mailbot.store import counters

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    counters.install_booking_counts(op.execute, op.get_bind().dialect.name)


def downgrade() -> None:
    counters.drop_booking_counts(op.execute, op.get_bind().dialect.name)
