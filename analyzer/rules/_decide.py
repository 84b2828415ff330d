"""``decide``: findings in, the whole verdict report out. Deterministic: no clock, no model, no
dependence on the order findings arrive in."""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from analyzer.extraction.findings import Findings, Flag, SignalFinding
from analyzer.report.model import Report, RuleHit
from analyzer.rules import _messages
from analyzer.rules._icp import ICP
from analyzer.rules._policy import DEFAULT_POLICY_PATH, Facts, Policy, evaluate, first_verdict, load_policy
from analyzer.rules._questions import open_questions
from analyzer.taxonomy import CATEGORIES, SEVERITY_RANK, SIGNALS, Category, Severity, Signal, Verdict
from analyzer.transcript.model import Transcript

_ID_PART = re.compile(r"\d+|\D+")

# What each signal means in a "would change" sentence.
SIGNAL_PHRASES: dict[Signal, str] = {
    "need_confirmed": "the prospect confirmed the need in their own words",
    "budget_confirmed": "a budget were confirmed",
    "decision_maker_engaged": "the economic buyer joined the conversation",
    "timeline_defined": "a timeline were set",
    "next_step_agreed": "a next step were agreed",
    "prospect_declined": "the prospect declined",
}
CORE_SIGNALS: tuple[Signal, ...] = ("need_confirmed", "budget_confirmed", "decision_maker_engaged")
CORE_NAMES: dict[Signal, str] = {
    "need_confirmed": "need",
    "budget_confirmed": "budget",
    "decision_maker_engaged": "authority",
}


