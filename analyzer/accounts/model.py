"""What an account analysis produces: per-call summaries, cross-call patterns, the account verdict."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field

from analyzer.extraction.findings import BehaviourHit
from analyzer.report.model import MessageDraft, RuleHit
from analyzer.taxonomy import Verdict


class CallSummary(BaseModel):
    """One call of the account as the account rules see it."""

    label: str = Field(description="The call's file name (or id) in reports.")
    path: str
    date: dt.date | None = None
    verdict: Verdict
    decided_by: str = ""
    flags: dict[str, str] = Field(default_factory=dict, description="Category -> severity of the call's flags.")
    signals: list[str] = Field(default_factory=list)
    open_areas: list[str] = Field(default_factory=list, description="Qualification elements left open.")
    minutes: float | None = Field(default=None, description="Call length from the export's timings, if any.")
    prospect_words: int = 0
    seller_words: int = 0
    behaviours: list[BehaviourHit] = Field(default_factory=list)
    first_flag_quote: str = Field(default="", description="The first quoted evidence of the call's worst flag.")
    asked: list[str] = Field(default_factory=list, description="Discovery areas the seller asked about.")
    followed_up: list[bool] = Field(
        default_factory=list, description="Per red flag said in the call: did a seller question follow it?"
    )
    complete: bool = True


class PatternEvidence(BaseModel):
    """A quote that supports a pattern, with the call it came from."""

    call: str
    date: dt.date | None = None
    what: str = Field(description="The behaviour or fact it shows, e.g. 'specs_bid_out'.")
    speaker: str = ""
    start: float | None = None
    quote: str = ""


class PatternFinding(BaseModel):
    """A cross-call pattern found in the account."""

    pattern: str
    indicators: list[str] = Field(description="The distinct behaviours and facts that add up to it.")
    calls: int = Field(description="How many of the account's calls show one of them.")
    evidence: list[PatternEvidence] = Field(default_factory=list)


class AccountReport(BaseModel):
    """The verdict for one account over its calls, in date order."""

    account: str
    verdict: Verdict
    decided_by: str = ""
    rule_trace: list[RuleHit] = Field(default_factory=list)
    policy_id: str = ""
    policy_version: str = ""
    calls: list[CallSummary] = Field(default_factory=list)
    patterns: list[PatternFinding] = Field(default_factory=list)
    message: MessageDraft | None = None
    undated: bool = Field(default=False, description="Some call had no date: calls kept in input order.")
    backend: str = ""
    strategy: str = ""
