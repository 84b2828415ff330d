"""The pipeline review over the analyses the service has stored (uploads that named an account): no
model call at page time, since each account's call was analyzed (with its behaviours) when uploaded."""

from __future__ import annotations

import datetime as dt

from analyzer.accounts.analyze import account_from_reports, export_date
from analyzer.accounts.policy import load_account_policy
from analyzer.accounts.review import PipelineReview, review
from analyzer.report.model import Report
from analyzer.service._store import Store


def stored_review(store: Store, as_of: dt.date | None = None) -> PipelineReview:
    """Every stored account, its calls in date order (the export's date, else the upload's)."""
    policy = load_account_policy()
    reports = []
    reps: dict[str, str] = {}
    for account, items in store.account_calls().items():
        calls = []
        for filename, created, raw, _ in items:
            report = Report.model_validate_json(raw)
            date = (export_date(report.transcript) if report.transcript is not None else None) or created.date()
            calls.append((filename, date, report))
        calls.sort(key=lambda c: c[1])
        reports.append(account_from_reports(account, calls, policy))
        sellers = items[0][3]
        reps[account] = sellers[0] if sellers else "unknown"
    return review(reports, policy, reps=reps, as_of=as_of)
