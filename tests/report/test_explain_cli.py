"""`walkaway explain`, write_report and load_report: round trips, exit codes and clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from report_helpers import nurture, walk_away_incomplete

from analyzer._errors import ConfigError
from analyzer.cli import cli
from analyzer.report import load_report, render, write_report


@pytest.fixture
def saved(tmp_path):
    path = tmp_path / "report.json"
    write_report(walk_away_incomplete(), "json", path)
    return path


def test_write_and_load_round_trip(saved):
    assert load_report(saved) == walk_away_incomplete()
    assert load_report(str(saved)).verdict == "walk_away"


def test_write_report_to_a_new_folder_and_to_stdout(tmp_path, capsys):
    out = tmp_path / "deep" / "r.md"
    write_report(nurture(), "md", out)
    assert out.read_text(encoding="utf-8") == render(nurture(), "md")
    write_report(nurture(), "json", None)
    assert json.loads(capsys.readouterr().out)["verdict"] == "nurture"
    write_report(nurture(), "text", None)
    assert "NURTURE" in capsys.readouterr().out
    with pytest.raises(ConfigError, match="unknown report format 'xml'"):
        write_report(nurture(), "xml", None)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ('{"verdict": "pursue",\n  oops}', r"report\.json, line 2: not a JSON report"),
        ("[1, 2]", "not a walkaway report"),
        ('{"schema_version": "0", "verdict": "pursue", "source": "x"}', "schema_version is '0'.*reads schema '1'"),
        ('{"schema_version": "1", "verdict": "maybe", "source": "x"}', "invalid report, field 'verdict'"),
        ('{"verdict": "pursue", "source": "x"}', "schema_version is None"),
    ],
)
def test_load_report_errors_are_one_sentence(tmp_path, content, expected):
    path = tmp_path / "report.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError, match=expected) as exc:
        load_report(path)
    assert "\n" not in str(exc.value)


def test_load_report_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="report file not found"):
        load_report(tmp_path / "none.json")


@pytest.mark.parametrize("fmt", ["text", "json", "md", "html"])
def test_explain_renders_every_format(saved, fmt):
    result = CliRunner().invoke(cli, ["explain", str(saved), "--format", fmt])
    assert result.exit_code == 0, result.output
    if fmt == "text":  # rich picks the terminal's width here, so compare content, not layout
        assert "WALK AWAY" in result.output and "INCOMPLETE ANALYSIS" in result.output
    else:
        assert result.output == render(load_report(saved), fmt)


def test_explain_writes_a_file(saved, tmp_path):
    out = tmp_path / "r.html"
    result = CliRunner().invoke(cli, ["explain", str(saved), "--format", "html", "--out", str(out)])
    assert result.exit_code == 0 and result.output == ""
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_explain_exit_codes_follow_fail_on(saved):
    runner = CliRunner()
    assert runner.invoke(cli, ["explain", str(saved), "--format", "json"]).exit_code == 0
    assert runner.invoke(cli, ["explain", str(saved), "--format", "json", "--fail-on", "walk_away"]).exit_code == 1
    both = ["explain", str(saved), "--format", "json", "--fail-on", "nurture", "--fail-on", "walk_away"]
    assert runner.invoke(cli, both).exit_code == 1
    assert runner.invoke(cli, ["explain", str(saved), "--format", "json", "--fail-on", "pursue"]).exit_code == 0
    assert runner.invoke(cli, ["explain", str(saved), "--fail-on", "never"]).exit_code == 2


def test_explain_bad_report_is_exit_2_with_one_line(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text("not json", encoding="utf-8")
    result = CliRunner().invoke(cli, ["explain", str(path)])
    assert result.exit_code == 2
    assert result.output.startswith("error: ") and "not a JSON report" in result.output
    assert "Traceback" not in result.output


def test_explain_combiner_prints_the_windows_cut_offs_and_weights(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    from analyzer.extraction.prompts import shipped_prompts_dir

    prompts = tmp_path / "prompts"
    shutil.copytree(shipped_prompts_dir(), prompts)
    (prompts / "windows-thresholds.yaml").write_text(
        "combiner: logistic\nthresholds: {ethics: 0.42}\nweights: {ethics: {b:personal_payment: 3.5, bias: -2.0}}\n"
    )
    monkeypatch.setenv("WALKAWAY_PROMPTS_DIR", str(prompts))
    result = CliRunner().invoke(cli, ["explain", "--combiner"])
    assert result.exit_code == 0, result.output
    assert "0.420" in result.output and "b:personal_payment +3.50" in result.output
    assert CliRunner().invoke(cli, ["explain"]).exit_code == 2  # neither a report nor --combiner
