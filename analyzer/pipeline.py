"""The library entry point shared by the CLI, the batch runner, the eval runner and the service.

parse → chunk → extract (per chunk) → ground → merge → rules → Report
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from analyzer._errors import ConfigError
from analyzer.chunking import Chunk, plan_chunks
from analyzer.coaching import coach
from analyzer.config import Settings, load_settings
from analyzer.extraction.backends.chat import ChatModel, LogprobsMissing
from analyzer.extraction.backends.factory import build_chat, identity
from analyzer.extraction.cache import CACHE_NAMESPACE, CachedChat, ResponseCache
from analyzer.extraction.extractor import ChunkExtractor, RawFinding, render_chunk
from analyzer.extraction.findings import Findings, Usage
from analyzer.extraction.grounding import ground_chunks
from analyzer.extraction.merge import merge_flags, merge_signals
from analyzer.extraction.prompts import Prompts, load_prompts
from analyzer.extraction.redact import redaction_wanted
from analyzer.report.model import Report
from analyzer.tokens import count_tokens
from analyzer.transcript.model import Transcript

if TYPE_CHECKING:
    from analyzer.rules import ICP, Policy

LLM_BACKENDS = ("local", "openai", "fake", "naive")
progress = logging.getLogger("walkaway.progress")
"""Progress of one analysis (loading the model, chunk or window i of n), at INFO: `walkaway analyze` shows it
on a terminal's stderr; library users attach a handler if they want it."""
_caches: dict[Path, ResponseCache] = {}
__all__ = ["analyze", "analyze_async", "build_chat", "extract_findings", "model_chat", "settings_fingerprint"]


def _cache(settings: Settings) -> ResponseCache:
    path = settings.cache_path
    if path not in _caches:
        _caches[path] = ResponseCache(path)
    return _caches[path]


def model_chat(settings: Settings, backend: str, *, chat: ChatModel | None = None, cache: bool = True) -> ChatModel:
    """The chat model an analysis uses: built for the backend (unless given), behind the response cache."""
    if chat is None:
        # Built on the loop thread: the client is cached per running loop and shared by concurrent
        # analyses (the local model itself starts lazily, so this is cheap).
        chat = build_chat(settings, backend)
    if cache:
        # Not keyed on the prompt version: the messages already hold every prompt's text, so a prompt
        # round that edits one question re-asks only that question (see cache.py).
        endpoint = settings.base_url if chat.backend not in ("local", "fake") else None
        chat = CachedChat(chat, _cache(settings), namespace=CACHE_NAMESPACE, endpoint=endpoint)
    return chat


def policy_version(policy_path: Path | None) -> str:
    """Id of the policy in force, for fingerprints."""
    if policy_path is None:
        return "default"
    return hashlib.sha256(policy_path.read_bytes()).hexdigest()[:12]


def settings_fingerprint(settings: Settings, backend: str, policy_path: Path | None = None) -> str:
    """Hash of everything that changes an analysis' result (for resumable batches)."""
    from analyzer.extraction.profiles import choose
    from analyzer.rules import load_policy

    policy = load_policy(policy_path)
    label, model = identity(settings, backend)
    profile, strategy = (
        (None, None)
        if backend == "keywords"
        else choose(settings.profile, settings.strategy, backend=label, model=model, home=settings.home)
    )
    payload = {
        "backend": backend,
        "model": settings.model,
        "base_url": settings.base_url,
        "prompts": load_prompts(profile=profile).full_version,
        "policy": [policy_version(policy_path), getattr(policy, "version", "")],
        "chunk": [settings.chunk_tokens, settings.chunk_overlap_tokens],
        "strategy": [strategy, settings.window_tokens],
        "profile": profile.label if profile is not None else "",
        "redact": redaction_wanted(settings.redact, backend, settings.base_url),
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]


