"""Run a batch: plan (hash, skip what is done), analyze the rest through the Engine, record every outcome.

A failing item never stops the batch: it becomes an ``error`` record with its reason. Ctrl-C stops the
workers, keeps everything finished so far (each result was written the moment it finished) and returns
with ``interrupted`` set; re-running the same command picks up where it stopped.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from analyzer._errors import AnalyzerError, ConfigError
from analyzer.batch.engine import EngineStats
from analyzer.batch.inputs import BatchItem
from analyzer.batch.store import ResultRecord, RunStore, content_hash, read_bytes, work_key
from analyzer.config import Settings
from analyzer.report.model import Report

log = logging.getLogger(__name__)


class ProgressSink(Protocol):
    """Receives progress as the batch runs (the CLI's rich bar implements it)."""

    def start(self, total: int, done: int) -> None:
        """``total`` items in the batch, ``done`` of them already finished by an earlier run."""

    def advance(self, record: ResultRecord) -> None:
        """One item finished this run (ok or error)."""


@dataclass
class BatchResult:
    """What a batch run ended with."""

    out: Path
    records: list[ResultRecord]
    """Final records, one per finished item, in input order (what results.jsonl holds)."""
    total: int
    skipped: int
    """Items already done by an earlier run with the same settings."""
    analyzed: int
    """Items attempted in this run."""
    interrupted: bool = False
    seconds: float = 0.0
    llm_calls: int = 0
    item_retries: int = 0
    failures: list[ResultRecord] = field(default_factory=list)

    @property
    def succeeded(self) -> int:
        """Items with a report."""
        return sum(r.status == "ok" for r in self.records)

    @property
    def pending(self) -> int:
        """Items not finished (only after an interruption)."""
        return self.total - len(self.records)

    def verdict_counts(self) -> dict[str, int]:
        """Verdicts over the successful items, most frequent first."""
        return dict(Counter(r.verdict for r in self.records if r.verdict).most_common())

    def flag_counts(self, top: int = 7) -> dict[str, int]:
        """The most frequent red-flag categories (items flagged with each)."""
        counter: Counter[str] = Counter()
        for r in self.records:
            counter.update({f.split(":", 1)[0] for f in r.flags})
        return dict(counter.most_common(top))

    def to_json(self) -> dict[str, Any]:
        """The machine-readable summary `walkaway batch --format json` prints."""
        return {
            "out": str(self.out),
            "total": self.total,
            "succeeded": self.succeeded,
            "failed": len(self.failures),
            "skipped": self.skipped,
            "analyzed": self.analyzed,
            "pending": self.pending,
            "interrupted": self.interrupted,
            "verdicts": self.verdict_counts(),
            "flags": self.flag_counts(),
            "tokens": sum(r.tokens for r in self.records),
            "cost_usd": round(sum(r.cost_usd for r in self.records), 6),
            "llm_calls": self.llm_calls,
            "item_retries": self.item_retries,
            "seconds": round(self.seconds, 3),
            "failures": [{"id": r.id, "path": r.path, "error": r.error, "type": r.error_type} for r in self.failures],
        }


def _record_ok(item: BatchItem, key: str, report: Report, rel: str, seconds: float) -> ResultRecord:
    usage = report.usage
    return ResultRecord(
        id=item.id,
        key=key,
        path=str(item.path),
        account_id=item.account_id,
        date=item.date,
        status="ok",
        verdict=report.verdict,
        flags=[f"{f.category}:{f.severity}" for f in report.flags],
        complete=report.complete,
        tokens=usage.prompt_tokens + usage.completion_tokens,
        cost_usd=usage.cost_usd,
        llm_calls=max(0, usage.calls - usage.cache_hits),
        seconds=round(seconds, 3),
        report=rel,
    )


def _record_error(item: BatchItem, key: str, exc: BaseException, seconds: float = 0.0) -> ResultRecord:
    message = str(exc) if isinstance(exc, AnalyzerError) else f"unexpected {type(exc).__name__}: {exc}"
    return ResultRecord(
        id=item.id,
        key=key,
        path=str(item.path),
        account_id=item.account_id,
        date=item.date,
        status="error",
        error=message or type(exc).__name__,
        error_type=type(exc).__name__,
        seconds=round(seconds, 3),
    )


def _unreadable_key(item: BatchItem) -> str:
    return "unreadable-" + hashlib.sha256(str(item.path).encode()).hexdigest()[:20]


class BatchEngine(Protocol):
    """What the runner needs from an engine: ``analyzer.batch.Engine`` in this process, or
    ``analyzer.cluster.ray_engine.RayEngine`` across a Ray cluster."""

    settings: Settings
    concurrency: int
    stats: EngineStats

    async def analyze_one(
        self,
        *,
        path: Path | None = None,
        data: bytes | None = None,
        filename: str | None = None,
        seller: Sequence[str] = (),
        seller_domain: str | None = None,
        behaviours: bool = False,
    ) -> Report:
        """Analyze one transcript; raise its error when it fails."""
        ...


async def run_batch(
    items: Sequence[BatchItem],
    out: Path,
    *,
    engine: BatchEngine,
    fingerprint: str,
    progress: ProgressSink | None = None,
) -> BatchResult:
    """Analyze ``items`` into ``out`` (see ``analyzer.batch.store`` for the layout); resumable."""
    started = time.perf_counter()
    limit = engine.settings.max_file_bytes
    with RunStore(out) as store:
        previous = await asyncio.to_thread(store.load)
        keys: dict[str, str] = {}
        todo: list[BatchItem] = []
        early_errors: list[ResultRecord] = []

        def plan() -> None:
            for item in items:
                try:
                    digest = content_hash(read_bytes(item.path, limit))
                except AnalyzerError as exc:
                    keys[item.id] = _unreadable_key(item)
                    early_errors.append(_record_error(item, keys[item.id], exc))
                    continue
                keys[item.id] = work_key(item, digest, fingerprint)
                if not store.is_done(previous.get((item.id, keys[item.id]))):
                    todo.append(item)

        await asyncio.to_thread(plan)
        skipped = len(items) - len(todo) - len(early_errors)
        if progress is not None:
            progress.start(len(items), skipped)
        append_lock = asyncio.Lock()

        async def record(rec: ResultRecord) -> None:
            async with append_lock:
                await asyncio.to_thread(store.append, rec)
            if progress is not None:
                progress.advance(rec)

        for rec in early_errors:
            await record(rec)

        async def process(item: BatchItem) -> None:
            t0 = time.perf_counter()
            try:
                data = await asyncio.to_thread(read_bytes, item.path, limit)
            except AnalyzerError as exc:
                await record(_record_error(item, keys[item.id], exc))
                return
            # Re-keyed on the bytes actually analyzed, in case the file changed since planning.
            key = keys[item.id] = work_key(item, content_hash(data), fingerprint)
            try:
                report = await engine.analyze_one(
                    data=data,
                    filename=item.path.name,
                    seller=item.seller,
                    seller_domain=item.seller_domain,
                    behaviours=item.account_id is not None,
                )
            except Exception as exc:
                if not isinstance(exc, AnalyzerError):
                    log.debug("unexpected error on %s", item.id, exc_info=True)
                await record(_record_error(item, key, exc, time.perf_counter() - t0))
                return
            try:
                rel = await asyncio.to_thread(store.write_report, item, report)
            except OSError as exc:
                failure = ConfigError(f"could not write the report to {store.reports} ({exc.strerror or exc})")
                await record(_record_error(item, key, failure, time.perf_counter() - t0))
                return
            except Exception as exc:
                # A report that cannot be serialised is this item's failure, never the whole batch's.
                log.debug("report of %s not serialisable", item.id, exc_info=True)
                failure = ConfigError(
                    f"{item.id}: the report could not be serialised ({type(exc).__name__}: {str(exc)[:160]})"
                )
                await record(_record_error(item, key, failure, time.perf_counter() - t0))
                return
            await record(_record_ok(item, key, report, rel, time.perf_counter() - t0))

        queue: Iterator[BatchItem] = iter(todo)

        async def worker() -> None:
            for item in queue:  # shared iterator: each item goes to exactly one worker
                await process(item)

        interrupted = False
        try:
            async with asyncio.TaskGroup() as group:
                for _ in range(min(engine.concurrency, len(todo))):
                    group.create_task(worker())
        except asyncio.CancelledError:
            # Ctrl-C: the workers are cancelled; what finished is already on disk.
            interrupted = True
        except BaseExceptionGroup as group_error:
            # Only the ledger itself failing (disk full, folder removed) gets here; item errors are records.
            first = group_error.exceptions[0]
            if isinstance(first, AnalyzerError):
                raise first from None
            raise ConfigError(f"{out}: could not record results ({first})") from first
        finally:
            records = await asyncio.to_thread(store.finalize, items, keys)
    return BatchResult(
        out=out,
        records=records,
        total=len(items),
        skipped=skipped,
        analyzed=len(todo) + len(early_errors),
        interrupted=interrupted,
        seconds=time.perf_counter() - started,
        llm_calls=engine.stats.llm_calls,
        item_retries=engine.stats.item_retries,
        failures=[r for r in records if r.status == "error"],
    )
