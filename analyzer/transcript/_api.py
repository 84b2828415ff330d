"""The public entry points: ``parse_file`` and ``parse_bytes``."""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Sequence
from pathlib import Path

from analyzer._errors import TranscriptError
from analyzer._gc import collector_paused
from analyzer.config import load_settings
from analyzer.transcript._build import build_transcript
from analyzer.transcript._captions import parse_captions
from analyzer.transcript._clean import Scrubber
from analyzer.transcript._decode import EXPECTED, decode
from analyzer.transcript._detect import detect_text_format, is_zip
from analyzer.transcript._docx import parse_docx
from analyzer.transcript._json import JSON_FORMATS, detect_json, load_json, parse_json, unknown_shape
from analyzer.transcript._otter import parse_otter
from analyzer.transcript._raw import FORMAT_NAMES, RawDoc
from analyzer.transcript._text import parse_text
from analyzer.transcript.model import Transcript

#: The names accepted by ``fmt`` / ``--format``.
FORMATS: tuple[str, ...] = FORMAT_NAMES

# Extensions of files that are never transcripts, refused before their bytes are guessed at.
_NOT_TRANSCRIPTS = {
    ".pdf": "a PDF",
    ".png": "an image",
    ".jpg": "an image",
    ".jpeg": "an image",
    ".gif": "an image",
    ".webp": "an image",
    ".mp3": "audio",
    ".wav": "audio",
    ".m4a": "audio",
    ".mp4": "video",
    ".mov": "video",
    ".doc": "a legacy Word file (save it as .docx)",
    ".xls": "a spreadsheet",
    ".xlsx": "a spreadsheet",
    ".ppt": "a presentation",
    ".pptx": "a presentation",
    ".zip": "an archive",
    ".html": "a web page (save the transcript as text)",
    ".htm": "a web page (save the transcript as text)",
    ".exe": "a program",
}


_HTML = re.compile(r"\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html[\s>])", re.IGNORECASE | re.DOTALL)


def _limit(max_bytes: int | None) -> int:
    return load_settings().max_file_bytes if max_bytes is None else max_bytes


def parse_file(
    path: str | Path,
    *,
    fmt: str | None = None,
    seller: Sequence[str] = (),
    seller_domain: str | None = None,
    max_bytes: int | None = None,
) -> Transcript:
    """Read and normalize a transcript file. Raises TranscriptError (file, line/cue, expectation) on bad input.

    ``fmt`` forces a format from FORMATS; ``seller`` names and ``seller_domain`` are role hints;
    ``max_bytes`` defaults to ``Settings().max_file_bytes`` (WALKAWAY_MAX_FILE_BYTES)."""
    p = Path(path)
    limit = _limit(max_bytes)
    data = read_transcript_bytes(p, limit)
    return parse_bytes(data, filename=str(p), fmt=fmt, seller=seller, seller_domain=seller_domain, max_bytes=limit)


