"""`walkaway batch --engine ray`: the same batch, its items analyzed by Ray actors across a cluster.

Why actors (and not Ray Data): each worker must hold one analyzer for its whole life - the embedded model
loaded once (1.1 GB, seconds to load), or one HTTP client with its connection pool - and the driver must
stay the only writer of ``results.jsonl``, the reports and ``summary.csv``, with the same content-hash keys
as the asyncio engine, so either engine resumes what the other finished. An actor pool does exactly that:
``RayEngine`` has the asyncio ``Engine``'s interface (``analyze_one``, ``settings``, ``concurrency``,
``stats``), so ``analyzer.batch.runner.run_batch`` is unchanged and plans, skips, writes and resumes as it
always did; only where an item is analyzed changes.

- Each ``AnalyzerActor`` builds one ``analyzer.batch.Engine`` in its own process (so ``--backend local``
  on N nodes runs N models) and answers with the report's JSON, or with the error's class and sentence
  (bad input fails once, as today; it is not retried by Ray).
- A worker that dies mid-item (a killed process, a lost node) is restarted by Ray (``max_restarts``) and
  the item retried on it (``max_task_retries``); if it keeps dying, the item fails with one sentence and a
  later run retries it.
- Rate limits apply to the cluster, not per worker: each of N workers gets 1/N of ``--rpm`` / ``--tpm``,
  so together they never exceed them (a central limiter would let a busy worker borrow an idle one's
  share; not done yet).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from analyzer import _errors
from analyzer._errors import AnalyzerError, BackendError, ConfigError
from analyzer.batch.engine import EngineStats
from analyzer.config import Settings
from analyzer.report.model import Report

RESTARTS = 3
"""How often Ray restarts a dead worker, and retries the item it held, before the item fails."""


def _import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise ConfigError("--engine ray needs Ray: pip install 'walkaway[ray]'") from None
    return ray


class _Actor:
    """One worker's analyzer; Ray runs it as an async actor (``max_concurrency`` items at once)."""

    def __init__(
        self,
        settings: dict[str, Any],
        backend: str,
        concurrency: int,
        item_retries: int,
        policy_path: str | None,
        rpm: int | None,
        tpm: int | None,
    ) -> None:
        self._args = (settings, backend, concurrency, item_retries, policy_path, rpm, tpm)
        self._engine: Any = None

    def _build(self) -> Any:
        from analyzer.batch.engine import Engine

        settings, backend, concurrency, item_retries, policy_path, rpm, tpm = self._args
        # Built inside the actor's own event loop: the engine's semaphores and clients belong to it.
        return Engine(
            Settings(**settings),
            concurrency=concurrency,
            backend=backend,
            item_retries=item_retries,
            policy_path=Path(policy_path) if policy_path else None,
            requests_per_minute=rpm,
            tokens_per_minute=tpm,
        )

    async def analyze(
        self, data: bytes, filename: str, seller: list[str], seller_domain: str | None, behaviours: bool
    ) -> tuple[str, str, str]:
        """``("ok", report JSON, "")`` or ``("error", error class, sentence)``."""
        if self._engine is None:
            self._engine = self._build()
        try:
            report = await self._engine.analyze_one(
                data=data, filename=filename, seller=seller, seller_domain=seller_domain, behaviours=behaviours
            )
        except AnalyzerError as exc:
            return "error", type(exc).__name__, str(exc)
        except Exception as exc:  # a bug in one item must not kill the worker
            return "error", "AnalyzerError", f"internal error while analyzing ({type(exc).__name__}: {exc})"
        return "ok", report.model_dump_json(), ""

    def pid(self) -> int:
        """The worker's process id (tests kill it)."""
        return os.getpid()


def _rebuild(kind: str, message: str) -> AnalyzerError:
    """The worker's error in the driver, under the same class name (the ledger records it, and exit code 3
    depends on it): the class itself where it takes just a message, else a same-named stand-in."""
    cls = getattr(_errors, kind, None)
    if isinstance(cls, type) and issubclass(cls, AnalyzerError):
        try:
            return cls(message)
        except TypeError:
            pass
    stand_in: type[AnalyzerError] = type(kind, (AnalyzerError,), {})
    return stand_in(message)


