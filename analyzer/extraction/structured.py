"""The ``structured`` strategy: one structured-output call per chunk answers every category and signal.

For capable models (a hosted GPT-4o-class or Claude model) and for endpoints that return no
log-probabilities, where the ``questions`` strategies cannot score a yes/no answer. Each chunk is rendered
as for the ``chunks`` strategy (numbered sentences); the model fills one object, per red-flag category
``present`` / ``sentences`` / ``severity`` / ``reason`` and per signal ``present`` / ``sentences``, whose
sentence numbers may only be numbers the prompt showed (an ``enum`` in the schema; numbers a provider lets
through anyway are dropped and counted by grounding). The answer then takes the same path as every
strategy's: grounding with the seller-speech rule, merging across chunks, the rules, the report.

Severity comes from the model only; the cue lexicon plays no part here. The schema is built from pydantic
models whose field descriptions the model reads (OpenAI's ``json_schema``, Anthropic's tool input schema);
the category definitions are also in the prompt, for models that decode under a grammar and never see
the descriptions (the embedded one).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

from analyzer._errors import ExtractionError
from analyzer.chunking import Chunk, plan_chunks
from analyzer.extraction.backends.chat import ChatModel, Message
from analyzer.extraction.extractor import RawFinding, RenderedChunk, describe_error, render_chunk
from analyzer.extraction.findings import Findings, Usage
from analyzer.extraction.grounding import ground_chunks
from analyzer.extraction.merge import merge_flags, merge_signals
from analyzer.extraction.prompts import Prompts
from analyzer.taxonomy import CATEGORIES, SIGNALS, Severity
from analyzer.tokens import count_tokens
from analyzer.transcript.model import Transcript

progress = logging.getLogger("walkaway.progress")

MAX_TOKENS = 1200
"""Room for 13 filled items with short reasons; a cut-off answer is invalid JSON and is re-asked."""


class FlagAnswer(BaseModel):
    """The model's answer for one red-flag category."""

    model_config = ConfigDict(extra="forbid")
    present: bool = Field(description="True only when the transcript clearly shows this red flag.")
    sentences: list[int] = Field(
        description="Numbers of the 1 to 3 sentences that show it best, the prospect's words where possible; "
        "empty when absent."
    )
    severity: Severity = Field(
        description="low: worth noting; medium: must be resolved before the deal can go on; high: rules the "
        "deal out on its own."
    )
    reason: str = Field(description="Why, in at most 12 words; empty when absent.")


class SignalAnswer(BaseModel):
    """The model's answer for one qualification signal."""

    model_config = ConfigDict(extra="forbid")
    present: bool = Field(description="True only when the transcript clearly shows this signal.")
    sentences: list[int] = Field(description="Numbers of the 1 to 3 sentences that show it best; empty when absent.")


def answer_model(prompts: Prompts) -> type[BaseModel]:
    """One field per category and signal, each described by its question from the manifest."""
    fields: dict[str, Any] = {}
    for c in CATEGORIES:
        fields[c] = (FlagAnswer, Field(description=f"Red flag: {prompts.manifest.categories[c]}"))
    for s in SIGNALS:
        fields[s] = (SignalAnswer, Field(description=f"Signal: {prompts.manifest.signals[s]}"))
    return create_model("StructuredAnswer", __config__=ConfigDict(extra="forbid"), **fields)


def answer_schema(model: type[BaseModel], numbers: Sequence[int]) -> dict[str, Any]:
    """The model's JSON schema, flattened (no $ref: llama.cpp grammars and strict modes take it as is),
    with every object closed and every ``sentences`` item limited to the numbers the prompt showed."""
    raw = model.model_json_schema()
    defs = raw.pop("$defs", {})

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            if "$ref" in node:
                target = dict(defs[node["$ref"].rsplit("/", 1)[-1]])
                target.update({k: v for k, v in node.items() if k != "$ref"})
                node = target
            out = {k: walk(v) for k, v in node.items() if k != "title"}
            if out.get("type") == "object":
                out["additionalProperties"] = False
                out["required"] = list(out.get("properties", {}))
            return out
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    schema: dict[str, Any] = walk(raw)
    for prop in schema["properties"].values():
        # Limits for the decoder only (a grammar stops a small model rambling); the answer is not rejected
        # for a fourth sentence or a long reason, which are cut instead.
        sentences = prop["properties"]["sentences"]
        sentences["items"] = {"type": "integer", "enum": list(numbers)}
        sentences["maxItems"] = 3
        if "reason" in prop["properties"]:
            prop["properties"]["reason"]["maxLength"] = 100
    return schema


def _items(prompts: Prompts) -> str:
    lines = [f"- {c} (red flag): {prompts.manifest.categories[c]}" for c in CATEGORIES]
    lines += [f"- {s} (signal): {prompts.manifest.signals[s]}" for s in SIGNALS]
    return "\n".join(lines)


