"""The standalone HTML report: one file, no external resources, every piece of call text escaped by
jinja2's autoescape, and the cited sentences highlighted in the transcript."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import jinja2

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
from analyzer.taxonomy import SEVERITY_RANK, Severity

TEMPLATES = Path(__file__).with_name("templates")


@dataclass
class Mark:
    """Why a sentence is highlighted: the flags (category:severity) and signals that cite it."""

    flags: list[str] = field(default_factory=list)
    signals: list[str] = field(default_factory=list)
    worst: Severity | None = None

    def css(self) -> str:
        """CSS classes: the worst severity citing it, or 'signal' for signal-only evidence."""
        return f"sev-{self.worst}" if self.worst else "signal"

    def title(self) -> str:
        """Tooltip text."""
        return ", ".join(self.flags + self.signals)


@lru_cache(maxsize=1)
def _env() -> jinja2.Environment:
    # autoescape on for every template: transcripts are untrusted text.
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def _marks(report: Report) -> dict[str, Mark]:
    marks: dict[str, Mark] = {}
    for flag in report.flags:
        for ev in flag.evidence:
            m = marks.setdefault(ev.sentence_id, Mark())
            m.flags.append(f"{flag.category} ({flag.severity})")
            if m.worst is None or SEVERITY_RANK[flag.severity] > SEVERITY_RANK[m.worst]:
                m.worst = flag.severity
    for sig in report.signals:
        for ev in sig.evidence:
            marks.setdefault(ev.sentence_id, Mark()).signals.append(sig.signal)
    return marks


def render_html(report: Report) -> str:
    """The report as one standalone HTML page."""
    marks = _marks(report)
    return (
        _env()
        .get_template("report.html.j2")
        .render(
            report=report,
            verdict_label=VERDICT_LABEL[report.verdict],
            decided=decided_hit(report),
            incomplete=incomplete_note(report),
            roles=roles_note(report),
            notes=input_notes(report),
            rows=flag_rows(report),
            marks=marks,
            fmt_time=fmt_time,
            follow_up=follow_up_line(report),
            grounding=grounding_line(report),
            coaching=coaching_lines(report),
            usage=usage_line(report),
        )
    )
