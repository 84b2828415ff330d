"""Threshold tuning: the best cut-offs on hand-made scores, and the CLI's case filter and output file."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from analyzer._errors import ConfigError
from analyzer.cli import cli
from analyzer.eval.records import CaseResult, CaseRun
from analyzer.eval.results import RunMeta, RunResults
from analyzer.eval.suite import Expected
from analyzer.eval.tune import _f1, samples_for, tune


def _case(cid: str, flags: list[str], scores: dict[str, float], cues: Sequence[str] = ()) -> CaseResult:
    return CaseResult(
        id=cid,
        transcript=f"{cid}.txt",
        expected=Expected(verdict="qualify_further", flags=flags),  # type: ignore[arg-type]
        runs=[CaseRun(repeat=0, verdict="qualify_further", scores=scores, cue_hits=list(cues))],
    )


def _cases() -> list[CaseResult]:
    # ethics: positives score 0.8 and 0.6 (the 0.6 one with a cue), negatives 0.5 and 0.3 (0.5 with a cue).
    return [
        _case("a1", ["ethics"], {"ethics": 0.8}),
        _case("a2", ["ethics"], {"ethics": 0.6}, ["ethics"]),
        _case("a3", [], {"ethics": 0.5}, ["ethics"]),
        _case("a4", [], {"ethics": 0.3}),
        _case("b1", [], {"ethics": 0.9}),  # a part-B case that contradicts part A
    ]


def test_f1_by_hand() -> None:
    samples = samples_for(_cases()[:4], "ethics")
    assert samples == [(0.8, False, True), (0.6, True, True), (0.5, True, False), (0.3, False, False)]
    # One cut-off of 0.55 for both: tp 2, fp 0, fn 0.
    assert _f1(samples, 0.55, 0.55) == (1.0, 1.0, 1.0)
    # Cut-offs that pass everything: tp 2, fp 2 -> precision 0.5, recall 1, F1 2/3.
    f1, p, r = _f1(samples, 0.0, 0.0)
    assert (round(f1, 4), p, r) == (0.6667, 0.5, 1.0)
    # Nothing passes: F1 0.
    assert _f1(samples, 1.0, 1.0) == (0.0, 0.0, 0.0)


def test_tune_separates_cue_and_plain_cut_offs() -> None:
    (row,) = [r for r in tune(_cases()[:4]) if r.name == "ethics"]
    assert row.f1 == 1.0 and row.support == 2
    # Plain cases: 0.8 positive, 0.3 negative -> the midpoint 0.55; cued: 0.6 positive, 0.5 negative -> 0.55.
    assert row.threshold == 0.55
    assert row.cue_threshold == 0.55


def test_cli_tunes_on_the_matching_cases_only(tmp_path: Path) -> None:
    run = tmp_path / "run"
    run.mkdir()
    RunResults(meta=RunMeta(suite="core", backend="local", prompt_version="2-abc+tdef", timestamp="t"),
               cases=_cases()).write(run / "results.json")
    out = tmp_path / "thresholds.yaml"
    res = CliRunner().invoke(cli, ["eval", "tune", str(run), "--case", "a*", "--write", str(out)])
    assert res.exit_code == 0, res.output
    assert "over 4 cases" in res.output
    data = yaml.safe_load(out.read_text())
    assert data["thresholds"]["ethics"] == 0.55  # b1 (0.9, no flag) would have pushed it above 0.9
    assert data["tuned_on"] == "core, 4 cases: a*" and data["prompt_version"] == "2-abc"
    # Every question keeps a cut-off: those without scores keep the shipped ones.
    assert set(data["thresholds"]) == set(data["cue_thresholds"]) and "budget" in data["thresholds"]

    res = CliRunner().invoke(cli, ["eval", "tune", str(run), "--case", "z*"])
    assert res.exit_code != 0
    assert "no case of" in res.output and "z*" in res.output


def test_tune_writes_a_profile_that_the_pipeline_finds_for_the_runs_model(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from analyzer.extraction.profiles import choose, find_profile
    from analyzer.extraction.prompts import load_prompts

    home = tmp_path / "home"
    monkeypatch.setenv("WALKAWAY_HOME", str(home))
    cases = _cases()
    for c in cases:  # a run of a hosted model that ran uncalibrated with the yes/no questions
        for r in c.runs:
            r.backend, r.model, r.strategy, r.profile = "openai", "gpt-4o-mini", "chunks", ""
    run = tmp_path / "run"
    run.mkdir()
    RunResults(meta=RunMeta(suite="core", backend="openai", prompt_version="2-abc+tnone", timestamp="t"),
               cases=cases).write(run / "results.json")
    # No profile yet: the model runs structured, uncalibrated.
    assert choose(None, None, backend="openai", model="gpt-4o-mini", home=home) == (None, "structured")

    res = CliRunner().invoke(cli, ["eval", "tune", str(run), "--profile", "team-mini", "--write"])
    assert res.exit_code == 0, res.output
    path = home / "profiles" / "team-mini.yaml"
    assert f"wrote profile team-mini to {path}" in res.output
    data = yaml.safe_load(path.read_text())
    assert data["models"] == ["openai:gpt-4o-mini"] and data["strategy"] == "chunks"
    assert data["calibrate"] == []  # the run's scores were uncalibrated: so is the profile

    profile = find_profile(None, backend="openai", model="gpt-4o-mini", home=home)
    assert profile is not None and profile.name == "team-mini" and profile.digest
    assert choose(None, None, backend="openai", model="gpt-4o-mini", home=home) == (profile, "chunks")
    prompts = load_prompts(profile=profile)
    assert prompts.questions["ethics"].threshold == data["thresholds"]["ethics"]
    assert prompts.profile == "team-mini" and prompts.full_version.endswith(profile.digest)
    # Another model still has none; --profile NAME picks it for any model.
    assert find_profile(None, backend="openai", model="gpt-4o", home=home) is None
    assert find_profile("team-mini", backend="openai", model="gpt-4o", home=home) == profile
    # --write without a path needs a name; a missing profile is one sentence naming the known ones.
    res = CliRunner().invoke(cli, ["eval", "tune", str(run), "--write"])
    assert res.exit_code == 2 and "needs --profile NAME" in res.output
    with pytest.raises(ConfigError, match=r"no profile named 'nope' .*known: .*embedded.*team-mini"):
        find_profile("nope", backend="openai", model="x", home=home)


def test_one_cue_bonus_is_shared_and_as_small_as_the_labels_allow() -> None:
    # Cued positive 0.45 sits below the plain negative 0.5: only a bonus over 0.05 separates them,
    # and the smallest such bonus on the grid is 0.075.
    cases = [
        _case("c1", ["fit"], {"fit": 0.45}, ["fit"]),
        _case("c2", [], {"fit": 0.5}),
        _case("c3", ["fit"], {"fit": 0.7}),
        _case("c4", [], {"fit": 0.3}, ["fit"]),
    ]
    (row,) = [r for r in tune(cases) if r.name == "fit"]
    assert row.f1 == 1.0
    assert row.threshold == 0.5125  # between the plain negative 0.5 and the cued positive 0.45 + 0.075
    assert row.cue_threshold == round(0.5125 - 0.075, 4)
    # A fixed bonus of 0 cannot separate them.
    (fixed,) = [r for r in tune(cases, cue_bonus=0.0) if r.name == "fit"]
    assert fixed.f1 < 1.0 and fixed.threshold == fixed.cue_threshold


def test_cut_offs_stay_within_zero_and_one() -> None:
    # Both calls have the flag, the cued one scoring only 0.1: the best plain cut-off is just under 0.2, so with
    # a bonus of 0.3 the cue cut-off would be negative, which thresholds.yaml cannot hold.
    cases = [_case("d1", ["fit"], {"fit": 0.1}, ["fit"]), _case("d2", ["fit"], {"fit": 0.2})]
    (row,) = tune(cases, cue_bonus=0.3)
    assert row.f1 == 1.0
    assert row.threshold == 0.1999 and row.cue_threshold == 0.0
