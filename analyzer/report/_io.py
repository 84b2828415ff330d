"""Rendering dispatch, writing a report out, and loading a saved one back."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Literal, get_args

from pydantic import ValidationError

from analyzer._errors import ConfigError
from analyzer.report._html import render_html
from analyzer.report._markdown import render_markdown
from analyzer.report._text import print_text, render_text
from analyzer.report.model import SCHEMA_VERSION, Report
from analyzer.taxonomy import Verdict

Format = Literal["text", "json", "md", "html"]
FORMATS: tuple[str, ...] = get_args(Format)


def render(report: Report, fmt: Format) -> str:
    """The report as text (plain, fixed width), JSON, Markdown or standalone HTML.

    Deterministic: the same report always renders to the same string (no clock, no terminal probing).
    """
    if fmt == "text":
        return render_text(report)
    if fmt == "json":
        return report.model_dump_json(indent=2) + "\n"
    if fmt == "md":
        return render_markdown(report)
    if fmt == "html":
        return render_html(report)
    raise ConfigError(f"unknown report format '{fmt}'; expected one of: {', '.join(FORMATS)}")


def write_report(report: Report, fmt: str, out: Path | None) -> None:
    """Write the report to ``out``, or to stdout when None (with rich colour for text on a terminal)."""
    if fmt not in FORMATS:
        raise ConfigError(f"unknown report format '{fmt}'; expected one of: {', '.join(FORMATS)}")
    if out is None:
        if fmt == "text":
            print_text(report)
        else:
            sys.stdout.write(render(report, fmt))  # type: ignore[arg-type]
            sys.stdout.flush()
        return
    text = render(report, fmt)  # type: ignore[arg-type]
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{out}: cannot write the report ({exc.strerror or exc})") from None


def load_report(path: str | Path) -> Report:
    """Load a report saved with ``--format json``; a bad file is one ConfigError sentence."""
    p = Path(path)
    try:
        raw = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{p}: report file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{p}: cannot read the report ({exc})") from None
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"{p}, line {exc.lineno}: not a JSON report ({exc.msg}); save one with `--format json`"
        ) from None
    if not isinstance(data, dict) or "verdict" not in data:
        raise ConfigError(f"{p}: not a walkaway report (expected a JSON object with a 'verdict')")
    version = data.get("schema_version")
    if version != SCHEMA_VERSION:
        raise ConfigError(
            f"{p}: report schema_version is {version!r}, but this walkaway reads schema {SCHEMA_VERSION!r}; "
            "re-run `walkaway analyze` to regenerate it"
        )
    try:
        return Report.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(x) for x in err.get("loc", ())) or "(report)"
        raise ConfigError(f"{p}: invalid report, field '{field}': {err.get('msg', 'bad value')}") from None


def fail_on_exit_code(verdict: Verdict, fail_on: tuple[str, ...] | list[str]) -> int:
    """1 when the verdict is one of the ``--fail-on`` verdicts (for pipelines), else 0."""
    return 1 if verdict in fail_on else 0
