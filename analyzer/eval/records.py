"""Per-case records of an eval run: what one analysis of one case predicted, cited and cost."""

from __future__ import annotations

from pydantic import BaseModel, Field

from analyzer.eval.suite import Expected
from analyzer.extraction.findings import Flag, SignalFinding, WindowRecord
from analyzer.taxonomy import Category, Severity, Signal, Verdict


class CitedFlag(BaseModel):
    """A red flag the analysis raised, with the quotes it cited."""

    category: Category
    severity: Severity
    score: float = Field(default=1.0, description="The extractor's confidence in [0, 1].")
    quotes: list[str] = Field(default_factory=list, description="Verbatim cited transcript sentences.")
    sentence_ids: list[str] = Field(default_factory=list, description="Ids of the cited sentences.")

    @classmethod
    def of(cls, flag: Flag) -> CitedFlag:
        """The record of one grounded flag."""
        return cls(
            category=flag.category,
            severity=flag.severity,
            score=flag.score,
            quotes=[e.quote for e in flag.evidence],
            sentence_ids=[e.sentence_id for e in flag.evidence],
        )


class CitedSignal(BaseModel):
    """A positive signal (or prospect_declined) the analysis found, with its quotes."""

    signal: Signal
    quotes: list[str] = Field(default_factory=list)
    sentence_ids: list[str] = Field(default_factory=list)

    @classmethod
    def of(cls, signal: SignalFinding) -> CitedSignal:
        """The record of one grounded signal."""
        return cls(
            signal=signal.signal,
            quotes=[e.quote for e in signal.evidence],
            sentence_ids=[e.sentence_id for e in signal.evidence],
        )


class CaseRun(BaseModel):
    """One analysis of one case (one repeat)."""

    repeat: int = Field(description="0-based repeat index.")
    verdict: Verdict | None = Field(default=None, description="Predicted verdict; None when the analysis raised.")
    flags: list[CitedFlag] = Field(default_factory=list)
    signals: list[CitedSignal] = Field(default_factory=list)
    complete: bool = Field(default=True, description="False when a chunk failed (the report says incomplete).")
    error: str | None = Field(default=None, description="The error sentence when the analysis raised.")
    error_type: str | None = Field(default=None, description="Class name of the error when it raised.")
    chunk_failures: list[str] = Field(default_factory=list)
    seconds: float = Field(default=0.0, description="Wall-clock seconds of this analysis.")
    llm_calls: int = 0
    cache_hits: int = 0
    prompt_tokens: int = 0
    cached_prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    grounding_cited: int = Field(default=0, description="Sentence ids the model cited.")
    grounding_dropped: int = Field(default=0, description="Cited ids that did not exist in the transcript.")
    evidence_hits: list[str] = Field(default_factory=list, description="Expected evidence substrings found.")
    evidence_missed: list[str] = Field(default_factory=list, description="Expected evidence substrings not found.")
    backend: str = ""
    model: str = ""
    prompt_version: str = ""
    scores: dict[str, float] = Field(
        default_factory=dict, description="The pipeline's yes-score per question (for threshold tuning)."
    )
    cue_hits: list[str] = Field(default_factory=list, description="Questions whose cue lexicon matched.")
    strategy: str = Field(default="", description="The extraction strategy the run used ('' for baselines).")
    profile: str = Field(default="", description="The model profile in force (name@hash; '' for none).")
    warnings: list[str] = Field(default_factory=list, description="The report's model warnings (e.g. a fallback).")
    windows: list[WindowRecord] = Field(
        default_factory=list, description="The windows strategy's answers per window (refitted by eval tune)."
    )

    @property
    def invalid(self) -> bool:
        """True when the analysis raised or came back incomplete (counted by invalid_output_rate)."""
        return self.error is not None or not self.complete

    @property
    def predicted_flags(self) -> set[str]:
        """Categories flagged."""
        return {f.category for f in self.flags}

    @property
    def predicted_signals(self) -> set[str]:
        """Signals found."""
        return {s.signal for s in self.signals}


class CaseResult(BaseModel):
    """A case's labels and its runs, one per repeat."""

    id: str
    writer: str = Field(default="", description="Who wrote the call (folds keep a writer's calls together).")
    transcript: str = Field(description="Transcript path as resolved when the run happened.")
    seller: list[str] = Field(default_factory=list)
    expected: Expected
    runs: list[CaseRun] = Field(default_factory=list)
