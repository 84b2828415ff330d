"""`walkaway analyze FILE`: the verdict report for one call."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import click

from analyzer._cli._options import model_options
from analyzer.config import Settings
from analyzer.taxonomy import VERDICTS


@click.command("analyze")
@click.argument("file", type=click.Path(path_type=Path))  # the parser refuses folders in one sentence
@model_options()
@click.option("--seller", "seller", multiple=True, help="A name on the selling side (repeatable).")
@click.option("--seller-domain", help="The seller's company or email domain, e.g. acme.com.")
@click.option("--input-format", "input_format", help="Force the transcript format instead of detecting it.")
@click.option(
    "--format",
    "out_format",
    type=click.Choice(["text", "json", "md", "html"]),
    default="text",
    show_default=True,
    help="Report format.",
)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write the report to this file.")
@click.option("--policy", type=click.Path(dir_okay=False, exists=True, path_type=Path), help="A verdict policy YAML.")
@click.option(
    "--icp", type=click.Path(dir_okay=False, exists=True, path_type=Path), help="An ideal-customer profile YAML."
)
@click.option(
    "--fail-on",
    "fail_on",
    multiple=True,
    type=click.Choice(list(VERDICTS)),
    help="Exit 1 when the verdict is this one (repeatable), for pipelines.",
)
@click.option("--no-cache", is_flag=True, help="Bypass the response cache.")
@click.option(
    "--redact/--no-redact",
    default=None,
    help="Replace personal data with typed placeholders before the call is sent to the model "
    "(default: on for endpoints not on this machine; WALKAWAY_REDACT).",
)
def command(
    file: Path,
    backend: str | None,
    model: str | None,
    strategy: str | None,
    profile: str | None,
    seller: tuple[str, ...],
    seller_domain: str | None,
    input_format: str | None,
    out_format: str,
    out: Path | None,
    policy: Path | None,
    icp: Path | None,
    fail_on: tuple[str, ...],
    no_cache: bool,
    redact: bool | None,
) -> None:
    """Analyze one call transcript and print the verdict report."""
    from analyzer.config import load_settings
    from analyzer.pipeline import analyze
    from analyzer.report import write_report
    from analyzer.rules import load_icp

    settings = load_settings(backend=backend, model=model, redact=redact, strategy=strategy, profile=profile)
    show_progress()
    redaction_notice(settings, backend or settings.resolved_backend())
    report = analyze(
        file,
        seller=seller,
        seller_domain=seller_domain,
        fmt=input_format,
        backend=backend,
        settings=settings,
        use_cache=False if no_cache else None,
        policy_path=policy,
        icp=load_icp(icp) if icp else None,
    )
    write_report(report, out_format, out)
    if report.verdict in fail_on:
        raise SystemExit(1)


def redaction_notice(settings: Settings, backend: str) -> None:
    """Say on stderr when redaction is on without being asked for (an endpoint off this machine)."""
    from analyzer.extraction.redact import redaction_wanted

    if settings.redact is None and redaction_wanted(None, backend, settings.base_url):
        host = urlsplit(settings.base_url).hostname if settings.base_url else "the OpenAI API"
        click.echo(
            f"notice: personal data (names, e-mail, phone, card and account numbers, addresses) is replaced with "
            f"placeholders before the call is sent to {host}; --no-redact sends it as is",
            err=True,
        )


def show_progress() -> None:
    """Progress lines (loading the model, chunk i of n) on stderr when it is a terminal: a model run takes
    a minute and should not look hung. Pipes and CI logs stay clean."""
    import logging
    import sys

    if not sys.stderr.isatty():
        return
    log = logging.getLogger("walkaway.progress")
    if not log.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("walkaway: %(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        log.propagate = False
