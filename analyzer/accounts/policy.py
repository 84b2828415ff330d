"""The account policy (``account_policy.yaml``, overridable with ``--account-policy``): pattern thresholds
and the rules that decide an account verdict, with a trace like the call policy's."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from analyzer._errors import ConfigError
from analyzer.accounts.model import CallSummary, PatternFinding
from analyzer.report.model import RuleHit
from analyzer.rules._policy import FlagMatch, read_yaml
from analyzer.taxonomy import SEVERITIES, Verdict

DEFAULT_PATH = Path(__file__).with_name("account_policy.yaml")


class PatternRule(BaseModel):
    """How many indicators, over how many calls, make a pattern."""

    model_config = ConfigDict(extra="forbid")
    indicators: list[str]
    min_indicators: int = Field(default=2, ge=1)
    min_calls: int = Field(default=2, ge=1)


class AccountCondition(BaseModel):
    """All given conditions must hold."""

    model_config = ConfigDict(extra="forbid")
    patterns: list[str] = Field(default_factory=list)
    any_call_flag: list[FlagMatch] = Field(default_factory=list)
    latest_verdict: list[Verdict] = Field(default_factory=list)
    min_calls: int | None = Field(default=None, ge=1)


class AccountRule(BaseModel):
    """One rule of the account policy."""

    model_config = ConfigDict(extra="forbid")
    id: str
    priority: int
    reason: str
    when: AccountCondition = Field(default_factory=AccountCondition)
    verdict: Verdict | Literal["latest"]


class AccountPolicy(BaseModel):
    """``account_policy.yaml``."""

    model_config = ConfigDict(extra="forbid")
    id: str
    version: str
    patterns: dict[str, PatternRule]
    rules: list[AccountRule]
    digest: str = Field(default="", exclude=True)


def load_account_policy(path: str | Path | None = None) -> AccountPolicy:
    """The shipped account policy, or the one at ``path``; a bad file is one sentence."""
    source = Path(path) if path is not None else DEFAULT_PATH
    data = read_yaml(source, "account policy")
    try:
        policy = AccountPolicy.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "policy"
        raise ConfigError(f"{source}: {where}: {err['msg']}") from None
    if not any(not r.when.model_dump(exclude_defaults=True) for r in policy.rules):
        raise ConfigError(f"{source}: the account policy needs a last rule without conditions")
    unknown = {p for r in policy.rules for p in r.when.patterns} - set(policy.patterns)
    if unknown:
        raise ConfigError(f"{source}: rules name undefined pattern(s) {', '.join(sorted(unknown))}")
    digest = hashlib.sha256(source.read_bytes()).hexdigest()[:8]
    return policy.model_copy(update={"digest": digest})


def _holds(cond: AccountCondition, calls: list[CallSummary], patterns: set[str]) -> list[str] | None:
    why: list[str] = []
    if cond.patterns:
        if not set(cond.patterns) <= patterns:
            return None
        why.append("patterns " + ", ".join(cond.patterns))
    for match in cond.any_call_flag:
        floor = SEVERITIES.index(match.min_severity)
        found = [
            c.label
            for c in calls
            for cat, sev in c.flags.items()
            if (match.category is None or cat == match.category)
            and sev in SEVERITIES
            and SEVERITIES.index(sev) >= floor
        ]
        if not found:
            return None
        why.append(f"{match.category or 'a'} flag in {found[0]}")
    if cond.latest_verdict:
        if not calls or calls[-1].verdict not in cond.latest_verdict:
            return None
        why.append(f"latest call {calls[-1].verdict}")
    if cond.min_calls is not None:
        if len(calls) < cond.min_calls:
            return None
        why.append(f"{len(calls)} calls")
    return why


def decide_account(
    policy: AccountPolicy, calls: list[CallSummary], patterns: list[PatternFinding]
) -> tuple[Verdict, str, list[RuleHit]]:
    """The first rule that holds decides; the trace lists every rule checked up to it."""
    present = {p.pattern for p in patterns}
    trace: list[RuleHit] = []
    for rule in sorted(policy.rules, key=lambda r: r.priority):
        why = _holds(rule.when, calls, present)
        if why is None:
            continue
        verdict: Verdict = (
            (calls[-1].verdict if calls else "qualify_further") if rule.verdict == "latest" else rule.verdict
        )
        trace.append(RuleHit(rule_id=rule.id, verdict=verdict, reason=rule.reason, matched=why, decided=True))
        return verdict, rule.id, trace
    raise ConfigError(f"account policy {policy.id} has no rule that always holds")
