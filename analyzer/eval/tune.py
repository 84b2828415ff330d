"""Threshold tuning from a finished eval run: which yes-score cut-offs per question best match the labels.

Each question's score in a run is the highest P(Yes) over the call's chunks (``CaseRun.scores``), and
``CaseRun.cue_hits`` says whether the deterministic cue lexicon matched for it. A question has two
cut-offs: one for calls where a cue matched (the model was pointed at those sentences) and one for calls
without. For each red-flag category and signal this grid-searches both for the best F1 over the run's
cases, preferring, among ties, cut-offs near the middle of the gap between scores (the most stable
choice). It reads results only, so tuning costs no model call; re-run the suite afterwards to see the
real effect (grounding and the rules sit between a score and a verdict).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from analyzer.eval.records import CaseResult
from analyzer.taxonomy import CATEGORIES, SIGNALS


@dataclass
class TunedThreshold:
    """The best cut-offs for one question and what they score on the run."""

    name: str
    threshold: float
    cue_threshold: float
    f1: float
    precision: float
    recall: float
    support: int
    current_f1: float | None = None


Sample = tuple[float, bool, bool]  # (score, cue matched, labelled present)


def _f1(samples: list[Sample], t: float, tc: float) -> tuple[float, float, float]:
    tp = fp = fn = 0
    for score, cue, label in samples:
        hit = score >= (tc if cue else t)
        tp += hit and label
        fp += hit and not label
        fn += (not hit) and label
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return (2 * p * r / (p + r) if p + r else 0.0), p, r


def _candidates(scores: list[float]) -> list[float]:
    values = sorted(set(scores))
    if not values:
        return [0.5]
    # Midpoints between consecutive distinct scores, plus a cut-off below and above all of them.
    return [values[0] - 1e-4, *((a + b) / 2 for a, b in itertools.pairwise(values)), values[-1] + 1e-4]


def samples_for(cases: list[CaseResult], name: str) -> list[Sample]:
    """(score, cue, label) of one question over the cases whose first scored run has it."""
    out: list[Sample] = []
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
        out.append((run.scores[name], name in run.cue_hits, label))
    return out


def tune(cases: list[CaseResult], current: dict[str, tuple[float, float]] | None = None) -> list[TunedThreshold]:
    """Best (threshold, cue_threshold) per question over the first scored repeat of each case."""
    out: list[TunedThreshold] = []
    for name in (*CATEGORIES, *SIGNALS):
        samples = samples_for(cases, name)
        if not samples:
            continue
        plain = _candidates([s for s, cue, _ in samples if not cue])
        cued = _candidates([s for s, cue, _ in samples if cue])
        best = max(
            itertools.product(plain, cued),
            key=lambda tt: (_f1(samples, *tt)[0], -abs(tt[0] - 0.5) - abs(tt[1] - 0.5)),
        )
        f1, p, r = _f1(samples, *best)
        cur = _f1(samples, *current[name])[0] if current and name in current else None
        out.append(
            TunedThreshold(
                name=name,
                threshold=round(best[0], 4),
                cue_threshold=round(best[1], 4),
                f1=f1,
                precision=p,
                recall=r,
                support=sum(1 for *_, y in samples if y),
                current_f1=cur,
            )
        )
    return out
