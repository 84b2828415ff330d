"""Running a suite: every case through the analyze function, concurrently, N times, then scored.

The analyze function is injectable (``analyze=``) so tests and experiments can score any callable that
returns a ``Report``; the default is the pipeline's ``analyze_async``, imported only when needed. A case
whose analysis raises is recorded with its error (predicted verdict ``none``) and never stops the run.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from analyzer.eval.metrics import Spread, compute_metrics, evidence_hits, summarize
from analyzer.eval.records import CaseResult, CaseRun, CitedFlag, CitedSignal
from analyzer.eval.results import RunMeta, RunResults, ThresholdResult
from analyzer.eval.suite import THRESHOLD_DIRECTIONS, Case, Suite, Thresholds
from analyzer.report.model import Report

AnalyzeFn = Callable[..., Awaitable[Report]]
"""``async (path, *, seller, backend, model, use_cache) -> Report``, like ``pipeline.analyze_async``."""

ProgressFn = Callable[[Case, CaseRun], None]
"""Called once per finished analysis (case, run), from the event loop thread."""


def _default_analyze() -> AnalyzeFn:
    # Imported lazily: loading the pipeline pulls in LangChain and the backends, which scoring,
    # compare and the tests do not need.
    from analyzer.pipeline import analyze_async  # type: ignore[import-not-found,unused-ignore]

    fn: AnalyzeFn = analyze_async
    return fn


def record_from_report(case: Case, report: Report, *, repeat: int, seconds: float) -> CaseRun:
    """The per-case record of one successful analysis: predictions, quotes, usage and evidence hits."""
    flags = [CitedFlag.of(f) for f in report.flags]
    signals = [CitedSignal.of(s) for s in report.signals]
    quotes = [q for f in flags for q in f.quotes] + [q for s in signals for q in s.quotes]
    hits, missed = evidence_hits(case.expected.evidence, quotes)
    u = report.usage
    return CaseRun(
        repeat=repeat,
        verdict=report.verdict,
        flags=flags,
        signals=signals,
        complete=report.complete and not report.chunk_failures,
        chunk_failures=list(report.chunk_failures),
        seconds=seconds,
        llm_calls=u.calls,
        cache_hits=u.cache_hits,
        prompt_tokens=u.prompt_tokens,
        cached_prompt_tokens=u.cached_prompt_tokens,
        completion_tokens=u.completion_tokens,
        cost_usd=u.cost_usd,
        grounding_cited=report.grounding.cited,
        grounding_dropped=report.grounding.dropped_unknown_id,
        evidence_hits=hits,
        evidence_missed=missed,
        backend=report.backend,
        model=report.model,
        prompt_version=report.prompt_version,
        scores=dict(report.scores),
        cue_hits=list(report.cue_hits),
        strategy=report.strategy,
        profile=report.profile,
        warnings=list(report.warnings),
        windows=list(report.windows),
    )


def record_from_error(case: Case, exc: BaseException, *, repeat: int, seconds: float) -> CaseRun:
    """The record of an analysis that raised: no prediction, every expected evidence missed."""
    message = str(exc).strip() or type(exc).__name__
    return CaseRun(
        repeat=repeat,
        verdict=None,
        complete=False,
        error=message,
        error_type=type(exc).__name__,
        seconds=seconds,
        evidence_missed=list(case.expected.evidence),
    )


def check_thresholds(thresholds: Thresholds, summary: dict[str, Spread]) -> list[ThresholdResult]:
    """Each set threshold against the metric's mean over repeats; an unmeasured metric fails."""
    out: list[ThresholdResult] = []
    for name, limit in thresholds.items():
        direction = THRESHOLD_DIRECTIONS[name]
        s = summary.get(name)
        value = s.mean if s is not None else None
        if value is None:
            passed = False
        elif direction == "min":
            passed = value >= limit - 1e-12
        else:
            passed = value <= limit + 1e-12
        out.append(ThresholdResult(metric=name, direction=direction, threshold=limit, value=value, passed=passed))
    return out


def _first(values: Sequence[str]) -> str:
    return next((v for v in values if v), "")


