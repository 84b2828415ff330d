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

FIXED_SEVERITY: dict[Category, Severity] = {"ethics": "high"}
"""Categories whose flag always carries one severity, whatever a model rated it. An ethical red flag is
disqualifying on its own (DESIGN.md: any high ethics is walk_away; the labelling guide, evals/README.md G4
and its ethics rule: "always high, always walk_away"), so a model's ``medium`` there is a rating error,
not a judgement. Applied when findings are merged; a flag the seller-speech rule downgraded keeps its
lowered severity."""
