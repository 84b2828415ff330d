"""Transcript ingestion: any common export to one normalized ``Transcript`` (turns, speakers, roles, ids).

Public API::

    parse_file(path, *, fmt=None, seller=(), seller_domain=None, max_bytes=None) -> Transcript
    parse_bytes(data, *, filename, fmt=None, seller=(), seller_domain=None, max_bytes=None) -> Transcript
    FORMATS            # names accepted by fmt / --format
    split_sentences(text) -> list[str]

Formats are documented in the parser modules (``_text``, ``_otter``, ``_captions``, ``_json``, ``_docx``),
detection in ``_detect`` and the role heuristic in ``_roles``.
"""

from __future__ import annotations

from analyzer.transcript._api import FORMATS, parse_bytes, parse_file, read_transcript_bytes
from analyzer.transcript._sentences import split_sentences
from analyzer.transcript.model import Role, RoleSource, Sentence, Speaker, Transcript, Turn

__all__ = [
    "FORMATS",
    "Role",
    "RoleSource",
    "Sentence",
    "Speaker",
    "Transcript",
    "Turn",
    "parse_bytes",
    "parse_file",
    "read_transcript_bytes",
    "split_sentences",
]
