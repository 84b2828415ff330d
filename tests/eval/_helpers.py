"""Builders shared by the eval tests: reports and case runs without the pipeline."""

from __future__ import annotations

from analyzer.eval.records import CaseRun, CitedFlag
from analyzer.extraction.findings import Evidence, Flag, GroundingStats, SignalFinding, Usage
from analyzer.report.model import Report


def ev(quote: str, sid: str = "t1.1") -> Evidence:
    return Evidence(sentence_id=sid, turn_id=sid.split(".")[0], speaker="Pat", role="prospect", quote=quote)


def report(
    verdict: str,
    flags: dict[str, list[str]] | None = None,
    *,
    signals: dict[str, list[str]] | None = None,
    complete: bool = True,
    cited: int = 0,
    dropped: int = 0,
    prompt_tokens: int = 0,
    cost: float = 0.0,
) -> Report:
    return Report(
        source="x",
        verdict=verdict,  # type: ignore[arg-type]
        complete=complete,
        chunk_failures=[] if complete else ["chunk 1: timed out"],
        flags=[
            Flag(category=c, severity="medium", evidence=[ev(q, f"t{i + 1}.1") for i, q in enumerate(qs)])  # type: ignore[arg-type]
            for c, qs in (flags or {}).items()
        ],
        signals=[SignalFinding(signal=s, evidence=[ev(q) for q in qs]) for s, qs in (signals or {}).items()],  # type: ignore[arg-type]
        grounding=GroundingStats(cited=cited, kept=cited - dropped, dropped_unknown_id=dropped),
        usage=Usage(calls=1, prompt_tokens=prompt_tokens, completion_tokens=10, cost_usd=cost),
        backend="fake",
        model="scripted",
        prompt_version="p-test",
    )


def run(verdict: str | None, flags: list[str], **kw: object) -> CaseRun:
    return CaseRun(
        repeat=0,
        verdict=verdict,  # type: ignore[arg-type]
        flags=[CitedFlag(category=c, severity="medium") for c in flags],  # type: ignore[arg-type]
        **kw,  # type: ignore[arg-type]
    )