class StructuredExtractor:
    """One structured call per chunk, re-asked with the validation error when the answer is unusable."""

    def __init__(self, chat: ChatModel, prompts: Prompts, *, max_reasks: int, context: str = "") -> None:
        self.chat = chat
        self.prompts = prompts
        self.max_reasks = max_reasks
        self.context = context
        self.model = answer_model(prompts)
        self.items = _items(prompts)

    def messages(self, rendered: RenderedChunk) -> list[Message]:
        """The request for one chunk."""
        user = self.prompts.structured.format(transcript=rendered.text, context=self.context, items=self.items)
        return [{"role": "system", "content": self.prompts.system}, {"role": "user", "content": user}]

    async def run(self, rendered: RenderedChunk, usage: Usage) -> tuple[list[RawFinding], dict[str, float]]:
        """The chunk's findings and a 0/1 score per name; ExtractionError when the answer stays invalid."""
        lock: asyncio.Lock | None = getattr(self.chat, "chunk_lock", None)
        if lock is None:
            return await self._run(rendered, usage)
        async with lock:
            return await self._run(rendered, usage)

    async def _run(self, rendered: RenderedChunk, usage: Usage) -> tuple[list[RawFinding], dict[str, float]]:
        schema = answer_schema(self.model, sorted(rendered.numbers))
        messages = self.messages(rendered)
        last_error = ""
        for _attempt in range(self.max_reasks + 1):
            result = await self.chat.complete(messages, max_tokens=MAX_TOKENS, schema=schema, schema_name="call_review")
            usage.calls += 1
            if result.from_cache:
                usage.cache_hits += 1
            else:
                usage.prompt_tokens += result.prompt_tokens
                usage.cached_prompt_tokens += result.cached_tokens
                usage.completion_tokens += result.completion_tokens
            try:
                answer = self.model.model_validate(json.loads(result.text))
            except (json.JSONDecodeError, ValidationError) as exc:
                last_error = describe_error(exc)
                forget = getattr(self.chat, "forget", None)
                if forget is not None:
                    forget(messages, MAX_TOKENS, 0, schema)
                messages = [
                    *messages,
                    {"role": "assistant", "content": result.text[:600]},
                    {
                        "role": "user",
                        "content": f"That reply is invalid ({last_error}). Reply with the JSON object only.",
                    },
                ]
                continue
            return self._findings(rendered, answer)
        raise ExtractionError(
            f"the model's structured answer stayed invalid after {self.max_reasks} re-asks: {last_error}",
            chunk_id=rendered.chunk.index,
        )

    def _findings(self, rendered: RenderedChunk, answer: BaseModel) -> tuple[list[RawFinding], dict[str, float]]:
        findings: list[RawFinding] = []
        scores: dict[str, float] = {}
        for name in (*CATEGORIES, *SIGNALS):
            item = getattr(answer, name)
            scores[name] = 1.0 if item.present else 0.0
            if not item.present:
                continue
            ids = list(dict.fromkeys(item.sentences))[:3]
            mapped = [rendered.numbers[i] for i in ids if i in rendered.numbers]
            finding = RawFinding(
                name=name,
                kind="flag" if name in CATEGORIES else "signal",
                score=1.0,
                sentence_ids=mapped,
                cited=len(ids),
                unknown_ids=len(ids) - len(mapped),
            )
            if isinstance(item, FlagAnswer):
                finding.severity = item.severity
                finding.reason = " ".join(item.reason.split())[:160]
            findings.append(finding)
        return findings, scores


async def extract_structured(
    transcript: Transcript,
    chat: ChatModel,
    *,
    prompts: Prompts,
    budget_tokens: int,
    overlap_tokens: int,
    max_reasks: int,
    icp_text: str = "",
    model_view: Transcript | None = None,
) -> Findings:
    """Chunk, ask once per chunk, ground and merge. A failing chunk is recorded, not fatal, unless all fail."""
    view = model_view if model_view is not None else transcript
    chunks = plan_chunks(transcript, budget_tokens=budget_tokens, overlap_tokens=overlap_tokens)
    context = f"The seller's ideal customer: {icp_text}\n" if icp_text else ""
    extractor = StructuredExtractor(chat, prompts, max_reasks=max_reasks, context=context)
    usage = Usage(transcript_tokens=count_tokens(transcript.text()))
    started = time.perf_counter()

    async def step(chunk: Chunk) -> tuple[list[RawFinding], dict[str, float]]:
        found = await extractor.run(render_chunk(view, chunk), usage)
        progress.info("chunk %d of %d: structured answer", chunk.index + 1, len(chunks))
        return found

    got = await ground_chunks(transcript, chunks, step)
    usage.seconds = time.perf_counter() - started
    return Findings(
        strategy="structured",
        flags=merge_flags(got.flags),
        signals=merge_signals(got.signals),
        grounding=got.stats,
        usage=usage,
        chunks_total=len(chunks),
        chunk_failures=got.failures,
        backend=chat.backend,
        model=chat.model,
        prompt_version=prompts.full_version,
        scores=got.scores,
    )
