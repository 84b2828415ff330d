"""Word (.docx) transcripts: each paragraph is read like a line of a plain transcript (``Name: text``,
optionally ``[00:01:02] Name: text`` or ``Name (00:01:02): text``); table rows are read as paragraphs
too, their cells joined with spaces, so a two- or three-column (time | speaker | text) layout works
(a colon is added after the speaker cell). Error locations count paragraphs.

The archive is checked before anything is unpacked: at most ``MAX_MEMBERS`` parts, and their declared
sizes may add up to no more than the transcript size limit (``zipfile`` never inflates a part past its
declared size, so a decompression bomb is refused from its directory alone)."""

from __future__ import annotations

import io
import zipfile

from analyzer._errors import TranscriptError
from analyzer.transcript._raw import RawDoc
from analyzer.transcript._text import parse_lines

#: A Word document has a few dozen parts; thousands mean an archive built to exhaust the reader.
MAX_MEMBERS = 1000


def parse_docx(data: bytes, path: str, *, max_bytes: int) -> RawDoc:
    """Parse .docx bytes; ``max_bytes`` caps the unpacked size of the whole archive."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            members = zf.infolist()
            if len(members) > MAX_MEMBERS:
                raise TranscriptError(
                    f"the archive holds {len(members):,} files, over the limit of {MAX_MEMBERS:,}; expected a "
                    "Word document",
                    path=path,
                )
            unpacked = sum(m.file_size for m in members)
            if unpacked > max_bytes:
                raise TranscriptError(
                    f"the .docx unpacks to {unpacked:,} bytes, over the {max_bytes:,}-byte limit; expected a "
                    "smaller Word document (raise WALKAWAY_MAX_FILE_BYTES to allow it)",
                    path=path,
                )
            if "word/document.xml" not in zf.namelist():
                raise TranscriptError(
                    "this is a ZIP archive but not a Word document (no word/document.xml); expected a .docx transcript",
                    path=path,
                )
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, ValueError, EOFError):
        raise TranscriptError("this is not a valid .docx (ZIP) file; expected a Word document", path=path) from None
    import docx  # python-docx is only needed for .docx input

    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as exc:  # python-docx raises several unrelated types for corrupt parts
        raise TranscriptError(
            f"the Word document could not be read ({exc}); expected a valid .docx", path=path
        ) from None
    lines = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            cells = [cell.text.strip() for cell in row.cells if cell.text.strip()]
            if len(cells) in (2, 3) and not cells[-2].endswith(":"):
                cells[-2] += ":"  # (time |) speaker | text: the speaker cell labels the text cell
            lines.append(" ".join(cells))
    return parse_lines(lines, fmt="docx")
