"""`walkaway batch` with a scripted analysis: outputs, failures, exit codes, resume, interruption."""

from __future__ import annotations

import asyncio
import csv
import json
from pathlib import Path

import pytest
from batch_helpers import ScriptedAnalyze
from click.testing import CliRunner

import analyzer.batch.engine as engine_mod
import analyzer.pipeline as pipeline
from analyzer._errors import ConfigError
from analyzer.batch.engine import Engine
from analyzer.batch.inputs import expand_inputs
from analyzer.batch.runner import run_batch
from analyzer.batch.store import ResultRecord, RunStore, report_name
from analyzer.cli import cli
from analyzer.config import Settings


@pytest.fixture
def calls(tmp_path: Path) -> Path:
    root = tmp_path / "calls"
    root.mkdir()
    for i in range(10):
        (root / f"call{i:02d}.txt").write_text(f"Ann: hello {i}\nBob: reply {i}\n")
    (root / "call03.txt").write_text("Ann: flaky one\n")
    (root / "call07.txt").write_text("BAD\n")
    return root


@pytest.fixture
def scripted(monkeypatch: pytest.MonkeyPatch) -> ScriptedAnalyze:
    fn = ScriptedAnalyze(fail={"flaky": 1})
    monkeypatch.setattr(engine_mod, "_default_analyze", lambda: fn)
    monkeypatch.setattr(pipeline, "settings_fingerprint", lambda settings, backend, policy_path=None: f"fp-{backend}")
    return fn


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["batch", *args, "--retries", "1"], catch_exceptions=False)
    return result.exit_code, result.output


def _results(out: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]


