"""The ``keywords`` baseline backend: the cue lexicon (``extraction/cues.yaml``) alone, no LLM.

A category is flagged when at least one of its cues matches a prospect-side sentence; its severity is the
highest severity among the matched cues, and the matched sentences (the strongest first, at most
``MAX_CITED``) are cited as evidence. It is a floor every LLM design must beat in ``walkaway eval``: it
costs nothing and never invents a quote.
"""

from __future__ import annotations

from analyzer.extraction.cues import LEXICON, Cue, CueHits, evidence_of, scan_cues, strongest
from analyzer.extraction.findings import Findings, Flag, GroundingStats, SignalFinding
from analyzer.taxonomy import CATEGORIES, SEVERITY_RANK, SIGNALS
from analyzer.transcript.model import Transcript

BACKEND = "keywords"
MODEL = LEXICON.version
"""The lexicon's version (``cues.yaml``): it names eval runs."""


def _score(sentences: int) -> float:
    # More independent sentences make a finding likelier; capped below certainty.
    return min(0.95, 0.5 + 0.15 * sentences)


def extract_keywords(transcript: Transcript, hits: CueHits | None = None) -> Findings:
    """Deterministic findings from cue phrases: one flag per category with a match (severity = the highest
    matched cue's), one signal finding per signal with a match, each citing the matched sentences.
    ``hits`` is ``scan_cues(transcript)`` when the caller has it already."""
    hits = scan_cues(transcript) if hits is None else hits
    flags: list[Flag] = []
    for category in CATEGORIES:
        found = hits[category]
        if not found:
            continue
        cues: list[Cue] = [c for *_, c in found]
        flags.append(
            Flag(
                category=category,
                severity=max((c.severity for c in cues), key=lambda s: SEVERITY_RANK[s]),
                score=_score(len(found)),
                rationale="cue phrases: " + ", ".join(dict.fromkeys(c.name for c in cues)),
                evidence=[evidence_of(t, sid, text) for t, sid, text, _ in strongest(found)],
            )
        )
    signals = [
        SignalFinding(
            signal=signal,
            score=_score(len(hits[signal])),
            evidence=[evidence_of(t, sid, text) for t, sid, text, _ in strongest(hits[signal])],
        )
        for signal in SIGNALS
        if hits[signal]
    ]
    cited = sum(len(f.evidence) for f in flags) + sum(len(s.evidence) for s in signals)
    return Findings(
        flags=flags,
        signals=signals,
        grounding=GroundingStats(cited=cited, kept=cited),
        chunks_total=1 if transcript.turns else 0,
        backend=BACKEND,
        model=MODEL,
        prompt_version=MODEL,
    )
