"""`walkaway batch --engine ray` as processes: a driver killed with SIGKILL and resumed, and a two-node
cluster started with `ray start` on this machine. Apart from test_ray_engine.py so that module's in-process
Ray instance is down before these start their own."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from analyzer.testing.openai_stub import OpenAIStub
from tests.cluster.test_ray_engine import RAY_ENV, REPO, SELLER, _calls

pytestmark = pytest.mark.ray
pytest.importorskip("ray", reason="ray is not installed (walkaway[ray] / the dev extra)")


def _env(url: str, tmp_path: Path) -> dict[str, str]:
    """The batch's environment: the stub endpoint, the yes/no strategy, Ray on loopback."""
    return {
        **os.environ,
        **RAY_ENV,
        "WALKAWAY_BACKEND": "openai",
        "WALKAWAY_BASE_URL": url,
        "WALKAWAY_API_KEY": "k",
        "WALKAWAY_MODEL": "stub",
        "WALKAWAY_STRATEGY": "chunks",
        "WALKAWAY_HOME": str(tmp_path / "home"),
        "PYTHONPATH": str(REPO),
    }


def _batch_cmd(folder: Path, out: Path, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-c",
        "from analyzer.cli import main; main()",
        "batch",
        str(folder),
        "--out",
        str(out),
        "--seller",
        SELLER[0],
        "--engine",
        "ray",
        "--workers",
        "2",
        "--no-progress",
        "--format",
        "json",
        *extra,
    ]


def test_a_sigkilled_ray_driver_resumes_without_duplicates(tmp_path: Path) -> None:
    folder = _calls(tmp_path / "calls", 10)
    (folder / "broken.txt").unlink()
    out = tmp_path / "out"
    with OpenAIStub(latency=0.2) as stub:
        env = _env(stub.url, tmp_path)
        proc = subprocess.Popen(
            _batch_cmd(folder, out), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True
        )
        ledger = out / "results.jsonl"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            if ledger.exists() and len(ledger.read_text().splitlines()) >= 3:
                break
            time.sleep(0.05)
        assert proc.poll() is None, proc.communicate()[1].decode()[-2000:]
        os.killpg(proc.pid, signal.SIGKILL)  # the driver and the local Ray instance it started
        proc.wait()
        killed_at = len(ledger.read_text().splitlines())
        assert 3 <= killed_at < 10
        done = subprocess.run(_batch_cmd(folder, out), env=env, capture_output=True, timeout=300)
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    summary = json.loads(done.stdout)
    assert summary["skipped"] >= 3 and summary["succeeded"] == 10
    ids = [json.loads(x)["id"] for x in ledger.read_text().splitlines()]
    assert sorted(ids) == sorted(set(ids)) and len(ids) == 10


def test_a_two_node_cluster_on_this_machine_runs_a_batch(tmp_path: Path) -> None:
    if shutil.which("ray", path=str(Path(sys.executable).parent)) is None:
        pytest.skip("the ray command is not installed beside this Python")
    ray_cmd = str(Path(sys.executable).parent / "ray")
    # The nodes use this machine's own address (Ray needs one other nodes can reach); the driver joins
    # through 127.0.0.1. No token: a throwaway cluster that lives for this test only.
    node_env = {**os.environ, "RAY_AUTH_MODE": "disabled", "RAY_USAGE_STATS_ENABLED": "0"}
    port = "6391"
    try:
        subprocess.run(
            [
                ray_cmd,
                "start",
                "--head",
                f"--port={port}",
                "--num-cpus=1",
                "--include-dashboard=false",
                "--disable-usage-stats",
            ],
            env=node_env,
            check=True,
            capture_output=True,
            timeout=120,
        )
        subprocess.run(
            [ray_cmd, "start", f"--address=127.0.0.1:{port}", "--num-cpus=1", "--disable-usage-stats"],
            env=node_env,
            check=True,
            capture_output=True,
            timeout=120,
        )
        folder = _calls(tmp_path / "calls", 4)
        (folder / "broken.txt").unlink()
        with OpenAIStub() as stub:
            env = _env(stub.url, tmp_path)
            done = subprocess.run(
                _batch_cmd(folder, tmp_path / "out", "--ray-address", f"127.0.0.1:{port}"),
                env=env,
                capture_output=True,
                timeout=300,
            )
        assert done.returncode == 0, done.stderr.decode()[-2000:]
        assert json.loads(done.stdout)["succeeded"] == 4
    finally:
        subprocess.run([ray_cmd, "stop", "--force"], env=node_env, capture_output=True, timeout=120)
