"""Batch throughput against an OpenAI-compatible endpoint with a fixed latency.

    .venv/bin/python benchmarks/batch.py [--transcripts 500] [--concurrency 32] [--latency 0.2] [--json]
    .venv/bin/python benchmarks/batch.py --engine ray [--transcripts 500]   # asyncio vs 1, 2, 4 Ray workers

The endpoint is the local stub (``python -m analyzer.testing.openai_stub --latency 0.2``) in a child
process, so its CPU is not counted as ours. The batch is the real one: `walkaway batch`'s runner, the
Engine, the pipeline with the openai backend and an empty response cache, reports and ledger written to
a temporary folder. Prints:

- achieved throughput (transcripts/s) against the ideal the concurrency allows,
  ``ideal = concurrency / (LLM calls per transcript x latency)``; the target is at least 90%. The
  formula assumes a transcript's calls run one after another; where the pipeline overlaps some of
  them, more than 100% is possible;
- CPU time per transcript spent in this process (parse, chunk, prompts, the openai client, JSON,
  rules, report writing), from ``time.process_time`` (all threads);
- then a second run into a fresh folder with the response cache now warm: it must make zero calls.

Exits 1 when the throughput target is missed or the cached re-run made a call.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from analyzer.batch import Engine, expand_inputs, run_batch  # noqa: E402
from analyzer.config import Settings  # noqa: E402
from analyzer.pipeline import settings_fingerprint  # noqa: E402

_LINES = [
    "We really need on-prem and fully offline, is that something you do?",
    "Budget is frozen until next fiscal year, honestly.",
    "My VP signs anything over 10k and she hasn't been part of this.",
    "Just send something over, I'll look at it at some point.",
    "Send the full spec and pricing breakdown, we'll put it out to bid.",
    "We have budget approved for this quarter and I own the decision.",
    "Let's book the technical review next Tuesday with our CTO.",
    "We are going with another vendor for now, maybe next year.",
    "The onboarding timeline has to be done before March.",
    "Our team spends hours on this every week, it is a real pain.",
]


def write_calls(folder: Path, n: int, seed: int = 7) -> None:
    """``n`` short seeded sales calls (five turns each) as plain-text transcripts."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    for i in range(n):
        prospect = rng.choice(["Pat Kim", "Lee Park", "Sam Ortiz", "Ana Silva"])
        a, b, c = rng.sample(_LINES, 3)
        (folder / f"call{i:04d}.txt").write_text(
            f"Jordan Ellis: Thanks for making time today, call {i}. What prompted the meeting?\n"
            f"{prospect}: {a}\nJordan Ellis: Understood. Tell me more about your process.\n"
            f"{prospect}: {b} {c}\nJordan Ellis: Thanks, I will follow up by email.\n"
        )


def _stats(url: str) -> dict[str, Any]:
    return dict(httpx.get(url.removesuffix("/v1") + "/stats").json())


def _run(folder: Path, out: Path, settings: Settings, concurrency: int) -> tuple[Any, float, float]:
    items = expand_inputs([str(folder)], seller=["Jordan Ellis"], cwd=folder.parent)
    engine = Engine(settings, concurrency=concurrency, backend="openai")
    fingerprint = settings_fingerprint(settings, "openai")
    wall0, cpu0 = time.perf_counter(), time.process_time()
    result = asyncio.run(run_batch(items, out, engine=engine, fingerprint=fingerprint))
    return result, time.perf_counter() - wall0, time.process_time() - cpu0


