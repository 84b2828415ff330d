"""Input hardening of the parse stage (issue 11), at the library level; tests/badinput runs the whole corpus
through the CLI."""

from __future__ import annotations

import gc
import io
import os
import random
import zipfile
from pathlib import Path

import pytest

from analyzer._errors import TranscriptError
from analyzer.transcript import parse_bytes, parse_file, split_sentences
from analyzer.transcript._sentences import MAX_SENTENCE_CHARS, normalize_space

CALL = b"Dana Reyes: Hi Marcus, I'm Dana from Ledgerly.\nMarcus Bell: We have no budget this year.\n"


def test_long_sentences_are_cut_at_spaces_and_still_rebuild_the_text() -> None:
    rnd = random.Random(3)
    for _ in range(200):
        text = " ".join("".join(rnd.choice("ab. ") for _ in range(rnd.randint(1, 4000))) for _ in range(5))
        sentences = split_sentences(text)
        assert " ".join(sentences) == normalize_space(text)
        assert all(len(s) <= MAX_SENTENCE_CHARS or " " not in s for s in sentences)
    assert len(split_sentences("no budget " * 100_000)) == 1000  # 1 MB without a full stop, in 1,000 pieces


def test_the_collector_is_restored_after_parsing() -> None:
    assert gc.isenabled()
    parse_bytes(CALL, filename="c.txt")
    assert gc.isenabled()
    gc.disable()
    try:
        parse_bytes(CALL, filename="c.txt")
        assert not gc.isenabled()  # left off, as the caller had it
    finally:
        gc.enable()
    with pytest.raises(TranscriptError):
        parse_bytes(b"Dana: only me\n", filename="c.txt")
    assert gc.isenabled()


def test_continuation_lines_join_into_one_turn() -> None:
    body = b"Dana Reyes: Hello.\nMarcus Bell: one\n" + b"more words\n" * 5000 + b"Dana Reyes: Bye.\n"
    t = parse_bytes(body, filename="c.txt")
    assert [x.speaker for x in t.turns] == ["Dana Reyes", "Marcus Bell", "Dana Reyes"]
    assert t.turns[1].text == "one" + " more words" * 5000


def test_a_cjk_sentence_with_a_full_width_colon_is_not_a_speaker() -> None:
    text = "Dana Reyes: Hi.\nMarcus Bell: Hello.\n张伟：你好\n我们今年的预算是：十万\nDana Reyes: Thanks.\n"
    t = parse_bytes(text.encode(), filename="c.txt")
    assert [x.speaker for x in t.turns] == ["Dana Reyes", "Marcus Bell", "张伟", "Dana Reyes"]
    assert t.turns[2].text == "你好 我们今年的预算是：十万"


def test_lone_surrogates_never_reach_the_transcript() -> None:
    data = (
        b'{"metadata": {"title": "x\\udc00"}, "speakers": [{"name": "Dana \\ud800", "role": "seller"}],'
        b' "turns": [{"speaker": "Dana \\ud800", "text": "a \\ud83d\\ude00 b \\udfff"},'
        b' {"speaker": "Marcus", "text": "ok"}]}'
    )
    t = parse_bytes(data, filename="c.json")
    dumped = t.model_dump_json()  # would raise on a lone surrogate
    assert "\ufffd" in dumped and "😀" in t.turns[0].text
    assert t.speakers[0].role_source == "export"  # the speaker hint still matches the cleaned name
    assert any("U+FFFD" in w for w in t.warnings)


@pytest.mark.parametrize("value", [b"NaN", b"Infinity", b"-Infinity", b"1e999", b"9" * 41])
def test_json_times_must_be_finite_numbers(value: bytes) -> None:
    data = b'{"turns": [{"speaker": "A", "text": "hi", "start": ' + value + b'}, {"speaker": "B", "text": "yo"}]}'
    with pytest.raises(TranscriptError, match=r"finite number|digits"):
        parse_bytes(data, filename="c.json")


def test_special_files_are_refused_from_stat(tmp_path: Path) -> None:
    fifo = tmp_path / "call.txt"
    os.mkfifo(fifo)  # opening it for reading would block until a writer comes
    with pytest.raises(TranscriptError, match="named pipe"):
        parse_file(fifo)
    loop = tmp_path / "loop.txt"
    loop.symlink_to(loop)
    with pytest.raises(TranscriptError, match="could not be read"):
        parse_file(loop)


def test_docx_archive_is_capped_before_unpacking() -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("word/document.xml", b"<w:document/>")
        zf.writestr("word/media/big.bin", bytes(5_000_000))
    with pytest.raises(TranscriptError, match="unpacks to 5,000,013 bytes, over the 1,000,000-byte limit"):
        parse_bytes(buf.getvalue(), filename="c.docx", max_bytes=1_000_000)


def test_mixed_encodings_are_read_line_by_line() -> None:
    data = "José: Ça va?\n".encode() + "Zoë: Très bien, 5€.\n".encode("cp1252")
    t = parse_bytes(data, filename="c.txt")
    assert [x.text for x in t.turns] == ["Ça va?", "Très bien, 5€."]
    assert t.warnings == [
        "the file mixes encodings: 1 line(s) that are not UTF-8 (the first is line 2) were read as Windows-1252; "
        "check their accented characters"
    ]
