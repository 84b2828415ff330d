"""Suite loading and validation: every mistake names the file, line, case and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from analyzer._errors import ConfigError
from analyzer.eval.suite import load_suite, parse_suite

GOOD = """\
name: core
thresholds:
  verdict_accuracy: 0.8
  macro_f1: 0.75
cases:
  - id: brightline-discovery
    transcript: calls/brightline.vtt
    seller: ["Jordan Ellis"]
    expected:
      verdict: walk_away
      flags: [budget, authority, ethics]
      signals: [need_confirmed]
      evidence: ["finder's fee"]
  - id: acme-intro
    transcript: calls/acme.txt
    expected:
      verdict: pursue
"""


def _write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "calls").mkdir(exist_ok=True)
    (tmp_path / "calls" / "brightline.vtt").write_text("WEBVTT\n")
    (tmp_path / "calls" / "acme.txt").write_text("A: hi\n")
    p = tmp_path / "suite.yaml"
    p.write_text(text)
    return p


def test_good_suite_loads_with_paths_relative_to_the_file(tmp_path: Path) -> None:
    suite = load_suite(_write(tmp_path, GOOD))
    assert suite.name == "core"
    assert [c.id for c in suite.cases] == ["brightline-discovery", "acme-intro"]
    assert suite.transcript_path(suite.cases[0]) == tmp_path / "calls" / "brightline.vtt"
    assert suite.thresholds.items() == [("verdict_accuracy", 0.8), ("macro_f1", 0.75)]
    assert suite.cases[1].expected.flags == []
    assert suite.cases[1].expected.signals is None


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "flags: [budget, authority, ethics]",
            "flags: [budget, authorty]",
            "line 11, case 'brightline-discovery', field expected.flags[1]: unknown label 'authorty'",
        ),
        (
            "verdict: pursue",
            "verdict: maybe",
            "line 17, case 'acme-intro', field expected.verdict: unknown label",
        ),
        (
            "signals: [need_confirmed]",
            "signals: [need]",
            "case 'brightline-discovery', field expected.signals[0]",
        ),
        (
            "      verdict: pursue",
            "      verdict: pursue\n      flagz: [fit]",
            "case 'acme-intro', field expected.flagz: unknown field",
        ),
        ("  macro_f1: 0.75", "  macro_f1: 0.75\n  recall: 0.5", "field thresholds.recall: unknown field"),
        ("  macro_f1: 0.75", "  macro_f1: 1.5", "field thresholds.macro_f1"),
        (
            "    expected:\n      verdict: pursue\n",
            "",
            "case 'acme-intro', field expected: required field is missing",
        ),
        ("id: acme-intro", "id: brightline-discovery", "case id 'brightline-discovery' is used twice"),
        (
            "flags: [budget, authority, ethics]",
            "flags: [budget, budget]",
            "expected.flags: lists a label twice",
        ),
        ('evidence: ["finder\'s fee"]', 'evidence: ["  "]', "evidence substring is empty"),
    ],
)
def test_validation_errors_name_line_case_and_field(tmp_path: Path, old: str, new: str, expected: str) -> None:
    assert old in GOOD
    with pytest.raises(ConfigError) as info:
        load_suite(_write(tmp_path, GOOD.replace(old, new)))
    message = str(info.value)
    assert message.startswith(str(tmp_path / "suite.yaml"))
    assert expected in message
    assert "\n" not in message


def test_missing_transcript_names_the_case(tmp_path: Path) -> None:
    p = _write(tmp_path, GOOD)
    (tmp_path / "calls" / "acme.txt").unlink()
    with pytest.raises(ConfigError, match=r"line 15, case 'acme-intro', field transcript: file not found: .*acme.txt"):
        load_suite(p)
    assert load_suite(p, check_files=False).cases[1].id == "acme-intro"


def test_structural_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_suite(tmp_path / "nope.yaml")
    with pytest.raises(ConfigError, match="line 3"):
        parse_suite("name: x\ncases: [\n", check_files=False)
    with pytest.raises(ConfigError, match="must be a mapping"):
        parse_suite("- a\n- b\n", check_files=False)
    with pytest.raises(ConfigError, match="field cases"):
        parse_suite("name: x\ncases: []\n", check_files=False)


def test_select_filters_and_rejects_unknown_ids(tmp_path: Path) -> None:
    suite = load_suite(_write(tmp_path, GOOD))
    assert [c.id for c in suite.select(["acme-intro"]).cases] == ["acme-intro"]
    assert suite.select([]) is suite
    with pytest.raises(ConfigError, match="no case with id 'nope'"):
        suite.select(["nope"])
