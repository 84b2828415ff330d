"""The ``windows`` extraction strategy: narrow behaviour questions asked of short windows of the call.

Why (issue 13, evals/README.md): asked one broad question about ~1,800 tokens at once, a 1.5B model
answers from the general tone of the chunk, not from the one sentence that matters. Here each window is
a prospect turn with the end of the seller turn before it (consecutive short turns merged up to
``budget_tokens``), and each red-flag category and signal is a few yes/no questions about one concrete
behaviour the labelling guide names (``prompts/windows.yaml``). The window comes first and the question
last, so on llama.cpp every question after the first reuses the window's cached prefix.

For a category whose best behaviour reaches ``candidate_floor`` in a window, three more one-token
questions are asked on the same cached window: is it a decoy (a joke, someone else's story), is it
serious enough to stop a careful seller on its own (severity), and which numbered prospect sentence
shows it (the evidence is the sentence that scored, not a second guess). The cue lexicon never sets a
flag or a severity here; ``combine.combine`` turns the answers into flags and signals.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import math
import os
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from analyzer._errors import ConfigError
from analyzer.extraction.backends.chat import ChatModel, ChatResult, LogprobsMissing, Message, yes_score
from analyzer.extraction.combine import WindowTuning
from analyzer.extraction.findings import Findings, WindowRecord
from analyzer.taxonomy import CATEGORIES, SIGNALS
from analyzer.tokens import count_tokens
from analyzer.transcript.model import Transcript, Turn


class Behaviour(BaseModel):
    """One concrete behaviour the labelling guide names, asked as one yes/no question."""

    model_config = ConfigDict(extra="forbid")
    id: str = Field(pattern=r"^[a-z_]+$")
    label: str = Field(description="What the prospect did, as the report states it (the flag's reason).")
    question: str = Field(description="The yes/no question asked of each window.")


class WindowSpec(BaseModel):
    """``prompts/windows.yaml`` plus the fitted ``prompts/windows-thresholds.yaml``."""

    model_config = ConfigDict(extra="forbid")
    version: str
    top_logprobs: int = Field(default=10, ge=2, le=20)
    system: str
    flags: dict[str, list[Behaviour]]
    signals: dict[str, list[Behaviour]]
    candidate_floor: float = Field(default=0.5, ge=0.0, le=1.0)
    decoy: str
    severity: str
    locate: str
    tuning: WindowTuning = Field(default_factory=WindowTuning)
    version_id: str = ""

    def questions(self) -> list[tuple[str, Behaviour]]:
        """Every (category or signal, behaviour), in the order asked."""
        return [(n, b) for n, bs in (*self.flags.items(), *self.signals.items()) for b in bs]

    def labels(self) -> dict[str, str]:
        """'name.behaviour' -> label."""
        return {f"{n}.{b.id}": b.label for n, b in self.questions()}


def _prompts_dir() -> Path:
    from analyzer.extraction.prompts import prompts_dir

    return prompts_dir()


@lru_cache(maxsize=8)
def _load(folder: Path) -> WindowSpec:
    path = folder / "windows.yaml"
    tpath = folder / "windows-thresholds.yaml"
    try:
        raw = path.read_text(encoding="utf-8")
        data = yaml.safe_load(raw)
        traw = tpath.read_text(encoding="utf-8") if tpath.is_file() else ""
        if traw:
            data["tuning"] = yaml.safe_load(traw)
        spec = WindowSpec.model_validate(data)
    except OSError as exc:
        raise ConfigError(f"prompt file {path} cannot be read: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {str(exc).splitlines()[0]}") from None
    except (ValidationError, TypeError) as exc:
        if isinstance(exc, ValidationError):
            e = exc.errors()[0]
            where = ".".join(str(p) for p in e["loc"])
            raise ConfigError(f"{path}: {where}: {e['msg']}") from None
        raise ConfigError(f"{path}: expected a mapping") from None
    missing = [c for c in CATEGORIES if c not in spec.flags] + [s for s in SIGNALS if s not in spec.signals]
    unknown = [n for n in (*spec.flags, *spec.signals) if n not in (*CATEGORIES, *SIGNALS)]
    if missing or unknown:
        raise ConfigError(
            f"{path}: "
            + "; ".join(
                p
                for p in (
                    f"no behaviours for {', '.join(missing)}" if missing else "",
                    f"unknown names {', '.join(unknown)}" if unknown else "",
                )
                if p
            )
        )
    spec.version_id = f"{spec.version}-{hashlib.sha256((raw + chr(0) + traw).encode()).hexdigest()[:10]}"
    return spec


def load_window_spec(folder: Path | None = None) -> WindowSpec:
    """Load and validate the windows strategy's questions and cut-offs (cached per folder)."""
    env = os.environ.get("WALKAWAY_PROMPTS_DIR")
    return _load((folder or (Path(env) if env else _prompts_dir())).resolve())


