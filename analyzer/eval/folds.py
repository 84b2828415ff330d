"""Cross-validated tuning: out-of-fold figures from one scored run, with no model call.

``walkaway eval tune RUN --folds K`` splits the run's cases into K folds, **grouped by writer** (all calls
of one writer sit in one fold, so a phrasing habit learned from a writer's calls is never tested on the
same writer's calls) and balanced by verdict. For each fold it fits the cut-offs on the other K-1 folds
(``tune.tune``), then re-decides the held-out cases from their recorded scores with those cut-offs and
the verdict rules (``rules.decide``). Every held-out case is scored once, so the pooled figures are
out-of-fold; the in-sample figures (fitted and scored on every case) are printed beside them, so the
gap between the two shows how much of a gain is fitting.

Re-deciding from scores, without the model (documented limits):

- a question whose score passes the new cut-off and passed the run's own cut-off but raised no flag was
  dropped by grounding (no prospect evidence): it stays absent;
- a question that passes only under the new cut-off is assumed to ground, with the severity the model
  gives most flags (``medium``) and no quotes (so it cannot add evidence hits);
- a flag or signal the run raised is kept as it was (severity, quotes) while its score still passes.

Runs without per-question scores (the ``keywords`` and ``naive`` baselines) have nothing to fit: their
out-of-fold figures equal their in-sample ones, which is what they are. The ``constant`` baseline answers
the training folds' most common verdict and raises no flag.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from typing import TypeVar

from pydantic import BaseModel, Field

from analyzer._errors import ConfigError
from analyzer.eval.metrics import RepeatMetrics, compute_metrics, evidence_hits
from analyzer.eval.records import CaseResult, CaseRun, CitedFlag, CitedSignal
from analyzer.eval.tune import tune
from analyzer.extraction.findings import Findings, Flag, SignalFinding
from analyzer.rules import Policy, decide
from analyzer.taxonomy import CATEGORIES, FIXED_SEVERITY, SIGNALS, Verdict

Cutoffs = dict[str, tuple[float, float]]
T = TypeVar("T")
"""Per question: (threshold without a cue, threshold with a cue)."""


def writer_of(case: CaseResult) -> str:
    """The group a case belongs to: its writer, else its own id (an unattributed call is its own group)."""
    return case.writer or f"case:{case.id}"


def make_folds(cases: Sequence[CaseResult], k: int, *, seed: int = 0) -> list[list[int]]:
    """K folds of case indices, whole writers per fold, each fold's verdict mix close to the whole set's.

    Greedy: writers in decreasing size (ties in a seeded random order) each go to the fold where they
    add the least imbalance (fold size first, then the squared excess of each verdict over its share).
    """
    if k < 2:
        raise ConfigError(f"--folds must be at least 2, got {k}")
    groups: dict[str, list[int]] = defaultdict(list)
    for i, c in enumerate(cases):
        groups[writer_of(c)].append(i)
    if len(groups) < k:
        raise ConfigError(
            f"{k} folds need at least {k} writers, the run has {len(groups)} ({', '.join(sorted(groups))}); "
            "use fewer folds"
        )
    total = Counter(cases[i].expected.verdict for i in range(len(cases)))
    share = {v: n / len(cases) for v, n in total.items()}
    order = sorted(groups)
    random.Random(seed).shuffle(order)
    order.sort(key=lambda g: -len(groups[g]))
    folds: list[list[int]] = [[] for _ in range(k)]
    mix: list[Counter[str]] = [Counter() for _ in range(k)]
    for g in order:
        add: Counter[str] = Counter(cases[i].expected.verdict for i in groups[g])

        def cost(f: int, add: Counter[str] = add, g: str = g) -> tuple[float, float]:
            size = len(folds[f]) + len(groups[g])
            excess = sum((mix[f][v] + add[v] - share[v] * size) ** 2 for v in share)
            return (float(size), excess)

        best = min(range(k), key=cost)
        folds[best] += groups[g]
        mix[best] += add
    return folds


def _passes(run: CaseRun, name: str, cut: Cutoffs) -> bool | None:
    if name not in run.scores or name not in cut:
        return None
    t, tc = cut[name]
    return run.scores[name] >= (tc if name in run.cue_hits else t)


def redecide(case: CaseResult, cutoffs: Cutoffs, run_cutoffs: Cutoffs, policy: Policy | None = None) -> CaseRun:
    """The case's first run as it would have come out with ``cutoffs`` instead of ``run_cutoffs`` (and
    ``policy`` instead of the default one)."""
    run = case.runs[0]
    if not run.scores or run.error is not None:
        return run
    raised = {f.category: f for f in run.flags}
    found = {s.signal: s for s in run.signals}
    flags: list[CitedFlag] = []
    for cat in CATEGORIES:
        now, before = _passes(run, cat, cutoffs), _passes(run, cat, run_cutoffs)
        if now is None:  # not scored: keep what the run said
            if cat in raised:
                flags.append(raised[cat])
        elif now and cat in raised:
            flags.append(raised[cat])
        elif now and not before:
            flags.append(CitedFlag(category=cat, severity=FIXED_SEVERITY.get(cat, "medium"), score=run.scores[cat]))
    signals: list[CitedSignal] = []
    for sig in SIGNALS:
        now, before = _passes(run, sig, cutoffs), _passes(run, sig, run_cutoffs)
        if now is None:
            if sig in found:
                signals.append(found[sig])
        elif now and sig in found:
            signals.append(found[sig])
        elif now and not before:
            signals.append(CitedSignal(signal=sig))
    return rejudge(case, run, flags, signals, policy)


def rejudge(
    case: CaseResult,
    run: CaseRun,
    flags: list[CitedFlag],
    signals: list[CitedSignal],
    policy: Policy | None = None,
    **update: object,
) -> CaseRun:
    """``run`` with these flags and signals: the verdict decided again by the rules (``policy``, else the
    default) and the evidence hits counted again from their quotes; ``update`` sets other fields too.

    A flag of a category with a fixed severity (``taxonomy.FIXED_SEVERITY``) gets it, as merging findings
    does today, so a run recorded before that rule is judged as the pipeline would judge it now."""
    flags = [
        f.model_copy(update={"severity": FIXED_SEVERITY[f.category]}) if f.category in FIXED_SEVERITY else f
        for f in flags
    ]
    findings = Findings(
        flags=[Flag(category=f.category, severity=f.severity, score=f.score) for f in flags],
        signals=[SignalFinding(signal=s.signal) for s in signals],
    )
    verdict = decide(findings, None, policy=policy, include_transcript=False).verdict
    quotes = [q for f in flags for q in f.quotes] + [q for s in signals for q in s.quotes]
    hits, missed = evidence_hits(case.expected.evidence, quotes)
    return run.model_copy(
        update={
            **update,
            "verdict": verdict,
            "flags": flags,
            "signals": signals,
            "evidence_hits": hits,
            "evidence_missed": missed,
        }
    )


def _constant(case: CaseResult, verdict: Verdict) -> CaseRun:
    return CaseRun(repeat=0, verdict=verdict, backend="constant", model="constant")


class FoldReport(BaseModel):
    """One fold: which writers were held out and what they scored."""

    index: int
    writers: list[str]
    cases: int
    verdict_accuracy: float
    macro_f1: float | None


class CrossValidation(BaseModel):
    """Everything ``eval tune --folds`` prints."""

    folds: int
    cases: int
    tuned: bool = Field(description="False when the run has no per-question scores (nothing was fitted).")
    as_run: RepeatMetrics = Field(description="The run as scored, with the cut-offs it ran with.")
    in_sample: RepeatMetrics = Field(description="Cut-offs fitted on every case, scored on every case.")
    out_of_fold: RepeatMetrics = Field(description="Each case scored with cut-offs fitted without its writer.")
    constant: RepeatMetrics = Field(description="The most common training verdict, no flags, out-of-fold.")
    per_fold: list[FoldReport]
    per_writer: dict[str, float] = Field(description="Out-of-fold verdict accuracy per writer.")


def cross_validate(cases: Sequence[CaseResult], run_cutoffs: Cutoffs, *, k: int = 5, seed: int = 0) -> CrossValidation:
    """Fit on K-1 folds, score the held-out fold, for every fold (see the module docstring)."""
    tuned = any(c.runs and c.runs[0].scores for c in cases)

    def fitted(train: Sequence[CaseResult]) -> Cutoffs:
        rows = tune(list(train), run_cutoffs) if tuned else []
        return {**run_cutoffs, **{r.name: (r.threshold, r.cue_threshold) for r in rows}}

    return run_folds(cases, fitted, lambda c, cut: redecide(c, cut, run_cutoffs), k=k, seed=seed, tuned=tuned)


def run_folds(
    cases: Sequence[CaseResult],
    fit: Callable[[Sequence[CaseResult]], T],
    apply: Callable[[CaseResult, T], CaseRun],
    *,
    k: int,
    seed: int,
    tuned: bool,
) -> CrossValidation:
    """The cross-validation loop shared by every fitter: ``fit`` learns from training cases, ``apply``
    re-decides one case with what was learnt."""
    cases = [c for c in cases if c.runs]
    if not cases:
        raise ConfigError("the run has no case with a finished analysis")
    folds = make_folds(cases, k, seed=seed)
    everything = fit(cases)
    oof: dict[int, CaseRun] = {}
    constant: dict[int, CaseRun] = {}
    per_fold: list[FoldReport] = []
    for f, test in enumerate(folds):
        held = set(test)
        train = [c for i, c in enumerate(cases) if i not in held]
        learnt = fit(train)
        majority = Counter(c.expected.verdict for c in train).most_common(1)[0][0]
        for i in test:
            oof[i] = apply(cases[i], learnt)
            constant[i] = _constant(cases[i], majority)
        m = compute_metrics([(cases[i].expected, oof[i]) for i in test])
        per_fold.append(
            FoldReport(
                index=f,
                writers=sorted({writer_of(cases[i]) for i in test}),
                cases=len(test),
                verdict_accuracy=m.verdict_accuracy,
                macro_f1=m.macro_f1,
            )
        )
    by_writer: dict[str, list[bool]] = defaultdict(list)
    for i, c in enumerate(cases):
        by_writer[writer_of(c)].append(oof[i].verdict == c.expected.verdict)
    order = range(len(cases))
    return CrossValidation(
        folds=k,
        cases=len(cases),
        tuned=tuned,
        as_run=compute_metrics([(c.expected, c.runs[0]) for c in cases]),
        in_sample=compute_metrics([(c.expected, apply(c, everything)) for c in cases]),
        out_of_fold=compute_metrics([(cases[i].expected, oof[i]) for i in order]),
        constant=compute_metrics([(cases[i].expected, constant[i]) for i in order]),
        per_fold=per_fold,
        per_writer={w: sum(v) / len(v) for w, v in sorted(by_writer.items())},
    )
