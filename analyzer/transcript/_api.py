"""The public entry points: ``parse_file`` and ``parse_bytes``."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from analyzer._errors import TranscriptError
from analyzer.config import load_settings
from analyzer.transcript._build import build_transcript
from analyzer.transcript._captions import parse_captions
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
    ".exe": "a program",
}


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
    try:
        size = p.stat().st_size
        if p.is_dir():
            raise TranscriptError("is a folder; expected a transcript file", path=str(p))
        if size > limit:
            raise TranscriptError(_too_big(size, limit), path=str(p))
        data = p.read_bytes()
    except FileNotFoundError:
        raise TranscriptError("no such file; expected a path to a transcript file", path=str(p)) from None
    except PermissionError:
        raise TranscriptError("permission denied; expected a readable transcript file", path=str(p)) from None
    return parse_bytes(data, filename=str(p), fmt=fmt, seller=seller, seller_domain=seller_domain, max_bytes=limit)


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
    raw = _parse_raw(data, filename, fmt, suffix)
    return build_transcript(raw, source=filename, seller=seller, seller_domain=seller_domain)


def _parse_raw(data: bytes, filename: str, fmt: str | None, suffix: str) -> RawDoc:
    if fmt == "docx" or (fmt is None and (is_zip(data) or suffix == ".docx")):
        return parse_docx(data, filename)
    text = decode(data, filename)
    if not text.strip():
        raise TranscriptError(f"the file is empty; expected {EXPECTED}", path=filename, line=1)
    kind = fmt or detect_text_format(text, suffix)
    if kind == "jsonish" or kind in JSON_FORMATS:
        obj = load_json(text, filename)
        shape = detect_json(obj) if kind == "jsonish" else kind
        if shape is None:
            raise unknown_shape(obj, filename)
        return parse_json(obj, fmt=shape, path=filename)
    if kind in ("vtt", "srt"):
        return parse_captions(text, fmt=kind, path=filename)
    if kind == "otter":
        return parse_otter(text)
    return parse_text(text, fmt=kind)