def read_transcript_bytes(path: Path, limit: int) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes, or a TranscriptError saying why not.

    Only regular files are opened: a FIFO, a device or a socket would block the read or never end, so
    they are refused from ``stat`` alone. The file is opened non-blocking and checked again on the open
    descriptor, so a path swapped for a FIFO between the two checks still cannot block."""
    where = str(path)
    try:
        st = path.stat()
        _refuse_special(st.st_mode, where)
        if st.st_size > limit:
            raise TranscriptError(_too_big(st.st_size, limit), path=where)
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
        with os.fdopen(fd, "rb") as fh:
            _refuse_special(os.fstat(fh.fileno()).st_mode, where)
            data = fh.read(limit + 1)  # a file that grew since stat is still capped
    except FileNotFoundError:
        raise TranscriptError("no such file; expected a path to a transcript file", path=where) from None
    except PermissionError:
        raise TranscriptError("permission denied; expected a readable transcript file", path=where) from None
    except IsADirectoryError:
        raise TranscriptError("is a folder; expected a transcript file", path=where) from None
    except OSError as exc:  # a symlink loop, a name too long, an I/O error...
        reason = exc.strerror or type(exc).__name__
        raise TranscriptError(
            f"could not be read ({reason}); expected a readable transcript file", path=where
        ) from None
    if len(data) > limit:
        raise TranscriptError(_too_big(len(data), limit), path=where)
    return data


def _refuse_special(mode: int, where: str) -> None:
    if stat.S_ISREG(mode):
        return
    if stat.S_ISDIR(mode):
        raise TranscriptError("is a folder; expected a transcript file", path=where)
    what = (
        "a named pipe (FIFO)"
        if stat.S_ISFIFO(mode)
        else "a socket"
        if stat.S_ISSOCK(mode)
        else "a device"
        if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
        else "a special file"
    )
    raise TranscriptError(f"is {what}, not a regular file; expected a transcript file", path=where)


def _too_big(size: int, limit: int) -> str:
    return (
        f"the file is {size:,} bytes, over the {limit:,}-byte limit; expected a smaller transcript "
        "(raise WALKAWAY_MAX_FILE_BYTES to allow it)"
    )


def parse_bytes(
    data: bytes,
    *,
    filename: str,
    fmt: str | None = None,
    seller: Sequence[str] = (),
    seller_domain: str | None = None,
    max_bytes: int | None = None,
) -> Transcript:
    """Normalize transcript bytes; ``filename`` names the source in errors and helps detection."""
    limit = _limit(max_bytes)
    if len(data) > limit:
        raise TranscriptError(_too_big(len(data), limit), path=filename)
    if fmt is not None and fmt not in FORMATS:
        raise TranscriptError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}", path=filename)
    suffix = Path(filename).suffix.lower()
    if not data.strip():
        raise TranscriptError(f"the file is empty; expected {EXPECTED}", path=filename, line=1)
    if fmt is None and suffix in _NOT_TRANSCRIPTS:
        raise TranscriptError(
            f"a {suffix} file is {_NOT_TRANSCRIPTS[suffix]}, not a transcript; expected {EXPECTED}", path=filename
        )
    with collector_paused():
        raw = _parse_raw(data, filename, fmt, suffix, limit)
        _check_words(raw, filename)
        return build_transcript(raw, source=filename, seller=seller, seller_domain=seller_domain)


def _check_words(raw: RawDoc, filename: str) -> None:
    # Bytes alone do not bound the work: 20 MB of plain text is ~3 million words (hundreds of hours of
    # talk, about 15 hours of the embedded model), while 20 MB of a JSON export with word timings is a
    # few hours of call. The word limit bounds every later stage whatever the format; it is checked
    # before the transcript is built, which is most of the parse time (a 19.9 MB call is refused in
    # about 2.5 s of CPU instead of 9).
    limit = load_settings().max_words
    words = sum(len(cue.text.split()) for cue in raw.cues)
    if words > limit:
        raise TranscriptError(
            f"the transcript holds {words:,} words, over the {limit:,}-word limit (about "
            f"{limit // 9_000} hours of talk); expected one call: split it into calls, or raise "
            "WALKAWAY_MAX_WORDS to allow it",
            path=filename,
        )


def _parse_raw(data: bytes, filename: str, fmt: str | None, suffix: str, limit: int) -> RawDoc:
    if fmt == "docx" or (fmt is None and is_zip(data)):
        return parse_docx(data, filename, max_bytes=limit)
    notes: list[str] = []
    if fmt is None and suffix == ".docx":
        notes.append("the file is named .docx but is not a Word (ZIP) document; it was read as text")
    text = decode(data, filename, notes)
    if not text.strip():
        raise TranscriptError(f"the file is empty; expected {EXPECTED}", path=filename, line=1)
    if fmt is None and _HTML.match(text):
        raise TranscriptError(
            f"this is an HTML page, not a transcript; expected {EXPECTED} (save the transcript as text)",
            path=filename,
        )
    kind = fmt or detect_text_format(text, suffix)
    if kind == "jsonish" or kind in JSON_FORMATS:
        try:
            obj = load_json(text, filename)
        except TranscriptError:
            # "[Music]" or "{inaudible}" opens many ASR exports: text that only looks like JSON is read as
            # text when it parses as such, and so is a .json file that does not even start like JSON.
            # A forced format, or a .json file that starts like JSON, keeps the error naming the line.
            looks_like_json = text.lstrip()[:1] in ("{", "[")
            if fmt is not None or (suffix == ".json" and looks_like_json):
                raise
            raw = _parse_text(text, detect_text_format(text, suffix, json_ok=False), filename)
            if not raw.cues:
                raise
            if suffix == ".json":
                notes.append("the file is named .json but is not JSON; it was read as text")
        else:
            shape = detect_json(obj) if kind == "jsonish" else kind
            if shape is None:
                raise unknown_shape(obj, filename) from None
            raw = parse_json(obj, fmt=shape, path=filename)
    else:
        raw = _parse_text(text, kind, filename)
    raw.warnings[:0] = notes
    return raw


def _parse_text(text: str, kind: str, filename: str) -> RawDoc:
    """Parse decoded text in a line or caption format, after removing characters no transcript carries
    (``_clean``): the parsers then see ``Dana Reyes:`` even when a zero-width space hides in the name."""
    scrub = Scrubber()
    raw = _parse_text_kind(scrub(text), kind, filename)
    raw.warnings.extend(scrub.warnings())
    return raw


def _parse_text_kind(text: str, kind: str, filename: str) -> RawDoc:
    if kind in ("vtt", "srt"):
        return parse_captions(text, fmt=kind, path=filename)
    if kind == "otter":
        return parse_otter(text)
    return parse_text(text, fmt=kind)
