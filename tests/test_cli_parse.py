"""`walkaway parse` through click's CliRunner: text and JSON output, and one-sentence errors with exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from analyzer.cli import cli

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def test_parse_json_output() -> None:
    res = CliRunner().invoke(
        cli, ["parse", str(FIXTURES / "plain/discovery-budget-frozen.txt"), "--seller", "dana", "--json"]
    )
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    speakers = {s["name"]: (s["role"], s["role_source"]) for s in out["transcript"]["speakers"]}
    assert speakers == {"Dana Reyes": ("seller", "given"), "Marcus Bell": ("prospect", "given")}
    assert out["tokens"] > 500 and out["chunk_plan"]["budget_tokens"] == 1800
    assert out["chunk_plan"]["chunks"][0]["first_turn"] == "t1"


def test_parse_text_output_and_chunk_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WALKAWAY_CHUNK_TOKENS", "150")
    res = CliRunner().invoke(cli, ["parse", str(FIXTURES / "vtt/teams-authority-missing.vtt")])
    assert res.exit_code == 0, res.output
    for text in ("Mia Torres", "seller", "assumed", "Chunk plan (budget 150", "t12"):
        assert text in res.output


def test_parse_forced_format_and_domain() -> None:
    res = CliRunner().invoke(
        cli,
        [
            "parse",
            str(FIXTURES / "gong/tire-kicker-rfp.json"),
            "--format",
            "gong",
            "--seller-domain",
            "quotient.io",
            "--json",
        ],
    )
    assert res.exit_code == 0, res.output
    sp = json.loads(res.output)["transcript"]["speakers"]
    assert sp[0]["role_source"] == "given" and sp[1]["role_source"] == "export"


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("empty.txt", b""),
        ("broken.vtt", b"WEBVTT\n\n00:00:01.000 --> 00:00:0x.000\nA: hi\n"),
        ("x.json", b"{not json"),
        ("mono.txt", b"Ana: hi\nAna: hello\n"),
        ("image.png", b"\x89PNG\r\n\x1a\n"),
    ],
)
def test_bad_input_one_sentence_exit_2(tmp_path: Path, name: str, data: bytes) -> None:
    (tmp_path / name).write_bytes(data)
    res = CliRunner().invoke(cli, ["parse", str(tmp_path / name)])
    assert res.exit_code == 2
    assert res.output.startswith("error: ") and name in res.output
    assert "Traceback" not in res.output and res.output.count("\n") == 1


def test_size_limit_from_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WALKAWAY_MAX_FILE_BYTES", "10")
    res = CliRunner().invoke(cli, ["parse", str(FIXTURES / "plain/intro-paren-timestamps.txt")])
    assert res.exit_code == 2 and "10-byte limit" in res.output


def test_bad_format_choice_is_usage_error() -> None:
    res = CliRunner().invoke(cli, ["parse", str(FIXTURES / "plain/intro-paren-timestamps.txt"), "--format", "pdf"])
    assert res.exit_code == 2 and "Traceback" not in res.output
