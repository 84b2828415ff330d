"""Metric code on hand-computed examples."""

from __future__ import annotations

import math

import pytest

from analyzer.eval.metrics import compute_metrics, evidence_hits, percentile, score_label, spread, summarize
from analyzer.eval.suite import Expected

from ._helpers import run


def _four_cases() -> list[tuple[Expected, object]]:
    # Hand-computed: budget TP=2; authority FN=2; ethics FP=1; engagement FP=1; fit/relationship/
    # tire_kicker have no support and no prediction (excluded from the macro).
    return [
        (
            Expected(verdict="walk_away", flags=["budget", "authority"], evidence=["frozen", "VP signs"]),
            run(
                "walk_away",
                ["budget"],
                grounding_cited=4,
                grounding_dropped=1,
                seconds=1.0,
                evidence_hits=["frozen"],
                evidence_missed=["VP signs"],
                prompt_tokens=100,
                cost_usd=0.01,
            ),
        ),
        (
            Expected(verdict="qualify_further", flags=["budget"]),
            run("walk_away", ["budget", "ethics"], grounding_cited=6, seconds=2.0, prompt_tokens=50),
        ),
        (
            Expected(verdict="pursue", flags=[]),
            run("pursue", ["engagement"], complete=False, seconds=3.0, cached_prompt_tokens=7),
        ),
        (
            Expected(verdict="nurture", flags=["authority"]),
            run(None, [], error="backend down", complete=False, seconds=4.0),
        ),
    ]


def test_per_category_counts_and_scores() -> None:
    m = compute_metrics(_four_cases())  # type: ignore[arg-type]
    b, a, e, g = (m.categories[c] for c in ("budget", "authority", "ethics", "engagement"))
    assert (b.tp, b.fp, b.fn, b.tn) == (2, 0, 0, 2)
    assert (b.precision, b.recall, b.f1) == (1.0, 1.0, 1.0)
    assert (a.tp, a.fp, a.fn, a.support) == (0, 0, 2, 2)
    assert (a.precision, a.recall, a.f1) == (0.0, 0.0, 0.0)
    assert (e.fp, e.support, e.predicted, e.f1) == (1, 0, 1, 0.0)
    assert g.f1 == 0.0
    for cat in ("fit", "relationship", "tire_kicker"):
        assert m.categories[cat].f1 is None
    # Macro over the four defined categories only: (1 + 0 + 0 + 0) / 4.
    assert m.macro_f1 == pytest.approx(0.25)
    # Micro pools TP=2, FP=2, FN=2.
    assert m.micro_f1 == pytest.approx(0.5)


def test_verdicts_rates_tokens_latency() -> None:
    m = compute_metrics(_four_cases())  # type: ignore[arg-type]
    assert m.verdict_accuracy == pytest.approx(0.5)
    assert m.confusion["walk_away"]["walk_away"] == 1
    assert m.confusion["qualify_further"]["walk_away"] == 1
    assert m.confusion["pursue"]["pursue"] == 1
    assert m.confusion["nurture"]["none"] == 1
    assert sum(sum(row.values()) for row in m.confusion.values()) == 4
    assert m.evidence_hit_rate == pytest.approx(0.5)
    assert m.grounding_drop_rate == pytest.approx(0.1)
    assert m.invalid_output_rate == pytest.approx(0.5)
    assert m.errors == 1
    assert (m.prompt_tokens, m.cached_prompt_tokens, m.cost_usd) == (150, 7, pytest.approx(0.01))
    assert m.latency_p50_s == pytest.approx(2.5)
    assert m.latency_p95_s == pytest.approx(3.85)
    assert m.signal_macro_f1 is None  # no case labels signals


def test_signals_scored_only_on_labelled_cases() -> None:
    from analyzer.eval.records import CitedSignal

    r1 = run("pursue", [], signals=[CitedSignal(signal="need_confirmed")])
    r2 = run("pursue", [], signals=[CitedSignal(signal="budget_confirmed")])
    m = compute_metrics(
        [
            (Expected(verdict="pursue", signals=["need_confirmed", "timeline_defined"]), r1),
            (Expected(verdict="pursue"), r2),  # unlabelled: its budget_confirmed is not a false positive
        ]
    )
    assert m.signal_cases == 1
    assert m.signals["need_confirmed"].f1 == 1.0
    assert m.signals["timeline_defined"].f1 == 0.0
    assert m.signals["budget_confirmed"].f1 is None
    assert m.signal_macro_f1 == pytest.approx(0.5)


