"""The background worker: K slots that claim queued jobs from the database and run them on the Engine.

The database is the queue. Nothing lives only in memory, so a job survives a restart: a stopped app puts
its in-flight jobs back to ``queued``, and a new app first re-queues whatever a crashed process left
``running`` (this assumes one service process per database; see ``Store.reclaim``).

A job never stays ``running`` for good:

* every outcome is stored: a report that cannot be stored becomes a failure with a sentence, and the
  store writes only valid UTF-8 (see ``Store``);
* a claim is a lease that the worker renews every third of ``lease_seconds``; a job whose worker died
  (no renewal) is taken back by the next claim, in this process or another;
* a job started ``max_attempts`` times without finishing (its worker kept dying on it) is marked failed.

Analyses never run on the server's event loop: the keyword scan, the rules and the parse of a long call
are seconds of CPU that would stall every other request meanwhile. Each slot runs its jobs in a child
process of its own (see ``_procs``) when the app built the Engine; an injected analyzer (tests, or the
embedded local model, which each process would load again) runs on an event loop in a thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Coroutine, Sequence
from typing import Any, Protocol, TypeVar

from analyzer._errors import AnalyzerError
from analyzer.report.model import Report
from analyzer.service._procs import AnalysisProcess, BrokenProcessPool, Recipe, record_outcome
from analyzer.service._store import Job, Store

log = logging.getLogger(__name__)

T = TypeVar("T")


class Analyzer(Protocol):
    """What the worker needs from :class:`analyzer.batch.Engine`."""

    async def analyze_one(
        self,
        *,
        data: bytes | None = None,
        filename: str | None = None,
        seller: Sequence[str] = (),
        seller_domain: str | None = None,
        behaviours: bool = False,
    ) -> Report:
        """Analyze one transcript given as bytes (``behaviours``: also the per-call account questions)."""
        ...


class AnalysisLoop:
    """An event loop running in a thread of its own, where the analyses (and their CPU work) run."""

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the thread and its loop (idempotent)."""
        if self._loop is not None:
            return
        loop = asyncio.new_event_loop()
        ready = threading.Event()

        def run() -> None:
            asyncio.set_event_loop(loop)
            loop.call_soon(ready.set)
            loop.run_forever()

        self._thread = threading.Thread(target=run, name="walkaway-analysis", daemon=True)
        self._thread.start()
        ready.wait()
        self._loop = loop

    async def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Await ``coro`` on the analysis loop; cancelling the caller cancels it there too."""
        if self._loop is None:
            coro.close()
            raise RuntimeError("the analysis loop is not running")
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, self._loop))

    def stop(self, timeout: float = 10.0) -> None:
        """Cancel what still runs there, stop the loop and join the thread (blocking: call off the loop)."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        self._loop = self._thread = None

        async def shutdown() -> None:
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await loop.shutdown_asyncgens()

        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(shutdown(), loop).result(timeout)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout)
        if not thread.is_alive():
            loop.close()


