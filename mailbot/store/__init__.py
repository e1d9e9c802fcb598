"""Persistence: schema, migrations, the one place that opens transactions."""
