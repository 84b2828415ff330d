"""Cross-call patterns from per-call summaries: deterministic counts, thresholds from the account policy."""

from __future__ import annotations

from collections import Counter

from analyzer.accounts.model import CallSummary, PatternEvidence, PatternFinding
from analyzer.accounts.policy import AccountPolicy

FALLING_SHARE = 0.6
"""Engagement is falling when the prospect says less than this share of their first call's words in each
of the last two calls (with 3 or more calls)."""


def indicators(calls: list[CallSummary]) -> dict[str, list[PatternEvidence]]:
    """Every indicator any pattern can use, with the calls and quotes that show it."""
    out: dict[str, list[PatternEvidence]] = {}

    def add(name: str, call: CallSummary, speaker: str = "", start: float | None = None, quote: str = "") -> None:
        out.setdefault(name, []).append(
            PatternEvidence(call=call.label, date=call.date, what=name, speaker=speaker, start=start, quote=quote)
        )

    for i, call in enumerate(calls):
        for hit in call.behaviours:
            # A step not kept needs a step agreed before: it cannot show in the first call.
            if hit.behaviour == "step_not_kept" and i == 0:
                continue
            ev = hit.evidence[0] if hit.evidence else None
            add(hit.behaviour, call, ev.speaker if ev else "", ev.start if ev else None, ev.quote if ev else "")
        if "tire_kicker" in call.flags:
            add("tire_kicker_flag", call, quote=call.first_flag_quote if call.flags else "")
    # A decision maker promised in one call and absent from every later one (there must be a later one).
    for i, call in enumerate(calls[:-1]):
        promised = next((h for h in call.behaviours if h.behaviour == "dm_promised"), None)
        later = calls[i + 1 :]
        if promised is not None and all("decision_maker_engaged" not in c.signals for c in later):
            ev = promised.evidence[0] if promised.evidence else None
            add("dm_never_present", call, ev.speaker if ev else "", ev.start if ev else None, ev.quote if ev else "")
            for c in later:
                add("dm_never_present", c, quote="(the decision maker was not on this call)")
            break
    # The same qualification element left open in three or more calls.
    counts = Counter(area for c in calls for area in set(c.open_areas))
    repeated = sorted(a for a, n in counts.items() if n >= 3)
    if repeated:
        for c in calls:
            if set(c.open_areas) & set(repeated):
                add("same_gap_repeated", c, quote=f"open again: {', '.join(sorted(set(c.open_areas) & set(repeated)))}")
    if len(calls) >= 3 and calls[0].prospect_words:
        first = calls[0].prospect_words
        if all(c.prospect_words < FALLING_SHARE * first for c in calls[-2:]):
            for c in calls[-2:]:
                add("engagement_falling", c, quote=f"the prospect said {c.prospect_words} words (first call: {first})")
    return out


def detect_patterns(policy: AccountPolicy, calls: list[CallSummary]) -> list[PatternFinding]:
    """The patterns whose indicator counts reach the policy's thresholds."""
    found = indicators(calls)
    out: list[PatternFinding] = []
    for name, rule in policy.patterns.items():
        present = [i for i in rule.indicators if i in found]
        call_labels = {e.call for i in present for e in found[i]}
        if len(present) >= rule.min_indicators and len(call_labels) >= rule.min_calls:
            evidence = [e for i in present for e in found[i]]
            evidence.sort(key=lambda e: [c.label for c in calls].index(e.call))
            out.append(PatternFinding(pattern=name, indicators=present, calls=len(call_labels), evidence=evidence))
    return out
