"""The third-party calls in ../shared/external-calls: speaker names, roles, metadata kept aside."""

from __future__ import annotations

from pathlib import Path

import pytest

from analyzer._errors import TranscriptError
from analyzer.transcript import parse_file

EXTERNAL = Path(__file__).resolve().parents[3] / "shared" / "external-calls"
pytestmark = pytest.mark.skipif(not EXTERNAL.is_dir(), reason="shared/external-calls not present")

TRIBE = EXTERNAL / "02_tribeai_fixtures"
CASES: dict[str, tuple[str, dict[str, str]]] = {
    "01_openai-evals_real-call/pr87_call_clean.txt": ("plain", {"Jane": "prospect", "John": "seller"}),
    "02_tribeai_fixtures/closing-call-01.md": (
        "markdown",
        {"Maria": "seller", "James": "prospect", "Susan": "prospect"},
    ),
    "02_tribeai_fixtures/cold-call-success-01.md": ("markdown", {"Sarah": "seller", "Michael": "prospect"}),
    "02_tribeai_fixtures/cold-call-unsuccessful-01.md": ("markdown", {"Brian": "seller", "Patricia": "prospect"}),
    "02_tribeai_fixtures/demo-call-success-01.md": (
        "markdown",
        {"Lisa": "seller", "Alex": "seller", "Robert": "prospect", "Amy": "prospect", "Tom": "prospect"},
    ),
    "02_tribeai_fixtures/discovery-call-01.md": (
        "markdown",
        {"Marcus": "seller", "Jennifer": "prospect", "David": "prospect"},
    ),
    "02_tribeai_fixtures/follow-up-success-01.md": ("markdown", {"Rachel": "seller", "Chris": "prospect"}),
    "02_tribeai_fixtures/objection-pricing-01.md": ("markdown", {"Nicole": "seller", "Kevin": "prospect"}),
    "03_recursive-llm-ts/call-transcript.txt": ("plain", {"Sarah": "seller", "Michael": "prospect"}),
    "04_revopsvault/sample-call-transcript.md": ("markdown", {"David": "seller", "Sarah": "prospect"}),
}


def test_every_external_transcript_is_covered() -> None:
    files = {
        str(p.relative_to(EXTERNAL))
        for p in EXTERNAL.glob("*/*")
        if not p.name.startswith("LICENSE") and p.suffix in (".txt", ".md", ".json")
    }
    assert files == set(CASES) | {"01_openai-evals_real-call/pr87_sample0_raw.json"}


@pytest.mark.parametrize("rel", sorted(CASES))
def test_external_speakers_and_roles(rel: str) -> None:
    fmt, roles = CASES[rel]
    t = parse_file(EXTERNAL / rel)
    assert t.format == fmt
    assert {s.name: s.role for s in t.speakers} == roles
    assert all(s.role_source == "export" for s in t.speakers)  # labels or participants headers say so
    assert not any(k in t.text() for k in ("**", "Call ID:", "Participants:", "Call Notes"))


def test_pr87_clean_labels_and_merging() -> None:
    t = parse_file(EXTERNAL / "01_openai-evals_real-call/pr87_call_clean.txt")
    assert {s.name for s in t.speakers} == {"Jane", "John"}  # "(seller)" is a role, not part of the name
    assert t.speakers[0].reason == "speaker label 'prospect'"
    assert len(t.turns) < 75  # 75 labelled lines, consecutive ones by the same speaker merged
    assert "DERIVED" in t.metadata["title"] and "DERIVED" not in t.text()


def test_pr87_without_labels_falls_back_to_heuristic() -> None:
    text = (EXTERNAL / "01_openai-evals_real-call/pr87_call_clean.txt").read_text()
    from analyzer.transcript import parse_bytes

    stripped = text.replace("Jane (prospect):", "Jane:").replace("John (seller):", "John:")
    t = parse_bytes(stripped.encode(), filename="pr87.txt")
    assert {s.name: (s.role, s.role_source) for s in t.speakers} == {
        "Jane": ("prospect", "assumed"),
        "John": ("seller", "assumed"),
    }


def test_pr87_raw_eval_record_is_a_clear_error() -> None:
    path = EXTERNAL / "01_openai-evals_real-call/pr87_sample0_raw.json"
    with pytest.raises(TranscriptError, match=r"OpenAI evals sample .*expected a Gong") as info:
        parse_file(path)
    assert str(path) in str(info.value)


def test_tribeai_metadata_header() -> None:
    t = parse_file(TRIBE / "closing-call-01.md")
    assert t.metadata["title"] == "Sales Call Transcript: Closing Call"
    assert t.metadata["call id"] == "CLOSE-2024-023"
    assert t.metadata["date"] == "February 15, 2024"
    assert "Maria (TribeAI Account Executive)" in t.metadata["participants"]
    assert "Contract sent immediately" in t.metadata["call notes"]
    assert t.turns[0].text.startswith("James, Susan")


def test_stage_directions_and_headings() -> None:
    t = parse_file(TRIBE / "cold-call-unsuccessful-01.md")
    assert t.turns[-1].text == "[hangs up]"
    assert "Used prohibited terms" in t.metadata["call notes - what went wrong"]


def test_mmss_file_header_block() -> None:
    t = parse_file(EXTERNAL / "03_recursive-llm-ts/call-transcript.txt")
    assert t.metadata["account"] == "TechCorp Industries"
    assert t.metadata["title"] == "SALES CALL TRANSCRIPT"
    assert t.turns[0].start == 0.0 and t.turns[-1].start == 11 * 60 + 48
    assert "END OF TRANSCRIPT" not in t.text()


def test_revopsvault_preamble_not_speech() -> None:
    t = parse_file(EXTERNAL / "04_revopsvault/sample-call-transcript.md")
    assert t.metadata["call date"] == "2025-02-10"
    assert "log-call" in t.metadata["preamble"]
    assert t.turns[0].speaker == "David" and t.turns[0].text.startswith("Hey Sarah")
