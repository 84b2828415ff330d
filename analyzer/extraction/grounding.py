"""Grounding: cited sentence ids become verbatim evidence, or are dropped and counted.

The seller-speech rule: a red flag counts only with evidence from the prospect's side (DESIGN.md). So

* a flag whose every cited sentence was spoken by a seller is **dropped** (the seller saying "I know
  budgets are tight" is not the prospect's budget problem), and counted in ``dropped_seller_only``;
* a flag whose evidence is only from speakers of ``unknown`` role is kept but **downgraded** one
  severity step (high → medium → low), because we cannot tell whose side said it;
* a flag with no valid evidence at all is dropped (a flag needs evidence from the call).

Positive signals keep seller evidence (a next step the seller states and the prospect accepts is
still a next step), but need at least one valid id.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from analyzer._errors import AnalyzerError, BackendError, ExtractionError
from analyzer.chunking import Chunk
from analyzer.extraction.backends.chat import LogprobsMissing
from analyzer.extraction.extractor import RawFinding
from analyzer.extraction.findings import ChunkFailure, Evidence, Flag, GroundingStats, SignalFinding
from analyzer.taxonomy import CATEGORIES, SEVERITIES, SIGNALS, Severity
from analyzer.transcript.model import Transcript

_DOWN: dict[Severity, Severity] = {"high": "medium", "medium": "low", "low": "low"}


def resolve(transcript: Transcript, sentence_ids: list[str], stats: GroundingStats) -> list[Evidence]:
    """Evidence for the ids that exist in the transcript; unknown ids are counted and dropped."""
    index = transcript.sentence_index()
    out: list[Evidence] = []
    for sid in sentence_ids:
        stats.cited += 1
        hit = index.get(sid)
        if hit is None:
            stats.dropped_unknown_id += 1
            continue
        turn, sentence = hit
        stats.kept += 1
        out.append(Evidence.of(turn, sentence))
    return out


def ground(
    transcript: Transcript, raw: list[RawFinding], stats: GroundingStats
) -> tuple[list[Flag], list[SignalFinding]]:
    """Turn one chunk's raw findings into grounded flags and signals, applying the seller-speech rule."""
    flags: list[Flag] = []
    signals: list[SignalFinding] = []
    for f in raw:
        stats.dropped_unknown_id += f.unknown_ids
        stats.cited += f.unknown_ids
        evidence = resolve(transcript, f.sentence_ids, stats)
        if f.kind == "signal":
            if evidence and f.name in SIGNALS:
                signals.append(
                    SignalFinding(signal=f.name, score=round(f.score, 4), rationale=f.label, evidence=evidence)
                )
            continue
        if f.name not in CATEGORIES or not evidence:
            continue
        roles = {e.role for e in evidence}
        severity: Severity = f.severity if f.severity in SEVERITIES else "medium"
        downgraded = False
        if roles == {"seller"}:
            stats.dropped_seller_only += 1
            continue
        if roles == {"unknown"}:
            severity = _DOWN[severity]
            downgraded = True
            stats.downgraded_seller_only += 1
        # Keep only the non-seller quotes when there are some: the seller's words are not the prospect's flag.
        evidence = [e for e in evidence if e.role != "seller"]
        flags.append(
            Flag(
                category=f.name,
                severity=severity,
                score=round(f.score, 4),
                # The behaviour that scored says what the prospect did; the model's own reason follows it.
                rationale="; ".join(x for x in (f.label, f.reason) if x),
                evidence=evidence,
                downgraded=downgraded,
            )
        )
    return flags, signals


@dataclass
class ChunkedFindings:
    """What a per-chunk strategy gathered over a call: grounded, not yet merged."""

    flags: list[Flag] = field(default_factory=list)
    signals: list[SignalFinding] = field(default_factory=list)
    failures: list[ChunkFailure] = field(default_factory=list)
    scores: dict[str, float] = field(default_factory=dict)
    stats: GroundingStats = field(default_factory=GroundingStats)


async def ground_chunks(
    transcript: Transcript,
    chunks: Sequence[Chunk],
    step: Callable[[Chunk], Awaitable[tuple[list[RawFinding], dict[str, float]]]],
) -> ChunkedFindings:
    """Run ``step`` (one chunk's raw findings and yes-scores) over every chunk and ground the results.

    A chunk whose step raises ``ExtractionError`` or ``BackendError`` is recorded as a failure, not fatal,
    unless every chunk fails (then the first error is raised). ``LogprobsMissing`` is raised at once: no
    chunk can be scored on that endpoint, and the caller falls back to another strategy."""
    out = ChunkedFindings()
    errors: list[AnalyzerError] = []
    for chunk in chunks:
        try:
            raw, scores = await step(chunk)
        except LogprobsMissing:
            raise
        except (ExtractionError, BackendError) as exc:
            out.failures.append(
                ChunkFailure(chunk_id=chunk.index, error=exc.detail, backend=isinstance(exc, BackendError))
            )
            errors.append(exc)
            continue
        for name, p in scores.items():
            out.scores[name] = max(out.scores.get(name, 0.0), round(p, 4))
        f, s = ground(transcript, raw, out.stats)
        out.flags += f
        out.signals += s
    if chunks and len(out.failures) == len(chunks):
        raise errors[0]
    return out
