"""The `naive` baseline: one prompt over the whole transcript asking for red flags and a verdict.

This is the approach most open-source tools take, on the same model, kept only so `walkaway eval` can
show what the real pipeline gains over it. Its quotes are free text; each is matched against the
transcript's sentences and dropped (and counted) when it is not there. Its verdict is the model's own.
"""

from __future__ import annotations

import json
import re

from pydantic import BaseModel, ValidationError

from analyzer._errors import ExtractionError
from analyzer.extraction.backends.chat import ChatModel
from analyzer.extraction.findings import Evidence, Findings, Flag, GroundingStats, Usage
from analyzer.extraction.prompts import Prompts
from analyzer.taxonomy import CATEGORIES, SEVERITIES, VERDICTS, Verdict
from analyzer.tokens import count_tokens
from analyzer.transcript.model import Transcript

NAIVE_SCHEMA = {
    "type": "object",
    "properties": {
        "flags": {
            "type": "array",
            "maxItems": 7,
            "items": {
                "type": "object",
                "properties": {
                    "category": {"type": "string", "enum": list(CATEGORIES)},
                    "severity": {"type": "string", "enum": list(SEVERITIES)},
                    "quote": {"type": "string", "maxLength": 200},
                },
                "required": ["category", "severity", "quote"],
                "additionalProperties": False,
            },
        },
        "verdict": {"type": "string", "enum": list(VERDICTS)},
    },
    "required": ["flags", "verdict"],
    "additionalProperties": False,
}


class _NaiveFlag(BaseModel):
    category: str
    severity: str
    quote: str


class _NaiveAnswer(BaseModel):
    flags: list[_NaiveFlag]
    verdict: str


def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


def _find_quote(transcript: Transcript, quote: str) -> Evidence | None:
    q = _norm(quote)
    if len(q) < 8:
        return None
    for turn in transcript.turns:
        for s in turn.sentences:
            ns = _norm(s.text)
            if q in ns or (len(ns) >= 12 and ns in q):
                return Evidence.of(turn, s)
    return None


async def extract_naive(
    transcript: Transcript, chat: ChatModel, prompts: Prompts, *, max_chars: int = 24_000
) -> tuple[Findings, Verdict]:
    """Run the naive baseline; returns grounded findings and the model's own verdict."""
    # The whole call in one prompt; cut very long calls so the prompt fits the local context window.
    text = transcript.text()[:max_chars]
    messages = [{"role": "user", "content": prompts.naive.format(transcript=text)}]
    result = await chat.complete(messages, max_tokens=400, schema=NAIVE_SCHEMA, schema_name="naive")
    usage = Usage(
        calls=1,
        cache_hits=int(result.from_cache),
        prompt_tokens=0 if result.from_cache else result.prompt_tokens,
        completion_tokens=0 if result.from_cache else result.completion_tokens,
        transcript_tokens=count_tokens(transcript.text()),
    )
    try:
        answer = _NaiveAnswer.model_validate(json.loads(result.text))
    except (json.JSONDecodeError, ValidationError) as exc:
        raise ExtractionError(
            f"the naive baseline's output is unusable: {str(exc).splitlines()[0]}", chunk_id=0
        ) from None
    stats = GroundingStats()
    flags: dict[str, Flag] = {}
    for f in answer.flags:
        if f.category not in CATEGORIES or f.severity not in SEVERITIES:
            continue
        stats.cited += 1
        ev = _find_quote(transcript, f.quote)
        if ev is None:
            stats.dropped_unknown_id += 1
            continue
        stats.kept += 1
        if f.category in flags:
            flags[f.category].evidence.append(ev)
        else:
            flags[f.category] = Flag(category=f.category, severity=f.severity, evidence=[ev])
    verdict: Verdict = answer.verdict if answer.verdict in VERDICTS else "qualify_further"
    findings = Findings(
        flags=list(flags.values()),
        grounding=stats,
        usage=usage,
        chunks_total=1,
        backend="naive",
        model=chat.model,
        prompt_version=prompts.full_version,
    )
    return findings, verdict