def _version() -> str:
    try:
        return metadata.version("walkaway")
    except metadata.PackageNotFoundError:
        return ""


async def run_suite(
    suite: Suite,
    *,
    analyze: AnalyzeFn | None = None,
    backend: str | None = None,
    model: str | None = None,
    repeat: int = 1,
    concurrency: int = 4,
    use_cache: bool = True,
    progress: ProgressFn | None = None,
    redact: bool | None = None,
) -> RunResults:
    """Analyze every case ``repeat`` times with at most ``concurrency`` analyses in flight, then score.

    Repeats after the first run with ``use_cache=False`` (the response cache would otherwise replay the
    first answers); ``use_cache=False`` turns the cache off for all of them. ``backend``/``model`` are
    passed through to ``analyze`` (None: the settings decide) and recorded in the run metadata, as is
    ``redact`` (None: the settings decide; only passed when set, so injected analyze functions need not
    know it).
    """
    if repeat < 1:
        raise ValueError("repeat must be at least 1")
    if concurrency < 1:
        raise ValueError("concurrency must be at least 1")
    fn = analyze if analyze is not None else _default_analyze()
    started = datetime.now(UTC)
    t0 = time.perf_counter()
    sem = asyncio.Semaphore(concurrency)
    runs: dict[tuple[int, int], CaseRun] = {}

    async def one(index: int, case: Case, r: int) -> None:
        # None lets the settings decide on the first pass; later passes must bypass the cache.
        cache: bool | None = False if (not use_cache or r > 0) else None
        path = suite.transcript_path(case)
        kwargs: dict[str, Any] = {
            "seller": list(case.seller),
            "backend": backend,
            "model": model,
            "use_cache": cache,
        }
        if redact is not None:
            kwargs["redact"] = redact
        async with sem:
            start = time.perf_counter()
            try:
                report = await fn(path, **kwargs)
            except Exception as exc:  # a failed case is data, never the end of the run
                rec = record_from_error(case, exc, repeat=r, seconds=time.perf_counter() - start)
            else:
                rec = record_from_report(case, report, repeat=r, seconds=time.perf_counter() - start)
        runs[(index, r)] = rec
        if progress is not None:
            progress(case, rec)

    # Repeat-major order so the first pass finishes (and fills the cache) before the next starts.
    await asyncio.gather(*(one(i, c, r) for r in range(repeat) for i, c in enumerate(suite.cases)))

    cases = [
        CaseResult(
            id=c.id,
            writer=c.writer,
            transcript=str(suite.transcript_path(c)),
            seller=list(c.seller),
            expected=c.expected,
            runs=[runs[(i, r)] for r in range(repeat)],
        )
        for i, c in enumerate(suite.cases)
    ]
    per_repeat = [compute_metrics([(c.expected, c.runs[r]) for c in cases], repeat=r) for r in range(repeat)]
    summary = summarize(per_repeat)
    checks = check_thresholds(suite.thresholds, summary)
    all_runs = [run for c in cases for run in c.runs]
    meta = RunMeta(
        suite=suite.name,
        suite_path=str(suite.path) if suite.path is not None else "",
        backend=backend or _first([r.backend for r in all_runs]) or "default",
        model=model or _first([r.model for r in all_runs]),
        prompt_version=_first([r.prompt_version for r in all_runs]),
        timestamp=started.isoformat(timespec="seconds").replace("+00:00", "Z"),
        repeat=repeat,
        concurrency=concurrency,
        use_cache=use_cache,
        cases=len(cases),
        walkaway_version=_version(),
        seconds=time.perf_counter() - t0,
    )
    return RunResults(
        meta=meta,
        thresholds=checks,
        passed=all(c.passed for c in checks),
        summary=summary,
        repeats=per_repeat,
        cases=cases,
    )


def default_run_dir(suite_name: str, backend: str, when: datetime | None = None, root: Path | None = None) -> Path:
    """``runs/<suite-name>-<backend>-<UTC timestamp>/`` (a timestamp like 20250102T030405Z)."""
    stamp = (when or datetime.now(UTC)).astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "-" for ch in f"{suite_name}-{backend}")
    return (root or Path("runs")) / f"{safe}-{stamp}"