progress = logging.getLogger("walkaway.progress")
"""The same progress logger as the chunks strategy's (``pipeline.progress``)."""


@dataclass
class Window:
    """A short excerpt of the call: prospect turns with the end of the seller turn before each."""

    index: int
    text: str
    numbers: dict[int, str]  # shown number -> sentence id
    prospect: list[int]  # shown numbers of prospect-side sentences
    tokens: int

    @property
    def prospect_ids(self) -> list[str]:
        """Sentence ids of the prospect-side sentences."""
        return [self.numbers[n] for n in self.prospect]


def plan_windows(
    transcript: Transcript, *, budget_tokens: int = 260, lead_sentences: int = 2, min_words: int = 8
) -> list[Window]:
    """Windows over the prospect side's substantive speech (see the module docstring).

    A unit is one non-seller turn (or a run of its sentences when the turn alone exceeds the budget)
    with the last ``lead_sentences`` sentences of the seller turn just before it. Consecutive units are
    merged while they fit ``budget_tokens``; a window is kept when its prospect side says at least
    ``min_words`` words (an "mm-hm" alone is not worth a question).
    """
    Line = tuple[Turn, list[tuple[str, str]], bool]  # turn, [(sentence id, text)], prospect side
    units: list[list[Line]] = []
    prev: Turn | None = None
    for turn in transcript.turns:
        if turn.role == "seller":
            prev = turn
            continue
        lead: list[Line] = []
        if prev is not None and lead_sentences > 0:
            lead = [(prev, [(s.id, s.text) for s in prev.sentences[-lead_sentences:]], False)]
        sents = [(s.id, s.text) for s in turn.sentences]
        # An over-long turn becomes runs of sentences that fit the budget on their own.
        run: list[tuple[str, str]] = []
        run_tokens = 0
        pieces: list[list[tuple[str, str]]] = []
        for sid, text in sents:
            t = count_tokens(text) + 4
            if run and run_tokens + t > budget_tokens - 40:
                pieces.append(run)
                run, run_tokens = [], 0
            run.append((sid, text))
            run_tokens += t
        if run:
            pieces.append(run)
        for i, piece in enumerate(pieces):
            units.append([*(lead if i == 0 else []), (turn, piece, True)])
        prev = None

    def render(lines: list[Line]) -> tuple[str, dict[int, str], list[int]]:
        out: list[str] = []
        numbers: dict[int, str] = {}
        prospect: list[int] = []
        n = 0
        for turn, sents, side in lines:
            parts = []
            for sid, text in sents:
                n += 1
                numbers[n] = sid
                if side:
                    prospect.append(n)
                parts.append(f"[{n}] {text}")
            out.append(f"{turn.speaker} ({turn.role}): {' '.join(parts)}")
        return "\n".join(out), numbers, prospect

    windows: list[Window] = []
    current: list[Line] = []

    def flush() -> None:
        if not current:
            return
        said = sum(len(text.split()) for _, sents, side in current if side for _, text in sents)
        if said >= min_words:
            text, numbers, prospect = render(current)
            windows.append(Window(len(windows), text, numbers, prospect, count_tokens(text)))
        current.clear()

    for unit in units:
        if current and count_tokens(render([*current, *unit])[0]) > budget_tokens:
            flush()
        current.extend(unit)
    flush()
    return windows


