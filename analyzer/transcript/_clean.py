"""Characters no transcript should carry, removed (or replaced) before anything reads or prints them.

* Lone UTF-16 surrogates (a JSON ``"\\ud800"`` escape loads as one): no encoder can write them, so the
  JSON report, the terminal and the database would all fail. They become U+FFFD. Paired surrogates are
  one character once loaded and are untouched.
* Control characters other than whitespace (NUL, backspace, ESC and so terminal escape sequences, DEL,
  the C1 range): removed. Files with many of them are refused as binary before this (``_decode``).
* Invisible formatting characters that change how a line looks without changing what it says:
  zero-width space, word joiner, byte-order marks inside the text, and bidirectional embeddings,
  overrides and isolates (which can make a quote read backwards). Removed. Zero-width joiners and
  left-to-right/right-to-left marks stay: Persian, Indic scripts and emoji need them.

Each kind removed is counted, and the counts become Transcript warnings.
"""

from __future__ import annotations

import re

from analyzer.transcript._raw import PersonInfo, RawDoc

_SURROGATE = re.compile("[\ud800-\udfff]")
_CONTROL = re.compile("[\x00-\x08\x0e-\x1b\x7f-\x9f]")
_INVISIBLE = re.compile("[\u200b\u2060\ufeff\u202a-\u202e\u2066-\u2069]")


def without_surrogates(text: str) -> str:
    """``text`` with lone surrogates replaced by U+FFFD (e.g. a file name that is not valid UTF-8)."""
    return _SURROGATE.sub("\ufffd", text)


class Scrubber:
    """Cleans strings as the module docstring says and counts what it changed."""

    def __init__(self) -> None:
        self.surrogates = 0
        self.controls = 0
        self.invisible = 0

    def __call__(self, text: str) -> str:
        if _SURROGATE.search(text):
            text, n = _SURROGATE.subn("\ufffd", text)
            self.surrogates += n
        if _CONTROL.search(text):
            text, n = _CONTROL.subn("", text)
            self.controls += n
        if _INVISIBLE.search(text):
            text, n = _INVISIBLE.subn("", text)
            self.invisible += n
        return text

    def doc(self, raw: RawDoc) -> None:
        """Clean every string of a parsed file in place."""
        for cue in raw.cues:
            cue.speaker, cue.text = self(cue.speaker), self(cue.text)
        raw.metadata = {self(k): self(v) for k, v in raw.metadata.items()}
        raw.people = {
            self(name): PersonInfo(
                role=p.role,
                reason=self(p.reason),
                email=self(p.email),
                company=self(p.company),
                descriptor=self(p.descriptor),
            )
            for name, p in raw.people.items()
        }

    def warnings(self) -> list[str]:
        """One sentence per kind of character that was changed."""
        out = []
        if self.surrogates:
            out.append(f"{self.surrogates:,} invalid character(s) (lone UTF-16 surrogates) were replaced with U+FFFD")
        if self.controls:
            out.append(f"{self.controls:,} control character(s) were removed from the text")
        if self.invisible:
            out.append(
                f"{self.invisible:,} invisible formatting character(s) (zero-width spaces, text-direction "
                "overrides) were removed from the text"
            )
        return out
