"""The background worker: K slots that claim queued jobs from the database and run them on the Engine.

The database is the queue. Nothing lives only in memory, so a job survives a restart: a stopped app puts
its in-flight jobs back to ``queued``, and a new app first re-queues whatever a crashed process left
``running`` (this assumes one service process per database; see ``Store.requeue_running``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from typing import Protocol

from analyzer._errors import AnalyzerError
from analyzer.report.model import Report
from analyzer.service._store import Job, Store

log = logging.getLogger(__name__)


class Analyzer(Protocol):
    """What the worker needs from :class:`analyzer.batch.Engine`."""

    async def analyze_one(
        self,
        *,
        data: bytes | None = None,
        filename: str | None = None,
        seller: Sequence[str] = (),
        seller_domain: str | None = None,
    ) -> Report:
        """Analyze one transcript given as bytes."""
        ...


class Worker:
    """Runs queued analyses with bounded concurrency until stopped."""

    def __init__(self, store: Store, analyzer: Analyzer, *, concurrency: int, poll_seconds: float = 2.0) -> None:
        """``concurrency`` slots each run one job at a time; an idle slot re-checks the database every
        ``poll_seconds`` (jobs submitted through this app wake it at once)."""
        self.store = store
        self.analyzer = analyzer
        self.concurrency = concurrency
        self.poll_seconds = poll_seconds
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self.completed = 0
        self.failed = 0

    async def start(self) -> None:
        """Re-queue jobs a previous process left running, then start the slots."""
        # The Engine imports the pipeline (LangChain, tiktoken...) on first use; doing that on the event
        # loop stalls every request for a second or more, so resolve it here, off the loop.
        await asyncio.to_thread(getattr, self.analyzer, "analyze_fn", None)
        requeued = await asyncio.to_thread(self.store.requeue_running)
        if requeued:
            log.info("re-queued %d job(s) left running by a previous process", requeued)
        self._tasks = [asyncio.create_task(self._slot(i), name=f"walkaway-worker-{i}") for i in range(self.concurrency)]

    async def stop(self) -> None:
        """Cancel the slots; each puts its in-flight job back in the queue for the next start."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []

    def wake(self) -> None:
        """Tell idle slots that a job was queued (call from the event loop)."""
        self._wake.set()

    async def _claim(self) -> Job | None:
        # The claim runs in a thread; if we are cancelled meanwhile, the thread may still have moved a
        # job to 'running', so wait for it and hand that job back rather than strand it.
        fut = asyncio.ensure_future(asyncio.to_thread(self.store.claim_next))
        try:
            return await asyncio.shield(fut)
        except asyncio.CancelledError:
            job = await fut
            if job is not None:
                self.store.requeue(job.id)
            raise

    async def _slot(self, index: int) -> None:
        while True:
            # Clear before looking: a wake() after this point is never lost.
            self._wake.clear()
            try:
                job = await self._claim()
            except asyncio.CancelledError:
                raise
            except Exception:
                # The database is unreachable or busy: keep the slot alive and look again later.
                log.warning("worker %d could not claim a job; retrying in %.1fs", index, self.poll_seconds,
                            exc_info=True)
                await asyncio.sleep(self.poll_seconds)
                continue
            if job is None:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.poll_seconds)
                continue
            try:
                await self._run(job)
            except asyncio.CancelledError:
                raise
            except Exception:
                # Storing the outcome failed; the job stays 'running' and the next start re-queues it.
                log.warning("worker %d could not store the outcome of %s", index, job.id, exc_info=True)
                await asyncio.sleep(self.poll_seconds)

    async def _run(self, job: Job) -> None:
        try:
            report = await self.analyzer.analyze_one(
                data=job.content, filename=job.filename, seller=job.seller, seller_domain=job.seller_domain
            )
        except asyncio.CancelledError:
            self.store.requeue(job.id)
            raise
        except AnalyzerError as exc:
            self.failed += 1
            await asyncio.to_thread(self.store.fail, job.id, str(exc))
            return
        except Exception as exc:
            # A bug, not a user mistake: log the traceback for us, store one sentence for the user.
            log.exception("analysis %s crashed", job.id)
            self.failed += 1
            await asyncio.to_thread(self.store.fail, job.id, f"internal error while analyzing ({type(exc).__name__})")
            return
        await asyncio.to_thread(self.store.finish, job.id, report)
        self.completed += 1
