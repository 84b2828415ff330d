"""`walkaway parse FILE`: the normalized transcript, how roles were decided, tokens and the chunk plan."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from analyzer.transcript import FORMATS


def _clock(seconds: float | None) -> str:
    if seconds is None:
        return ""
    s = int(seconds)
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60:02d}:{s % 60:02d}"


@click.command("parse")
# dir_okay: the library refuses a folder (or a FIFO, a device) with one sentence, click with a usage block.
@click.argument("file", type=click.Path(path_type=Path))
@click.option(
    "--format", "fmt", type=click.Choice(list(FORMATS)), help="Force the input format instead of detecting it."
)
@click.option("--seller", "seller", multiple=True, help="A name on the selling side (repeatable).")
@click.option("--seller-domain", help="The seller's company or email domain, e.g. acme.com.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of tables.")
def command(file: Path, fmt: str | None, seller: tuple[str, ...], seller_domain: str | None, as_json: bool) -> None:
    """Parse FILE and show speakers, roles (and how they were decided), turns, tokens and the chunk plan."""
    from analyzer.chunking import plan_chunks
    from analyzer.config import load_settings
    from analyzer.tokens import count_tokens
    from analyzer.transcript import parse_file

    settings = load_settings()
    transcript = parse_file(
        file, fmt=fmt, seller=seller, seller_domain=seller_domain, max_bytes=settings.max_file_bytes
    )
    chunks = plan_chunks(transcript, budget_tokens=settings.chunk_tokens, overlap_tokens=settings.chunk_overlap_tokens)
    tokens = count_tokens(transcript.text())
    plan: dict[str, Any] = {
        "budget_tokens": settings.chunk_tokens,
        "overlap_tokens": settings.chunk_overlap_tokens,
        "chunks": [
            {
                "index": c.index,
                "first_turn": c.parts[0].turn_id,
                "last_turn": c.parts[-1].turn_id,
                "parts": len(c.parts),
                "overlap_parts": c.overlap_parts,
                "tokens": c.tokens,
            }
            for c in chunks
        ],
    }
    if as_json:
        out = {"transcript": transcript.model_dump(mode="json"), "tokens": tokens, "chunk_plan": plan}
        # allow_nan=False: the parser refuses non-finite times, so NaN can never reach (invalid) JSON output
        click.echo(json.dumps(out, indent=2, ensure_ascii=False, allow_nan=False))
        return
    _print_rich(transcript, tokens, plan)


def _print_rich(transcript: Any, tokens: int, plan: dict[str, Any]) -> None:
    # Every string from the transcript goes in as a Text, never as markup: a line such as "[/bold]" is
    # what someone said, and rich would otherwise parse it (and raise on an unbalanced closing tag).
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    console = Console(soft_wrap=False, highlight=False, emoji=False)
    console.print(
        Text.assemble(
            (transcript.source, "bold"),
            "  format ",
            (transcript.format, "cyan"),
            f"  {len(transcript.turns)} turns  {tokens} tokens",
        )
    )
    if transcript.metadata:
        meta = Table(title="Metadata", show_header=False, title_justify="left")
        for key, value in transcript.metadata.items():
            meta.add_row(Text(key), Text(value))
        console.print(meta)
    people = Table(title="Speakers", title_justify="left")
    for col in ("speaker", "role", "decided by", "reason", "turns"):
        people.add_column(col)
    for s in transcript.speakers:
        colour = {"seller": "green", "prospect": "magenta"}.get(s.role, "white")
        people.add_row(Text(s.name), Text(s.role, style=colour), s.role_source, Text(s.reason), str(s.turns))
    console.print(people)
    for warning in transcript.warnings:
        console.print(Text.assemble(("warning:", "yellow"), " ", warning))
    turns = Table(title="Turns", title_justify="left")
    for col in ("id", "time", "speaker", "text"):
        turns.add_column(col, overflow="fold")
    for t in transcript.turns:
        turns.add_row(t.id, _clock(t.start), Text(t.speaker), Text(t.text))
    console.print(turns)
    chunks = Table(
        title=f"Chunk plan (budget {plan['budget_tokens']}, overlap {plan['overlap_tokens']})", title_justify="left"
    )
    for col in ("chunk", "turns", "parts", "overlap", "tokens"):
        chunks.add_column(col)
    for c in plan["chunks"]:
        chunks.add_row(
            str(c["index"]),
            f"{c['first_turn']}..{c['last_turn']}",
            str(c["parts"]),
            str(c["overlap_parts"]),
            str(c["tokens"]),
        )
    console.print(chunks)
