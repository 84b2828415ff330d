"""Automatic format detection; ``--format`` overrides it.

Content decides before the file name, because exports are often renamed: a ZIP with
``word/document.xml`` is docx; text starting with ``WEBVTT`` is vtt; ``{`` or ``[`` is JSON (its shape
picks gong / assemblyai / deepgram / openai / fireflies / json), unless it does not load as JSON and
reads as text (ASR exports open with ``[Music]`` or ``{inaudible}``); a numbered cue followed by an
``hh:mm:ss,mmm -->`` line is srt. For the remaining line formats the lines are counted: Otter headers
(``Name  0:12`` alone on a line) against ``Name: text`` lines, and bold ``**Name:**`` labels for Markdown.
The extension only breaks ties (``.vtt``, ``.srt``, ``.json``, ``.md``), so that a broken ``.vtt`` gets a
WebVTT error rather than a confusing plain-text one.
"""

from __future__ import annotations

import re

from analyzer.transcript._otter import HEADER as _OTTER_HEADER
from analyzer.transcript._text import match_speaker

_SRT_START = re.compile(r"^\s*\d+\s*\r?\n\s*\d{1,3}:\d{2}:\d{2}[,.]\d{1,3}\s+-->", re.MULTILINE)
_BOLD_LABEL = re.compile(r"^\s*(?:[-*]\s+)?\*\*[^*\n]{1,80}?\*\*\s*:?\s*\S", re.MULTILINE)
_ZIP = b"PK\x03\x04"


def is_zip(data: bytes) -> bool:
    """True for ZIP containers (.docx among them)."""
    return data.startswith(_ZIP)


def detect_text_format(text: str, suffix: str, *, json_ok: bool = True) -> str:
    """The line/caption format of decoded text: 'vtt', 'srt', 'jsonish', 'otter', 'markdown' or 'plain'.

    'jsonish' means "load it as JSON and look at its shape"; ``json_ok=False`` rules it out (the text
    did not load as JSON, so the text formats are tried)."""
    head = text.lstrip()
    if head.startswith("WEBVTT"):
        return "vtt"
    # "[00:02] Walt: ..." opens many timestamped exports: a bracket followed by a digit is a timestamp.
    if json_ok and (head[:1] == "{" or (head[:1] == "[" and not re.match(r"\[\s*\d", head)) or suffix == ".json"):
        return "jsonish"
    if suffix == ".vtt":  # a .vtt without its header gets the WebVTT error, not an SRT reading
        return "vtt"
    if _SRT_START.search(text[:2000]) or suffix == ".srt":
        return "srt"
    lines = text.splitlines()[:400]
    otter = sum(1 for ln in lines if _OTTER_HEADER.match(ln.strip()) and not ln.strip().endswith(":"))
    labels = sum(1 for ln in lines if (m := match_speaker(ln.replace("**", "").strip())) and m.text)
    bold = len(_BOLD_LABEL.findall("\n".join(lines)))
    if otter >= 2 and otter > labels:
        return "otter"
    if bold >= 2 or (suffix in (".md", ".markdown") and bold >= 1):
        return "markdown"
    return "plain"
