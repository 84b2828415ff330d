"""Per-chunk extraction: every category and signal is one "which sentence shows it, or 0?" question.

Why this shape (DESIGN.md, Extract): a 1.5B model asked to fill a form of every category lists nearly
all of them, and measured on the core suite, yes/no questions scored by P(Yes) barely separated calls
with a flag from calls without (scores within a few hundredths). Asking the model to *point* at the
sentence instead, answering "0" when none shows it, separates them better and yields the evidence in
the same call. The score is 1 - P(first token is "0") among digit tokens, compared with a threshold
tuned on the eval suite; the pointed number is the cited sentence. The chunk comes first and the
question last, so every question after the first reuses the server's cached prefix. Red flags that
pass are asked once more, for severity and a short reason, as JSON constrained by a schema.
"""

from __future__ import annotations

import asyncio
import json
import math
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError

from analyzer._errors import ExtractionError
from analyzer.chunking import Chunk
from analyzer.extraction.backends.chat import ChatModel, ChatResult, Message
from analyzer.extraction.prompts import Prompts, Question
from analyzer.taxonomy import CATEGORIES, SEVERITIES, SIGNALS, Category, Severity, Signal
from analyzer.tokens import count_tokens
from analyzer.transcript.model import Transcript


@dataclass
class RenderedChunk:
    """A chunk as the model sees it, with the map from the numbers it shows back to sentence ids."""

    chunk: Chunk
    text: str
    numbers: dict[int, str]  # shown number -> sentence id


def render_chunk(transcript: Transcript, chunk: Chunk) -> RenderedChunk:
    """``Speaker (role): [n] sentence [n] sentence`` lines, numbering sentences from 1 in each chunk.

    Short per-chunk numbers cost fewer tokens than the stable ids and are mapped back exactly.
    """
    turns = {t.id: t for t in transcript.turns}
    sentences = {s.id: s.text for t in transcript.turns for s in t.sentences}
    lines: list[str] = []
    numbers: dict[int, str] = {}
    n = 0
    for part in chunk.parts:
        turn = turns[part.turn_id]
        pieces = []
        for sid in part.sentence_ids:
            n += 1
            numbers[n] = sid
            pieces.append(f"[{n}] {sentences[sid]}")
        lines.append(f"{turn.speaker} ({turn.role}): {' '.join(pieces)}")
    return RenderedChunk(chunk=chunk, text="\n".join(lines), numbers=numbers)


class SeverityAnswer(BaseModel):
    """How serious a red flag is, as the model judged it."""

    severity: Severity
    reason: str


SEVERITY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "severity": {
            "type": "string",
            "enum": list(SEVERITIES),
            "description": "low: worth noting; medium: must be resolved to proceed; high: rules the deal out.",
        },
        "reason": {"type": "string", "description": "Why, in at most 12 words.", "maxLength": 100},
    },
    "required": ["severity", "reason"],
    "additionalProperties": False,
}
"""Flat (no $ref/anyOf): small models and llama.cpp grammars handle it."""


@dataclass
class RawFinding:
    """One passing question in one chunk, with ids already mapped back to sentence ids."""

    name: str
    kind: str  # "flag" or "signal"
    score: float
    sentence_ids: list[str]
    cited: int
    unknown_ids: int
    severity: Severity | None = None
    reason: str = ""


@dataclass
class ChunkResult:
    """What one chunk yielded, plus its cost."""

    chunk_index: int
    findings: list[RawFinding] = field(default_factory=list)
    scores: dict[str, float] = field(default_factory=dict)
    cue_hits: set[str] = field(default_factory=set)
    prompt_tokens: int = 0
    cached_tokens: int = 0
    completion_tokens: int = 0
    calls: int = 0
    cache_hits: int = 0
    seconds: float = 0.0


