"""`walkaway eval` end to end with a scripted analyze function (no pipeline, no model)."""

from __future__ import annotations

import asyncio
import json
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import analyzer._cli.eval as eval_cli
from analyzer.cli import cli
from analyzer.eval.results import load_results
from analyzer.report.model import Report

from ._helpers import report

SUITE = """\
name: mini
thresholds:
  verdict_accuracy: {acc}
cases:
  - id: bribe
    transcript: calls/bribe.txt
    seller: ["Sam Seller"]
    expected:
      verdict: walk_away
      flags: [ethics, budget]
      evidence: ["finder's fee"]
  - id: keen
    transcript: calls/keen.txt
    expected:
      verdict: pursue
      flags: []
      signals: [need_confirmed]
  - id: broken
    transcript: calls/broken.txt
    expected:
      verdict: nurture
      flags: [engagement]
"""

Script = dict[str, Callable[[], Report]]


def _good_script() -> Script:
    return {
        "bribe": lambda: report(
            "walk_away",
            {"ethics": ["A finder's fee <script>alert(1)</script> paid to me"], "budget": ["No budget."]},
            cited=3,
            dropped=1,
            prompt_tokens=120,
        ),
        "keen": lambda: report("pursue", signals={"need_confirmed": ["We need this."]}, prompt_tokens=80),
        "broken": lambda: (_ for _ in ()).throw(RuntimeError("endpoint exploded")),
    }


class Scripted:
    """An analyze function answering per transcript stem, recording every call."""

    def __init__(self, script: Script, delay: float = 0.0) -> None:
        self.script = script
        self.delay = delay
        self.calls: list[dict[str, Any]] = []
        self.in_flight = 0
        self.max_in_flight = 0

    async def __call__(self, path: str | Path, **kwargs: Any) -> Report:
        self.calls.append({"path": Path(path), **kwargs})
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            await asyncio.sleep(self.delay)
            return self.script[Path(path).stem]()
        finally:
            self.in_flight -= 1


def _suite(tmp_path: Path, acc: float = 0.6) -> Path:
    calls = tmp_path / "calls"
    calls.mkdir(exist_ok=True)
    for name in ("bribe", "keen", "broken"):
        (calls / f"{name}.txt").write_text("Sam Seller: hi\nPat: hello\n")
    p = tmp_path / "mini.yaml"
    p.write_text(SUITE.format(acc=acc))
    return p


def _invoke(monkeypatch: pytest.MonkeyPatch, fn: Scripted, *args: str) -> Any:
    monkeypatch.setattr(eval_cli, "ANALYZE_FN", fn)
    return CliRunner().invoke(cli, ["eval", *args], catch_exceptions=False)


