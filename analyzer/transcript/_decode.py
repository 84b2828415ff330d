"""Bytes to text: BOMs, UTF-8, UTF-16 and cp1252, and a clear refusal of binary files.

Order: a BOM decides (UTF-8, UTF-32 and UTF-16 LE/BE); otherwise NUL bytes on alternating positions
mean BOM-less UTF-16; otherwise strict UTF-8; otherwise line by line, UTF-8 where a line is valid UTF-8
and cp1252 (Windows exports from Word or Teams, the one legacy encoding such files realistically use)
where it is not, with a warning, so that a file pasted together from two sources reads correctly. A
known binary signature (PDF, images, audio, archives) or control bytes that no text encoding explains
give a TranscriptError that says what the file is.
"""

from __future__ import annotations

import codecs

from analyzer._errors import TranscriptError

# Signatures of files people drop in by mistake, with what to tell them.
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"%PDF", "a PDF document"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"RIFF", "a RIFF (WAV/AVI/WebP) media file"),
    (b"ID3", "an MP3 audio file"),
    (b"OggS", "an Ogg media file"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"7z\xbc\xaf", "a 7-Zip archive"),
    (b"Rar!", "a RAR archive"),
    (b"\xd0\xcf\x11\xe0", "a legacy Office (.doc/.xls) file"),
    (b"BZh", "a bzip2 archive"),
    (b"\xfd7zXZ\x00", "an xz archive"),
    (b"\x28\xb5\x2f\xfd", "a zstd archive"),
    (b"\x7fELF", "an executable"),
)
_MEDIA_AT_4 = (b"ftyp",)  # MP4/M4A/MOV carry their signature at offset 4
_TAR_AT_257 = b"ustar"

EXPECTED = "a text transcript (plain, Markdown, Otter, WebVTT, SRT), a JSON export or a .docx file"


def sniff_binary(data: bytes) -> str | None:
    """A description of a known non-transcript binary file, or None."""
    for magic, what in _MAGIC:
        if data.startswith(magic):
            return what
    if data[4:8] in _MEDIA_AT_4:
        return "an MP4/M4A/MOV media file"
    if data[257:262] == _TAR_AT_257:
        return "a tar archive"
    if data.startswith(b"MZ") and b"\x00" in data[:64]:  # not a call whose first speaker is "MZ"
        return "a Windows executable"
    return None


def decode(data: bytes, path: str, notes: list[str] | None = None) -> str:
    """Decode transcript bytes to text (see the module docstring for the order of attempts).

    Doubts about the encoding are appended to ``notes`` (they become Transcript warnings)."""
    if data.startswith(codecs.BOM_UTF8):
        return _strict(data[3:], "utf-8", path)
    if data.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        return _strict(data, "utf-32", path)
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _strict(data, "utf-16", path)
    what = sniff_binary(data)
    if what is not None:
        raise TranscriptError(f"this is {what}, not a transcript; expected {EXPECTED}", path=path)
    head = data[:4000]
    if head and head.count(0) * 4 >= len(head):  # many NULs: UTF-16 without BOM, or binary
        even, odd = head[0::2].count(0), head[1::2].count(0)
        if odd > 0.3 * len(head) / 2 and even < odd / 10:
            return _strict(data, "utf-16-le", path)
        if even > 0.3 * len(head) / 2 and odd < even / 10:
            return _strict(data, "utf-16-be", path)
        raise TranscriptError(f"this is a binary file (NUL bytes), not text; expected {EXPECTED}", path=path)
    # control bytes say "binary" before any encoding is guessed (latin-1 maps each byte to one character)
    _refuse_control(head.decode("latin-1"), path)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = _utf8_or_cp1252(data, path, notes)
    _refuse_control(text, path)
    return text


def _utf8_or_cp1252(data: bytes, path: str, notes: list[str] | None) -> str:
    """Each line as UTF-8 when it is valid UTF-8, else as cp1252; a note says which were guessed."""
    parts: list[str] = []
    legacy = 0  # lines read as cp1252
    first_bad = -1  # offset of the first byte that is not UTF-8
    utf8_beyond_ascii = False
    offset = 0
    for chunk in data.split(b"\n"):
        try:
            part = chunk.decode("utf-8")
            utf8_beyond_ascii = utf8_beyond_ascii or not chunk.isascii()
        except UnicodeDecodeError as not_utf8:
            first_bad = offset + not_utf8.start if first_bad < 0 else first_bad
            try:
                part = chunk.decode("cp1252")
            except UnicodeDecodeError as exc:
                at = offset + exc.start
                raise TranscriptError(
                    f"byte 0x{data[at]:02x} is neither UTF-8, UTF-16 nor cp1252 text; expected {EXPECTED}",
                    path=path,
                    line=_line_of(data, at, "cp1252"),
                ) from None
            legacy += 1
        parts.append(part)
        offset += len(chunk) + 1
    if notes is not None:
        if utf8_beyond_ascii:
            notes.append(
                f"the file mixes encodings: {legacy:,} line(s) that are not UTF-8 (the first is line "
                f"{_line_of(data, first_bad, 'cp1252')}) were read as Windows-1252; check their accented characters"
            )
        else:
            notes.append("the file is not UTF-8; it was read as Windows-1252 (cp1252)")
    return "\n".join(parts)


def _line_of(data: bytes, offset: int, encoding: str) -> int:
    """The 1-based line of byte ``offset``, counted as the parsers count lines (``str.splitlines``).

    The bytes before the first undecodable one decode by definition; line breaks are counted in the
    text, so CR-only files and UTF-16 (where b"\\n" is not the newline) get the right line too."""
    before = data[:offset].decode(encoding, errors="replace")
    return len(f"{before}x".splitlines())


def _strict(data: bytes, encoding: str, path: str) -> str:
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        bad = data[exc.start : exc.end].hex(" ")
        raise TranscriptError(
            f"invalid {encoding} byte(s) 0x{bad} at offset {exc.start}; expected {EXPECTED}",
            path=path,
            line=_line_of(data, exc.start, encoding),
        ) from None
    _refuse_control(text.lstrip("\ufeff"), path)
    return text.lstrip("\ufeff")


def _refuse_control(text: str, path: str) -> None:
    sample = text[:4000]
    bad = sum(1 for ch in sample if ord(ch) < 32 and ch not in "\t\n\r\f\v")
    if sample and ((bad > 8 and bad * 20 > len(sample)) or "\x00" in sample):
        first = next(i for i, ch in enumerate(sample) if ord(ch) < 32 and ch not in "\t\n\r\f\v")
        raise TranscriptError(
            f"this looks like a binary file (control bytes), not text; expected {EXPECTED}",
            path=path,
            line=len(f"{sample[:first]}x".splitlines()),
        )
