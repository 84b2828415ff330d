"""`walkaway account INPUTS...`: an account's calls in date order, its cross-call patterns and verdict."""

from __future__ import annotations

import asyncio
import functools
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

import click

from analyzer._cli._options import model_options
from analyzer._errors import ConfigError

if TYPE_CHECKING:
    from analyzer.accounts.analyze import AccountCall
    from analyzer.accounts.model import AccountReport
    from analyzer.accounts.policy import AccountPolicy

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class AccountArgs:
    """The options ``account`` and ``pipeline`` share, as one value (``account_inputs`` builds it)."""

    inputs: tuple[str, ...]
    account_name: str | None
    dates: tuple[str, ...]
    backend: str | None
    model: str | None
    strategy: str | None
    profile: str | None
    seller: tuple[str, ...]
    seller_domain: str | None
    out_format: str
    out: Path | None
    policy_path: Path | None
    no_cache: bool
    allow_outside: bool


def account_inputs(f: F) -> F:
    """The options ``account`` and ``pipeline`` share: inputs, account and dates, model, hints, output. The
    command receives them as one ``args: AccountArgs`` beside its own options."""
    options = [
        click.argument("inputs", nargs=-1, required=True),
        click.option("--account", "account_name", help="The account of every input that names none (manifests may)."),
        click.option(
            "--date",
            "dates",
            multiple=True,
            metavar="YYYY-MM-DD",
            help="The date of each call, one per input file in the order given (manifests have a date column; "
            "JSON exports with a date need none).",
        ),
        model_options(),
        click.option(
            "--seller", "seller", multiple=True, help="A name on the selling side, for every call (repeatable)."
        ),
        click.option("--seller-domain", help="The seller's company or email domain, for every call."),
        click.option(
            "--format", "out_format", type=click.Choice(["text", "json", "md"]), default="text", show_default=True
        ),
        click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write the output to this file."),
        click.option(
            "--account-policy",
            "policy_path",
            type=click.Path(dir_okay=False, path_type=Path),
            help="An account policy YAML (default: analyzer/accounts/account_policy.yaml).",
        ),
        click.option("--no-cache", is_flag=True, help="Bypass the response cache (calls are re-asked)."),
        click.option("--allow-outside", is_flag=True, help="Let a manifest point at files outside its own folder."),
    ]

    @functools.wraps(f)
    def with_args(**kwargs: Any) -> Any:
        fields = {name: kwargs.pop(name) for name in AccountArgs.__dataclass_fields__}
        return f(args=AccountArgs(**fields), **kwargs)

    command = with_args
    for option in reversed(options):
        command = option(command)
    return cast(F, command)


@click.command("account")
@account_inputs
def command(args: AccountArgs) -> None:
    """Group calls by account, in date order, and decide each account from all of its calls.

    Each call is analyzed as `walkaway analyze` would (answers come from the response cache when the call
    was analyzed before), then the per-call behaviours the patterns need are asked, and the account policy
    decides. Exit 0 with the report(s)."""
    from analyzer.accounts.render import render_account

    _, _, reports = account_reports(args)
    if args.out_format == "json":
        text = json.dumps([json.loads(r.model_dump_json()) for r in reports], indent=2) + "\n"
    else:
        text = "\n".join(render_account(r, args.out_format) for r in reports)
    emit(text, args.out)


def account_reports(args: AccountArgs) -> tuple[dict[str, list[AccountCall]], AccountPolicy, list[AccountReport]]:
    """What ``account`` and ``pipeline`` share: the settings, the calls grouped by account, and every
    account analyzed one after another (their calls share the model and the cache)."""
    from analyzer._cli.analyze import redaction_notice, show_progress
    from analyzer.accounts.analyze import analyze_account
    from analyzer.accounts.policy import load_account_policy
    from analyzer.config import load_settings

    settings = load_settings(backend=args.backend, model=args.model, strategy=args.strategy, profile=args.profile)
    name = args.backend or settings.resolved_backend()
    policy = load_account_policy(args.policy_path)
    groups = group_calls(
        args.inputs, args.account_name, args.dates, args.seller, args.seller_domain, args.allow_outside
    )
    show_progress()
    redaction_notice(settings, name)
    use_cache = False if args.no_cache else None

    async def run() -> list[AccountReport]:
        return [
            await analyze_account(calls, settings=settings, backend=name, policy=policy, use_cache=use_cache)
            for calls in groups.values()
        ]

    return groups, policy, asyncio.run(run())


