"""The normalized transcript every stage after parsing reads.

Ids are stable for a given input: turns are ``t1``, ``t2``... in order, and sentences inside turn ``t7``
are ``t7.1``, ``t7.2``... Later stages cite evidence by these ids, so every quote in a report is real
transcript text by construction.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

Role = Literal["seller", "prospect", "unknown"]
RoleSource = Literal["given", "export", "assumed"]


class Sentence(BaseModel):
    """One sentence of a turn, the unit evidence is cited by."""

    id: str = Field(description="Stable id, e.g. 't7.2' (turn 7, sentence 2).")
    text: str


class Turn(BaseModel):
    """One speaker turn: consecutive cues by the same speaker are merged into one turn."""

    id: str = Field(description="Stable id, e.g. 't7'.")
    index: int = Field(description="0-based position in the transcript.")
    speaker: str
    role: Role = "unknown"
    start: float | None = Field(default=None, description="Start time in seconds, when the export has it.")
    end: float | None = Field(default=None, description="End time in seconds, when the export has it.")
    text: str
    sentences: list[Sentence] = Field(default_factory=list)


class Speaker(BaseModel):
    """A participant and how their role was decided."""

    name: str
    role: Role
    role_source: RoleSource = Field(
        description="'given' (a --seller/--seller-domain hint), 'export' (the file said so, e.g. Gong "
        "affiliation) or 'assumed' (the documented heuristic)."
    )
    reason: str = Field(default="", description="Why this role was chosen, in a few words.")
    turns: int = 0


class Transcript(BaseModel):
    """An ordered call transcript with speakers, roles, timings and sentence ids."""

    source: str = Field(description="File name or label the transcript came from.")
    format: str = Field(description="Detected or forced input format, e.g. 'vtt', 'gong'.")
    metadata: dict[str, str] = Field(
        default_factory=dict, description="Header fields kept aside (title, date, participants...)."
    )
    speakers: list[Speaker] = Field(default_factory=list)
    turns: list[Turn] = Field(default_factory=list)
    warnings: list[str] = Field(
        default_factory=list,
        description="Non-fatal notes from parsing, e.g. a --seller hint that matched no speaker.",
    )

    def sentence_index(self) -> dict[str, tuple[Turn, Sentence]]:
        """Map every sentence id to its turn and sentence."""
        return {s.id: (t, s) for t in self.turns for s in t.sentences}

    def turn(self, turn_id: str) -> Turn | None:
        """The turn with this id, or None."""
        for t in self.turns:
            if t.id == turn_id:
                return t
        return None

    @property
    def roles_assumed(self) -> bool:
        """True when at least one role came from the heuristic rather than a hint or the export."""
        return any(s.role_source == "assumed" for s in self.speakers)

    def text(self) -> str:
        """The whole call as ``Speaker: text`` lines."""
        return "\n".join(f"{t.speaker}: {t.text}" for t in self.turns)
