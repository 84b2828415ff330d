"""Account suites (DESIGN.md "Eval cases": ``accounts:``): load, run, score.

Scores: account verdict accuracy and confusion, per-pattern precision / recall / F1 and their macro mean,
and the share of labelled evidence substrings found in the cited pattern evidence. Each account's calls
are analyzed as `walkaway analyze` would, so a suite run after a call suite reuses the cached answers.
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from analyzer._errors import AnalyzerError, ConfigError
from analyzer.accounts.analyze import AccountCall, analyze_account
from analyzer.accounts.policy import AccountPolicy, load_account_policy
from analyzer.config import Settings
from analyzer.rules._policy import read_yaml
from analyzer.taxonomy import VERDICTS, Verdict

PATTERNS = ("tire_kicker_cycle", "stalling")
AREAS = ("need", "fit", "budget", "authority", "timeline")


class CallCase(BaseModel):
    """One labelled call of an account."""

    model_config = ConfigDict(extra="forbid")
    transcript: str
    date: dt.date | None = None
    seller: list[str] = Field(default_factory=list)
    asked: list[str] | None = Field(default=None, description="Discovery areas the seller asked about.")
    red_flag_followed_up: bool | None = None


class AccountExpected(BaseModel):
    """The account's labels."""

    model_config = ConfigDict(extra="forbid")
    verdict: Verdict
    patterns: list[str] = Field(default_factory=list)
    evidence: list[str] = Field(default_factory=list)


class AccountCase(BaseModel):
    """One labelled account."""

    model_config = ConfigDict(extra="forbid")
    id: str
    writer: str = ""
    rep: str = ""
    calls: list[CallCase]
    expected: AccountExpected


class AccountSuite(BaseModel):
    """An account suite file."""

    model_config = ConfigDict(extra="forbid")
    name: str
    thresholds: dict[str, float] = Field(default_factory=dict)
    accounts: list[AccountCase]
    path: Path = Field(default=Path("."), exclude=True)


def is_account_suite(path: Path) -> bool:
    """True for a YAML file whose top level has ``accounts:``."""
    data = read_yaml(path, "suite")
    return isinstance(data, dict) and "accounts" in data


def load_account_suite(path: Path) -> AccountSuite:
    """Validate the suite and check every transcript exists; mistakes are one sentence."""
    data = read_yaml(path, "account suite")
    try:
        suite = AccountSuite.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "suite"
        raise ConfigError(f"{path}: {where}: {err['msg']}") from None
    for acc in suite.accounts:
        bad = [p for p in acc.expected.patterns if p not in PATTERNS]
        if bad:
            raise ConfigError(
                f"{path}: account {acc.id}: unknown pattern(s) {', '.join(bad)}; known: {', '.join(PATTERNS)}"
            )
        for call in acc.calls:
            if not (path.parent / call.transcript).is_file():
                raise ConfigError(f"{path}: account {acc.id}: transcript {call.transcript} not found")
            wrong = [a for a in call.asked or [] if a not in AREAS]
            if wrong:
                raise ConfigError(
                    f"{path}: account {acc.id}: unknown area(s) {', '.join(wrong)}; known: {', '.join(AREAS)}"
                )
    return suite.model_copy(update={"path": path})


class AccountResult(BaseModel):
    """One account's labels and what the analyzer said."""

    id: str
    writer: str = ""
    expected: AccountExpected
    verdict: Verdict | None = None
    patterns: list[str] = Field(default_factory=list)
    indicators: dict[str, list[str]] = Field(default_factory=dict)
    call_verdicts: list[str] = Field(default_factory=list)
    asked: list[list[str]] = Field(default_factory=list, description="Per call: areas the analyzer found asked.")
    asked_expected: list[list[str] | None] = Field(default_factory=list, description="Per call: the labels.")
    followed_up: list[bool | None] = Field(
        default_factory=list, description="Per call: all red flags followed up (None: no flag found)."
    )
    followed_up_expected: list[bool | None] = Field(default_factory=list)
    evidence_hits: list[str] = Field(default_factory=list)
    evidence_missed: list[str] = Field(default_factory=list)
    error: str | None = None
    seconds: float = 0.0


class AccountMetrics(BaseModel):
    """The suite's figures."""

    accounts: int
    verdict_accuracy: float
    pattern_f1: dict[str, float]
    pattern_precision: dict[str, float]
    pattern_recall: dict[str, float]
    pattern_macro_f1: float
    evidence_hit_rate: float | None
    confusion: dict[str, dict[str, int]]
    errors: int
    area_f1: dict[str, float] = Field(default_factory=dict, description="Discovery areas asked, per area, over calls.")
    area_macro_f1: float | None = None
    area_calls: int = Field(default=0, description="Calls labelled with the areas asked.")
    follow_up_accuracy: float | None = Field(
        default=None, description="Calls with a labelled red flag where the analyzer found one and agreed."
    )
    follow_up_calls: int = 0


class AccountRun(BaseModel):
    """``results.json`` of an account suite run."""

    suite: str
    backend: str
    timestamp: str
    metrics: AccountMetrics
    results: list[AccountResult]


