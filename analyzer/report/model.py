"""The versioned report: what `walkaway analyze` prints, saves and re-renders.

``schema_version`` changes whenever a field changes meaning or is removed; adding optional fields keeps it.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from analyzer.coaching.coach import Coaching
from analyzer.extraction.findings import (
    BehaviourHit,
    Flag,
    GroundingStats,
    RedactionSummary,
    SignalFinding,
    Usage,
    WindowRecord,
)
from analyzer.taxonomy import Verdict
from analyzer.transcript.model import Speaker, Transcript

SCHEMA_VERSION = "1"


class RuleHit(BaseModel):
    """One policy rule that fired, in evaluation order."""

    rule_id: str
    verdict: Verdict | None = Field(default=None, description="The verdict this rule sets, if any.")
    reason: str
    matched: list[str] = Field(default_factory=list, description="The findings that matched, e.g. 'ethics:high'.")
    decided: bool = Field(default=False, description="True for the rule that decided the verdict.")


class OpenQuestion(BaseModel):
    """A qualification gap and the question to ask next."""

    element: str = Field(description="The qualification element, e.g. 'budget' or 'economic buyer'.")
    question: str
    why: str = ""


class MessageDraft(BaseModel):
    """A message the seller can send: decline, follow-up plan, or next-step note."""

    kind: Literal["decline", "follow_up", "next_step", "discovery"]
    subject: str
    body: str
    follow_up_days: int | None = Field(default=None, description="For nurture: when to follow up.")
    follow_up_topic: str | None = None
    source: Literal["template", "llm"] = "template"


class Report(BaseModel):
    """The verdict report for one transcript."""

    schema_version: str = SCHEMA_VERSION
    source: str
    verdict: Verdict
    complete: bool = Field(default=True, description="False when a chunk failed: the verdict may miss evidence.")
    policy_id: str = ""
    policy_version: str = ""
    decided_by: str = Field(default="", description="Id of the rule that decided the verdict.")
    rule_trace: list[RuleHit] = Field(default_factory=list)
    flags: list[Flag] = Field(default_factory=list)
    signals: list[SignalFinding] = Field(default_factory=list)
    open_questions: list[OpenQuestion] = Field(default_factory=list)
    would_change: list[str] = Field(default_factory=list, description="What would change the verdict.")
    message: MessageDraft | None = None
    speakers: list[Speaker] = Field(default_factory=list)
    roles_assumed: bool = False
    grounding: GroundingStats = Field(default_factory=GroundingStats)
    usage: Usage = Field(default_factory=Usage)
    chunk_failures: list[str] = Field(default_factory=list)
    redaction: RedactionSummary | None = Field(
        default=None,
        description="Personal data replaced before the call was sent to the model (counts); None: sent as is.",
    )
    backend_failed: bool = Field(
        default=False, description="A chunk failed because the backend kept failing after its retry budget."
    )
    backend: str = ""
    model: str = ""
    prompt_version: str = ""
    scores: dict[str, float] = Field(
        default_factory=dict,
        description="Highest yes-score per category/signal question over all chunks (for threshold tuning).",
    )
    cue_hits: list[str] = Field(
        default_factory=list, description="Questions whose cue lexicon matched in the call (for threshold tuning)."
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
    behaviours: list[BehaviourHit] | None = Field(
        default=None,
        description="The per-call behaviours account patterns need (prompts/account.yaml); None: not asked.",
    )
    coaching: Coaching | None = Field(
        default=None, description="The seller's discovery: areas asked and not asked, red flags followed up."
    )
    transcript: Transcript | None = Field(
        default=None, description="The parsed call, kept so a saved report can be re-rendered with highlights."
    )
