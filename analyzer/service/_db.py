"""The service's tables: analysis jobs (uploaded bytes and, once done, the report) and login sessions.

The uploaded file is kept as bytes in the database; its name is only a label and a format hint, so no
path a client sends ever reaches the filesystem.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from sqlalchemy import JSON, DateTime, Integer, LargeBinary, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

JobStatus = Literal["queued", "running", "done", "failed"]
JOB_STATUSES: tuple[JobStatus, ...] = ("queued", "running", "done", "failed")


class Base(DeclarativeBase):
    """Declarative base of the service's tables (alembic's ``target_metadata``)."""


class Analysis(Base):
    """One uploaded transcript and the state of its analysis."""

    __tablename__ = "analyses"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    # Naive UTC everywhere: SQLite has no time zones, and one convention for both databases is simpler.
    created_at: Mapped[datetime] = mapped_column(DateTime(), index=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime())
    started_at: Mapped[datetime | None] = mapped_column(DateTime())
    # While running: the worker renews this; once it lies in the past, the worker is presumed dead.
    lease_until: Mapped[datetime | None] = mapped_column(DateTime())
    finished_at: Mapped[datetime | None] = mapped_column(DateTime())
    status: Mapped[str] = mapped_column(String(16), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    filename: Mapped[str] = mapped_column(String(255))
    format: Mapped[str | None] = mapped_column(String(32))
    account: Mapped[str | None] = mapped_column(String(200), index=True)
    seller: Mapped[list[str]] = mapped_column(JSON)
    seller_domain: Mapped[str | None] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(Integer)
    content: Mapped[bytes] = mapped_column(LargeBinary)
    verdict: Mapped[str | None] = mapped_column(String(32), index=True)
    flags: Mapped[list[str]] = mapped_column(JSON, default=list)
    report_json: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)


class LoginSession(Base):
    """A browser login: the cookie holds a random token, the table only its SHA-256."""

    __tablename__ = "sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    # Which API key the login proved; sessions of an older key stop working when the key changes.
    key_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime())
    expires_at: Mapped[datetime] = mapped_column(DateTime(), index=True)
