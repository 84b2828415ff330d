"""Per-chunk extraction: yes/no questions scored by log-probability, evidence asked only where they pass.

Why this shape (DESIGN.md, Extract): a 1.5B model asked to fill a form of every category lists nearly
all of them. Instead each category and signal is one yes/no question whose answer is scored by
P(Yes) / (P(Yes) + P(No)) of the first answer token, compared with a threshold tuned on the eval suite.
The chunk comes first and the question last, so every question after the first reuses the server's
cached prefix. Only questions that pass are asked for evidence, as sentence numbers constrained by the
JSON schema to numbers the prompt showed, plus a severity for red flags. The answer ends after the
severity: a free-text reason cost ~15 generated tokens (~1 s here) per flag and decided nothing (the quote
is the reason). The prompt still asks for one, so that the ids and severity the model chooses stay the
ones it chose before the schema dropped the field (the same prompt, and the grammar allows the same tokens
up to the end of the severity).

Measured alternative, dropped (issue 14): the evidence of every passing question of a chunk in one call. On
the 30 development calls scored both ways (`evals/runs/dev-chunks/`) it ran into the token cap in 8 calls
and rated 14 of 20 shared flags one severity lower (severity accuracy 0.667 -> 0.250, verdict accuracy
0.367 -> 0.300): a 1.5B model filling one entry per question answers "low" by default.

Measured alternative, dropped: asking "which sentence number shows <clause>, or 0" and scoring
1 - P("0"). On the first 12 core calls its scores put a call with the flag above a call without it in
49% of pairs for red flags (mean per-category AUC 0.49; signals 0.69), against 0.81 (signals 0.87) for
these yes/no questions with cue focus on 11 of the same calls: the model points at *something* for
almost every question.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError

from analyzer._errors import ExtractionError
from analyzer.chunking import Chunk
from analyzer.extraction.backends.chat import ChatModel, ChatResult, Message, yes_score
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


class EvidenceAnswer(BaseModel):
    """The model's evidence for a red flag that passed its yes/no question."""

    ids: list[int]
    severity: Severity


class SignalEvidenceAnswer(BaseModel):
    """The model's evidence for a positive signal."""

    ids: list[int]


