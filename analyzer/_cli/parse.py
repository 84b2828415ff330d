"""`walkaway parse FILE`: the normalized transcript, how roles were decided, tokens and the chunk plan."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from analyzer.transcript import FORMATS

#: Rows shown per table in the terminal view: rich lays out about 2,000 rows a second, and a 20 MB call
#: has 150,000 turns (an hour-long call has a few hundred). ``--json`` always has everything.
MAX_ROWS = 1000


def _capped(rows: list[Any], what: str, console: Any) -> list[Any]:
    if len(rows) > MAX_ROWS:
        from rich.text import Text

        console.print(
            Text(f"showing the first {MAX_ROWS:,} of {len(rows):,} {what}; --json prints them all", style="dim")
        )
    return rows[:MAX_ROWS]


#: Characters shown per cell: wrapping one 20 MB turn takes rich minutes.
MAX_CELL = 2000


def _cell(text: str) -> Any:
    """Transcript text as a rich Text (never markup), cut to MAX_CELL characters."""
    from rich.text import Text

    if len(text) > MAX_CELL:
        text = f"{text[:MAX_CELL]} ... ({len(text) - MAX_CELL:,} more characters; --json has them all)"
    return Text(text)


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
        import pydantic_core

        # pydantic-core serializes the models directly, ~20x faster than model_dump + json.dumps(indent=2)
        # (the standard library's indenting encoder is pure Python: 15 s for a 20 MB call). The parser
        # refuses non-finite times; inf_nan_mode="null" keeps the output valid JSON regardless.
        out = {"transcript": transcript, "tokens": tokens, "chunk_plan": plan}
        click.echo(pydantic_core.to_json(out, indent=2, inf_nan_mode="null").decode())
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
        for key, value in _capped(list(transcript.metadata.items()), "metadata fields", console):
            meta.add_row(_cell(key), _cell(value))
        console.print(meta)
    people = Table(title="Speakers", title_justify="left")
    for col in ("speaker", "role", "decided by", "reason", "turns"):
        people.add_column(col)
    for s in _capped(transcript.speakers, "speakers", console):
        colour = {"seller": "green", "prospect": "magenta"}.get(s.role, "white")
        people.add_row(_cell(s.name), Text(s.role, style=colour), s.role_source, _cell(s.reason), str(s.turns))
    console.print(people)
    for warning in transcript.warnings:
        console.print(Text.assemble(("warning:", "yellow"), " ", _cell(warning)))
    turns = Table(title="Turns", title_justify="left")
    for col in ("id", "time", "speaker", "text"):
        turns.add_column(col, overflow="fold")
    for t in _capped(transcript.turns, "turns", console):
        turns.add_row(t.id, _clock(t.start), _cell(t.speaker), _cell(t.text))
    console.print(turns)
    chunks = Table(
        title=f"Chunk plan (budget {plan['budget_tokens']}, overlap {plan['overlap_tokens']})", title_justify="left"
    )
    for col in ("chunk", "turns", "parts", "overlap", "tokens"):
        chunks.add_column(col)
    for c in _capped(plan["chunks"], "chunks", console):
        chunks.add_row(
            str(c["index"]),
            f"{c['first_turn']}..{c['last_turn']}",
            str(c["parts"]),
            str(c["overlap_parts"]),
            str(c["tokens"]),
        )
    console.print(chunks)
