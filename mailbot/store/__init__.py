"""Persistence: schema, migrations, the one place that opens transactions."""


class DatabaseUnavailable(Exception):
    """The database cannot be reached; callers answer "try again later"."""
