"""Alembic environment: runs on the connection that :func:`analyzer.service._migrate.upgrade` passes in."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from analyzer.service._db import Base

config = context.config
connection = config.attributes.get("connection")

if context.is_offline_mode():
    # `alembic upgrade --sql` style: print the DDL for a DBA instead of running it.
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=Base.metadata,
                      literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
elif connection is not None:
    # render_as_batch lets later ALTERs work on SQLite, which cannot alter most column properties in place.
    context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.begin() as conn:
        context.configure(connection=conn, target_metadata=Base.metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()
