"""Bytes to text: BOMs, UTF-8, UTF-16 and cp1252, and a clear refusal of binary files.

Order: a BOM decides (UTF-8, UTF-16 LE/BE); otherwise NUL bytes on alternating positions mean BOM-less
UTF-16; otherwise strict UTF-8; otherwise cp1252 (Windows exports from Word or Teams), which is the one
legacy encoding such files realistically use. A known binary signature (PDF, images, audio, archives)
or control bytes that no text encoding explains give a TranscriptError that says what the file is.
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
    (b"\x7fELF", "an executable"),
    (b"MZ", "a Windows executable"),
)
_MEDIA_AT_4 = (b"ftyp",)  # MP4/M4A/MOV carry their signature at offset 4

EXPECTED = "a text transcript (plain, Markdown, Otter, WebVTT, SRT), a JSON export or a .docx file"


def sniff_binary(data: bytes) -> str | None:
    """A description of a known non-transcript binary file, or None."""
    for magic, what in _MAGIC:
        if data.startswith(magic):
            return what
    if data[4:8] in _MEDIA_AT_4:
        return "an MP4/M4A/MOV media file"
    return None


def decode(data: bytes, path: str) -> str:
    """Decode transcript bytes to text (see the module docstring for the order of attempts)."""
    if data.startswith(codecs.BOM_UTF8):
        return _strict(data[3:], "utf-8", path)
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
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        try:
            text = data.decode("cp1252")
        except UnicodeDecodeError as exc:
            line = data[: exc.start].count(b"\n") + 1
            raise TranscriptError(
                f"byte 0x{data[exc.start]:02x} is neither UTF-8, UTF-16 nor cp1252 text; expected {EXPECTED}",
                path=path,
                line=line,
            ) from None
    _refuse_control(text, path)
    return text


def _strict(data: bytes, encoding: str, path: str) -> str:
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise TranscriptError(
            f"invalid {encoding} byte at offset {exc.start}; expected {EXPECTED}", path=path
        ) from None
    _refuse_control(text.lstrip("\ufeff"), path)
    return text.lstrip("\ufeff")


def _refuse_control(text: str, path: str) -> None:
    sample = text[:4000]
    bad = sum(1 for ch in sample if ord(ch) < 32 and ch not in "\t\n\r\f\v")
    if sample and ((bad > 8 and bad * 20 > len(sample)) or "\x00" in sample):
        line = sample[: next(i for i, ch in enumerate(sample) if ord(ch) < 32 and ch not in "\t\n\r\f\v")]
        raise TranscriptError(
            f"this looks like a binary file (control bytes), not text; expected {EXPECTED}",
            path=path,
            line=line.count("\n") + 1,
        )