def test_score_label_conventions() -> None:
    assert score_label(0, 0, 0).f1 is None
    assert score_label(0, 3, 0).f1 == 0.0
    s = score_label(3, 1, 2)
    assert s.precision == pytest.approx(0.75)
    assert s.recall == pytest.approx(0.6)
    assert s.f1 == pytest.approx(2 * 0.75 * 0.6 / 1.35)


def test_evidence_hits_case_insensitive_substring() -> None:
    hits, missed = evidence_hits(["Finder's FEE", "budget"], ["a finder's fee paid to me", "no money"])
    assert hits == ["Finder's FEE"]
    assert missed == ["budget"]


def test_percentile_and_spread() -> None:
    assert percentile([], 95) == 0.0
    assert percentile([5.0], 95) == 5.0
    assert percentile([1, 2, 3, 4, 5], 50) == 3
    s = spread([0.5, None, 1.0])
    assert s is not None
    assert (s.mean, s.min, s.max, s.n) == (0.75, 0.5, 1.0, 2)
    assert s.stdev == pytest.approx(math.sqrt(0.125))
    assert spread([None]) is None
    one = spread([0.3])
    assert one is not None
    assert one.stdev == 0.0


def test_summarize_across_repeats() -> None:
    e = Expected(verdict="pursue", flags=["budget"])
    rep0 = compute_metrics([(e, run("pursue", ["budget"]))], repeat=0)
    rep1 = compute_metrics([(e, run("walk_away", []))], repeat=1)
    summary = summarize([rep0, rep1])
    assert summary["verdict_accuracy"].mean == pytest.approx(0.5)
    assert summary["verdict_accuracy"].stdev == pytest.approx(math.sqrt(0.5))
    assert summary["macro_f1"].min == 0.0
    assert summary["macro_f1"].max == 1.0
    assert "f1.fit" not in summary  # undefined in every repeat
    assert "evidence_hit_rate" not in summary


def test_severity_accuracy_is_over_labelled_flags_the_run_raised() -> None:
    from analyzer.eval.records import CaseRun, CitedFlag

    def r(verdict: str, flags: dict[str, str]) -> CaseRun:
        return CaseRun(
            repeat=0,
            verdict=verdict,  # type: ignore[arg-type]
            flags=[CitedFlag(category=c, severity=s) for c, s in flags.items()],  # type: ignore[arg-type]
        )

    pairs = [
        # budget labelled medium, raised medium: right; ethics labelled high, raised medium: wrong.
        (
            Expected.model_validate({"verdict": "walk_away", "flags": {"budget": "medium", "ethics": "high"}}),
            r("walk_away", {"budget": "medium", "ethics": "medium"}),
        ),
        # fit labelled high but missed: not counted (recall already pays for it).
        (Expected.model_validate({"verdict": "walk_away", "flags": {"fit": "high"}}), r("qualify_further", {})),
        # list form: severity not labelled, not counted; an ethics flag on a pursue call sent it to walk_away.
        (Expected(verdict="pursue", flags=["budget"]), r("walk_away", {"budget": "high", "ethics": "high"})),
    ]
    m = compute_metrics(pairs)  # type: ignore[arg-type]
    assert (m.severity_labelled, m.severity_correct) == (2, 1)
    assert m.severity_accuracy == pytest.approx(0.5)
    assert m.ethics_recall == pytest.approx(1.0)
    assert m.ethics_false_walk_away == 1
    assert m.scalars()["severity_accuracy"] == pytest.approx(0.5)


def test_no_labelled_severity_means_no_severity_accuracy() -> None:
    m = compute_metrics([(Expected(verdict="pursue", flags=[]), run("pursue", []))])  # type: ignore[list-item]
    assert m.severity_accuracy is None
    assert m.ethics_recall is None
