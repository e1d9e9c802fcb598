"""Every inbound message keeps its envelope: the sender of MAIL FROM (or the Return-Path of
IMAP and pipe mail), and for SMTP the connecting address and its HELO name.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("inbox_messages") as batch_op:
        batch_op.add_column(sa.Column("envelope_sender", sa.String(length=320), nullable=True))
        batch_op.add_column(sa.Column("peer_address", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("helo_name", sa.String(length=255), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("inbox_messages") as batch_op:
        batch_op.drop_column("helo_name")
        batch_op.drop_column("peer_address")
        batch_op.drop_column("envelope_sender")
