"""Cross-validated tuning: folds grouped by writer and balanced by verdict, re-deciding from scores,
out-of-fold figures that differ from in-sample ones when fitting overfits, and the CLI."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner

from analyzer._errors import ConfigError
from analyzer.cli import cli
from analyzer.eval.folds import cross_validate, make_folds, redecide
from analyzer.eval.records import CaseResult, CaseRun, CitedFlag
from analyzer.eval.results import RunMeta, RunResults
from analyzer.eval.suite import Expected
from analyzer.taxonomy import VERDICTS

CUT = {"ethics": (0.5, 0.5), "budget": (0.5, 0.5)}


def _case(
    cid: str,
    writer: str,
    verdict: str,
    flags: dict[str, str],
    scores: dict[str, float],
    raised: dict[str, str] | None = None,
    run_verdict: str | None = None,
) -> CaseResult:
    return CaseResult(
        id=cid,
        writer=writer,
        transcript=f"{cid}.txt",
        expected=Expected.model_validate({"verdict": verdict, "flags": flags}),
        runs=[
            CaseRun(
                repeat=0,
                verdict=run_verdict or verdict,  # type: ignore[arg-type]
                scores=scores,
                flags=[
                    CitedFlag(category=c, severity=s, quotes=["q"])  # type: ignore[arg-type]
                    for c, s in (raised or {}).items()
                ],
            )
        ],
    )


def test_folds_keep_each_writer_together_and_balance_verdicts() -> None:
    cases = [
        _case(f"{w}-{i}", w, VERDICTS[i % 4], {}, {})
        for w, n in (("w1", 8), ("w2", 8), ("w3", 8), ("w4", 4), ("w5", 4), ("w6", 4))
        for i in range(n)
    ]
    folds = make_folds(cases, 3)
    assert sorted(i for f in folds for i in f) == list(range(len(cases)))
    for f in folds:
        writers = {cases[i].writer for i in f}
        # No writer is split across folds.
        for other in folds:
            if other is not f:
                assert writers.isdisjoint({cases[i].writer for i in other})
        # Every fold holds every verdict equally (each writer wrote a balanced set).
        mix = Counter(cases[i].expected.verdict for i in f)
        assert len(set(mix.values())) == 1 and len(mix) == 4
    assert sorted(len(f) for f in folds) == [12, 12, 12]


def test_too_few_writers_is_a_clear_error() -> None:
    cases = [_case(f"c{i}", "w1", "pursue", {}, {}) for i in range(4)]
    with pytest.raises(ConfigError, match="5 folds need at least 5 writers, the run has 1"):
        make_folds(cases, 5)


def test_redecide_adds_drops_and_keeps_flags() -> None:
    # ethics raised at the run's cut-off; budget passed the run's cut-off but grounding dropped it.
    case = _case(
        "c", "w1", "walk_away", {"ethics": "high"}, {"ethics": 0.7, "budget": 0.6, "fit": 0.3}, {"ethics": "high"}
    )
    cut = {**CUT, "fit": (0.5, 0.5)}
    same = redecide(case, cut, cut)
    assert [f.category for f in same.flags] == ["ethics"]
    assert same.verdict == "walk_away"
    # A higher ethics cut-off drops it; a lower fit cut-off adds fit (medium, no quotes); budget stays dropped.
    moved = redecide(case, {**cut, "ethics": (0.8, 0.8), "fit": (0.2, 0.2)}, cut)
    assert [(f.category, f.severity, f.quotes) for f in moved.flags] == [("fit", "medium", [])]
    assert moved.verdict != "walk_away"


def test_redecide_rates_ethics_high_as_merging_does() -> None:
    # A run recorded before ethics was always high: its medium ethics flag is judged as the pipeline now would.
    case = _case("c", "w1", "walk_away", {"ethics": "high"}, {"ethics": 0.7}, {"ethics": "medium"}, "qualify_further")
    again = redecide(case, CUT, CUT)
    assert [(f.category, f.severity) for f in again.flags] == [("ethics", "high")]
    assert again.verdict == "walk_away"
    # A flag a lower cut-off adds is ethics, so it is high too, not the replay's default medium.
    added = redecide(_case("d", "w1", "pursue", {}, {"ethics": 0.4}), {"ethics": (0.3, 0.3)}, CUT)
    assert [(f.category, f.severity) for f in added.flags] == [("ethics", "high")]


def _overfit_run() -> list[CaseResult]:
    # Ethics scores separate labels perfectly within each writer, but each writer's scale differs:
    # a cut-off fitted on the others misplaces the held-out writer's calls.
    cases = []
    for w, (pos, neg) in {"w1": (0.9, 0.8), "w2": (0.7, 0.6), "w3": (0.5, 0.4), "w4": (0.3, 0.2)}.items():
        cases.append(_case(f"{w}-p", w, "walk_away", {"ethics": "high"}, {"ethics": pos}))
        cases.append(_case(f"{w}-n", w, "pursue", {}, {"ethics": neg}))
    return cases


def test_out_of_fold_is_lower_than_in_sample_when_cut_offs_do_not_transfer() -> None:
    cv = cross_validate(_overfit_run(), {"ethics": (0.5, 0.5)}, k=4)
    assert cv.tuned
    assert cv.in_sample.categories["ethics"].f1 is not None
    assert cv.out_of_fold.categories["ethics"].f1 is not None
    assert cv.out_of_fold.categories["ethics"].f1 < cv.in_sample.categories["ethics"].f1
    assert set(cv.per_writer) == {"w1", "w2", "w3", "w4"}
    assert sum(f.cases for f in cv.per_fold) == 8
    # The constant baseline answers the training folds' majority verdict (a tie here: the first one).
    assert cv.constant.verdict_accuracy == pytest.approx(0.5)


def test_runs_without_scores_are_not_fitted() -> None:
    cases = [_case(f"{w}-{v}", w, v, {}, {}) for w in ("w1", "w2") for v in ("pursue", "nurture")]
    cv = cross_validate(cases, CUT, k=2)
    assert not cv.tuned
    assert cv.out_of_fold.verdict_accuracy == cv.as_run.verdict_accuracy == 1.0


def test_cli_folds_prints_out_of_fold_and_json(tmp_path: Path) -> None:
    run = tmp_path / "run"
    run.mkdir()
    results = RunResults(
        meta=RunMeta(suite="s", backend="local", model="m", prompt_version="p", timestamp="t"),
        cases=_overfit_run(),
    )
    results.write(run / "results.json")
    res = CliRunner().invoke(cli, ["eval", "tune", str(run), "--folds", "4"])
    assert res.exit_code == 0, res.output
    assert "out-of-fold" in res.output and "Per writer" in res.output
    res = CliRunner().invoke(cli, ["eval", "tune", str(run), "--folds", "4", "--json"])
    data = json.loads(res.output)
    assert data["folds"] == 4 and data["cases"] == 8
    res = CliRunner().invoke(cli, ["eval", "tune", str(run), "--folds", "9"])
    assert res.exit_code == 2
    assert "9 folds need at least 9 writers" in res.output


def test_cli_pools_several_runs_of_one_suite(tmp_path: Path) -> None:
    cases = _overfit_run()
    paths = []
    for i, part in enumerate((cases[:4], cases[4:])):
        run = tmp_path / f"part{i}"
        run.mkdir()
        RunResults(
            meta=RunMeta(suite="s", backend="local", model="m", prompt_version="p", timestamp="t"), cases=part
        ).write(run / "results.json")
        paths.append(str(run))
    res = CliRunner().invoke(cli, ["eval", "tune", *paths, "--folds", "4", "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["cases"] == 8
