"""Bad input: each case gives a TranscriptError naming the file, the line or cue, and what was expected."""

from __future__ import annotations

from pathlib import Path

import pytest

from analyzer._errors import TranscriptError
from analyzer.transcript import parse_bytes, parse_file


def _err(path: Path, **kw: object) -> TranscriptError:
    with pytest.raises(TranscriptError) as info:
        parse_file(path, **kw)  # type: ignore[arg-type]
    assert str(path) in str(info.value)
    assert "expected" in str(info.value)
    return info.value


def test_empty_file(tmp_path: Path) -> None:
    (tmp_path / "empty.txt").write_bytes(b"")
    err = _err(tmp_path / "empty.txt")
    assert "empty" in str(err) and err.line == 1
    (tmp_path / "blank.vtt").write_text("  \n\n ")
    assert "empty" in str(_err(tmp_path / "blank.vtt"))


def test_binary_file(tmp_path: Path) -> None:
    (tmp_path / "call.txt").write_bytes(bytes(range(256)) * 8)
    assert "binary" in str(_err(tmp_path / "call.txt"))


@pytest.mark.parametrize(
    ("name", "data", "words"),
    [
        ("call.pdf", b"%PDF-1.7\n%\xe2\xe3\n1 0 obj", "PDF"),
        ("call.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "image"),
        ("renamed.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "PNG image"),
        ("call.pdf", b"Dana: hi\nSam: hello\n", ".pdf file"),
    ],
)
def test_wrong_extension_or_content(tmp_path: Path, name: str, data: bytes, words: str) -> None:
    (tmp_path / name).write_bytes(data)
    assert words in str(_err(tmp_path / name))


def test_json_that_is_not_json(tmp_path: Path) -> None:
    (tmp_path / "call.json").write_text('{"turns": [\n  {"speaker": "A", "text": "hi"},\n  oops\n]}')
    err = _err(tmp_path / "call.json")
    assert err.line == 3 and "not valid JSON" in str(err)


def test_jsonl_is_named(tmp_path: Path) -> None:
    (tmp_path / "calls.json").write_text('{"a": 1}\n{"a": 2}\n')
    err = _err(tmp_path / "calls.json")
    assert err.line == 2 and "JSON Lines" in str(err)


def test_vtt_broken_timestamp(tmp_path: Path) -> None:
    (tmp_path / "call.vtt").write_text(
        "WEBVTT\n\n1\n00:00:01.000 --> 00:00:03.000\nAna: Hello there.\n\n"
        "2\n00:00:03.500 --> 00:00:0x.000\nBo: Hi Ana.\n"
    )
    err = _err(tmp_path / "call.vtt")
    assert err.line == 8 and "cue 2" in str(err) and "00:00:0x.000" in str(err) and "hh:mm:ss.ttt" in str(err)


def test_vtt_without_header_and_srt_broken(tmp_path: Path) -> None:
    (tmp_path / "call.vtt").write_text("1\n00:00:01.000 --> 00:00:03.000\nAna: Hello.\n")
    assert "WEBVTT" in str(_err(tmp_path / "call.vtt"))
    (tmp_path / "call.srt").write_text(
        "1\n00:00:01,000 --> 00:00:03,000\nAna: Hi.\n\n2\n00:00:04 --> 00:00:05,000\nBo: Yo.\n"
    )
    err = _err(tmp_path / "call.srt")
    assert "cue 2" in str(err) and err.line == 6


def test_json_of_unknown_shape(tmp_path: Path) -> None:
    (tmp_path / "x.json").write_text('{"foo": [1, 2], "bar": {}}')
    err = _err(tmp_path / "x.json")
    assert "unknown JSON shape" in str(err) and "bar, foo" in str(err)


def test_json_bad_item_names_its_path(tmp_path: Path) -> None:
    (tmp_path / "x.json").write_text('{"utterances": [{"speaker": "A", "text": "hi", "start": "soon"}]}')
    assert "utterances[0]" in str(_err(tmp_path / "x.json"))


def test_single_speaker(tmp_path: Path) -> None:
    (tmp_path / "mono.txt").write_text("Title line\n\nDana: Hello?\nDana: Anyone there?\n")
    err = _err(tmp_path / "mono.txt")
    assert "only one speaker ('Dana')" in str(err) and err.line == 3


def test_over_size_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    p = tmp_path / "big.txt"
    p.write_text("Ana: hi\nBo: hello\n" * 100)
    assert "over the 100-byte limit" in str(_err(p, max_bytes=100))
    monkeypatch.setenv("WALKAWAY_MAX_FILE_BYTES", "500")  # the configurable default
    assert "500-byte limit" in str(_err(p))
    with pytest.raises(TranscriptError, match="limit"):
        parse_bytes(p.read_bytes(), filename="big.txt")


def test_no_turns_and_missing_file(tmp_path: Path) -> None:
    (tmp_path / "prose.txt").write_text("just some notes about the call without any speakers\n")
    assert "no speaker turns" in str(_err(tmp_path / "prose.txt"))
    assert "no such file" in str(_err(tmp_path / "missing.txt"))


def test_unknown_forced_format(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("Ana: hi\nBo: hello\n")
    assert "unknown format 'pdf'" in str(_err(tmp_path / "a.txt", fmt="pdf"))
    assert "callTranscripts" in str(_err(tmp_path / "a.txt", fmt="gong"))


def test_corrupt_docx(tmp_path: Path) -> None:
    (tmp_path / "a.docx").write_bytes(b"PK\x03\x04 not really a zip")
    assert ".docx" in str(_err(tmp_path / "a.docx"))
