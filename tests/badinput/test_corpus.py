"""The bad-input corpus through the real CLI (`walkaway parse` and `walkaway analyze --backend keywords`).

Every file is either read (exit 0, with a warning where the input was doubtful) or refused with exit 2
and exactly one line on stderr that names the file and says what was wrong; never a traceback, never a
hang. The table says which, per file, with a substring the output must contain: for "ok" it is looked
for in `parse --json` (a speaker, a warning, a word of the text), for "error" in the error line.

Runs in process (click's CliRunner) for speed, under a hang guard: SIGALRM interrupts a command that
runs longer than HANG_S, and ``faulthandler`` ends the run (dumping every thread's stack) should a
thread be stuck where a signal cannot reach it. Files that could block the reader itself (a FIFO, a
device, a symlink loop) run in a subprocess with a timeout.
"""

from __future__ import annotations

import faulthandler
import json
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from analyzer.cli import cli
from tests.badinput import make_corpus

CORPUS = make_corpus.CORPUS
REPO = Path(__file__).resolve().parents[2]
HANG_S = 60  # a hang guard, not a speed assertion: each command takes well under a second on a small file
BIG_HANG_S = 240  # the big runtime cases: seconds on a quiet machine, minutes on a loaded shared runner

OK, ERROR = "ok", "error"

