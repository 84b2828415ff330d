"""`walkaway pipeline INPUTS...`: a manager's review of accounts, the deals to fire first."""

from __future__ import annotations

import click

from analyzer._cli.account import AccountArgs, account_inputs, account_reports, emit


@click.command("pipeline")
@account_inputs
@click.option("--as-of", "as_of", metavar="YYYY-MM-DD", help="The review date for 'days since first call' (today).")
def command(args: AccountArgs, as_of: str | None) -> None:
    """One row per account (verdict, calls, minutes, days since the first call, the disqualifying evidence
    and the call it first appeared in), the accounts to fire first, then per rep the calls held after
    disqualifying evidence surfaced and the median calls to disqualify. A rep is the first seller name on
    the account's first call (a manifest's seller column, --seller, or a batch --out folder's stored report)."""
    from analyzer._errors import ConfigError
    from analyzer.accounts.analyze import parse_date
    from analyzer.accounts.review import render_review, review

    day = parse_date(as_of)
    if as_of and day is None:
        raise ConfigError(f"--as-of {as_of!r} is not a date like 2026-03-02")
    groups, policy, reports = account_reports(args)
    reps = {acc: (calls[0].seller[0] if calls and calls[0].seller else "unknown") for acc, calls in groups.items()}
    emit(render_review(review(reports, policy, reps=reps, as_of=day), args.out_format), args.out)