def _join(items: Sequence[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


@lru_cache(maxsize=1)
def _default_policy() -> Policy:
    # Parsed once per process: a batch decides thousands of calls against the same shipped file.
    return load_policy(DEFAULT_POLICY_PATH)


def _id_key(sentence_id: str) -> tuple[tuple[int, int | str], ...]:
    """Natural order for ids: 't2.1' before 't10.1'."""
    return tuple((0, int(p)) if p.isdigit() else (1, p) for p in _ID_PART.findall(sentence_id))


def _flag_key(flag: Flag) -> tuple[object, ...]:
    first = flag.evidence[0].sentence_id if flag.evidence else "~"
    return (
        -SEVERITY_RANK[flag.severity],
        CATEGORIES.index(flag.category),
        -flag.score,
        _id_key(first),
        flag.rationale,
        tuple(e.sentence_id for e in flag.evidence),
    )


def _signal_key(sig: SignalFinding) -> tuple[object, ...]:
    first = sig.evidence[0].sentence_id if sig.evidence else "~"
    return (SIGNALS.index(sig.signal), -sig.score, _id_key(first))


def _would_change(policy: Policy, facts: Facts, verdict: Verdict, complete: bool, missed: int) -> list[str]:
    """Single changes of evidence that would change the verdict, found by re-running the policy on
    counterfactual facts, so the sentences are true of whatever policy is in force."""
    out: list[str] = []
    high_ethics = ("ethics", "high") in facts.severities

    def with_(sev: frozenset[tuple[Category, Severity]], sig: frozenset[Signal]) -> Verdict:
        return first_verdict(policy, Facts(severities=sev, signals=sig, icp_defined=facts.icp_defined))

    if high_ethics and verdict == "walk_away":
        out.append(
            "Nothing discovery can surface changes this verdict while the ethics concern stands; "
            "do not re-engage on the same terms."
        )
    else:
        # Adding one missing positive signal at a time, then the three core ones together.
        missing = [s for s in SIGNALS if s != "prospect_declined" and s not in facts.signals]
        for s in missing:
            v = with_(facts.severities, facts.signals | {s})
            if v != verdict:
                out.append(f"If {SIGNAL_PHRASES[s]}, the verdict would be {v}.")
        core_missing = [s for s in CORE_SIGNALS if s not in facts.signals]
        if len(core_missing) > 1:
            v = with_(facts.severities, facts.signals | set(core_missing))
            if v != verdict:
                out.append(
                    f"If {_join([CORE_NAMES[s] for s in core_missing])} were all evidenced, the verdict would be {v}."
                )
        if "prospect_declined" in facts.signals:
            v = with_(facts.severities, facts.signals - {"prospect_declined"})
            if v != verdict:
                out.append(f"If the prospect re-opened the conversation, the verdict would be {v}.")
        # Resolving one flagged category (medium or high) at a time.
        for category in CATEGORIES:
            present = [s for c, s in facts.severities if c == category]
            if not present or max(SEVERITY_RANK[s] for s in present) < SEVERITY_RANK["medium"]:
                continue
            worst = max(present, key=lambda s: SEVERITY_RANK[s])
            v = with_(frozenset(p for p in facts.severities if p[0] != category), facts.signals)
            if v != verdict:
                out.append(f"If the {category} concern ({worst}) were resolved, the verdict would be {v}.")
        # The whole path to pursue: the missing core signals evidenced and every medium concern resolved
        # (high ones are named above; they are not a discovery question).
        mediums = sorted({c for c, sev in facts.severities if sev == "medium"})
        if verdict != "pursue" and mediums and not any(s == "high" for _, s in facts.severities):
            sev = frozenset(p for p in facts.severities if p[1] == "low")
            v = with_(sev, facts.signals | set(core_missing))
            # A single resolved concern with nothing missing is already said above.
            if v == "pursue" and (core_missing or len(mediums) > 1):
                what = [CORE_NAMES[s] for s in core_missing]
                evidenced = f"{_join(what)} were evidenced and " if what else ""
                concerns = _join(mediums) + (" concerns" if len(mediums) > 1 else " concern")
                out.append(f"If {evidenced}the {concerns} were resolved, the verdict would be pursue.")
    if verdict == "pursue":
        worse = sorted({with_(facts.severities | {(c, "medium")}, facts.signals) for c in CATEGORIES} - {"pursue"})
        if worse:
            out.append(f"A medium or high red flag raised later would make it {' or '.join(worse)}.")
    if not complete:
        out.append(f"{missed} chunk(s) of the call were not analyzed; evidence in them could change the verdict.")
    if not out:
        out.append("No single change of evidence would change this verdict.")
    return out


def decide(
    findings: Findings,
    transcript: Transcript | None = None,
    *,
    policy: Policy | None = None,
    icp: ICP | None = None,
    include_transcript: bool = True,
) -> Report:
    """Apply the policy to the findings and build the whole report: verdict, the rule trace, evidence,
    open questions, what would change the verdict and the message draft.

    The same findings always give the same report, whatever order the flags and signals arrive in.
    """
    pol = policy if policy is not None else _default_policy()
    flags = sorted(findings.flags, key=_flag_key)
    signals = sorted(findings.signals, key=_signal_key)
    facts = Facts.of(flags, signals, icp_defined=icp is not None)

    trace: list[RuleHit] = []
    decided: RuleHit | None = None
    for rule in pol.ordered_rules():
        matched = evaluate(rule.when, facts)
        if matched is None:
            continue
        hit = RuleHit(
            rule_id=rule.id,
            verdict=rule.verdict,
            reason=rule.reason,
            matched=matched,
            decided=decided is None,
        )
        if decided is None:
            decided = hit
        trace.append(hit)
    if decided is None:  # the validator guarantees a final unconditional rule
        raise AssertionError("policy has no default rule")
    verdict: Verdict = decided.verdict or "qualify_further"

    questions = open_questions(verdict, flags, signals, icp)
    message = _messages.draft(verdict, decided, flags, signals, questions, transcript, icp)
    complete = findings.complete
    return Report(
        source=transcript.source if transcript is not None else "",
        verdict=verdict,
        complete=complete,
        policy_id=pol.id,
        policy_version=pol.version,
        decided_by=decided.rule_id,
        rule_trace=trace,
        flags=flags,
        signals=signals,
        open_questions=questions,
        would_change=_would_change(pol, facts, verdict, complete, len(findings.chunk_failures)),
        message=message,
        speakers=list(transcript.speakers) if transcript is not None else [],
        roles_assumed=transcript.roles_assumed if transcript is not None else False,
        grounding=findings.grounding,
        scores=dict(findings.scores),
        cue_hits=list(findings.cue_hits),
        strategy=findings.strategy,
        profile=findings.profile,
        warnings=list(findings.warnings),
        windows=list(findings.windows),
        usage=findings.usage,
        chunk_failures=[f"chunk {c.chunk_id}: {c.error}" for c in findings.chunk_failures],
        backend_failed=any(c.backend for c in findings.chunk_failures),
        redaction=findings.redaction,
        backend=findings.backend,
        model=findings.model,
        prompt_version=findings.prompt_version,
        transcript=transcript if include_transcript else None,
    )
