"""Line-based transcripts: plain ``Name: text``, its timestamped variants, Markdown ``**Name:**``, and the
paragraphs of a .docx file.

Accepted speaker lines (after Markdown bold markers are removed)::

    Dana Reyes: text                 [12:04] Dana: text          [01:02:03] Dana: text
    张伟：text (full-width colon)
    Dana (00:01:02): text            Dana [00:01:02]: text       12:04 Dana: text
    John (seller): text              **Dana:** text              **[12:04] Dana:** text

Everything else is one of: a continuation of the current turn (any line after a turn that is not a
speaker line), a header kept in ``metadata`` (``# Title``, a known ``Key: value`` such as Date,
Participants, Duration, Call ID, before the first turn or after a ``---`` separator, a bold heading with
an empty value followed by bullets such as ``**Call Notes:**``), or a marker that is dropped
(``[END OF TRANSCRIPT]``, ``---``). A label that occurs only once must look like a name (capitalized
words, or words in a script without case such as Chinese or Arabic) so that a sentence such as
"Here's the thing: ..." inside a turn is not taken for a speaker.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from analyzer.transcript._raw import PersonInfo, RawCue, RawDoc, parse_clock

_CLOCK = r"\d{1,2}(?::\d{2}){1,2}(?:[.,]\d{1,3})?"
_NAME = r"[^\W\d_][\w.'’&\-]*(?: [\w.'’&\-]+){0,5}?"
# leading timestamp, name, optional (note) or [note], colon, text
_SPEAKER_LINE = re.compile(
    rf"^(?:[\[(](?P<ts1>{_CLOCK})[\])]\s*[-–]?\s*|(?P<ts0>{_CLOCK})\s+[-–]?\s*)?"
    rf"(?P<name>{_NAME})"
    rf"(?:\s*[\[(](?P<note>[^\])]{{1,80}})[\])])?"
    r"\s*(?::(?=\s|$)|：)\s*(?P<text>.*)$"  # ":" then a space, or a full-width "：" (Chinese, Japanese)
)
_CJK = re.compile("[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")
_MD_HEADING = re.compile(r"^#{1,6}\s+(?P<title>.+?)\s*#*$")
_SEPARATOR = re.compile(r"^(?:-{3,}|\*{3,}|_{3,}|={3,})$")
_BRACKET_ONLY = re.compile(r"^[\[(][^\])]*[\])]$")
_BULLET = re.compile(r"^(?:[-*•]|\d+[.)])\s+(?P<item>.+)$")
_ACTION = re.compile(r"(?<![\w*])\*(?P<a>[a-z][^*]{0,40}?)\*(?![\w*])")
_EMPHASIS = re.compile(r"(?<![\w*])[*_](?P<e>\S[^*_]*?)[*_](?![\w*])")

#: ``Key:`` labels that are header fields, not speakers (compared lowercased).
METADATA_KEYS = frozenset(
    {
        "title",
        "subject",
        "date",
        "call date",
        "meeting date",
        "time",
        "duration",
        "length",
        "participants",
        "attendees",
        "speakers",
        "account",
        "company",
        "call id",
        "meeting id",
        "call type",
        "type",
        "stage",
        "outcome",
        "location",
        "platform",
        "recording",
        "organizer",
        "agenda",
        "summary",
        "notes",
        "call notes",
        "next steps",
        "action items",
        "topic",
        "deal",
        "opportunity",
        "source",
        "language",
        "transcript",
        "meeting",
        "call",
        "product",
    }
)
_STOPWORDS = frozenset({"the", "a", "an", "is", "was", "and", "or", "but", "to", "of", "my", "our", "that", "this"})


@dataclass
class _Line:
    no: int
    ts: float | None
    name: str
    note: str
    text: str


def _clean_markdown(text: str) -> str:
    text = text.replace("**", "").replace("__", "")
    text = _ACTION.sub(lambda m: f"[{m['a']}]", text)  # *laughs* -> [laughs]: a stage direction
    return _EMPHASIS.sub(lambda m: m["e"], text)


def match_speaker(line: str) -> _Line | None:
    m = _SPEAKER_LINE.match(line)
    if m is None:
        return None
    ts_text = m["ts1"] or m["ts0"]
    note = (m["note"] or "").strip()
    ts = parse_clock(ts_text) if ts_text else None
    if ts is None and note and parse_clock(note) is not None:
        ts, note = parse_clock(note), ""
    name = " ".join(m["name"].split()).strip(" -–")
    return _Line(0, ts, name, note, (m["text"] or "").strip())


def _looks_like_name(name: str) -> bool:
    words = name.split()
    if len(words) > 4:
        return False
    return all(_capitalized(w) for w in words) and not any(w.lower() in _STOPWORDS for w in words)


def _capitalized(word: str) -> bool:
    """Starts like a name: a capital, a digit, or a letter of a script without case (张伟, محمد, 김민준).

    Chinese, Japanese and Korean are written without spaces, so "我们的预算是：" (our budget is:) would
    pass as one word: a CJK word counts only when it is as short as a name (at most four characters)."""
    first = word[:1]
    if _CJK.match(first):
        return len(word) <= 4
    return first.isupper() or first.isdigit() or (first.isalpha() and not first.islower())


def parse_lines(lines: list[str], *, fmt: str, line_numbers: list[int] | None = None) -> RawDoc:
    """Parse ``Name: text`` style lines (see the module docstring); ``fmt`` is the reported format."""
    markdown = fmt == "markdown"
    numbers = line_numbers or list(range(1, len(lines) + 1))
    cleaned = [(_clean_markdown(raw) if markdown or "**" in raw else raw).strip() for raw in lines]

    # Pass 1: which labels are speakers. A label seen twice, or once and shaped like a name, counts.
    candidates = [match_speaker(c) for c in cleaned]
    counts = Counter(c.name for c in candidates if c is not None and c.text)
    doc = RawDoc(format=fmt)
    # Text is collected in lists and joined once: growing a string line by line is quadratic, and a
    # 20 MB file of continuation lines took tens of seconds that way.
    meta: dict[str, list[str]] = {}
    texts: list[list[str]] = []  # parallel to doc.cues
    seen_turn = False
    after_separator = False
    section: str | None = None  # metadata key collecting bullet/notes lines
    current: list[str] | None = None  # the text parts of the current turn

    def put_meta(key: str, value: str) -> None:
        value = value.strip()
        if value:
            meta.setdefault(key, []).append(value)

    for idx, line in enumerate(cleaned):
        no = numbers[idx]
        if not line:
            continue
        if _SEPARATOR.match(line):
            after_separator = seen_turn or after_separator
            section = None
            current = None if seen_turn else current
            continue
        heading = _MD_HEADING.match(lines[idx].strip())
        if heading:
            put_meta("title" if "title" not in meta else "headings", _clean_markdown(heading["title"]))
            section = None
            continue
        cand = candidates[idx]
        in_header = not seen_turn or after_separator
        if cand is not None:
            key = cand.name.lower()
            # only a label without text can head a bullet list (and the look-ahead is not free)
            next_is_bullet = not cand.text and _next_nonblank_is_bullet(cleaned, idx)
            if key in METADATA_KEYS and (in_header or not cand.text) and cand.ts is None:
                if cand.text:
                    put_meta(key, cand.text)
                    section = None
                else:
                    section = key
                continue
            if not cand.text and next_is_bullet:
                section = key  # a heading such as "Call Notes - What Went Wrong:" over bullets
                continue
            is_speaker = cand.ts is not None or counts[cand.name] >= 2 or _looks_like_name(cand.name)
            if is_speaker and (cand.text or not next_is_bullet):
                seen_turn, after_separator, section = True, False, None
                name = cand.name
                if cand.note:
                    info = doc.people.setdefault(name, PersonInfo())
                    info.descriptor = info.descriptor or cand.note
                doc.cues.append(RawCue(speaker=name, text="", start=cand.ts, line=no))
                current = [cand.text] if cand.text else []
                texts.append(current)
                continue
        if section is not None:
            bullet = _BULLET.match(line)
            put_meta(section, bullet["item"] if bullet else line)
            continue
        if _BRACKET_ONLY.match(line) and (current is None or line[1:2].isupper()):
            continue  # [END OF TRANSCRIPT], [Music]: markers, not speech
        if current is not None and not after_separator:
            current.append(line)
        else:
            put_meta("notes" if seen_turn else ("title" if not meta else "preamble"), line)
    for cue, parts in zip(doc.cues, texts, strict=True):
        cue.text = " ".join(parts)
    doc.metadata = {key: "; ".join(values) for key, values in meta.items()}
    doc.cues = [c for c in doc.cues if c.text.strip()]
    return doc


def _next_nonblank_is_bullet(lines: list[str], idx: int) -> bool:
    for nxt in lines[idx + 1 : idx + 4]:
        if nxt:
            return _BULLET.match(nxt) is not None
    return False


def parse_text(text: str, *, fmt: str) -> RawDoc:
    """Parse a plain or Markdown transcript."""
    return parse_lines(text.splitlines(), fmt=fmt)
