"""`walkaway analyze FILE`: the verdict report for one call."""

from __future__ import annotations

from pathlib import Path

import click

from analyzer.taxonomy import VERDICTS


@click.command("analyze")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--backend",
    type=click.Choice(["local", "openai", "fake", "keywords", "naive"]),
    envvar="WALKAWAY_BACKEND",
    help="LLM backend (default: openai when WALKAWAY_BASE_URL is set, else the embedded local model).",
)
@click.option("--model", help="Model name for the openai backend.")
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
def command(
    file: Path,
    backend: str | None,
    model: str | None,
    seller: tuple[str, ...],
    seller_domain: str | None,
    input_format: str | None,
    out_format: str,
    out: Path | None,
    policy: Path | None,
    icp: Path | None,
    fail_on: tuple[str, ...],
    no_cache: bool,
) -> None:
    """Analyze one call transcript and print the verdict report."""
    from analyzer.pipeline import analyze
    from analyzer.report import write_report
    from analyzer.rules import load_icp

    report = analyze(
        file,
        seller=seller,
        seller_domain=seller_domain,
        fmt=input_format,
        backend=backend,
        model=model,
        use_cache=False if no_cache else None,
        policy_path=policy,
        icp=load_icp(icp) if icp else None,
    )
    write_report(report, out_format, out)
    if report.verdict in fail_on:
        raise SystemExit(1)