# file -> (outcome, substring): what `parse` / `analyze` must say about it.
EXPECTED: dict[str, tuple[str, str]] = {
    "ok_baseline.txt": (OK, '"Marcus Bell"'),
    # issue 11
    "markup_closing_tags.txt": (OK, "no budget [/bold] this year [/] at all"),
    "json_markup_speaker.json": (OK, '"[/bold]Dana"'),
    "json_5000_digit_number.json": (ERROR, "line 6: a JSON number has 5,000 digits; expected numbers of at most 40"),
    "json_deep_nesting.json": (ERROR, "the JSON is nested too deeply to read"),
    "json_deep_metadata.json": (OK, '"Marcus Bell"'),
    "json_huge_int_time.json": (ERROR, "a JSON number has 400 digits"),
    "json_float_overflow_time.json": (ERROR, "turns[0]: expected 'start' in seconds as a finite number, got Infinity"),
    "json_nan_time.json": (ERROR, "turns[0]: expected 'start' in seconds as a finite number, got NaN"),
    "json_infinity_end.json": (ERROR, "turns[0]: expected 'end' in seconds as a finite number, got -Infinity"),
    "json_negative_time.json": (OK, '"start": -2.5'),
    "json_lone_surrogate.json": (OK, "lone UTF-16 surrogates) were replaced with U+FFFD"),
    "json_lone_surrogate_speaker.json": (OK, '"Dana \ufffd"'),
    "json_nul_escape.json": (OK, "2 control character(s) were removed"),
    "music_first_line.txt": (OK, '"Dana Reyes"'),
    "brace_first_line.txt": (OK, '"Dana Reyes"'),
    "bracket_first_line_speaker.txt": (OK, '"Dana Reyes"'),
    "text_named.docx": (OK, "named .docx but is not a Word (ZIP) document; it was read as text"),
    "cp1252_bad_byte_line2.txt": (ERROR, "line 2: byte 0x81 is neither UTF-8, UTF-16 nor cp1252"),
    "cp1252_bad_byte_line2_cr_only.txt": (ERROR, "line 2: byte 0x81 is neither UTF-8, UTF-16 nor cp1252"),
    "utf8_bom_bad_byte_line3.txt": (ERROR, "line 3: invalid utf-8 byte(s) 0xff"),
    "srt_single_arrow.srt": (ERROR, "line 6: cue 2 has a malformed timing line '00:00:03,000 -> 00:00:04,000': exp"),
    "gong_null_speaker.json": (OK, "1 Gong transcript block(s) have no speakerId"),
    "json_speaker_object_name.json": (OK, '"speaker": "Dana Reyes"'),
    "json_speaker_object_no_name.json": (ERROR, "turns[1].speaker: expected a speaker name, or an object with a str"),
    "cjk_speaker_once.txt": (OK, '"speaker": "张伟"'),
    "cjk_fullwidth_colon.txt": (OK, '"speaker": "李娜"'),
    "only_sellers.txt": (OK, "is on the selling side: nobody speaks for the prospect"),
    # encodings
    "cp1252_plain.txt": (OK, "it was read as Windows-1252 (cp1252)"),
    "mixed_utf8_cp1252.txt": (OK, "mixes encodings: 1 line(s) that are not UTF-8 (the first is line 2)"),
    "bom_utf8.txt": (OK, '"Dana Reyes"'),
    "bom_utf16le.txt": (OK, '"Dana Reyes"'),
    "bom_utf16be.txt": (OK, '"Dana Reyes"'),
    "bom_utf32le.txt": (OK, '"Dana Reyes"'),
    "utf16le_no_bom.txt": (OK, '"Dana Reyes"'),
    "utf16be_no_bom.txt": (OK, '"Dana Reyes"'),
    "utf16_odd_length.txt": (ERROR, "invalid utf-16 byte(s)"),
    # empty, binary, control characters
    "empty.txt": (ERROR, "line 1: the file is empty"),
    "whitespace_only.txt": (ERROR, "line 1: the file is empty"),
    "newlines_only.vtt": (ERROR, "line 1: the file is empty"),
    "binary_garbage.txt": (ERROR, "this looks like a binary file (control bytes)"),
    "nul_bytes.txt": (ERROR, "this looks like a binary file (control bytes)"),
    "nul_after_4000_chars.txt": (OK, "1 control character(s) were removed"),
    "control_chars_ansi.txt": (OK, "3 control character(s) were removed"),
    "control_chars_many.txt": (ERROR, "this looks like a binary file (control bytes)"),
    "crlf.txt": (OK, '"Dana Reyes"'),
    "cr_only.txt": (OK, '"Dana Reyes"'),
    "long_line_64k.txt": (OK, "no budget, really."),
    "speaker_name_10000_chars.txt": (OK, '"Z' + "a" * 9999 + '"'),
    "speakers_2000_once_each.txt": (OK, '"Person1999 Smith"'),
    "single_speaker.txt": (ERROR, "only one speaker ('Dana Reyes') was found"),
    "no_speaker_lines.txt": (ERROR, "no speaker turns found"),
    "names_cyrillic_arabic.txt": (OK, '"speaker": "محمد"'),
    "names_rtl_override_zero_width.txt": (OK, "5 invisible formatting character(s)"),
    "emoji_only_labels.txt": (ERROR, "no speaker turns found"),
    "prompt_injection.txt": (OK, "ignore all previous instructions"),
    "starts_with_mz.txt": (OK, '"speaker": "MZ"'),
    # not transcripts at all
    "html_renamed.txt": (ERROR, "this is an HTML page, not a transcript"),
    "page.html": (ERROR, "a .html file is a web page"),
    "pdf_renamed.txt": (ERROR, "this is a PDF document, not a transcript"),
    "call.pdf": (ERROR, "a .pdf file is a PDF, not a transcript"),
    "png_renamed.txt": (ERROR, "this is a PNG image, not a transcript"),
    "zip_renamed.txt": (ERROR, "this is a ZIP archive but not a Word document"),
    "zip_renamed.docx": (ERROR, "this is a ZIP archive but not a Word document"),
    "gzip_renamed.txt": (ERROR, "this is a gzip archive, not a transcript"),
    "tar_renamed.txt": (ERROR, "this is a tar archive, not a transcript"),
    "bzip2_renamed.txt": (ERROR, "this is a bzip2 archive, not a transcript"),
    "truncated_zip.docx": (ERROR, "this is not a valid .docx (ZIP) file"),
    "legacy_doc_renamed.docx": (ERROR, "this is a legacy Office (.doc/.xls) file"),
    "elf_renamed.txt": (ERROR, "this is an executable, not a transcript"),
    # JSON shapes with the wrong type at each level
    "json_speaker_list.json": (ERROR, "turns[0].speaker: expected a speaker name as a string, got an array"),
    "json_speaker_bool.json": (ERROR, "turns[0].speaker: expected a speaker name as a string, got a boolean"),
    "json_text_number.json": (ERROR, "turns[0]: expected a string 'text', got a number"),
    "json_start_string.json": (ERROR, "turns[0]: expected 'start' in seconds as a number, got 'soon'"),
    "json_role_invalid.json": (ERROR, "turns[0].role: expected 'seller', 'prospect' or 'unknown', got 'boss'"),
    "json_role_object.json": (ERROR, "turns[0].role: expected 'seller', 'prospect' or 'unknown', got a JSON object"),
    "json_metadata_list.json": (ERROR, "metadata: expected an object of header fields"),
    "json_turns_strings.json": (ERROR, "turns: expected a list of objects"),
    "json_speakers_name_object.json": (ERROR, "speakers[0].name: expected a speaker name, or an object with a str"),
    "json_top_level_string.json": (ERROR, "unknown JSON shape (a string at the top level)"),
    "json_top_level_null.json": (ERROR, "unknown JSON shape (null at the top level)"),
    "json_top_level_number.json": (ERROR, "unknown JSON shape (a number at the top level)"),
    "json_empty_object.json": (ERROR, "unknown JSON shape (an empty object)"),
    "json_empty_turns.json": (ERROR, "no speaker turns found"),
    "json_lines.json": (ERROR, "line 2: not valid JSON: Extra data at column 1 (several JSON documents: JSON Lines"),
    "json_truncated.json": (ERROR, "not valid JSON"),
    "json_trailing_comma.json": (ERROR, "line 1: not valid JSON: Expecting value at column 43"),
    "json_duplicate_keys.json": (OK, '"Marcus Bell"'),
    "text_named.json": (OK, "named .json but is not JSON; it was read as text"),
    "gong_speakerid_list.json": (ERROR, "callTranscripts[0].transcript[0].speakerId: expected a speaker name as a"),
    "gong_calls_not_objects.json": (OK, '"Dana Reyes"'),
    "gong_parties_object.json": (ERROR, "parties: expected a list of objects"),
    "gong_party_name_object.json": (ERROR, "parties[0].name: expected a speaker name, or an object with a string"),
    "gong_two_calls.json": (ERROR, "callTranscripts holds 2 calls; expected exactly one call per file"),
    "gong_sentences_not_list.json": (ERROR, "callTranscripts[0].transcript[0].sentences: expected a list of objects"),
    "gong_start_string.json": (ERROR, "sentences[0]: expected 'start' in milliseconds as a number, got '0:00'"),
    "assemblyai_speaker_missing.json": (ERROR, "utterances[0]: expected a 'speaker' (was speaker diarization"),
    "assemblyai_text_null.json": (ERROR, "utterances[0]: expected a string 'text', got null"),
    "assemblyai_utterance_not_object.json": (ERROR, "utterances: expected a list of objects"),
    "deepgram_utterances_string.json": (ERROR, "results.utterances: expected a list of objects"),
    "deepgram_words_no_speaker.json": (ERROR, "words[0]: expected a 'speaker' (request with diarize=true)"),
    "deepgram_channels_object.json": (ERROR, "results has neither utterances[] nor channels[0].alternatives[0].words"),
    "deepgram_words_ok.json": (OK, "hi there marcus"),
    "openai_end_bool.json": (ERROR, "segments[0]: expected 'end' as a number, got true"),
    "fireflies_speaker_list.json": (ERROR, "sentences[0].speaker_name: expected a speaker name as a string, got an"),
    "fireflies_data_list.json": (ERROR, "unknown JSON shape (an object with keys data, title)"),
    # captions with broken timings
    "srt_no_timing.srt": (ERROR, "line 1: cue 1 has no timing line; expected 'hh:mm:ss,mmm --> hh:mm:ss,mmm'"),
    "srt_missing_millis.srt": (ERROR, "line 2: cue 1 has a malformed timestamp '00:00:01 --> 00:00:02,000'"),
    "srt_end_before_start.srt": (ERROR, "line 2: cue 1 ends (1.000s) before it starts (5.000s)"),
    "srt_huge_hours.srt": (OK, '"start": 3596403.0'),
    "vtt_no_header.vtt": (ERROR, "line 1: not a WebVTT file: expected 'WEBVTT' on the first line"),
    "vtt_malformed_timestamp.vtt": (ERROR, "line 3: cue 1 has a malformed timestamp '00:00:01.000 --> 00:00:0x.000'"),
    "vtt_minute_60.vtt": (ERROR, "line 3: cue 1 has a malformed timestamp"),
    "vtt_arrow_without_spaces.vtt": (ERROR, "line 3: cue 1 has a malformed timestamp '00:00:01.000-->00:00:02.000'"),
    "vtt_em_dash_arrow.vtt": (ERROR, "line 3: cue 1 has a malformed timing line '00:00:01.000 —> 00:00:02.000': exp"),
    "vtt_unlabeled_cues.vtt": (ERROR, "line 3: no cue names its speaker"),
    "vtt_markup_voice.vtt": (OK, '"speaker": "[/bold]Dana"'),
}

