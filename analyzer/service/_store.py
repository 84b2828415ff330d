"""Persistent job storage over SQLAlchemy: SQLite by default, PostgreSQL through psycopg 3.

Methods are synchronous and short; the app calls them from worker threads so the event loop never
waits on the database.

Every text written goes through :func:`valid_text` first: a transcript may carry a lone UTF-16
surrogate (a JSON ``"\\ud800"`` escape) or a NUL, which neither UTF-8 nor PostgreSQL can store, and a
write that fails would leave a job without an outcome.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic_core import PydanticSerializationError
from sqlalchemy import Engine, create_engine, event, func, or_, select, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from analyzer._errors import ConfigError
from analyzer.report.model import Report
from analyzer.service import _migrate
from analyzer.service._db import Analysis, JobStatus

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def valid_text(text: str) -> str:
    """``text`` as storable Unicode: surrogate pairs joined, lone surrogates and NULs replaced with U+FFFD."""
    if not _UNSTORABLE.search(text):
        return text
    joined = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return joined.replace("\x00", "\ufffd")


def _valid_tree(value: Any) -> Any:
    if isinstance(value, str):
        return valid_text(value)
    if isinstance(value, list):
        return [_valid_tree(v) for v in value]
    if isinstance(value, dict):
        return {_valid_tree(k): _valid_tree(v) for k, v in value.items()}
    return value


def report_json(report: Report) -> str:
    """The report as JSON fit to store: valid UTF-8 even when the transcript held lone surrogates."""
    try:
        return report.model_dump_json()
    except (PydanticSerializationError, UnicodeError):
        cleaned = _valid_tree(report.model_dump(mode="json"))
        return Report.model_validate(cleaned).model_dump_json()


def abandoned_sentence(attempts: int) -> str:
    """The error stored for a job whose worker died on every attempt."""
    return (
        f"the analysis was started {attempts} times and never finished (the server stopped or crashed "
        "during each attempt); it will not be retried"
    )


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
    attempt: int = 1
    """Which start of the job this is: its outcome is stored only while no later start has claimed it."""
    account: str | None = None
    """The account given at upload: its calls also get the per-call questions account patterns need."""


_ACCOUNT_DONE = (Analysis.account.is_not(None), Analysis.status == "done", Analysis.report_json.is_not(None))
"""The analyses the pipeline review reads: finished, with an account and a stored report."""

_VIEW_COLUMNS = (
    Analysis.id,
    Analysis.status,
    Analysis.filename,
    Analysis.format,
    Analysis.account,
    Analysis.seller,
    Analysis.seller_domain,
    Analysis.size,
    Analysis.created_at,
    Analysis.updated_at,
    Analysis.started_at,
    Analysis.finished_at,
    Analysis.attempts,
    Analysis.verdict,
    Analysis.flags,
    Analysis.error,
)


def _view(row: Any) -> AnalysisView:
    return AnalysisView(**{c.key: getattr(row, c.key) for c in _VIEW_COLUMNS})


def normalize_url(url: str) -> str:
    """Route plain ``postgresql://`` (and Heroku-style ``postgres://``) URLs to the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
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
        self.session_factory: sessionmaker[Session] = sessionmaker(self.engine, expire_on_commit=False)
        self._session = self.session_factory

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
            id=uuid.uuid4().hex,
            created_at=now,
            updated_at=now,
            status="queued",
            attempts=0,
            filename=valid_text(filename),
            format=fmt,
            account=_opt(account),
            seller=[valid_text(s) for s in seller],
            seller_domain=_opt(seller_domain),
            size=len(content),
            content=content,
            verdict=None,
            flags=[],
            report_json=None,
            error=None,
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
                select(*_VIEW_COLUMNS)
                .where(*conds)
                .order_by(Analysis.created_at.desc(), Analysis.id.desc())
                .limit(limit)
                .offset(offset)
            ).all()
        return [_view(r) for r in rows], total

    def accounts(self) -> list[str]:
        """Every account name in use, sorted, for the list page's filter."""
        with self._session() as s:
            rows = s.execute(select(Analysis.account).where(Analysis.account.is_not(None)).distinct()).scalars()
            return sorted(a for a in rows if a)

    def account_signatures(self) -> dict[str, tuple[str, ...]]:
        """Account -> the ids of its finished analyses in upload order: cheap to read (no report JSON), and
        it changes whenever an account's calls do, so the pipeline review re-reads only those accounts."""
        with self._session() as s:
            rows = s.execute(
                select(Analysis.account, Analysis.id).where(*_ACCOUNT_DONE).order_by(Analysis.created_at, Analysis.id)
            ).all()
        out: dict[str, list[str]] = {}
        for account, aid in rows:
            out.setdefault(str(account), []).append(str(aid))
        return {k: tuple(v) for k, v in out.items()}

    def account_calls(
        self, accounts: Collection[str] | None = None
    ) -> dict[str, list[tuple[str, datetime, str, list[str]]]]:
        """Finished analyses that carry an account (only ``accounts``, when given): account -> (filename,
        uploaded at, report JSON, seller names) in upload order, for the pipeline review."""
        where = list(_ACCOUNT_DONE)
        if accounts is not None:
            where.append(Analysis.account.in_(list(accounts)))
        with self._session() as s:
            rows = s.execute(
                select(Analysis.account, Analysis.filename, Analysis.created_at, Analysis.report_json, Analysis.seller)
                .where(*where)
                .order_by(Analysis.created_at, Analysis.id)
            ).all()
        out: dict[str, list[tuple[str, datetime, str, list[str]]]] = {}
        for account, filename, created, raw, seller in rows:
            out.setdefault(str(account), []).append((str(filename), created, str(raw), list(seller or [])))
        return out

    def counts(self) -> dict[str, int]:
        """How many analyses are in each status."""
        with self._session() as s:
            rows = s.execute(select(Analysis.status, func.count()).group_by(Analysis.status)).all()
        return {str(status): int(n) for status, n in rows}

    def claim_next(self, lease_seconds: float = 300.0, max_attempts: int | None = None) -> Job | None:
        """Atomically move the oldest queued job to running and return it; None when nothing is queued.

        The conditional UPDATE (``WHERE status = 'queued'``) makes two workers, or two processes on one
        PostgreSQL database, never run the same job. The claim holds a lease of ``lease_seconds`` that the
        worker renews (:meth:`renew_leases`); jobs whose lease ran out are taken back first (see
        :meth:`reclaim`).
        """
        self.reclaim(max_attempts, expired_only=True)
        with self._session() as s:
            while True:
                candidate = s.execute(
                    select(Analysis.id)
                    .where(Analysis.status == "queued")
                    .order_by(Analysis.created_at, Analysis.id)
                    .limit(1)
                ).scalar()
                if candidate is None:
                    return None
                now = _now()
                res = s.execute(
                    update(Analysis)
                    .where(Analysis.id == candidate, Analysis.status == "queued")
                    .values(
                        status="running",
                        started_at=now,
                        updated_at=now,
                        attempts=Analysis.attempts + 1,
                        lease_until=now + timedelta(seconds=lease_seconds),
                    )
                )
                s.commit()
                if res.rowcount == 1:  # type: ignore[attr-defined]
                    row = s.execute(
                        select(
                            Analysis.id,
                            Analysis.filename,
                            Analysis.content,
                            Analysis.seller,
                            Analysis.seller_domain,
                            Analysis.attempts,
                            Analysis.account,
                        ).where(Analysis.id == candidate)
                    ).one()
                    return Job(
                        id=row.id,
                        filename=row.filename,
                        content=row.content,
                        seller=list(row.seller),
                        seller_domain=row.seller_domain,
                        attempt=row.attempts,
                        account=row.account,
                    )

    def renew_leases(self, analysis_ids: Iterable[str], lease_seconds: float) -> None:
        """Extend the lease of running jobs this process is still working on."""
        ids = list(analysis_ids)
        if not ids:
            return
        with self._session() as s:
            s.execute(
                update(Analysis)
                .where(Analysis.id.in_(ids), Analysis.status == "running")
                .values(lease_until=_now() + timedelta(seconds=lease_seconds))
            )
            s.commit()

    def reclaim(
        self, max_attempts: int | None = None, *, expired_only: bool = False, ids: Sequence[str] | None = None
    ) -> tuple[int, int]:
        """Take back running jobs whose worker is gone: back to the queue, or failed after ``max_attempts``.

        With ``expired_only`` only jobs whose lease ran out (or that have none) are taken; with ``ids``
        only those (their worker is known to have died); with neither, every running job (at start-up,
        when one service process owns the database). Returns ``(requeued, failed)``.
        """
        now = _now()
        conds = [Analysis.status == "running"]
        if ids is not None:
            conds.append(Analysis.id.in_(list(ids)))
        if expired_only:
            conds.append(or_(Analysis.lease_until.is_(None), Analysis.lease_until < now))
        failed = 0
        with self._session() as s:
            # Look before writing: this runs before every claim, and an UPDATE that matches nothing still
            # takes SQLite's write lock.
            if s.execute(select(Analysis.id).where(*conds).limit(1)).first() is None:
                return 0, 0
            if max_attempts is not None:
                spent = s.execute(
                    select(Analysis.id, Analysis.attempts).where(*conds, Analysis.attempts >= max_attempts)
                ).all()
                for row in spent:
                    res = s.execute(
                        update(Analysis)
                        .where(Analysis.id == row.id, *conds)
                        .values(
                            status="failed",
                            error=abandoned_sentence(row.attempts),
                            finished_at=now,
                            updated_at=now,
                            lease_until=None,
                        )
                    )
                    failed += int(res.rowcount)  # type: ignore[attr-defined]
            res = s.execute(
                update(Analysis)
                .where(*conds)
                .values(status="queued", started_at=None, lease_until=None, updated_at=now)
            )
            s.commit()
            return int(res.rowcount), failed  # type: ignore[attr-defined]

    def finish(self, analysis_id: str, report: Report, attempt: int | None = None) -> bool:
        """Store the report of a finished job; False when a later attempt owns the job now.

        ``attempt`` (the claimed :attr:`Job.attempt`) guards against a worker that lost its lease
        overwriting the outcome of the attempt that took the job over.
        """
        flags = [valid_text(f"{f.category}:{f.severity}") for f in report.flags]
        fmt = report.transcript.format if report.transcript is not None else None
        values: dict[str, Any] = {
            "status": "done",
            "verdict": valid_text(report.verdict),
            "flags": flags,
            "report_json": report_json(report),
            "error": None,
            "finished_at": _now(),
            "updated_at": _now(),
            "lease_until": None,
        }
        if fmt:
            values["format"] = valid_text(fmt)[:32]
        return self._finish(analysis_id, attempt, values)

    def fail(self, analysis_id: str, error: str, attempt: int | None = None) -> bool:
        """Mark a job failed with a sentence for the user; False when a later attempt owns the job now."""
        values = {
            "status": "failed",
            "error": valid_text(error),
            "finished_at": _now(),
            "updated_at": _now(),
            "lease_until": None,
        }
        return self._finish(analysis_id, attempt, values)

    def requeue(self, analysis_id: str) -> None:
        """Put an interrupted running job back in the queue."""
        with self._session() as s:
            s.execute(
                update(Analysis)
                .where(Analysis.id == analysis_id, Analysis.status == "running")
                .values(status="queued", started_at=None, lease_until=None, updated_at=_now())
            )
            s.commit()

    def requeue_running(self, max_attempts: int | None = None) -> int:
        """At start-up: every job left running by a stopped process goes back to the queue.

        Jobs already started ``max_attempts`` times are marked failed instead: a transcript that kills the
        process on every attempt must not crash-loop the service forever.
        """
        requeued, _failed = self.reclaim(max_attempts)
        return requeued

    def _finish(self, analysis_id: str, attempt: int | None, values: dict[str, Any]) -> bool:
        conds = [Analysis.id == analysis_id]
        if attempt is not None:
            conds += [Analysis.status == "running", Analysis.attempts == attempt]
        with self._session() as s:
            res = s.execute(update(Analysis).where(*conds).values(**values))
            s.commit()
            return int(res.rowcount) == 1  # type: ignore[attr-defined]


def _opt(value: str | None) -> str | None:
    return valid_text(value) if value is not None else None


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
