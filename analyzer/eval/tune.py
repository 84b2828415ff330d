"""Threshold tuning from a finished eval run: which yes-score cut-offs per question best match the labels.

Each question's score in a run is the highest score over the call's chunks (``CaseRun.scores``), and
``CaseRun.cue_hits`` says whether the deterministic cue lexicon matched for it. A question has two
cut-offs, one for calls where a cue matched (the model was pointed at those sentences) and one for calls
without, but they are tied: ``cue_threshold = threshold - cue_bonus``, with one cue bonus shared by every
question. Fitting the two freely (26 numbers on a few dozen calls) overfitted: tuned on half of the core
suite, the untied cut-offs scored a macro F1 of 0.45 on the other half, the tied ones 0.55
(evals/README.md). For each question the cut-off with the best F1 is kept, the middle one among ties
(the most stable choice); the bonus is the one with the best mean F1. It reads results only, so tuning
costs no model call; re-run the suite afterwards to see the real effect (grounding and the rules sit
between a score and a verdict).
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


CUE_BONUSES = tuple(round(0.025 * i, 3) for i in range(13))
"""The shared cue bonuses tried: 0 to 0.3."""


def _best(samples: list[Sample], bonus: float) -> tuple[float, float]:
    """(F1, threshold) of the best cut-off on score + bonus x cue: the middle one of the best ties."""
    shifted = [s + (bonus if cue else 0.0) for s, cue, _ in samples]
    scored = [(_f1(samples, t, t - bonus)[0], t) for t in _candidates(shifted)]
    top = max(f for f, _ in scored)
    ties = [t for f, t in scored if f == top]
    return top, ties[len(ties) // 2]


def tune(
    cases: list[CaseResult],
    current: dict[str, tuple[float, float]] | None = None,
    *,
    cue_bonus: float | None = None,
) -> list[TunedThreshold]:
    """Best tied (threshold, cue_threshold) per question over the first scored repeat of each case.

    ``cue_bonus`` fixes the shared bonus; by default the one of ``CUE_BONUSES`` with the best mean F1.
    """
    samples = {n: s for n in (*CATEGORIES, *SIGNALS) if (s := samples_for(cases, n))}
    names = list(samples)
    if not names:
        return []
    bonuses = (cue_bonus,) if cue_bonus is not None else CUE_BONUSES
    # Ties between bonuses go to the smallest: trust the cue lexicon no more than the labels demand.
    bonus = max(bonuses, key=lambda b: (sum(_best(samples[n], b)[0] for n in names), -b))
    out: list[TunedThreshold] = []
    for name in names:
        _, t = _best(samples[name], bonus)
        f1, p, r = _f1(samples[name], t, t - bonus)
        cur = _f1(samples[name], *current[name])[0] if current and name in current else None
        out.append(
            TunedThreshold(
                name=name,
                # Cut-offs live in [0, 1] like the scores (prompts.Question validates that range).
                threshold=round(min(1.0, max(0.0, t)), 4),
                cue_threshold=round(min(1.0, max(0.0, t - bonus)), 4),
                f1=f1,
                precision=p,
                recall=r,
                support=sum(1 for *_, y in samples[name] if y),
                current_f1=cur,
            )
        )
    return out