# Built at test time (big, binary or not plain files): file -> (outcome, substring).
RUNTIME_EXPECTED: dict[str, tuple[str, str]] = {
    "big_19mb.txt": (ERROR, "words, over the 250,000-word limit (about 27 hours of talk); expected one call"),
    "big_under_word_limit.txt": (OK, '"Dana Reyes"'),
    "tiny_turns_100k.txt": (OK, '"id": "t100000"'),
    "long_line_1mb.txt": (OK, "no budget no budget"),
    "docx_valid_with_markup.docx": (OK, "no budget [/bold] this year"),
    "docx_bomb_30mb.docx": (ERROR, "the .docx unpacks to 30,"),
    "docx_2000_members.docx": (ERROR, "the archive holds 2,0"),
    "docx_xml_entity_bomb.docx": (ERROR, "the Word document could not be read"),
    "docx_broken_document_xml.docx": (ERROR, "the Word document could not be read"),
    "fifo.txt": (ERROR, "is a named pipe (FIFO), not a regular file"),
    "symlink_loop.txt": (ERROR, "could not be read (Too many levels of symbolic links)"),
    "device.txt": (ERROR, "is a device, not a regular file"),
    "folder.txt": (ERROR, "is a folder; expected a transcript file"),
    "symlink_to_call.txt": (OK, '"Dana Reyes"'),
}
# Opening these could block the reader itself: a subprocess that can be killed runs them.
SUBPROCESS = {"fifo.txt", "symlink_loop.txt", "device.txt"}
# `analyze` declares FILE as click.Path(dir_okay=False): click itself refuses a folder, with a usage block.
PARSE_ONLY = {"folder.txt"}
# Megabytes of text: the generous guard, and no second JSON rendering of 100,000 turns.
BIG = {"tiny_turns_100k.txt", "long_line_1mb.txt", "big_19mb.txt", "big_under_word_limit.txt"}