def evidence_schema(numbers: Sequence[int], *, with_severity: bool) -> dict[str, Any]:
    """A flat JSON schema (no $ref/anyOf: small models and llama.cpp grammars handle it) whose ``ids``
    may only be sentence numbers the prompt showed."""
    props: dict[str, Any] = {
        "ids": {
            "type": "array",
            "description": "Numbers of the 1 to 3 sentences that show it.",
            "items": {"type": "integer", "enum": list(numbers)},
            "minItems": 1,
            "maxItems": 3,
        }
    }
    if with_severity:
        props["severity"] = {
            "type": "string",
            "enum": list(SEVERITIES),
            "description": "low: worth noting; medium: must be resolved to proceed; high: rules the deal out.",
        }
    return {
        "type": "object",
        "properties": props,
        "required": list(props),
        "additionalProperties": False,
    }


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
    label: str = ""  # the behaviour that scored, in the report's words ("" when the question itself scored)


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
        q = self.prompts.questions.get(name)
        if q is not None and not q.focus:
            return []
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
            # A server that reports no cache figure (llama.cpp's) still reuses the shared prefix (instructions +
            # chunk) after the first question of a chunk, so everything but the question suffix was cached.
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
        # One request per behaviour of a question (a question without behaviours is one request). A question
        # asked as behaviours is still asked once as itself, only for the calibration mean below: that mean
        # stays over the same 13 questions, so a narrow behaviour does not move every other calibrated score
        # (measured on the dev calls: letting it stand in for the question in the mean lost 4 of 12 ethics calls).
        asks: list[tuple[str, str, Question, str, str | None]] = []  # (kind, name, question, text, behaviour)
        for kind, name, q in questions:
            if q.behaviours:
                asks.append((kind, name, q, q.question, None))  # None: not scored, for the mean only
            asks += [(kind, name, q, text, b) for b, text in q.asked().items()]
        # The shared prefix (instructions + chunk) in the *model's* tokens: the first question's prompt
        # minus its own question part. llama.cpp reuses it for every later question of the chunk.
        prefix = {"tokens": 0}

        async def score(i: int, name: str, text: str) -> float:
            focus = self._focus(rendered, name)
            if focus:
                out.cue_hits.add(name)
            messages = self._messages(self.prompts.question, rendered, text, focus)
            result = await self.chat.complete(messages, max_tokens=1, top_logprobs=m.top_logprobs)
            if i == 0 and not result.from_cache:
                suffix = messages[-1]["content"].rsplit("</transcript>", 1)[-1]
                prefix["tokens"] = max(0, result.prompt_tokens - count_tokens(suffix) - _TEMPLATE_TAIL_TOKENS)
            self._account(out, result, messages, prefix["tokens"] if i > 0 else 0)
            return yes_score(result, name)

        if self.chat.sequential:
            raw = [await score(i, name, text) for i, (_, name, _, text, _) in enumerate(asks)]
        else:
            # The first question alone, then the rest at once: an endpoint without log-probabilities is found
            # out after one request instead of a chunk's worth, and the shared prefix is cached by then.
            raw = [await score(0, asks[0][1], asks[0][3])]
            raw += await asyncio.gather(
                *(score(i, name, text) for i, (_, name, _, text, _) in enumerate(asks) if i > 0)
            )

        # Contextual calibration: on some chunks a small model leans Yes (or No) to every question. A
        # calibrated question is scored by how far its P(Yes) stands above the chunk's mean P(Yes) over all
        # questions, re-centred on 0.5. Measured on the 44 core calls (evals/README.md): it separates calls
        # with a red flag from calls without it better than the raw P(Yes) (mean AUC 0.83 vs 0.71), and
        # prospect_declined too (0.83 vs 0.65); positive signals separate better raw, so they stay raw.
        # Below the floor the model said a clear No: relative scoring must not lift that over a threshold
        # on a chunk where it says No to everything (a confident model does). The mean is over the questions
        # themselves, never their behaviours (see above).
        own = [p for (_, _, q, _, b), p in zip(asks, raw, strict=True) if b is None or not q.behaviours]
        bias = sum(own) / len(own) if own else 0.5
        floor = self.prompts.calibration_floor
        best: dict[str, tuple[float, str, str]] = {}
        for (_, name, q, text, b), p in zip(asks, raw, strict=True):
            if b is None:
                continue
            value = min(1.0, max(0.0, p - bias + 0.5)) if q.calibrated and p >= floor else p
            if name not in best or value > best[name][0]:
                best[name] = (value, text, b)
        for kind, name, q in questions:
            p, text, b = best[name]
            out.scores[name] = p
            threshold = q.cue_threshold if name in out.cue_hits else q.threshold
            if p < threshold:
                continue
            # The evidence is asked with the behaviour that scored: it names what to look for.
            finding = await self._evidence(out, rendered, kind, name, p, prefix["tokens"], text)
            finding.label = q.label(b)
            out.findings.append(finding)
        out.seconds = time.perf_counter() - started
        return out

    async def _evidence(
        self,
        out: ChunkResult,
        rendered: RenderedChunk,
        kind: str,
        name: str,
        p: float,
        prefix: int,
        text: str,
    ) -> RawFinding:
        is_flag = kind == "flag"
        schema = evidence_schema(sorted(rendered.numbers), with_severity=is_flag)
        messages = self._messages(
            self.prompts.evidence,
            rendered,
            text,
            self._focus(rendered, name),
            severity_help=self.prompts.severity if is_flag else "",
        )
        last_error = ""
        for _attempt in range(self.max_reasks + 1):
            result = await self.chat.complete(
                messages, max_tokens=60 if is_flag else 24, schema=schema, schema_name=name
            )
            self._account(out, result, messages, prefix)
            try:
                data = json.loads(result.text)
                answer: EvidenceAnswer | SignalEvidenceAnswer = (
                    EvidenceAnswer.model_validate(data) if is_flag else SignalEvidenceAnswer.model_validate(data)
                )
            except (json.JSONDecodeError, ValidationError) as exc:
                last_error = describe_error(exc)
                # An unusable answer must not be replayed from the response cache on the next run.
                forget = getattr(self.chat, "forget", None)
                if forget is not None:
                    forget(messages, 60 if is_flag else 24, 0, schema)
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
            ids = list(dict.fromkeys(answer.ids))
            mapped = [rendered.numbers[i] for i in ids if i in rendered.numbers]
            finding = RawFinding(
                name=name,
                kind=kind,
                score=p,
                sentence_ids=mapped,
                cited=len(ids),
                unknown_ids=len(ids) - len(mapped),
            )
            if isinstance(answer, EvidenceAnswer):
                finding.severity = answer.severity
            return finding
        raise ExtractionError(
            f"the model's evidence for {name} stayed invalid after {self.max_reasks} re-asks: {last_error}",
            chunk_id=rendered.chunk.index,
        )


# Chat-template tokens after the user text (end of turn, assistant header) in ChatML-style templates.
_TEMPLATE_TAIL_TOKENS = 6


def describe_error(exc: Exception) -> str:
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
