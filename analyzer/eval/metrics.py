"""Scoring: per-repeat metrics over (labels, prediction) pairs, and their spread across repeats.

Definitions (scoring is per transcript, DESIGN.md "Eval cases"):

- Each red-flag category is a binary label per case: present if listed in ``expected.flags``, absent
  otherwise. ``precision = TP/(TP+FP)`` (0.0 when nothing was predicted), ``recall = TP/(TP+FN)`` (0.0
  when the category has no support), ``F1`` their harmonic mean (0.0 when both are 0).
- A category with **zero support and zero predictions** has no defined F1: it is reported as ``None``
  and **excluded from the macro average** (it would otherwise inflate the macro with free 1.0s). A
  category with zero support but some predictions scores F1 0.0 and counts (false alarms are penalised).
- ``macro_f1`` averages the defined per-category F1s; ``micro_f1`` pools TP/FP/FN over all categories.
- Signals are scored the same way, only over cases whose labels list ``signals`` (omitted = unlabelled).
- ``verdict_accuracy``: share of cases whose predicted verdict equals the label; a case whose analysis
  raised predicts ``none`` (a column of the confusion matrix) and counts as wrong.
- ``evidence_hit_rate``: over all expected evidence substrings of all cases, the share that is a
  case-insensitive substring of some cited quote (flags' or signals' evidence); None when no case has any.
- ``severity_accuracy``: over the labelled severities (the mapping form ``flags: {budget: medium}``) of
  flags the run also raised, the share whose predicted severity equals the label; None when no such flag.
  It is conditional on detection on purpose: a missed flag already costs recall, and counting it again
  here would mix the two questions ("did it see it?", "did it weigh it right?").
- ``ethics_recall``: recall of the ``ethics`` category, reported on its own because one missed ethics
  call is the costliest mistake; ``ethics_false_walk_away``: cases labelled without ethics whose run
  raised an ``ethics`` flag and answered walk_away although the label is another verdict.
- ``grounding_drop_rate``: cited sentence ids that did not exist / all cited ids, pooled over cases.
- ``invalid_output_rate``: share of cases whose analysis raised or came back incomplete.
- Tokens and cost are summed over the cases of one repeat; latency percentiles are over per-case
  wall-clock seconds (linear interpolation between order statistics).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Mapping, Sequence

from pydantic import BaseModel, Field, computed_field

from analyzer.eval.records import CaseRun
from analyzer.eval.suite import Expected
from analyzer.taxonomy import CATEGORIES, SIGNALS, VERDICTS

NONE_VERDICT = "none"
"""The predicted-verdict label of a case whose analysis raised."""


class LabelScore(BaseModel):
    """Binary-label counts and scores of one category (or signal) over the cases of one repeat."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0
    precision: float = 0.0
    recall: float = 0.0
    f1: float | None = Field(default=None, description="None when there is no support and no prediction.")

    @computed_field  # type: ignore[prop-decorator]
    @property
    def support(self) -> int:
        """Cases where the label is present."""
        return self.tp + self.fn

    @computed_field  # type: ignore[prop-decorator]
    @property
    def predicted(self) -> int:
        """Cases where the label was predicted."""
        return self.tp + self.fp


def score_label(tp: int, fp: int, fn: int, tn: int = 0) -> LabelScore:
    """Precision, recall and F1 from counts, with the zero conventions of this module."""
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    # Undefined (None) only with no positives and no predictions: such labels leave the macro average.
    f1: float | None = None
    if tp + fp + fn:
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return LabelScore(tp=tp, fp=fp, fn=fn, tn=tn, precision=precision, recall=recall, f1=f1)


def _macro(scores: Iterable[LabelScore]) -> float | None:
    defined = [s.f1 for s in scores if s.f1 is not None]
    return sum(defined) / len(defined) if defined else None


