"""Sentence splitting (abbreviations, amounts, lossless joins) and role hints/heuristics."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

import analyzer.transcript as pkg
from analyzer.transcript import parse_bytes, split_sentences


def test_public_api() -> None:
    assert set(pkg.__all__) >= {"parse_file", "parse_bytes", "FORMATS", "split_sentences", "Transcript"}
    assert all(hasattr(pkg, name) for name in pkg.__all__)


def test_abbreviations_and_numbers() -> None:
    text = (
        "Mr. Lee met Dr. Patel in the U.S. office. We budgeted $1.2M, i.e. about 2.5 times last year. "
        "Did you see it? Yes! It was e.g. the Q3 plan. Let me check… maybe later. No. 5 is fine. No. Not that one."
    )
    assert split_sentences(text) == [
        "Mr. Lee met Dr. Patel in the U.S. office.",
        "We budgeted $1.2M, i.e. about 2.5 times last year.",
        "Did you see it?",
        "Yes!",
        "It was e.g. the Q3 plan.",
        "Let me check… maybe later.",
        "No. 5 is fine.",
        "No.",
        "Not that one.",
    ]


def test_quotes_close_the_sentence() -> None:
    assert split_sentences('She said "we are out." Then she left.') == ['She said "we are out."', "Then she left."]


@given(st.text(alphabet=st.sampled_from(list("ab. ?!\n\t…$1,'\"DrM")), max_size=80))
def test_join_gives_back_normalized_text(text: str) -> None:
    parts = split_sentences(text)
    assert " ".join(parts) == " ".join(text.split())
    assert all(p and p == p.strip() for p in parts)


CALL = b"""Dana: Hi Sam, I'm Dana from Ledgerly. Our platform automates invoice matching.
Sam: We're currently using spreadsheets. How much does it cost?
Dana: Our pricing starts at $2,000 a month.
Kim: My boss would need to approve that.
"""


def test_seller_hint_by_first_or_full_name_case_insensitive() -> None:
    for hint in ("dana", "DANA REYES", "Dana"):
        t = parse_bytes(CALL, filename="c.txt", seller=[hint])
        roles = {s.name: (s.role, s.role_source) for s in t.speakers}
        assert roles == {"Dana": ("seller", "given"), "Sam": ("prospect", "given"), "Kim": ("prospect", "given")}


def test_unmatched_hint_warns_and_falls_back() -> None:
    t = parse_bytes(CALL, filename="c.txt", seller=["Zed"])
    assert t.warnings == ["--seller 'Zed' matched no speaker"]
    assert {s.name: s.role for s in t.speakers}["Dana"] == "seller"
    assert t.roles_assumed


def test_seller_domain_by_self_introduction() -> None:
    t = parse_bytes(CALL, filename="c.txt", seller_domain="ledgerly.com")
    assert t.speakers[0].role_source == "given" and t.speakers[0].role == "seller"
    assert all(s.role == "prospect" for s in t.speakers[1:])


def test_heuristic_reasons_and_several_per_side() -> None:
    t = parse_bytes(CALL, filename="c.txt")
    by = {s.name: s for s in t.speakers}
    assert by["Dana"].role == "seller" and "our platform" in by["Dana"].reason
    assert by["Sam"].role == "prospect" and by["Kim"].role == "prospect"
    four = CALL + b"Lee: Let me show you our dashboard, we offer a free pilot.\n"
    t4 = parse_bytes(four, filename="c.txt")
    assert [s.name for s in t4.speakers if s.role == "seller"] == ["Dana", "Lee"]


def test_role_labels_in_speaker_names() -> None:
    t = parse_bytes(b"Customer: Hi.\nRep: Hello, thanks for calling.\n", filename="c.txt")
    assert {s.name: (s.role, s.role_source) for s in t.speakers} == {
        "Customer": ("prospect", "export"),
        "Rep": ("seller", "export"),
    }
    t2 = parse_bytes(b"Ana (AE): Hi.\nBo (prospect): Hello.\n", filename="c.txt")
    assert {s.name: s.role for s in t2.speakers} == {"Ana": "seller", "Bo": "prospect"}


def test_no_cues_first_speaker_assumed_seller() -> None:
    t = parse_bytes(b"Ana: Hi.\nBo: Hello.\n", filename="c.txt")
    assert t.speakers[0].role == "seller" and "first speaker" in t.speakers[0].reason
