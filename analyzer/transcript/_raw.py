"""What every format parser returns before normalization: raw cues plus what the export says about people.

Parsers stay small because they only read their syntax; merging, ids, sentences, roles and validation
happen once, in ``_build``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from analyzer._errors import TranscriptError
from analyzer.transcript.model import Role

#: Ordered as in FORMATS; "json" is the documented generic shape.
FORMAT_NAMES: tuple[str, ...] = (
    "plain",
    "markdown",
    "otter",
    "vtt",
    "srt",
    "gong",
    "assemblyai",
    "deepgram",
    "openai",
    "fireflies",
    "json",
    "docx",
)


@dataclass
class RawCue:
    """One cue or line of speech as the export has it (several may form one turn)."""

    speaker: str
    text: str
    start: float | None = None
    end: float | None = None
    line: int | None = None  # 1-based line (or cue number for captions) for error messages


@dataclass
class PersonInfo:
    """What the export says about a speaker, used to decide roles."""

    role: Role | None = None
    reason: str = ""
    email: str = ""
    company: str = ""
    descriptor: str = ""  # free text such as "VP Sales, Nextera Health" from a participants header


@dataclass
class RawDoc:
    """A parsed file before normalization."""

    format: str
    cues: list[RawCue] = field(default_factory=list)
    metadata: dict[str, str] = field(default_factory=dict)
    people: dict[str, PersonInfo] = field(default_factory=dict)  # keyed by speaker label as in cues
    unit: str = "line"  # what RawCue.line counts: "line" or "cue"
    warnings: list[str] = field(default_factory=list)  # doubts about the input, shown in the report


_TS_RE = re.compile(r"^(?:(?P<h>\d{1,2}):)?(?P<m>\d{1,3}):(?P<s>\d{2})(?:[.,](?P<f>\d{1,3}))?$")


def parse_clock(value: str) -> float | None:
    """Seconds from ``mm:ss``, ``hh:mm:ss``, with optional ``.fff`` / ``,fff``; None when it is not a clock."""
    m = _TS_RE.match(value.strip())
    if m is None:
        return None
    seconds = int(m["h"] or 0) * 3600 + int(m["m"]) * 60 + int(m["s"])
    if int(m["s"]) >= 60:
        return None
    frac = m["f"]
    return seconds + (int(frac) / 10.0 ** len(frac) if frac else 0.0)


def fail(path: str, message: str, line: int | None = None) -> TranscriptError:
    """A TranscriptError naming the file and, when known, the line."""
    return TranscriptError(message, path=path, line=line)
