"""An account report as text (a terminal), Markdown or JSON."""

from __future__ import annotations

import io

from rich import box
from rich.console import Console
from rich.table import Table

from analyzer.accounts.model import AccountReport


def _when(start: float | None) -> str:
    if start is None:
        return ""
    m, s = divmod(int(start), 60)
    return f"{m:02d}:{s:02d}"


def render_account_text(report: AccountReport) -> str:
    """The account verdict, the patterns with their cited quotes, the calls, the rule and the draft."""
    out = io.StringIO()
    console = Console(file=out, width=110, force_terminal=False, color_system=None)
    decided = next((h for h in report.rule_trace if h.decided), None)
    console.print(f"Account {report.account}: {report.verdict.replace('_', ' ').upper()}")
    if decided is not None:
        console.print(f"{decided.reason} (rule {decided.rule_id}; {'; '.join(decided.matched) or 'default'})")
    if report.undated:
        console.print("Some calls had no date: they are listed after the dated ones, in the order given.")
    for p in report.patterns:
        table = Table(title=f"{p.pattern}: {', '.join(p.indicators)} over {p.calls} calls", box=box.SIMPLE)
        for col in ("call", "date", "shows", "speaker", "time", "quote"):
            table.add_column(col)
        for e in p.evidence:
            table.add_row(e.call, str(e.date or ""), e.what, e.speaker, _when(e.start), e.quote)
        console.print(table)
    calls = Table(title="Calls", box=box.SIMPLE)
    for col in ("#", "call", "date", "verdict", "flags", "signals", "minutes", "prospect words"):
        calls.add_column(col)
    for i, c in enumerate(report.calls, 1):
        calls.add_row(
            str(i),
            c.label,
            str(c.date or "undated"),
            c.verdict,
            ", ".join(f"{k}:{v}" for k, v in c.flags.items()) or "-",
            ", ".join(c.signals) or "-",
            "" if c.minutes is None else f"{c.minutes:g}",
            str(c.prospect_words),
        )
    console.print(calls)
    if report.message is not None:
        console.print(f"Draft ({report.message.kind}): {report.message.subject}\n{report.message.body}")
    console.print(f"policy {report.policy_id} {report.policy_version}; backend {report.backend or '?'}")
    return out.getvalue()


def render_account_markdown(report: AccountReport) -> str:
    """The same content as Markdown."""
    lines = [f"# Account {report.account}: {report.verdict.replace('_', ' ')}", ""]
    decided = next((h for h in report.rule_trace if h.decided), None)
    if decided is not None:
        lines += [f"{decided.reason} (rule `{decided.rule_id}`)", ""]
    for p in report.patterns:
        lines += [f"## {p.pattern} ({p.calls} calls)", "", "| call | date | shows | quote |", "|---|---|---|---|"]
        lines += [f"| {e.call} | {e.date or ''} | {e.what} | {e.quote.replace('|', '/')} |" for e in p.evidence]
        lines.append("")
    lines += ["## Calls", "", "| # | call | date | verdict | flags | signals |", "|---|---|---|---|---|---|"]
    for i, c in enumerate(report.calls, 1):
        flags = ", ".join(f"{k}:{v}" for k, v in c.flags.items()) or "-"
        lines.append(
            f"| {i} | {c.label} | {c.date or 'undated'} | {c.verdict} | {flags} | {', '.join(c.signals) or '-'} |"
        )
    if report.message is not None:
        lines += ["", f"## Draft: {report.message.subject}", "", report.message.body]
    return "\n".join(lines) + "\n"


def render_account(report: AccountReport, fmt: str) -> str:
    """``text``, ``md`` or ``json``."""
    if fmt == "json":
        return report.model_dump_json(indent=2) + "\n"
    if fmt == "md":
        return render_account_markdown(report)
    return render_account_text(report)
