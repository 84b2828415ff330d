"""`walkaway batch INPUTS... --out DIR`: analyze many calls, concurrently, resumably."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import click

from analyzer._cli._options import model_options
from analyzer._errors import EXIT_BACKEND, EXIT_NO
from analyzer.batch.runner import BatchResult
from analyzer.batch.store import ResultRecord


class _RichProgress:
    """A rich progress bar on stderr: done/total, failures, rate, time left."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self.failed = 0
        self._progress = Progress(
            TextColumn("[bold]batch"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("[red]{task.fields[failed]} failed"),
            TimeElapsedColumn(),
            TextColumn("eta"),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            transient=False,
        )
        self._task = self._progress.add_task("batch", total=None, failed=0)

    def __enter__(self) -> _RichProgress:
        self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._progress.stop()

    def start(self, total: int, done: int) -> None:
        self._progress.update(self._task, total=total, completed=done)

    def advance(self, record: ResultRecord) -> None:
        if record.status == "error":
            self.failed += 1
        self._progress.update(self._task, advance=1, failed=self.failed)


@click.command("batch")
@click.argument("inputs", nargs=-1, required=True)
@click.option(
    "--out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Output folder: reports/, results.jsonl, summary.csv. Re-running into it resumes.",
)
@model_options()
@click.option("--seller", "seller", multiple=True, help="A name on the selling side, for every call (repeatable).")
@click.option("--seller-domain", help="The seller's company or email domain, for every call.")
@click.option("--concurrency", type=click.IntRange(min=1), default=4, show_default=True, help="Calls analyzed at once.")
@click.option("--rpm", type=click.IntRange(min=1), help="Request-per-minute limit of the endpoint.")
@click.option("--tpm", type=click.IntRange(min=1), help="Token-per-minute limit of the endpoint.")
@click.option(
    "--retries",
    type=click.IntRange(min=0),
    default=2,
    show_default=True,
    help="Whole-call retries when the model's output stayed unusable (a backend that kept failing is not "
    "retried again: its requests already spent WALKAWAY_MAX_RETRIES).",
)
@click.option(
    "--allow-outside",
    is_flag=True,
    help="Let a manifest list transcripts outside its own folder (refused by default).",
)
@click.option("--policy", type=click.Path(dir_okay=False, exists=True, path_type=Path), help="A verdict policy YAML.")
@click.option("--no-cache", is_flag=True, help="Bypass the response cache.")
@click.option(
    "--redact/--no-redact",
    default=None,
    help="Redact personal data before it is sent to the model (default: on for endpoints off this machine).",
)
@click.option("--no-progress", is_flag=True, help="No progress bar (it is off anyway when stderr is not a terminal).")
@click.option(
    "--format",
    "out_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="The closing summary: a table, or one JSON object on stdout for machines.",
)
@click.option(
    "--engine",
    "engine_name",
    type=click.Choice(["asyncio", "ray"]),
    default="asyncio",
    show_default=True,
    help="Where items are analyzed: this process, or Ray actors across a cluster (walkaway[ray]). Outputs, "
    "resume and exit codes are the same.",
)
@click.option(
    "--ray-address",
    metavar="ADDR",
    help="The Ray cluster to join (host:port, or 'auto'); default: start a local Ray instance.",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=2,
    show_default=True,
    help="Ray workers, each with one analyzer (--backend local: one embedded model each); --concurrency is "
    "per worker for an endpoint.",
)
def command(
    inputs: tuple[str, ...],
    out: Path,
    backend: str | None,
    model: str | None,
    strategy: str | None,
    profile: str | None,
    seller: tuple[str, ...],
    seller_domain: str | None,
    concurrency: int,
    rpm: int | None,
    tpm: int | None,
    retries: int,
    allow_outside: bool,
    policy: Path | None,
    no_cache: bool,
    redact: bool | None,
    no_progress: bool,
    out_format: str,
    engine_name: str,
    ray_address: str | None,
    workers: int,
) -> None:
    """Analyze transcripts in bulk: files, folders (recursive), globs, or a CSV/JSONL manifest.

    Writes one report per call plus results.jsonl and summary.csv into --out. A failing call is recorded
    and the batch goes on (exit 1 at the end if any failed). Interrupted or killed, the same command
    resumes where it stopped; calls already done with the same settings are skipped.
    """
    from analyzer import pipeline
    from analyzer._cli.analyze import redaction_notice
    from analyzer.batch.engine import Engine
    from analyzer.batch.inputs import expand_inputs
    from analyzer.batch.runner import BatchEngine, run_batch
    from analyzer.config import load_settings

    settings = load_settings(
        backend=backend,
        model=model,
        strategy=strategy,
        profile=profile,
        cache=False if no_cache else None,
        redact=redact,
    )
    backend_name = backend or settings.resolved_backend()
    redaction_notice(settings, backend_name)
    items = expand_inputs(inputs, seller=seller, seller_domain=seller_domain, allow_outside=allow_outside)
    fingerprint = pipeline.settings_fingerprint(settings, backend_name, policy)
    from analyzer.cluster.ray_engine import RayEngine

    engine: BatchEngine
    if engine_name == "ray":
        engine = RayEngine(
            settings,
            workers=workers,
            concurrency=concurrency,
            backend=backend_name,
            address=ray_address,
            item_retries=retries,
            policy_path=policy,
            requests_per_minute=rpm,
            tokens_per_minute=tpm,
        )
    else:
        engine = Engine(
            settings,
            concurrency=concurrency,
            requests_per_minute=rpm,
            tokens_per_minute=tpm,
            backend=backend_name,
            item_retries=retries,
            policy_path=policy,
        )
    show_bar = not no_progress and sys.stderr.isatty()

    async def go() -> BatchResult:
        if show_bar:
            with _RichProgress() as bar:
                return await run_batch(items, out, engine=engine, fingerprint=fingerprint, progress=bar)
        return await run_batch(items, out, engine=engine, fingerprint=fingerprint)

    try:
        result = asyncio.run(go())
    finally:
        if isinstance(engine, RayEngine):
            engine.shutdown()
    if out_format == "json":
        click.echo(json.dumps(result.to_json(), indent=2))
    else:
        _print_summary(result)
    if result.interrupted:
        click.echo(
            f"interrupted: {len(result.records)} of {result.total} finished and saved; "
            "run the same command again to resume",
            err=True,
        )
        raise SystemExit(130)
    if result.failures:
        on_backend = all(r.error_type in ("BackendError", "ExtractionError") for r in result.failures)
        if on_backend and result.succeeded == 0:
            click.echo(f"error: every analysis failed on the backend, e.g. {result.failures[0].error}", err=True)
            raise SystemExit(EXIT_BACKEND)
        raise SystemExit(EXIT_NO)


def _print_summary(result: BatchResult) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(highlight=False)
    tokens = sum(r.tokens for r in result.records)
    cost = sum(r.cost_usd for r in result.records)
    console.print(
        f"{result.total} transcripts: {result.succeeded} ok, {len(result.failures)} failed, "
        f"{result.skipped} already done"
        + (f", {result.pending} not started" if result.pending else "")
        + f" in {result.seconds:.1f} s; {result.llm_calls} LLM calls, {tokens:,} tokens, ${cost:.4f}"
    )
    verdicts = Table(title="Verdicts", title_justify="left")
    verdicts.add_column("verdict")
    verdicts.add_column("calls", justify="right")
    for verdict, n in result.verdict_counts().items():
        verdicts.add_row(verdict, str(n))
    console.print(verdicts)
    flags = result.flag_counts()
    if flags:
        table = Table(title="Most frequent red flags", title_justify="left")
        table.add_column("category")
        table.add_column("calls", justify="right")
        for category, n in flags.items():
            table.add_row(category, str(n))
        console.print(table)
    if result.failures:
        table = Table(title=f"Failures ({len(result.failures)})", title_justify="left")
        table.add_column("id")
        table.add_column("reason", overflow="fold")
        for r in result.failures[:25]:
            table.add_row(r.id, r.error or "")
        console.print(table)
        if len(result.failures) > 25:
            console.print(f"... and {len(result.failures) - 25} more: see {result.out / 'summary.csv'}")
    console.print(f"Results: {result.out}/ (reports/, results.jsonl, summary.csv)")
