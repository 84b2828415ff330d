"""Token-budgeted chunks on turn boundaries (interface; the ingestion work fills in the algorithm)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from analyzer.transcript.model import Transcript


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


def chunk_text(transcript: Transcript, chunk: Chunk) -> str:
    """The chunk as ``Speaker: text`` lines, the text whose tokens ``Chunk.tokens`` counts."""
    raise NotImplementedError


def plan_chunks(transcript: Transcript, *, budget_tokens: int, overlap_tokens: int) -> list[Chunk]:
    """Split the transcript into chunks of at most ``budget_tokens`` on turn boundaries, repeating about
    ``overlap_tokens`` of trailing turns at the start of the next chunk; a single turn over budget is
    split on sentences."""
    raise NotImplementedError
