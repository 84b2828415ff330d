"""An account over its calls: each call analyzed (from the response cache when it was analyzed before), the
per-call behaviours the patterns need, the patterns, the account verdict and a draft that matches it."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from analyzer.accounts.model import AccountReport, CallSummary, PatternFinding
from analyzer.accounts.patterns import detect_patterns
from analyzer.accounts.policy import AccountPolicy, decide_account, load_account_policy
from analyzer.config import Settings
from analyzer.report.model import MessageDraft, Report
from analyzer.taxonomy import SEVERITIES, Verdict
from analyzer.transcript.model import Transcript

progress = logging.getLogger("walkaway.progress")


@dataclass(frozen=True)
class AccountCall:
    """One call of an account, as given: a transcript file with its hints."""

    path: Path
    account: str
    date: dt.date | None = None
    seller: tuple[str, ...] = ()
    seller_domain: str | None = None
    label: str = field(default="")
    report: Path | None = None
    """A report already made for this call (a batch ``--out`` folder's JSON): used instead of analyzing."""


def parse_date(value: str | None) -> dt.date | None:
    """An ISO date (or the date part of an ISO timestamp), else None."""
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value.strip()[:10])
    except ValueError:
        return None


def export_date(transcript: Transcript) -> dt.date | None:
    """The call's date from the export's own metadata (Gong, Fireflies and other JSON exports carry one)."""
    for key in ("date", "started", "start_time", "created_at", "dateString"):
        found = parse_date(transcript.metadata.get(key))
        if found is not None:
            return found
    return None


def summarize(report: Report, transcript: Transcript | None, label: str, date: dt.date | None) -> CallSummary:
    """What the account rules need from one call's report (word counts and length from its transcript)."""
    turns = transcript.turns if transcript is not None else []
    prospect = sum(len(s.text.split()) for t in turns if t.role != "seller" for s in t.sentences)
    seller = sum(len(s.text.split()) for t in turns if t.role == "seller" for s in t.sentences)
    times = [t.end if t.end is not None else t.start for t in turns]
    known = [x for x in times if x is not None]
    worst = max(report.flags, key=lambda f: SEVERITIES.index(f.severity), default=None)
    return CallSummary(
        label=label,
        path=str(transcript.source if transcript is not None and transcript.source else label),
        date=date,
        verdict=report.verdict,
        decided_by=report.decided_by,
        flags={f.category: f.severity for f in report.flags},
        signals=sorted(s.signal for s in report.signals),
        open_areas=sorted({q.element for q in report.open_questions}),
        minutes=round(max(known) / 60, 1) if known else None,
        prospect_words=prospect,
        seller_words=seller,
        first_flag_quote=worst.evidence[0].quote if worst is not None and worst.evidence else "",
        asked=sorted(report.coaching.asked) if report.coaching is not None else [],
        followed_up=[f.followed_up for f in report.coaching.follow_ups] if report.coaching is not None else [],
        behaviours=list(report.behaviours or []),
        complete=report.complete,
    )


def account_message(verdict: Verdict, patterns: list[PatternFinding], account: str) -> MessageDraft:
    """A draft that matches the account verdict (for a cycling account: the quiet exit and the polite decline)."""
    names = {p.pattern for p in patterns}
    if verdict == "walk_away":
        body = (
            "Stop proactive follow-ups on this account: no new proposals, samples or free design work.\n\n"
            "If they come back, reply:\n"
            "Thank you for thinking of us again. After looking at how our work together has gone, we don't "
            "think we are the right partner for this project, and we'd rather tell you now than take more of "
            "your time. If your needs change in a way that calls for what we do best, we'd be glad to hear "
            "from you."
        )
        if "tire_kicker_cycle" in names:
            body = "The cycle repeats itself; the quiet exit costs least.\n" + body
        return MessageDraft(kind="decline", subject=f"{account}: step back", body=body)
    if verdict == "qualify_further":
        body = (
            "Name the stall before doing more work: \"We've agreed next steps a few times and they haven't "
            "happened, which usually means this isn't a priority right now. Is that fair? If it is a "
            'priority, can we book the one step that matters, with the person who decides, this week?"'
            if "stalling" in names
            else "Before more work: confirm the decision maker, the budget path and a dated next step."
        )
        return MessageDraft(kind="discovery", subject=f"{account}: test it once", body=body)
    if verdict == "nurture":
        return MessageDraft(
            kind="follow_up",
            subject=f"{account}: keep in touch",
            body="Thank them, agree when to check back, and send something useful in between.",
            follow_up_days=90,
        )
    return MessageDraft(
        kind="next_step", subject=f"{account}: next step", body="Confirm the dated next step and who signs."
    )


