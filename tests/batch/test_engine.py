"""Engine: bounded concurrency, item retries, permanent errors, rate limits, Retry-After."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
import pytest
from batch_helpers import ScriptedAnalyze

from analyzer._errors import BackendError, ConfigError, ExtractionError, TranscriptError
from analyzer.batch import Engine, RateLimiter, retry_after_seconds
from analyzer.config import Settings


def _engine(fn: ScriptedAnalyze, **kw: object) -> Engine:
    return Engine(Settings(), analyze=fn, retry_backoff=0.001, **kw)  # type: ignore[arg-type]


async def test_concurrency_is_bounded() -> None:
    fn = ScriptedAnalyze(delay=0.02)
    engine = _engine(fn, concurrency=3)
    jobs = [engine.analyze_one(data=f"A: hi {i}".encode(), filename=f"{i}.txt") for i in range(12)]
    reports = await asyncio.gather(*jobs)
    assert len(reports) == 12
    assert fn.max_in_flight == 3
    assert engine.stats.succeeded == 12
    assert engine.stats.in_flight == 0


async def test_unusable_output_is_retried_then_succeeds(tmp_path: Path) -> None:
    f = tmp_path / "call.txt"
    f.write_text("A: flaky call")
    fn = ScriptedAnalyze(fail={"flaky": 2})
    engine = _engine(fn, item_retries=2)
    report = await engine.analyze_one(path=f, seller=["A"])
    assert report.source == "call.txt"
    assert fn.invocations == 3
    assert engine.stats.item_retries == 2
    assert fn.seen[-1]["seller"] == ("A",)


async def test_unusable_output_is_retried_without_the_response_cache() -> None:
    # The cache also holds the off-schema answers; replaying it would fail the same way.
    fn = ScriptedAnalyze(fail={"offschema": 1})
    engine = _engine(fn, item_retries=2)
    await engine.analyze_one(data=b"A: offschema", filename="x.txt")
    assert [s["use_cache"] for s in fn.seen] == [None, False]


async def test_a_backend_that_kept_failing_is_not_retried_again() -> None:
    # The chat client already spent the one retry budget (Settings.max_retries) on this request.
    fn = ScriptedAnalyze(fail={"down": 1})
    engine = _engine(fn, item_retries=3)
    with pytest.raises(BackendError):
        await engine.analyze_one(data=b"A: endpoint down", filename="y.txt")
    assert fn.invocations == 1
    assert engine.stats.item_retries == 0


async def test_retries_run_out_and_raise() -> None:
    fn = ScriptedAnalyze(fail={"flaky": 5})
    engine = _engine(fn, item_retries=1)
    with pytest.raises(ExtractionError):
        await engine.analyze_one(data=b"A: flaky", filename="x.txt")
    assert fn.invocations == 2
    assert engine.stats.failed == 1


async def test_bad_input_is_not_retried() -> None:
    fn = ScriptedAnalyze()
    engine = _engine(fn, item_retries=3)
    with pytest.raises(TranscriptError):
        await engine.analyze_one(data=b"BAD", filename="x.txt")
    assert fn.invocations == 1


async def test_incomplete_report_is_retried() -> None:
    calls = 0

    async def analyze(**kw: object) -> object:
        nonlocal calls
        calls += 1
        from batch_helpers import fake_report

        r = fake_report(b"x", "x.txt")
        if calls == 1:
            r.chunk_failures = ["chunk 0: timeout"]
            r.complete = False
        return r

    engine = Engine(Settings(), analyze=analyze, retry_backoff=0.001)  # type: ignore[arg-type]
    report = await engine.analyze_one(data=b"x", filename="x.txt")
    assert report.complete
    assert calls == 2


async def test_report_incomplete_because_the_backend_kept_failing_is_not_retried() -> None:
    calls = 0

    async def analyze(**kw: object) -> object:
        nonlocal calls
        calls += 1
        from batch_helpers import fake_report

        r = fake_report(b"x", "x.txt")
        r.chunk_failures = ["chunk 0: the openai endpoint timed out (5 tries)"]
        r.complete = False
        r.backend_failed = True
        return r

    engine = Engine(Settings(), analyze=analyze, retry_backoff=0.001)  # type: ignore[arg-type]
    report = await engine.analyze_one(data=b"x", filename="x.txt")
    assert not report.complete
    assert calls == 1


def test_invalid_limits_are_config_errors() -> None:
    with pytest.raises(ConfigError):
        Engine(Settings(), concurrency=0)
    with pytest.raises(ConfigError):
        Engine(Settings(), requests_per_minute=0)


async def test_rate_limiter_paces_acquires() -> None:
    limiter = RateLimiter(600, burst=2)  # 10 per second after a burst of 2
    t0 = time.monotonic()
    for _ in range(6):
        await limiter.acquire(1)
    elapsed = time.monotonic() - t0
    # 2 free, then 4 at 0.1 s each.
    assert 0.35 <= elapsed < 1.0


async def test_rate_limiter_debt_and_pause() -> None:
    now = [0.0]
    limiter = RateLimiter(60, burst=5, clock=lambda: now[0])  # 1 per second
    limiter.settle(7)  # charged 7 more than estimated: 5 - 7 = -2
    assert limiter.level == pytest.approx(-2)
    assert limiter.delay_for(1) == pytest.approx(3)
    now[0] += 3
    assert limiter.delay_for(1) == pytest.approx(0)
    limiter.pause(4)
    assert limiter.delay_for(1) == pytest.approx(4)


async def test_engine_rpm_limits_throughput() -> None:
    fn = ScriptedAnalyze()
    # 3 calls per item; 1800 rpm = 30 calls/s = 10 items/s once the burst (300 calls) is used.
    engine = _engine(fn, concurrency=8, requests_per_minute=1800)
    assert engine.rpm is not None
    engine.rpm.capacity = 3.0
    engine.rpm.settle(0)
    t0 = time.monotonic()
    await asyncio.gather(*[engine.analyze_one(data=f"A: {i}".encode(), filename=f"{i}.txt") for i in range(6)])
    elapsed = time.monotonic() - t0
    # First item uses the 8-call initial estimate, then estimates converge on 3 calls: >= ~0.4 s.
    assert elapsed >= 0.4
    assert engine.stats.llm_calls == 18


def test_retry_after_found_in_cause_chain() -> None:
    response = httpx.Response(429, headers={"retry-after": "2.5"}, request=httpx.Request("POST", "http://x"))

    class FakeRateLimit(Exception):
        def __init__(self) -> None:
            super().__init__("429")
            self.response = response

    err = BackendError("rate limited")
    err.__cause__ = FakeRateLimit()
    assert retry_after_seconds(err) == 2.5
    assert retry_after_seconds(BackendError("x")) is None


def test_public_names_match_all() -> None:
    import analyzer.batch as batch

    public = {n for n in dir(batch) if (not n.startswith("_") and n[0].isupper()) or n in batch.__all__}
    assert set(batch.__all__) <= public
    assert all(hasattr(batch, n) for n in batch.__all__)
