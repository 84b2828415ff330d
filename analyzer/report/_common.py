"""Helpers every renderer shares, so the four formats say the same things in the same order."""

from __future__ import annotations

from dataclasses import dataclass

from analyzer.extraction.findings import Evidence
from analyzer.report.model import Report, RuleHit
from analyzer.taxonomy import Verdict

VERDICT_LABEL: dict[Verdict, str] = {
    "pursue": "PURSUE",
    "qualify_further": "QUALIFY FURTHER",
    "walk_away": "WALK AWAY",
    "nurture": "NURTURE",
}
VERDICT_STYLE: dict[Verdict, str] = {
    "pursue": "bold white on green",
    "qualify_further": "bold black on yellow",
    "walk_away": "bold white on red",
    "nurture": "bold white on blue",
}
MAX_EVIDENCE_PER_ROW = 3


def fmt_time(seconds: float | None) -> str:
    """'m:ss' or 'h:mm:ss'; '' when the export had no timings."""
    if seconds is None:
        return ""
    total = int(seconds)
    h, rem = divmod(total, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def decided_hit(report: Report) -> RuleHit | None:
    """The rule-trace entry that decided the verdict."""
    return next((h for h in report.rule_trace if h.decided), None)


def incomplete_note(report: Report) -> str:
    """The warning every renderer shows when a chunk failed, or '' for a complete report."""
    if report.complete:
        return ""
    n = len(report.chunk_failures)
    what = f"{n} chunk(s) failed" if n else "part of the call was not analyzed"
    return f"INCOMPLETE ANALYSIS: {what}; the verdict may miss evidence from those parts of the call."


def roles_note(report: Report) -> str:
    """Which roles were assumed by the heuristic, or ''."""
    if not report.roles_assumed:
        return ""
    assumed = [f"{s.name} = {s.role}" for s in report.speakers if s.role_source == "assumed"]
    return "Roles were assumed (no hint given): " + ", ".join(assumed) + "."


def input_notes(report: Report) -> list[str]:
    """What every renderer says about the input: the parser's warnings (a doubtful encoding, a call where
    only sellers speak...) and whether personal data was redacted before it was sent to the model."""
    notes = [f"Input: {w}" for w in (report.transcript.warnings if report.transcript is not None else [])]
    notes += [f"Model: {w}" for w in report.warnings]
    if report.redaction is not None:
        counts = ", ".join(f"{n} {k.strip('<>').lower()}" for k, n in report.redaction.counts.items()) or "nothing"
        notes.append(f"Redacted before it was sent to the model ({report.redaction.recognizer}): {counts}.")
    return notes


@dataclass(frozen=True)
class FlagRow:
    """One row of a flags table: a flag and one piece of its evidence (or its rationale)."""

    category: str
    severity: str
    quote: str
    speaker: str
    time: str
    turn: str
    sentence_id: str
    first: bool
    reason: str = ""
    """What the prospect did, on the flag's first row when it has quotes (the windows strategy names the
    behaviour that scored, e.g. "asked for money, a fee or a gift for themselves")."""


def flag_rows(report: Report) -> list[FlagRow]:
    """Flags with up to three evidence quotes each, in the report's (deterministic) order."""
    rows: list[FlagRow] = []
    for flag in report.flags:
        evs: list[Evidence] = flag.evidence[:MAX_EVIDENCE_PER_ROW]
        if not evs:
            rows.append(FlagRow(flag.category, flag.severity, flag.rationale, "", "", "", "", True))
        for i, ev in enumerate(evs):
            rows.append(
                FlagRow(
                    flag.category,
                    flag.severity,
                    ev.quote,
                    ev.speaker,
                    fmt_time(ev.start),
                    ev.turn_id,
                    ev.sentence_id,
                    i == 0,
                    flag.rationale if i == 0 else "",
                )
            )
    return rows


def usage_line(report: Report) -> str:
    """Backend, model and token usage in one line."""
    u = report.usage
    parts = [f"backend {report.backend or '?'}"]
    if report.model:
        parts.append(f"model {report.model}")
    if report.strategy:
        parts.append(f"strategy {report.strategy}")
    if report.backend not in ("", "keywords", "naive"):
        parts.append(f"profile {report.profile}" if report.profile else "no profile (uncalibrated)")
    if report.prompt_version:
        parts.append(f"prompts {report.prompt_version}")
    parts.append(
        f"{u.calls} LLM calls ({u.cache_hits} cached), {u.prompt_tokens} prompt tokens "
        f"({u.cached_prompt_tokens} reused), {u.completion_tokens} generated"
    )
    if u.cost_usd:
        parts.append(f"~${u.cost_usd:.4f}")
    return "; ".join(parts)


def coaching_lines(report: Report) -> list[str]:
    """The seller's discovery on this call, for every renderer ([] when the report has none)."""
    c = report.coaching
    if c is None:
        return []
    asked = ", ".join(f"{area} (\u201c{ev[0].quote}\u201d)" for area, ev in c.asked.items()) or "nothing"
    lines = [f"Asked about: {asked}.", f"Never asked: {', '.join(c.not_asked) or 'nothing'}."]
    for f in c.follow_ups:
        if f.followed_up:
            lines.append(f"Red flag {f.category} (\u201c{f.quote}\u201d) followed up: \u201c{f.reply}\u201d")
        else:
            lines.append(f"Red flag {f.category} (\u201c{f.quote}\u201d) talked past: no question came next.")
    talk = "" if c.talk_ratio is None else f"seller talk {c.talk_ratio:.0%}; "
    lines.append(
        f"{talk}{c.questions} seller question(s); longest monologue {c.longest_monologue_words} words "
        f"({c.longest_monologue_speaker or '?'})."
    )
    return lines


def grounding_line(report: Report) -> str:
    """How many citations held up."""
    g = report.grounding
    return (
        f"{g.kept} of {g.cited} cited sentences kept; {g.dropped_unknown_id} unknown ids dropped; "
        f"{g.dropped_seller_only} seller-only flags dropped, {g.downgraded_seller_only} downgraded"
    )


def follow_up_line(report: Report) -> str:
    """'Follow up in 90 days: topic' for a nurture plan, else ''."""
    m = report.message
    if m is None or m.follow_up_days is None:
        return ""
    topic = f": {m.follow_up_topic}" if m.follow_up_topic else ""
    return f"Follow up in {m.follow_up_days} days{topic}"
