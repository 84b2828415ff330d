"""Builders for findings and transcripts used by the rules tests."""

from __future__ import annotations

from collections.abc import Iterable

from analyzer.extraction.findings import ChunkFailure, Evidence, Findings, Flag, SignalFinding
from analyzer.taxonomy import Category, Severity, Signal
from analyzer.transcript.model import Sentence, Speaker, Transcript, Turn

QUOTES: dict[str, str] = {
    "fit": "We really need on-prem and offline, nothing in the cloud.",
    "budget": "Budget is frozen until next fiscal year.",
    "authority": "My VP signs anything over 10k and she hasn't been part of this.",
    "ethics": "A finder's fee paid to me directly, nobody else needs to know.",
    "engagement": "Just send something over, I'll look at it at some point.",
    "relationship": "Our last three vendors were useless, we paid them late on purpose.",
    "tire_kicker": "Send the full spec and pricing breakdown, we'll put it out to bid.",
    "need_confirmed": "Dispatching by spreadsheet costs us two hours every morning.",
    "budget_confirmed": "We have forty thousand set aside for this in Q3.",
    "decision_maker_engaged": "I own the budget and I sign the contract.",
    "timeline_defined": "We want this live before the peak season in October.",
    "next_step_agreed": "Let's book a demo with my ops lead on Tuesday.",
    "prospect_declined": "Honestly, not now; come back to us next quarter.",
}
ORDER = list(QUOTES)


def ev(key: str, *, speaker: str = "Sam Lee", role: str = "prospect") -> Evidence:
    """Evidence citing the sentence that holds QUOTES[key]."""
    n = ORDER.index(key) + 2
    return Evidence(
        sentence_id=f"t{n}.1",
        turn_id=f"t{n}",
        speaker=speaker,
        role=role,  # type: ignore[arg-type]
        start=float(n * 30),
        quote=QUOTES[key],
    )


def flag(category: Category, severity: Severity) -> Flag:
    """A flag with one prospect-side quote."""
    return Flag(category=category, severity=severity, score=0.9, evidence=[ev(category)])


def signal(name: Signal) -> SignalFinding:
    """A signal with one prospect-side quote."""
    return SignalFinding(signal=name, score=0.9, evidence=[ev(name)])


def findings(
    flags: Iterable[tuple[Category, Severity]] = (),
    signals: Iterable[Signal] = (),
    *,
    failed_chunks: int = 0,
) -> Findings:
    """Findings from (category, severity) pairs and signal names."""
    return Findings(
        flags=[flag(c, s) for c, s in flags],
        signals=[signal(s) for s in signals],
        chunks_total=3,
        chunk_failures=[ChunkFailure(chunk_id=i, error="timed out") for i in range(failed_chunks)],
        backend="fake",
        model="scripted",
        prompt_version="p1",
    )


def transcript() -> Transcript:
    """A call whose turns hold every quote above, seller first."""
    turns = [
        Turn(
            id="t1",
            index=0,
            speaker="Dana Reyes",
            role="seller",
            start=0.0,
            text="Thanks for making time today.",
            sentences=[Sentence(id="t1.1", text="Thanks for making time today.")],
        )
    ]
    for i, key in enumerate(ORDER):
        n = i + 2
        turns.append(
            Turn(
                id=f"t{n}",
                index=i + 1,
                speaker="Sam Lee",
                role="prospect",
                start=float(n * 30),
                text=QUOTES[key],
                sentences=[Sentence(id=f"t{n}.1", text=QUOTES[key])],
            )
        )
    return Transcript(
        source="call.vtt",
        format="vtt",
        speakers=[
            Speaker(name="Dana Reyes", role="seller", role_source="given", turns=1),
            Speaker(name="Sam Lee", role="prospect", role_source="assumed", turns=len(ORDER)),
        ],
        turns=turns,
    )