def _run_ray(folder: Path, out: Path, settings: Settings, workers: int, concurrency: int) -> tuple[Any, float, float]:
    """The same batch on ``workers`` Ray actors (each ``concurrency`` items at once); the CPU is the driver's."""
    from analyzer.cluster.ray_engine import RayEngine

    items = expand_inputs([str(folder)], seller=["Jordan Ellis"], cwd=folder.parent)
    engine = RayEngine(settings, workers=workers, concurrency=concurrency, backend="openai")
    fingerprint = settings_fingerprint(settings, "openai")
    try:
        # Outside the measurement: the workers start and import the pipeline on a first small batch.
        write_calls(folder.parent / "warm-ray", workers * 2, seed=5)
        warm = expand_inputs([str(folder.parent / "warm-ray")], seller=["Jordan Ellis"], cwd=folder.parent)
        asyncio.run(run_batch(warm, out.with_name(out.name + "-warm"), engine=engine, fingerprint=fingerprint))
        wall0, cpu0 = time.perf_counter(), time.process_time()
        result = asyncio.run(run_batch(items, out, engine=engine, fingerprint=fingerprint))
        return result, time.perf_counter() - wall0, time.process_time() - cpu0
    finally:
        engine.shutdown()


def ray_main(args: argparse.Namespace) -> int:
    """``--engine ray``: the asyncio engine and 1, 2 and 4 Ray workers on the same calls, in one run."""
    os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")  # a local instance on loopback
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    work = Path(tempfile.mkdtemp(prefix="walkaway-bench-ray-"))
    write_calls(work / "calls", args.transcripts)
    stub = subprocess.Popen(
        [sys.executable, "-m", "analyzer.testing.openai_stub", "--latency", str(args.latency)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    rows: list[dict[str, Any]] = []
    try:
        assert stub.stdout is not None
        url = stub.stdout.readline().strip()
        common: dict[str, Any] = {
            "backend": "openai",
            "base_url": url,
            "api_key": "dummy",
            "model": "stub-model",
            "cache": False,
        }
        write_calls(work / "warm", 4, seed=99)
        _run(work / "warm", work / "out-warm", Settings(home=work / "home-w", **common), args.concurrency)
        runs: list[tuple[str, int]] = [("asyncio", 1), ("ray", 1), ("ray", 2), ("ray", 4)]
        for engine, workers in runs:
            settings = Settings(home=work / f"home-{engine}-{workers}", **common)
            out = work / f"out-{engine}-{workers}"
            if engine == "asyncio":
                result, wall, cpu = _run(work / "calls", out, settings, args.concurrency)
            else:
                result, wall, cpu = _run_ray(work / "calls", out, settings, workers, args.concurrency)
            calls = sum(r.llm_calls for r in result.records)  # the measured batch's own, not the warm-up's
            rows.append(
                {
                    "engine": engine,
                    "workers": workers,
                    "concurrency_per_worker": args.concurrency,
                    "failed": len(result.failures),
                    "llm_calls": calls,
                    "wall_s": round(wall, 2),
                    "throughput_per_s": round(args.transcripts / wall, 2),
                    "driver_cpu_ms_per_item": round(1000 * cpu / args.transcripts, 1),
                }
            )
    finally:
        stub.terminate()
        stub.wait(timeout=10)
    if args.json:
        print(json.dumps(rows))
    else:
        print(
            f"{args.transcripts} transcripts, endpoint latency {args.latency * 1000:.0f} ms, response cache off, "
            f"{args.concurrency} items in flight per worker"
        )
        for r in rows:
            print(
                f"  {r['engine']:8} workers {r['workers']}: {r['throughput_per_s']:7.2f} transcripts/s, "
                f"wall {r['wall_s']:6.1f} s, driver CPU {r['driver_cpu_ms_per_item']:5.1f} ms/item, "
                f"{r['llm_calls']} LLM calls, {r['failed']} failed"
            )
    return 0 if all(r["failed"] == 0 for r in rows) else 1


def main() -> int:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--transcripts", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--no-cache", action="store_true", help="measure with the response cache off")
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    parser.add_argument(
        "--engine",
        choices=["asyncio", "ray"],
        default="asyncio",
        help="ray: the asyncio engine and 1, 2 and 4 Ray workers on the same calls, measured in one run",
    )
    args = parser.parse_args()
    if args.engine == "ray":
        return ray_main(args)

    work = Path(tempfile.mkdtemp(prefix="walkaway-bench-batch-"))
    write_calls(work / "calls", args.transcripts)
    stub = subprocess.Popen(
        [sys.executable, "-m", "analyzer.testing.openai_stub", "--latency", str(args.latency)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    try:
        assert stub.stdout is not None
        url = stub.stdout.readline().strip()
        common: dict[str, Any] = {
            "home": work / "home",
            "backend": "openai",
            "base_url": url,
            "api_key": "dummy",
            "model": "stub-model",
        }
        # Warm-up on a few calls outside the measurement: imports, tokenizer, policy, prompt files.
        write_calls(work / "warm", 4, seed=99)
        _run(work / "warm", work / "out-warm", Settings(**common, cache=False), args.concurrency)
        before = _stats(url)["requests"]

        # The response cache is on (the default) but empty: every call reaches the endpoint, and the
        # cache writes are part of what is measured, as in a real first run.
        measured = Settings(**common, cache=not args.no_cache)
        result, wall, cpu = _run(work / "calls", work / "out", measured, args.concurrency)
        calls = _stats(url)["requests"] - before
        if args.no_cache:  # fill the cache for the re-run below, outside the measurement
            _run(work / "calls", work / "out-fill", Settings(**common, cache=True), args.concurrency)
        filled = _stats(url)["requests"]
        per_transcript = calls / args.transcripts
        ideal = args.concurrency / (per_transcript * args.latency)
        achieved = args.transcripts / wall

        # A re-run into a fresh output folder analyzes everything again, from the warm cache only.
        cached, cached_wall, _ = _run(work / "calls", work / "out-cached", Settings(**common, cache=True), 32)
        cached_calls = _stats(url)["requests"] - filled
    finally:
        stub.terminate()
        stub.wait(timeout=10)

    figures = {
        "transcripts": args.transcripts,
        "concurrency": args.concurrency,
        "latency_s": args.latency,
        "response_cache": not args.no_cache,
        "failed": len(result.failures),
        "llm_calls": calls,
        "calls_per_transcript": round(per_transcript, 2),
        "wall_s": round(wall, 2),
        "throughput_per_s": round(achieved, 2),
        "ideal_per_s": round(ideal, 2),
        "efficiency": round(achieved / ideal, 3),
        "cpu_ms_per_transcript": round(1000 * cpu / args.transcripts, 1),
        "cpu_ms_per_call": round(1000 * cpu / max(calls, 1), 2),
        "cpu_share_of_wall": round(cpu / wall, 3),
        "cached_rerun_calls": cached_calls,
        "cached_rerun_wall_s": round(cached_wall, 2),
    }
    if args.json:
        print(json.dumps(figures))
    else:
        print(
            f"{args.transcripts} transcripts, concurrency {args.concurrency}, "
            f"endpoint latency {args.latency * 1000:.0f} ms, response cache {'off' if args.no_cache else 'on'}"
        )
        print(
            f"  LLM calls            {calls} ({per_transcript:.1f} per transcript), failed items {len(result.failures)}"
        )
        print(f"  wall                 {wall:.2f} s")
        print(f"  throughput           {achieved:.2f} transcripts/s")
        print(f"  ideal                {ideal:.2f} transcripts/s  (concurrency / (calls per transcript x latency))")
        print(f"  efficiency           {100 * achieved / ideal:.1f}%  (target >= 90%)")
        print(
            f"  CPU in our process   {1000 * cpu / args.transcripts:.1f} ms/transcript, "
            f"{1000 * cpu / max(calls, 1):.2f} ms/call, {100 * cpu / wall:.0f}% of one core"
        )
        print(f"  cached re-run        {cached_calls} LLM calls, {cached_wall:.2f} s, {cached.succeeded} ok")
    ok = achieved / ideal >= 0.9 and cached_calls == 0 and not result.failures
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
