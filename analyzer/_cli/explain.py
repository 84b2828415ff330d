"""`walkaway explain REPORT.json`: re-render a saved report in any format."""

from __future__ import annotations

from pathlib import Path

import click

from analyzer.report import FORMATS, fail_on_exit_code, load_report, write_report
from analyzer.taxonomy import VERDICTS


@click.command(name="explain")
@click.argument("report_path", metavar="REPORT.json", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True, help="Output format.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write to this file instead of stdout.")
@click.option(
    "--fail-on",
    type=click.Choice(VERDICTS),
    multiple=True,
    help="Exit 1 when the verdict is this one (repeatable), for pipelines.",
)
@click.option(
    "--combiner",
    is_flag=True,
    help="Also print how the windows strategy turns behaviour scores into flags: the cut-offs and the logistic "
    "weights in force (prompts/windows-thresholds.yaml). Without REPORT.json, print only that.",
)
def command(report_path: Path | None, fmt: str, out: Path | None, fail_on: tuple[str, ...], combiner: bool) -> None:
    """Re-render a report saved with `walkaway analyze --format json`."""
    if combiner:
        _print_combiner()
    if report_path is None:
        if not combiner:
            raise click.UsageError("give REPORT.json (or --combiner)")
        return
    report = load_report(report_path)
    write_report(report, fmt, out)
    code = fail_on_exit_code(report.verdict, fail_on)
    if code:
        click.get_current_context().exit(code)


def _print_combiner() -> None:
    from rich.console import Console
    from rich.table import Table

    from analyzer.extraction.windows import load_window_spec

    spec = load_window_spec()
    t = spec.tuning
    table = Table(
        title=f"windows combiner ({spec.version_id}): {t.combiner}, calibrate={t.calibrate}, "
        f"decoy veto >= {t.decoy_threshold}, high severity >= {t.severity_threshold}"
    )
    for col in ("category / signal", "cut-off", "weights (logistic)"):
        table.add_column(col)
    for name in (*spec.flags, *spec.signals):
        w = t.weights.get(name, {})
        weights = ", ".join(f"{k} {v:+.2f}" for k, v in sorted(w.items(), key=lambda kv: -abs(kv[1]))) or "-"
        table.add_row(name, f"{t.cutoff(name):.3f}", weights if t.combiner == "logistic" else "-")
    Console().print(table)