async def extract_findings(
    transcript: Transcript,
    chat: ChatModel,
    *,
    settings: Settings,
    prompts: Prompts,
    icp_text: str = "",
    model_view: Transcript | None = None,
) -> Findings:
    """Chunk, ask, ground and merge. A failing chunk is recorded, not fatal, unless every chunk fails.

    ``model_view`` is what the model is shown (a redacted copy with the same sentence ids); grounding
    always maps the model's citations back to ``transcript``, so reports quote the original text.
    """
    view = model_view if model_view is not None else transcript
    chunks = plan_chunks(transcript, budget_tokens=settings.chunk_tokens, overlap_tokens=settings.chunk_overlap_tokens)
    context = f"The seller's ideal customer: {icp_text}\n" if icp_text else ""
    from analyzer.extraction.cues import find_cues, raise_severity_from_cues, scan_cues

    lexicon_hits = scan_cues(transcript)
    extractor = ChunkExtractor(
        chat, prompts, max_reasks=settings.max_reasks, context=context, cues=find_cues(lexicon_hits)
    )
    usage = Usage(transcript_tokens=count_tokens(transcript.text()))
    cue_hits: set[str] = set()
    started = time.perf_counter()

    async def step(chunk: Chunk) -> tuple[list[RawFinding], dict[str, float]]:
        result = await extractor.run(render_chunk(view, chunk))
        usage.add(
            Usage(
                calls=result.calls,
                cache_hits=result.cache_hits,
                prompt_tokens=result.prompt_tokens,
                cached_prompt_tokens=result.cached_tokens,
                completion_tokens=result.completion_tokens,
            )
        )
        cue_hits.update(result.cue_hits)
        progress.info("chunk %d of %d: %d questions answered", chunk.index + 1, len(chunks), result.calls)
        return result.findings, result.scores

    got = await ground_chunks(transcript, chunks, step)
    usage.seconds = time.perf_counter() - started
    usage.cost_usd = _cost(settings, usage)
    return Findings(
        strategy="chunks",
        # The model finds the flag; a strong cue phrase of the same category sets how serious it is.
        flags=raise_severity_from_cues(merge_flags(got.flags), lexicon_hits),
        signals=merge_signals(got.signals),
        grounding=got.stats,
        usage=usage,
        chunks_total=len(chunks),
        chunk_failures=got.failures,
        backend=chat.backend,
        model=chat.model,
        prompt_version=prompts.full_version,
        scores=got.scores,
        cue_hits=sorted(cue_hits),
    )


def _cost(settings: Settings, usage: Usage) -> float:
    uncached = max(0, usage.prompt_tokens - usage.cached_prompt_tokens)
    return round(
        (
            uncached * settings.price_per_mtok_in
            + usage.cached_prompt_tokens * settings.price_per_mtok_cached
            + usage.completion_tokens * settings.price_per_mtok_out
        )
        / 1e6,
        6,
    )


def _parse(
    path: str | Path | None,
    data: bytes | None,
    filename: str | None,
    *,
    fmt: str | None,
    seller: Sequence[str],
    seller_domain: str | None,
    settings: Settings,
) -> Transcript:
    from analyzer.transcript import parse_bytes, parse_file

    if data is not None:
        return parse_bytes(
            data,
            filename=filename or "upload",
            fmt=fmt,
            seller=seller,
            seller_domain=seller_domain,
            max_bytes=settings.max_file_bytes,
        )
    if path is None:
        raise ConfigError("analyze needs a path or data")
    return parse_file(path, fmt=fmt, seller=seller, seller_domain=seller_domain, max_bytes=settings.max_file_bytes)


