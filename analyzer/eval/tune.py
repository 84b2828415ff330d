"""Threshold tuning from a finished eval run: which yes-score cut-off per question best matches the labels.

Each question's score in a run is the highest P(Yes) over the call's chunks (``CaseRun.scores``).
For every red-flag category and signal this picks the threshold that maximises F1 over the run's
cases, breaking ties toward the middle of the widest gap between scores (the most stable choice).
It reads results, so tuning costs no model call; re-run the suite afterwards to see the real effect
(grounding and the rules sit between a score and a verdict).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from analyzer.eval.records import CaseResult
from analyzer.taxonomy import CATEGORIES, SIGNALS


@dataclass
class TunedThreshold:
    """The best cut-off for one question and what it scores on the run."""

    name: str
    threshold: float
    f1: float
    precision: float
    recall: float
    support: int
    current_f1: float | None = None


def _f1(pairs: list[tuple[float, bool]], t: float) -> tuple[float, float, float]:
    tp = sum(1 for s, y in pairs if s >= t and y)
    fp = sum(1 for s, y in pairs if s >= t and not y)
    fn = sum(1 for s, y in pairs if s < t and y)
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return (2 * p * r / (p + r) if p + r else 0.0), p, r


def tune(cases: list[CaseResult], current: dict[str, float] | None = None) -> list[TunedThreshold]:
    """Best threshold per question over the first repeat of each case that has scores."""
    out: list[TunedThreshold] = []
    for name in (*CATEGORIES, *SIGNALS):
        pairs: list[tuple[float, bool]] = []
        for c in cases:
            run = next((r for r in c.runs if r.scores), None)
            if run is None or name not in run.scores:
                continue
            if name in SIGNALS:
                if c.expected.signals is None:
                    continue
                label = name in c.expected.signals
            else:
                label = name in c.expected.flags
            pairs.append((run.scores[name], label))
        if not pairs:
            continue
        values = sorted({s for s, _ in pairs})
        # Candidate cut-offs: midpoints between consecutive distinct scores, plus both ends.
        cands = (
            [values[0] - 1e-6] + [(a + b) / 2 for a, b in itertools.pairwise(values)] + [values[-1] + 1e-6]
        )
        best = max(cands, key=lambda t: (_f1(pairs, t)[0], -abs(t - 0.5)))
        f1, p, r = _f1(pairs, best)
        cur = _f1(pairs, current[name])[0] if current and name in current else None
        out.append(
            TunedThreshold(
                name=name,
                threshold=round(best, 4),
                f1=f1,
                precision=p,
                recall=r,
                support=sum(1 for _, y in pairs if y),
                current_f1=cur,
            )
        )
    return out
