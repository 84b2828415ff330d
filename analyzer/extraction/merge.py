"""Merge findings across chunks: overlap repeats turns, so the same flag and quotes arrive twice.

One flag per category: the highest severity and score seen, evidence united by sentence id in transcript
order, the rationale of the strongest chunk. The result does not depend on chunk order. A category with a
fixed severity (``taxonomy.FIXED_SEVERITY``: ethics is always high) gets it here, unless the seller-speech
rule downgraded every piece of it.
"""

from __future__ import annotations

from analyzer.extraction.findings import Evidence, Flag, SignalFinding
from analyzer.taxonomy import CATEGORIES, FIXED_SEVERITY, SEVERITY_RANK, SIGNALS


def evidence_order(e: Evidence) -> tuple[int, int]:
    """Transcript order of a piece of evidence (turn, then sentence)."""
    turn, _, sent = e.sentence_id.lstrip("t").partition(".")
    return int(turn or 0), int(sent or 0)


def _union(groups: list[list[Evidence]], limit: int = 5) -> list[Evidence]:
    seen: dict[str, Evidence] = {}
    for g in groups:
        for e in g:
            seen.setdefault(e.sentence_id, e)
    return sorted(seen.values(), key=evidence_order)[:limit]


def merge_flags(flags: list[Flag]) -> list[Flag]:
    """One flag per category, in taxonomy order."""
    out: list[Flag] = []
    for cat in CATEGORIES:
        same = [f for f in flags if f.category == cat]
        if not same:
            continue
        best = max(same, key=lambda f: (SEVERITY_RANK[f.severity], f.score, f.rationale))
        downgraded = all(f.downgraded for f in same)
        severity, rationale = best.severity, best.rationale
        fixed = FIXED_SEVERITY.get(cat)
        if fixed is not None and not downgraded and fixed != severity:
            severity = fixed
            rationale = f"{rationale} (rated {best.severity}; {cat} is always {fixed})".strip()
        out.append(
            Flag(
                category=cat,
                severity=severity,
                score=max(f.score for f in same),
                rationale=rationale,
                evidence=_union([f.evidence for f in same]),
                downgraded=downgraded,
            )
        )
    return out


def merge_signals(signals: list[SignalFinding]) -> list[SignalFinding]:
    """One finding per signal, in taxonomy order."""
    out: list[SignalFinding] = []
    for sig in SIGNALS:
        same = [s for s in signals if s.signal == sig]
        if same:
            best = max(same, key=lambda s: (s.score, s.rationale))
            out.append(
                SignalFinding(
                    signal=sig,
                    score=best.score,
                    rationale=best.rationale,
                    evidence=_union([s.evidence for s in same]),
                )
            )
    return out
