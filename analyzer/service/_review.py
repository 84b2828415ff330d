"""The pipeline review over the analyses the service has stored (uploads that named an account): no
model call at page time, since each account's call was analyzed (with its behaviours) when uploaded."""

from __future__ import annotations

import datetime as dt
import threading
import weakref

from analyzer.accounts.analyze import account_from_reports, export_date
from analyzer.accounts.model import AccountReport
from analyzer.accounts.policy import load_account_policy
from analyzer.accounts.review import PipelineReview, review
from analyzer.report.model import Report
from analyzer.service._store import Store

_Entry = tuple[tuple[str, ...], AccountReport, str]
"""An account's analysis ids (and the policy version) when it was read, its account report, and its rep."""

_cache: weakref.WeakKeyDictionary[Store, dict[str, _Entry]] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def stored_review(store: Store, as_of: dt.date | None = None) -> PipelineReview:
    """Every stored account, its calls in date order (the export's date, else the upload's).

    Each view reads only the analysis ids per account; an account's reports are parsed and its account
    report rebuilt only when its ids changed since the last view (a new upload, a deletion), so a page over
    thousands of stored calls does not re-read them all each time."""
    policy = load_account_policy()
    signatures = {a: (*ids, f"policy {policy.version}") for a, ids in store.account_signatures().items()}
    with _lock:
        known = dict(_cache.get(store, {}))
    stale = [a for a, ids in signatures.items() if a not in known or known[a][0] != ids]
    for account, items in store.account_calls(stale).items() if stale else ():
        calls = []
        for filename, created, raw, _ in items:
            report = Report.model_validate_json(raw)
            date = (export_date(report.transcript) if report.transcript is not None else None) or created.date()
            calls.append((filename, date, report))
        calls.sort(key=lambda c: c[1])
        sellers = items[0][3]
        known[account] = (
            signatures[account],
            account_from_reports(account, calls, policy),
            sellers[0] if sellers else "unknown",
        )
    current = {a: known[a] for a in signatures if a in known}
    with _lock:
        _cache[store] = current
    reports = [entry[1] for entry in current.values()]
    reps = {a: entry[2] for a, entry in current.items()}
    return review(reports, policy, reps=reps, as_of=as_of)