def test_run_writes_results_report_and_junit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fn = Scripted(_good_script())
    out = tmp_path / "run"
    junit = tmp_path / "junit.xml"
    res = _invoke(monkeypatch, fn, str(_suite(tmp_path)), "--backend", "fake", "--out", str(out), "--junit", str(junit))
    # The failing case is recorded, not fatal; 2 of 3 verdicts are right (threshold 0.6 passes), but an
    # errored case makes the run exit 1: a run that could not score a case never passes silently.
    assert res.exit_code == 1, res.output
    assert "1 of 3 analyses errored" in res.output
    assert "verdict_accuracy" in res.output
    assert "endpoint exploded" in res.output

    data = json.loads((out / "results.json").read_text())
    assert set(data) >= {"schema_version", "meta", "thresholds", "passed", "summary", "repeats", "cases"}
    meta = data["meta"]
    assert (meta["suite"], meta["backend"], meta["model"], meta["prompt_version"]) == (
        "mini",
        "fake",
        "scripted",
        "p-test",
    )
    assert meta["timestamp"].endswith("Z")
    assert data["passed"] is True
    assert data["summary"]["verdict_accuracy"]["mean"] == pytest.approx(2 / 3)
    assert data["summary"]["invalid_output_rate"]["mean"] == pytest.approx(1 / 3)
    assert data["summary"]["evidence_hit_rate"]["mean"] == 1.0
    assert data["summary"]["grounding_drop_rate"]["mean"] == pytest.approx(1 / 3)
    assert data["summary"]["prompt_tokens"]["mean"] == 200
    rep = data["repeats"][0]
    assert rep["confusion"]["nurture"]["none"] == 1
    assert rep["categories"]["engagement"]["support"] == 1
    by_id = {c["id"]: c for c in data["cases"]}
    assert by_id["broken"]["runs"][0]["verdict"] is None
    assert by_id["broken"]["runs"][0]["error"] == "endpoint exploded"
    assert by_id["bribe"]["runs"][0]["evidence_hits"] == ["finder's fee"]
    assert load_results(out).meta.cases == 3  # round-trips through the model

    html = (out / "report.html").read_text()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "endpoint exploded" in html

    root = ET.parse(junit).getroot()
    suite_el = root.find("testsuite")
    assert suite_el is not None
    assert suite_el.get("tests") == "4"  # 3 cases + 1 threshold
    assert suite_el.get("errors") == "1"
    assert suite_el.get("failures") == "0"
    assert [tc.get("name") for tc in suite_el.iter("testcase")] == [
        "bribe",
        "keen",
        "broken",
        "verdict_accuracy",
    ]

    # The analyze function got the seller hint, backend and cache setting of each case.
    call = next(c for c in fn.calls if c["path"].stem == "bribe")
    assert call["seller"] == ["Sam Seller"]
    assert call["backend"] == "fake"
    assert call["use_cache"] is None
    assert call["path"] == tmp_path / "calls" / "bribe.txt"


