"""The verdict policy: a small, explicit rule language loaded from YAML and evaluated deterministically.

A policy is an ordered list of rules. Each rule has an id, a human-readable reason, a ``when`` block of
conditions (all must hold; an empty block always holds) and the verdict it sets. Rules are evaluated in
ascending ``priority`` (priorities are unique, so the YAML order never matters) and the first matching
rule decides. The last rule must have no conditions, so every call gets a verdict.

Conditions read the findings as *sets* (which categories are present at which severity, which signals
were evidenced), so the order in which flags arrive, or a duplicate flag from chunk overlap, can never
change the outcome.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from analyzer._errors import ConfigError
from analyzer.extraction.findings import Flag, SignalFinding
from analyzer.taxonomy import SEVERITY_RANK, Category, Severity, Signal, Verdict

DEFAULT_POLICY_PATH = Path(__file__).with_name("default_policy.yaml")

FAVOURABILITY: tuple[Verdict, ...] = ("pursue", "qualify_further", "nurture", "walk_away")
"""Verdicts from most to least favourable to the deal. Used by the property tests (adding a red flag
never moves a call up this list) and to describe what would change a verdict."""


class FlagMatch(BaseModel):
    """Matches a flag of one category (or of any category when omitted) at or above a severity."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    category: Category | None = Field(default=None, description="The red-flag category; omitted = any.")
    min_severity: Severity = Field(default="low", description="The lowest severity that matches.")

    def label(self) -> str:
        """A short label such as 'ethics:high' or 'any:medium+'."""
        cat = self.category or "any"
        suffix = "" if self.min_severity == "high" else "+"
        return f"{cat}:{self.min_severity}{suffix}"


class Condition(BaseModel):
    """The ``when`` block of a rule: every field given must hold (an empty block always holds)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    any_flag: list[FlagMatch] | None = Field(
        default=None, description="At least one flag matches at least one of these."
    )
    no_flag: list[FlagMatch] | None = Field(default=None, description="No flag matches any of these.")
    min_high_flags: int | None = Field(
        default=None, ge=1, description="At least this many distinct categories are flagged high."
    )
    signals_all: list[Signal] | None = Field(default=None, description="Every one of these signals is evidenced.")
    signals_any: list[Signal] | None = Field(default=None, description="At least one of these is evidenced.")
    signals_none: list[Signal] | None = Field(default=None, description="None of these signals is evidenced.")
    icp_defined: bool | None = Field(
        default=None, description="True: only when an ideal-customer profile is given; False: only without."
    )

    def is_empty(self) -> bool:
        """True when the block has no condition at all (the default rule)."""
        return all(v is None for v in self.model_dump().values())


class Rule(BaseModel):
    """One policy rule: when its conditions hold (and no earlier rule matched) it sets the verdict."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1, description="Stable id shown in the report's rule trace.")
    priority: int = Field(description="Evaluation order, ascending; unique within a policy.")
    reason: str = Field(min_length=1, description="Why this verdict follows, in words a seller reads.")
    when: Condition = Field(default_factory=Condition, description="Conditions; empty = always (default rule).")
    verdict: Verdict = Field(description="The verdict this rule sets.")


