"""The per-call behaviours the account patterns need (analyzer/accounts/), asked of the model or matched
by the cue lexicon. Asked only when an analysis is for an account (``analyze_async(behaviours=True)``).

The model path asks each behaviour of ``prompts/account.yaml`` as a yes/no question over each chunk of the
call (chunk first, question last: later questions reuse the cached prefix), scores it relative to the
mean over the behaviour questions of that chunk, and asks for the evidence sentence only where the best
chunk reaches the threshold. The ``keywords`` baseline matches ``account_cues.yaml`` in prospect sentences.
"""

from __future__ import annotations

import asyncio
import json
import re
from functools import lru_cache
from pathlib import Path

import yaml
from pydantic import BaseModel, Field, ValidationError

from analyzer._errors import ConfigError
from analyzer.chunking import plan_chunks
from analyzer.extraction.backends.chat import ChatModel, Message, yes_score
from analyzer.extraction.extractor import evidence_schema, render_chunk
from analyzer.extraction.findings import BehaviourHit, Evidence
from analyzer.extraction.prompts import Prompts, prompts_dir
from analyzer.transcript.model import Transcript

CUES_PATH = Path(__file__).with_name("behaviour_cues.yaml")


class AccountSpec(BaseModel):
    """``prompts/account.yaml``."""

    version: str
    threshold: float = Field(default=0.6, ge=0.0, le=1.0)
    behaviours: dict[str, str]


@lru_cache(maxsize=4)
def _spec(path: Path) -> AccountSpec:
    try:
        return AccountSpec.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the account questions ({exc.strerror})") from None
    except (yaml.YAMLError, ValidationError) as exc:
        raise ConfigError(f"{path}: {str(exc).splitlines()[0]}") from None


def load_account_spec() -> AccountSpec:
    """The account behaviour questions shipped with the prompts."""
    return _spec((prompts_dir() / "account.yaml").resolve())


@lru_cache(maxsize=1)
def _cues() -> dict[str, list[re.Pattern[str]]]:
    data = yaml.safe_load(CUES_PATH.read_text(encoding="utf-8"))
    return {name: [re.compile(p, re.IGNORECASE) for p in patterns] for name, patterns in data.items()}


def keyword_behaviours(transcript: Transcript) -> list[BehaviourHit]:
    """Behaviours whose cue phrase a prospect-side sentence contains (the ``keywords`` baseline)."""
    hits: dict[str, BehaviourHit] = {}
    for turn in transcript.turns:
        if turn.role == "seller":
            continue
        for sentence in turn.sentences:
            for name, patterns in _cues().items():
                if any(p.search(sentence.text) for p in patterns):
                    hit = hits.setdefault(name, BehaviourHit(behaviour=name))
                    if len(hit.evidence) < 3:
                        hit.evidence.append(Evidence.of(turn, sentence))
    return list(hits.values())


async def model_behaviours(
    transcript: Transcript,
    chat: ChatModel,
    prompts: Prompts,
    *,
    budget_tokens: int,
    overlap_tokens: int,
    spec: AccountSpec | None = None,
    model_view: Transcript | None = None,
) -> list[BehaviourHit]:
    """Ask every behaviour of every chunk; evidence for those whose best chunk passes. ``model_view`` is what
    the model is shown (a redacted copy with the same sentence ids); quotes come from ``transcript``."""
    spec = spec or load_account_spec()
    index = transcript.sentence_index()
    best: dict[str, tuple[float, int]] = {}
    view = model_view if model_view is not None else transcript
    chunks = plan_chunks(transcript, budget_tokens=budget_tokens, overlap_tokens=overlap_tokens)
    rendered = [render_chunk(view, c) for c in chunks]

    def messages(template: str, text: str, question: str) -> list[Message]:
        user = template.format(transcript=text, question=question, context="", focus="", severity_help="")
        return [{"role": "system", "content": prompts.system}, {"role": "user", "content": user}]

    lock: asyncio.Lock | None = getattr(chat, "chunk_lock", None)
    for i, chunk in enumerate(rendered):
        raw: dict[str, float] = {}
        if lock is not None:
            await lock.acquire()
        try:
            for name, question in spec.behaviours.items():
                result = await chat.complete(
                    messages(prompts.question, chunk.text, question),
                    max_tokens=1,
                    top_logprobs=prompts.manifest.top_logprobs,
                )
                raw[name] = yes_score(result, name)
        finally:
            if lock is not None:
                lock.release()
        # Relative to this chunk's mean over the behaviour questions: a small model leans Yes to some chunks.
        bias = sum(raw.values()) / len(raw) if raw else 0.5
        for name, p in raw.items():
            score = min(1.0, max(0.0, p - bias + 0.5))
            if score > best.get(name, (-1.0, 0))[0]:
                best[name] = (score, i)
    hits: list[BehaviourHit] = []
    for name, (score, i) in best.items():
        if score < spec.threshold:
            continue
        chunk = rendered[i]
        schema = evidence_schema(sorted(chunk.numbers), with_severity=False)
        result = await chat.complete(
            messages(prompts.evidence, chunk.text, spec.behaviours[name]),
            max_tokens=24,
            schema=schema,
            schema_name=name,
        )
        evidence: list[Evidence] = []
        try:
            ids = [int(x) for x in json.loads(result.text).get("ids", [])]
        except (ValueError, TypeError, AttributeError):
            ids = []
        for n in ids:
            sid = chunk.numbers.get(n)
            if sid is not None and sid in index:
                turn, sentence = index[sid]
                if turn.role != "seller":  # the seller's words are not the prospect's behaviour
                    evidence.append(Evidence.of(turn, sentence))
        if evidence:
            hits.append(BehaviourHit(behaviour=name, score=round(score, 4), evidence=evidence))
    return hits
