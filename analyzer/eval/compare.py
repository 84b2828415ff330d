"""Comparing two runs: metric deltas and per-case changes judged against the labels.

With repeats, each case is reduced to its consensus first: the most frequent predicted verdict (ties go
to the earliest repeat) and the categories flagged in more than half of the repeats. Every change from
run A to run B is then marked:

- ``fix``: B agrees with the labels where A did not (a verdict flipped to the expected one, a missed
  flag gained, a false flag lost);
- ``regression``: the reverse;
- ``change``: a verdict flipped from one wrong answer to another.
"""

from __future__ import annotations

from collections import Counter
from typing import Literal

from pydantic import BaseModel, Field

from analyzer.eval.records import CaseResult
from analyzer.eval.results import RunResults

Kind = Literal["fix", "regression", "change"]

# Metrics where a lower value is the better one (a negative delta is an improvement).
LOWER_IS_BETTER = frozenset(
    {
        "grounding_drop_rate",
        "invalid_output_rate",
        "prompt_tokens",
        "cached_prompt_tokens",
        "completion_tokens",
        "cost_usd",
        "latency_p50_s",
        "latency_p95_s",
    }
)


class MetricDelta(BaseModel):
    """One metric's mean in each run and B minus A."""

    metric: str
    a: float | None
    b: float | None
    delta: float | None
    better: bool | None = Field(description="True if B is better, False if worse, None if equal or unknown.")


class CaseChange(BaseModel):
    """One difference between the runs on one case."""

    case_id: str
    what: Literal["verdict", "flag_gained", "flag_lost", "evidence", "error"]
    detail: str = Field(description="Human-readable, e.g. 'qualify_further -> walk_away' or 'budget'.")
    kind: Kind


class Comparison(BaseModel):
    """Everything `walkaway eval compare` shows."""

    a: str = Field(description="Label of run A (suite, backend, model, prompt version, timestamp).")
    b: str
    metrics: list[MetricDelta]
    changes: list[CaseChange]
    only_in_a: list[str] = Field(default_factory=list, description="Case ids run only in A.")
    only_in_b: list[str] = Field(default_factory=list)

    @property
    def fixes(self) -> int:
        """Number of changes that are fixes."""
        return sum(c.kind == "fix" for c in self.changes)

    @property
    def regressions(self) -> int:
        """Number of changes that are regressions."""
        return sum(c.kind == "regression" for c in self.changes)


def consensus(case: CaseResult) -> tuple[str, set[str], set[str], bool]:
    """(verdict or 'none', majority flags, evidence substrings found in a majority, any run raised)."""
    n = len(case.runs)
    if n == 0:
        return "none", set(), set(), False
    verdicts = [r.verdict or "none" for r in case.runs]
    counts = Counter(verdicts)
    top = max(counts.values())
    verdict = next(v for v in verdicts if counts[v] == top)
    flag_counts = Counter(cat for r in case.runs for cat in r.predicted_flags)
    flags = {c for c, k in flag_counts.items() if k * 2 > n}
    ev_counts = Counter(e for r in case.runs for e in set(r.evidence_hits))
    evidence = {e for e, k in ev_counts.items() if k * 2 > n}
    errored = any(r.error is not None for r in case.runs)
    return verdict, flags, evidence, errored


def _label(r: RunResults) -> str:
    m = r.meta
    parts = [m.suite, m.backend, m.model, m.prompt_version and f"prompt {m.prompt_version}", m.timestamp]
    return " / ".join(p for p in parts if p)


def compare_runs(a: RunResults, b: RunResults) -> Comparison:
    """Metric deltas (means over repeats) and per-case changes from run A to run B."""
    metrics: list[MetricDelta] = []
    names = list(a.summary) + [k for k in b.summary if k not in a.summary]
    for name in names:
        va = a.summary[name].mean if name in a.summary else None
        vb = b.summary[name].mean if name in b.summary else None
        delta = vb - va if va is not None and vb is not None else None
        better: bool | None = None
        if delta is not None and abs(delta) > 1e-12:
            better = (delta < 0) if name in LOWER_IS_BETTER else (delta > 0)
        metrics.append(MetricDelta(metric=name, a=va, b=vb, delta=delta, better=better))

    changes: list[CaseChange] = []
    by_id_a = {c.id: c for c in a.cases}
    by_id_b = {c.id: c for c in b.cases}
    for cid, cb in by_id_b.items():
        ca = by_id_a.get(cid)
        if ca is None:
            continue
        exp = cb.expected
        verdict_a, fa, ea, erra = consensus(ca)
        verdict_b, fb, eb, errb = consensus(cb)
        if erra != errb:
            changes.append(
                CaseChange(
                    case_id=cid,
                    what="error",
                    detail="analysis now fails" if errb else "analysis no longer fails",
                    kind="regression" if errb else "fix",
                )
            )
        if verdict_a != verdict_b:
            kind: Kind = "fix" if verdict_b == exp.verdict else "regression" if verdict_a == exp.verdict else "change"
            changes.append(
                CaseChange(
                    case_id=cid,
                    what="verdict",
                    detail=f"{verdict_a} -> {verdict_b} (expected {exp.verdict})",
                    kind=kind,
                )
            )
        expected_flags = set(exp.flags)
        for cat in sorted(fb - fa):
            changes.append(
                CaseChange(
                    case_id=cid,
                    what="flag_gained",
                    detail=cat,
                    kind="fix" if cat in expected_flags else "regression",
                )
            )
        for cat in sorted(fa - fb):
            changes.append(
                CaseChange(
                    case_id=cid,
                    what="flag_lost",
                    detail=cat,
                    kind="regression" if cat in expected_flags else "fix",
                )
            )
        for ev in sorted(eb - ea):
            changes.append(CaseChange(case_id=cid, what="evidence", detail=f"now cites {ev!r}", kind="fix"))
        for ev in sorted(ea - eb):
            changes.append(
                CaseChange(case_id=cid, what="evidence", detail=f"no longer cites {ev!r}", kind="regression")
            )
    return Comparison(
        a=_label(a),
        b=_label(b),
        metrics=metrics,
        changes=changes,
        only_in_a=[c for c in by_id_a if c not in by_id_b],
        only_in_b=[c for c in by_id_b if c not in by_id_a],
    )