class Policy(BaseModel):
    """A versioned verdict policy."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1, description="Policy id recorded in every report.")
    version: str = Field(min_length=1, description="Policy version recorded in every report.")
    description: str = ""
    rules: list[Rule] = Field(min_length=1, description="The rules; evaluated by ascending priority.")

    @model_validator(mode="after")
    def _check_rules(self) -> Policy:
        seen_ids: set[str] = set()
        seen_prio: dict[int, str] = {}
        for rule in self.rules:
            if rule.id in seen_ids:
                raise ValueError(f"rule id '{rule.id}' is used twice; rule ids must be unique")
            seen_ids.add(rule.id)
            if rule.priority in seen_prio:
                raise ValueError(
                    f"rules '{seen_prio[rule.priority]}' and '{rule.id}' share priority {rule.priority}; "
                    "priorities must be unique so the evaluation order is explicit"
                )
            seen_prio[rule.priority] = rule.id
        ordered = self.ordered_rules()
        for rule in ordered[:-1]:
            if rule.when.is_empty():
                raise ValueError(
                    f"rule '{rule.id}' has no conditions but is not the last rule by priority; "
                    "the rules after it could never fire"
                )
        if not ordered[-1].when.is_empty():
            raise ValueError(
                f"the last rule by priority ('{ordered[-1].id}') must have no 'when' conditions, "
                "so that every call gets a verdict"
            )
        return self

    def ordered_rules(self) -> list[Rule]:
        """The rules in evaluation order (ascending priority)."""
        return sorted(self.rules, key=lambda r: r.priority)


@dataclass(frozen=True)
class Facts:
    """What the rules read from findings: order-free sets, so evaluation cannot depend on input order."""

    severities: frozenset[tuple[Category, Severity]]
    signals: frozenset[Signal]
    icp_defined: bool

    @classmethod
    def of(cls, flags: Iterable[Flag], signals: Iterable[SignalFinding], *, icp_defined: bool) -> Facts:
        """Collect the facts from flags and signal findings."""
        return cls(
            severities=frozenset((f.category, f.severity) for f in flags),
            signals=frozenset(s.signal for s in signals),
            icp_defined=icp_defined,
        )

    def high_categories(self) -> list[Category]:
        """Distinct categories flagged high, sorted."""
        return sorted({c for c, s in self.severities if s == "high"})

    def matching(self, match: FlagMatch) -> list[str]:
        """Labels ('budget:high') of the present flags that this match accepts, sorted."""
        floor = SEVERITY_RANK[match.min_severity]
        return sorted(
            f"{c}:{s}"
            for c, s in self.severities
            if (match.category is None or c == match.category) and SEVERITY_RANK[s] >= floor
        )


def evaluate(cond: Condition, facts: Facts) -> list[str] | None:
    """The evidence labels that satisfied ``cond``, or None when it does not hold."""
    matched: list[str] = []
    if cond.any_flag is not None:
        hits = sorted({label for m in cond.any_flag for label in facts.matching(m)})
        if not hits:
            return None
        matched += hits
    if cond.no_flag is not None:
        if any(facts.matching(m) for m in cond.no_flag):
            return None
        matched += [f"no {m.label()} flag" for m in cond.no_flag]
    if cond.min_high_flags is not None:
        highs = facts.high_categories()
        if len(highs) < cond.min_high_flags:
            return None
        matched += [f"{len(highs)} high flags ({', '.join(highs)})"]
    if cond.signals_all is not None:
        if not set(cond.signals_all) <= facts.signals:
            return None
        matched += [f"signal:{s}" for s in cond.signals_all]
    if cond.signals_any is not None:
        present = sorted(set(cond.signals_any) & facts.signals)
        if not present:
            return None
        matched += [f"signal:{s}" for s in present]
    if cond.signals_none is not None:
        if set(cond.signals_none) & facts.signals:
            return None
        matched += [f"no signal:{s}" for s in cond.signals_none]
    if cond.icp_defined is not None:
        if cond.icp_defined != facts.icp_defined:
            return None
        matched += ["icp given" if facts.icp_defined else "no icp"]
    return matched


def first_verdict(policy: Policy, facts: Facts) -> Verdict:
    """The verdict of the first matching rule (the last rule always matches)."""
    for rule in policy.ordered_rules():
        if evaluate(rule.when, facts) is not None:
            return rule.verdict
    raise AssertionError("unreachable: the policy validator guarantees a final unconditional rule")


def _describe_error(err: Any, data: Any) -> str:
    """'rule 'ethics-high', field 'when.any_flag.0.min_severity': ...' from a pydantic error."""
    loc = tuple(err.get("loc", ()))
    msg = str(err.get("msg", "invalid value"))
    if err.get("type") == "extra_forbidden":
        msg = "unknown field (a typo?)"
    if loc[:1] == ("rules",) and len(loc) >= 2 and isinstance(loc[1], int):
        idx = loc[1]
        rule_id: str | None = None
        rules = data.get("rules") if isinstance(data, dict) else None
        if isinstance(rules, list) and idx < len(rules) and isinstance(rules[idx], dict):
            raw_id = rules[idx].get("id")
            rule_id = str(raw_id) if raw_id is not None else None
        who = f"rule '{rule_id}'" if rule_id else f"rule #{idx + 1}"
        field = ".".join(str(p) for p in loc[2:]) or "(the rule itself)"
        return f"{who}, field '{field}': {msg}"
    field = ".".join(str(p) for p in loc)
    if not field:
        return msg.removeprefix("Value error, ")
    return f"field '{field}': {msg}"


def parse_policy(data: Any, *, source: str) -> Policy:
    """Validate already-parsed policy data; errors name the source, the rule id and the field."""
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: a policy must be a YAML mapping with 'id', 'version' and 'rules'")
    try:
        return Policy.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"{source}: invalid policy: {_describe_error(exc.errors()[0], data)}") from None


def read_yaml(path: Path, what: str) -> Any:
    """Parse a YAML file; a missing file or a syntax error becomes one ConfigError sentence."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: {what} file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read {what} file ({exc})") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f", line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise ConfigError(f"{path}{where}: {what} is not valid YAML ({problem})") from None


def load_policy(path: str | Path | None = None) -> Policy:
    """Load and validate a policy file; None loads the default policy shipped with walkaway."""
    p = DEFAULT_POLICY_PATH if path is None else Path(path)
    return parse_policy(read_yaml(p, "policy"), source=str(p))