def test_batch_writes_reports_results_and_summary(calls: Path, tmp_path: Path, scripted: ScriptedAnalyze) -> None:
    out = tmp_path / "out"
    code, output = _run(str(calls), "--out", str(out), "--backend", "fake", "--seller", "Ann")
    assert code == 1  # one call failed
    results = _results(out)
    assert [r["id"] for r in results] == [f"{calls.name}/call{i:02d}.txt" for i in range(10)]
    bad = results[7]
    assert bad["status"] == "error"
    assert bad["error_type"] == "TranscriptError"
    assert "no speaker turns found" in str(bad["error"])
    assert results[3]["status"] == "ok"  # failed once, retried by the engine
    assert len(list((out / "reports").glob("*.json"))) == 9
    with (out / "summary.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0])[:6] == ["id", "verdict", "flags", "tokens", "cost", "error"]
    assert len(rows) == 10
    assert rows[7]["error"]
    assert rows[0]["verdict"] in {"pursue", "qualify_further", "walk_away", "nurture"}
    # The closing summary names the failure and the counts.
    assert "9 ok, 1 failed" in output
    assert "call07.txt" in output
    assert "Verdicts" in output
    assert all(seen["seller"] == ("Ann",) for seen in scripted.seen)


def test_json_format_and_resume_skips_done_work(calls: Path, tmp_path: Path, scripted: ScriptedAnalyze) -> None:
    out = tmp_path / "out"
    _run(str(calls), "--out", str(out), "--backend", "fake")
    first = scripted.invocations
    assert first == 11  # 10 items + 1 retry
    first_results = (out / "results.jsonl").read_text()

    code, output = _run(str(calls), "--out", str(out), "--backend", "fake", "--format", "json")
    summary = json.loads(output)
    assert code == 1
    # Only the failed item is tried again; nothing is duplicated.
    assert scripted.invocations == first + 1
    assert summary["skipped"] == 9
    assert summary["failed"] == 1
    assert summary["failures"][0]["id"].endswith("call07.txt")
    assert sum(summary["verdicts"].values()) == 9
    assert _strip_timing((out / "results.jsonl").read_text()) == _strip_timing(first_results)

    # A changed file is analyzed again; the rest is skipped.
    (calls / "call01.txt").write_text("Ann: something new\n")
    _run(str(calls), "--out", str(out), "--backend", "fake")
    assert scripted.invocations == first + 3
    assert len(_results(out)) == 10

    # Other settings (the fingerprint changes) redo everything.
    _run(str(calls), "--out", str(out), "--backend", "openai")
    assert scripted.invocations == first + 3 + 10
    assert len(_results(out)) == 10


def _strip_timing(text: str) -> list[dict[str, object]]:
    rows = [json.loads(line) for line in text.splitlines()]
    for r in rows:
        r.pop("seconds")
    return rows


def test_torn_ledger_line_and_stale_temp_files_are_recovered(
    calls: Path, tmp_path: Path, scripted: ScriptedAnalyze
) -> None:
    out = tmp_path / "out"
    _run(str(calls), "--out", str(out), "--backend", "fake")
    reference = _strip_timing((out / "results.jsonl").read_text())
    # Simulate a kill mid-append and mid-report-write: a torn last line, a report missing, a temp file.
    lines = (out / "results.jsonl").read_text().splitlines()
    (out / "results.jsonl").write_text("\n".join(lines[:5]) + "\n" + lines[5][:40])
    (out / "reports" / report_name(f"{calls.name}/call02.txt")).unlink()
    (out / "reports" / ".x.json.123.tmp").write_text("{")
    before = scripted.invocations
    _run(str(calls), "--out", str(out), "--backend", "fake")
    # Redone: call02 (report gone), call05 (torn line), call06, call08, call09 (never recorded), call07 (failed).
    assert scripted.invocations - before == 6
    assert _strip_timing((out / "results.jsonl").read_text()) == reference
    assert not list((out / "reports").glob(".*.tmp"))


async def test_cancelled_run_keeps_finished_work_and_resumes(tmp_path: Path) -> None:
    for i in range(12):
        (tmp_path / f"c{i:02d}.txt").write_text(f"Ann: call {i}\n")
    items = expand_inputs([str(tmp_path)], cwd=tmp_path)
    out = tmp_path / "out"
    fn = ScriptedAnalyze(delay=0.05)
    engine = Engine(Settings(), concurrency=2, analyze=fn)
    task = asyncio.create_task(run_batch(items, out, engine=engine, fingerprint="fp"))
    while not (out / "results.jsonl").exists() or len((out / "results.jsonl").read_text().splitlines()) < 3:
        await asyncio.sleep(0.01)
    task.cancel()
    result = await task
    assert result.interrupted
    assert 3 <= len(result.records) < 12
    assert result.pending == 12 - len(result.records)
    done_before = {r.id for r in result.records}

    fn2 = ScriptedAnalyze()
    resumed = await run_batch(items, out, engine=Engine(Settings(), analyze=fn2), fingerprint="fp")
    assert not resumed.interrupted
    assert resumed.skipped == len(done_before)
    assert fn2.invocations == 12 - len(done_before)
    ids = [json.loads(line)["id"] for line in (out / "results.jsonl").read_text().splitlines()]
    assert ids == [i.id for i in items]


async def test_progress_sink_and_lock(tmp_path: Path) -> None:
    for i in range(3):
        (tmp_path / f"c{i}.txt").write_text(f"Ann: call {i}\n")
    items = expand_inputs([str(tmp_path)], cwd=tmp_path)
    events: list[tuple[str, object]] = []

    class Sink:
        def start(self, total: int, done: int) -> None:
            events.append(("start", (total, done)))

        def advance(self, record: ResultRecord) -> None:
            events.append(("advance", record.id))

    out = tmp_path / "out"
    await run_batch(items, out, engine=Engine(Settings(), analyze=ScriptedAnalyze()), fingerprint="fp", progress=Sink())
    assert events[0] == ("start", (3, 0))
    assert sorted(e[1] for e in events[1:]) == ["c0.txt", "c1.txt", "c2.txt"]
    with RunStore(out), pytest.raises(ConfigError, match="another walkaway batch"), RunStore(out):
        pass


def test_usage_errors_exit_2(tmp_path: Path, scripted: ScriptedAnalyze) -> None:
    code, output = _run(str(tmp_path / "missing"), "--out", str(tmp_path / "o"), "--backend", "fake")
    assert code == 2
    assert "no such file or folder" in output
    manifest = tmp_path / "m.csv"
    manifest.write_text("path\nnope.txt\n")
    code, output = _run(str(manifest), "--out", str(tmp_path / "o"), "--backend", "fake")
    assert code == 2
    assert "m.csv, line 2" in output


def test_report_names_are_file_safe_and_distinct() -> None:
    assert report_name("call.txt") == "call.txt.json"
    names = {report_name(x) for x in ("a/b.txt", "a__b.txt", "a b.txt", "../x.txt")}
    assert len(names) == 4
    assert all("/" not in n and not n.startswith(".") for n in names)


def test_an_unserialisable_report_fails_its_item_only(
    calls: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from batch_helpers import fake_report

    async def analyze(path: object = None, *, data: bytes = b"", filename: str = "", **_: object) -> object:
        report = fake_report(data, filename)
        if "hello 4" in data.decode():
            report.source = "bad \ud800 surrogate"  # cannot be written as UTF-8 JSON
        return report

    monkeypatch.setattr(engine_mod, "_default_analyze", lambda: analyze)
    monkeypatch.setattr(pipeline, "settings_fingerprint", lambda settings, backend, policy_path=None: "fp")
    (calls / "call07.txt").write_text("Ann: hello 7\n")
    out = tmp_path / "out"
    code, _ = _run(str(calls), "--out", str(out), "--backend", "fake")
    assert code == 1
    results = {r["id"]: r for r in _results(out)}
    assert len(results) == 10
    bad = results[f"{calls.name}/call04.txt"]
    assert bad["status"] == "error"
    assert f"{calls.name}/call04.txt: the report could not be serialised" in str(bad["error"])
    assert sum(r["status"] == "ok" for r in results.values()) == 9
