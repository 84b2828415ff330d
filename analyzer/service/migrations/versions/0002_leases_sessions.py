"""Job leases (a dead worker's job is taken back) and server-side login sessions.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add ``analyses.lease_until`` and create ``sessions``."""
    with op.batch_alter_table("analyses") as batch:
        batch.add_column(sa.Column("lease_until", sa.DateTime(), nullable=True))
    op.create_table(
        "sessions",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("key_id", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_sessions_expires_at", "sessions", ["expires_at"])


def downgrade() -> None:
    """Drop ``sessions`` and ``analyses.lease_until``."""
    op.drop_table("sessions")
    with op.batch_alter_table("analyses") as batch:
        batch.drop_column("lease_until")
