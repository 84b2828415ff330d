"""The terminal report (rich): a verdict banner, the flags table with quotes, then the rest.

Every string that comes from the call or the model is passed as a ``Text``, never as a markup string:
transcript text such as "[/bold]" is what someone said, not a style (rich raises on unbalanced tags)."""

from __future__ import annotations

import io

from rich import box
from rich.console import Console, Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from analyzer.report._common import (
    VERDICT_LABEL,
    VERDICT_STYLE,
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

WIDTH = 100
SEVERITY_STYLE = {"high": "bold red", "medium": "yellow", "low": "dim"}


def renderables(report: Report) -> list[RenderableType]:
    """The report as rich renderables, in reading order."""
    out: list[RenderableType] = []
    hit = decided_hit(report)
    banner = Text(f" {VERDICT_LABEL[report.verdict]} ", style=VERDICT_STYLE[report.verdict], justify="center")
    body: list[RenderableType] = [banner]
    if hit is not None:
        body.append(Text(hit.reason, justify="center"))
    body.append(
        Text(
            f"decided by rule {report.decided_by or '?'} · policy {report.policy_id} {report.policy_version}",
            style="dim",
            justify="center",
        )
    )
    out.append(Panel(Group(*body), title=Text(f"walkaway · {report.source or 'transcript'}"), box=box.HEAVY))
    note = incomplete_note(report)
    if note:
        lines = "\n".join([note, *report.chunk_failures])
        out.append(Panel(Text(lines, style="bold red"), title="incomplete", box=box.HEAVY, border_style="red"))
    rnote = roles_note(report)
    if rnote:
        out.append(Text(rnote, style="yellow"))
    out.extend(Text(n, style="yellow") for n in input_notes(report))

    if report.flags:
        table = Table(title="Red flags", box=box.SIMPLE_HEAD, expand=True, title_justify="left")
        table.add_column("category", width=12, overflow="fold")
        table.add_column("severity", width=8)
        table.add_column("quote", ratio=1, overflow="fold")
        table.add_column("speaker", width=16, overflow="fold")
        table.add_column("time", width=7)
        table.add_column("turn", width=6, overflow="fold")
        for row in flag_rows(report):
            sev = Text(row.severity, style=SEVERITY_STYLE.get(row.severity, ""))
            table.add_row(
                Text(row.category) if row.first else "",
                sev if row.first else "",
                Text((f"{row.reason}: " if row.reason else "") + (f"“{row.quote}”" if row.turn else row.quote)),
                Text(row.speaker),
                row.time,
                Text(row.turn),
            )
        out.append(table)
    else:
        out.append(Text("No red flags found.", style="green"))

    if report.signals:
        sig = Table(title="Signals", box=box.SIMPLE_HEAD, expand=True, title_justify="left")
        sig.add_column("signal", width=22, overflow="fold")
        sig.add_column("quote", ratio=1, overflow="fold")
        sig.add_column("speaker", width=16, overflow="fold")
        sig.add_column("time", width=7)
        sig.add_column("turn", width=6, overflow="fold")
        for s in report.signals:
            ev = s.evidence[0] if s.evidence else None
            sig.add_row(
                Text(s.title),
                Text(f"“{ev.quote}”" if ev else ""),
                Text(ev.speaker if ev else ""),
                fmt_time(ev.start) if ev else "",
                Text(ev.turn_id if ev else ""),
            )
        out.append(sig)

    if report.open_questions:
        q = Table(title="Open questions", box=box.SIMPLE_HEAD, expand=True, title_justify="left")
        q.add_column("element", ratio=2, overflow="fold")
        q.add_column("ask", ratio=6, overflow="fold")
        q.add_column("why", ratio=4, overflow="fold")
        for oq in report.open_questions:
            q.add_row(Text(oq.element), Text(oq.question), Text(oq.why))
        out.append(q)

    if report.would_change:
        out.append(Text("What would change the verdict", style="bold italic"))
        grid = Table.grid(padding=(0, 1))
        grid.add_column(width=3, justify="right")
        grid.add_column(ratio=1, overflow="fold")
        for w in report.would_change:
            grid.add_row("•", Text(w))
        out.append(grid)
        out.append(Text(""))

    if report.message is not None:
        m = report.message
        parts: list[RenderableType] = [Text(f"Subject: {m.subject}", style="bold"), Text(""), Text(m.body)]
        plan = follow_up_line(report)
        if plan:
            parts += [Text(""), Text(plan, style="bold blue")]
        out.append(Panel(Group(*parts), title=Text(f"message draft ({m.kind}, {m.source})"), box=box.ROUNDED))

    if report.rule_trace:
        tr = Table(
            title="Rule trace (rules that matched, in priority order)",
            box=box.SIMPLE_HEAD,
            expand=True,
            title_justify="left",
        )
        tr.add_column("", width=1)
        tr.add_column("rule", ratio=3, overflow="fold")
        tr.add_column("verdict", ratio=2, overflow="fold")
        tr.add_column("matched", ratio=6, overflow="fold")
        for h in report.rule_trace:
            tr.add_row("*" if h.decided else "", Text(h.rule_id), Text(h.verdict or ""), Text("; ".join(h.matched)))
        out.append(tr)

    discovery = coaching_lines(report)
    if discovery:
        out.append(Panel(Text("\n".join(discovery)), title="discovery coaching", box=box.ROUNDED))
    out.append(Text(f"grounding: {grounding_line(report)}", style="dim"))
    out.append(Text(f"usage: {usage_line(report)}", style="dim"))
    return out


def render_text(report: Report) -> str:
    """Plain text (no colour codes), at a fixed width so the output is reproducible."""
    buf = io.StringIO()
    console = Console(
        file=buf,
        width=WIDTH,
        color_system=None,
        force_terminal=False,
        no_color=True,
        legacy_windows=False,
        emoji=False,
        highlight=False,
    )
    for r in renderables(report):
        console.print(r)
    return "\n".join(line.rstrip() for line in buf.getvalue().splitlines()) + "\n"


def print_text(report: Report, console: Console | None = None) -> None:
    """Print the report to the terminal, with colour when it is one."""
    console = console or Console(highlight=False, emoji=False)
    for r in renderables(report):
        console.print(r)