COMMANDS: list[list[str]] = [
    ["parse"],
    ["parse", "--json"],
    ["analyze", "--backend", "keywords"],
    ["analyze", "--backend", "keywords", "--format", "json"],
]


# A lone surrogate cannot be written as UTF-8 (the command would fail); escaped, it would look like this.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


def _strict_json(text: str) -> Any:
    def refuse(constant: str) -> None:
        raise AssertionError(f"{constant} is not valid JSON")

    return json.loads(text, parse_constant=refuse)


class Hang(Exception):
    """A command ran past its guard."""


def _raise_hang(signum: int, frame: object) -> None:
    raise Hang("still running when the hang guard fired")


def _invoke(args: list[str], *, hang_s: int = HANG_S) -> tuple[Result, float]:
    """Run the CLI in process. SIGALRM interrupts a command that runs past ``hang_s`` (click's runner
    records the exception and the test fails); a thread blocked in a system call cannot be interrupted,
    so faulthandler ends the run, with every thread's stack, if the command is still there later."""
    previous = signal.signal(signal.SIGALRM, _raise_hang)
    signal.alarm(hang_s)
    faulthandler.dump_traceback_later(hang_s * 3, exit=True)
    started = time.monotonic()
    try:
        result = CliRunner().invoke(cli, args)
    finally:
        signal.alarm(0)
        faulthandler.cancel_dump_traceback_later()
        signal.signal(signal.SIGALRM, previous)
    return result, time.monotonic() - started


def _check(path: Path, outcome: str, needle: str, commands: list[list[str]], *, hang_s: int = HANG_S) -> None:
    for command in commands:
        result, took = _invoke([*command, str(path)], hang_s=hang_s)
        what = f"walkaway {' '.join(command)} {path.name}"
        assert took < hang_s, f"{what} took {took:.1f}s"
        # a raw exception (a traceback for the user) shows up here; SystemExit is click's exit code
        assert result.exception is None or isinstance(result.exception, SystemExit), (what, result.exception)
        assert "Traceback" not in result.output, what
        if outcome == OK:
            assert result.exit_code == 0, (what, result.stderr)
            assert result.stderr == "", (what, result.stderr)
            stdout = result.stdout
            if "--json" in command or command[-1] == "json":
                _strict_json(stdout)  # valid JSON: no NaN, no Infinity
                assert not _SURROGATE_ESCAPE.search(stdout), f"{what}: a lone surrogate in the JSON"
            if command == ["parse", "--json"]:
                assert needle in stdout, f"{what}: {needle!r} not in the transcript"
        else:
            assert result.exit_code == 2, (what, result.exit_code, result.output)
            lines = result.stderr.splitlines()
            assert len(lines) == 1, (what, lines)
            assert lines[0].startswith(f"error: {path}"), (what, lines[0])
            assert needle in lines[0], (what, lines[0])
            assert result.stdout == "", (what, result.stdout)


