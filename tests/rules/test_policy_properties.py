"""Property tests of the default policy (favourability: pursue > qualify_further > nurture > walk_away)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from rules_helpers import findings, transcript

from analyzer.extraction.findings import Findings
from analyzer.rules import FAVOURABILITY, decide
from analyzer.taxonomy import CATEGORIES, SEVERITIES, SIGNALS

RANK = {v: i for i, v in enumerate(FAVOURABILITY)}  # lower is more favourable

flag_pairs = st.lists(st.tuples(st.sampled_from(CATEGORIES), st.sampled_from(SEVERITIES)), max_size=8)
signal_sets = st.lists(st.sampled_from(SIGNALS), unique=True, max_size=len(SIGNALS))
CORE = ("need_confirmed", "budget_confirmed", "decision_maker_engaged")
TRANSCRIPT = transcript()


def test_favourability_order_is_documented():
    assert FAVOURABILITY == ("pursue", "qualify_further", "nurture", "walk_away")


@settings(max_examples=150, deadline=None)
@given(flags=flag_pairs, signals=signal_sets, data=st.data())
def test_report_is_independent_of_finding_order(flags, signals, data):
    base = findings(flags, signals)
    shuffled = Findings(
        flags=data.draw(st.permutations(base.flags)),
        signals=data.draw(st.permutations(base.signals)),
        chunks_total=base.chunks_total,
        backend=base.backend,
        model=base.model,
        prompt_version=base.prompt_version,
    )
    # The whole report, not only the verdict: trace, questions, drafts and flag order too.
    assert decide(shuffled, TRANSCRIPT).model_dump() == decide(base, TRANSCRIPT).model_dump()


@settings(max_examples=200, deadline=None)
@given(flags=flag_pairs, signals=signal_sets)
def test_adding_a_high_ethics_flag_never_makes_the_verdict_more_favourable(flags, signals):
    before = decide(findings(flags, signals)).verdict
    after = decide(findings([*flags, ("ethics", "high")], signals)).verdict
    assert RANK[after] >= RANK[before]
    assert after == "walk_away"


@settings(max_examples=200, deadline=None)
@given(
    flags=flag_pairs,
    signals=signal_sets,
    extra=st.tuples(st.sampled_from(CATEGORIES), st.sampled_from(SEVERITIES)),
)
def test_adding_any_flag_never_makes_the_verdict_more_favourable(flags, signals, extra):
    before = decide(findings(flags, signals)).verdict
    after = decide(findings([*flags, extra], signals)).verdict
    assert RANK[after] >= RANK[before]


@settings(max_examples=200, deadline=None)
@given(flags=flag_pairs, extra_signals=signal_sets)
def test_removing_all_flags_from_a_qualified_call_never_walks_away(flags, extra_signals):
    signals = sorted(set(CORE) | set(extra_signals))
    assert decide(findings([], signals)).verdict != "walk_away"
    # And a qualified call with its flags removed is never *less* favourable than with them.
    assert RANK[decide(findings([], signals)).verdict] <= RANK[decide(findings(flags, signals)).verdict]


@settings(max_examples=150, deadline=None)
@given(flags=st.lists(st.tuples(st.sampled_from(CATEGORIES), st.just("low")), max_size=7))
def test_low_flags_never_block_pursue(flags):
    assert decide(findings(flags, CORE)).verdict == "pursue"


@settings(max_examples=100, deadline=None)
@given(flags=flag_pairs, signals=signal_sets)
def test_duplicate_flags_change_nothing_but_the_evidence_list(flags, signals):
    once = decide(findings(flags, signals))
    twice = decide(findings([*flags, *flags], signals))
    assert (twice.verdict, twice.decided_by, [h.rule_id for h in twice.rule_trace]) == (
        once.verdict,
        once.decided_by,
        [h.rule_id for h in once.rule_trace],
    )
