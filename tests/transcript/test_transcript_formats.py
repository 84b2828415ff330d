"""Every parser over its fixtures: format detected, speakers, roles, timings, metadata kept aside."""

from __future__ import annotations

from pathlib import Path

import pytest
import webvtt

from analyzer.transcript import FORMATS, parse_bytes, parse_file

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"

# file -> (format, {speaker: role}, role_source of the first speaker)
EXPECTED: dict[str, tuple[str, dict[str, str], str]] = {
    "plain/discovery-budget-frozen.txt": ("plain", {"Dana Reyes": "seller", "Marcus Bell": "prospect"}, "assumed"),
    "plain/renewal-timestamped.txt": (
        "plain",
        {"Priya Natarajan": "seller", "Tom Okafor": "prospect", "Leah Kim": "prospect"},
        "export",
    ),
    "plain/intro-paren-timestamps.txt": ("plain", {"Omar Haddad": "seller", "Grace Liu": "prospect"}, "assumed"),
    "markdown/demo-qualified.md": (
        "markdown",
        {"Nadia Flores": "seller", "Dr. Alan Chu": "prospect", "Ben Ross": "seller"},
        "export",
    ),
    "otter/nurture-not-now.txt": ("otter", {"Jordan Blake": "seller", "Aisha Rahman": "prospect"}, "assumed"),
    "vtt/zoom-finders-fee.vtt": ("vtt", {"Jordan Ellis": "seller", "Victor Sato": "prospect"}, "assumed"),
    "vtt/teams-authority-missing.vtt": (
        "vtt",
        {"Mia Torres": "seller", "Ravi Patel": "prospect", "Chloe Martin": "prospect"},
        "assumed",
    ),
    "srt/toxic-relationship.srt": ("srt", {"Sam Carter": "seller", "Derek Vance": "prospect"}, "assumed"),
    "gong/tire-kicker-rfp.json": ("gong", {"Elena Ruiz": "seller", "Paul Greer": "prospect"}, "export"),
    "assemblyai/onprem-fit-mismatch.json": ("assemblyai", {"Speaker A": "seller", "Speaker B": "prospect"}, "assumed"),
    "deepgram/disengaged-prospect.json": ("deepgram", {"Speaker 0": "seller", "Speaker 1": "prospect"}, "assumed"),
    "openai/tip-pooling-pilot.json": ("openai", {"Speaker A": "seller", "Speaker B": "prospect"}, "assumed"),
    "fireflies/expansion-call.json": ("fireflies", {"Hannah Cole": "seller", "Greg Miles": "prospect"}, "assumed"),
    "json/fieldops-qualified.json": ("json", {"Ava Lindqvist": "seller", "Marco Bianchi": "prospect"}, "export"),
    "docx/discovery-champion.docx": ("docx", {"Leo Martins": "seller", "Sofia Greco": "prospect"}, "assumed"),
}


def test_every_format_has_a_fixture() -> None:
    assert {fmt for fmt, _, _ in EXPECTED.values()} == set(FORMATS)


@pytest.mark.parametrize("rel", sorted(EXPECTED))
def test_fixture_speakers_and_roles(rel: str) -> None:
    fmt, roles, source = EXPECTED[rel]
    t = parse_file(FIXTURES / rel)
    assert t.format == fmt
    assert {s.name: s.role for s in t.speakers} == roles
    assert t.speakers[0].role_source == source
    assert all(s.reason for s in t.speakers)
    # ids are dense and sentences rebuild the turn text
    assert [x.id for x in t.turns] == [f"t{i}" for i in range(1, len(t.turns) + 1)]
    for turn in t.turns:
        assert turn.role == roles[turn.speaker]
        assert " ".join(s.text for s in turn.sentences) == turn.text
        assert [s.id for s in turn.sentences] == [f"{turn.id}.{i}" for i in range(1, len(turn.sentences) + 1)]
    # consecutive turns never share a speaker (cues were merged)
    assert all(a.speaker != b.speaker for a, b in zip(t.turns, t.turns[1:], strict=False))


@pytest.mark.parametrize("rel", sorted(EXPECTED))
def test_forced_format_matches_detection(rel: str) -> None:
    fmt = EXPECTED[rel][0]
    assert parse_file(FIXTURES / rel, fmt=fmt) == parse_file(FIXTURES / rel)


def test_plain_budget_frozen_content() -> None:
    t = parse_file(FIXTURES / "plain/discovery-budget-frozen.txt")
    assert len(t.turns) == 27
    quote = "Our budget is frozen until next fiscal year."
    hits = [s for turn in t.turns for s in turn.sentences if s.text == quote]
    assert len(hits) == 1 and t.sentence_index()[hits[0].id][0].speaker == "Marcus Bell"


def test_timestamp_variants() -> None:
    t = parse_file(FIXTURES / "plain/renewal-timestamped.txt")
    assert t.turns[0].start == 0.0 and t.turns[4].start == 34.0
    assert t.metadata["date"] == "March 4, 2025" and "participants" in t.metadata
    assert "END OF TRANSCRIPT" not in t.text()
    p = parse_file(FIXTURES / "plain/intro-paren-timestamps.txt")
    assert p.turns[-1].start == 70.0 and p.turns[-1].speaker == "Omar Haddad"


def test_markdown_header_and_notes_kept_aside() -> None:
    t = parse_file(FIXTURES / "markdown/demo-qualified.md")
    assert t.metadata["title"] == "Demo call: Harbor Health x Clinicflow"
    assert t.metadata["date"] == "2025-05-14"
    assert "Pilot kickoff June 2nd" in t.metadata["call notes"]
    assert "Pilot kickoff" not in t.text() and "Date" not in {s.name for s in t.speakers}
    # Ben's two consecutive paragraphs are one turn
    ben = [x for x in t.turns if x.speaker == "Ben Ross"]
    assert len(ben) == 2 and "waitlist automatically" in ben[0].text