class Worker:
    """Runs queued analyses with bounded concurrency until stopped."""

    def __init__(
        self,
        store: Store,
        analyzer: Analyzer,
        *,
        concurrency: int,
        poll_seconds: float = 2.0,
        lease_seconds: float = 300.0,
        max_attempts: int = 3,
        processes: Recipe | None = None,
    ) -> None:
        """``concurrency`` slots each run one job at a time; an idle slot re-checks the database every
        ``poll_seconds`` (jobs submitted through this app wake it at once). A claimed job is leased for
        ``lease_seconds`` and renewed while it runs; ``max_attempts`` starts without an outcome fail it.
        With ``processes``, each slot runs its jobs in a child process built from that recipe, and
        ``analyzer`` is not used."""
        self.store = store
        self.analyzer = analyzer
        self.concurrency = concurrency
        self.poll_seconds = poll_seconds
        self.lease_seconds = lease_seconds
        self.max_attempts = max_attempts
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._running: dict[str, int] = {}
        self._loop = AnalysisLoop()
        self._procs = [AnalysisProcess(processes) for _ in range(concurrency)] if processes is not None else []
        self.completed = 0
        self.failed = 0

    async def start(self) -> None:
        """Re-queue jobs a previous process left running, then start the slots."""
        if self._procs:
            for proc in self._procs:
                proc.start()
        else:
            # The Engine imports the pipeline (LangChain, tiktoken...) on first use; doing that on the event
            # loop stalls every request for a second or more, so resolve it here, off the loop.
            await asyncio.to_thread(getattr, self.analyzer, "analyze_fn", None)
        requeued, failed = await asyncio.to_thread(self.store.reclaim, self.max_attempts)
        if requeued:
            log.info("re-queued %d job(s) left running by a previous process", requeued)
        if failed:
            log.warning("marked %d job(s) failed: started %d times without finishing", failed, self.max_attempts)
        if not self._procs:
            self._loop.start()
        self._tasks = [asyncio.create_task(self._slot(i), name=f"walkaway-worker-{i}") for i in range(self.concurrency)]
        self._tasks.append(asyncio.create_task(self._renew_leases(), name="walkaway-leases"))

    async def stop(self) -> None:
        """Cancel the slots; each puts its in-flight job back in the queue for the next start."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        await asyncio.to_thread(self._loop.stop)
        for proc in self._procs:
            await asyncio.to_thread(proc.close)

    def wake(self) -> None:
        """Tell idle slots that a job was queued (call from the event loop)."""
        self._wake.set()

    async def _claim(self) -> Job | None:
        # The claim runs in a thread; if we are cancelled meanwhile, the thread may still have moved a
        # job to 'running', so wait for it and hand that job back rather than strand it.
        fut = asyncio.ensure_future(asyncio.to_thread(self.store.claim_next, self.lease_seconds, self.max_attempts))
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
            self._running[job.id] = job.attempt
            try:
                if self._procs:
                    await self._run_in_process(self._procs[index], job)
                else:
                    await self._run(job)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                # A bug of ours around the analysis: the job still gets an outcome, never stays running.
                log.exception("worker %d failed to run analysis %s", index, job.id)
                sentence = f"internal error while running the analysis ({type(exc).__name__})"
                with contextlib.suppress(Exception):
                    self._count(await asyncio.to_thread(record_outcome, self.store, job, None, sentence))
            finally:
                # Whatever happened, stop renewing: if no outcome was stored, the lease runs out and the
                # job is taken back.
                self._running.pop(job.id, None)

    async def _renew_leases(self) -> None:
        while True:
            await asyncio.sleep(self.lease_seconds / 3)
            if not self._running:
                continue
            try:
                await asyncio.to_thread(self.store.renew_leases, list(self._running), self.lease_seconds)
            except Exception:
                log.warning("could not renew the leases of %d running job(s)", len(self._running), exc_info=True)

    async def _run_in_process(self, proc: AnalysisProcess, job: Job) -> None:
        try:
            outcome = await proc.run(job)
        except asyncio.CancelledError:
            # The child may finish the job anyway; its outcome is then dropped (the attempt is no longer
            # the job's), and the next start runs it again.
            self.store.requeue(job.id)
            raise
        except BrokenProcessPool:
            # The child died (a crash, or the kernel's OOM killer): the job goes back to the queue, or is
            # failed once it has killed max_attempts processes.
            log.error("the analysis process died while running %s (attempt %d)", job.id, job.attempt)
            await asyncio.to_thread(self.store.reclaim, self.max_attempts, ids=[job.id])
            return
        self._count(outcome)

    def _count(self, outcome: str) -> None:
        if outcome == "done":
            self.completed += 1
        elif outcome == "failed":
            self.failed += 1
        elif outcome == "dropped":
            log.warning("an analysis finished after a later attempt took it over; its outcome was dropped")

    async def _run(self, job: Job) -> None:
        report: Report | None = None
        error: str | None = None
        try:
            report = await self._loop.run(self.analyzer.analyze_one(
                data=job.content, filename=job.filename, seller=job.seller, seller_domain=job.seller_domain,
                behaviours=job.account is not None,
            ))
        except asyncio.CancelledError:
            self.store.requeue(job.id)
            raise
        except AnalyzerError as exc:
            error = str(exc)
        except Exception as exc:
            # A bug, not a user mistake: log the traceback for us, store one sentence for the user.
            log.exception("analysis %s crashed", job.id)
            error = f"internal error while analyzing ({type(exc).__name__})"
        self._count(await asyncio.to_thread(record_outcome, self.store, job, report, error))
