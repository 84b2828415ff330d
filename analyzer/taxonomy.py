"""The labels every part of walkaway, and every eval, uses (DESIGN.md, Taxonomy)."""

from __future__ import annotations

from typing import Literal, get_args

Category = Literal["fit", "budget", "authority", "ethics", "engagement", "relationship", "tire_kicker"]
Severity = Literal["low", "medium", "high"]
Signal = Literal[
    "need_confirmed",
    "budget_confirmed",
    "decision_maker_engaged",
    "timeline_defined",
    "next_step_agreed",
    "prospect_declined",
]
Verdict = Literal["pursue", "qualify_further", "walk_away", "nurture"]

CATEGORIES: tuple[Category, ...] = get_args(Category)
SEVERITIES: tuple[Severity, ...] = get_args(Severity)
SIGNALS: tuple[Signal, ...] = get_args(Signal)
VERDICTS: tuple[Verdict, ...] = get_args(Verdict)

SEVERITY_RANK: dict[Severity, int] = {"low": 1, "medium": 2, "high": 3}
