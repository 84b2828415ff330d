"""Grounded, merged findings: what extraction hands to the rules.

Every ``Evidence`` here was resolved from a sentence id that exists in the transcript, so its quote is
verbatim call text.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from analyzer.taxonomy import Category, Severity, Signal
from analyzer.transcript.model import Role, Sentence, Turn


class Evidence(BaseModel):
    """One cited transcript sentence, resolved to verbatim text."""

    sentence_id: str
    turn_id: str
    speaker: str
    role: Role
    start: float | None = None
    quote: str

    @classmethod
    def of(cls, turn: Turn, sentence: Sentence) -> Evidence:
        """The evidence for one sentence of a turn (the quote is the sentence text, verbatim)."""
        return cls(
            sentence_id=sentence.id,
            turn_id=turn.id,
            speaker=turn.speaker,
            role=turn.role,
            start=turn.start,
            quote=sentence.text,
        )


class BehaviourHit(BaseModel):
    """One per-call behaviour a pattern needs (``prompts/account.yaml``), asked for accounts, with its evidence."""

    behaviour: str
    score: float = Field(default=1.0, description="The behaviour question's calibrated yes-score (1.0: a cue).")
    evidence: list[Evidence] = Field(default_factory=list)


class Flag(BaseModel):
    """A red flag of one category, with the evidence that supports it."""

    category: Category
    severity: Severity
    score: float = Field(default=1.0, description="Model confidence in [0, 1] that the flag is present.")
    rationale: str = ""
    evidence: list[Evidence] = Field(default_factory=list)
    downgraded: bool = Field(default=False, description="Severity lowered by the seller-speech rule.")


class SignalFinding(BaseModel):
    """A positive qualification signal (or prospect_declined) with its evidence."""

    signal: Signal
    score: float = 1.0
    rationale: str = Field(default="", description="What the prospect did, when a narrow behaviour found it.")
    evidence: list[Evidence] = Field(default_factory=list)

    @property
    def title(self) -> str:
        """The signal's name, with what the prospect did when that is known."""
        return f"{self.signal} ({self.rationale})" if self.rationale else self.signal


class GroundingStats(BaseModel):
    """How many citations held up against the transcript."""

    cited: int = 0
    kept: int = 0
    dropped_unknown_id: int = Field(default=0, description="Cited ids that do not exist in the transcript.")
    dropped_seller_only: int = Field(default=0, description="Flags dropped: only seller-side evidence.")
    downgraded_seller_only: int = 0

    @property
    def drop_rate(self) -> float:
        """Share of cited ids that did not exist."""
        return self.dropped_unknown_id / self.cited if self.cited else 0.0


class Usage(BaseModel):
    """Token usage of one analysis: processed prompt tokens, how many of them came from the cache,
    generated tokens, calls, estimated cost."""

    calls: int = 0
    cache_hits: int = Field(default=0, description="Calls answered by the response cache (no LLM call).")
    prompt_tokens: int = 0
    cached_prompt_tokens: int = Field(default=0, description="Prompt tokens the server reused from its KV cache.")
    completion_tokens: int = 0
    transcript_tokens: int = Field(default=0, description="Tokens of the transcript itself (tiktoken).")
    cost_usd: float = 0.0
    seconds: float = 0.0

    def add(self, other: Usage) -> None:
        """Accumulate another usage record into this one."""
        self.calls += other.calls
        self.cache_hits += other.cache_hits
        self.prompt_tokens += other.prompt_tokens
        self.cached_prompt_tokens += other.cached_prompt_tokens
        self.completion_tokens += other.completion_tokens
        self.cost_usd += other.cost_usd
        self.seconds += other.seconds


class ChunkFailure(BaseModel):
    """A chunk whose extraction failed after retries; the report is then marked incomplete."""

    chunk_id: int
    error: str
    backend: bool = Field(
        default=False,
        description="True when the endpoint kept failing (the request's retry budget is spent, nothing above "
        "retries it); False when the model's output stayed unusable.",
    )


class RedactionSummary(BaseModel):
    """What redaction replaced in the text sent to the model (counts only, never the values)."""

    recognizer: str = Field(description="The recognizer and its model, with versions.")
    speakers: int = Field(default=0, description="Speakers renamed by role.")
    counts: dict[str, int] = Field(default_factory=dict, description="Placeholder -> replacements made.")


class WindowRecord(BaseModel):
    """Everything the model answered about one window (kept in reports and eval runs for refitting)."""

    index: int
    sentence_ids: list[str] = Field(description="The window's prospect-side sentences, in order.")
    scores: dict[str, float] = Field(
        default_factory=dict, description="P(Yes) per behaviour question, keyed 'category.behaviour'."
    )
    decoy: dict[str, float] = Field(default_factory=dict, description="P(Yes) of the decoy question per category.")
    severity: dict[str, float] = Field(
        default_factory=dict, description="P(Yes) of the severity question per category."
    )
    located: dict[str, list[str]] = Field(
        default_factory=dict, description="Sentence ids the model pointed at, per category or signal."
    )
    cue_hits: list[str] = Field(default_factory=list, description="Categories/signals the lexicon matched here.")


class Findings(BaseModel):
    """Everything extraction learned from one transcript, grounded and merged across chunks."""

    flags: list[Flag] = Field(default_factory=list)
    signals: list[SignalFinding] = Field(default_factory=list)
    grounding: GroundingStats = Field(default_factory=GroundingStats)
    usage: Usage = Field(default_factory=Usage)
    chunks_total: int = 0
    chunk_failures: list[ChunkFailure] = Field(default_factory=list)
    backend: str = ""
    model: str = ""
    prompt_version: str = ""
    scores: dict[str, float] = Field(
        default_factory=dict,
        description="Highest yes-score per category/signal over all chunks, kept for threshold tuning.",
    )
    redaction: RedactionSummary | None = Field(
        default=None, description="What was replaced before the call was sent to the model; None: not redacted."
    )
    cue_hits: list[str] = Field(
        default_factory=list, description="Questions whose cue lexicon matched in some chunk (own threshold)."
    )
    strategy: str = Field(
        default="", description="The extraction strategy: 'chunks', 'windows' or 'structured' ('' for baselines)."
    )
    profile: str = Field(
        default="",
        description="The model profile in force (name@hash of prompts/profiles/<name>.yaml); '' when the model "
        "has none and ran uncalibrated.",
    )
    warnings: list[str] = Field(
        default_factory=list,
        description="What the reader must know about how the model was used, e.g. a fallback to the structured "
        "strategy because the endpoint returned no log-probabilities.",
    )
    windows: list[WindowRecord] = Field(
        default_factory=list, description="The windows strategy's answers per window (for refitting its cut-offs)."
    )

    @property
    def complete(self) -> bool:
        """True when every chunk was analyzed."""
        return not self.chunk_failures
