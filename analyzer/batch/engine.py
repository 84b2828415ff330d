"""Bounded-concurrency, rate-limited analysis: the one engine `walkaway batch` and the upload service share.

Layers of resilience, innermost first:

1. transport failures (429, 5xx, timeouts, dropped connections, cut-off bodies) are retried in exactly
   one place, ``LangChainChat.complete``, within one budget (``Settings.max_retries`` further attempts per
   request, exponential backoff honouring Retry-After). When that budget is spent the request fails with
   a ``BackendError`` and nothing above retries it again: no layer multiplies the budget;
2. the extractor re-asks on off-schema output (``Settings.max_reasks``): a content retry, not a transport one;
3. this engine retries a whole transcript (``item_retries``) only when the model's *output* stayed
   unusable: an ``ExtractionError``, or a report made incomplete by one. Such a retry bypasses the
   response cache (``use_cache=False``): the cache also holds the off-schema answers and the re-asks that
   followed them, so replaying it would fail the same way;
4. a Retry-After seen in a failure pauses every worker, not just the one that met it.

Bad input (``TranscriptError``), bad settings (``ConfigError``) and a backend that kept failing
(``BackendError``) are never retried here: the first two cannot improve, and the last already spent its budget.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from analyzer._errors import BackendError, ConfigError, ExtractionError, TranscriptError
from analyzer.batch.ratelimit import RateLimiter
from analyzer.config import Settings
from analyzer.report.model import Report

log = logging.getLogger(__name__)

AnalyzeFn = Callable[..., Awaitable[Report]]
"""``analyze_async``'s shape: called with ``path`` or ``data``+``filename``, and keywords ``settings``,
``seller``, ``seller_domain``, ``backend``, and on some retries ``use_cache=False``; returns a ``Report``."""

# Errors that say the input or the configuration is wrong; retrying cannot help.
_PERMANENT: tuple[type[BaseException], ...] = (TranscriptError, ConfigError, BackendError)

# First guesses for the rate limiter before any analysis has finished (see _Estimates).
_INITIAL_CALLS_PER_ITEM = 8.0
_INITIAL_TOKENS_PER_BYTE = 0.6


@dataclass
class EngineStats:
    """Counters for progress displays and tests."""

    started: int = 0
    succeeded: int = 0
    failed: int = 0
    item_retries: int = 0
    in_flight: int = 0
    llm_calls: int = 0
    tokens: int = 0


class _Estimates:
    """Running averages that turn a transcript's size into expected calls and tokens for the limiter."""

    def __init__(self) -> None:
        self.calls_per_item = _INITIAL_CALLS_PER_ITEM
        self.tokens_per_byte = _INITIAL_TOKENS_PER_BYTE
        self._seen = 0

    def update(self, calls: int, tokens: int, size: int) -> None:
        self._seen += 1
        # Plain mean for the first few, then an exponential average that follows drift.
        weight = max(1.0 / self._seen, 0.1)
        self.calls_per_item += weight * (calls - self.calls_per_item)
        if size > 0:
            self.tokens_per_byte += weight * (tokens / size - self.tokens_per_byte)


def retry_after_seconds(exc: BaseException) -> float | None:
    """The Retry-After an endpoint sent, found anywhere in the exception's cause chain, else None."""
    from analyzer.extraction.backends.chat import retry_after_header  # late: the engine loads without openai

    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        value = getattr(cur, "retry_after", None)
        if isinstance(value, int | float) and value >= 0:
            return float(value)
        headers = getattr(getattr(cur, "response", None), "headers", None)
        if headers is not None and (hinted := retry_after_header(headers)) is not None:
            return hinted
        cur = cur.__cause__ or cur.__context__
    return None


def _default_analyze() -> AnalyzeFn:
    # Imported late so the engine loads (and its tests run) without the LLM stack.
    import importlib

    module = importlib.import_module("analyzer.pipeline")
    analyze: AnalyzeFn = module.analyze_async
    return analyze


