"""CPU work in child processes: analyses (one process per worker slot, each with its own Engine and
database handle), and the parse of large uploads.

Why processes and not only threads: a long call is seconds of CPU (parse, keyword scan, rules, report
serialisation), and parts of it run in C that holds the GIL for hundreds of milliseconds at a time, so
even from a thread it stalls every request of the server. In a child process it cannot; and an input
that crashes or exhausts that process fails one job instead of the server.

The child stores the outcome itself (the report of a long call is tens of megabytes: carrying it back
would cost the server the very CPU this avoids) and answers with one word. Each slot has its own
single-process pool, so a process that dies takes only its own job with it.

Large uploads are parsed, and large reports rendered, by a small shared pool for the same reasons (small
ones in a thread: handing them to a process costs more than the work).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import multiprocessing
import signal
from collections.abc import Callable
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any, TypeVar

from analyzer._errors import AnalyzerError
from analyzer.config import Settings
from analyzer.report.model import Report
from analyzer.service._store import Job, Store

log = logging.getLogger(__name__)

__all__ = ["AnalysisProcess", "BrokenProcessPool", "ChildPool", "Recipe", "record_outcome"]

T = TypeVar("T")


@dataclass(frozen=True)
class Recipe:
    """What a child process needs to build its Engine and Store (it must pickle)."""

    settings: Settings
    backend: str | None
    database_url: str


def record_outcome(store: Store, job: Job, report: Report | None, error: str | None) -> str:
    """Store what became of a job, never raising: 'done', 'failed', 'dropped' (a later attempt owns the
    job) or 'unstored' (the database refused even a failure; the job's lease will run out)."""
    reason = ""
    try:
        if report is not None:
            return "done" if store.finish(job.id, report, job.attempt) else "dropped"
        return "failed" if store.fail(job.id, error or "the analysis failed", job.attempt) else "dropped"
    except Exception as exc:
        log.exception("could not store the outcome of analysis %s", job.id)
        reason = type(exc).__name__
    try:
        sentence = f"the analysis ended but its outcome could not be stored ({reason})"
        return "failed" if store.fail(job.id, sentence, job.attempt) else "dropped"
    except Exception:
        log.warning("could not mark analysis %s failed either; its lease will run out", job.id, exc_info=True)
        return "unstored"


# -- in the child ------------------------------------------------------------------------------------

_CHILD: list[tuple[Any, Store, asyncio.AbstractEventLoop]] = []


def _child(recipe: Recipe) -> tuple[Any, Store, asyncio.AbstractEventLoop]:
    # A child serves one slot of one app, so one recipe for its whole life.
    if not _CHILD:
        from analyzer.batch.engine import Engine

        engine = Engine(recipe.settings, concurrency=1, backend=recipe.backend)
        _ = engine.analyze_fn  # imports the pipeline now, not during the first job
        # One loop for the life of the process: the chat client is cached per loop.
        _CHILD.append((engine, Store(recipe.database_url), asyncio.new_event_loop()))
    return _CHILD[0]


def _ignore_stop_signals() -> None:
    # Ctrl+C (SIGINT to the whole process group) or a SIGTERM sent to every process of the service must
    # not kill a child in the middle of a job: that would count as an attempt that killed its process.
    # The server stops its children itself when it shuts down, having put their jobs back in the queue.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


def _warm(recipe: Recipe) -> None:
    _child(recipe)


def _run_job(recipe: Recipe, job: Job) -> str:
    engine, store, loop = _child(recipe)
    report: Report | None = None
    error: str | None = None
    try:
        report = loop.run_until_complete(engine.analyze_one(
            data=job.content, filename=job.filename, seller=job.seller, seller_domain=job.seller_domain,
                behaviours=job.account is not None,
        ))
    except AnalyzerError as exc:
        error = str(exc)
    except Exception as exc:
        # A bug, not a user mistake: the traceback goes to the log, one sentence to the user.
        log.exception("analysis %s crashed", job.id)
        error = f"internal error while analyzing ({type(exc).__name__})"
    return record_outcome(store, job, report, error)


# -- in the server -----------------------------------------------------------------------------------


class ChildPool:
    """A pool of ``workers`` spawned child processes, started on first use and replaced when one dies."""

    def __init__(self, workers: int, warm: Callable[..., Any] | None = None, *warm_args: Any) -> None:
        self.workers = workers
        self._warm = (warm, warm_args) if warm is not None else None
        self._executor: concurrent.futures.ProcessPoolExecutor | None = None

    def _ensure(self) -> concurrent.futures.ProcessPoolExecutor:
        if self._executor is None:
            # spawn, not fork: the server has threads (and maybe database connections) a fork would copy.
            self._executor = concurrent.futures.ProcessPoolExecutor(
                max_workers=self.workers, mp_context=multiprocessing.get_context("spawn"),
                initializer=_ignore_stop_signals,
            )
            if self._warm is not None:
                fn, args = self._warm
                self._executor.submit(fn, *args)
        return self._executor

    def start(self) -> None:
        """Start the pool now rather than on first use."""
        self._ensure()

    async def run(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """``fn(*args, **kwargs)`` in a child (all must pickle); BrokenProcessPool if the child died."""
        executor = self._ensure()
        try:
            return await asyncio.wrap_future(executor.submit(fn, *args, **kwargs))
        except BrokenProcessPool:
            if self._executor is executor:
                self._executor = None
                executor.shutdown(wait=False, cancel_futures=True)
            raise

    def close(self) -> None:
        """Stop the children, even in the middle of a task."""
        executor, self._executor = self._executor, None
        if executor is None:
            return
        # ProcessPoolExecutor cannot stop a running task before Python 3.14 (terminate_workers); its
        # process table is the only handle on the children.
        table: dict[int, Any] = getattr(executor, "_processes", None) or {}
        children = list(table.values())
        executor.shutdown(wait=False, cancel_futures=True)
        for proc in children:
            with contextlib.suppress(Exception):
                proc.kill()  # SIGKILL: the children ignore SIGTERM (see _ignore_stop_signals)
        for proc in children:
            with contextlib.suppress(Exception):
                proc.join(5)


class AnalysisProcess:
    """One child process that runs one job at a time and stores its outcome; replaced when it dies."""

    def __init__(self, recipe: Recipe) -> None:
        self.recipe = recipe
        self._pool = ChildPool(1, _warm, recipe)

    def start(self) -> None:
        """Start the process and import the pipeline there (in the background)."""
        self._pool.start()

    async def run(self, job: Job) -> str:
        """Run ``job`` in the child; its outcome is stored there. Raises BrokenProcessPool if it died."""
        return await self._pool.run(_run_job, self.recipe, job)

    def close(self) -> None:
        """Stop the child, even in the middle of a job (that job was put back in the queue already)."""
        self._pool.close()
