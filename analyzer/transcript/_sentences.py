"""Sentence splitting for turn text: the unit that evidence is cited by.

Rules (deterministic, no model):

* The text is first normalized to single spaces; a boundary is always one of those spaces, so
  ``" ".join(split_sentences(t)) == normalize_space(t)`` holds for every input.
* A boundary follows ``.``, ``!``, ``?`` or ``…`` (plus closing quotes/brackets) and a space.
* No boundary after a title or always-abbreviation (Mr., Dr., e.g., i.e., vs., No. 5), a single initial
  ("J. Smith"), or a dotted acronym ("U.S.", "a.m." before a lowercase word).
* No boundary after ``.`` or ``…`` when the next word starts lowercase: ASR text and trailing-off speech
  ("let me take a quick look… maybe") are one sentence; decimals and amounts ("2.5", "$1.2M") never
  contain a space, so they are never split.
* A sentence longer than ``MAX_SENTENCE_CHARS`` (unpunctuated ASR output, or a hostile file) is cut at
  the last space before the limit, again and again: a sentence is quoted whole as evidence and must fit
  a prompt chunk and a report line. Real calls stay far below the limit (the longest in our evals and
  fixtures is about 600 characters).
"""

from __future__ import annotations

import re

# Abbreviations after which a boundary is never placed, whatever follows (lowercase, no dots).
_ALWAYS = frozenset(
    {
        "mr",
        "mrs",
        "ms",
        "dr",
        "prof",
        "sr",
        "jr",
        "st",
        "vs",
        "cf",
        "e.g",
        "i.e",
        "eg",
        "ie",
        "approx",
        "dept",
        "no",
        "nos",
        "vol",
        "capt",
        "lt",
        "sgt",
        "jan",
        "feb",
        "apr",
        "aug",
        "sept",
        "oct",
        "nov",
        "u.s",
        "u.k",
        "u.s.a",
        "e.u",
        "u.n",
        "ph.d",
        "m.d",
    }
)

#: Longer sentences are cut at a space (see the module docstring).
MAX_SENTENCE_CHARS = 1000

_ACRONYM = re.compile(r"(?:[a-z]\.)+[a-z]")
_BOUNDARY = re.compile(r"[.!?…]+[\"'”’)\]]* ")


def normalize_space(text: str) -> str:
    """Collapse every run of whitespace to one space and strip the ends."""
    return " ".join(text.split())


def _is_abbreviation(word: str) -> bool:
    core = word.lstrip("(\"'“‘[").rstrip(".").lower()
    if core in _ALWAYS:
        return True
    if len(core) == 1 and core.isalpha():  # an initial: "J. Smith"
        return True
    # dotted acronyms like "U.S." or "a.m." (letters separated by dots)
    return _ACRONYM.fullmatch(core) is not None


def split_sentences(text: str) -> list[str]:
    """Split turn text into sentences; joining them with single spaces gives back the normalized text."""
    norm = normalize_space(text)
    if not norm:
        return []
    sentences: list[str] = []
    start = 0
    for m in _BOUNDARY.finditer(norm):
        end = m.end() - 1  # index of the space
        nxt = norm[m.end() : m.end() + 1]
        punct = m.group(0).rstrip()
        if "!" not in punct and "?" not in punct:
            if nxt.islower():
                continue
            # the word ending at this dot (rfind keeps the scan local: no quadratic regex search)
            space = norm.rfind(" ", start, m.start())
            word = norm[(space + 1 if space >= 0 else start) : m.start() + 1]
            # "No." is an abbreviation only before a number ("No. 5"), otherwise the word "no"
            is_no_word = word.rstrip(".").lower() == "no" and not nxt.isdigit()
            if (
                punct.startswith(".")
                and len(punct.rstrip("\"'”’)]")) == 1
                and _is_abbreviation(word)
                and not is_no_word
            ):
                continue
        if end > start:
            sentences.append(norm[start:end])
            start = end + 1
    if start < len(norm):
        sentences.append(norm[start:])
    if any(len(s) > MAX_SENTENCE_CHARS for s in sentences):
        return [piece for s in sentences for piece in _cut(s)]
    return sentences


def _cut(sentence: str) -> list[str]:
    """``sentence`` in pieces of at most MAX_SENTENCE_CHARS, cut at spaces (a longer word stays whole)."""
    pieces: list[str] = []
    start = 0  # indices, not slices of the rest: a 5 MB sentence would be copied thousands of times
    while len(sentence) - start > MAX_SENTENCE_CHARS:
        space = sentence.rfind(" ", start + 1, start + MAX_SENTENCE_CHARS + 1)
        if space < 0:
            space = sentence.find(" ", start + MAX_SENTENCE_CHARS)
            if space < 0:
                break
        pieces.append(sentence[start:space])
        start = space + 1
    pieces.append(sentence[start:])
    return pieces
