"""Token-budgeted chunks on turn boundaries, with overlap; an over-long turn is split on sentences.

A chunk renders as ``Speaker: text`` lines joined by ``\\n`` (``chunk_text``), and ``Chunk.tokens`` is the
exact tiktoken count of that text. Counting is linear: each line is encoded once, never a growing
chunk. Exactness rests on how tiktoken's cl100k pre-tokenizer cuts text: no pre-token spans a single
space that follows a non-space, nor a newline followed by a non-space, so

* a line ``"Dana: s1 s2"`` costs ``count("Dana:") + count(" s1") + count(" s2")`` (sentence pieces add up),
* lines joined by ``\\n`` cost ``sum(count(line + "\\n")) - nl(last line)``, where ``nl(line)`` is the newline's
  share (0 when it merges with trailing punctuation, as in ``".\\n"``), computed from the line's last word.

Normalized turn text has single spaces and speaker names never start with whitespace, so these hold for
every transcript ``analyzer.transcript`` produces; the tests check ``tokens == count_tokens(chunk_text())``.

Packing is greedy: units (whole turns, or sentence runs of an over-long turn) are added while the chunk
fits ``budget_tokens``; the next chunk starts with the trailing units of the previous one that fit in
``overlap_tokens`` (never so many that no new unit would fit). A single sentence longer than the budget
(ASR text without punctuation) becomes a unit of its own and its chunk exceeds the budget: splitting
inside a sentence would break the sentence ids that evidence cites.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, Field

from analyzer.tokens import count_tokens
from analyzer.transcript.model import Transcript, Turn


class ChunkPart(BaseModel):
    """A turn (or, for an over-long turn, some of its sentences) inside a chunk."""

    turn_id: str
    sentence_ids: list[str] = Field(description="The turn's sentences in this chunk; all of them unless split.")


class Chunk(BaseModel):
    """A contiguous run of turns whose rendered text fits the token budget."""

    index: int
    parts: list[ChunkPart]
    tokens: int = Field(description="Exact tiktoken count of chunk_text(transcript, chunk).")
    overlap_parts: int = Field(default=0, description="Leading parts repeated from the previous chunk.")


def _turn_at(transcript: Transcript, turn_id: str) -> Turn:
    # Ids are t1..tN in order, so the index is in the id; fall back to a scan for hand-built transcripts.
    try:
        idx = int(turn_id[1:]) - 1
        if 0 <= idx < len(transcript.turns) and transcript.turns[idx].id == turn_id:
            return transcript.turns[idx]
    except ValueError:
        pass
    turn = transcript.turn(turn_id)
    if turn is None:
        raise KeyError(f"no turn {turn_id!r} in {transcript.source}")
    return turn


def _part_line(turn: Turn, sentence_ids: list[str]) -> str:
    if len(sentence_ids) == len(turn.sentences) or not turn.sentences:
        return f"{turn.speaker}: {turn.text}"
    wanted = set(sentence_ids)
    return f"{turn.speaker}: " + " ".join(s.text for s in turn.sentences if s.id in wanted)


def chunk_text(transcript: Transcript, chunk: Chunk) -> str:
    """The chunk as ``Speaker: text`` lines, the text whose tokens ``Chunk.tokens`` counts."""
    return "\n".join(_part_line(_turn_at(transcript, p.turn_id), p.sentence_ids) for p in chunk.parts)


def _newline_share(line: str) -> int:
    """Tokens that a trailing ``\\n`` adds to ``line`` (0 or 1), from its last word only."""
    cut = line.rfind(" ")
    tail = line[cut:] if cut > 0 else line
    return count_tokens(tail + "\n") - count_tokens(tail)


@dataclass
class _Unit:
    part: ChunkPart
    tokens: int  # count of the line alone
    with_nl: int  # count of the line followed by "\n"


def _units(transcript: Transcript, budget: int) -> list[_Unit]:
    units: list[_Unit] = []
    for turn in transcript.turns:
        line = f"{turn.speaker}: {turn.text}"
        ids = [s.id for s in turn.sentences]
        tokens = count_tokens(line)
        if tokens <= budget or len(turn.sentences) < 2:
            units.append(_Unit(ChunkPart(turn_id=turn.id, sentence_ids=ids), tokens, tokens + _newline_share(line)))
            continue
        # Over-long turn: greedy runs of sentences, each piece counted once.
        head = count_tokens(f"{turn.speaker}:")
        costs = [count_tokens(" " + s.text) for s in turn.sentences]
        run: list[int] = []
        run_tokens = head
        for i, cost in enumerate(costs):
            if run and run_tokens + cost > budget:
                units.append(_split_unit(turn, run, run_tokens))
                run, run_tokens = [], head
            run.append(i)
            run_tokens += cost
        units.append(_split_unit(turn, run, run_tokens))
    return units


def _split_unit(turn: Turn, run: list[int], tokens: int) -> _Unit:
    ids = [turn.sentences[i].id for i in run]
    last_line_tail = turn.sentences[run[-1]].text
    return _Unit(ChunkPart(turn_id=turn.id, sentence_ids=ids), tokens, tokens + _newline_share(" " + last_line_tail))


def plan_chunks(transcript: Transcript, *, budget_tokens: int, overlap_tokens: int) -> list[Chunk]:
    """Split the transcript into chunks of at most ``budget_tokens`` on turn boundaries, repeating about
    ``overlap_tokens`` of trailing turns at the start of the next chunk; a single turn over budget is
    split on sentences."""
    if budget_tokens < 1:
        raise ValueError("budget_tokens must be positive")
    units = _units(transcript, budget_tokens)
    chunks: list[Chunk] = []
    i, n = 0, len(units)
    overlap: list[_Unit] = []
    while i < n:
        # Drop leading overlap until the first new unit fits, so every chunk makes progress.
        while overlap and sum(u.with_nl for u in overlap) + units[i].tokens > budget_tokens:
            overlap.pop(0)
        members = list(overlap)
        total_nl = sum(u.with_nl for u in members)  # members' cost, each followed by "\n"
        start = i
        while i < n and (i == start or total_nl + units[i].tokens <= budget_tokens):
            members.append(units[i])
            total_nl += units[i].with_nl
            i += 1
        last = members[-1]
        chunks.append(
            Chunk(
                index=len(chunks),
                parts=[u.part for u in members],
                tokens=total_nl - last.with_nl + last.tokens,
                overlap_parts=len(overlap),
            )
        )
        # The next chunk repeats this chunk's trailing units that fit in the overlap budget.
        overlap, kept = [], 0
        for u in reversed(members):
            if kept + u.with_nl > overlap_tokens:
                break
            overlap.insert(0, u)
            kept += u.with_nl
    return chunks
