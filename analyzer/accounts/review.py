"""Pipeline review for a manager: one row per account, "fire these" first, and per rep how long they kept
working prospects after disqualifying evidence had surfaced.

An account is disqualified at call k when the account policy, applied to its first k calls only, already
says walk_away; the calls after k were held after the evidence surfaced. An account whose verdict is
walk_away and that has calls after k is still being worked: those rows come first.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict

from pydantic import BaseModel, Field

from analyzer.accounts.model import AccountReport
from analyzer.accounts.patterns import detect_patterns
from analyzer.accounts.policy import AccountPolicy, decide_account
from analyzer.taxonomy import Verdict


class AccountRow(BaseModel):
    """One account in the review."""

    account: str
    rep: str
    verdict: Verdict
    calls: int
    minutes: float | None = Field(default=None, description="Total call minutes where the exports have timings.")
    days_since_first_call: int | None = None
    disqualified_at: int | None = Field(default=None, description="The call (1-based) at which it was walk_away.")
    calls_after_disqualified: int = 0
    evidence: str = Field(default="", description="The disqualifying evidence, quoted.")
    evidence_call: str = Field(default="", description="The call that evidence first appeared in.")
    fire: bool = Field(default=False, description="Walk away, and still being worked after the evidence.")


class RepRow(BaseModel):
    """One rep in the review."""

    rep: str
    accounts: int
    disqualified: int
    calls_after_disqualified: int = Field(description="Calls held after disqualifying evidence surfaced, summed.")
    median_calls_to_disqualify: float | None = None


class PipelineReview(BaseModel):
    """The manager's view of a set of accounts."""

    as_of: dt.date
    accounts: list[AccountRow]
    reps: list[RepRow]


def disqualified_at(policy: AccountPolicy, report: AccountReport) -> int | None:
    """The smallest k such that the policy over the first k calls says walk_away, else None."""
    for k in range(1, len(report.calls) + 1):
        prefix = report.calls[:k]
        verdict, *_ = decide_account(policy, prefix, detect_patterns(policy, prefix))
        if verdict == "walk_away":
            return k
    return None


def _evidence(report: AccountReport, k: int) -> tuple[str, str]:
    call = report.calls[k - 1]
    for p in report.patterns:
        quoted = [e for e in p.evidence if e.quote and e.call in {c.label for c in report.calls[:k]}]
        if quoted:
            return f"{p.pattern}: {quoted[0].quote}", quoted[0].call
    return (f"{', '.join(call.flags) or call.verdict}: {call.first_flag_quote}", call.label)


def review(
    reports: list[AccountReport], policy: AccountPolicy, *, reps: dict[str, str], as_of: dt.date | None = None
) -> PipelineReview:
    """Rows for every account (``reps`` maps an account to its rep), sorted so the deals to fire come first."""
    today = as_of or dt.date.today()
    rows: list[AccountRow] = []
    for r in reports:
        k = disqualified_at(policy, r) if r.verdict == "walk_away" else None
        minutes = [c.minutes for c in r.calls if c.minutes is not None]
        dates = [c.date for c in r.calls if c.date is not None]
        row = AccountRow(
            account=r.account,
            rep=reps.get(r.account, "unknown"),
            verdict=r.verdict,
            calls=len(r.calls),
            minutes=round(sum(minutes), 1) if minutes else None,
            days_since_first_call=(today - min(dates)).days if dates else None,
            disqualified_at=k,
            calls_after_disqualified=len(r.calls) - k if k is not None else 0,
        )
        if k is not None:
            row.evidence, row.evidence_call = _evidence(r, k)
            row.fire = row.calls_after_disqualified > 0
        rows.append(row)
    order = {"walk_away": 0, "qualify_further": 1, "nurture": 2, "pursue": 3}
    rows.sort(key=lambda x: (not x.fire, order[x.verdict], -x.calls_after_disqualified, x.account))
    by_rep: dict[str, list[AccountRow]] = defaultdict(list)
    for row in rows:
        by_rep[row.rep].append(row)
    rep_rows = [
        RepRow(
            rep=rep,
            accounts=len(items),
            disqualified=sum(1 for x in items if x.disqualified_at is not None),
            calls_after_disqualified=sum(x.calls_after_disqualified for x in items),
            median_calls_to_disqualify=statistics.median(ks)
            if (ks := [x.disqualified_at for x in items if x.disqualified_at is not None])
            else None,
        )
        for rep, items in by_rep.items()
    ]
    rep_rows.sort(key=lambda x: (-x.calls_after_disqualified, x.rep))
    return PipelineReview(as_of=today, accounts=rows, reps=rep_rows)


def render_review(rv: PipelineReview, fmt: str) -> str:
    """``text``/``md`` tables or ``json``."""
    if fmt == "json":
        return rv.model_dump_json(indent=2) + "\n"
    head = ["account", "rep", "verdict", "calls", "minutes", "days", "disqualified at", "held after", "evidence"]
    lines = [
        f"Pipeline review as of {rv.as_of}: {sum(a.fire for a in rv.accounts)} account(s) to fire first",
        "",
        "| " + " | ".join(head) + " |",
        "|" + "---|" * len(head),
    ]
    for a in rv.accounts:
        cells = [
            ("FIRE " if a.fire else "") + a.account,
            a.rep,
            a.verdict,
            str(a.calls),
            "" if a.minutes is None else f"{a.minutes:g}",
            "" if a.days_since_first_call is None else str(a.days_since_first_call),
            "" if a.disqualified_at is None else f"call {a.disqualified_at} ({a.evidence_call})",
            str(a.calls_after_disqualified),
            a.evidence.replace("|", "/"),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    lines += [
        "",
        "| rep | accounts | disqualified | calls held after | median calls to disqualify |",
        "|---|---|---|---|---|",
    ]
    for p in rv.reps:
        median = "" if p.median_calls_to_disqualify is None else f"{p.median_calls_to_disqualify:g}"
        lines.append(f"| {p.rep} | {p.accounts} | {p.disqualified} | {p.calls_after_disqualified} | {median} |")
    return "\n".join(lines) + "\n"
