"""The development set is well formed: every call parses, the seller hint names a speaker, and every
evidence substring sits inside one sentence of a prospect-side turn (DESIGN.md "Eval cases", guide G5)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from analyzer.eval.suite import Case, load_suite
from analyzer.taxonomy import CATEGORIES, VERDICTS
from analyzer.transcript import parse_file

DEV = Path(__file__).resolve().parents[2] / "evals" / "dev.yaml"
SUITE = load_suite(DEV)


@pytest.mark.parametrize("case", SUITE.cases, ids=[c.id for c in SUITE.cases])
def test_case_parses_and_its_evidence_is_prospect_speech(case: Case) -> None:
    transcript = parse_file(SUITE.transcript_path(case), seller=case.seller)
    names = {s.name for s in transcript.speakers}
    assert set(case.seller) <= names, f"seller hint {case.seller} not among {sorted(names)}"
    sellers = {s.name for s in transcript.speakers if s.role == "seller"}
    assert sellers == set(case.seller)
    for needle in case.expected.evidence:
        hits = [
            (turn.speaker, sentence.text)
            for turn in transcript.turns
            for sentence in turn.sentences
            if needle.lower() in sentence.text.lower()
        ]
        assert hits, f"evidence {needle!r} is not inside any one sentence"
        assert any(speaker not in sellers for speaker, _ in hits), f"evidence {needle!r} is only seller speech"


def test_every_case_names_its_writer_and_labels_severity() -> None:
    assert all(c.writer for c in SUITE.cases)
    assert all(set(c.expected.severities) == set(c.expected.flags) for c in SUITE.cases)


def test_the_set_covers_every_verdict_and_category() -> None:
    verdicts = Counter(c.expected.verdict for c in SUITE.cases)
    flags = Counter(f for c in SUITE.cases for f in c.expected.flags)
    assert set(verdicts) == set(VERDICTS)
    assert set(flags) == set(CATEGORIES)
    assert len({c.writer for c in SUITE.cases}) >= 4
