"""The Markdown report: the same sections as the terminal report, as GitHub-flavoured Markdown."""

from __future__ import annotations

import re

from analyzer.report._common import (
    VERDICT_LABEL,
    coaching_lines,
    decided_hit,
    flag_rows,
    fmt_time,
    follow_up_line,
    grounding_line,
    incomplete_note,
    input_notes,
    roles_note,
    usage_line,
)
from analyzer.report.model import Report


def _cell(text: str) -> str:
    """Text safe inside a table cell: pipes escaped, newlines folded, raw HTML neutralised."""
    return _esc(" ".join(text.split())).replace("|", "\\|")


_MD_SPECIAL = re.compile(r"([*_`\[\]~#])")


def _esc(text: str) -> str:
    """Neutralise raw HTML and Markdown syntax: a transcript is untrusted input, Markdown viewers render
    HTML, and a quote such as ``*urgent*`` or ``[click](http://...)`` must stay the words that were said."""
    text = text.replace("\\", "\\\\").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MD_SPECIAL.sub(r"\\\1", text)


def render_markdown(report: Report) -> str:
    """The report as Markdown."""
    lines: list[str] = [f"# Verdict: {VERDICT_LABEL[report.verdict]}", ""]
    note = incomplete_note(report)
    if note:
        lines += [f"> **{note}**", ">"] + [f"> - {_cell(f)}" for f in report.chunk_failures] + [""]
    hit = decided_hit(report)
    if hit is not None:
        lines += [_esc(hit.reason), ""]
    lines += [
        f"- source: {_cell(report.source or 'transcript')}",
        f"- decided by rule `{report.decided_by}` (policy `{report.policy_id}` {report.policy_version})",
    ]
    rnote = roles_note(report)
    if rnote:
        lines.append(f"- {_esc(rnote)}")
    lines += [f"- {_esc(n)}" for n in input_notes(report)]
    lines.append("")

    lines += ["## Red flags", ""]
    if report.flags:
        lines += ["| category | severity | quote | speaker | time | turn |", "|---|---|---|---|---|---|"]
        for row in flag_rows(report):
            quote = f"“{_cell(row.quote)}”" if row.turn else _cell(row.quote)
            if row.reason:
                quote = f"{_cell(row.reason)}: {quote}"
            cat = row.category if row.first else ""
            sev = f"**{row.severity}**" if row.first and row.severity == "high" else (row.severity if row.first else "")
            lines.append(f"| {cat} | {sev} | {quote} | {_cell(row.speaker)} | {row.time} | {row.turn} |")
    else:
        lines.append("No red flags found.")
    lines.append("")

    if report.signals:
        lines += ["## Signals", "", "| signal | quote | speaker | time | turn |", "|---|---|---|---|---|"]
        for s in report.signals:
            ev = s.evidence[0] if s.evidence else None
            quote = f"“{_cell(ev.quote)}”" if ev else ""
            title = f"{s.signal} ({_cell(s.rationale)})" if s.rationale else s.signal
            lines.append(
                f"| {title} | {quote} | {_cell(ev.speaker) if ev else ''} | "
                f"{fmt_time(ev.start) if ev else ''} | {ev.turn_id if ev else ''} |"
            )
        lines.append("")

    if report.open_questions:
        lines += ["## Open questions", "", "| element | ask | why |", "|---|---|---|"]
        for q in report.open_questions:
            lines.append(f"| {_cell(q.element)} | {_cell(q.question)} | {_cell(q.why)} |")
        lines.append("")

    if report.would_change:
        lines += ["## What would change the verdict", ""] + [f"- {_esc(w)}" for w in report.would_change] + [""]

    if report.message is not None:
        m = report.message
        lines += [f"## Message draft ({m.kind})", "", f"**Subject:** {_cell(m.subject)}", ""]
        lines += [f"> {_esc(line)}" if line else ">" for line in m.body.splitlines()]
        lines.append("")
        plan = follow_up_line(report)
        if plan:
            lines += [f"**{_esc(plan)}**", ""]

    if report.rule_trace:
        lines += ["## Rule trace", "", "| | rule | verdict | matched |", "|---|---|---|---|"]
        for h in report.rule_trace:
            mark = "✔" if h.decided else ""
            lines.append(f"| {mark} | `{h.rule_id}` | {h.verdict or ''} | {_cell('; '.join(h.matched))} |")
        lines.append("")

    discovery = coaching_lines(report)
    if discovery:
        lines += ["## Discovery coaching", "", *[f"- {_esc(x)}" for x in discovery], ""]
    lines += ["---", "", f"- grounding: {grounding_line(report)}", f"- usage: {usage_line(report)}", ""]
    return "\n".join(lines)
