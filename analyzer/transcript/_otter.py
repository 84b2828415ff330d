"""Otter.ai text exports: a ``Name  0:12`` header line (name, spaces, clock), then the text lines.

Example::

    Dana Reyes  0:04
    Thanks for making the time today.

    Priya Shah  0:09
    Of course.

Lines before the first header (title, date) go to metadata; Otter's footer "Transcribed by
https://otter.ai" is dropped.
"""

from __future__ import annotations

import re

from analyzer.transcript._raw import RawCue, RawDoc, parse_clock

HEADER = re.compile(r"^(?P<name>[^\W\d_][^\t:]{0,60}?)\s+(?P<ts>\d{1,2}(?::\d{2}){1,2})\s*$")
_FOOTER = re.compile(r"^transcribed by\s+\S*otter\.ai", re.IGNORECASE)


def parse_otter(text: str) -> RawDoc:
    """Parse an Otter text export."""
    doc = RawDoc(format="otter")
    texts: list[list[str]] = []  # parallel to doc.cues, joined once (growing a string per line is quadratic)
    meta: dict[str, list[str]] = {}
    for no, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or _FOOTER.match(line):
            continue
        m = HEADER.match(line)
        if m is not None:
            doc.cues.append(RawCue(speaker=" ".join(m["name"].split()), text="", start=parse_clock(m["ts"]), line=no))
            texts.append([])
        elif texts:
            texts[-1].append(line)
        else:
            key = "title" if "title" not in meta else "date" if "date" not in meta else "preamble"
            meta.setdefault(key, []).append(line)
    for cue, parts in zip(doc.cues, texts, strict=True):
        cue.text = " ".join(parts)
    doc.metadata = {key: "; ".join(values) for key, values in meta.items()}
    doc.cues = [c for c in doc.cues if c.text]
    return doc