def emit(text: str, out: Path | None) -> None:
    """Print, or write to ``--out``."""
    if out is None:
        click.echo(text, nl=False)
        return
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{out}: cannot write the output ({exc.strerror})") from None


def group_calls(
    inputs: tuple[str, ...],
    account_name: str | None,
    dates: tuple[str, ...],
    seller: tuple[str, ...],
    seller_domain: str | None,
    allow_outside: bool,
) -> dict[str, list[AccountCall]]:
    """Inputs (files, folders, manifests, batch ``--out`` folders) grouped by account, each call with its
    date and hints. A batch output folder contributes its finished items' reports, which are not analyzed
    again (a batch of calls with an account_id asked their account behaviours already)."""
    from analyzer.accounts.analyze import AccountCall, parse_date
    from analyzer.batch.inputs import expand_inputs

    batch_outs = [Path(i) for i in inputs if (Path(i) / "results.jsonl").is_file()]
    rest = tuple(i for i in inputs if Path(i) not in batch_outs)
    if dates and batch_outs:
        raise ConfigError("--date applies to transcript files; a batch output folder has its own dates")
    groups: dict[str, list[AccountCall]] = {}
    for folder in batch_outs:
        for call in _stored_calls(folder, account_name):
            groups.setdefault(call.account, []).append(call)
    if not rest:
        return groups
    items = expand_inputs(rest, seller=seller, seller_domain=seller_domain, allow_outside=allow_outside)
    if dates and len(dates) != len(items):
        raise ConfigError(f"--date was given {len(dates)} time(s) for {len(items)} call(s); give one per call")
    for i, item in enumerate(items):
        account = item.account_id or account_name
        if not account:
            raise ConfigError(
                f"{item.origin or item.path}: no account for this call; pass --account NAME or use a manifest "
                "with an account_id column"
            )
        raw_date = dates[i] if dates else item.date
        date = parse_date(raw_date)
        if raw_date and date is None:
            raise ConfigError(f"--date {raw_date!r} is not a date like 2026-03-02")
        groups.setdefault(account, []).append(
            AccountCall(
                path=item.path,
                account=account,
                date=date,
                seller=item.seller,
                seller_domain=item.seller_domain,
                label=item.path.name,
            )
        )
    return groups


def _stored_calls(folder: Path, account_name: str | None) -> list[AccountCall]:
    """The finished items of a batch output folder as account calls with their stored reports."""
    from analyzer.accounts.analyze import AccountCall, parse_date
    from analyzer.batch.store import ResultRecord

    out: list[AccountCall] = []
    ledger = folder / "results.jsonl"
    for n, line in enumerate(ledger.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = ResultRecord.model_validate_json(line)
        except ValueError:
            raise ConfigError(f"{ledger}, line {n}: not a batch result record") from None
        account = record.account_id or account_name
        if record.status != "ok" or record.report is None or not account:
            continue
        out.append(
            AccountCall(
                path=Path(record.path),
                account=account,
                date=parse_date(record.date),
                seller=_sellers_of(folder / record.report),
                label=Path(record.path).name,
                report=folder / record.report,
            )
        )
    if not out:
        raise ConfigError(f"{folder}: no finished call with an account (batch manifests carry account_id)")
    return out


def _sellers_of(report: Path) -> tuple[str, ...]:
    """The seller-side speakers a stored report names (the pipeline review's rep); () when it cannot be read
    here: reading the report for the account says what is wrong with it."""
    import json

    try:
        speakers = json.loads(report.read_text(encoding="utf-8")).get("speakers") or []
        return tuple(str(s["name"]) for s in speakers if isinstance(s, dict) and s.get("role") == "seller")
    except (OSError, UnicodeDecodeError, ValueError, KeyError, AttributeError):
        return ()
