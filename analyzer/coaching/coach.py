"""Discovery coaching: which qualification areas the seller asked about, which they never asked, whether a
red flag the prospect said was followed up or talked past, the talk ratio and the longest monologue.

The seller's questions are found in their own sentences (a question mark, or, for unpunctuated ASR text, a
question word first) and sorted into areas by ``areas.yaml``; each asked area cites the seller's sentences
verbatim, like a flag's evidence. A red flag is followed up when the seller's next turn after the
prospect's first evidence sentence asks a question; otherwise the seller talked past it.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import yaml
from pydantic import BaseModel, Field

from analyzer.extraction.findings import Evidence, Flag
from analyzer.transcript.model import Transcript

AREAS = ("need", "fit", "budget", "authority", "timeline")
_AREAS_PATH = Path(__file__).with_name("areas.yaml")
_QUESTION_START = re.compile(
    r"^(so |and |but |okay |ok |um |uh |well |right )*(what|how|who|whom|when|where|why|which|do|does|did|is|are|"
    r"was|were|can|could|would|will|should|have|has|had|any|anything|tell me|walk me)\b",
    re.IGNORECASE,
)


class FollowUp(BaseModel):
    """What the seller did right after a red flag was said."""

    category: str
    quote: str = Field(description="The prospect's first evidence sentence of the flag.")
    followed_up: bool
    reply: str = Field(default="", description="The seller's question that followed it up, if any.")


class Coaching(BaseModel):
    """The seller's discovery on one call."""

    asked: dict[str, list[Evidence]] = Field(
        default_factory=dict, description="Area -> the seller's question sentences about it (at most 3 each)."
    )
    not_asked: list[str] = Field(default_factory=list, description="Areas no seller question touched.")
    questions: int = Field(default=0, description="The seller's question sentences.")
    follow_ups: list[FollowUp] = Field(default_factory=list)
    talk_ratio: float | None = Field(default=None, description="The seller side's share of the words spoken.")
    longest_monologue_words: int = 0
    longest_monologue_speaker: str = ""
    longest_monologue_start: float | None = None


@lru_cache(maxsize=1)
def _areas() -> dict[str, list[re.Pattern[str]]]:
    data = yaml.safe_load(_AREAS_PATH.read_text(encoding="utf-8"))
    return {a: [re.compile(p, re.IGNORECASE) for p in data.get(a, [])] for a in AREAS}


def is_question(text: str) -> bool:
    """A question sentence: ends with '?', or starts with a question word (ASR text has no punctuation)."""
    t = text.strip()
    return t.endswith("?") or (not t.endswith((".", "!")) and bool(_QUESTION_START.match(t)))


def coach(transcript: Transcript, flags: list[Flag]) -> Coaching:
    """The coaching view of one call; needs roles (a call with no seller turn has no discovery to show)."""
    out = Coaching()
    words = {"seller": 0, "other": 0}
    run_speaker, run_words, run_start = "", 0, None
    best: tuple[int, str, float | None] = (0, "", None)
    for turn in transcript.turns:
        n = sum(len(s.text.split()) for s in turn.sentences)
        words["seller" if turn.role == "seller" else "other"] += n
        if turn.speaker == run_speaker:
            run_words += n
        else:
            run_speaker, run_words, run_start = turn.speaker, n, turn.start
        if run_words > best[0]:
            best = (run_words, run_speaker, run_start)
        if turn.role != "seller":
            continue
        for sentence in turn.sentences:
            if not is_question(sentence.text):
                continue
            out.questions += 1
            for area, patterns in _areas().items():
                if any(p.search(sentence.text) for p in patterns):
                    cited = out.asked.setdefault(area, [])
                    if len(cited) < 3:
                        cited.append(Evidence.of(turn, sentence))
    total = words["seller"] + words["other"]
    out.talk_ratio = round(words["seller"] / total, 3) if total else None
    out.longest_monologue_words, out.longest_monologue_speaker, out.longest_monologue_start = best
    out.not_asked = [a for a in AREAS if a not in out.asked]
    order = {t.id: i for i, t in enumerate(transcript.turns)}
    for flag in flags:
        first = next((e for e in flag.evidence if e.role != "seller"), None)
        if first is None or first.turn_id not in order:
            continue
        reply = ""
        for turn in transcript.turns[order[first.turn_id] + 1 :]:
            if turn.role != "seller":
                continue
            reply = next((s.text for s in turn.sentences if is_question(s.text)), "")
            break
        out.follow_ups.append(FollowUp(category=flag.category, quote=first.quote, followed_up=bool(reply), reply=reply))
    return out
