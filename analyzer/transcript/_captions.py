"""Caption files: WebVTT (Zoom ``Name: text`` cues, Teams ``<v Name>`` voice spans) and SRT.

The cue grammar is small, and our own reader reports the cue number and line of any problem (webvtt-py
raises one "malformed" error without saying where, which a user cannot act on); webvtt-py serves as an
independent oracle in the tests instead. Cue text is read as: a ``<v Name>`` voice span; else a leading
``Name:``, ``>> Name:`` or ``[Name]`` label; else a continuation of the previous speaker (Zoom splits
long utterances over several cues and labels only some of them). Other tags are removed, entities
decoded. ``NOTE``, ``STYLE`` and ``REGION`` blocks are skipped.
"""

from __future__ import annotations

import html
import re

from analyzer._errors import TranscriptError
from analyzer.transcript._raw import RawCue, RawDoc

_VTT_TIME = r"(?:(?P<{0}h>\d{{1,3}}):)?(?P<{0}m>[0-5]\d):(?P<{0}s>[0-5]\d)[.](?P<{0}f>\d{{3}})"
_SRT_TIME = r"(?P<{0}h>\d{{1,3}}):(?P<{0}m>[0-5]\d):(?P<{0}s>[0-5]\d)[,.](?P<{0}f>\d{{1,3}})"
_VTT_TIMING = re.compile(rf"^{_VTT_TIME.format('a')}\s+-->\s+{_VTT_TIME.format('b')}(?:\s+\S.*)?$")
_SRT_TIMING = re.compile(rf"^{_SRT_TIME.format('a')}\s+-->\s+{_SRT_TIME.format('b')}(?:\s+\S.*)?$")
_VOICE = re.compile(r"<v(?:\.[\w.\-]+)?\s+(?P<name>[^>]+)>", re.IGNORECASE)
_TAG = re.compile(r"</?[^>\s][^>]*>")
_LABEL = re.compile(
    r"^(?:>>\s*)?(?:\[(?P<b>[^\]]{1,60})\]\s+|(?P<n>[^\W\d_][\w.'’&\-]*(?: [\w.'’&\-]+){0,4}?)\s*:\s+)(?P<text>.+)$"
)

# A line that starts like a timing line ("00:01,000 -> 00:02,000", "00:00:01 00:00:02") but has no "-->".
_TIMING_LIKE = re.compile(r"^\d{1,3}:\d{2}(?::\d{2})?(?:[.,]\d{1,3})?\s*(?:[-–—=>]+|\s)\s*\d")

VTT_EXPECTED = "'hh:mm:ss.ttt --> hh:mm:ss.ttt' (hours optional)"
SRT_EXPECTED = "'hh:mm:ss,mmm --> hh:mm:ss,mmm'"


def _clip(text: str, width: int = 60) -> str:
    """``repr`` of a line from the file, cut short so one error stays one readable sentence."""
    return repr(text if len(text) <= width else f"{text[:width]}...")


def _seconds(m: re.Match[str], p: str) -> float:
    frac: str = m[f"{p}f"]
    return int(m[f"{p}h"] or 0) * 3600 + int(m[f"{p}m"]) * 60 + int(m[f"{p}s"]) + int(frac) / 10.0 ** len(frac)


def _blocks(text: str) -> list[list[tuple[int, str]]]:
    blocks: list[list[tuple[int, str]]] = []
    cur: list[tuple[int, str]] = []
    for no, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if line:
            cur.append((no, line))
        elif cur:
            blocks.append(cur)
            cur = []
    if cur:
        blocks.append(cur)
    return blocks


def _speaker_and_text(payload: str, previous: str | None) -> tuple[str | None, str]:
    voice = _VOICE.search(payload)
    if voice is not None:
        name = voice["name"].strip()
        return name, html.unescape(_TAG.sub("", payload)).strip()
    text = html.unescape(_TAG.sub("", payload)).strip()
    m = _LABEL.match(text)
    if m is not None:
        return (m["b"] or m["n"]).strip(), m["text"].strip()
    return previous, text


def parse_captions(text: str, *, fmt: str, path: str) -> RawDoc:
    """Parse WebVTT (``fmt='vtt'``) or SRT (``fmt='srt'``) text into cues."""
    doc = RawDoc(format=fmt, unit="cue")
    blocks = _blocks(text)
    timing_re, expected = (_VTT_TIMING, VTT_EXPECTED) if fmt == "vtt" else (_SRT_TIMING, SRT_EXPECTED)
    if fmt == "vtt":
        if not blocks or not blocks[0][0][1].startswith("WEBVTT"):
            line = blocks[0][0][0] if blocks else 1
            raise TranscriptError("not a WebVTT file: expected 'WEBVTT' on the first line", path=path, line=line)
        header = blocks.pop(0)
        # the header block may run straight into the first cue when there is no blank line after it
        for i, (_, ln) in enumerate(header):
            if "-->" in ln:
                blocks.insert(0, header[i - 1 if i >= 2 else i :])  # keep a cue identifier line
                break
    speaker: str | None = None
    cue_no = 0
    unlabeled: list[RawCue] = []
    for block in blocks:
        first = block[0][1]
        if fmt == "vtt" and first.split(" ", 1)[0] in ("NOTE", "STYLE", "REGION"):
            continue
        cue_no += 1
        timing_at = next((i for i, (_, ln) in enumerate(block[:2]) if "-->" in ln), None)
        if timing_at is None:
            near = next(((no, ln) for no, ln in block[:2] if _TIMING_LIKE.match(ln)), None)
            if near is not None:
                raise TranscriptError(
                    f"cue {cue_no} has a malformed timing line {_clip(near[1])}: expected '-->' between the start "
                    f"and end times, as in {expected}",
                    path=path,
                    line=near[0],
                )
            raise TranscriptError(f"cue {cue_no} has no timing line; expected {expected}", path=path, line=block[0][0])
        line_no, timing = block[timing_at]
        m = timing_re.match(timing)
        if m is None:
            raise TranscriptError(
                f"cue {cue_no} has a malformed timestamp {_clip(timing)}; expected {expected}", path=path, line=line_no
            )
        start, end = _seconds(m, "a"), _seconds(m, "b")
        if end < start:
            raise TranscriptError(
                f"cue {cue_no} ends ({end:.3f}s) before it starts ({start:.3f}s); expected end >= start",
                path=path,
                line=line_no,
            )
        payload = " ".join(ln for _, ln in block[timing_at + 1 :])
        if not payload:
            continue
        who, said = _speaker_and_text(payload, speaker)
        if not said:
            continue
        cue = RawCue(speaker=who or "", text=said, start=start, end=end, line=line_no)
        if who is None:
            unlabeled.append(cue)
        speaker = who
        doc.cues.append(cue)
    labeled = [c for c in doc.cues if c.speaker]
    if doc.cues and not labeled:
        raise TranscriptError(
            f"no cue names its speaker; expected '<v Name>' voice spans or 'Name: text' cues (cue 1, line "
            f"{doc.cues[0].line})",
            path=path,
            line=doc.cues[0].line,
        )
    for cue in unlabeled:  # cues before the first label: an unnamed speaker rather than a guess
        cue.speaker = "Unknown speaker"
    return doc
