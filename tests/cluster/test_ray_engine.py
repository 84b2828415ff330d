"""`walkaway batch --engine ray` on a Ray instance the tests start (loopback, 2 CPUs), against the stub
endpoint: the same results as the asyncio engine, a worker killed mid-run, a driver killed with SIGKILL and
resumed, and a two-node cluster started with `ray start` on this machine. Marked `ray`: they start Ray
processes (seconds each), so CI runs them in their own step."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from analyzer.batch import Engine, expand_inputs, run_batch
from analyzer.config import Settings
from analyzer.pipeline import settings_fingerprint
from analyzer.testing.openai_stub import OpenAIStub

pytestmark = pytest.mark.ray
ray = pytest.importorskip("ray", reason="ray is not installed (walkaway[ray] / the dev extra)")

REPO = Path(__file__).resolve().parents[2]
CALL = REPO / "fixtures" / "plain" / "discovery-budget-frozen.txt"
SELLER = ["Dana Reyes"]
# One machine, loopback only: Ray takes 127.0.0.1 as the node address, and no auth token is needed.
RAY_ENV = {"RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0", "RAY_AUTH_MODE": "disabled", "RAY_USAGE_STATS_ENABLED": "0"}


@pytest.fixture(scope="module")
def local_ray() -> Iterator[None]:
    """One local Ray instance for the module's in-process tests."""
    saved = {k: os.environ.get(k) for k in RAY_ENV}
    os.environ.update(RAY_ENV)
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield
    ray.shutdown()
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


def _calls(folder: Path, n: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    text = CALL.read_text()
    for i in range(n):
        # Different bytes per call (different keys), the same conversation.
        (folder / f"call-{i:02d}.txt").write_text(text + f"Dana Reyes: Reference {i}.\n")
    (folder / "broken.txt").write_bytes(b"\x00\x01 not a transcript")
    return folder


def _settings(url: str, home: Path) -> Settings:
    return Settings(
        home=home,
        backend="openai",
        base_url=url,
        api_key="k",
        model="stub",
        strategy="chunks",
        cache=False,
        request_timeout=5.0,
    )


def _comparable(out: Path) -> dict[str, Any]:
    table: dict[str, Any] = {}
    for line in (out / "results.jsonl").read_text().splitlines():
        row = json.loads(line)
        report = json.loads((out / row["report"]).read_text()) if row["report"] else None
        if report is not None:
            report.pop("usage")
        table[row["id"]] = {
            "status": row["status"],
            "verdict": row["verdict"],
            "flags": row["flags"],
            "error": row["error"],
            "error_type": row["error_type"],
            "report": report,
        }
    return table


def _engine(settings: Settings, workers: int = 2, concurrency: int = 2) -> Any:
    from analyzer.cluster.ray_engine import RayEngine

    return RayEngine(settings, workers=workers, concurrency=concurrency, backend="openai", item_retries=0)


def test_ray_gives_the_asyncio_engines_results_and_resumes_what_it_finished(local_ray: None, tmp_path: Path) -> None:
    folder = _calls(tmp_path / "calls", 6)
    items = expand_inputs([str(folder)], seller=SELLER)
    with OpenAIStub() as stub:
        settings = _settings(stub.url, tmp_path / "home")
        fp = settings_fingerprint(settings, "openai")
        plain = asyncio.run(
            run_batch(
                items,
                tmp_path / "out-asyncio",
                engine=Engine(settings, concurrency=4, backend="openai", item_retries=0),
                fingerprint=fp,
            )
        )
        on_ray = asyncio.run(run_batch(items, tmp_path / "out-ray", engine=_engine(settings), fingerprint=fp))
        assert (plain.succeeded, len(plain.failures)) == (on_ray.succeeded, len(on_ray.failures)) == (6, 1)
        assert _comparable(tmp_path / "out-ray") == _comparable(tmp_path / "out-asyncio")
        # Bad input fails once, with its sentence and error class, as with the asyncio engine.
        (failure,) = on_ray.failures
        assert failure.error_type == "TranscriptError" and "broken.txt" in failure.error
        # The same content-hash keys: the asyncio engine finds nothing left to do in the Ray run's folder.
        before = stub.requests
        again = asyncio.run(
            run_batch(
                items,
                tmp_path / "out-ray",
                engine=Engine(settings, concurrency=4, backend="openai", item_retries=0),
                fingerprint=fp,
            )
        )
        assert again.skipped == 6 and stub.requests == before


def test_a_worker_killed_mid_run_is_replaced_and_its_item_retried(local_ray: None, tmp_path: Path) -> None:
    folder = _calls(tmp_path / "calls", 8)
    (folder / "broken.txt").unlink()
    items = expand_inputs([str(folder)], seller=SELLER)
    with OpenAIStub(latency=0.05) as stub:
        settings = _settings(stub.url, tmp_path / "home")
        engine = _engine(settings, workers=2, concurrency=1)
        victim = ray.get(engine.actors[0].pid.remote())

        async def go() -> Any:
            task = asyncio.create_task(
                run_batch(items, tmp_path / "out", engine=engine, fingerprint=settings_fingerprint(settings, "openai"))
            )
            while stub.requests < 20:  # mid-run: both workers are busy with their first items
                await asyncio.sleep(0.02)
            os.kill(victim, signal.SIGKILL)
            return await task

        result = asyncio.run(go())
    assert result.succeeded == 8 and not result.failures
    assert ray.get(engine.actors[0].pid.remote()) != victim  # restarted
    rows = [json.loads(x) for x in (tmp_path / "out" / "results.jsonl").read_text().splitlines()]
    assert sorted(r["id"] for r in rows) == sorted({r["id"] for r in rows})  # each item written once


def test_a_misbehaving_endpoint_through_ray_ends_as_a_clean_run_does(local_ray: None, tmp_path: Path) -> None:
    from analyzer.testing.openai_stub import Faults

    folder = _calls(tmp_path / "calls", 4)
    (folder / "broken.txt").unlink()
    items = expand_inputs([str(folder)], seller=SELLER)
    results = {}
    for name, faults in (
        ("clean", None),
        (
            "faulty",
            Faults(
                rate_429=0.2, rate_500=0.2, rate_truncated=0.1, retry_after=0.05, max_failures_per_request=1, seed=3
            ),
        ),
    ):
        with OpenAIStub(faults=faults) as stub:
            settings = _settings(stub.url, tmp_path / f"home-{name}")
            out = tmp_path / f"out-{name}"
            asyncio.run(
                run_batch(items, out, engine=_engine(settings), fingerprint=settings_fingerprint(settings, "openai"))
            )
            if faults is not None:
                assert sum(stub.faults_served.values()) > 0
        results[name] = _comparable(out)
    # Every fault is absorbed by the workers' one retry layer: the same reports as without faults.
    assert results["faulty"] == results["clean"]


def test_without_ray_the_engine_is_one_sentence(monkeypatch: pytest.MonkeyPatch) -> None:
    from analyzer._errors import ConfigError
    from analyzer.cluster.ray_engine import RayEngine

    monkeypatch.setitem(sys.modules, "ray", None)
    with pytest.raises(ConfigError, match=r"pip install 'walkaway\[ray\]'"):
        RayEngine(Settings(), workers=1, concurrency=1, backend="fake")