async def analyze_async(
    path: str | Path | None = None,
    *,
    data: bytes | None = None,
    filename: str | None = None,
    transcript: Transcript | None = None,
    settings: Settings | None = None,
    seller: Sequence[str] = (),
    seller_domain: str | None = None,
    fmt: str | None = None,
    backend: str | None = None,
    model: str | None = None,
    use_cache: bool | None = None,
    policy_path: Path | None = None,
    policy: Policy | None = None,
    icp: ICP | None = None,
    chat: ChatModel | None = None,
    redact: bool | None = None,
    behaviours: bool = False,
) -> Report:
    """Analyze one transcript (a path, bytes, or an already parsed Transcript) and return its Report.

    ``redact`` overrides ``Settings.redact`` (None keeps it: on for endpoints off this machine).
    ``behaviours`` also asks the per-call questions the account patterns need (``prompts/account.yaml``;
    the cue list under ``keywords``) and records them on the report."""
    from analyzer.rules import decide, load_policy

    settings = settings or load_settings()
    if model is not None:
        settings = settings.model_copy(update={"model": model})
    if redact is not None:
        settings = settings.model_copy(update={"redact": redact})
    if transcript is None:
        transcript = await asyncio.to_thread(
            _parse, path, data, filename, fmt=fmt, seller=seller, seller_domain=seller_domain, settings=settings
        )
    if policy is None:
        policy = load_policy(policy_path)
    name = backend or (chat.backend if chat is not None else settings.resolved_backend())
    prompts = load_prompts()
    model_view: Transcript | None = None
    redaction = None
    if name != "keywords" and redaction_wanted(settings.redact, name, settings.base_url):
        from analyzer.extraction.redact import redact_transcript

        model_view, redaction = await asyncio.to_thread(redact_transcript, transcript)
    cache_on = settings.cache if use_cache is None else use_cache
    naive_verdict = None
    if name == "keywords":
        from analyzer.extraction.backends.keywords import extract_keywords

        findings = extract_keywords(transcript)
    else:
        chat = model_chat(settings, name, chat=chat, cache=cache_on)
        if name == "naive":
            from analyzer.extraction.backends.naive import extract_naive

            findings, naive_verdict = await extract_naive(model_view or transcript, chat, prompts)
            findings.backend = "naive"
        else:
            findings = await _extract(transcript, chat, settings, icp, model_view)
    findings.redaction = redaction
    report = decide(findings, transcript, policy=policy, icp=icp)
    report.coaching = coach(transcript, report.flags)
    if behaviours:
        from analyzer.extraction.behaviours import keyword_behaviours, model_behaviours

        if name == "keywords" or chat is None:
            report.behaviours = keyword_behaviours(transcript)
        else:
            report.behaviours = await model_behaviours(
                transcript,
                chat,
                prompts,
                budget_tokens=settings.chunk_tokens,
                overlap_tokens=settings.chunk_overlap_tokens,
                model_view=model_view,
            )
    if naive_verdict is not None:
        report.verdict = naive_verdict
        report.decided_by = "naive-baseline"
    return report


async def _extract(
    transcript: Transcript, chat: ChatModel, settings: Settings, icp: ICP | None, model_view: Transcript | None
) -> Findings:
    """Run the strategy the settings or the model's profile name; a yes/no strategy on an endpoint without
    log-probabilities falls back to ``structured``, and the report says so."""
    from analyzer.extraction.profiles import choose

    profile, strategy = choose(
        settings.profile, settings.strategy, backend=chat.backend, model=chat.model, home=settings.home
    )
    prompts = load_prompts(profile=profile)
    icp_text = icp.prompt_text() if icp is not None else ""
    warnings: list[str] = []
    if profile is None:
        warnings.append(
            f"no profile for {chat.backend}:{chat.model}: uncalibrated (`walkaway eval tune RUN --profile NAME "
            "--write` fits one from labelled calls)"
        )
    findings: Findings | None = None
    if strategy != "structured":
        try:
            if strategy == "windows":
                from analyzer.extraction.windows import extract_windows, load_window_spec

                findings = await extract_windows(
                    transcript,
                    chat,
                    spec=load_window_spec(),
                    budget_tokens=settings.window_tokens,
                    icp_text=icp_text,
                    model_view=model_view,
                )
            else:
                findings = await extract_findings(
                    transcript, chat, settings=settings, prompts=prompts, icp_text=icp_text, model_view=model_view
                )
        except LogprobsMissing:
            warnings.append(
                f"{chat.backend}:{chat.model} returned no log-probabilities, which the {strategy} strategy needs; "
                "analyzed with the structured strategy instead (--strategy structured skips the attempt)"
            )
    if findings is None:
        from analyzer.extraction.structured import extract_structured

        findings = await extract_structured(
            transcript,
            chat,
            prompts=prompts,
            budget_tokens=settings.chunk_tokens,
            overlap_tokens=settings.chunk_overlap_tokens,
            max_reasks=settings.max_reasks,
            icp_text=icp_text,
            model_view=model_view,
        )
        findings.usage.cost_usd = _cost(settings, findings.usage)
    findings.profile = profile.label if profile is not None else ""
    findings.warnings = warnings + findings.warnings
    return findings


def analyze(path: str | Path | None = None, **kwargs: Any) -> Report:
    """Synchronous wrapper of ``analyze_async``."""
    box: list[Report] = []

    async def run() -> None:
        # The report is handed over through `box`, not returned: asyncio.run builds the repr of a task's
        # result on the way out, which for a report holding a huge transcript costs seconds.
        box.append(await analyze_async(path, **kwargs))

    asyncio.run(run())
    return box[0]