def _micro(scores: Iterable[LabelScore]) -> float | None:
    tp = fp = fn = 0
    for s in scores:
        tp, fp, fn = tp + s.tp, fp + s.fp, fn + s.fn
    return score_label(tp, fp, fn).f1


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) with linear interpolation; 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    lo, hi = math.floor(pos), math.ceil(pos)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def evidence_hits(expected: Sequence[str], quotes: Iterable[str]) -> tuple[list[str], list[str]]:
    """Split expected evidence substrings into (found, missed): found when a case-insensitive substring
    of some quote."""
    lowered = [q.casefold() for q in quotes]
    hits: list[str] = []
    missed: list[str] = []
    for needle in expected:
        n = needle.casefold()
        (hits if any(n in q for q in lowered) else missed).append(needle)
    return hits, missed


class RepeatMetrics(BaseModel):
    """Every metric of one pass over the suite."""

    repeat: int = Field(description="0-based repeat index.")
    cases: int
    categories: dict[str, LabelScore] = Field(description="Per red-flag category, in taxonomy order.")
    macro_f1: float | None = Field(description="Mean of the defined per-category F1s.")
    micro_f1: float | None
    signals: dict[str, LabelScore] = Field(default_factory=dict, description="Per signal (labelled cases).")
    signal_cases: int = Field(default=0, description="Cases whose labels include signals.")
    signal_macro_f1: float | None = None
    verdict_accuracy: float
    confusion: dict[str, dict[str, int]] = Field(
        description="expected verdict -> predicted verdict (or 'none') -> count; all rows and columns."
    )
    evidence_expected: int = 0
    evidence_found: int = 0
    evidence_hit_rate: float | None = None
    severity_labelled: int = Field(default=0, description="Labelled severities of flags the run also raised.")
    severity_correct: int = 0
    severity_accuracy: float | None = None
    ethics_recall: float | None = None
    ethics_false_walk_away: int = Field(
        default=0, description="Cases without an ethics label sent to walk_away while an ethics flag was raised."
    )
    grounding_cited: int = 0
    grounding_dropped: int = 0
    grounding_drop_rate: float = 0.0
    invalid_cases: int = 0
    invalid_output_rate: float = 0.0
    errors: int = Field(default=0, description="Cases whose analysis raised.")
    llm_calls: int = 0
    cache_hits: int = 0
    prompt_tokens: int = 0
    cached_prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    latency_p50_s: float = 0.0
    latency_p95_s: float = 0.0
    latency_mean_s: float = 0.0

    def scalars(self) -> dict[str, float | None]:
        """The scalar metrics summarised across repeats (and the names thresholds may use)."""
        out: dict[str, float | None] = {
            "verdict_accuracy": self.verdict_accuracy,
            "macro_f1": self.macro_f1,
            "micro_f1": self.micro_f1,
            "signal_macro_f1": self.signal_macro_f1,
            "evidence_hit_rate": self.evidence_hit_rate,
            "severity_accuracy": self.severity_accuracy,
            "ethics_recall": self.ethics_recall,
            "grounding_drop_rate": self.grounding_drop_rate,
            "invalid_output_rate": self.invalid_output_rate,
            "prompt_tokens": float(self.prompt_tokens),
            "cached_prompt_tokens": float(self.cached_prompt_tokens),
            "completion_tokens": float(self.completion_tokens),
            "cost_usd": self.cost_usd,
            "latency_p50_s": self.latency_p50_s,
            "latency_p95_s": self.latency_p95_s,
        }
        for cat, score in self.categories.items():
            out[f"f1.{cat}"] = score.f1
        return out


