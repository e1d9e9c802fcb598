"""Alembic environment: runs against the URL set by `mailbot migrate`."""

from alembic import context
from sqlalchemy import create_engine

from mailbot.store.tables import metadata

config = context.config
engine = create_engine(config.get_main_option("sqlalchemy.url") or "")
with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
engine.dispose()
