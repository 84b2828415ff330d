"""Rules: a deterministic, versioned YAML policy that turns findings into the verdict report.

The LLM never decides the verdict: ``decide`` applies the policy (the default ships as
``analyzer/rules/default_policy.yaml``; ``--policy FILE`` overrides it) and fills the report with the
rule trace, open questions, what would change the verdict and a message draft from templates.
"""

from __future__ import annotations

from analyzer.rules._decide import decide
from analyzer.rules._icp import ICP, CompanySize, load_icp
from analyzer.rules._policy import (
    DEFAULT_POLICY_PATH,
    FAVOURABILITY,
    Condition,
    FlagMatch,
    Policy,
    Rule,
    load_policy,
)

__all__ = [
    "DEFAULT_POLICY_PATH",
    "FAVOURABILITY",
    "ICP",
    "CompanySize",
    "Condition",
    "FlagMatch",
    "Policy",
    "Rule",
    "decide",
    "load_icp",
    "load_policy",
]