def test_table_matches_the_corpus_and_the_script() -> None:
    on_disk = {p.name: p.read_bytes() for p in CORPUS.iterdir()}
    assert set(on_disk) == set(EXPECTED), "add the case to EXPECTED, or rerun make_corpus.py"
    assert len(on_disk) >= 60
    assert on_disk == make_corpus.small_cases(), "corpus/ is stale: rerun python tests/badinput/make_corpus.py"
    assert set(RUNTIME_EXPECTED) == set(make_corpus.RUNTIME)
    outcomes = {o for o, _ in (*EXPECTED.values(), *RUNTIME_EXPECTED.values())}
    assert outcomes == {OK, ERROR}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_committed_case(name: str) -> None:
    outcome, needle = EXPECTED[name]
    _check(CORPUS / name, outcome, needle, COMMANDS)


@pytest.mark.parametrize("name", sorted(set(RUNTIME_EXPECTED) - SUBPROCESS))
def test_runtime_case(name: str, tmp_path: Path) -> None:
    outcome, needle = RUNTIME_EXPECTED[name]
    path = make_corpus.runtime_case(name, tmp_path)
    if name in BIG:
        _check(path, outcome, needle, COMMANDS[:3], hang_s=BIG_HANG_S)
    else:
        _check(path, outcome, needle, COMMANDS[:2] if name in PARSE_ONLY else COMMANDS)


@pytest.mark.parametrize("name", sorted(SUBPROCESS))
@pytest.mark.parametrize("command", [["parse"], ["analyze", "--backend", "keywords"]])
def test_special_file_in_subprocess(name: str, command: list[str], tmp_path: Path) -> None:
    outcome, needle = RUNTIME_EXPECTED[name]
    assert outcome == ERROR
    path = make_corpus.runtime_case(name, tmp_path)
    started = time.monotonic()
    try:
        proc = subprocess.run(
            [sys.executable, "-c", "from analyzer.cli import main; main()", *command, str(path)],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=HANG_S,
            check=False,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"walkaway {' '.join(command)} {name} hung for {HANG_S}s")
    assert time.monotonic() - started < HANG_S
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, lines
    assert lines[0].startswith(f"error: {path}") and needle in lines[0], lines[0]


def test_markup_in_a_quote_is_printed_as_text() -> None:
    """The red-flag quote carries '[/bold]': the text report prints it as said, it is no style."""
    result, _ = _invoke(["analyze", "--backend", "keywords", str(CORPUS / "markup_closing_tags.txt")])
    assert result.exit_code == 0, result.output
    assert "[/bold]" in result.stdout and "budget" in result.stdout


def test_cjk_speaker_who_talks_once_keeps_the_turn() -> None:
    result, _ = _invoke(["parse", "--json", str(CORPUS / "cjk_speaker_once.txt")])
    turns = _strict_json(result.stdout)["transcript"]["turns"]
    assert [t["speaker"] for t in turns] == ["Dana Reyes", "Marcus Bell", "张伟", "Dana Reyes", "Marcus Bell"]
    assert turns[1]["text"] == "Glad to be here."


def test_only_sellers_warning_reaches_the_report() -> None:
    args = ["analyze", "--backend", "keywords", "--format", "json", str(CORPUS / "only_sellers.txt")]
    result, _ = _invoke(args)
    report = _strict_json(result.stdout)
    assert any("selling side" in w for w in report["transcript"]["warnings"])


def test_gong_null_speaker_is_unknown_not_none() -> None:
    result, _ = _invoke(["parse", "--json", str(CORPUS / "gong_null_speaker.json")])
    names = [s["name"] for s in _strict_json(result.stdout)["transcript"]["speakers"]]
    assert names == ["Dana Reyes", "Unknown speaker", "Marcus Bell"]
