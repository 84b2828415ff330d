"""The analyses table.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create ``analyses`` and its indexes."""
    op.create_table(
        "analyses",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=True),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("format", sa.String(32), nullable=True),
        sa.Column("account", sa.String(200), nullable=True),
        sa.Column("seller", sa.JSON(), nullable=False),
        sa.Column("seller_domain", sa.String(255), nullable=True),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("verdict", sa.String(32), nullable=True),
        sa.Column("flags", sa.JSON(), nullable=False),
        sa.Column("report_json", sa.Text(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
    )
    op.create_index("ix_analyses_created_at", "analyses", ["created_at"])
    op.create_index("ix_analyses_status", "analyses", ["status"])
    op.create_index("ix_analyses_account", "analyses", ["account"])
    op.create_index("ix_analyses_verdict", "analyses", ["verdict"])


def downgrade() -> None:
    """Drop ``analyses``."""
    op.drop_table("analyses")
