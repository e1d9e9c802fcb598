"""Inbound messages record whether their From address is authenticated (SPF, DKIM, DMARC
checked by our SMTP server, or a trusted upstream's Authentication-Results), and until when
a started message is left to the worker that counted its start.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("inbox_messages") as batch_op:
        batch_op.add_column(sa.Column("authentication_results", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("authenticated", sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
        batch_op.add_column(sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("inbox_messages") as batch_op:
        batch_op.drop_column("lease_until")
        batch_op.drop_column("authenticated")
        batch_op.drop_column("authentication_results")