def score(results: list[AccountResult]) -> AccountMetrics:
    """Verdict accuracy, per-pattern P/R/F1 and evidence hits over the results."""
    n = len(results)
    right = sum(1 for r in results if r.verdict == r.expected.verdict)
    f1: dict[str, float] = {}
    prec: dict[str, float] = {}
    rec: dict[str, float] = {}
    for p in PATTERNS:
        tp = sum(1 for r in results if p in r.patterns and p in r.expected.patterns)
        fp = sum(1 for r in results if p in r.patterns and p not in r.expected.patterns)
        fn = sum(1 for r in results if p not in r.patterns and p in r.expected.patterns)
        prec[p] = tp / (tp + fp) if tp + fp else 0.0
        rec[p] = tp / (tp + fn) if tp + fn else 0.0
        f1[p] = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 1.0
    confusion: dict[str, dict[str, int]] = {v: dict.fromkeys((*VERDICTS, "error"), 0) for v in VERDICTS}
    for r in results:
        confusion[r.expected.verdict][r.verdict or "error"] += 1
    area_f1: dict[str, float] = {}
    pairs = [
        (set(got), set(want))
        for r in results
        for got, want in zip(r.asked, r.asked_expected, strict=False)
        if want is not None
    ]
    for area in AREAS:
        tp = sum(1 for g, w in pairs if area in g and area in w)
        fp = sum(1 for g, w in pairs if area in g and area not in w)
        fn = sum(1 for g, w in pairs if area not in g and area in w)
        area_f1[area] = round(2 * tp / (2 * tp + fp + fn), 4) if tp + fp + fn else 1.0
    follow = [
        (g, w)
        for r in results
        for g, w in zip(r.followed_up, r.followed_up_expected, strict=False)
        if w is not None and g is not None
    ]
    hits = sum(len(r.evidence_hits) for r in results)
    total = hits + sum(len(r.evidence_missed) for r in results)
    return AccountMetrics(
        accounts=n,
        verdict_accuracy=round(right / n, 4) if n else 0.0,
        pattern_f1={k: round(v, 4) for k, v in f1.items()},
        pattern_precision={k: round(v, 4) for k, v in prec.items()},
        pattern_recall={k: round(v, 4) for k, v in rec.items()},
        pattern_macro_f1=round(sum(f1.values()) / len(f1), 4),
        evidence_hit_rate=round(hits / total, 4) if total else None,
        confusion=confusion,
        errors=sum(1 for r in results if r.error),
        area_f1=area_f1,
        area_macro_f1=round(sum(area_f1.values()) / len(area_f1), 4) if pairs else None,
        area_calls=len(pairs),
        follow_up_accuracy=round(sum(1 for g, w in follow if g == w) / len(follow), 4) if follow else None,
        follow_up_calls=len(follow),
    )


async def run_account_suite(
    suite: AccountSuite,
    *,
    settings: Settings,
    backend: str,
    policy: AccountPolicy | None = None,
    use_cache: bool | None = None,
    only: list[str] | None = None,
) -> AccountRun:
    """Analyze every account of the suite; an account that raises is recorded with its sentence."""
    policy = policy or load_account_policy()
    started = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    results: list[AccountResult] = []
    for acc in suite.accounts:
        if only and acc.id not in only:
            continue
        t0 = time.perf_counter()
        calls = [
            AccountCall(
                path=suite.path.parent / c.transcript,
                account=acc.id,
                date=c.date,
                seller=tuple(c.seller),
                label=Path(c.transcript).name,
            )
            for c in acc.calls
        ]
        result = AccountResult(id=acc.id, writer=acc.writer, expected=acc.expected)
        try:
            report = await analyze_account(
                calls, settings=settings, backend=backend, policy=policy, use_cache=use_cache
            )
        except AnalyzerError as exc:
            result.error = str(exc)
        else:
            result.verdict = report.verdict
            result.patterns = [p.pattern for p in report.patterns]
            result.indicators = {p.pattern: p.indicators for p in report.patterns}
            result.call_verdicts = [c.verdict for c in report.calls]
            # report.calls is in date order; the labels are listed in date order too.
            result.asked = [c.asked for c in report.calls]
            result.asked_expected = [c.asked for c in acc.calls]
            result.followed_up = [all(c.followed_up) if c.followed_up else None for c in report.calls]
            result.followed_up_expected = [c.red_flag_followed_up for c in acc.calls]
            quotes = " ".join(e.quote for p in report.patterns for e in p.evidence).lower()
            for s in acc.expected.evidence:
                (result.evidence_hits if s.lower() in quotes else result.evidence_missed).append(s)
        result.seconds = round(time.perf_counter() - t0, 2)
        results.append(result)
    return AccountRun(suite=suite.name, backend=backend, timestamp=started, metrics=score(results), results=results)


def summary_lines(run: AccountRun) -> list[str]:
    """The figures as a few lines for a terminal."""
    m = run.metrics
    lines = [
        f"account suite {run.suite} ({m.accounts} accounts, backend {run.backend}): verdict accuracy "
        f"{m.verdict_accuracy:.3f}, pattern macro F1 {m.pattern_macro_f1:.3f}, errors {m.errors}",
    ]
    for p in PATTERNS:
        lines.append(
            f"  {p}: precision {m.pattern_precision[p]:.3f}, recall {m.pattern_recall[p]:.3f}, F1 {m.pattern_f1[p]:.3f}"
        )
    if m.evidence_hit_rate is not None:
        lines.append(f"  evidence hit rate {m.evidence_hit_rate:.3f}")
    if m.area_macro_f1 is not None:
        per = ", ".join(f"{a} {f:.2f}" for a, f in m.area_f1.items())
        lines.append(f"  discovery areas asked ({m.area_calls} calls): macro F1 {m.area_macro_f1:.3f} ({per})")
    if m.follow_up_accuracy is not None:
        lines.append(f"  red flag followed up: {m.follow_up_accuracy:.3f} agreement over {m.follow_up_calls} calls")
    for r in run.results:
        mark = "ok " if r.verdict == r.expected.verdict else "XX "
        lines.append(
            f"  {mark}{r.id}: {r.verdict} (expected {r.expected.verdict}); patterns {r.patterns or '-'} "
            f"(expected {r.expected.patterns or '-'}); calls {r.call_verdicts}"
            + (f"; error: {r.error}" if r.error else "")
        )
    return lines

