"""Persistent job storage over SQLAlchemy: SQLite by default, PostgreSQL through psycopg 3.

Methods are synchronous and short; the app calls them from worker threads so the event loop never
waits on the database.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, create_engine, event, func, select, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.orm import sessionmaker

from analyzer._errors import ConfigError
from analyzer.report.model import Report
from analyzer.service import _migrate
from analyzer.service._db import Analysis, JobStatus


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


@dataclass(frozen=True)
class AnalysisView:
    """What the API and pages show about one analysis (everything except the uploaded bytes)."""

    id: str
    status: JobStatus
    filename: str
    format: str | None
    account: str | None
    seller: list[str]
    seller_domain: str | None
    size: int
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    attempts: int
    verdict: str | None
    flags: list[str] = field(default_factory=list)
    error: str | None = None


@dataclass(frozen=True)
class Job:
    """A claimed job: what the worker hands to the engine."""

    id: str
    filename: str
    content: bytes
    seller: list[str]
    seller_domain: str | None


_VIEW_COLUMNS = (
    Analysis.id, Analysis.status, Analysis.filename, Analysis.format, Analysis.account, Analysis.seller,
    Analysis.seller_domain, Analysis.size, Analysis.created_at, Analysis.updated_at, Analysis.started_at,
    Analysis.finished_at, Analysis.attempts, Analysis.verdict, Analysis.flags, Analysis.error,
)


def _view(row: Any) -> AnalysisView:
    return AnalysisView(**{c.key: getattr(row, c.key) for c in _VIEW_COLUMNS})


def normalize_url(url: str) -> str:
    """Route plain ``postgresql://`` (and Heroku-style ``postgres://``) URLs to the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def redact(url: str) -> str:
    """The URL with its password hidden, fit for an error message or a log line."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable URL>"


class Store:
    """The analyses table: create, list, claim, finish. Safe to share between threads."""

    def __init__(self, url: str) -> None:
        url = normalize_url(url)
        try:
            parsed = make_url(url)
        except ArgumentError:
            raise ConfigError(f"WALKAWAY_DATABASE_URL is not a database URL: {url!r}") from None
        kwargs: dict[str, Any] = {"pool_pre_ping": True}
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        if self.is_sqlite:
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
        try:
            self.engine: Engine = create_engine(url, **kwargs)
        except (ArgumentError, ImportError) as exc:
            raise ConfigError(f"cannot use database {redact(url)}: {exc}") from None
        if self.is_sqlite:
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self.url = url
        self._session = sessionmaker(self.engine, expire_on_commit=False)

    def migrate(self) -> None:
        """Create or upgrade the schema (alembic); an unreachable database raises ConfigError."""
        try:
            _migrate.upgrade(self.engine)
        except OperationalError as exc:
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
            raise ConfigError(f"cannot open database {redact(self.url)}: {reason}") from None

    def close(self) -> None:
        """Release pooled connections."""
        self.engine.dispose()

    def create(
        self,
        *,
        content: bytes,
        filename: str,
        fmt: str | None,
        account: str | None,
        seller: Sequence[str],
        seller_domain: str | None,
    ) -> AnalysisView:
        """Store an uploaded transcript as a queued job and return its view."""
        now = _now()
        row = Analysis(
            id=uuid.uuid4().hex, created_at=now, updated_at=now, status="queued", attempts=0,
            filename=filename, format=fmt, account=account, seller=list(seller), seller_domain=seller_domain,
            size=len(content), content=content, verdict=None, flags=[], report_json=None, error=None,
        )
        with self._session() as s:
            s.add(row)
            s.commit()
        return _view(row)

    def get(self, analysis_id: str) -> AnalysisView | None:
        """One analysis, or None."""
        with self._session() as s:
            row = s.execute(select(*_VIEW_COLUMNS).where(Analysis.id == analysis_id)).one_or_none()
        return _view(row) if row is not None else None

    def report_json(self, analysis_id: str) -> str | None:
        """The stored report JSON of a finished analysis, or None."""
        with self._session() as s:
            return s.execute(select(Analysis.report_json).where(Analysis.id == analysis_id)).scalar()

    def content(self, analysis_id: str) -> bytes | None:
        """The uploaded bytes, or None."""
        with self._session() as s:
            return s.execute(select(Analysis.content).where(Analysis.id == analysis_id)).scalar()

    def page(
        self,
        *,
        status: str | None = None,
        verdict: str | None = None,
        account: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[list[AnalysisView], int]:
        """A page of analyses, newest first, and the total that match the filters."""
        conds = []
        if status:
            conds.append(Analysis.status == status)
        if verdict:
            conds.append(Analysis.verdict == verdict)
        if account:
            conds.append(Analysis.account == account)
        with self._session() as s:
            total = s.execute(select(func.count()).select_from(Analysis).where(*conds)).scalar_one()
            rows = s.execute(
                select(*_VIEW_COLUMNS).where(*conds)
                .order_by(Analysis.created_at.desc(), Analysis.id.desc()).limit(limit).offset(offset)
            ).all()
        return [_view(r) for r in rows], total

    def accounts(self) -> list[str]:
        """Every account name in use, sorted, for the list page's filter."""
        with self._session() as s:
            rows = s.execute(select(Analysis.account).where(Analysis.account.is_not(None)).distinct()).scalars()
            return sorted(a for a in rows if a)

    def counts(self) -> dict[str, int]:
        """How many analyses are in each status."""
        with self._session() as s:
            rows = s.execute(select(Analysis.status, func.count()).group_by(Analysis.status)).all()
        return {str(status): int(n) for status, n in rows}

    def claim_next(self) -> Job | None:
        """Atomically move the oldest queued job to running and return it; None when nothing is queued.

        The conditional UPDATE (``WHERE status = 'queued'``) makes two workers, or two processes on one
        PostgreSQL database, never run the same job.
        """
        with self._session() as s:
            while True:
                candidate = s.execute(
                    select(Analysis.id).where(Analysis.status == "queued")
                    .order_by(Analysis.created_at, Analysis.id).limit(1)
                ).scalar()
                if candidate is None:
                    return None
                now = _now()
                res = s.execute(
                    update(Analysis)
                    .where(Analysis.id == candidate, Analysis.status == "queued")
                    .values(status="running", started_at=now, updated_at=now, attempts=Analysis.attempts + 1)
                )
                s.commit()
                if res.rowcount == 1:  # type: ignore[attr-defined]
                    row = s.execute(
                        select(Analysis.id, Analysis.filename, Analysis.content, Analysis.seller,
                               Analysis.seller_domain).where(Analysis.id == candidate)
                    ).one()
                    return Job(id=row.id, filename=row.filename, content=row.content, seller=list(row.seller),
                               seller_domain=row.seller_domain)

    def finish(self, analysis_id: str, report: Report) -> None:
        """Store the report of a finished job."""
        flags = [f"{f.category}:{f.severity}" for f in report.flags]
        fmt = report.transcript.format if report.transcript is not None else None
        values: dict[str, Any] = {
            "status": "done", "verdict": report.verdict, "flags": flags,
            "report_json": report.model_dump_json(), "error": None, "finished_at": _now(), "updated_at": _now(),
        }
        if fmt:
            values["format"] = fmt
        self._update(analysis_id, values)

    def fail(self, analysis_id: str, error: str) -> None:
        """Mark a job failed with a sentence for the user."""
        self._update(analysis_id, {"status": "failed", "error": error, "finished_at": _now(), "updated_at": _now()})

    def requeue(self, analysis_id: str) -> None:
        """Put an interrupted running job back in the queue."""
        with self._session() as s:
            s.execute(
                update(Analysis).where(Analysis.id == analysis_id, Analysis.status == "running")
                .values(status="queued", started_at=None, updated_at=_now())
            )
            s.commit()

    def requeue_running(self) -> int:
        """At start-up: every job left running by a stopped process goes back to the queue."""
        with self._session() as s:
            res = s.execute(
                update(Analysis).where(Analysis.status == "running")
                .values(status="queued", started_at=None, updated_at=_now())
            )
            s.commit()
            return int(res.rowcount)  # type: ignore[attr-defined]

    def _update(self, analysis_id: str, values: dict[str, Any]) -> None:
        with self._session() as s:
            s.execute(update(Analysis).where(Analysis.id == analysis_id).values(**values))
            s.commit()


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # WAL lets the pages read while the worker writes; busy_timeout makes writers wait, not fail.
    # synchronous=NORMAL is WAL's documented pairing: a commit survives an app crash, and only an OS
    # crash can lose the last transactions, for a fraction of FULL's fsyncs per upload.
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()