async def analyze_account(
    calls: Sequence[AccountCall],
    *,
    settings: Settings,
    backend: str,
    policy: AccountPolicy | None = None,
    use_cache: bool | None = None,
) -> AccountReport:
    """Analyze an account's calls in date order (undated calls keep their input order, after dated ones)."""
    from analyzer.pipeline import analyze_async
    from analyzer.report import load_report
    from analyzer.transcript import parse_file

    policy = policy or load_account_policy()
    account = calls[0].account if calls else ""
    parsed: list[tuple[AccountCall, Transcript, dt.date | None]] = []
    stored: dict[int, Report] = {}
    for i, call in enumerate(calls):
        if call.report is not None:
            stored[i] = load_report(call.report)
        kept = stored[i].transcript if i in stored else None
        transcript = kept or parse_file(
            call.path, seller=call.seller, seller_domain=call.seller_domain, max_bytes=settings.max_file_bytes
        )
        parsed.append((call, transcript, call.date or export_date(transcript)))
    undated = any(d is None for *_, d in parsed)
    order = sorted(range(len(parsed)), key=lambda i: (parsed[i][2] is None, parsed[i][2] or dt.date.min, i))
    analyzed: list[tuple[str, dt.date | None, Report]] = []
    for n, i in enumerate(order, 1):
        call, transcript, date = parsed[i]
        progress.info("account %s: call %d of %d (%s)", account, n, len(order), call.label or call.path.name)
        report = stored.get(i) or await analyze_async(
            transcript=transcript, settings=settings, backend=backend, use_cache=use_cache, behaviours=True
        )
        report.transcript = transcript
        analyzed.append((call.label or call.path.name, date, report))
    return account_from_reports(account, analyzed, policy, undated=undated)


def account_from_reports(
    account: str,
    calls: Sequence[tuple[str, dt.date | None, Report]],
    policy: AccountPolicy,
    *,
    undated: bool = False,
) -> AccountReport:
    """The account decided from call reports already made (in date order), with no model call: what the
    service does with its stored analyses. Each report should carry its transcript (word counts, timings)
    and its behaviours (``analyze_async(behaviours=True)``); a report without behaviours gets the cue
    list's, from its transcript."""
    from analyzer.extraction.behaviours import keyword_behaviours

    summaries: list[CallSummary] = []
    for label, date, report in calls:
        summary = summarize(report, report.transcript, label, date)
        if report.behaviours is None and report.transcript is not None:
            summary.behaviours = keyword_behaviours(report.transcript)
        summaries.append(summary)
    patterns = detect_patterns(policy, summaries)
    verdict, decided_by, trace = decide_account(policy, summaries, patterns)
    first = calls[0][2] if calls else None
    return AccountReport(
        account=account,
        verdict=verdict,
        decided_by=decided_by,
        rule_trace=trace,
        policy_id=policy.id,
        policy_version=f"{policy.version}+{policy.digest}",
        calls=summaries,
        patterns=patterns,
        message=account_message(verdict, patterns, account),
        undated=undated,
        backend=first.backend if first is not None else "",
        strategy=first.strategy if first is not None else "",
    )
