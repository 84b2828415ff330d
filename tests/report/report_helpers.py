"""Fixed reports for the renderer tests, built through the real policy so goldens track real output."""

from __future__ import annotations

from analyzer.extraction.findings import (
    ChunkFailure,
    Evidence,
    Findings,
    Flag,
    GroundingStats,
    SignalFinding,
    Usage,
)
from analyzer.report.model import Report
from analyzer.rules import decide
from analyzer.transcript.model import Sentence, Speaker, Transcript, Turn

LINES: list[tuple[str, str, float, list[str]]] = [
    ("Dana Reyes", "seller", 0.0, ["Thanks for joining, Sam.", "What prompted the call?"]),
    ("Sam <Lee>", "prospect", 12.5, ["Dispatch by spreadsheet costs us two hours a day.", "It's painful."]),
    ("Dana Reyes", "seller", 31.0, ["Who else is involved in the decision?"]),
    (
        "Sam <Lee>",
        "prospect",
        47.0,
        [
            "Budget is frozen until next fiscal year | maybe later.",
            "If we go ahead, a finder's fee paid to me directly, nobody else needs to know.",
            "<script>alert('x')</script> & more",
        ],
    ),
    ("Sam <Lee>", "prospect", 3725.0, ["Honestly, not now; come back to us next quarter."]),
]


def transcript() -> Transcript:
    """A short call with timings, hostile markup in names and text, and an assumed role."""
    turns = []
    for i, (speaker, role, start, sentences) in enumerate(LINES):
        tid = f"t{i + 1}"
        turns.append(
            Turn(
                id=tid,
                index=i,
                speaker=speaker,
                role=role,  # type: ignore[arg-type]
                start=start,
                text=" ".join(sentences),
                sentences=[Sentence(id=f"{tid}.{j + 1}", text=s) for j, s in enumerate(sentences)],
            )
        )
    return Transcript(
        source="calls/acme <demo>.vtt",
        format="vtt",
        speakers=[
            Speaker(name="Dana Reyes", role="seller", role_source="given", turns=2),
            Speaker(name="Sam <Lee>", role="prospect", role_source="assumed", reason="not a seller", turns=3),
        ],
        turns=turns,
    )


def _ev(sid: str) -> Evidence:
    t = transcript()
    turn, sentence = t.sentence_index()[sid]
    return Evidence(
        sentence_id=sid, turn_id=turn.id, speaker=turn.speaker, role=turn.role, start=turn.start, quote=sentence.text
    )


def _findings(flags: list[Flag], signals: list[SignalFinding], failures: int = 0) -> Findings:
    return Findings(
        flags=flags,
        signals=signals,
        grounding=GroundingStats(cited=6, kept=5, dropped_unknown_id=1),
        usage=Usage(calls=4, cache_hits=1, prompt_tokens=2100, cached_prompt_tokens=1500, completion_tokens=40),
        chunks_total=2,
        chunk_failures=[ChunkFailure(chunk_id=1, error="model output stayed invalid after 2 re-asks")][:failures],
        backend="fake",
        model="scripted-model",
        prompt_version="prompts-v1",
    )


def walk_away_incomplete() -> Report:
    """Ethics + budget, one chunk failed, transcript kept."""
    f = _findings(
        [
            Flag(category="budget", severity="high", evidence=[_ev("t4.1")]),
            Flag(category="ethics", severity="high", rationale="side payment", evidence=[_ev("t4.2")]),
            Flag(category="engagement", severity="low", rationale="short answers"),
        ],
        [SignalFinding(signal="need_confirmed", evidence=[_ev("t2.1")])],
        failures=1,
    )
    return decide(f, transcript())


def nurture() -> Report:
    """The prospect said not now; the plan follows the timing they named."""
    f = _findings(
        [Flag(category="budget", severity="medium", evidence=[_ev("t4.1")])],
        [
            SignalFinding(signal="need_confirmed", evidence=[_ev("t2.1")]),
            SignalFinding(
                signal="prospect_declined", rationale="asked to be called back <later>", evidence=[_ev("t5.1")]
            ),
        ],
    )
    return decide(f, transcript())


def qualify_without_transcript() -> Report:
    """Open questions; the transcript is not saved in the report."""
    f = _findings([Flag(category="authority", severity="medium", evidence=[_ev("t3.1")])], [])
    return decide(f, transcript(), include_transcript=False)


def pursue() -> Report:
    """Qualified, with a low flag that does not block pursue."""
    f = _findings(
        [Flag(category="relationship", severity="low", evidence=[_ev("t2.2")])],
        [
            SignalFinding(signal="need_confirmed", evidence=[_ev("t2.1")]),
            SignalFinding(signal="budget_confirmed", evidence=[_ev("t2.2")]),
            SignalFinding(signal="decision_maker_engaged", evidence=[_ev("t1.1")]),
        ],
    )
    return decide(f, transcript())


SCENARIOS = {
    "walk_away_incomplete": walk_away_incomplete,
    "nurture": nurture,
    "qualify_no_transcript": qualify_without_transcript,
    "pursue": pursue,
}