def compute_metrics(pairs: Sequence[tuple[Expected, CaseRun]], *, repeat: int = 0) -> RepeatMetrics:
    """All metrics of one repeat from each case's labels and its run."""
    cat_counts: dict[str, list[int]] = {c: [0, 0, 0, 0] for c in CATEGORIES}  # tp, fp, fn, tn
    sig_counts: dict[str, list[int]] = {s: [0, 0, 0, 0] for s in SIGNALS}
    columns = [*VERDICTS, NONE_VERDICT]
    confusion = {v: dict.fromkeys(columns, 0) for v in VERDICTS}
    correct = signal_cases = ev_expected = ev_found = cited = dropped = invalid = errors = 0
    sev_labelled = sev_correct = false_ethics_walk = 0
    calls = hits = prompt = cached = completion = 0
    cost = 0.0
    latencies: list[float] = []

    def tally(counts: Mapping[str, list[int]], truth: set[str], predicted: set[str]) -> None:
        for label, c in counts.items():
            t, p = label in truth, label in predicted
            c[0 if t and p else 1 if p else 2 if t else 3] += 1

    for exp, run in pairs:
        tally(cat_counts, set(exp.flags), run.predicted_flags)
        if exp.signals is not None:
            signal_cases += 1
            tally(sig_counts, set(exp.signals), run.predicted_signals)
        predicted_verdict = run.verdict or NONE_VERDICT
        confusion[exp.verdict][predicted_verdict] += 1
        correct += predicted_verdict == exp.verdict
        ev_expected += len(exp.evidence)
        ev_found += len(run.evidence_hits)
        predicted_severity = {f.category: f.severity for f in run.flags}
        for cat, severity in exp.severities.items():
            if cat in predicted_severity:
                sev_labelled += 1
                sev_correct += predicted_severity[cat] == severity
        if "ethics" not in exp.flags and "ethics" in predicted_severity and exp.verdict != "walk_away":
            false_ethics_walk += run.verdict == "walk_away"
        cited += run.grounding_cited
        dropped += run.grounding_dropped
        invalid += run.invalid
        errors += run.error is not None
        calls += run.llm_calls
        hits += run.cache_hits
        prompt += run.prompt_tokens
        cached += run.cached_prompt_tokens
        completion += run.completion_tokens
        cost += run.cost_usd
        latencies.append(run.seconds)

    n = len(pairs)
    categories = {c: score_label(*v) for c, v in cat_counts.items()}
    signals = {s: score_label(*v) for s, v in sig_counts.items()} if signal_cases else {}
    return RepeatMetrics(
        repeat=repeat,
        cases=n,
        categories=categories,
        macro_f1=_macro(categories.values()),
        micro_f1=_micro(categories.values()),
        signals=signals,
        signal_cases=signal_cases,
        signal_macro_f1=_macro(signals.values()) if signals else None,
        verdict_accuracy=correct / n if n else 0.0,
        confusion=confusion,
        evidence_expected=ev_expected,
        evidence_found=ev_found,
        evidence_hit_rate=ev_found / ev_expected if ev_expected else None,
        severity_labelled=sev_labelled,
        severity_correct=sev_correct,
        severity_accuracy=sev_correct / sev_labelled if sev_labelled else None,
        ethics_recall=categories["ethics"].recall if categories["ethics"].support else None,
        ethics_false_walk_away=false_ethics_walk,
        grounding_cited=cited,
        grounding_dropped=dropped,
        grounding_drop_rate=dropped / cited if cited else 0.0,
        invalid_cases=invalid,
        invalid_output_rate=invalid / n if n else 0.0,
        errors=errors,
        llm_calls=calls,
        cache_hits=hits,
        prompt_tokens=prompt,
        cached_prompt_tokens=cached,
        completion_tokens=completion,
        cost_usd=cost,
        latency_p50_s=percentile(latencies, 50),
        latency_p95_s=percentile(latencies, 95),
        latency_mean_s=statistics.fmean(latencies) if latencies else 0.0,
    )


class Spread(BaseModel):
    """A metric across repeats: mean, sample standard deviation (0 for one repeat), min and max."""

    mean: float
    stdev: float
    min: float
    max: float
    n: int = Field(description="Repeats where the metric was defined.")


def spread(values: Iterable[float | None]) -> Spread | None:
    """Mean/stdev/min/max of the defined values; None when none is defined."""
    vals = [v for v in values if v is not None]
    if not vals:
        return None
    sd = statistics.stdev(vals) if len(vals) > 1 else 0.0
    return Spread(mean=statistics.fmean(vals), stdev=sd, min=min(vals), max=max(vals), n=len(vals))


def summarize(repeats: Sequence[RepeatMetrics]) -> dict[str, Spread]:
    """Every scalar metric's spread across repeats (metrics undefined in every repeat are left out)."""
    names: list[str] = []
    for r in repeats:
        names.extend(k for k in r.scalars() if k not in names)
    out: dict[str, Spread] = {}
    for name in names:
        s = spread(r.scalars().get(name) for r in repeats)
        if s is not None:
            out[name] = s
    return out