@dataclass
class WindowCost:
    """What one window's questions cost."""

    calls: int = 0
    cache_hits: int = 0
    prompt_tokens: int = 0
    cached_tokens: int = 0
    completion_tokens: int = 0


class WindowExtractor:
    """Asks every behaviour question of a window, then decoy, severity and locate for candidates."""

    def __init__(self, chat: ChatModel, spec: WindowSpec, *, context: str = "") -> None:
        self.chat = chat
        self.spec = spec
        # Extra lines (e.g. the ideal-customer profile), placed before the window so they stay in the
        # prefix every window shares.
        self.context = context

    def _messages(self, window: Window, tail: str) -> list[Message]:
        user = f"{self.context}<excerpt>\n{window.text}\n</excerpt>\n{tail}"
        return [{"role": "system", "content": self.spec.system}, {"role": "user", "content": user}]

    async def _ask(self, window: Window, tail: str, cost: WindowCost, first: bool) -> ChatResult:
        messages = self._messages(window, tail)
        result = await self.chat.complete(messages, max_tokens=1, top_logprobs=self.spec.top_logprobs)
        cost.calls += 1
        if result.from_cache:
            cost.cache_hits += 1
            return result
        cost.prompt_tokens += result.prompt_tokens
        cost.completion_tokens += result.completion_tokens
        if result.cached_tokens:
            cost.cached_tokens += result.cached_tokens
        elif self.chat.sequential and not first:
            # llama.cpp reports no cache figure: after the window's first question only the question
            # suffix is new (about its tiktoken length plus the chat template's few tokens).
            cost.cached_tokens += max(0, result.prompt_tokens - count_tokens(tail) - 8)
        return result

    async def run(self, window: Window, cue_hits: set[str] | None = None) -> tuple[WindowRecord, WindowCost]:
        """Every question about one window (sequentially: they share the window's cached prefix), holding
        the chat model's ``chunk_lock`` when it has one, as ``ChunkExtractor.run`` does."""
        lock: asyncio.Lock | None = getattr(self.chat, "chunk_lock", None)
        if lock is None:
            return await self._run(window, cue_hits)
        async with lock:
            return await self._run(window, cue_hits)

    async def _run(self, window: Window, cue_hits: set[str] | None) -> tuple[WindowRecord, WindowCost]:
        cost = WindowCost()
        record = WindowRecord(index=window.index, sentence_ids=window.prospect_ids, cue_hits=sorted(cue_hits or ()))
        first = True
        hits = set(cue_hits or ())
        for name, b in self.spec.questions():
            if not self.spec.tuning.asks(f"{name}.{b.id}", hits):
                continue  # a lever fitted out-of-fold (evals/dev/levers.py) says this question is not worth asking
            result = await self._ask(window, f"Question: {b.question}\nAnswer Yes or No.", cost, first)
            first = False
            record.scores[f"{name}.{b.id}"] = round(yes_score(result, f"{name}.{b.id}"), 4)
        floor = self.spec.candidate_floor
        labels = self.spec.labels()
        for name in (*self.spec.flags, *self.spec.signals):
            keys = [k for k in record.scores if k.split(".", 1)[0] == name]
            if not keys:
                continue
            top = max(keys, key=lambda k: record.scores[k])
            if record.scores[top] < floor:
                continue
            said = f"A reader thinks the prospect {labels[top]}."
            if name in self.spec.flags:
                result = await self._ask(window, f"{said}\nQuestion: {self.spec.decoy}\nAnswer Yes or No.", cost, first)
                record.decoy[name] = round(yes_score(result, f"{name} decoy"), 4)
                if name != "ethics":  # always high by the labelling guide: no question to ask
                    result = await self._ask(
                        window, f"{said}\nQuestion: {self.spec.severity}\nAnswer Yes or No.", cost, first
                    )
                    record.severity[name] = round(yes_score(result, f"{name} severity"), 4)
            record.located[name] = await self._locate(window, said, cost)
        return record, cost

    async def _locate(self, window: Window, said: str, cost: WindowCost) -> list[str]:
        """The prospect sentence the model points at (and a close second), read from one token."""
        if len(window.prospect) <= 1:
            return window.prospect_ids
        result = await self._ask(window, f"{said}\n{self.spec.locate}", cost, False)
        probs: dict[int, float] = {}
        for token, logprob in result.top_logprobs:
            t = token.strip().strip("[]")
            if t.isdigit() and int(t) in window.prospect:
                probs[int(t)] = probs.get(int(t), 0.0) + math.exp(logprob)
        if not probs:
            t = result.text.strip().strip("[]")
            if t.isdigit() and int(t) in window.prospect:
                probs[int(t)] = 1.0
        if not probs:
            return window.prospect_ids[:1]
        ranked = sorted(probs.items(), key=lambda kv: -kv[1])
        keep = [ranked[0][0]] + [n for n, p in ranked[1:2] if p >= ranked[0][1] / 2]
        return [window.numbers[n] for n in keep]