def test_zoom_cues_merge_and_keep_times() -> None:
    t = parse_file(FIXTURES / "vtt/zoom-finders-fee.vtt")
    assert len(t.turns) == 12
    fee = next(x for x in t.turns if "finder's fee" in x.text)
    assert fee.speaker == "Victor Sato" and fee.start is not None and fee.end is not None and fee.end > fee.start
    assert len(fee.sentences) >= 3


@pytest.mark.parametrize("rel", ["vtt/zoom-finders-fee.vtt", "vtt/teams-authority-missing.vtt"])
def test_vtt_agrees_with_webvtt_py(rel: str) -> None:
    """webvtt-py as an independent oracle: same cue count, same first start, same text."""
    captions = webvtt.read(str(FIXTURES / rel))
    t = parse_file(FIXTURES / rel)
    assert t.turns[0].start == pytest.approx(captions[0].start_in_seconds + captions[0].start_time.milliseconds / 1000)
    assert t.turns[-1].end == pytest.approx(captions[-1].end_in_seconds + captions[-1].end_time.milliseconds / 1000)
    ours = " ".join(x.text for x in t.turns)
    for cap in captions:
        text = cap.text.split(": ", 1)[-1] if rel.startswith("vtt/zoom") else cap.text
        assert " ".join(text.split()) in ours


def test_srt_agrees_with_webvtt_py() -> None:
    captions = webvtt.from_srt(str(FIXTURES / "srt/toxic-relationship.srt"))
    t = parse_file(FIXTURES / "srt/toxic-relationship.srt")
    assert sum(len(x.text) for x in t.turns) >= sum(len(c.text.split(": ", 1)[1]) for c in captions)
    assert t.turns[1].start == pytest.approx(captions[2].start_in_seconds + captions[2].start_time.milliseconds / 1000)


def test_gong_times_in_seconds_and_parties() -> None:
    t = parse_file(FIXTURES / "gong/tire-kicker-rfp.json")
    assert t.turns[0].start == pytest.approx(1.2)
    assert t.speakers[0].reason == "Gong affiliation Internal"
    assert t.metadata["call id"] == "7782342274025937895"


def test_ms_and_seconds_units() -> None:
    a = parse_file(FIXTURES / "assemblyai/onprem-fit-mismatch.json")
    d = parse_file(FIXTURES / "deepgram/disengaged-prospect.json")
    o = parse_file(FIXTURES / "openai/tip-pooling-pilot.json")
    f = parse_file(FIXTURES / "fireflies/expansion-call.json")
    for t in (a, d, o, f):
        assert t.turns[0].start == pytest.approx(1.2)
        assert 1.2 < t.turns[1].start < 30


def test_deepgram_words_without_utterances() -> None:
    words = [
        {"word": w, "punctuated_word": w, "start": i * 0.5, "end": i * 0.5 + 0.4, "speaker": 0 if i < 3 else 1}
        for i, w in enumerate(["Hi,", "I'm", "Nina.", "Hello", "there."])
    ]
    data = {"results": {"channels": [{"alternatives": [{"transcript": "x", "words": words}]}]}}
    import json

    t = parse_bytes(json.dumps(data).encode(), filename="dg.json")
    assert [(x.speaker, x.text) for x in t.turns] == [("Speaker 0", "Hi, I'm Nina."), ("Speaker 1", "Hello there.")]


def test_generic_bare_list_and_speakers_block() -> None:
    data = b"""{"turns": [{"speaker": "Kim", "text": "Hello."}, {"speaker": "Lee", "text": "Hi."}],
    "speakers": [{"name": "Lee", "email": "lee@acme.com"}]}"""
    t = parse_bytes(data, filename="x.json", seller_domain="acme.com")
    assert {s.name: (s.role, s.role_source) for s in t.speakers} == {
        "Lee": ("seller", "given"),
        "Kim": ("prospect", "given"),
    }
    bare = parse_bytes(b'[{"speaker": "A1", "text": "x"}, {"speaker": "B1", "text": "y"}]', filename="b.json")
    assert bare.format == "json" and len(bare.turns) == 2


@pytest.mark.parametrize(
    ("encoding", "bom"),
    [
        ("utf-8", b""),
        ("utf-8", b"\xef\xbb\xbf"),
        ("utf-16", b""),
        ("utf-16-le", b""),
        ("utf-16-be", b""),
        ("cp1252", b""),
    ],
)
def test_encodings(encoding: str, bom: bytes) -> None:
    text = "José Núñez: Café prices went up 5€ — we’re “worried”.\nAnna Berg: Understood.\n"
    t = parse_bytes(bom + text.encode(encoding), filename="call.txt")
    assert t.turns[0].speaker == "José Núñez"
    assert t.turns[0].text == "Café prices went up 5€ — we’re “worried”."


def test_docx_table_layout(tmp_path: Path) -> None:
    import docx

    d = docx.Document()
    table = d.add_table(rows=0, cols=3)
    for ts, who, said in [("00:01", "Ana", "Hi, I'm Ana from Zeta."), ("00:05", "Bo", "Hello Ana.")]:
        cells = table.add_row().cells
        cells[0].text, cells[1].text, cells[2].text = ts, who, said
    d.save(str(tmp_path / "t.docx"))
    t = parse_file(tmp_path / "t.docx")
    assert [(x.speaker, x.start) for x in t.turns] == [("Ana", 1.0), ("Bo", 5.0)]
