"""Alembic migrations of the service database, run programmatically at start-up (no alembic.ini)."""