async def extract_windows(
    transcript: Transcript,
    chat: ChatModel,
    *,
    spec: WindowSpec,
    budget_tokens: int,
    icp_text: str = "",
    model_view: Transcript | None = None,
) -> Findings:
    """The windows strategy end to end: plan, ask, combine. A window whose questions fail is recorded as a
    failure (the report is then incomplete), not fatal, unless every window fails.

    ``model_view`` is what the model is shown (a redacted copy with the same sentence ids); evidence always
    quotes ``transcript``.
    """
    from analyzer._errors import AnalyzerError, BackendError, ExtractionError
    from analyzer.extraction.combine import combine
    from analyzer.extraction.cues import find_cues
    from analyzer.extraction.findings import ChunkFailure, GroundingStats, Usage

    view = model_view if model_view is not None else transcript
    windows = plan_windows(view, budget_tokens=budget_tokens)
    context = f"The seller's ideal customer: {icp_text}\n" if icp_text else ""
    extractor = WindowExtractor(chat, spec, context=context)
    cues = {name: set(ids) for name, ids in find_cues(transcript).items()}
    usage = Usage(transcript_tokens=count_tokens(transcript.text()))
    records: list[WindowRecord] = []
    failures: list[ChunkFailure] = []
    errors: list[AnalyzerError] = []
    started = time.perf_counter()
    for w in windows:
        ids = set(w.prospect_ids)
        try:
            record, cost = await extractor.run(w, {n for n, sids in cues.items() if ids & sids})
        except LogprobsMissing:
            raise  # no window can be scored on this endpoint (the caller falls back)
        except (ExtractionError, BackendError) as exc:
            failures.append(ChunkFailure(chunk_id=w.index, error=exc.detail, backend=isinstance(exc, BackendError)))
            errors.append(exc)
            continue
        records.append(record)
        progress.info("window %d of %d: %d questions answered", w.index + 1, len(windows), cost.calls)
        usage.add(
            Usage(
                calls=cost.calls,
                cache_hits=cost.cache_hits,
                prompt_tokens=cost.prompt_tokens,
                cached_prompt_tokens=cost.cached_tokens,
                completion_tokens=cost.completion_tokens,
            )
        )
    if windows and len(failures) == len(windows):
        raise errors[0]
    usage.seconds = time.perf_counter() - started
    stats = GroundingStats()
    flags, signals, scores = combine(records, spec.tuning, transcript, spec.labels(), stats)
    return Findings(
        flags=flags,
        signals=signals,
        grounding=stats,
        usage=usage,
        chunks_total=len(windows),
        chunk_failures=failures,
        backend=chat.backend,
        model=chat.model,
        prompt_version=spec.version_id,
        scores=scores,
        cue_hits=sorted({n for r in records for n in r.cue_hits}),
        strategy="windows",
        windows=records,
    )