class Engine:
    """Bounded-concurrency, rate-limited analysis shared by `walkaway batch` and the upload service."""

    def __init__(
        self,
        settings: Settings,
        *,
        concurrency: int = 4,
        requests_per_minute: int | None = None,
        tokens_per_minute: int | None = None,
        backend: str | None = None,
        analyze: AnalyzeFn | None = None,
        item_retries: int = 2,
        retry_backoff: float = 1.0,
        policy_path: Path | None = None,
    ) -> None:
        """``concurrency`` transcripts run at once; ``requests_per_minute``/``tokens_per_minute`` cap the
        LLM traffic of all of them together; ``item_retries`` whole-transcript retries follow a failure
        the pipeline could not absorb, ``retry_backoff`` seconds doubled each time (with jitter).
        ``policy_path`` is the verdict policy (default: the shipped one); with the pipeline's own analyze
        it is parsed once here rather than once per transcript."""
        if concurrency < 1:
            raise ConfigError(f"concurrency must be at least 1, got {concurrency}")
        limits = {"requests per minute": requests_per_minute, "tokens per minute": tokens_per_minute}
        for name, value in limits.items():
            if value is not None and value < 1:
                raise ConfigError(f"{name} must be at least 1, got {value}")
        self.settings = settings
        self.concurrency = concurrency
        self.backend = backend
        self.item_retries = max(0, item_retries)
        self.retry_backoff = retry_backoff
        self._analyze = analyze
        self.policy_path = policy_path
        self._extra: dict[str, object] | None = None
        self._slots = asyncio.Semaphore(concurrency)
        self.rpm = RateLimiter(requests_per_minute) if requests_per_minute else None
        self.tpm = RateLimiter(tokens_per_minute) if tokens_per_minute else None
        self.stats = EngineStats()
        self._estimates = _Estimates()

    @property
    def analyze_fn(self) -> AnalyzeFn:
        """The analysis function in use (the pipeline's ``analyze_async`` unless one was injected)."""
        if self._analyze is None:
            self._analyze = _default_analyze()
            # Parsing the policy YAML costs tens of milliseconds of event-loop time per transcript;
            # it cannot change during a batch, so parse it once and hand the object over.
            from analyzer.rules import load_policy

            self._extra = {"policy": load_policy(self.policy_path)}
        return self._analyze

    def _extra_kwargs(self) -> dict[str, object]:
        if self._extra is None:
            self._extra = {"policy_path": self.policy_path} if self.policy_path is not None else {}
        return self._extra

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
        """Analyze one transcript within the concurrency and rate limits, retrying transient failures.
        ``behaviours`` also asks the per-call questions account patterns need (calls of an account).

        Raises the last error when every attempt failed; an incomplete report (a chunk failed) is
        retried too and returned as is when retries run out.
        """
        if path is None and data is None:
            raise ConfigError("analyze_one needs a path or data")
        size = len(data) if data is not None else _size_of(path)
        async with self._slots:
            self.stats.started += 1
            self.stats.in_flight += 1
            try:
                report = await self._with_retries(path, data, filename, seller, seller_domain, size, behaviours)
            except BaseException:
                self.stats.failed += 1
                raise
            finally:
                self.stats.in_flight -= 1
            self.stats.succeeded += 1
            return report

    async def _with_retries(
        self,
        path: Path | None,
        data: bytes | None,
        filename: str | None,
        seller: Sequence[str],
        seller_domain: str | None,
        size: int,
        behaviours: bool = False,
    ) -> Report:
        attempt = 0
        bypass_cache = False
        while True:
            try:
                report = await self._attempt(
                    path, data, filename, seller, seller_domain, size, bypass_cache, behaviours
                )
            except _PERMANENT as exc:
                hinted = retry_after_seconds(exc) if isinstance(exc, BackendError) else None
                if hinted is not None:
                    # Not retried (its budget is spent), but the endpoint asked everyone to wait.
                    for limiter in (self.rpm, self.tpm):
                        if limiter is not None:
                            limiter.pause(hinted)
                raise
            except Exception as exc:
                if attempt >= self.item_retries:
                    raise
                bypass_cache = bypass_cache or isinstance(exc, ExtractionError)
                await self._backoff(attempt, exc)
            else:
                if report.complete or report.backend_failed or attempt >= self.item_retries:
                    return report
                log.info("incomplete report for %s (%s); retrying", filename or path, report.chunk_failures)
                bypass_cache = True
                await self._backoff(attempt, None)
            attempt += 1
            self.stats.item_retries += 1

    async def _backoff(self, attempt: int, exc: BaseException | None) -> None:
        hinted = retry_after_seconds(exc) if exc is not None else None
        if hinted is not None:
            for limiter in (self.rpm, self.tpm):
                if limiter is not None:
                    limiter.pause(hinted)
            delay = hinted
        else:
            # Full jitter, so workers that failed together do not come back together.
            delay = self.retry_backoff * (2**attempt) * (0.5 + random.random() / 2)
        await asyncio.sleep(delay)

    async def _attempt(
        self,
        path: Path | None,
        data: bytes | None,
        filename: str | None,
        seller: Sequence[str],
        seller_domain: str | None,
        size: int,
        bypass_cache: bool = False,
        behaviours: bool = False,
    ) -> Report:
        est_calls = max(1.0, self._estimates.calls_per_item)
        est_tokens = max(1.0, size * self._estimates.tokens_per_byte)
        if self.rpm is not None:
            await self.rpm.acquire(est_calls)
        if self.tpm is not None:
            await self.tpm.acquire(est_tokens)
        kwargs: dict[str, object] = {
            "settings": self.settings,
            "seller": tuple(seller),
            "seller_domain": seller_domain,
            "backend": self.backend,
        }
        if bypass_cache:
            kwargs["use_cache"] = False
        if behaviours:  # only when asked, so an injected analyze function without the keyword still works
            kwargs["behaviours"] = True
        if data is not None:
            kwargs["data"] = data
            kwargs["filename"] = filename
        else:
            kwargs["path"] = path
        analyze = self.analyze_fn
        kwargs.update(self._extra_kwargs())
        report: Report | None = None
        try:
            report = await analyze(**kwargs)
            return report
        finally:
            # Settle what the attempt really cost, even when it failed part way (then we know nothing
            # better than the estimate, which stays charged).
            if report is not None:
                usage = report.usage
                calls = max(0, usage.calls - usage.cache_hits)
                tokens = usage.prompt_tokens + usage.completion_tokens
                self.stats.llm_calls += calls
                self.stats.tokens += tokens
                self._estimates.update(calls, tokens, size)
                if self.rpm is not None:
                    self.rpm.settle(calls - est_calls)
                if self.tpm is not None:
                    self.tpm.settle(tokens - est_tokens)


def _size_of(path: Path | None) -> int:
    if path is None:
        return 0
    try:
        return Path(path).stat().st_size
    except OSError:
        return 0  # the pipeline reports the missing file with its own clear error