def test_missed_threshold_exits_1(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "run"
    junit = tmp_path / "j.xml"
    res = _invoke(
        monkeypatch,
        Scripted(_good_script()),
        str(_suite(tmp_path, acc=0.9)),
        "--out",
        str(out),
        "--junit",
        str(junit),
    )
    assert res.exit_code == 1
    assert "threshold missed: verdict_accuracy" in res.output
    assert json.loads((out / "results.json").read_text())["passed"] is False
    suite_el = ET.parse(junit).getroot().find("testsuite")
    assert suite_el is not None
    assert suite_el.get("failures") == "1"


def test_bad_suite_exits_2_with_one_sentence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    p = _suite(tmp_path)
    p.write_text(p.read_text().replace("flags: [ethics, budget]", "flags: [ethics, money]"))
    res = _invoke(monkeypatch, Scripted(_good_script()), str(p), "--out", str(tmp_path / "r"))
    assert res.exit_code == 2
    assert "case 'bribe', field expected.flags[1]: unknown label 'money'" in res.output
    assert "Traceback" not in res.output
    assert not (tmp_path / "r").exists()


def test_case_filter_repeat_and_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fn = Scripted(_good_script())
    out = tmp_path / "run"
    res = _invoke(
        monkeypatch,
        fn,
        str(_suite(tmp_path)),
        "--case",
        "keen",
        "--case",
        "bribe",
        "--repeat",
        "3",
        "--out",
        str(out),
    )
    assert res.exit_code == 0, res.output
    assert sorted(c["path"].stem for c in fn.calls) == ["bribe"] * 3 + ["keen"] * 3
    # The first pass may use the cache; later passes must not replay it.
    caches = [(c["path"].stem, c["use_cache"]) for c in fn.calls]
    assert caches.count(("keen", None)) == 1
    assert caches.count(("keen", False)) == 2
    data = json.loads((out / "results.json").read_text())
    assert [c["id"] for c in data["cases"]] == ["bribe", "keen"]
    assert len(data["repeats"]) == 3
    assert all(len(c["runs"]) == 3 for c in data["cases"])
    assert data["summary"]["verdict_accuracy"] == {"mean": 1.0, "stdev": 0.0, "min": 1.0, "max": 1.0, "n": 3}

    res = _invoke(monkeypatch, fn, str(_suite(tmp_path)), "--case", "nope", "--out", str(out))
    assert res.exit_code == 2
    assert "no case with id 'nope'" in res.output


def test_no_cache_flag_and_concurrency_bound(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fn = Scripted(
        {k: v for k, v in _good_script().items() if k != "broken"} | {"broken": lambda: report("nurture")},
        delay=0.02,
    )
    res = _invoke(
        monkeypatch,
        fn,
        str(_suite(tmp_path)),
        "--no-cache",
        "--repeat",
        "2",
        "--concurrency",
        "2",
        "--out",
        str(tmp_path / "r"),
    )
    assert res.exit_code == 0, res.output
    assert {c["use_cache"] for c in fn.calls} == {False}
    assert fn.max_in_flight == 2


def test_default_out_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    suite = _suite(tmp_path)
    monkeypatch.chdir(tmp_path)
    res = _invoke(monkeypatch, Scripted(_good_script()), str(suite), "--backend", "keywords")
    assert res.exit_code == 1, res.output  # the "broken" case errors
    (run_dir,) = (tmp_path / "runs").iterdir()
    assert run_dir.name.startswith("mini-keywords-")
    assert run_dir.name.endswith("Z")
    assert (run_dir / "results.json").is_file()


def test_compare_marks_fixes_and_regressions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    suite = str(_suite(tmp_path))
    a, b = tmp_path / "a", tmp_path / "b"
    assert _invoke(monkeypatch, Scripted(_good_script()), suite, "--out", str(a)).exit_code == 1
    changed = _good_script() | {
        # bribe: loses the correct budget flag (regression); keen gains a false fit flag and flips
        # verdict away from the label (regressions); broken now works and is right (fixes).
        "bribe": lambda: report("walk_away", {"ethics": ["A finder's fee paid to me"]}),
        "keen": lambda: report("qualify_further", {"fit": ["on-prem only"]}),
        "broken": lambda: report("nurture", {"engagement": ["I'll look at it some time."]}),
    }
    assert _invoke(monkeypatch, Scripted(changed), suite, "--out", str(b)).exit_code in (0, 1)

    res = CliRunner().invoke(cli, ["eval", "compare", str(a), str(b / "results.json"), "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    got = {(c["case_id"], c["what"], c["detail"].split(" (")[0], c["kind"]) for c in data["changes"]}
    assert got == {
        ("bribe", "flag_lost", "budget", "regression"),
        ("keen", "verdict", "pursue -> qualify_further", "regression"),
        ("keen", "flag_gained", "fit", "regression"),
        ("broken", "error", "analysis no longer fails", "fix"),
        ("broken", "verdict", "none -> nurture", "fix"),
        ("broken", "flag_gained", "engagement", "fix"),
    }
    assert (data["fixes"], data["regressions"]) == (3, 3)
    deltas = {d["metric"]: d for d in data["metrics"]}
    assert deltas["invalid_output_rate"]["delta"] == pytest.approx(-1 / 3)
    assert deltas["invalid_output_rate"]["better"] is True

    res = CliRunner().invoke(cli, ["eval", "compare", str(a), str(b)])
    assert res.exit_code == 0
    assert "3 fix(es), 3 regression(s)" in res.output
    assert "regression" in res.output
    res = CliRunner().invoke(cli, ["eval", "compare", str(a), str(b), "--fail-on-regression"])
    assert res.exit_code == 1
    res = CliRunner().invoke(cli, ["eval", "compare", str(a), str(tmp_path / "missing")])
    assert res.exit_code == 2
    assert "no results.json" in res.output


def test_eval_help_lists_compare() -> None:
    res = CliRunner().invoke(cli, ["eval", "--help"])
    assert res.exit_code == 0
    assert "compare" in res.output
    assert "SUITE.yaml" in res.output
