"""`walkaway explain REPORT.json`: re-render a saved report in any format."""

from __future__ import annotations

from pathlib import Path

import click

from analyzer.report import FORMATS, fail_on_exit_code, load_report, write_report
from analyzer.taxonomy import VERDICTS


@click.command(name="explain")
@click.argument("report_path", metavar="REPORT.json", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True, help="Output format."
)
@click.option(
    "--out", type=click.Path(dir_okay=False, path_type=Path), help="Write to this file instead of stdout."
)
@click.option(
    "--fail-on",
    type=click.Choice(VERDICTS),
    multiple=True,
    help="Exit 1 when the verdict is this one (repeatable), for pipelines.",
)
def command(report_path: Path, fmt: str, out: Path | None, fail_on: tuple[str, ...]) -> None:
    """Re-render a report saved with `walkaway analyze --format json`."""
    report = load_report(report_path)
    write_report(report, fmt, out)
    code = fail_on_exit_code(report.verdict, fail_on)
    if code:
        click.get_current_context().exit(code)