class ChunkExtractor:
    """Runs every question over one chunk."""

    def __init__(
        self,
        chat: ChatModel,
        prompts: Prompts,
        *,
        max_reasks: int,
        context: str = "",
        cues: dict[str, list[str]] | None = None,
    ) -> None:
        self.chat = chat
        self.prompts = prompts
        self.max_reasks = max_reasks
        # Extra lines (e.g. the ideal-customer profile) placed after the transcript, before the question.
        self.context = context
        # Sentence ids where the deterministic cue lexicon matched, per category/signal: the question
        # then points the model at them, and a cue-backed question has its own threshold.
        self.cues = cues or {}

    def _focus(self, rendered: RenderedChunk, name: str) -> list[int]:
        wanted = set(self.cues.get(name, ()))
        return [n for n, sid in rendered.numbers.items() if sid in wanted][:4]

    def _messages(
        self, template: str, rendered: RenderedChunk, question: str, focus: list[int], **extra: str
    ) -> list[Message]:
        hint = ""
        if focus:
            hint = self.prompts.focus.format(sentences=", ".join(f"[{n}]" for n in focus))
        user = template.format(transcript=rendered.text, question=question, context=self.context, focus=hint, **extra)
        return [{"role": "system", "content": self.prompts.system}, {"role": "user", "content": user}]

    def _account(self, out: ChunkResult, result: ChatResult, messages: Sequence[Message], prefix_tokens: int) -> None:
        out.calls += 1
        if result.from_cache:
            out.cache_hits += 1
            return
        out.prompt_tokens += result.prompt_tokens
        out.completion_tokens += result.completion_tokens
        if result.cached_tokens:
            out.cached_tokens += result.cached_tokens
        elif self.chat.sequential and prefix_tokens:
            # llama.cpp reports no cache figure: after the first question of a chunk the server reuses the
            # shared prefix (instructions + chunk), so everything but the question suffix was cached.
            out.cached_tokens += min(prefix_tokens, result.prompt_tokens)

    async def run(self, rendered: RenderedChunk) -> ChunkResult:
        """Ask every question over the chunk; raise ExtractionError if evidence stays unusable."""
        lock: asyncio.Lock | None = getattr(self.chat, "chunk_lock", None)
        if lock is None:
            return await self._run(rendered)
        async with lock:
            return await self._run(rendered)

    async def _run(self, rendered: RenderedChunk) -> ChunkResult:
        started = time.perf_counter()
        out = ChunkResult(chunk_index=rendered.chunk.index)
        m = self.prompts.manifest
        qs = self.prompts.questions
        questions: list[tuple[str, str, Question]] = [("flag", c, qs[c]) for c in CATEGORIES]
        questions += [("signal", s, qs[s]) for s in SIGNALS]
        prefix_tokens = count_tokens(self.prompts.system) + count_tokens(rendered.text)

        async def score(i: int, kind: str, name: str, q: Question) -> tuple[str, str, Question, float, str]:
            focus = self._focus(rendered, name)
            if focus:
                out.cue_hits.add(name)
            messages = self._messages(self.prompts.question, rendered, q.question, focus)
            result = await self.chat.complete(messages, max_tokens=4, top_logprobs=m.top_logprobs)
            self._account(out, result, messages, prefix_tokens if i > 0 else 0)
            return kind, name, q, pointing_score(result), result.text

        if self.chat.sequential:
            scored = [await score(i, *q) for i, q in enumerate(questions)]
        else:
            scored = list(await asyncio.gather(*(score(i, *q) for i, q in enumerate(questions))))

        for kind, name, q, p, answer in scored:
            out.scores[name] = p
            threshold = q.cue_threshold if name in out.cue_hits else q.threshold
            if p < threshold:
                continue
            number = pointed_number(answer)
            if number == 0:
                continue  # the greedy answer is "none": nothing to cite, so no finding
            known = number in rendered.numbers
            finding = RawFinding(
                name=name,
                kind=kind,
                score=p,
                sentence_ids=[rendered.numbers[number]] if known else [],
                cited=1,
                unknown_ids=0 if known else 1,
            )
            if kind == "flag" and known:
                await self._severity(out, rendered, finding, q, number, prefix_tokens)
            out.findings.append(finding)
        out.seconds = time.perf_counter() - started
        return out

    async def _severity(
        self, out: ChunkResult, rendered: RenderedChunk, finding: RawFinding, q: Question, number: int, prefix: int
    ) -> None:
        """Ask how serious a red flag is (JSON: severity and a short reason), re-asking on bad output."""
        schema = SEVERITY_SCHEMA
        messages = self._messages(
            self.prompts.evidence, rendered, q.question, [], number=str(number), severity_help=self.prompts.severity
        )
        last_error = ""
        for _attempt in range(self.max_reasks + 1):
            result = await self.chat.complete(messages, max_tokens=40, schema=schema, schema_name=finding.name)
            self._account(out, result, messages, prefix)
            try:
                answer = SeverityAnswer.model_validate(json.loads(result.text))
            except (json.JSONDecodeError, ValidationError) as exc:
                last_error = _describe(exc)
                # An unusable answer must not be replayed from the response cache on the next run.
                forget = getattr(self.chat, "forget", None)
                if forget is not None:
                    forget(messages, 40, 0, schema)
                # Re-ask with the validation error: the model sees what was wrong with its own answer.
                messages = [
                    *messages,
                    {"role": "assistant", "content": result.text[:400]},
                    {
                        "role": "user",
                        "content": f"That reply is invalid ({last_error}). Reply with the JSON object only.",
                    },
                ]
                continue
            finding.severity = answer.severity
            finding.reason = " ".join(answer.reason.split())[:160]
            return
        raise ExtractionError(
            f"the model's severity for {finding.name} stayed invalid after {self.max_reasks} re-asks: {last_error}",
            chunk_id=rendered.chunk.index,
        )


_DIGITS = re.compile(r"\d+")


def pointing_score(result: ChatResult) -> float:
    """1 - P("0") among the first token's digit alternatives: how sure the model is that some sentence
    shows it. Non-digit alternatives (a space, a bracket) are not an opinion and are left out."""
    zero = other = 0.0
    for token, logprob in result.top_logprobs:
        t = token.strip().lstrip("[")
        if not t or not t[0].isdigit():
            continue
        if t.startswith("0"):
            zero += math.exp(logprob)
        else:
            other += math.exp(logprob)
    if zero + other == 0.0:
        return 0.0 if pointed_number(result.text) == 0 else 1.0
    return other / (zero + other)


def pointed_number(text: str) -> int:
    """The sentence number in an answer like "12", "[12]" or "12."; 0 (none) when there is none."""
    m = _DIGITS.search(text)
    return int(m.group()) if m else 0


def _describe(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        e = exc.errors()[0]
        return f"{'.'.join(str(x) for x in e['loc']) or 'value'}: {e['msg']}"
    return f"not JSON: {exc}"


def as_category(name: str) -> Category:
    """Narrow a question name to a Category (names come from the validated manifest)."""
    assert name in CATEGORIES
    return name


def as_signal(name: str) -> Signal:
    """Narrow a question name to a Signal."""
    assert name in SIGNALS
    return name