class RayEngine:
    """The asyncio ``Engine``'s interface over a pool of Ray actors (see the module docstring)."""

    def __init__(
        self,
        settings: Settings,
        *,
        workers: int,
        concurrency: int,
        backend: str,
        address: str | None = None,
        item_retries: int = 2,
        policy_path: Path | None = None,
        requests_per_minute: int | None = None,
        tokens_per_minute: int | None = None,
    ) -> None:
        ray = _import_ray()
        self.settings = settings
        self.backend = backend
        # One model per worker process: more items at once than that would only queue inside it.
        per_worker = 1 if backend == "local" else max(1, concurrency)
        self.concurrency = workers * per_worker
        self.stats = EngineStats()
        self._ray = ray
        if not ray.is_initialized():
            try:
                ray.init(
                    address=address,
                    include_dashboard=False,
                    log_to_driver=False,
                    configure_logging=False,
                    ignore_reinit_error=True,
                )
            except (ConnectionError, RuntimeError, ValueError) as exc:
                where = f"the Ray cluster at {address}" if address else "a local Ray instance"
                raise ConfigError(f"cannot start or reach {where}: {str(exc).splitlines()[0]}") from None
        share = max(1, workers)
        actor_cls = ray.remote(_Actor).options(
            max_restarts=RESTARTS, max_task_retries=RESTARTS, max_concurrency=per_worker, num_cpus=0
        )
        self._actors = [
            actor_cls.remote(
                settings.model_dump(mode="json", exclude_none=True),
                backend,
                per_worker,
                item_retries,
                str(policy_path) if policy_path else None,
                -(-requests_per_minute // share) if requests_per_minute else None,
                -(-tokens_per_minute // share) if tokens_per_minute else None,
            )
            for _ in range(workers)
        ]
        self._slots: asyncio.Queue[Any] | None = None
        self._per_worker = per_worker

    @property
    def actors(self) -> list[Any]:
        """The worker handles (tests use them to find and kill a worker process)."""
        return list(self._actors)

    def _queue(self) -> asyncio.Queue[Any]:
        if self._slots is None:
            self._slots = asyncio.Queue()
            for _ in range(self._per_worker):
                for actor in self._actors:
                    self._slots.put_nowait(actor)
        return self._slots

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
        """Analyze one transcript on a free worker; the same contract as ``Engine.analyze_one``."""
        if data is None:
            if path is None:
                raise ConfigError("analyze_one needs a path or data")
            data = Path(path).read_bytes()
        slots = self._queue()
        actor = await slots.get()
        self.stats.started += 1
        self.stats.in_flight += 1
        try:
            ref = actor.analyze.remote(data, filename or "upload", list(seller), seller_domain, behaviours)
            status, payload, message = await ref
        except (self._ray.exceptions.RayActorError, self._ray.exceptions.RayTaskError) as exc:
            self.stats.failed += 1
            raise BackendError(
                f"a Ray worker died {RESTARTS + 1} times while analyzing {filename or path} "
                f"({type(exc).__name__}); run the batch again to retry it"
            ) from None
        finally:
            self.stats.in_flight -= 1
            slots.put_nowait(actor)
        if status != "ok":
            self.stats.failed += 1
            raise _rebuild(payload, message)
        report = Report.model_validate_json(payload)
        self.stats.succeeded += 1
        self.stats.llm_calls += max(0, report.usage.calls - report.usage.cache_hits)
        self.stats.tokens += report.usage.prompt_tokens + report.usage.completion_tokens
        return report

    def shutdown(self) -> None:
        """Stop the workers (a cluster started elsewhere keeps running; a local instance stops)."""
        for actor in self._actors:
            self._ray.kill(actor)
        self._actors = []
        self._ray.shutdown()
