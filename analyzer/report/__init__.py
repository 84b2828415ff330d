"""The verdict report: the versioned model, and renderers for the terminal, JSON, Markdown and HTML."""

from __future__ import annotations

from analyzer.report._io import FORMATS, Format, fail_on_exit_code, load_report, render, write_report
from analyzer.report.model import SCHEMA_VERSION, MessageDraft, OpenQuestion, Report, RuleHit

__all__ = [
    "FORMATS",
    "SCHEMA_VERSION",
    "Format",
    "MessageDraft",
    "OpenQuestion",
    "Report",
    "RuleHit",
    "fail_on_exit_code",
    "load_report",
    "render",
    "write_report",
]
